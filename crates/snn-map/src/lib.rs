//! snn-map: decides which core of a modeled neuromorphic chip holds every neuron of a trained
//! network, where each core sits on the chip's mesh and how spikes are routed.
//!
//! * [`chip`] reads and validates chip descriptions (`hardware-models/*.toml`).

pub mod chip;
