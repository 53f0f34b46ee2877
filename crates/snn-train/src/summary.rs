//! `summary.json`: what a run achieved and how (selection rule, sizes, speed, configuration),
//! rewritten after every epoch.

use crate::config::TrainConfig;
use crate::log::{first_best, EpochRecord};
use serde::{Deserialize, Serialize};
use snn_core::runtime::CompiledNet;

/// `summary.json` of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Architecture.
    pub arch: String,
    /// Dataset.
    pub dataset: String,
    /// Gradient mode.
    pub grad: String,
    /// How `model.snn` was chosen: "validation" (best validation accuracy) or "test" (best test
    /// accuracy, no validation set held out; not an unbiased estimate).
    pub selection: String,
    /// The headline number: test accuracy of the selected epoch (`model.snn`).
    pub test_accuracy_at_best_val: f64,
    /// Validation accuracy of the selected epoch (absent without a validation set).
    pub val_accuracy: Option<f64>,
    /// The selected epoch (the one saved as `model.snn`).
    pub best_epoch: u32,
    /// Best test accuracy over all epochs, for comparison with the paper, which selected on the
    /// test set; not a result of this run's model selection.
    pub best_test_accuracy: f64,
    /// Epoch of `best_test_accuracy`.
    pub best_test_epoch: u32,
    /// Test accuracy after the last epoch.
    pub final_test_accuracy: f64,
    /// Epochs completed.
    pub epochs: u32,
    /// Time steps.
    pub timesteps: u32,
    /// Batch size.
    pub batch_size: usize,
    /// Seed.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// Training images per epoch.
    pub train_samples: usize,
    /// Validation images (held out of the training split).
    pub val_samples: usize,
    /// Test images.
    pub test_samples: usize,
    /// Total wall seconds of all epochs (training + evaluation).
    pub seconds: f64,
    /// Training samples per second over the run (excluding evaluation).
    pub train_samples_per_second: f64,
    /// Trainable parameters.
    pub params: usize,
    /// Dense MACs per step of the equivalent ANN.
    pub dense_macs: u64,
    /// Every setting of the run (learning-rate schedule, dropout, augmentation, `init_from`...),
    /// as at its last epoch: what reproduces it. Absent in summaries written before it existed.
    #[serde(default)]
    pub config: Option<TrainConfig>,
}

/// Images in each set of a run.
pub(crate) struct SetSizes {
    pub(crate) train: usize,
    pub(crate) val: usize,
    pub(crate) test: usize,
}

/// The summary of the epochs run so far (`best_epoch` is the selected one).
pub(crate) fn summarize(
    config: &TrainConfig,
    threads: usize,
    records: &[EpochRecord],
    best_epoch: u32,
    sizes: &SetSizes,
    net: &CompiledNet,
) -> Summary {
    let seconds: f64 = records.iter().map(|r| r.seconds).sum();
    let train_seconds: f64 = records
        .iter()
        .map(|r| sizes.train as f64 / r.train_samples_per_second.max(1e-9))
        .sum();
    let selected = records.iter().find(|r| r.epoch == best_epoch);
    let best_test = first_best(records, |r| r.test_accuracy);
    Summary {
        arch: config.arch.clone(),
        dataset: config.dataset.clone(),
        grad: config.grad.to_string(),
        selection: config.selection().to_string(),
        test_accuracy_at_best_val: selected.map_or(0.0, |r| r.test_accuracy),
        val_accuracy: selected.and_then(|r| r.val_accuracy),
        best_epoch,
        best_test_accuracy: best_test.map_or(0.0, |r| r.test_accuracy),
        best_test_epoch: best_test.map_or(0, |r| r.epoch),
        final_test_accuracy: records.last().map_or(0.0, |r| r.test_accuracy),
        epochs: records.len() as u32,
        timesteps: config.timesteps,
        batch_size: config.batch_size,
        seed: config.seed,
        threads,
        train_samples: sizes.train,
        val_samples: sizes.val,
        test_samples: sizes.test,
        seconds,
        train_samples_per_second: if train_seconds > 0.0 {
            (sizes.train * records.len()) as f64 / train_seconds
        } else {
            0.0
        },
        params: net.plan.params(),
        dense_macs: net.plan.dense_macs(),
        config: Some(config.clone()),
    }
}
