//! What every tool reports per layer of a run: spikes, spike rate, synaptic operations and the
//! equivalent ANN's MACs. `snn-train eval` writes it as it is; `snn-sim` adds the chip's
//! counters and energies beside it.

use crate::plan::LayerPlan;
use serde::Serialize;

/// One layer's activity over a run of `samples` samples of `timesteps` steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerReport {
    /// Layer name.
    pub name: String,
    /// Neurons in the layer.
    pub neurons: usize,
    /// Spikes emitted by the layer over all samples and steps (0 for the readout).
    pub spikes: u64,
    /// Spikes per neuron per step (the spike rate).
    pub spike_rate: f64,
    /// Synaptic operations (effective accumulates) into the layer over all samples.
    pub synaptic_ops: u64,
    /// Dense MACs of the equivalent ANN layer over all samples (per-step MACs × samples; an ANN
    /// runs once per sample).
    pub ann_macs: u64,
}

impl LayerReport {
    /// The report of `layer` from its spike and synaptic-operation counts.
    pub fn new(
        layer: &LayerPlan,
        spikes: u64,
        synaptic_ops: u64,
        samples: usize,
        timesteps: usize,
    ) -> Self {
        let neurons = layer.output.len();
        LayerReport {
            name: layer.name.clone(),
            neurons,
            spikes,
            spike_rate: spikes as f64 / (neurons * timesteps * samples.max(1)) as f64,
            synaptic_ops,
            ann_macs: layer.dense_macs() * samples as u64,
        }
    }
}
