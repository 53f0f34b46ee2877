//! snn-core: what a spiking network *is*, shared by every snn tool.
//!
//! * [`spec`] describes a network (layers, neuron parameters, input shape) and reads it from TOML;
//! * [`preset`] holds the built-in architectures of the paper (LeNet, VGG, ResNet);
//! * [`plan`] infers shapes and counts parameters, fan-in and dense MACs per layer;
//! * [`neuron`] and [`synapse`] are the one reference implementation of a time step
//!   (SPEC §3): LIF, pooling IF and readout neurons, and the event-driven synaptic kernels;
//! * [`runtime`] runs a whole network a time step at a time ([`runtime::CompiledNet`] fixed per
//!   network, [`runtime::NetState`] per sample): the one runtime the trainer's forward pass and
//!   evaluation and the simulator's layer engine share;
//! * [`ops`] counts synaptic operations caused by spikes;
//! * [`aligned`] is the 64-byte-aligned float buffer the step's state and kernels use;
//! * [`tensor`] views model weights as `ndarray` arrays at the boundaries (kernels use slices);
//! * [`model_file`] is the versioned, checksummed model file written by the trainer and read by
//!   the mapper and the simulator; [`atomic`] writes any file so that it is never half-written,
//!   [`bounded`] reads only regular files of bounded size, and [`command`] records a command
//!   line as a user would type it.

pub mod active;
pub mod aligned;
pub mod atomic;
pub mod bounded;
pub mod command;
pub mod container;
pub mod conv_geometry;
pub mod error;
pub mod gather;
pub mod gather_box;
pub mod lif_pool;
pub mod model_file;
pub mod neuron;
pub mod ops;
mod payload;
pub mod plan;
pub mod preset;
pub mod profile;
pub mod report;
pub mod runtime;
pub mod scatter_box;
pub mod shape;
pub mod simd;
pub mod spec;
pub mod spec_file;
pub mod synapse;
pub mod tensor;
#[cfg(test)]
mod test_rng;

pub use error::{FileError, ModelFileError, SpecError};
pub use model_file::{Model, TrainingState};
pub use plan::{LayerKind, LayerPlan, NetworkPlan};
pub use shape::Shape3;
pub use spec::{LayerSpec, NetworkSpec, NeuronParams};
