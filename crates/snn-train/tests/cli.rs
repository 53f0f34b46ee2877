//! The `snn-train` binary on malformed input of every kind: one line on stderr that names the
//! file or flag and the cause, a non-zero exit, never a panic, nothing half-written.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_snn-train"))
}

/// Asserts failure with a single-line message containing every needle.
fn fails_with(out: Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {err}"
    );
    assert!(
        !err.contains("panicked"),
        "panic instead of an error: {err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    for n in needles {
        assert!(lines[0].contains(n), "'{}' lacks '{n}'", lines[0]);
    }
}

fn train_args(out: &Path) -> Vec<String> {
    [
        "--epochs",
        "1",
        "--timesteps",
        "4",
        "--train-limit",
        "64",
        "--test-limit",
        "32",
        "--quiet",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

#[test]
fn truncated_idx_file_is_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("data/mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let real = common::mnist_dir().join("mnist");
    for f in [
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::copy(real.join(f), mnist.join(f)).unwrap();
    }
    let images = std::fs::read(real.join("train-images-idx3-ubyte")).unwrap();
    std::fs::write(mnist.join("train-images-idx3-ubyte"), &images[..5000]).unwrap();
    let train = || {
        bin()
            .args(train_args(&tmp.path().join("run")))
            .arg("--data-dir")
            .arg(tmp.path().join("data"))
            .output()
            .unwrap()
    };
    fails_with(train(), &["train-images-idx3-ubyte", "truncated"]);

    // A FIFO in its place once blocked forever: it is refused without being opened.
    let images = mnist.join("train-images-idx3-ubyte");
    std::fs::remove_file(&images).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&images).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable: FIFO case skipped");
        return;
    }
    fails_with(train(), &["train-images-idx3-ubyte", "not a regular file"]);
}

#[test]
fn missing_data_points_to_fetch_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin()
        .args(train_args(&tmp.path().join("run")))
        .arg("--data-dir")
        .arg(tmp.path().join("nothing"))
        .output()
        .unwrap();
    fails_with(out, &["fetch-data"]);
}

#[test]
fn corrupt_model_file_is_rejected_by_eval() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.snn");
    std::fs::write(
        &bad,
        b"SNNMODEL\x01\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    )
    .unwrap();
    let out = bin().args(["eval", "--model"]).arg(&bad).output().unwrap();
    fails_with(out, &["bad.snn", "truncated"]);
    std::fs::write(&bad, b"hello").unwrap();
    let out = bin().args(["eval", "--model"]).arg(&bad).output().unwrap();
    fails_with(out, &["bad.snn", "not an snn model file"]);
    let out = bin()
        .args(["eval", "--model"])
        .arg(tmp.path().join("absent.snn"))
        .output()
        .unwrap();
    fails_with(out, &["absent.snn"]);
}

#[test]
fn malformed_network_toml_names_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let net = tmp.path().join("net.toml");
    std::fs::write(
        &net,
        "name = \"x\"\ninput = { channels = 1, height = 28, width = 28 }\n[[layer]]\ntype = \"conv\"\nout_channels = 4\nkernal = 3\n[[layer]]\ntype = \"readout\"\nout_features = 10\n",
    )
    .unwrap();
    let out = bin()
        .args(train_args(&tmp.path().join("run")))
        .arg("--arch")
        .arg(&net)
        .arg("--data-dir")
        .arg(common::mnist_dir())
        .output()
        .unwrap();
    fails_with(out, &["net.toml", "line 6", "kernal"]);
    assert!(!tmp.path().join("run/model.snn").exists());
}

#[test]
fn bad_flag_values_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let d = common::mnist_dir();
    for (flag, value, needle) in [
        ("--lr", "-1", "--lr"),
        ("--timesteps", "0", "--timesteps"),
        ("--threads", "0", "--threads"),
        ("--dropout", "1.5", "--dropout"),
        ("--dataset", "cifar99", "cifar99"),
        ("--arch", "alexnet", "alexnet"),
        ("--batch-size", "0", "--batch-size"),
    ] {
        let out = bin()
            .args(train_args(&run))
            .arg(format!("{flag}={value}"))
            .arg("--data-dir")
            .arg(&d)
            .output()
            .unwrap();
        fails_with(out, &[needle]);
    }
    // Parse errors come from clap: non-zero exit, cause on the first line.
    let out = bin().args(["--grad", "sideways"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().next().unwrap().contains("sideways"), "{err}");
}

#[test]
fn resume_without_checkpoint_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("--resume")
        .arg(tmp.path())
        .arg("--quiet")
        .output()
        .unwrap();
    fails_with(out, &["last.snn"]);
}

#[test]
fn resume_refuses_flags_that_conflict_with_the_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let d = common::mnist_dir();
    let train = bin()
        .args(train_args(&run))
        .args(["--val-split", "100", "--data-dir"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        train.status.success(),
        "{}",
        String::from_utf8_lossy(&train.stderr)
    );
    let resume = |extra: &[&str]| {
        bin()
            .arg("--resume")
            .arg(&run)
            .args(["--quiet", "--data-dir"])
            .arg(&d)
            .args(extra)
            .output()
            .unwrap()
    };
    let before = std::fs::read(run.join("last.snn")).unwrap();
    fails_with(
        resume(&["--timesteps", "8", "--epochs", "2"]),
        &[
            "--timesteps 8 conflicts with the checkpoint",
            "(4)",
            "only --epochs, --lr and --lr-milestones",
        ],
    );
    fails_with(resume(&["--arch", "vgg9"]), &["--arch vgg9", "(lenet)"]);
    fails_with(
        resume(&["--grad", "aggregate"]),
        &["--grad aggregate", "(code)"],
    );
    fails_with(resume(&["--val-split", "0"]), &["--val-split 0", "(100)"]);
    fails_with(
        resume(&["--out", "elsewhere"]),
        &["--out elsewhere", "--resume directory"],
    );
    assert_eq!(
        std::fs::read(run.join("last.snn")).unwrap(),
        before,
        "nothing written"
    );
    // Milestones may move only where the epochs already run keep their learning rate: a
    // milestone at 0 would have cut epoch 1's.
    fails_with(
        resume(&["--lr-milestones", "0", "--epochs", "2"]),
        &["--lr-milestones 0", "epochs already run (1..=1)", "75"],
    );
    assert_eq!(std::fs::read(run.join("last.snn")).unwrap(), before);
    // Flags equal to the checkpoint's settings are accepted, --epochs extends the run, and a
    // milestone after epoch 1 cuts epoch 2's rate by the preset's 0.2.
    let ok = resume(&[
        "--timesteps",
        "4",
        "--arch",
        "lenet",
        "--epochs",
        "2",
        "--lr-milestones",
        "1",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let log = std::fs::read_to_string(run.join("log.jsonl")).unwrap();
    let lrs: Vec<f64> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["lr"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert_eq!(lrs.len(), 2);
    assert!((lrs[1] - lrs[0] * 0.2).abs() < 1e-12, "{lrs:?}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["config"]["lr_milestones"], serde_json::json!([1]));
}

#[test]
fn init_from_starts_from_the_models_weights_and_refuses_another_network() {
    let tmp = tempfile::tempdir().unwrap();
    let d = common::mnist_dir();
    let first = tmp.path().join("first");
    let train = |out: &Path, extra: &[&str]| {
        bin()
            .args(train_args(out))
            .args(["--val-split", "100", "--data-dir"])
            .arg(&d)
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = train(&first, &[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let model = first.join("model.snn");
    let model_arg = model.display().to_string();
    // Interrupted before its first batch, the forked run's checkpoint holds exactly the
    // weights it started from.
    let fork = tmp.path().join("fork");
    let out = train(
        &fork,
        &["--init-from", &model_arg, "--stop-after-batches", "0"],
    );
    assert!(!out.status.success(), "an interrupted run exits non-zero");
    let start = snn_core::Model::load(&fork.join("last.snn")).unwrap();
    let trained = snn_core::Model::load(&model).unwrap();
    assert_eq!(start.weights, trained.weights);
    let fresh = tmp.path().join("fresh");
    let _ = train(&fresh, &["--stop-after-batches", "0"]);
    let init = snn_core::Model::load(&fresh.join("last.snn")).unwrap();
    assert_ne!(
        init.weights, trained.weights,
        "the test can tell them apart"
    );
    let vgg = train(
        &tmp.path().join("vgg"),
        &[
            "--arch",
            "vgg9",
            "--dataset",
            "mnist",
            "--init-from",
            &model_arg,
        ],
    );
    fails_with(vgg, &["--init-from", "network 'lenet'", "--arch vgg9"]);
}

#[test]
fn plot_redraws_both_charts_from_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let train = bin()
        .args(train_args(&run))
        .args(["--val-split", "50", "--data-dir"])
        .arg(common::mnist_dir())
        .output()
        .unwrap();
    assert!(
        train.status.success(),
        "{}",
        String::from_utf8_lossy(&train.stderr)
    );
    for chart in ["training.png", "time_to_accuracy.png"] {
        std::fs::remove_file(run.join(chart)).unwrap();
    }
    let out = bin().arg("plot").arg(&run).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for chart in ["training.png", "time_to_accuracy.png"] {
        let png = std::fs::read(run.join(chart)).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{chart}");
    }
    fails_with(
        bin().arg("plot").arg(tmp.path()).output().unwrap(),
        &["log.jsonl"],
    );
}

#[test]
fn divergence_in_the_first_epoch_promises_no_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let out = bin()
        .args(train_args(&run))
        .args([
            "--val-split",
            "0",
            "--lr",
            "1e7",
            "--batch-size",
            "16",
            "--data-dir",
        ])
        .arg(common::mnist_dir())
        .output()
        .unwrap();
    fails_with(
        out,
        &["training diverged at epoch 1", "no checkpoint was written"],
    );
    assert!(!run.join("last.snn").exists());
}

#[test]
fn eval_profile_out_counts_match_the_eval_report_and_ignore_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let d = common::mnist_dir();
    let out = bin()
        .args(train_args(&run))
        .arg("--data-dir")
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eval = |threads: &str, profile: &Path| {
        let out = bin()
            .args([
                "eval",
                "--test-limit",
                "20",
                "--timesteps",
                "3",
                "--seed",
                "7",
            ])
            .args(["--threads", threads, "--model"])
            .arg(run.join("model.snn"))
            .arg("--data-dir")
            .arg(&d)
            .arg("--profile-out")
            .arg(profile)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let (p2, p1) = (tmp.path().join("p2.json"), tmp.path().join("p1.json"));
    let report = eval("2", &p2);
    eval("1", &p1);
    assert_eq!(
        std::fs::read(&p1).unwrap(),
        std::fs::read(&p2).unwrap(),
        "profile depends on the thread count"
    );

    let profile = snn_core::profile::ActivityProfile::load(&p2).unwrap();
    let model = snn_core::Model::load(&run.join("model.snn")).unwrap();
    let plan = snn_core::NetworkPlan::new(&model.spec).unwrap();
    profile.check_matches(&plan, &p2).unwrap();
    assert_eq!(profile.network, "lenet");
    assert!(
        profile.created_by.starts_with("snn-train "),
        "{}",
        profile.created_by
    );
    assert_eq!((profile.samples, profile.timesteps), (20, 3));
    assert_eq!(report["samples"], 20);
    assert_eq!(
        profile.input.iter().sum::<u64>(),
        report["input_spikes"].as_u64().unwrap()
    );
    let layers = report["layers"].as_array().unwrap();
    assert_eq!(layers.len(), profile.layers.len());
    for (l, (r, p)) in layers.iter().zip(&profile.layers).enumerate() {
        assert_eq!(r["name"], p.name.as_str());
        assert_eq!(
            profile.total_spikes(l),
            r["spikes"].as_u64().unwrap(),
            "layer {}",
            p.name
        );
    }
    assert!(profile.total_spikes(0) > 0, "conv1 never fired");
    assert_eq!(profile.total_spikes(layers.len() - 1), 0, "readout spikes");

    let out = bin()
        .args(["eval", "--test-limit", "2", "--model"])
        .arg(run.join("model.snn"))
        .arg("--data-dir")
        .arg(&d)
        .arg("--profile-out")
        .arg(tmp.path().join("no/such/dir/p.json"))
        .output()
        .unwrap();
    fails_with(out, &["profile", "p.json", "cannot write"]);
}

#[test]
fn eval_refuses_special_files_and_unbounded_time_steps() {
    let out = bin()
        .args(["eval", "--model", "/dev/zero"])
        .output()
        .unwrap();
    fails_with(out, &["/dev/zero", "not a regular file"]);
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m.snn");
    untrained_lenet(&model);
    let out = bin()
        .args(["eval", "--timesteps", "1000000000", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    fails_with(out, &["--timesteps: 1000000000 is outside 1..=100000"]);
}

/// An untrained LeNet model file (zero weights), written without the trainer.
fn untrained_lenet(path: &Path) {
    let spec = snn_core::preset::lenet();
    let plan = snn_core::NetworkPlan::new(&spec).unwrap();
    let weights = plan
        .layers
        .iter()
        .map(|l| snn_core::model_file::LayerWeights {
            layer: l.name.clone(),
            main: vec![0.0; l.synapses.weight_count()],
            shortcut: vec![],
        })
        .collect();
    snn_core::Model {
        spec,
        weights,
        meta: Default::default(),
        training: None,
    }
    .save(path)
    .unwrap();
}

#[test]
fn layers_reports_per_inference_acs_against_the_papers_lenet_macs() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m.snn");
    untrained_lenet(&model);
    let eval = bin()
        .args([
            "eval",
            "--dataset",
            "mnist",
            "--test-limit",
            "4",
            "--timesteps",
            "3",
            "--model",
        ])
        .arg(&model)
        .arg("--data-dir")
        .arg(common::mnist_dir())
        .output()
        .unwrap();
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let eval_json = tmp.path().join("lenet.json");
    std::fs::write(&eval_json, &eval.stdout).unwrap();
    let ev: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    let out = tmp.path().join("layers");
    let run = bin()
        .arg("layers")
        .arg(&eval_json)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rows: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("layers.json")).unwrap()).unwrap();
    let lenet = &rows[0];
    assert_eq!(lenet["network"], "lenet");
    // The paper's LeNet: conv1 0.392 M MACs, 5.784 M in all (paper-method §8.2).
    let conv1 = &lenet["layers"][0];
    assert_eq!(conv1["layer"], "conv1");
    assert_eq!(conv1["ann_macs"].as_f64(), Some(392_000.0));
    assert!((lenet["total_ann_macs"].as_f64().unwrap() - 5.784e6).abs() < 1e3);
    // ACs per inference are the evaluation's synaptic ops over its 4 images; with zero
    // weights nothing past conv1 fires, so only conv1 accumulates.
    let acs = ev["layers"][0]["synaptic_ops"].as_f64().unwrap() / 4.0;
    assert!(acs > 0.0);
    assert_eq!(conv1["snn_acs"].as_f64(), Some(acs));
    assert_eq!(conv1["acs_over_macs"].as_f64(), Some(acs / 392_000.0));
    assert_eq!(lenet["total_snn_acs"].as_f64(), Some(acs));
    let fp = acs * 0.9 / (lenet["total_ann_macs"].as_f64().unwrap() * 4.6);
    assert!((lenet["energy_ratio_fp_45nm"].as_f64().unwrap() - fp).abs() < 1e-12);
    assert!(std::fs::read_to_string(out.join("layers.md"))
        .unwrap()
        .contains("| conv1 | 15680 |"));
    assert!(out.join("lenet_acs_vs_macs.png").exists());
    // Not an eval JSON: one line naming the file.
    let wrong = tmp.path().join("wrong.json");
    std::fs::write(&wrong, b"{\"layers\": 3}").unwrap();
    let out = bin()
        .arg("layers")
        .arg(&wrong)
        .args(["--out", "x"])
        .output()
        .unwrap();
    fails_with(out, &["wrong.json", "not an snn-train eval JSON"]);
}

/// Without the `mpi` feature, `--distributed` says how to get a build that has it, and writes
/// nothing.
#[cfg(not(feature = "mpi"))]
#[test]
fn distributed_without_mpi_says_how_to_build_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = bin()
        .args([
            "--arch",
            "lenet",
            "--epochs",
            "1",
            "--distributed",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    fails_with(
        o,
        &["--distributed", "--features snn-train/mpi,snn-sim/mpi"],
    );
    assert!(!out.exists(), "nothing written");
}
