//! LeNet throughput benchmark: training (code and aggregate gradients) and inference
//! samples/s of snn-train on real MNIST, T=100, batch 64, measured in the same run as the
//! PyTorch peers of `benches/peers/lenet_peer.py` (torch-authors, torch-tuned, torch-aggregate,
//! torch-aggregate-tuned, snntorch), and the ratios between them.
//!
//! The headline ratios are against the fastest peer of the *same algorithm*: our code-gradient
//! training vs the faster of torch-authors / torch-tuned (the authors' gated recurrence), our
//! aggregate-gradient training vs the faster of torch-aggregate / torch-aggregate-tuned (one
//! backward over spike counts), our inference vs the fastest inference of any peer (all run the
//! same forward pass). snnTorch's surrogate-gradient BPTT is a different algorithm: its training
//! rate is listed, and its ratio is against our code gradient, marked as such. The peer script
//! runs with `--check`: its correctness checks (torch-tuned = torch-authors, torch-aggregate =
//! the hand-written aggregate formula, torch-aggregate-tuned = torch-aggregate) and the
//! same-input loss / gradient-norm agreement of the timed runs are reported with the rates.
//!
//! `cargo bench --bench lenet_throughput -- [--timesteps 100] [--batch-size 64] [--batches 16]
//!  [--infer-samples 1024] [--infer-passes 3] [--threads 2] [--peer-iters 3]
//!  [--model reports/mnist-lenet/model.snn] [--no-peer] [--out reports/benchmarks]`
//!
//! Rates are means over the timed work, as for the peers: training over `--batches` batches
//! after one warm-up batch, inference over `--infer-passes` passes of `--infer-samples` test
//! images after a warm-up batch of test images. snn-train is measured before the peers and
//! again after them, and each of its rates pools the two (this VM's speed drifts over minutes;
//! bracketing the peers evens that out).
//!
//! Spike-driven kernels cost what the spikes cost, so the weights matter: by default the trained
//! model in reports/mnist-lenet/ is used (realistic spike rates); without it, fresh
//! initialisation. The peers are dense, so their cost does not depend on the weights.

use snn::core::runtime::CompiledNet;
use snn::core::{preset, Model};
use snn::data::dataset::{resolve_data_dir, DatasetKind, Split};
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
    timesteps: usize,
    batch: usize,
    batches: usize,
    infer: usize,
    infer_passes: usize,
    threads: usize,
    peer_iters: usize,
    model: PathBuf,
    peer: bool,
    out: PathBuf,
}

fn parse() -> Args {
    let mut a = Args {
        timesteps: 100,
        batch: 64,
        batches: 16,
        infer: 1024,
        infer_passes: 3,
        threads: 2,
        peer_iters: 3,
        model: PathBuf::from("reports/mnist-lenet/model.snn"),
        peer: true,
        out: PathBuf::from("reports/benchmarks"),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        let num = |s: &str| {
            s.parse::<usize>()
                .unwrap_or_else(|_| panic!("{}: not a number: {s}", argv[i]))
        };
        match argv[i].as_str() {
            "--timesteps" => a.timesteps = num(&v),
            "--batch-size" => a.batch = num(&v),
            "--batches" => a.batches = num(&v),
            "--infer-samples" => a.infer = num(&v),
            "--infer-passes" => a.infer_passes = num(&v).max(1),
            "--threads" => a.threads = num(&v),
            "--peer-iters" => a.peer_iters = num(&v),
            "--model" => a.model = PathBuf::from(&v),
            "--out" => a.out = PathBuf::from(&v),
            "--no-peer" => {
                a.peer = false;
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

/// The peers of `benches/peers/lenet_peer.py`, in its order.
const PEERS: [&str; 5] = [
    "torch-authors",
    "snntorch",
    "torch-tuned",
    "torch-aggregate",
    "torch-aggregate-tuned",
];
/// Peers of the authors' gated recurrence (snn-train's `GradMode::Code`).
const CODE_PEERS: [&str; 2] = ["torch-authors", "torch-tuned"];
/// Peers of the one backward over spike counts (snn-train's `GradMode::Aggregate`).
const AGGREGATE_PEERS: [&str; 2] = ["torch-aggregate", "torch-aggregate-tuned"];

#[derive(Clone, Copy)]
enum Algorithm {
    Code,
    Aggregate,
    Surrogate,
}

impl Algorithm {
    fn key(self) -> &'static str {
        match self {
            Algorithm::Code => "code",
            Algorithm::Aggregate => "aggregate",
            Algorithm::Surrogate => "surrogate-bptt",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Algorithm::Code => "code (authors' gated recurrence)",
            Algorithm::Aggregate => "aggregate (one backward over spike counts)",
            Algorithm::Surrogate => "surrogate-gradient BPTT (a different algorithm)",
        }
    }
}

fn algorithm_of(peer: &str) -> Algorithm {
    if CODE_PEERS.contains(&peer) {
        Algorithm::Code
    } else if AGGREGATE_PEERS.contains(&peer) {
        Algorithm::Aggregate
    } else {
        Algorithm::Surrogate
    }
}

/// The fastest of `impls` by `key` in the peer JSON (peers that failed are skipped).
fn fastest(peers: &serde_json::Value, impls: &[&str], key: &str) -> Option<(String, f64)> {
    impls
        .iter()
        .filter_map(|&i| peers[i][key].as_f64().map(|r| (i.to_string(), r)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

fn ratio_text(r: Option<f64>, p: &Option<(String, f64)>) -> String {
    match (r, p) {
        (Some(r), Some((n, _))) => format!("{r:.1}x (vs {n})"),
        _ => "no peer".into(),
    }
}

/// The peer script's checks (`--check`) and the same-input agreement of its timed runs.
fn peer_checks_markdown(peers: &serde_json::Value) -> String {
    let mut md = String::new();
    let checks = &peers["checks"];
    if let Some(ok) = checks["ok"].as_bool() {
        md.push_str(&format!(
            "\nPeer checks (`lenet_peer.py --check`, T=30, batch 8, fixed input spikes): **{}**.\n",
            if ok { "passed" } else { "FAILED" }
        ));
        if let Some(lines) = checks["lines"].as_array() {
            for l in lines.iter().filter_map(|l| l.as_str()) {
                md.push_str(&format!("* {l}\n"));
            }
        }
        if let Some(e) = checks["error"].as_str() {
            md.push_str(&format!("* error: {e}\n"));
        }
    }
    if let Some(c) = peers["consistency"].as_object().filter(|c| !c.is_empty()) {
        md.push_str("\nTimed runs, same weights and input spikes for every peer (max relative difference over the iterations):\n\n| peer | loss vs torch-authors | gradient norm vs the reference of its algorithm |\n|---|---|---|\n");
        for name in PEERS {
            let Some(e) = c.get(name) else { continue };
            let loss = e["loss_max_rel_diff"]
                .as_f64()
                .map_or("".into(), |v| format!("{v:.1e}"));
            let grad = match (
                e["grad_norm_vs"].as_str(),
                e["grad_norm_max_rel_diff"].as_f64(),
            ) {
                (Some(r), Some(v)) => format!("{v:.1e} (vs {r})"),
                _ if CODE_PEERS[0] == name || AGGREGATE_PEERS[0] == name => {
                    "(the reference)".into()
                }
                _ => "(a different algorithm)".into(),
            };
            let flag = if e["ok"].as_bool() == Some(false) {
                " **differs**"
            } else {
                ""
            };
            md.push_str(&format!("| {name} | {loss} | {grad}{flag} |\n"));
        }
    }
    md
}

fn main() {
    let a = parse();
    let data_dir = resolve_data_dir(None);
    snn::data::fetch::fetch(DatasetKind::Mnist, &data_dir).expect("MNIST");
    let train = load(DatasetKind::Mnist, &data_dir, Split::Train).expect("MNIST train");
    let test = load(DatasetKind::Mnist, &data_dir, Split::Test).expect("MNIST test");
    let (spec, weights, source) = match Model::load(&a.model) {
        Ok(m) => (
            m.spec,
            m.weights,
            format!("trained model {}", a.model.display()),
        ),
        Err(_) => {
            let spec = preset::lenet();
            let net = CompiledNet::new(&spec).unwrap();
            let w = params::init(&net.plan, 2.0, 1);
            (
                spec,
                w,
                "fresh initialisation (no trained model found)".to_string(),
            )
        }
    };
    let net = CompiledNet::new(&spec).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .unwrap();
    let encoder = RateEncoder::new(7, spec.input_scale);
    println!(
        "snn-train LeNet benchmark: T={} batch={} threads={} weights: {source}",
        a.timesteps, a.batch, a.threads
    );

    let train_rate = |mode: GradMode| -> f64 {
        let mut w = weights.clone();
        let mut engine = BatchEngine::new(net.clone());
        let ctx = |lr| BatchContext {
            lr,
            weight_decay: 5e-4,
            ..BatchContext::plain(&train, &encoder, a.timesteps, mode)
        };
        let batch = |b: usize| -> Vec<usize> { (b * a.batch..(b + 1) * a.batch).collect() };
        pool.install(|| engine.train_batch(&mut w, &batch(0), &ctx(0.0085))); // warm-up
        let start = Instant::now();
        for b in 1..=a.batches {
            pool.install(|| engine.train_batch(&mut w, &batch(b), &ctx(0.0085)));
        }
        (a.batches * a.batch) as f64 / start.elapsed().as_secs_f64()
    };
    // Our three rates; measured before the peers and again after them, so that a slow or fast
    // phase of the machine (this VM's speed drifts by up to 10-20 % over minutes) weighs on
    // both sides alike.
    let measure = |when: &str| -> [f64; 3] {
        let code = train_rate(GradMode::Code);
        let aggregate = train_rate(GradMode::Aggregate);
        // Like the peers' iterations: one untimed warm-up batch (the peers run one warm-up
        // iteration), then `infer_passes` timed passes over the same samples, rate = all
        // samples / all time (the mean throughput, the peers' statistic).
        pool.install(|| evaluate(&net, &weights, &test, &encoder, a.timesteps, a.batch));
        let start = Instant::now();
        let ev = pool.install(|| evaluate(&net, &weights, &test, &encoder, a.timesteps, a.infer));
        for _ in 1..a.infer_passes {
            pool.install(|| evaluate(&net, &weights, &test, &encoder, a.timesteps, a.infer));
        }
        let infer = (ev.samples * a.infer_passes) as f64 / start.elapsed().as_secs_f64();
        println!(
            "  {when}: train code grad {code:.1}, train aggregate grad {aggregate:.1}, inference {infer:.1} samples/s ({} passes; accuracy on these {} samples: {:.2} %)",
            a.infer_passes,
            ev.samples,
            100.0 * ev.accuracy()
        );
        [code, aggregate, infer]
    };
    let before = measure("before the peers");

    let mut peers = serde_json::Value::Null;
    let python = PathBuf::from("benches/peers/.venv/bin/python");
    if a.peer && python.exists() {
        let json = std::env::temp_dir().join(format!("snn-peer-{}.json", std::process::id()));
        let status = Command::new(&python)
            .args(["benches/peers/lenet_peer.py", "--json"])
            .arg(&json)
            .args([
                "--timesteps",
                &a.timesteps.to_string(),
                "--batch-size",
                &a.batch.to_string(),
            ])
            .args([
                "--iters",
                &a.peer_iters.to_string(),
                "--threads",
                &a.threads.to_string(),
            ])
            // The peer at its best: spinning OpenMP threads (fastest on an otherwise idle machine).
            .args(["--omp-wait-policy", "active"])
            // Correctness of every peer before it is timed (reported, does not stop the timing).
            .arg("--check")
            .arg("--data-dir")
            .arg(data_dir.join("mnist"))
            .status();
        match status {
            Ok(s) if s.success() => {
                peers = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
                let _ = std::fs::remove_file(&json);
            }
            other => eprintln!("peer script failed: {other:?}"),
        }
    } else if a.peer {
        eprintln!("no peer venv: run benches/peers/setup.sh to compare against PyTorch");
    }

    // With the peers measured, ours again; each rate pools both measurements (same work twice:
    // total samples / total time, i.e. the harmonic mean).
    let after = (!peers.is_null()).then(|| measure("after the peers"));
    let pooled = |k: usize| after.map_or(before[k], |b| 2.0 / (1.0 / before[k] + 1.0 / b[k]));
    let (code, aggregate, infer) = (pooled(0), pooled(1), pooled(2));
    println!(
        "  snn-train: train code grad {code:.1}, train aggregate grad {aggregate:.1}, inference {infer:.1} samples/s"
    );
    // The command as run: its flags after `--`, if any (cargo's own `--bench` left out).
    let flags: Vec<String> = std::env::args()
        .skip(1)
        .filter(|x| x != "--bench")
        .collect();
    let command = match flags.is_empty() {
        true => "cargo bench --bench lenet_throughput".to_string(),
        false => format!(
            "cargo bench --bench lenet_throughput -- {}",
            flags.join(" ")
        ),
    };
    let best_code = fastest(&peers, &CODE_PEERS, "train_samples_per_s");
    let best_agg = fastest(&peers, &AGGREGATE_PEERS, "train_samples_per_s");
    let best_inf = fastest(&peers, &PEERS, "infer_samples_per_s");
    let ratio = |ours: f64, peer: &Option<(String, f64)>| peer.as_ref().map(|(_, r)| ours / r);
    let (ratio_code, ratio_agg, ratio_inf) = (
        ratio(code, &best_code),
        ratio(aggregate, &best_agg),
        ratio(infer, &best_inf),
    );
    let mut md = format!(
        "# LeNet throughput, T={}, batch {}, {} threads\n\nsnn-train weights: {source}. Command: `{command}`.\n\n| implementation | gradient | train samples/s | inference samples/s |\n|---|---|---|---|\n| **snn-train** | code (authors' gated recurrence) | **{code:.1}** | **{infer:.1}** |\n| **snn-train** | aggregate (one backward over spike counts) | **{aggregate:.1}** | (same forward) |\n",
        a.timesteps,
        a.batch,
        a.threads,
    );
    let mut ratios = serde_json::Map::new();
    let mut failed = Vec::new();
    for name in PEERS {
        let p = &peers[name];
        if let Some(err) = p["error"].as_str() {
            md.push_str(&format!("| {name} | failed: {err} | | |\n"));
            failed.push(name);
            continue;
        }
        let (Some(t), Some(i)) = (
            p["train_samples_per_s"].as_f64(),
            p["infer_samples_per_s"].as_f64(),
        ) else {
            continue;
        };
        let algorithm = algorithm_of(name);
        let compiled = if p["compiled"].is_string() {
            ", compiled"
        } else {
            ""
        };
        md.push_str(&format!(
            "| {name} | {}{compiled} | {t:.1} | {i:.1} |\n",
            algorithm.label()
        ));
        // Per peer: our training of the same algorithm (snnTorch: our code gradient, the
        // per-step backward it is closest to in cost) and our inference, over the peer's.
        let ours = match algorithm {
            Algorithm::Aggregate => aggregate,
            _ => code,
        };
        // Keyed by which of our gradients is compared: train_code_ratio (code peers and
        // snnTorch) or train_aggregate_ratio (aggregate peers), never across the two.
        let train_key = match algorithm {
            Algorithm::Aggregate => "train_aggregate_ratio",
            _ => "train_code_ratio",
        };
        let mut r = serde_json::Map::new();
        r.insert("algorithm".into(), algorithm.key().into());
        r.insert(train_key.into(), (ours / t).into());
        r.insert("inference_ratio".into(), (infer / i).into());
        ratios.insert(name.to_string(), r.into());
        println!(
            "  vs {name} ({}): train {:.1}x, inference {:.1}x (peer: train {t:.1}, infer {i:.1} samples/s)",
            algorithm.key(),
            ours / t,
            infer / i
        );
    }
    let cell = |r: Option<f64>, p: &Option<(String, f64)>, ours: f64| match (r, p) {
        (Some(r), Some((n, v))) => format!("{ours:.1} | {n} | {v:.1} | **{r:.1}x**"),
        _ => format!("{ours:.1} | (no peer) | | "),
    };
    if best_code.is_some() || best_agg.is_some() || best_inf.is_some() {
        md.push_str(&format!(
            "\nRatios against the fastest peer of the same algorithm:\n\n| snn-train | samples/s | fastest peer of the same algorithm | its samples/s | ratio |\n|---|---|---|---|---|\n| training, code gradient (vs torch-authors / torch-tuned) | {} |\n| training, aggregate gradient (vs torch-aggregate / torch-aggregate-tuned) | {} |\n| inference (vs every peer) | {} |\n",
            cell(ratio_code, &best_code, code),
            cell(ratio_agg, &best_agg, aggregate),
            cell(ratio_inf, &best_inf, infer),
        ));
        println!(
            "  ratios vs the fastest peer of the same algorithm: code {}, aggregate {}, inference {}",
            ratio_text(ratio_code, &best_code),
            ratio_text(ratio_agg, &best_agg),
            ratio_text(ratio_inf, &best_inf)
        );
    }
    if !ratios.is_empty() {
        md.push_str("\nPer peer (training: our same-algorithm gradient over the peer's; snntorch's surrogate-gradient BPTT is a different algorithm, compared with our code gradient):\n\n| snn-train / peer | peer's gradient | train | inference |\n|---|---|---|---|\n");
        for name in PEERS {
            if let Some(r) = ratios.get(name) {
                md.push_str(&format!(
                    "| {name} | {} | {:.1}x | {:.1}x |\n",
                    algorithm_of(name).label(),
                    r["train_code_ratio"]
                        .as_f64()
                        .or(r["train_aggregate_ratio"].as_f64())
                        .unwrap(),
                    r["inference_ratio"].as_f64().unwrap()
                ));
            }
        }
    }
    if !peers.is_null() {
        md.push_str(&peer_checks_markdown(&peers));
    }
    if let Some(b) = after {
        md.push_str(&format!(
            "\nThe snn-train rates pool two measurements of the same work (train code / aggregate / inference samples/s), one before the peers ({:.1} / {:.1} / {:.1}) and one after them ({:.1} / {:.1} / {:.1}), so that the machine's drift weighs on both sides.\n",
            before[0], before[1], before[2], b[0], b[1], b[2]
        ));
    }
    if !failed.is_empty() {
        eprintln!("peer(s) failed: {}", failed.join(", "));
    }
    let doc = serde_json::json!({
        "command": command,
        "timesteps": a.timesteps, "batch_size": a.batch, "threads": a.threads, "weights": source,
        "snn_train": {"train_code_samples_per_s": code, "train_aggregate_samples_per_s": aggregate, "infer_samples_per_s": infer,
            "before_peers": before, "after_peers": after},
        "peers": peers, "ratios": ratios,
        "fastest_peer": {"code": best_code, "aggregate": best_agg, "infer": best_inf},
        "ratio_code": ratio_code, "ratio_aggregate": ratio_agg, "ratio_infer": ratio_inf,
        "ratio_code_peer": best_code.as_ref().map(|p| &p.0),
        "ratio_aggregate_peer": best_agg.as_ref().map(|p| &p.0),
        "ratio_infer_peer": best_inf.as_ref().map(|p| &p.0),
    });
    std::fs::create_dir_all(&a.out).unwrap();
    snn::core::atomic::write_atomic(
        &a.out.join("lenet_throughput.json"),
        serde_json::to_string_pretty(&doc).unwrap().as_bytes(),
    )
    .unwrap();
    snn::core::atomic::write_atomic(&a.out.join("lenet_throughput.md"), md.as_bytes()).unwrap();
    println!("wrote {}/lenet_throughput.{{json,md}}", a.out.display());
}
