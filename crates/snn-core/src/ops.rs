//! Synaptic-operation counting (paper-method §8.1; NeuroBench "effective synaptic operations"):
//! a spike arriving at a layer costs one accumulate per synapse it actually reaches, so a conv
//! input at the image border reaches fewer taps than one in the middle. Pooling and identity
//! shortcuts carry no weights and count no synaptic operations.

use crate::plan::{LayerPlan, Synapses};
use crate::synapse::ConvGeometry;

/// Synapses reached by one spike of each input neuron (weighted synapses only).
pub fn fan_out_table(syn: &Synapses) -> Vec<u32> {
    match *syn {
        Synapses::Conv { .. } => {
            let geo = ConvGeometry::new(syn);
            (0..syn.input_len())
                .map(|i| geo.fan_out(i) as u32)
                .collect()
        }
        Synapses::Dense { inputs, outputs } => vec![outputs as u32; inputs],
        Synapses::AvgPool2 { .. } | Synapses::Subsample { .. } => vec![0; syn.input_len()],
    }
}

/// Per-layer fan-out tables for the main synapses and the shortcut of a plan layer. Synapses
/// without weights (pooling, identity shortcuts) get an empty table: they cost nothing, and
/// [`synops`] then skips their spikes instead of adding zeros.
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
        let weighted = |syn: &Synapses| match syn {
            Synapses::AvgPool2 { .. } | Synapses::Subsample { .. } => Vec::new(),
            _ => fan_out_table(syn),
        };
        LayerFanOut {
            main: weighted(&layer.synapses),
            shortcut: layer
                .shortcut
                .map(|s| weighted(&s.synapses))
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
