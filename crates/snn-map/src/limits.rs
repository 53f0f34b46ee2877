//! Per-core limits of a chip as plain numbers, and what a set of neurons costs against them.

use crate::chip::ChipModel;
use crate::network::Edge;
use crate::region::Region;
use serde::{Deserialize, Serialize};

/// The per-core limits the partitioner must respect.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoreLimits {
    /// Neurons per core.
    pub max_neurons: u64,
    /// Distinct presynaptic neurons (input axons) per core.
    pub max_fan_in: u64,
    /// Distinct destination cores per core.
    pub max_fan_out: u64,
    /// Synaptic memory per core in bits.
    pub memory_bits: u64,
    /// Bits per stored weight.
    pub weight_bits: u64,
    /// Whether a conv kernel is stored once per core instead of once per synapse.
    pub shared_conv_weights: bool,
}

impl CoreLimits {
    /// The limits of a chip model.
    pub fn of(chip: &ChipModel) -> Self {
        CoreLimits {
            max_neurons: chip.core.max_neurons.value as u64,
            max_fan_in: chip.core.max_fan_in.value as u64,
            max_fan_out: chip.core.max_fan_out.value as u64,
            memory_bits: chip.core.synaptic_memory_bits.value,
            weight_bits: chip.core.weight_bits.value as u64,
            shared_conv_weights: chip.core.shared_conv_weights.value,
        }
    }

    /// Synaptic memory (bits) that box `r` needs through `edge` when stored on its own
    /// (shared kernels are counted once here; [`crate::usage::CoreUsage`] dedupes them per core).
    pub fn memory_bits(&self, edge: &Edge, r: &Region) -> u64 {
        match (
            self.shared_conv_weights,
            edge.shared_kernel_weights(r.c0, r.c1),
        ) {
            (true, Some(w)) => w * self.weight_bits,
            _ => edge.synapses_stored(r) * self.weight_bits,
        }
    }
}
