//! Event counters, kept per core and per layer as integers (so totals never depend on thread
//! count or message order) plus the modeled busy time of each core.

use serde::{Deserialize, Serialize};
use std::ops::AddAssign;

/// Counts of one layer (or one core, or the whole chip).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Spikes received: each spike once per receiving core (host input spikes once per core and
    /// layer reading them), under the first layer on that core that reads it.
    pub input_spikes: u64,
    /// Synaptic operations (effective accumulates: synapses actually reached).
    pub synaptic_ops: u64,
    /// Neuron updates that integrated input this step.
    pub active_updates: u64,
    /// Neuron updates without input (leak only).
    pub idle_updates: u64,
    /// Spikes emitted.
    pub output_spikes: u64,
    /// Spikes delivered inside their own core.
    pub local_deliveries: u64,
    /// Packets to another core of the same tile (no mesh hop).
    pub tile_packets: u64,
    /// Packets that crossed at least one mesh hop.
    pub mesh_packets: u64,
    /// Mesh hops along x, summed over packets.
    pub hops_x: u64,
    /// Mesh hops along y, summed over packets.
    pub hops_y: u64,
}

impl Counts {
    /// All packets between cores.
    pub fn packets(&self) -> u64 {
        self.tile_packets + self.mesh_packets
    }

    /// All hops.
    pub fn hops(&self) -> u64 {
        self.hops_x + self.hops_y
    }
}

impl AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, o: &Counts) {
        self.input_spikes += o.input_spikes;
        self.synaptic_ops += o.synaptic_ops;
        self.active_updates += o.active_updates;
        self.idle_updates += o.idle_updates;
        self.output_spikes += o.output_spikes;
        self.local_deliveries += o.local_deliveries;
        self.tile_packets += o.tile_packets;
        self.mesh_packets += o.mesh_packets;
        self.hops_x += o.hops_x;
        self.hops_y += o.hops_y;
    }
}
