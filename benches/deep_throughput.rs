//! Deep-network throughput benchmark: training (code and aggregate gradients) and inference
//! samples/s of snn-train on real CIFAR-10 (JPEG copy) images for VGG9 and ResNet11, measured in
//! the same run as the PyTorch peers of `benches/peers/deep_peer.py`, with the ratios against the
//! fastest peer of the same algorithm.
//!
//! `cargo bench --bench deep_throughput -- [--arch vgg9,resnet11] [--timesteps 25]
//!  [--batch-size 16] [--batches 8] [--infer-samples 256] [--threads 2] [--peer-iters 3]
//!  [--model vgg9=PATH] [--model resnet11=PATH] [--no-peer] [--out reports/benchmarks]
//!  [--write-check DIR] [--memory] [--modes code,aggregate,infer] [--dropout P] [--augment]`
//!
//! * Rates are means over the timed work: training over `--batches` batches of the first
//!   training images (one untimed warm-up batch first; no augmentation, no dropout, the same on
//!   the peers' side), inference over `--infer-samples` test images (one untimed warm-up batch).
//!   `--dropout P` / `--augment` train our side as a preset run does (with `--no-peer`: the
//!   peers keep neither), to see what the recipe's dropout and augmentation cost.
//!   snn-train is measured before the peers and again after them; each rate pools the two.
//! * Spike-driven kernels cost what the spikes cost, so the weights matter: `--model ARCH=PATH`
//!   names a trained model (its activity is then a trained network's); without one, fresh
//!   He initialisation (stated in the report).
//! * `--memory`: instead of timing, runs one training batch per gradient mode and prints the
//!   process's peak resident set size (VmHWM), for the memory line of the report; run it once
//!   per (arch, T) in its own process.
//! * `--write-check DIR`: writes one sample's weights, input spikes, output, loss and gradient
//!   norms (both modes) for `deep_peer.py --check-against DIR/ARCH`, then exits (`--arch lenet`
//!   too: checked on MNIST).

mod deep {
    pub mod check;
    pub mod layers;
}

use deep::layers::{layer_rows, LayerRow};
use snn::core::runtime::CompiledNet;
use snn::core::{preset, Model, NetworkSpec};
use snn::data::augment::Augment;
use snn::data::dataset::{resolve_data_dir, Dataset, DatasetKind, Split};
use snn::data::encode::RateEncoder;
use snn::data::load;
use snn::train::batch::{BatchContext, BatchEngine};
use snn::train::eval::evaluate;
use snn::train::params;
use snn::train::GradMode;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

struct Args {
    archs: Vec<String>,
    timesteps: usize,
    batch: usize,
    batches: usize,
    infer: usize,
    threads: usize,
    peer_iters: usize,
    models: Vec<(String, PathBuf)>,
    peer: bool,
    out: PathBuf,
    write_check: Option<PathBuf>,
    memory: bool,
    /// Which of our three measurements to run (for profiling one of them); the others read 0.
    modes: Vec<String>,
    /// Dropout of our training measurement (the presets train with 0.2 / 0.25; default 0, as
    /// the peers run).
    dropout: f64,
    /// Augment our training images as `snn-train` does on CIFAR-10 (default off, as the peers).
    augment: bool,
}

fn parse() -> Args {
    let mut a = Args {
        archs: vec!["vgg9".into(), "resnet11".into()],
        timesteps: 25,
        batch: 16,
        batches: 8,
        infer: 256,
        threads: 2,
        peer_iters: 3,
        models: Vec::new(),
        peer: true,
        out: PathBuf::from("reports/benchmarks"),
        write_check: None,
        memory: false,
        modes: vec!["code".into(), "aggregate".into(), "infer".into()],
        dropout: 0.0,
        augment: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        let num = |s: &str| {
            s.parse::<usize>().unwrap_or_else(|_| {
                eprintln!("deep_throughput: {}: not a number: {s}", argv[i]);
                std::process::exit(2)
            })
        };
        match argv[i].as_str() {
            "--arch" => a.archs = v.split(',').map(str::to_string).collect(),
            "--modes" => a.modes = v.split(',').map(str::to_string).collect(),
            "--timesteps" => a.timesteps = num(&v).max(1),
            "--batch-size" => a.batch = num(&v).max(1),
            "--batches" => a.batches = num(&v).max(1),
            "--infer-samples" => a.infer = num(&v).max(1),
            "--threads" => a.threads = num(&v).max(1),
            "--dropout" => {
                a.dropout = v
                    .parse()
                    .ok()
                    .filter(|p| (0.0..1.0).contains(p))
                    .unwrap_or_else(|| {
                        eprintln!(
                            "deep_throughput: --dropout wants a probability in [0, 1), got '{v}'"
                        );
                        std::process::exit(2)
                    })
            }
            "--peer-iters" => a.peer_iters = num(&v).max(1),
            "--out" => a.out = PathBuf::from(&v),
            "--write-check" => a.write_check = Some(PathBuf::from(&v)),
            "--model" => match v.split_once('=') {
                Some((arch, path)) => a.models.push((arch.into(), PathBuf::from(path))),
                None => {
                    eprintln!("deep_throughput: --model wants ARCH=PATH, got '{v}'");
                    std::process::exit(2)
                }
            },
            flag @ ("--no-peer" | "--memory" | "--augment") => {
                match flag {
                    "--no-peer" => a.peer = false,
                    "--augment" => a.augment = true,
                    _ => a.memory = true,
                }
                i += 1;
                continue;
            }
            _ => {
                i += 1; // cargo's own flags such as --bench
                continue;
            }
        }
        i += 2;
    }
    a
}

/// The network, its weights and where they came from.
struct Subject {
    arch: String,
    spec: NetworkSpec,
    net: CompiledNet,
    weights: Vec<snn::core::model_file::LayerWeights>,
    source: String,
}

fn subject(a: &Args, arch: &str) -> Subject {
    let model = a.models.iter().find(|(m, _)| m == arch).map(|(_, p)| p);
    let (spec, weights, source) = match model {
        Some(path) => {
            let m = Model::load(path).unwrap_or_else(|e| {
                eprintln!("deep_throughput: {e}");
                std::process::exit(1)
            });
            let source = format!(
                "trained model {} ({} epochs, test accuracy {})",
                path.display(),
                m.meta.epochs,
                m.meta
                    .test_accuracy
                    .map_or("unknown".into(), |x| format!("{:.2} %", 100.0 * x))
            );
            (m.spec, m.weights, source)
        }
        None => {
            let spec = preset::by_name(arch).unwrap_or_else(|e| {
                eprintln!("deep_throughput: {e}");
                std::process::exit(2)
            });
            let net = CompiledNet::new(&spec).unwrap();
            let gain = if arch.starts_with("resnet") { 1.0 } else { 2.0 };
            let w = params::init(&net.plan, gain, 1);
            (
                spec,
                w,
                "fresh He initialisation (no trained model given)".into(),
            )
        }
    };
    let net = CompiledNet::new(&spec).unwrap();
    Subject {
        arch: arch.into(),
        spec,
        net,
        weights,
        source,
    }
}

/// Peak resident set size of this process so far, in MiB (VmHWM).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Our three rates (train code, train aggregate, inference samples/s).
fn measure(
    s: &Subject,
    a: &Args,
    train: &Dataset,
    test: &Dataset,
    pool: &rayon::ThreadPool,
) -> [f64; 3] {
    let encoder = RateEncoder::new(7, s.spec.input_scale);
    let train_rate = |mode: GradMode, batches: usize| -> f64 {
        let mut w = s.weights.clone();
        let mut engine = BatchEngine::new(s.net.clone());
        let augment = Augment::cifar10();
        let ctx = BatchContext {
            dropout: a.dropout,
            augment: a.augment.then_some(&augment),
            ..BatchContext::plain(train, &encoder, a.timesteps, mode)
        };
        let batch = |b: usize| -> Vec<usize> { (b * a.batch..(b + 1) * a.batch).collect() };
        pool.install(|| engine.train_batch(&mut w, &batch(0), &ctx)); // warm-up
        let start = Instant::now();
        for b in 1..=batches {
            pool.install(|| engine.train_batch(&mut w, &batch(b), &ctx));
        }
        (batches * a.batch) as f64 / start.elapsed().as_secs_f64()
    };
    if a.memory {
        let before = peak_rss_mib();
        train_rate(GradMode::Code, 1);
        let code = peak_rss_mib();
        train_rate(GradMode::Aggregate, 1);
        println!(
            "  {} T={} batch={}: peak RSS {:.0} MiB after loading, {code:.0} MiB after a code-mode batch, {:.0} MiB after an aggregate batch",
            s.arch,
            a.timesteps,
            a.batch,
            before,
            peak_rss_mib()
        );
        return [f64::NAN; 3];
    }
    let on = |m: &str| a.modes.iter().any(|x| x == m);
    let code = if on("code") {
        train_rate(GradMode::Code, a.batches)
    } else {
        0.0
    };
    let aggregate = if on("aggregate") {
        train_rate(GradMode::Aggregate, a.batches)
    } else {
        0.0
    };
    if !on("infer") {
        return [code, aggregate, 0.0];
    }
    pool.install(|| evaluate(&s.net, &s.weights, test, &encoder, a.timesteps, a.batch));
    let start = Instant::now();
    let ev = pool.install(|| evaluate(&s.net, &s.weights, test, &encoder, a.timesteps, a.infer));
    let infer = ev.samples as f64 / start.elapsed().as_secs_f64();
    [code, aggregate, infer]
}

fn run_peers(a: &Args, data_dir: &std::path::Path) -> serde_json::Value {
    let python = PathBuf::from("benches/peers/.venv/bin/python");
    if !a.peer {
        return serde_json::Value::Null;
    }
    if !python.exists() {
        eprintln!("no peer venv: run benches/peers/setup.sh to compare against PyTorch");
        return serde_json::Value::Null;
    }
    let json = std::env::temp_dir().join(format!("snn-deep-peer-{}.json", std::process::id()));
    let status = Command::new(&python)
        .args(["benches/peers/deep_peer.py", "--json"])
        .arg(&json)
        .args(["--arch", &a.archs.join(",")])
        .args(["--timesteps", &a.timesteps.to_string()])
        .args(["--batch-size", &a.batch.to_string()])
        .args(["--iters", &a.peer_iters.to_string()])
        .args(["--threads", &a.threads.to_string()])
        // The peers at their best: spinning OpenMP threads (fastest on an idle machine).
        .args(["--omp-wait-policy", "active"])
        .arg("--data-dir")
        .arg(data_dir)
        .status();
    match status {
        Ok(s) if s.success() => {
            let v = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            let _ = std::fs::remove_file(&json);
            v
        }
        other => {
            eprintln!("peer script failed: {other:?}");
            serde_json::Value::Null
        }
    }
}

/// The fastest peer's rate under `key` among `impls`, with its name.
fn fastest(peers: &serde_json::Value, impls: &[&str], key: &str) -> Option<(String, f64)> {
    impls
        .iter()
        .filter_map(|&i| peers[i][key].as_f64().map(|r| (i.to_string(), r)))
        .max_by(|x, y| x.1.total_cmp(&y.1))
}

const CODE_PEERS: [&str; 2] = ["torch-authors", "torch-tuned"];
const AGGREGATE_PEERS: [&str; 2] = ["torch-aggregate", "torch-aggregate-tuned"];
const INFER_PEERS: [&str; 5] = [
    "torch-authors",
    "torch-tuned",
    "torch-aggregate",
    "torch-aggregate-tuned",
    "snntorch",
];

fn main() {
    let a = parse();
    let data_dir = resolve_data_dir(None);
    if let Err(e) = snn::data::fetch::fetch(DatasetKind::Cifar10, &data_dir) {
        eprintln!("deep_throughput: CIFAR-10: {e}");
        std::process::exit(1)
    }
    let train = load(DatasetKind::Cifar10, &data_dir, Split::Train).expect("CIFAR-10 train");
    let test = load(DatasetKind::Cifar10, &data_dir, Split::Test).expect("CIFAR-10 test");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .unwrap();
    let subjects: Vec<Subject> = a.archs.iter().map(|arch| subject(&a, arch)).collect();

    if let Some(dir) = &a.write_check {
        for s in &subjects {
            let d = dir.join(&s.arch);
            // A one-channel 28×28 network (LeNet) is checked on MNIST, the rest on CIFAR-10.
            let mnist = (s.spec.input.channels == 1).then(|| {
                snn::data::fetch::fetch(DatasetKind::Mnist, &data_dir).expect("MNIST");
                load(DatasetKind::Mnist, &data_dir, Split::Train).expect("MNIST train")
            });
            let data = mnist.as_ref().unwrap_or(&train);
            deep::check::write(&d, &s.arch, &s.net, &s.weights, data, a.timesteps).unwrap_or_else(
                |e| {
                    eprintln!("deep_throughput: writing {}: {e}", d.display());
                    std::process::exit(1)
                },
            );
            println!("wrote {}", d.display());
        }
        return;
    }

    let mut before = Vec::new();
    for s in &subjects {
        println!(
            "snn-train {}: T={} batch={} threads={} weights: {}",
            s.arch, a.timesteps, a.batch, a.threads, s.source
        );
        let r = measure(s, &a, &train, &test, &pool);
        if !a.memory {
            println!(
                "  before the peers: train code {:.2}, train aggregate {:.2}, inference {:.2} samples/s",
                r[0], r[1], r[2]
            );
        }
        before.push(r);
    }
    if a.memory {
        return;
    }
    let cross_check = (a.peer).then(|| cross_check(&a, &subjects, &train));
    let peers = run_peers(&a, &data_dir);
    let mut after = Vec::new();
    if !peers.is_null() {
        for s in &subjects {
            let r = measure(s, &a, &train, &test, &pool);
            println!(
                "  {} after the peers: train code {:.2}, train aggregate {:.2}, inference {:.2} samples/s",
                s.arch, r[0], r[1], r[2]
            );
            after.push(r);
        }
    }
    report(
        &a,
        &subjects,
        &before,
        &after,
        &peers,
        cross_check.flatten(),
        &train,
        &test,
        &pool,
    );
}

/// Writes one training sample's gradients of every subject (`--write-check`'s files, T = the
/// benchmark's) and has `deep_peer.py --check-against` compare the peers' loss and gradient
/// norms with them. Returns the script's verdict line per arch, or None without a venv.
fn cross_check(a: &Args, subjects: &[Subject], train: &Dataset) -> Option<String> {
    let python = PathBuf::from("benches/peers/.venv/bin/python");
    if !python.exists() {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("snn-deep-check-{}", std::process::id()));
    for s in subjects {
        if let Err(e) = deep::check::write(
            &dir.join(&s.arch),
            &s.arch,
            &s.net,
            &s.weights,
            train,
            a.timesteps,
        ) {
            eprintln!("deep_throughput: cross-check files: {e}");
            return None;
        }
    }
    let out = Command::new(&python)
        .args(["benches/peers/deep_peer.py", "--check-against"])
        .arg(&dir)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    let verdicts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(": all peers agree") || l.contains("mismatch"))
        .collect();
    Some(format!(
        "Cross-check of the peers' loss and gradient norms against snn-train's on one training sample, same weights and input spikes (`deep_peer.py --check-against`, exit status {}): {}.",
        out.status.code().unwrap_or(-1),
        verdicts.join("; ")
    ))
}

#[allow(clippy::too_many_arguments)]
fn report(
    a: &Args,
    subjects: &[Subject],
    before: &[[f64; 3]],
    after: &[[f64; 3]],
    peers: &serde_json::Value,
    cross_check: Option<String>,
    train: &Dataset,
    test: &Dataset,
    pool: &rayon::ThreadPool,
) {
    let flags: Vec<String> = std::env::args()
        .skip(1)
        .filter(|x| x != "--bench")
        .collect();
    let command = match flags.is_empty() {
        true => "cargo bench --bench deep_throughput".to_string(),
        false => format!("cargo bench --bench deep_throughput -- {}", flags.join(" ")),
    };
    let mut md = format!(
        "# Deep networks: throughput, T={}, batch {}, {} threads\n\nCommand: `{command}`. Data: CIFAR-10 (JPEG copy), the first training / test images; no augmentation and no dropout on either side.\n",
        a.timesteps, a.batch, a.threads
    );
    if let Some(c) = &cross_check {
        md.push_str(&format!("\n{c}\n"));
    }
    let mut archs = serde_json::Map::new();
    for (k, s) in subjects.iter().enumerate() {
        let pooled = |i: usize| {
            after
                .get(k)
                .map_or(before[k][i], |b| 2.0 / (1.0 / before[k][i] + 1.0 / b[i]))
        };
        let (code, aggregate, infer) = (pooled(0), pooled(1), pooled(2));
        let p = &peers[&s.arch];
        let best_code = fastest(p, &CODE_PEERS, "train_samples_per_s");
        let best_agg = fastest(p, &AGGREGATE_PEERS, "train_samples_per_s");
        let best_inf = fastest(p, &INFER_PEERS, "infer_samples_per_s");
        let ratio = |ours: f64, peer: &Option<(String, f64)>| peer.as_ref().map(|(_, r)| ours / r);
        let rows: Vec<LayerRow> =
            layer_rows(s, a.timesteps, a.infer.min(64), train, test, pool, infer);
        md.push_str(&format!(
            "\n## {}\n\nWeights: {}.\n\n| system | train code grad | train aggregate grad | inference |\n|---|---|---|---|\n| **snn-train** | **{code:.2}** | **{aggregate:.2}** | **{infer:.2}** |\n",
            s.arch, s.source
        ));
        for name in INFER_PEERS {
            let q = &p[name];
            if let Some(err) = q["error"].as_str() {
                md.push_str(&format!("| {name} | failed: {err} | | |\n"));
                continue;
            }
            let (Some(t), Some(i)) = (
                q["train_samples_per_s"].as_f64(),
                q["infer_samples_per_s"].as_f64(),
            ) else {
                continue;
            };
            let (tc, ta) = match name {
                n if AGGREGATE_PEERS.contains(&n) => ("".to_string(), format!("{t:.2}")),
                _ => (format!("{t:.2}"), "".to_string()),
            };
            md.push_str(&format!("| {name} | {tc} | {ta} | {i:.2} |\n"));
        }
        md.push_str("\nsamples/s. ");
        let fmt = |r: Option<f64>, p: &Option<(String, f64)>| match (r, p) {
            (Some(r), Some((n, _))) => format!("**{r:.2}×** (vs {n})"),
            _ => "no peer".into(),
        };
        md.push_str(&format!(
            "Ratios against the fastest peer of the same algorithm: code {}, aggregate {}, inference {}.\n",
            fmt(ratio(code, &best_code), &best_code),
            fmt(ratio(aggregate, &best_agg), &best_agg),
            fmt(ratio(infer, &best_inf), &best_inf),
        ));
        if let Some(b) = after.get(k) {
            md.push_str(&format!(
                "snn-train's rates pool a measurement before the peers ({:.2} / {:.2} / {:.2}) and one after them ({:.2} / {:.2} / {:.2}).\n",
                before[k][0], before[k][1], before[k][2], b[0], b[1], b[2]
            ));
        }
        md.push_str(&deep::layers::markdown(&rows, a.threads));
        archs.insert(
            s.arch.clone(),
            serde_json::json!({
                "arch": s.arch, "timesteps": a.timesteps, "batch_size": a.batch, "threads": a.threads,
                "weights": s.source,
                "snn_train": {"train_code_samples_per_s": code, "train_aggregate_samples_per_s": aggregate,
                    "infer_samples_per_s": infer, "before_peers": before[k], "after_peers": after.get(k)},
                "fastest_peer": {"code": best_code, "aggregate": best_agg, "infer": best_inf},
                "ratio_code": ratio(code, &best_code),
                "ratio_aggregate": ratio(aggregate, &best_agg),
                "ratio_infer": ratio(infer, &best_inf),
                "layers": rows,
                "peers": p,
            }),
        );
    }
    let doc = serde_json::json!({
        "command": command, "timesteps": a.timesteps, "batch_size": a.batch, "threads": a.threads,
        "archs": archs,
        "cross_check": cross_check,
        "peer_run": peers,
    });
    std::fs::create_dir_all(&a.out).unwrap();
    let w = |name: &str, bytes: &[u8]| {
        snn::core::atomic::write_atomic(&a.out.join(name), bytes).unwrap();
    };
    w(
        "deep_throughput.json",
        serde_json::to_string_pretty(&doc).unwrap().as_bytes(),
    );
    w("deep_throughput.md", md.as_bytes());
    println!("wrote {}/deep_throughput.{{json,md}}", a.out.display());
}
