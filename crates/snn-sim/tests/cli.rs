//! The `snn-sim` binary: `--help`, a small successful run whose report.json carries the
//! promised keys and the trainer's counts, and one-line errors (prefixed `snn-sim: error:`,
//! non-zero exit, no panic) for a missing model, a corrupt mapping, a mapping of another model,
//! an unknown data set and bad flag values.

mod common;

use common::*;
use snn_sim::engine::Mode;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NET: &str = r#"
name = "cli"
input = { channels = 1, height = 28, width = 28 }
[[layer]]
type = "conv"
out_channels = 6
kernel = 7
stride = 7
[[layer]]
type = "linear"
out_features = 16
[[layer]]
type = "readout"
out_features = 10
"#;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_snn-sim"))
}

/// Writes a model and its Loihi mapping under `dir`; returns (model path, mapping path).
fn files(dir: &Path) -> (PathBuf, PathBuf) {
    let mut model = random_model(spec(NET), 5, 0.5, 0.08);
    model.meta.dataset = "mnist".into();
    model.meta.timesteps = 4;
    model.meta.seed = 2;
    let mp = dir.join("model.snn");
    model.save(&mp).unwrap();
    let map_path = dir.join("mapping.bin");
    map(&model, &loihi(), 1).save(&map_path).unwrap();
    (mp, map_path)
}

/// `snn-sim --model M --mapping P --data-dir D --out O` plus `extra`.
fn run(model: &Path, mapping: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("--model")
        .arg(model)
        .arg("--mapping")
        .arg(mapping)
        .arg("--data-dir")
        .arg(mnist_dir())
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

/// Asserts failure with one stderr line starting `snn-sim: error:` and containing every needle.
fn fails_with(out: Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure; stderr: {err}");
    assert!(
        !err.contains("panicked"),
        "panic instead of an error: {err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("snn-sim: error: "), "{}", lines[0]);
    for n in needles {
        assert!(lines[0].contains(n), "'{}' lacks '{n}'", lines[0]);
    }
}

#[test]
fn help_lists_the_contract_flags() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--model",
        "--mapping",
        "--dataset",
        "--data-dir",
        "--timesteps",
        "--seed",
        "--test-limit",
        "--mode",
        "--threads",
        "--out",
        "--sweep-timesteps",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn a_small_run_writes_a_report_with_the_trainers_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_path, mapping_path) = files(tmp.path());
    let out_dir = tmp.path().join("report");
    let out = run(
        &model_path,
        &mapping_path,
        &out_dir,
        &[
            "--dataset",
            "mnist",
            "--test-limit",
            "6",
            "--timesteps",
            "5",
            "--seed",
            "9",
            "--threads",
            "2",
            "--mode",
            "float",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_dir.join("report.md").is_file());
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).unwrap()).unwrap();
    for key in [
        "accuracy",
        "samples",
        "timesteps",
        "synaptic_ops",
        "spikes_per_layer",
        "energy_joules",
        "ann_macs",
        "ann_energy_joules",
        "sim_seconds",
        "synaptic_events_per_second",
    ] {
        assert!(r.get(key).is_some(), "report.json lacks {key}");
    }
    for part in ["synaptic", "neuron", "routing", "static"] {
        assert!(
            r["energy_joules"][part].as_f64().unwrap() >= 0.0,
            "energy_joules.{part}"
        );
    }
    assert_eq!(
        (r["samples"].as_u64(), r["timesteps"].as_u64()),
        (Some(6), Some(5))
    );

    let model = snn_core::Model::load(&model_path).unwrap();
    let data = mnist_test(6);
    let ev = eval(&model, &data, 9, 5, 6);
    assert_eq!(r["accuracy"].as_f64().unwrap(), ev.accuracy());
    assert_eq!(
        r["synaptic_ops"].as_u64().unwrap(),
        ev.stats.layer_synops.iter().sum::<u64>()
    );
    let plan = snn_core::NetworkPlan::new(&model.spec).unwrap();
    for (l, layer) in plan.layers.iter().enumerate() {
        assert_eq!(
            r["spikes_per_layer"][&layer.name].as_u64(),
            Some(ev.stats.layer_spikes[l]),
            "spikes of {}",
            layer.name
        );
    }
    assert!(ev.stats.layer_spikes[0] > 0 && ev.stats.layer_spikes[1] > 0);
    // The library gives the same numbers as the binary.
    let mapping = snn_sim::simulation::load_mapping(&model, &model_path, &mapping_path).unwrap();
    let o = sim(&model, &mapping, &data, 9, 5, 6, 1, Mode::Float);
    assert_eq!(r["synaptic_ops"].as_u64(), Some(o.total.synaptic_ops));
}

#[test]
fn a_missing_model_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, mapping_path) = files(tmp.path());
    let missing = tmp.path().join("no-such-model.snn");
    let out = run(&missing, &mapping_path, &tmp.path().join("o"), &[]);
    fails_with(out, &["no-such-model.snn"]);
}

#[test]
fn a_corrupt_mapping_is_a_one_line_checksum_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_path, mapping_path) = files(tmp.path());
    let mut bytes = std::fs::read(&mapping_path).unwrap();
    let i = bytes.len() - 7;
    bytes[i] ^= 0xff;
    std::fs::write(&mapping_path, &bytes).unwrap();
    let out = run(&model_path, &mapping_path, &tmp.path().join("o"), &[]);
    fails_with(out, &["mapping.bin", "checksum"]);
    assert!(!tmp.path().join("o/report.json").exists());
}

#[test]
fn a_mapping_of_another_model_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_path, mapping_path) = files(tmp.path());
    let mut other = snn_core::Model::load(&model_path).unwrap();
    other.weights[0].main[0] = -other.weights[0].main[0] - 1.0;
    let other_path = tmp.path().join("retrained.snn");
    other.save(&other_path).unwrap();
    let out = run(&other_path, &mapping_path, &tmp.path().join("o"), &[]);
    fails_with(out, &["mapping.bin", "another model", "snn-map"]);
}

#[test]
fn an_unknown_dataset_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_path, mapping_path) = files(tmp.path());
    let out = run(
        &model_path,
        &mapping_path,
        &tmp.path().join("o"),
        &["--dataset", "imagenet"],
    );
    fails_with(out, &["--dataset", "imagenet"]);
}

#[test]
fn a_missing_data_directory_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_path, mapping_path) = files(tmp.path());
    let out = bin()
        .arg("--model")
        .arg(&model_path)
        .arg("--mapping")
        .arg(&mapping_path)
        .arg("--data-dir")
        .arg(tmp.path().join("empty"))
        .arg("--out")
        .arg(tmp.path().join("o"))
        .output()
        .unwrap();
    fails_with(out, &["empty"]);
}

#[test]
fn zero_timesteps_and_zero_threads_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_path, mapping_path) = files(tmp.path());
    let o = tmp.path().join("o");
    fails_with(
        run(
            &model_path,
            &mapping_path,
            &o,
            &["--timesteps", "0", "--test-limit", "2"],
        ),
        &["--timesteps"],
    );
    fails_with(
        run(
            &model_path,
            &mapping_path,
            &o,
            &["--threads", "0", "--test-limit", "2"],
        ),
        &["--threads"],
    );
}

#[test]
fn more_replicas_than_threads_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_path, mapping_path) = files(tmp.path());
    let o = tmp.path().join("o");
    for bad in ["0", "3"] {
        fails_with(
            run(
                &model_path,
                &mapping_path,
                &o,
                &["--threads", "2", "--replicas", bad, "--test-limit", "2"],
            ),
            &["--replicas", "between 1 and --threads (2)"],
        );
    }
}

/// Without the `mpi` feature, `--distributed` says how to get a build that has it.
#[cfg(not(feature = "mpi"))]
#[test]
fn distributed_without_mpi_says_how_to_build_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_path, mapping_path) = files(tmp.path());
    let o = tmp.path().join("o");
    fails_with(
        run(&model_path, &mapping_path, &o, &["--distributed"]),
        &["--distributed", "--features snn-train/mpi,snn-sim/mpi"],
    );
    assert!(!o.exists(), "nothing written");
}
