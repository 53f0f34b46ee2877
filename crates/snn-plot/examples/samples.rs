//! Writes one of each chart, with realistic data, for looking at.
//!
//! `cargo run -p snn-plot --release --example samples [DIR]` (default DIR: /tmp/snn-plot-samples).

use std::path::PathBuf;

use snn_plot::{
    bar_chart, grouped_bar_chart, heat_map, line_chart, stacked_bar_chart, training_curves,
    EpochPoint, PlotError, Series,
};

fn main() -> Result<(), PlotError> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/snn-plot-samples".to_string()),
    );
    std::fs::create_dir_all(&dir).map_err(|source| PlotError::Write {
        path: dir.clone(),
        source,
    })?;

    // Ten epochs of a LeNet-like SNN on MNIST: loss 0.9 -> 0.05, accuracy 90 -> 99.3 %.
    let loss = [0.9, 0.42, 0.27, 0.19, 0.14, 0.11, 0.085, 0.07, 0.058, 0.05];
    let train = [
        0.902, 0.951, 0.967, 0.975, 0.981, 0.985, 0.988, 0.991, 0.993, 0.995,
    ];
    let test = [
        0.915, 0.958, 0.970, 0.977, 0.982, 0.985, 0.9912, 0.9905, 0.990, 0.9908,
    ];
    let epochs: Vec<EpochPoint> = (0..10)
        .map(|i| EpochPoint {
            epoch: (i + 1) as f64,
            loss: loss[i],
            train_accuracy: train[i],
            test_accuracy: test[i],
            val_accuracy: None,
        })
        .collect();
    training_curves(
        &dir.join("training_curves.png"),
        "LeNet-5 SNN on MNIST (T = 8 steps)",
        &epochs,
    )?;
    training_curves(
        &dir.join("training_curves_one_epoch.png"),
        "after one epoch",
        &epochs[..1],
    )?;
    let long: Vec<EpochPoint> = (1..=120)
        .map(|e| {
            let t = e as f64;
            EpochPoint {
                epoch: t,
                loss: 0.9 * (-t / 15.0).exp() + 0.03,
                train_accuracy: 0.6 + 0.395 * (1.0 - (-t / 12.0).exp()),
                test_accuracy: 0.6 + 0.385 * (1.0 - (-t / 12.0).exp()) - 0.002 * (t / 7.0).sin(),
                val_accuracy: None,
            }
        })
        .collect();
    training_curves(
        &dir.join("training_curves_120_epochs.png"),
        "120 epochs",
        &long,
    )?;

    let layers: Vec<String> = ["conv1", "pool1", "conv2", "pool2", "fc1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rates = [0.15, 0.09, 0.06, 0.035, 0.02];
    bar_chart(
        &dir.join("spike_rates.png"),
        "Spike rate per layer",
        "layer",
        "spikes per neuron per time step",
        &layers,
        &rates,
        false,
    )?;
    bar_chart(
        &dir.join("spike_rates_log.png"),
        "Spike rate per layer (log scale)",
        "layer",
        "spikes per neuron per time step",
        &layers,
        &rates,
        true,
    )?;
    let ops = vec![
        (
            "SNN accumulates (AC)".to_string(),
            vec![1.8e6, 2.1e5, 3.9e6, 1.1e5, 2.4e4],
        ),
        (
            "ANN multiply-accumulates (MAC)".to_string(),
            vec![2.9e6, 1.2e6, 2.4e7, 3.2e5, 4.8e4],
        ),
    ];
    grouped_bar_chart(
        &dir.join("ops_per_layer.png"),
        "Synaptic operations per inference",
        "layer",
        "operations",
        &layers,
        &ops,
        true,
    )?;
    let long_names: Vec<String> = (1..=12)
        .map(|i| format!("layer {i} (conv 5x5, 32 channels)"))
        .collect();
    let many: Vec<f64> = (1..=12).map(|i| 0.01 * i as f64).collect();
    bar_chart(
        &dir.join("long_category_names.png"),
        "Twelve layers with long names",
        "layer",
        "spike rate",
        &long_names,
        &many,
        false,
    )?;

    let membrane: Vec<(f64, f64)> = (0..200)
        .map(|t| {
            let t = t as f64;
            (t, (t / 17.0).sin() * 0.6 + 0.4 * (t / 5.0).cos())
        })
        .collect();
    let mut with_gap: Vec<(f64, f64)> = membrane.iter().map(|(t, v)| (*t, v * 0.5 - 0.3)).collect();
    for p in &mut with_gap[80..95] {
        p.1 = f64::NAN;
    }
    line_chart(
        &dir.join("line_chart.png"),
        "Membrane potential of two neurons",
        "time step",
        "membrane potential (V / threshold)",
        &[
            Series::new("neuron 17", membrane),
            Series::new("neuron 42 (NaN gap at 80-94)", with_gap),
            Series::new("threshold", vec![(0.0, 1.0), (199.0, 1.0)]),
        ],
    )?;
    line_chart(
        &dir.join("line_chart_no_data.png"),
        "Nothing to draw",
        "x",
        "y",
        &[Series::new("all NaN", vec![(f64::NAN, 1.0)])],
    )?;

    // Edge cases: values a log axis cannot show, a diverged run, nothing trained yet.
    bar_chart(
        &dir.join("bars_log_odd_values.png"),
        "Log scale with zero, negative and NaN values",
        "layer",
        "spike rate",
        &layers,
        &[0.0, -1.0, f64::NAN, 0.05, 0.12],
        true,
    )?;
    let mut diverged = epochs.clone();
    diverged[6].loss = f64::NAN;
    diverged[6].train_accuracy = f64::NAN;
    diverged[6].test_accuracy = f64::NAN;
    training_curves(
        &dir.join("training_curves_nan_epoch.png"),
        "epoch 7 diverged (NaN)",
        &diverged,
    )?;
    training_curves(&dir.join("training_curves_empty.png"), "no epochs yet", &[])?;
    heat_maps(&dir)?;
    stacked_bars(&dir, &layers)?;
    println!("charts written to {}", dir.display());
    Ok(())
}

/// A smooth made-up utilization in 0..1 for tile (`row`, `col`).
fn utilization(row: usize, col: usize) -> f64 {
    let (r, c) = (row as f64, col as f64);
    (0.5 + 0.45 * ((r * 0.7 + 0.4).sin() * (c * 0.45).cos())).clamp(0.0, 1.0)
}

fn heat_maps(dir: &std::path::Path) -> Result<(), PlotError> {
    // One Loihi-like chip of 8 × 4 cores, some unused.
    let small: Vec<Vec<Option<f64>>> = (0..4)
        .map(|r| {
            (0..8)
                .map(|c| (r * 8 + c < 27).then(|| utilization(r, c)))
                .collect()
        })
        .collect();
    heat_map(
        &dir.join("heat_8x4.png"),
        "Core utilization (one chip, 27 of 32 cores used)",
        "core column",
        "core row",
        "fraction of neurons used",
        &small,
        0,
    )?;
    // Three chips joined side by side: 24 × 4, boundaries every 8 columns; NoC traffic.
    let joined: Vec<Vec<Option<f64>>> = (0..4)
        .map(|r| {
            (0..24)
                .map(|c| (c < 20 || r < 2).then(|| 1.2e5 * utilization(r, c) + 800.0 * c as f64))
                .collect()
        })
        .collect();
    heat_map(
        &dir.join("heat_24x4_three_chips.png"),
        "Spikes routed per tile (three chips joined)",
        "tile column",
        "tile row",
        "spikes per inference",
        &joined,
        8,
    )?;
    // A TrueNorth-sized mesh: 64 × 64 cores, the last rows empty.
    let mesh: Vec<Vec<Option<f64>>> = (0..64)
        .map(|r| {
            (0..64)
                .map(|c| (r < 56 || c < 20).then(|| utilization(r, c)))
                .collect()
        })
        .collect();
    heat_map(
        &dir.join("heat_64x64.png"),
        "Core utilization on a 64 × 64 mesh",
        "core x",
        "core y",
        "fraction of axons used",
        &mesh,
        0,
    )?;
    heat_map(
        &dir.join("heat_all_empty.png"),
        "Nothing placed yet",
        "core x",
        "core y",
        "utilization",
        &vec![vec![None; 6]; 3],
        0,
    )?;
    heat_map(
        &dir.join("heat_no_cells.png"),
        "No cores",
        "core x",
        "core y",
        "utilization",
        &[],
        0,
    )
}

fn stacked_bars(dir: &std::path::Path, layers: &[String]) -> Result<(), PlotError> {
    let mut six = layers.to_vec();
    six.push("fc2".to_string());
    let series = vec![
        (
            "synaptic".to_string(),
            vec![41.0, 3.2, 88.5, 2.1, 12.4, 1.3],
        ),
        ("neuron".to_string(), vec![12.0, 6.1, 9.8, 3.0, 1.9, 0.4]),
        ("routing".to_string(), vec![8.3, 1.1, 15.2, 0.8, 4.4, 0.6]),
        (
            "static".to_string(),
            vec![20.0, 20.0, 20.0, 20.0, 20.0, 20.0],
        ),
    ];
    stacked_bar_chart(
        &dir.join("stacked_energy.png"),
        "Energy per layer per inference",
        "layer",
        "energy (nJ)",
        &six,
        &series,
    )?;
    let many: Vec<String> = (1..=40).map(|i| format!("L{i}")).collect();
    let wide = vec![
        (
            "a".to_string(),
            (0..40).map(|i| 1e6 + 3e4 * i as f64).collect(),
        ),
        (
            "b".to_string(),
            (0..40).map(|i| 5e5 * (i % 3) as f64).collect(),
        ),
    ];
    stacked_bar_chart(
        &dir.join("stacked_40_categories.png"),
        "Forty layers (totals do not fit)",
        "layer",
        "energy (pJ)",
        &many,
        &wide,
    )
}
