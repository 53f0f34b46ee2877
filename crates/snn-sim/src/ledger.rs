//! The energy ledger: turns counters into joules with the chip's constants, split into
//! synaptic, neuron-update, routing and static parts, per layer and per core; and the ANN
//! baseline on the 45 nm reference (dense MACs × E_MAC) beside the SNN (ACs × E_AC).

use crate::counters::Counts;
use serde::Serialize;
use snn_map::chip::ChipModel;

/// Energy of one part of the chip, in joules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Energy {
    /// Synaptic operations × E_synop.
    pub synaptic: f64,
    /// Active × E_active + idle × E_idle neuron updates.
    pub neuron: f64,
    /// Spikes within a tile × E_local + hops × E_hop (x and y).
    pub routing: f64,
    /// Static power × time (only for the whole chip and per core).
    pub r#static: f64,
}

impl Energy {
    /// Sum of the parts.
    pub fn total(&self) -> f64 {
        self.synaptic + self.neuron + self.routing + self.r#static
    }

    /// Divides every part by `n` (per inference).
    pub fn per(&self, n: f64) -> Energy {
        let n = n.max(1.0);
        Energy {
            synaptic: self.synaptic / n,
            neuron: self.neuron / n,
            routing: self.routing / n,
            r#static: self.r#static / n,
        }
    }
}

/// The constants the ledger uses (pJ, mW), named as in the chip file.
#[derive(Clone, Debug, Serialize)]
pub struct Constants {
    /// Chip name.
    pub chip: String,
    /// energy.synop_pj.
    pub synop_pj: f64,
    /// energy.neuron_active_pj.
    pub neuron_active_pj: f64,
    /// energy.neuron_idle_pj.
    pub neuron_idle_pj: f64,
    /// energy.spike_local_pj.
    pub spike_local_pj: f64,
    /// energy.hop_x_pj.
    pub hop_x_pj: f64,
    /// energy.hop_y_pj.
    pub hop_y_pj: f64,
    /// energy.static_mw_per_core.
    pub static_mw_per_core: f64,
}

impl Constants {
    /// The constants of a chip.
    pub fn of(chip: &ChipModel) -> Self {
        let e = &chip.energy;
        Constants {
            chip: chip.name.clone(),
            synop_pj: e.synop_pj.value,
            neuron_active_pj: e.neuron_active_pj.value,
            neuron_idle_pj: e.neuron_idle_pj.value,
            spike_local_pj: e.spike_local_pj.value,
            hop_x_pj: e.hop_x_pj.value,
            hop_y_pj: e.hop_y_pj.value,
            static_mw_per_core: e.static_mw_per_core.value,
        }
    }

    /// Dynamic energy of a set of counts (static is added separately from time).
    pub fn dynamic(&self, c: &Counts) -> Energy {
        let pj = 1e-12;
        Energy {
            synaptic: c.synaptic_ops as f64 * self.synop_pj * pj,
            neuron: (c.active_updates as f64 * self.neuron_active_pj
                + c.idle_updates as f64 * self.neuron_idle_pj)
                * pj,
            routing: ((c.local_deliveries + c.tile_packets) as f64 * self.spike_local_pj
                + c.hops_x as f64 * self.hop_x_pj
                + c.hops_y as f64 * self.hop_y_pj)
                * pj,
            r#static: 0.0,
        }
    }

    /// Static energy of `cores` cores over `seconds`.
    pub fn static_energy(&self, cores: usize, seconds: f64) -> f64 {
        self.static_mw_per_core * 1e-3 * cores as f64 * seconds
    }
}
