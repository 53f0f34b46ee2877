//! Evaluation: accuracy, per-layer spike counts and synaptic operations on a test set. The
//! simulator is checked against these numbers, so counts are integers summed in a fixed order.

use crate::forward::{Runner, SpikeStats};
use rayon::prelude::*;
use snn_core::model_file::LayerWeights;
use snn_core::neuron::argmax;
use snn_core::profile::ActivityProfile;
pub use snn_core::report::LayerReport;
use snn_core::runtime::{CompiledNet, PreparedWeights};
use snn_data::dataset::Dataset;
use snn_data::encode::RateEncoder;

const EVAL_CHUNK: usize = 16;

/// Samples stepped in lockstep within a chunk ([`Runner::run_lockstep`]): each layer's weights
/// are then read once per step for all of them.
const LOCKSTEP: usize = 4;

/// Result of evaluating a model on a data set.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Samples evaluated.
    pub samples: usize,
    /// Correct predictions.
    pub correct: usize,
    /// Summed squared error over samples.
    pub loss_sum: f64,
    /// Predicted class per sample.
    pub predictions: Vec<u8>,
    /// Spike and synaptic-operation counters.
    pub stats: SpikeStats,
}

impl Evaluation {
    /// Fraction of correct predictions.
    pub fn accuracy(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.correct as f64 / self.samples as f64
        }
    }
}

/// Evaluates the first `samples` images of `data` with input spikes keyed by
/// (`encoder` seed, sample index, step). Runs on the current rayon pool.
pub fn evaluate(
    net: &CompiledNet,
    weights: &[LayerWeights],
    data: &Dataset,
    encoder: &RateEncoder,
    timesteps: usize,
    samples: usize,
) -> Evaluation {
    evaluate_counting(net, weights, data, encoder, timesteps, samples, None)
}

/// [`evaluate`], also counting every neuron's spikes into a profile of `net` labelled with
/// `network` (the spec's name) and `created_by` (the producer). The profile holds the evaluated
/// samples and `timesteps`; each layer's counts sum to the evaluation's `stats.layer_spikes`, and
/// do not depend on the thread count.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_with_profile(
    net: &CompiledNet,
    weights: &[LayerWeights],
    data: &Dataset,
    encoder: &RateEncoder,
    timesteps: usize,
    samples: usize,
    network: &str,
    created_by: &str,
) -> (Evaluation, ActivityProfile) {
    let mut empty = ActivityProfile::zeros(&net.plan, network, created_by);
    empty.timesteps = timesteps as u32;
    let mut ev = evaluate_counting(
        net,
        weights,
        data,
        encoder,
        timesteps,
        samples,
        Some(&empty),
    );
    let measured = ev.stats.profile.take().unwrap_or(empty);
    (ev, measured)
}

/// [`evaluate`] of the images `range` of `data` (a share of a data set evaluated in parts:
/// predictions are those of `range`, counts and loss sums of `range` alone).
pub fn evaluate_range(
    net: &CompiledNet,
    weights: &[LayerWeights],
    data: &Dataset,
    encoder: &RateEncoder,
    timesteps: usize,
    range: std::ops::Range<usize>,
) -> Evaluation {
    evaluate_indices(net, weights, data, encoder, timesteps, range, None)
}

/// The evaluation loop; counts per neuron when `profile` (an empty profile) is given.
fn evaluate_counting(
    net: &CompiledNet,
    weights: &[LayerWeights],
    data: &Dataset,
    encoder: &RateEncoder,
    timesteps: usize,
    samples: usize,
    profile: Option<&ActivityProfile>,
) -> Evaluation {
    let n = samples.min(data.len());
    evaluate_indices(net, weights, data, encoder, timesteps, 0..n, profile)
}

/// The evaluation loop over images `range`.
fn evaluate_indices(
    net: &CompiledNet,
    weights: &[LayerWeights],
    data: &Dataset,
    encoder: &RateEncoder,
    timesteps: usize,
    range: std::ops::Range<usize>,
    profile: Option<&ActivityProfile>,
) -> Evaluation {
    let range = range.start.min(data.len())..range.end.min(data.len());
    let n = range.len();
    let indices: Vec<usize> = range.collect();
    let prepared = PreparedWeights::new(net, weights);
    let parts: Vec<(SpikeStats, Vec<u8>, usize, f64)> = indices
        .par_chunks(EVAL_CHUNK)
        .map(|idx| {
            let mut runners: Vec<Runner> =
                (0..Runner::lockstep_runners(net, &prepared, LOCKSTEP.min(idx.len())))
                    .map(|_| Runner::new(net))
                    .collect();
            let mut stats = match profile {
                Some(p) => SpikeStats::with_profile(net.layers(), p.clone()),
                None => SpikeStats::new(net.layers()),
            };
            let mut preds = Vec::with_capacity(idx.len());
            let (mut correct, mut loss) = (0usize, 0.0f64);
            for group in idx.chunks(LOCKSTEP) {
                let images: Vec<_> = group
                    .iter()
                    .map(|&i| encoder.prepare(data.image(i)))
                    .collect();
                let samples: Vec<u64> = group.iter().map(|&i| i as u64).collect();
                let outs = Runner::run_lockstep(
                    &mut runners,
                    net,
                    &prepared,
                    encoder,
                    &images,
                    &samples,
                    timesteps,
                    &vec![None; group.len()],
                    None,
                    Some(&mut stats),
                );
                for (&i, o) in group.iter().zip(&outs) {
                    let p = argmax(o);
                    let label = data.labels[i] as usize;
                    correct += (p == label) as usize;
                    loss += o
                        .iter()
                        .enumerate()
                        .map(|(k, &v)| {
                            let e = v as f64 - if k == label { 1.0 } else { 0.0 };
                            e * e
                        })
                        .sum::<f64>();
                    preds.push(p as u8);
                }
            }
            (stats, preds, correct, loss)
        })
        .collect();
    let mut out = Evaluation {
        samples: n,
        correct: 0,
        loss_sum: 0.0,
        predictions: Vec::with_capacity(n),
        stats: match profile {
            Some(p) => SpikeStats::with_profile(net.layers(), p.clone()),
            None => SpikeStats::new(net.layers()),
        },
    };
    for (stats, preds, correct, loss) in parts {
        out.stats.add(&stats);
        out.predictions.extend(preds);
        out.correct += correct;
        out.loss_sum += loss;
    }
    out
}

/// Per-layer report of an evaluation.
pub fn layer_reports(net: &CompiledNet, ev: &Evaluation, timesteps: usize) -> Vec<LayerReport> {
    net.plan
        .layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let (spikes, synops) = (ev.stats.layer_spikes[l], ev.stats.layer_synops[l]);
            LayerReport::new(layer, spikes, synops, ev.samples, timesteps)
        })
        .collect()
}
