//! `log.jsonl`: one JSON object per finished epoch of a run, rewritten atomically after each.

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
