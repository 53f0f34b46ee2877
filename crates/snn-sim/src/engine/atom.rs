//! The dynamic state of one atom (a box of one layer) on a core, which the synaptic half
//! ([`super::scatter`]) and the neuron half ([`super::step`]) of a core's step share.

/// Dynamic state of one atom (box of one layer) on a core: float or fixed-point membranes and
/// input currents, and spike counts when profiling.
pub(super) struct AtomState {
    pub(super) v: Vec<f32>,
    pub(super) i: Vec<f32>,
    pub(super) vq: Vec<i64>,
    pub(super) iq: Vec<i64>,
    /// Spikes per local neuron (only when profiling).
    pub(super) spikes: Vec<u64>,
}
