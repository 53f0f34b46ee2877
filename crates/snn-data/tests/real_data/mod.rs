//! Locating the real data sets for tests, fetching them first when they are missing.
//!
//! The directory is `SNN_DATA_DIR` when set, else the workspace's `data/` (tests run with the
//! crate directory as cwd, so `resolve_data_dir`'s relative default would point elsewhere).
//! A missing data set is fetched; if that fails the test fails with the fetch error, so these
//! tests never pass silently without data. Each test binary uses only part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Mutex;

use snn_data::dataset::{resolve_data_dir, DatasetKind, DATA_DIR_ENV};
use snn_data::fetch::fetch;

/// The data directory holding `kind`, fetched and verified (once per test binary and kind).
pub fn data_dir_with(kind: DatasetKind) -> PathBuf {
    static FETCHED: Mutex<Vec<DatasetKind>> = Mutex::new(Vec::new());
    let dir = match std::env::var_os(DATA_DIR_ENV) {
        Some(d) if !d.is_empty() => resolve_data_dir(None),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data"),
    };
    // Held across the fetch so that parallel tests do not download the same files twice.
    let mut fetched = FETCHED.lock().unwrap_or_else(|e| e.into_inner());
    if !fetched.contains(&kind) {
        let started = std::time::Instant::now();
        match fetch(kind, &dir) {
            Ok(report) if !report.already_present => eprintln!(
                "fetched {kind} into {} in {:.1?}",
                report.dir.display(),
                started.elapsed()
            ),
            Ok(_) => {}
            Err(e) => panic!(
                "{kind} is not in {} and fetching it failed: {e}",
                dir.display()
            ),
        }
        fetched.push(kind);
    }
    dir
}

/// Images per class (labels 0..9).
pub fn class_counts(labels: &[u8]) -> Vec<usize> {
    let mut counts = vec![0; 10];
    for &l in labels {
        counts[usize::from(l)] += 1;
    }
    counts
}

/// Mean and standard deviation of all pixels.
pub fn pixel_mean_std(images: &[f32]) -> (f64, f64) {
    let n = images.len() as f64;
    let mean = images.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = images
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}
