//! Network description: the layers of a spiking network and its neuron parameters (SPEC §3).
//!
//! A description is plain data. It is written by hand as TOML (read and checked by
//! [`crate::spec_file`]), built from a [`crate::preset`], and stored inside every model file.
//! Shapes and counts are derived from it by [`crate::plan`].

use crate::shape::Shape3;
use serde::{Deserialize, Serialize};

/// Parameters of the neurons, shared by all layers of a network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronParams {
    /// Leak factor λ applied after reset each step (paper-method §3.1; 0.99).
    #[serde(default = "default_leak")]
    pub leak: f32,
    /// Firing threshold of LIF layers (strict `u > threshold`; 1.0).
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Threshold of the non-leaky IF neurons after average pooling (0.75).
    #[serde(default = "default_pool_threshold")]
    pub pool_threshold: f32,
}

fn default_leak() -> f32 {
    0.99
}
fn default_threshold() -> f32 {
    1.0
}
fn default_pool_threshold() -> f32 {
    0.75
}

impl Default for NeuronParams {
    fn default() -> Self {
        NeuronParams {
            leak: default_leak(),
            threshold: default_threshold(),
            pool_threshold: default_pool_threshold(),
        }
    }
}

/// Most channels (or features) of the input or of any layer.
pub const MAX_CHANNELS: usize = 1 << 16;
/// Largest input height or width.
pub const MAX_EXTENT: usize = 4096;
/// Largest kernel size and stride.
pub const MAX_KERNEL: usize = 31;
/// Most neurons in a network (all layers together).
pub const MAX_NEURONS: usize = 1 << 28;
/// Most trainable weights in a network (4 GiB of f32).
pub const MAX_WEIGHTS: usize = 1 << 30;

/// One layer of the network, in order from input to readout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// 2-D convolution without bias, followed by LIF neurons.
    Conv {
        /// Output channels.
        out_channels: usize,
        /// Square kernel size.
        kernel: usize,
        /// Stride (default 1).
        #[serde(default = "one")]
        stride: usize,
        /// Zero padding on each side (default 0).
        #[serde(default)]
        padding: usize,
    },
    /// 2×2 average pooling (stride 2) followed by non-leaky IF neurons at `pool_threshold`.
    Pool,
    /// Fully connected layer without bias, followed by LIF neurons. Flattens a spatial input.
    Linear {
        /// Output features.
        out_features: usize,
    },
    /// Residual block: conv3×3 (stride 1) → LIF → conv3×3 (`stride`) → LIF, with the shortcut's
    /// current added into the second LIF membrane. The shortcut is the identity (subsampled when
    /// `stride` is 2) when channels do not change, else a 1×1 convolution with the same stride.
    Residual {
        /// Output channels of both convolutions.
        out_channels: usize,
        /// Stride of the second convolution and of the shortcut (1 or 2).
        #[serde(default = "one")]
        stride: usize,
    },
    /// The non-spiking readout: fully connected, leaky integration, output `V(T)/T`. Always last.
    Readout {
        /// Number of classes.
        out_features: usize,
    },
}

fn one() -> usize {
    1
}

/// A whole network: input shape, neuron parameters and layers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Name shown in logs and reports (e.g. "lenet").
    pub name: String,
    /// Shape of one input image (channels × height × width).
    pub input: Shape3,
    /// Input rate-coding scale: per-step spike probability = `input_scale · |pixel|` (0.5 for MNIST).
    #[serde(default = "default_input_scale")]
    pub input_scale: f32,
    /// Neuron parameters.
    #[serde(default)]
    pub neuron: NeuronParams,
    /// Layers from input to readout; the last must be a readout.
    #[serde(rename = "layer")]
    pub layers: Vec<LayerSpec>,
}

fn default_input_scale() -> f32 {
    0.5
}
