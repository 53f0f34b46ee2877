//! Per-layer numbers of the deep-network benchmark: spike density, synaptic operations per
//! sample and per second at the measured inference rate, the dense MACs a PyTorch peer spends on
//! the same layer over T steps, and this CPU's measured ceiling for event-driven accumulation.

use super::super::Subject;
use serde::Serialize;
use snn::core::runtime::PreparedWeights;
use snn::data::dataset::Dataset;
use snn::data::encode::RateEncoder;
use snn::train::eval::{evaluate, layer_reports};
use snn::train::forward::Runner;
use snn::train::grad::{backward_sample, BackwardScratch, Grads};
use snn::train::params::TransposedWeights;
use snn::train::trace::Trace;
use snn::train::GradMode;
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
    /// Milliseconds per sample, one thread, of this layer's forward step (a LIF layer fused
    /// with the pooling layer after it counts both), in the training forward.
    pub forward_ms: f64,
    /// Milliseconds per sample, one thread, of this layer's backward work, code mode.
    pub backward_code_ms: f64,
    /// The same, aggregate mode.
    pub backward_aggregate_ms: f64,
}

/// Rows for `s` from an evaluation of `samples` test images; `infer_rate` (samples/s) turns
/// per-sample counts into rates.
pub fn layer_rows(
    s: &Subject,
    timesteps: usize,
    samples: usize,
    train: &Dataset,
    test: &Dataset,
    pool: &rayon::ThreadPool,
    infer_rate: f64,
) -> Vec<LayerRow> {
    let encoder = RateEncoder::new(7, s.spec.input_scale);
    let ev = pool.install(|| evaluate(&s.net, &s.weights, test, &encoder, timesteps, samples));
    let reports = layer_reports(&s.net, &ev, timesteps);
    let (forward, code) = layer_times(s, timesteps, train, GradMode::Code);
    let (_, aggregate) = layer_times(s, timesteps, train, GradMode::Aggregate);
    let n = ev.samples.max(1) as f64;
    let total: f64 = reports.iter().map(|r| r.synaptic_ops as f64).sum();
    reports
        .iter()
        .enumerate()
        .map(|(l, r)| {
            let synops = r.synaptic_ops as f64 / n;
            LayerRow {
                name: r.name.clone(),
                neurons: r.neurons,
                spike_rate: r.spike_rate,
                synops_per_sample: synops,
                dense_macs_per_sample: r.ann_macs as f64 / n * timesteps as f64,
                synops_share: synops * n / total.max(1.0),
                synops_per_s: synops * infer_rate,
                forward_ms: forward[l],
                backward_code_ms: code[l],
                backward_aggregate_ms: aggregate[l],
            }
        })
        .collect()
}

/// Training samples timed per layer (single thread).
const TIMED_SAMPLES: usize = 8;

/// Per layer, milliseconds per sample of the training forward and of the backward in `mode`,
/// on one thread over the first [`TIMED_SAMPLES`] training images (after one untimed sample).
fn layer_times(
    s: &Subject,
    timesteps: usize,
    train: &Dataset,
    mode: GradMode,
) -> (Vec<f64>, Vec<f64>) {
    let net = &s.net;
    let encoder = RateEncoder::new(7, s.spec.input_scale);
    let prepared = PreparedWeights::new(net, &s.weights);
    let mut wt = TransposedWeights::default();
    wt.update(&net.plan, &s.weights);
    let mut runner = Runner::new(net);
    let mut trace = Trace::default();
    let mut grads = Grads::zeros(net);
    let mut scratch = BackwardScratch::default();
    for i in 0..=TIMED_SAMPLES {
        if i == 1 {
            runner.state.time_layers();
            scratch.layer_nanos = Some(vec![0; net.layers()]);
        }
        let image = encoder.prepare(train.image(i));
        runner.run(
            net,
            &prepared,
            &encoder,
            &image,
            i as u64,
            timesteps,
            None,
            Some(&mut trace),
            None,
        );
        backward_sample(
            net,
            &wt,
            &trace,
            train.labels[i] as usize,
            mode,
            &mut grads,
            &mut scratch,
        );
    }
    let ms = |v: Option<Vec<u64>>| -> Vec<f64> {
        v.unwrap_or_default()
            .iter()
            .map(|&n| n as f64 / 1e6 / TIMED_SAMPLES as f64)
            .collect()
    };
    (
        ms(runner.state.layer_nanos.take()),
        ms(scratch.layer_nanos.take()),
    )
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
    let sum = |f: fn(&LayerRow) -> f64| rows.iter().map(f).sum::<f64>();
    let (fwd, code, agg) = (
        sum(|r| r.forward_ms),
        sum(|r| r.backward_code_ms),
        sum(|r| r.backward_aggregate_ms),
    );
    let mut md = format!(
        "\nPer layer. Spike rate and synaptic operations from inference on the first test images; times from one thread over {TIMED_SAMPLES} training samples (forward with the spike record, then each backward): forward {fwd:.2} ms, backward {code:.2} ms in code mode ({:.2}× the forward) and {agg:.2} ms in aggregate mode ({:.2}×) per sample. Synaptic operations per sample {:.3e} against {:.3e} dense MACs over the same T ({:.1}× fewer). Inference ran at {:.2e} synaptic ops/s; for scale, one core of this CPU adds {:.2e} floats/s into a row in L1 (`y[i] += x[i]`, 16 lanes: a scatter's inner work, measured now), {:.2e} for {threads} threads ({:.0} %; the gathered conv layers accumulate in registers and can exceed it). The per-layer column forward G synops/s (one thread) against that per-core figure shows each layer's headroom.\n\n| layer | neurons | spike rate | synops/sample | share of synops | dense MACs/sample | forward ms | forward G synops/s | backward code ms | backward aggregate ms |\n|---|---|---|---|---|---|---|---|---|---|\n",
        code / fwd,
        agg / fwd,
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
            "| {} | {} | {:.4} | {:.3e} | {:.1} % | {:.3e} | {:.2} | {} | {:.2} | {:.2} |\n",
            r.name,
            r.neurons,
            r.spike_rate,
            r.synops_per_sample,
            100.0 * r.synops_share,
            r.dense_macs_per_sample,
            r.forward_ms,
            match r.forward_ms > 0.0 && r.synops_per_sample > 0.0 {
                true => format!("{:.1}", r.synops_per_sample / (r.forward_ms * 1e6)),
                false => "".into(),
            },
            r.backward_code_ms,
            r.backward_aggregate_ms,
        ));
    }
    md
}
