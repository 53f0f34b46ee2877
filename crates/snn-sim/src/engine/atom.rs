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

impl AtomState {
    /// The state of an atom of `n` neurons at rest, in `mode`'s arithmetic.
    pub(super) fn new(n: usize, mode: crate::run::Mode, profile: bool) -> Self {
        let (float, fixed) = match mode {
            crate::run::Mode::Float => (n, 0),
            crate::run::Mode::Fixed => (0, n),
        };
        AtomState {
            v: vec![0.0; float],
            i: vec![0.0; float],
            vq: vec![0; fixed],
            iq: vec![0; fixed],
            spikes: vec![0; if profile { n } else { 0 }],
        }
    }
}
