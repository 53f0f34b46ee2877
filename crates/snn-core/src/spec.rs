//! Network description: the layers of a spiking network and its neuron parameters (SPEC §3).
//!
//! A description is plain data. It is written by hand as TOML (see [`NetworkSpec::from_toml_str`]),
//! built from a [`crate::preset`], and stored inside every model file. Shapes and counts are
//! derived from it by [`crate::plan`].

use crate::error::SpecError;
use crate::shape::Shape3;
use serde::{Deserialize, Serialize};
use std::path::Path;

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

impl NetworkSpec {
    /// Parses a TOML description. `origin` names the source in error messages (a file path).
    ///
    /// ```toml
    /// name = "tiny"
    /// input = { channels = 1, height = 28, width = 28 }
    /// [[layer]]
    /// type = "conv"
    /// out_channels = 8
    /// kernel = 5
    /// padding = 2
    /// [[layer]]
    /// type = "pool"
    /// [[layer]]
    /// type = "readout"
    /// out_features = 10
    /// ```
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Self, SpecError> {
        let spec: NetworkSpec = toml::from_str(text).map_err(|e| SpecError::Toml {
            path: origin.to_path_buf(),
            msg: one_line_toml_error(text, &e),
        })?;
        spec.validate().map_err(|e| match e {
            SpecError::Invalid { context, msg } => SpecError::Invalid {
                context: format!("{}: {context}", origin.display()),
                msg,
            },
            other => other,
        })?;
        Ok(spec)
    }

    /// Reads and validates a TOML network file.
    pub fn from_toml_file(path: &Path) -> Result<Self, SpecError> {
        let text =
            crate::bounded::read_text_bounded(path, crate::bounded::MAX_TEXT_BYTES, "network file")
                .map_err(|source| SpecError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
        Self::from_toml_str(&text, path)
    }

    /// Checks values and that the layers fit together (shape inference succeeds).
    pub fn validate(&self) -> Result<(), SpecError> {
        let bad = |msg: String| {
            Err(SpecError::Invalid {
                context: format!("network '{}'", self.name),
                msg,
            })
        };
        if self.name.is_empty() || self.name.len() > 256 || self.name.chars().any(char::is_control)
        {
            return Err(SpecError::Invalid {
                context: "network".into(),
                msg: format!(
                    "name {:?} must be 1 to 256 characters without control characters",
                    self.name
                ),
            });
        }
        let n = &self.neuron;
        if !(n.leak > 0.0 && n.leak <= 1.0) {
            return bad(format!("neuron.leak must be in (0, 1], got {}", n.leak));
        }
        if !(n.threshold > 0.0 && n.threshold.is_finite()) {
            return bad(format!(
                "neuron.threshold must be positive, got {}",
                n.threshold
            ));
        }
        if !(n.pool_threshold > 0.0 && n.pool_threshold.is_finite()) {
            return bad(format!(
                "neuron.pool_threshold must be positive, got {}",
                n.pool_threshold
            ));
        }
        if !(self.input_scale > 0.0 && self.input_scale.is_finite()) {
            return bad(format!(
                "input_scale must be positive, got {}",
                self.input_scale
            ));
        }
        if self.input.is_empty() {
            return bad(format!("input shape {} has no pixels", self.input));
        }
        let i = &self.input;
        if i.channels > MAX_CHANNELS || i.height > MAX_EXTENT || i.width > MAX_EXTENT {
            return bad(format!(
                "input shape {} is too large (at most {MAX_CHANNELS} channels and {MAX_EXTENT}×{MAX_EXTENT} pixels)",
                self.input
            ));
        }
        for (k, layer) in self.layers.iter().enumerate() {
            let at = |msg: String| bad(format!("layer {}: {msg}", k + 1));
            let (width, kernel, stride, padding) = match *layer {
                LayerSpec::Conv {
                    out_channels,
                    kernel,
                    stride,
                    padding,
                } => (out_channels, kernel, stride, padding),
                LayerSpec::Residual {
                    out_channels,
                    stride,
                } => (out_channels, 3, stride, 1),
                LayerSpec::Linear { out_features } | LayerSpec::Readout { out_features } => {
                    (out_features, 1, 1, 0)
                }
                LayerSpec::Pool => continue,
            };
            if !(1..=MAX_CHANNELS).contains(&width) {
                return at(format!(
                    "{width} output channels or features; must be 1..={MAX_CHANNELS}"
                ));
            }
            if !(1..=MAX_KERNEL).contains(&kernel)
                || !(1..=MAX_KERNEL).contains(&stride)
                || padding >= kernel.max(1)
            {
                return at(format!(
                    "kernel {kernel}, stride {stride}, padding {padding}: kernel and stride must be 1..={MAX_KERNEL} and padding below the kernel"
                ));
            }
        }
        let plan = crate::plan::NetworkPlan::new(self)?;
        let neurons: usize = plan.layers.iter().map(|l| l.output.len()).sum();
        let weights = plan.params();
        if neurons > MAX_NEURONS || weights > MAX_WEIGHTS {
            return bad(format!(
                "{neurons} neurons and {weights} weights; at most {MAX_NEURONS} and {MAX_WEIGHTS} are supported"
            ));
        }
        Ok(())
    }
}

/// Turns a toml error into one line: "line L, column C: message". For an unknown field the
/// line of that key is given (toml reports the span of the whole enclosing table).
fn one_line_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().replace('\n', " ");
    let Some(span) = e.span() else { return msg };
    let mut start = span.start.min(text.len());
    if let Some(key) = msg
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        let mut offset = start;
        for (i, line) in text[start..].split_inclusive('\n').enumerate() {
            let trimmed = line.trim_start();
            if i > 0 && trimmed.starts_with('[') {
                break; // the next table: the key was not found in this one
            }
            if trimmed
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                start = offset + (line.len() - trimmed.len());
                break;
            }
            offset += line.len();
        }
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|p| p + 1).unwrap_or(0) + 1;
    format!("line {line}, column {col}: {msg}")
}
