//! Per-layer numbers of the deep-network benchmark: spike density, synaptic operations per
//! sample and per second at the measured inference rate, the dense MACs a PyTorch peer spends on
//! the same layer over T steps, and this CPU's measured ceiling for event-driven accumulation.

use super::super::Subject;
use serde::Serialize;
use snn::data::dataset::Dataset;
use snn::data::encode::RateEncoder;
use snn::train::eval::{evaluate, layer_reports};
use std::time::Instant;

/// One layer's row of the report.
#[derive(Clone, Debug, Serialize)]
pub struct LayerRow {
    /// Layer name.
    pub name: String,
    /// Neurons.
    pub neurons: usize,
    /// Spikes per neuron per step (the density of this layer's output).
    pub spike_rate: f64,
    /// Synaptic operations into the layer per sample (over T steps).
    pub synops_per_sample: f64,
    /// Dense MACs of the layer per sample over T steps (what a dense peer computes).
    pub dense_macs_per_sample: f64,
    /// Share of the network's synaptic operations.
    pub synops_share: f64,
    /// Synaptic operations per second into this layer at the measured inference rate.
    pub synops_per_s: f64,
}

/// Rows for `s` from an evaluation of `samples` test images; `infer_rate` (samples/s) turns
/// per-sample counts into rates.
pub fn layer_rows(
    s: &Subject,
    timesteps: usize,
    samples: usize,
    test: &Dataset,
    pool: &rayon::ThreadPool,
    infer_rate: f64,
) -> Vec<LayerRow> {
    let encoder = RateEncoder::new(7, s.spec.input_scale);
    let ev = pool.install(|| evaluate(&s.net, &s.weights, test, &encoder, timesteps, samples));
    let reports = layer_reports(&s.net, &ev, timesteps);
    let n = ev.samples.max(1) as f64;
    let total: f64 = reports.iter().map(|r| r.synaptic_ops as f64).sum();
    reports
        .iter()
        .map(|r| {
            let synops = r.synaptic_ops as f64 / n;
            LayerRow {
                name: r.name.clone(),
                neurons: r.neurons,
                spike_rate: r.spike_rate,
                synops_per_sample: synops,
                dense_macs_per_sample: r.ann_macs as f64 / n * timesteps as f64,
                synops_share: synops * n / total.max(1.0),
                synops_per_s: synops * infer_rate,
            }
        })
        .collect()
}

/// Accumulates per second of one core doing a synaptic operation's work at its best: `y[i] += x[i]`
/// over a 4 KiB row in L1 with the widest vectors this CPU has (one load, one add, one store
/// per 16 lanes with AVX-512). This is the ceiling of an event-driven accumulate here.
pub fn accumulate_ceiling() -> f64 {
    let x = vec![1.0e-7f32; 1024];
    let mut y = vec![0.0f32; 1024];
    let reps = 300_000;
    let start = Instant::now();
    for _ in 0..reps {
        add_row(&mut y, &x);
        std::hint::black_box(&mut y);
    }
    (reps * x.len()) as f64 / start.elapsed().as_secs_f64()
}

fn add_row(y: &mut [f32], x: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if snn::core::simd::has_avx512() {
        // SAFETY: AVX-512F is present; both slices have the same length, a multiple of 16.
        unsafe { add_row_avx512(y, x) };
        return;
    }
    y.iter_mut().zip(x).for_each(|(a, b)| *a += b);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn add_row_avx512(y: &mut [f32], x: &[f32]) {
    use std::arch::x86_64::*;
    assert!(y.len() == x.len() && y.len().is_multiple_of(16));
    for i in (0..y.len()).step_by(16) {
        let p = y.as_mut_ptr().add(i);
        _mm512_storeu_ps(
            p,
            _mm512_add_ps(_mm512_loadu_ps(p), _mm512_loadu_ps(x.as_ptr().add(i))),
        );
    }
}

/// The per-layer table as Markdown.
pub fn markdown(rows: &[LayerRow], threads: usize) -> String {
    let ceiling = accumulate_ceiling();
    let total: f64 = rows.iter().map(|r| r.synops_per_s).sum();
    let synops: f64 = rows.iter().map(|r| r.synops_per_sample).sum();
    let macs: f64 = rows.iter().map(|r| r.dense_macs_per_sample).sum();
    let mut md = format!(
        "\nPer layer at the measured inference rate (inference on the first test images). Synaptic operations per sample {:.3e} against {:.3e} dense MACs over the same T ({:.2}× fewer). Inference ran at {:.2e} synaptic ops/s; one core of this CPU does {:.2e} accumulates/s (`y += a·x` in L1, measured now), so {threads} threads would allow {:.2e}: inference uses {:.0} % of that ceiling.\n\n| layer | neurons | spike rate | synops/sample | share | dense MACs/sample |\n|---|---|---|---|---|---|\n",
        synops,
        macs,
        macs / synops.max(1.0),
        total,
        ceiling,
        ceiling * threads as f64,
        100.0 * total / (ceiling * threads as f64),
    );
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {:.4} | {:.3e} | {:.1} % | {:.3e} |\n",
            r.name,
            r.neurons,
            r.spike_rate,
            r.synops_per_sample,
            100.0 * r.synops_share,
            r.dense_macs_per_sample
        ));
    }
    md
}
