//! LeNet throughput benchmark: training (code and aggregate gradients) and inference
//! samples/s of snn-train on real MNIST, T=100, batch 64, measured in the same run as the
//! PyTorch peers of `benches/peers/` (hand-written "authors' style" PyTorch and snnTorch),
//! and the ratios between them.
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

use snn::core::step::CompiledNet;
use snn::core::{preset, Model};
use snn::data::dataset::{load, resolve_data_dir, DatasetKind, Split};
use snn::data::encode::RateEncoder;
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
            data: &train,
            encoder: &encoder,
            timesteps: a.timesteps,
            mode,
            dropout: 0.0,
            seed: 1,
            epoch: 1,
            lr,
            weight_decay: 5e-4,
            augment: None,
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
    let mut md = format!(
        "# LeNet throughput, T={}, batch {}, {} threads\n\nsnn-train weights: {source}. Command: `{command}`.\n\n| implementation | train samples/s (code grad) | train samples/s (aggregate grad) | inference samples/s |\n|---|---|---|---|\n| snn-train | {code:.1} | {aggregate:.1} | {infer:.1} |\n",
        a.timesteps,
        a.batch,
        a.threads,
    );
    let mut ratios = serde_json::Map::new();
    for name in ["torch-authors", "snntorch"] {
        let p = &peers[name];
        if let (Some(t), Some(i)) = (
            p["train_samples_per_s"].as_f64(),
            p["infer_samples_per_s"].as_f64(),
        ) {
            md.push_str(&format!("| {name} | {t:.1} | (same peer) | {i:.1} |\n"));
            ratios.insert(
                name.to_string(),
                serde_json::json!({
                    "train_code_ratio": code / t,
                    "train_aggregate_ratio": aggregate / t,
                    "inference_ratio": infer / i,
                }),
            );
            println!(
                "  vs {name}: train code {:.1}x, train aggregate {:.1}x, inference {:.1}x (peer: train {t:.1}, infer {i:.1} samples/s)",
                code / t,
                aggregate / t,
                infer / i
            );
        }
    }
    if !ratios.is_empty() {
        md.push_str("\n| ratio snn-train / peer | train code | train aggregate | inference |\n|---|---|---|---|\n");
        for (name, r) in &ratios {
            md.push_str(&format!(
                "| {name} | {:.1}x | {:.1}x | {:.1}x |\n",
                r["train_code_ratio"].as_f64().unwrap(),
                r["train_aggregate_ratio"].as_f64().unwrap(),
                r["inference_ratio"].as_f64().unwrap()
            ));
        }
    }
    if let Some(b) = after {
        md.push_str(&format!(
            "\nThe snn-train rates pool two measurements of the same work (train code / aggregate / inference samples/s), one before the peers ({:.1} / {:.1} / {:.1}) and one after them ({:.1} / {:.1} / {:.1}), so that the machine's drift weighs on both sides.\n",
            before[0], before[1], before[2], b[0], b[1], b[2]
        ));
    }
    let doc = serde_json::json!({
        "timesteps": a.timesteps, "batch_size": a.batch, "threads": a.threads, "weights": source,
        "snn_train": {"train_code_samples_per_s": code, "train_aggregate_samples_per_s": aggregate, "infer_samples_per_s": infer,
            "before_peers": before, "after_peers": after},
        "peers": peers, "ratios": ratios,
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
