//! End to end on real MNIST: a short run learns far above chance (10 %), in both gradient modes,
//! and writes every promised artifact. A broken gradient (wrong sign, missing layer, bad gate)
//! cannot reach the bound.

mod common;

use snn_core::Model;
use snn_train::train::{train, ResumeOverrides, RunOptions};
use snn_train::{GradMode, TrainConfig};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn run(grad: GradMode, out: &Path) -> snn_train::summary::Summary {
    let config = TrainConfig {
        epochs: 2,
        timesteps: 16,
        batch_size: 16,
        train_limit: 3000,
        test_limit: 1000,
        val_split: 1000,
        grad,
        seed: 3,
        ..TrainConfig::preset("lenet")
    };
    let opts = RunOptions {
        out: out.to_path_buf(),
        data_dir: common::mnist_dir(),
        threads: 2,
        progress: false,
        interrupt: Arc::new(AtomicBool::new(false)),
        stop_after_batches: None,
        world: std::sync::Arc::new(snn_mpi::World::single()),
    };
    train(Some(config), &opts, ResumeOverrides::default()).unwrap()
}

#[test]
fn short_code_mode_run_learns_mnist_far_above_chance() {
    let tmp = tempfile::tempdir().unwrap();
    let s = run(GradMode::Code, tmp.path());
    assert!(
        s.test_accuracy_at_best_val > 0.8,
        "code mode reached only {:.3}",
        s.test_accuracy_at_best_val
    );
    for f in [
        "model.snn",
        "last.snn",
        "log.jsonl",
        "summary.json",
        "training.png",
        "time_to_accuracy.png",
    ] {
        assert!(tmp.path().join(f).is_file(), "{f} missing");
    }
    let m = Model::load(&tmp.path().join("model.snn")).unwrap();
    assert_eq!(m.meta.test_accuracy, Some(s.test_accuracy_at_best_val));
    assert!(m.training.is_none());
    // model.snn is the epoch of the best validation accuracy (first of ties), not of the best
    // test accuracy; the summary names both.
    let records = snn_train::log::read_log(&tmp.path().join("log.jsonl")).unwrap();
    let vals: Vec<f64> = records.iter().map(|r| r.val_accuracy.unwrap()).collect();
    let best = (0..vals.len()).fold(0, |b, i| if vals[i] > vals[b] { i } else { b });
    assert_eq!(s.selection, "validation");
    assert_eq!(s.best_epoch, records[best].epoch);
    assert_eq!(m.meta.epochs, records[best].epoch);
    assert_eq!(s.val_accuracy, Some(vals[best]));
    assert_eq!(s.test_accuracy_at_best_val, records[best].test_accuracy);
    assert!(s.best_test_accuracy >= s.test_accuracy_at_best_val);
    assert_eq!(
        (s.train_samples, s.val_samples, s.test_samples),
        (3000, 1000, 1000)
    );
    let log = std::fs::read_to_string(tmp.path().join("log.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    for key in [
        "epoch",
        "loss",
        "train_accuracy",
        "test_accuracy",
        "val_accuracy",
        "spike_rate",
        "seconds",
    ] {
        assert!(first.get(key).is_some(), "log.jsonl lacks {key}");
    }
    assert!(first["spike_rate"]["conv1"].as_f64().unwrap() > 0.0);
}

#[test]
fn short_aggregate_mode_run_learns_mnist_far_above_chance() {
    let tmp = tempfile::tempdir().unwrap();
    let s = run(GradMode::Aggregate, tmp.path());
    assert!(
        s.test_accuracy_at_best_val > 0.8,
        "aggregate mode reached only {:.3}",
        s.test_accuracy_at_best_val
    );
}
