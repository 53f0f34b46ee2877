//! Side-by-side comparison of finished or running training runs (`snn-train compare`): one row
//! per run with its settings and the accuracies of its selection rule, and two charts of
//! accuracy (validation where held out, else test) against epochs and against wall hours. The
//! ablation reports are made of these.

use crate::log::{first_best, read_log, EpochRecord};
use crate::TrainError;
use serde::Serialize;
use snn_core::atomic::write_json;
use std::path::{Path, PathBuf};

/// One run in a comparison.
#[derive(Clone, Debug, Serialize)]
pub struct RunRow {
    /// Label: the run directory's name.
    pub run: String,
    /// Gradient mode, T, batch size, seed (from `summary.json`, if present).
    pub grad: String,
    /// Time steps.
    pub timesteps: u64,
    /// Epochs completed.
    pub epochs: usize,
    /// The selection rule ("validation" or "test").
    pub selection: String,
    /// The selected epoch (best validation, else best test; first of ties).
    pub best_epoch: u32,
    /// Validation accuracy at the selected epoch.
    pub val_accuracy: Option<f64>,
    /// Test accuracy at the selected epoch (the headline number).
    pub test_accuracy_at_best_val: f64,
    /// Best test accuracy of any epoch (how the paper selected).
    pub best_test_accuracy: f64,
    /// Wall hours of all epochs (training and evaluation).
    pub hours: f64,
    /// Training samples per second over the run.
    pub train_samples_per_second: f64,
    /// Training images per epoch.
    pub train_samples: u64,
    /// Test images.
    pub test_samples: u64,
}

/// Reads `dirs` (each with `log.jsonl`, optionally `summary.json`) and writes
/// `compare.json`, `compare.md`, `accuracy_by_epoch.png` and `accuracy_by_hours.png` to `out`.
/// `title` heads the charts and the Markdown. Returns the rows.
pub fn compare(dirs: &[PathBuf], out: &Path, title: &str) -> Result<Vec<RunRow>, TrainError> {
    std::fs::create_dir_all(out).map_err(TrainError::io(out))?;
    let mut rows = Vec::new();
    let mut by_epoch = Vec::new();
    let mut by_hours = Vec::new();
    for dir in dirs {
        let log = dir.join("log.jsonl");
        let records = read_log(&log).map_err(TrainError::io(&log))?;
        if records.is_empty() {
            return Err(TrainError::Config(format!(
                "{}: no epochs logged",
                log.display()
            )));
        }
        let row = row_of(dir, &records);
        let acc = |r: &EpochRecord| 100.0 * r.selection_accuracy();
        by_epoch.push(snn_plot::Series::new(
            row.run.clone(),
            records.iter().map(|r| (r.epoch as f64, acc(r))).collect(),
        ));
        let mut hours = 0.0;
        by_hours.push(snn_plot::Series::new(
            row.run.clone(),
            records
                .iter()
                .map(|r| {
                    hours += r.seconds / 3600.0;
                    (hours, acc(r))
                })
                .collect(),
        ));
        rows.push(row);
    }
    let which = if rows.iter().all(|r| r.selection == "validation") {
        "validation accuracy (%)"
    } else {
        "validation (else test) accuracy (%)"
    };
    snn_plot::line_chart(
        &out.join("accuracy_by_epoch.png"),
        title,
        "epoch",
        which,
        &by_epoch,
    )?;
    snn_plot::line_chart(
        &out.join("accuracy_by_hours.png"),
        &format!("{title}: against time"),
        "wall time (hours, training and evaluation)",
        which,
        &by_hours,
    )?;
    let json_path = out.join("compare.json");
    write_json(&json_path, &rows).map_err(TrainError::io(&json_path))?;
    let md_path = out.join("compare.md");
    snn_core::atomic::write_atomic(&md_path, markdown(title, &rows).as_bytes())
        .map_err(TrainError::io(&md_path))?;
    Ok(rows)
}

fn row_of(dir: &Path, records: &[EpochRecord]) -> RunRow {
    let summary: serde_json::Value = std::fs::read(dir.join("summary.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let text = |k: &str| summary[k].as_str().unwrap_or("?").to_string();
    let number = |k: &str| summary[k].as_u64().unwrap_or(0);
    let selected = first_best(records, EpochRecord::selection_accuracy).expect("records");
    let best_test = first_best(records, |r| r.test_accuracy).expect("records");
    let seconds: f64 = records.iter().map(|r| r.seconds).sum();
    let train_samples = number("train_samples");
    let train_seconds: f64 = records
        .iter()
        .map(|r| train_samples as f64 / r.train_samples_per_second.max(1e-9))
        .sum();
    RunRow {
        run: dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into()),
        grad: text("grad"),
        timesteps: number("timesteps"),
        epochs: records.len(),
        selection: if selected.val_accuracy.is_some() {
            "validation".into()
        } else {
            "test".into()
        },
        best_epoch: selected.epoch,
        val_accuracy: selected.val_accuracy,
        test_accuracy_at_best_val: selected.test_accuracy,
        best_test_accuracy: best_test.test_accuracy,
        hours: seconds / 3600.0,
        train_samples_per_second: if train_seconds > 0.0 {
            train_samples as f64 * records.len() as f64 / train_seconds
        } else {
            0.0
        },
        train_samples,
        test_samples: number("test_samples"),
    }
}

fn markdown(title: &str, rows: &[RunRow]) -> String {
    let pct = |v: f64| format!("{:.2} %", 100.0 * v);
    let mut md = format!(
        "# {title}\n\n| run | grad | T | epochs | selected epoch (rule) | validation | test at selected | best test (any epoch) | hours | train samples/s | train / test images |\n|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|\n"
    );
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} ({}) | {} | {} | {} | {:.2} | {:.1} | {} / {} |\n",
            r.run,
            r.grad,
            r.timesteps,
            r.epochs,
            r.best_epoch,
            r.selection,
            r.val_accuracy.map_or("—".into(), pct),
            pct(r.test_accuracy_at_best_val),
            pct(r.best_test_accuracy),
            r.hours,
            r.train_samples_per_second,
            r.train_samples,
            r.test_samples
        ));
    }
    md.push_str(
        "\nCharts: `accuracy_by_epoch.png`, `accuracy_by_hours.png` (validation accuracy, or test where a run holds out no validation set).\n",
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::write_log;

    fn record(epoch: u32, test: f64, val: Option<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            lr: 0.01,
            loss: 0.5,
            train_accuracy: 0.5,
            test_accuracy: test,
            test_loss: 0.5,
            val_accuracy: val,
            val_loss: val.map(|_| 0.5),
            spike_rate: Default::default(),
            seconds: 1800.0,
            train_samples_per_second: 100.0,
        }
    }

    #[test]
    fn rows_select_on_validation_else_test_and_the_files_are_written() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("with-val"), tmp.path().join("test-only"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).unwrap();
        }
        // Validation peaks at epoch 2 (tie with 3 keeps the first), test at epoch 3.
        write_log(
            &a.join("log.jsonl"),
            &[
                record(1, 0.50, Some(0.40)),
                record(2, 0.60, Some(0.70)),
                record(3, 0.65, Some(0.70)),
            ],
        )
        .unwrap();
        write_log(
            &b.join("log.jsonl"),
            &[record(1, 0.3, None), record(2, 0.2, None)],
        )
        .unwrap();
        std::fs::write(
            a.join("summary.json"),
            r#"{"grad":"aggregate","timesteps":25,"train_samples":4500,"test_samples":1000}"#,
        )
        .unwrap();
        let out = tmp.path().join("cmp");
        let rows = compare(&[a, b], &out, "t").unwrap();
        assert_eq!(rows[0].best_epoch, 2);
        assert_eq!(rows[0].selection, "validation");
        assert_eq!(rows[0].test_accuracy_at_best_val, 0.60);
        assert_eq!(rows[0].best_test_accuracy, 0.65);
        assert_eq!(
            (rows[0].grad.as_str(), rows[0].timesteps),
            ("aggregate", 25)
        );
        assert!((rows[0].hours - 1.5).abs() < 1e-12);
        assert!((rows[0].train_samples_per_second - 100.0).abs() < 1e-9);
        assert_eq!(
            (rows[1].selection.as_str(), rows[1].best_epoch),
            ("test", 1)
        );
        assert_eq!(rows[1].grad, "?", "no summary: unknown, not invented");
        for f in [
            "compare.json",
            "compare.md",
            "accuracy_by_epoch.png",
            "accuracy_by_hours.png",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
        assert!(
            md.contains(
                "| with-val | aggregate | 25 | 3 | 2 (validation) | 70.00 % | 60.00 % | 65.00 % |"
            ),
            "{md}"
        );
    }
}
