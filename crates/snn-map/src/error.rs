//! Errors of the mapper: one line each, naming the file and what is needed.

use crate::limits::CoreLimits;
use std::path::PathBuf;

/// Why a mapping could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The chip description is malformed.
    #[error(transparent)]
    Chip(#[from] crate::chip::ChipError),
    /// A model or mapping file could not be read or written.
    #[error(transparent)]
    File(#[from] snn_core::FileError),
    /// The activity profile is unusable.
    #[error(transparent)]
    Profile(#[from] snn_core::profile::ProfileError),
    /// Not even one neuron of a layer fits a core.
    #[error("layer {layer} needs fan-in {fan_in} and {memory_bits} bits of synaptic memory for a single neuron; {chip} allows {} input axons and {} bits per core; use a chip with larger cores (a neuron cannot be split across cores)", limits.max_fan_in, limits.memory_bits)]
    NeuronTooBig {
        /// Layer name.
        layer: String,
        /// Distinct presynaptic neurons of one neuron.
        fan_in: u64,
        /// Memory one neuron needs.
        memory_bits: u64,
        /// Chip file.
        chip: String,
        /// The chip's limits.
        limits: CoreLimits,
    },
    /// The partition needs more cores than the chips have.
    #[error("the network needs at least {needed} cores but {chip} offers {available} ({chips} chip(s) x {per_chip} cores); try --chips {suggest}")]
    TooManyCores {
        /// Cores the partition uses.
        needed: usize,
        /// Cores available.
        available: usize,
        /// Chips joined.
        chips: u32,
        /// Cores per chip.
        per_chip: usize,
        /// Chips that would suffice.
        suggest: usize,
        /// Chip file.
        chip: String,
    },
    /// A core would send to more cores than its routing table holds.
    #[error("core {core} (layers {layers}) sends spikes to {needed} cores but {chip} allows {allowed} destinations per core; a chip with a larger fan-out is needed for this network")]
    FanOut {
        /// Core id.
        core: usize,
        /// Layers on the core.
        layers: String,
        /// Destination cores needed.
        needed: u32,
        /// Allowed by the chip.
        allowed: u64,
        /// Chip file.
        chip: String,
    },
    /// A mapping does not belong to the model it is used with.
    #[error("{path}: mapping was made for another model: {msg}")]
    Mismatch {
        /// Mapping file.
        path: PathBuf,
        /// What differs.
        msg: String,
    },
    /// Writing a report or chart failed.
    #[error("{path}: {msg}")]
    Output {
        /// File being written.
        path: PathBuf,
        /// Cause.
        msg: String,
    },
    /// A bad command-line value.
    #[error("{0}")]
    Usage(String),
}
