//! What a run takes and gives, whichever engine runs it: the arithmetic, the thread and
//! replica settings, and the raw result (predictions, outputs, counters per core and layer,
//! modeled times).

use crate::counters::Counts;
use crate::links::LinkLoad;

/// Arithmetic of the cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// f32, identical to the trainer.
    Float,
    /// Integers in the chip's weight and state bits.
    Fixed,
}

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct RunConfig {
    /// Steps per sample.
    pub timesteps: u32,
    /// Worker threads.
    pub threads: usize,
    /// Independent chip replicas, each running a contiguous share of the samples on
    /// `threads / replicas` workers (1: one chip, its cores spread over all workers).
    pub replicas: usize,
    /// Arithmetic.
    pub mode: Mode,
    /// Count spikes per neuron (for an activity profile).
    pub profile: bool,
}

/// How a run uses the machine's threads: `threads` workers in all, over `replicas` independent
/// chip copies (see [`crate::engine::run`]). A plain thread count means one chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workers {
    /// Worker threads in all.
    pub threads: usize,
    /// Chip replicas sharing them (at most `threads`).
    pub replicas: usize,
}

impl From<usize> for Workers {
    fn from(threads: usize) -> Self {
        Workers {
            threads,
            replicas: 1,
        }
    }
}

/// Everything a run produced.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    /// Predicted class per sample.
    pub predictions: Vec<u8>,
    /// Spikes per neuron of every layer (channel-last) and per input pixel, when profiling.
    pub neuron_spikes: Option<(Vec<u64>, Vec<Vec<u64>>)>,
    /// Readout output per sample (`V(T)/T` in model units).
    pub outputs: Vec<Vec<f32>>,
    /// Counters per core, per layer: `per_core_layer[core][layer]`.
    pub per_core_layer: Vec<Vec<Counts>>,
    /// Host-injected input packets (one per destination core per input spike).
    pub input_packets: u64,
    /// Input spikes presented.
    pub input_spikes: u64,
    /// Modeled chip time, seconds: Σ over chip steps of (the busiest core, or the busiest mesh
    /// link when it needs longer, + barrier).
    pub chip_seconds: f64,
    /// Packets per mesh link, the busiest link per step and the steps it stretched.
    pub links: LinkLoad,
    /// Modeled busy time of each core, seconds.
    pub core_busy_seconds: Vec<f64>,
    /// Chip steps run.
    pub chip_steps: u64,
    /// Chip replicas the samples were shared over (the requested number, at most one per
    /// sample).
    pub replicas: usize,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
}
