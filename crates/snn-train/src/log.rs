//! What a run writes besides model files: `log.jsonl` (one JSON object per epoch),
//! `summary.json`, `training.png` and `time_to_accuracy.png`. Every file is rewritten
//! atomically.

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
    /// Validation accuracy (fraction); absent when the run holds out no validation set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_accuracy: Option<f64>,
    /// Mean validation loss per sample; absent like `val_accuracy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f64>,
    /// Test-set spikes per neuron per step, by layer.
    pub spike_rate: BTreeMap<String, f64>,
    /// Wall seconds of the epoch including evaluation.
    pub seconds: f64,
    /// Training samples per second in this epoch (excluding evaluation).
    pub train_samples_per_second: f64,
}

impl EpochRecord {
    /// The accuracy that selects the model: validation when measured, else test.
    pub fn selection_accuracy(&self) -> f64 {
        self.val_accuracy.unwrap_or(self.test_accuracy)
    }
}

/// The record with the highest `key` (the first of ties), `None` for no records.
pub fn first_best(records: &[EpochRecord], key: fn(&EpochRecord) -> f64) -> Option<&EpochRecord> {
    records.iter().fold(None, |b, r| match b {
        Some(b) if key(b) >= key(r) => Some(b),
        _ => Some(r),
    })
}

/// The chart title of a run: "vgg9 on cifar10 (code grad, T=25)".
pub fn run_title(arch: &str, dataset: &str, grad: &str, timesteps: u64) -> String {
    format!("{arch} on {dataset} ({grad} grad, T={timesteps})")
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
    pub config: Option<crate::config::TrainConfig>,
}

/// Reads the epoch records of an existing `log.jsonl`.
pub fn read_log(path: &Path) -> std::io::Result<Vec<EpochRecord>> {
    let text = snn_core::bounded::read_text_bounded(
        path,
        snn_core::bounded::MAX_JSON_BYTES,
        "training log",
    )?;
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
            val_accuracy: r.val_accuracy,
        })
        .collect();
    snn_plot::training_curves(path, title, &points)
}

/// Draws `time_to_accuracy.png`: validation and test accuracy (%) against the cumulative wall
/// time of the run in hours (training and evaluation, as `seconds` in the log records), so
/// runs of different speeds compare on the time they took.
pub fn draw_time_to_accuracy(
    path: &Path,
    title: &str,
    records: &[EpochRecord],
) -> Result<(), snn_plot::PlotError> {
    let mut hours = 0.0;
    let mut test = Vec::new();
    let mut val = Vec::new();
    for r in records {
        hours += r.seconds / 3600.0;
        test.push((hours, 100.0 * r.test_accuracy));
        if let Some(v) = r.val_accuracy {
            val.push((hours, 100.0 * v));
        }
    }
    let mut series = vec![snn_plot::Series::new("test", test)];
    if !val.is_empty() {
        series.push(snn_plot::Series::new("validation", val));
    }
    snn_plot::line_chart(
        path,
        &format!("{title}: accuracy against time"),
        "wall time (hours, training and evaluation)",
        "accuracy (%)",
        &series,
    )
}

/// Redraws both charts of a run from its records (`snn-train plot`, and after every epoch).
pub fn draw_charts(
    dir: &Path,
    title: &str,
    records: &[EpochRecord],
) -> Result<(), snn_plot::PlotError> {
    draw_curves(&dir.join("training.png"), title, records)?;
    draw_time_to_accuracy(&dir.join("time_to_accuracy.png"), title, records)
}
