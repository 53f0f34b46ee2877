//! The chip's time model: per-event times in integer femtoseconds.

use snn_map::chip::ChipModel;

/// Per-event times of the chip model in integer femtoseconds: modeled times are sums and
/// maxima of integers, exact in any grouping, so they cannot depend on how the work is split
/// between workers or chip replicas.
#[derive(Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) synop: u64,
    pub(crate) active: u64,
    pub(crate) idle: u64,
    pub(crate) local: u64,
    pub(crate) hop_x: u64,
    pub(crate) hop_y: u64,
    pub(crate) barrier: u64,
    /// One packet on one direction of a mesh link (0: links are not modeled).
    pub(crate) link: u64,
}

/// Femtoseconds per second.
pub(crate) const FS: f64 = 1e15;

impl Timing {
    pub(crate) fn of(chip: &ChipModel) -> Self {
        let fs = |ns: f64| (ns * 1e6).round() as u64;
        let l = &chip.latency;
        Timing {
            synop: fs(l.synop_ns.value),
            active: fs(l.neuron_active_ns.value),
            idle: fs(l.neuron_idle_ns.value),
            local: fs(l.spike_local_ns.value),
            hop_x: fs(l.hop_x_ns.value),
            hop_y: fs(l.hop_y_ns.value),
            barrier: fs(l.barrier_ns.value),
            link: l.link_packet_ns.as_ref().map_or(0, |c| fs(c.value)),
        }
    }
}
