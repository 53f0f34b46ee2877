//! Synaptic-operation counting (paper-method §8.1; NeuroBench "effective synaptic operations"):
//! a spike arriving at a layer costs one accumulate per synapse it actually reaches, so a conv
//! input at the image border reaches fewer taps than one in the middle. Pooling and identity
//! shortcuts carry no weights and count no synaptic operations.

use crate::plan::{LayerPlan, Synapses};
use crate::synapse::ConvGeometry;

/// Synapses reached by one spike of each input neuron; empty for synapses without weights
/// (pooling, identity shortcuts), which cost nothing ([`synops`] then skips their spikes).
pub fn fan_out_table(syn: &Synapses) -> Vec<u32> {
    match *syn {
        Synapses::Conv { .. } => {
            let geo = ConvGeometry::new(syn);
            (0..syn.input_len())
                .map(|i| geo.fan_out(i) as u32)
                .collect()
        }
        Synapses::Dense { inputs, outputs } => vec![outputs as u32; inputs],
        Synapses::AvgPool2 { .. } | Synapses::Subsample { .. } => Vec::new(),
    }
}

/// Per-layer fan-out tables ([`fan_out_table`]) for the main synapses and the shortcut of a
/// plan layer.
#[derive(Clone, Debug)]
pub struct LayerFanOut {
    /// Fan-out of each neuron feeding the main synapses (empty when they carry no weights).
    pub main: Vec<u32>,
    /// Fan-out of each neuron feeding the shortcut (empty without a weighted shortcut).
    pub shortcut: Vec<u32>,
}

impl LayerFanOut {
    /// Tables for one plan layer.
    pub fn new(layer: &LayerPlan) -> Self {
        LayerFanOut {
            main: fan_out_table(&layer.synapses),
            shortcut: layer
                .shortcut
                .map(|s| fan_out_table(&s.synapses))
                .unwrap_or_default(),
        }
    }
}

/// Synaptic operations caused by `spikes` (input indices) through a fan-out table; an empty
/// table (synapses without weights) costs nothing.
#[inline]
pub fn synops(table: &[u32], spikes: &[u32]) -> u64 {
    if table.is_empty() {
        return 0;
    }
    spikes.iter().map(|&s| table[s as usize] as u64).sum()
}
