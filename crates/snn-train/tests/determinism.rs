//! Reproducibility of whole runs on real MNIST: the same seed gives byte-identical model files,
//! the thread count never changes results, and an interrupted-then-resumed run ends with exactly
//! the weights of the uninterrupted run.

mod common;

use snn_train::train::{train, ResumeOverrides, RunOptions};
use snn_train::{GradMode, TrainConfig, TrainError};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn small_config(seed: u64, grad: GradMode) -> TrainConfig {
    TrainConfig {
        epochs: 2,
        timesteps: 8,
        batch_size: 32,
        train_limit: 160,
        test_limit: 64,
        val_split: 100,
        seed,
        grad,
        dropout: 0.1,
        ..TrainConfig::preset("lenet")
    }
}

fn opts(out: &Path, threads: usize, stop: Option<u64>) -> RunOptions {
    RunOptions {
        out: out.to_path_buf(),
        data_dir: common::mnist_dir(),
        threads,
        progress: false,
        interrupt: Arc::new(AtomicBool::new(false)),
        stop_after_batches: stop,
        world: std::sync::Arc::new(snn_mpi::World::single()),
    }
}

fn bytes(p: PathBuf) -> Vec<u8> {
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn same_seed_gives_byte_identical_models_and_thread_count_does_not_matter() {
    let tmp = tempfile::tempdir().unwrap();
    for grad in [GradMode::Code, GradMode::Aggregate] {
        let a = tmp.path().join(format!("{grad:?}-a"));
        let b = tmp.path().join(format!("{grad:?}-b"));
        let c = tmp.path().join(format!("{grad:?}-c"));
        let sa = train(
            Some(small_config(5, grad)),
            &opts(&a, 1, None),
            ResumeOverrides::default(),
        )
        .unwrap();
        let sb = train(
            Some(small_config(5, grad)),
            &opts(&b, 2, None),
            ResumeOverrides::default(),
        )
        .unwrap();
        train(
            Some(small_config(6, grad)),
            &opts(&c, 2, None),
            ResumeOverrides::default(),
        )
        .unwrap();
        assert_eq!(
            bytes(a.join("model.snn")),
            bytes(b.join("model.snn")),
            "{grad:?}: threads 1 vs 2"
        );
        assert_eq!(
            bytes(a.join("last.snn")),
            bytes(b.join("last.snn")),
            "{grad:?}: threads 1 vs 2 (last)"
        );
        assert_eq!(sa.test_accuracy_at_best_val, sb.test_accuracy_at_best_val);
        assert_ne!(
            bytes(a.join("last.snn")),
            bytes(c.join("last.snn")),
            "{grad:?}: another seed must differ"
        );
    }
}

#[test]
fn interrupted_then_resumed_run_equals_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let parts = tmp.path().join("parts");
    train(
        Some(small_config(9, GradMode::Code)),
        &opts(&whole, 2, None),
        ResumeOverrides::default(),
    )
    .unwrap();
    // 5 batches per epoch: stop in the middle of epoch 1, then again in the middle of epoch 2.
    let e = train(
        Some(small_config(9, GradMode::Code)),
        &opts(&parts, 2, Some(3)),
        ResumeOverrides::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::Interrupted {
                epoch: 1,
                batch: 3,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("--resume"), "{e}");
    let e = train(None, &opts(&parts, 1, Some(4)), ResumeOverrides::default()).unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::Interrupted {
                epoch: 2,
                batch: 2,
                ..
            }
        ),
        "{e}"
    );
    let summary = train(None, &opts(&parts, 2, None), ResumeOverrides::default()).unwrap();
    assert_eq!(summary.epochs, 2);
    assert_eq!(bytes(whole.join("last.snn")), bytes(parts.join("last.snn")));
    assert_eq!(
        bytes(whole.join("model.snn")),
        bytes(parts.join("model.snn"))
    );
    let lines = std::fs::read_to_string(parts.join("log.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2);
}

#[test]
fn exploding_loss_stops_and_keeps_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let config = TrainConfig {
        epochs: 1,
        ..small_config(2, GradMode::Code)
    };
    train(
        Some(config),
        &opts(&dir, 2, None),
        ResumeOverrides::default(),
    )
    .unwrap();
    let good = bytes(dir.join("last.snn"));
    let e = train(
        None,
        &opts(&dir, 2, None),
        ResumeOverrides {
            epochs: Some(2),
            lr: Some(1e7),
            ..ResumeOverrides::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, TrainError::Diverged { epoch: 2, .. }), "{e}");
    assert!(e.to_string().contains("last.snn"), "{e}");
    assert_eq!(
        bytes(dir.join("last.snn")),
        good,
        "the last good checkpoint must survive"
    );
    snn_core::Model::load(&dir.join("model.snn")).unwrap();
}

/// A small colour network for 32×32×3 images.
const CIFAR_NET: &str = r#"
name = "cifar-tiny"
input = { channels = 3, height = 32, width = 32 }
input_scale = 1.0
[[layer]]
type = "conv"
out_channels = 4
kernel = 3
stride = 2
padding = 1
[[layer]]
type = "pool"
[[layer]]
type = "readout"
out_features = 10
"#;

/// Six CIFAR-10 batch files of `n` random records each under `data_dir`.
fn synthetic_cifar(data_dir: &Path, n: usize) {
    use snn_data::cifar::{BATCH_DIR, IMAGE_BYTES, TEST_BATCH, TRAIN_BATCHES};
    let dir = data_dir.join("cifar10").join(BATCH_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = common::Lcg(11);
    for (b, name) in TRAIN_BATCHES.iter().chain([&TEST_BATCH]).enumerate() {
        let mut bytes = Vec::new();
        for i in 0..n {
            bytes.push(((i + b) % 10) as u8);
            bytes.extend((0..IMAGE_BYTES).map(|_| (rng.uniform() * 255.0) as u8));
        }
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn cifar_augmentation_is_reproducible_on_any_thread_count_and_changes_training() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_cifar(&data, 24);
    let net = tmp.path().join("net.toml");
    std::fs::write(&net, CIFAR_NET).unwrap();
    let config = |augment: bool| TrainConfig {
        arch: net.display().to_string(),
        dataset: "cifar10".into(),
        epochs: 2,
        timesteps: 4,
        batch_size: 16,
        augment,
        val_split: 0,
        ..TrainConfig::preset("vgg9")
    };
    let run = |augment: bool, threads: usize, name: &str| {
        let out = tmp.path().join(name);
        let o = RunOptions {
            data_dir: data.clone(),
            ..opts(&out, threads, None)
        };
        train(Some(config(augment)), &o, ResumeOverrides::default()).unwrap();
        out.join("last.snn")
    };
    let weights = |p: &Path| snn_core::model_file::Model::load(p).unwrap().weights;
    let a = run(true, 1, "aug-1");
    assert_eq!(
        bytes(a.clone()),
        bytes(run(true, 2, "aug-2")),
        "threads 1 vs 2"
    );
    // The weights themselves, not the file (whose stored config differs anyway).
    assert_ne!(
        weights(&a),
        weights(&run(false, 2, "plain")),
        "augmentation must change the gradients"
    );
}
