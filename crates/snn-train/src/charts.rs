//! A run's charts: `training.png` (loss and accuracy per epoch) and `time_to_accuracy.png`
//! (accuracy against wall hours), drawn from the epoch records after every epoch and by
//! `snn-train plot`.

use crate::log::EpochRecord;
use std::path::Path;

/// The chart title of a run: "vgg9 on cifar10 (code grad, T=25)".
pub fn run_title(arch: &str, dataset: &str, grad: &str, timesteps: u64) -> String {
    format!("{arch} on {dataset} ({grad} grad, T={timesteps})")
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
