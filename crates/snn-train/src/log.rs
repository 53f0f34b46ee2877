//! What a run writes besides model files: `log.jsonl` (one JSON object per epoch),
//! `summary.json` and `training.png`. Every file is rewritten atomically.

use serde::{Deserialize, Serialize};
use snn_core::atomic::write_atomic;
use std::collections::BTreeMap;
use std::path::Path;

/// One line of `log.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: u32,
    /// Learning rate used.
    pub lr: f64,
    /// Mean training loss per sample (`Σ_j (o_j − y_j)²`).
    pub loss: f64,
    /// Training accuracy (fraction) measured in the training forward passes.
    pub train_accuracy: f64,
    /// Test accuracy (fraction).
    pub test_accuracy: f64,
    /// Mean test loss per sample.
    pub test_loss: f64,
    /// Test-set spikes per neuron per step, by layer.
    pub spike_rate: BTreeMap<String, f64>,
    /// Wall seconds of the epoch including evaluation.
    pub seconds: f64,
    /// Training samples per second in this epoch (excluding evaluation).
    pub train_samples_per_second: f64,
}

/// `summary.json` of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Architecture.
    pub arch: String,
    /// Dataset.
    pub dataset: String,
    /// Gradient mode.
    pub grad: String,
    /// Best test accuracy over epochs (the accuracy of `model.snn`).
    pub test_accuracy: f64,
    /// Epoch of the best test accuracy.
    pub best_epoch: u32,
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
}

/// Reads the epoch records of an existing `log.jsonl`.
pub fn read_log(path: &Path) -> std::io::Result<Vec<EpochRecord>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })
        .collect()
}

/// Rewrites `log.jsonl` with all records.
pub fn write_log(path: &Path, records: &[EpochRecord]) -> std::io::Result<()> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).expect("records serialize"));
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// Writes any serializable value as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("value serializes");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Draws `training.png` from the epoch records.
pub fn draw_curves(
    path: &Path,
    title: &str,
    records: &[EpochRecord],
) -> Result<(), snn_plot::PlotError> {
    let points: Vec<snn_plot::EpochPoint> = records
        .iter()
        .map(|r| snn_plot::EpochPoint {
            epoch: r.epoch as f64,
            loss: r.loss,
            train_accuracy: r.train_accuracy,
            test_accuracy: r.test_accuracy,
        })
        .collect();
    snn_plot::training_curves(path, title, &points)
}
