//! One chart of each kind with realistic data, for looking at before and after a change:
//! `cargo run -p snn-plot --example gallery -- DIR` (default DIR: /tmp/snn-plot-gallery).
//! `examples/samples.rs` draws the edge cases (NaN, empty, crowded, huge grids).

use std::path::PathBuf;

use snn_plot::{
    bar_chart, grouped_bar_chart, heat_map, line_chart, link_map, stacked_bar_chart,
    training_curves, EpochPoint, LinkValue, PlotError, Series,
};

fn main() -> Result<(), PlotError> {
    let arg = std::env::args().nth(1);
    let dir = PathBuf::from(arg.unwrap_or_else(|| "/tmp/snn-plot-gallery".to_string()));
    std::fs::create_dir_all(&dir).map_err(|source| PlotError::Write {
        path: dir.clone(),
        source,
    })?;

    // 26 epochs of a convolutional SNN on MNIST with a validation hold-out.
    let epochs: Vec<EpochPoint> = (1..=26)
        .map(|e| {
            let t = e as f64;
            let wiggle = 0.0015 * (t * 1.7).sin();
            EpochPoint {
                epoch: t,
                loss: 0.08 + 0.7 * (-t / 4.0).exp(),
                train_accuracy: 0.995 - 0.09 * (-t / 4.0).exp(),
                test_accuracy: 0.991 - 0.07 * (-t / 4.0).exp() + wiggle,
                val_accuracy: Some(0.990 - 0.07 * (-t / 4.0).exp() - wiggle),
            }
        })
        .collect();
    training_curves(&dir.join("training.png"), "CSNN on MNIST (T = 8)", &epochs)?;

    let layers: Vec<String> = [
        "conv1", "lif1", "pool1", "conv2", "lif2", "pool2", "fc1", "lif3", "fc2",
    ]
    .map(String::from)
    .to_vec();
    let rates = [0.21, 0.14, 0.09, 0.062, 0.041, 0.03, 0.012, 0.0045, 0.0009];
    let (x, y) = ("layer", "spikes per neuron per time step");
    bar_chart(
        &dir.join("rates.png"),
        "Spike rate per layer",
        x,
        y,
        &layers,
        &rates,
        false,
    )?;
    bar_chart(
        &dir.join("rates_log.png"),
        "Spike rate (log)",
        x,
        y,
        &layers,
        &rates,
        true,
    )?;

    let acs = vec![3.1e6, 0.0, 2.4e5, 8.8e6, 0.0, 6.1e4, 2.2e5, 0.0, 1.9e3];
    let macs = vec![1.2e7, 0.0, 8.0e5, 5.1e7, 0.0, 3.2e5, 1.6e6, 0.0, 8.4e4];
    let ops = vec![
        ("SNN accumulates (AC)".to_string(), acs),
        ("ANN multiply-accumulates (MAC)".to_string(), macs),
    ];
    grouped_bar_chart(
        &dir.join("ops.png"),
        "Synaptic operations per inference",
        x,
        "operations",
        &layers,
        &ops,
        true,
    )?;

    let part = |scale: f64| {
        (0..9)
            .map(|i| scale * (1.0 + (i as f64 * 1.3).sin().abs()))
            .collect()
    };
    let energy = vec![
        ("synaptic".to_string(), part(30.0)),
        ("neuron".to_string(), part(8.0)),
        ("routing".to_string(), part(5.0)),
        ("static".to_string(), vec![12.0; 9]),
    ];
    stacked_bar_chart(
        &dir.join("energy.png"),
        "Energy per layer per inference",
        x,
        "energy (nJ)",
        &layers,
        &energy,
    )?;

    // 37 rows × 40 columns of cores; two chips of 20 columns; the last cores unused.
    let cells: Vec<Vec<Option<f64>>> = (0..37)
        .map(|r| {
            (0..40)
                .map(|c| {
                    let (rf, cf) = (r as f64, c as f64);
                    let u = 0.5 + 0.45 * ((rf * 0.3).sin() * (cf * 0.2).cos());
                    (r * 40 + c < 1400).then_some(u)
                })
                .collect()
        })
        .collect();
    heat_map(
        &dir.join("heat.png"),
        "Core utilization (1400 of 1480 cores used)",
        "core x",
        "core y",
        "fraction of neurons used",
        &cells,
        20,
    )?;

    // Two joined 8 x 4 chips: traffic from the left chip's corner across to the right one.
    let mut links = Vec::new();
    for y in 0..4u32 {
        for x in 0..16u32 {
            let load = |a: u32, b: u32| 40.0 / (1.0 + f64::from(a.abs_diff(3) + b.abs_diff(1)));
            if x + 1 < 16 {
                let v = load(x, y);
                links.push(LinkValue {
                    from: (x, y),
                    to: (x + 1, y),
                    value: v,
                });
                links.push(LinkValue {
                    from: (x + 1, y),
                    to: (x, y),
                    value: v / 4.0,
                });
            }
            if y + 1 < 4 && x % 3 == 0 {
                let v = load(x, y) / 2.0;
                links.push(LinkValue {
                    from: (x, y),
                    to: (x, y + 1),
                    value: v,
                });
            }
        }
    }
    let used: Vec<(u32, u32)> = (0..14).map(|x| (x, x % 4)).collect();
    link_map(
        &dir.join("links.png"),
        "Packets per mesh link per step (two joined chips)",
        "packets per chip step",
        (16, 4),
        &used,
        &links,
        8,
    )?;

    let trace = |f: fn(f64) -> f64| (0..300).map(|t| (t as f64, f(t as f64))).collect();
    let mut gappy: Vec<(f64, f64)> = trace(|t| 0.5 * (t / 9.0).cos() - 0.2);
    gappy[120..140].iter_mut().for_each(|p| p.1 = f64::NAN);
    let series = [
        Series::new(
            "neuron 17",
            trace(|t| (t / 23.0).sin() * 0.6 + 0.3 * (t / 5.0).cos()),
        ),
        Series::new("neuron 42 (NaN at 120-139)", gappy),
        Series::new("threshold", vec![(0.0, 1.0), (299.0, 1.0)]),
    ];
    line_chart(
        &dir.join("line.png"),
        "Membrane potential",
        "time step",
        "V / threshold",
        &series,
    )?;
    println!("charts written to {}", dir.display());
    Ok(())
}
