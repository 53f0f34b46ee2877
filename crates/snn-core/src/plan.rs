//! Shape inference and counting: turns a [`NetworkSpec`] into a flat list of neuron layers, each
//! with its input and output shape, its synapses and the numbers a user asks first (parameters,
//! fan-in, dense MACs of the equivalent ANN).
//!
//! A residual block of the spec becomes two plan layers (`resNa`, `resNb`); the second carries the
//! shortcut.

use crate::error::SpecError;
use crate::shape::Shape3;
use crate::spec::{LayerSpec, NetworkSpec};
use serde::{Deserialize, Serialize};

/// What kind of neurons a plan layer has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LayerKind {
    /// Convolution + LIF neurons.
    Conv,
    /// 2×2 average pool + non-leaky IF neurons.
    Pool,
    /// Fully connected + LIF neurons.
    Linear,
    /// Non-spiking leaky readout.
    Readout,
}

/// The synapses feeding a layer (or a shortcut).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Synapses {
    /// Convolution; weights stored `[ky][kx][c_in][c_out]`.
    Conv {
        /// Square kernel size.
        kernel: usize,
        /// Stride.
        stride: usize,
        /// Zero padding.
        padding: usize,
        /// Input shape.
        input: Shape3,
        /// Output shape.
        output: Shape3,
    },
    /// Fully connected; weights stored `[in][out]` (one contiguous row per input neuron).
    Dense {
        /// Input features (a spatial input is flattened in HWC order).
        inputs: usize,
        /// Output features.
        outputs: usize,
    },
    /// 2×2 average pooling with stride 2 (no weights; each input adds 1/4 to one output).
    AvgPool2 {
        /// Input shape.
        input: Shape3,
        /// Output shape.
        output: Shape3,
    },
    /// Identity with spatial subsampling by `stride` (a parameter-free shortcut).
    Subsample {
        /// Stride (take every stride-th pixel).
        stride: usize,
        /// Input shape.
        input: Shape3,
        /// Output shape.
        output: Shape3,
    },
}

impl Synapses {
    /// Number of weights (0 for pooling and identity).
    pub fn weight_count(&self) -> usize {
        match *self {
            Synapses::Conv {
                kernel,
                input,
                output,
                ..
            } => kernel * kernel * input.channels * output.channels,
            Synapses::Dense { inputs, outputs } => inputs * outputs,
            Synapses::AvgPool2 { .. } | Synapses::Subsample { .. } => 0,
        }
    }

    /// Synapses per output neuron (kernel taps including padding positions).
    pub fn fan_in(&self) -> usize {
        match *self {
            Synapses::Conv { kernel, input, .. } => kernel * kernel * input.channels,
            Synapses::Dense { inputs, .. } => inputs,
            Synapses::AvgPool2 { .. } => 4,
            Synapses::Subsample { .. } => 1,
        }
    }

    /// Dense multiply-accumulates per time step of the equivalent ANN (paper-method §8.2:
    /// `C_out·H_out·W_out·k²·C_in`, padding included, pooling excluded).
    pub fn dense_macs(&self) -> u64 {
        match *self {
            Synapses::Conv {
                kernel,
                input,
                output,
                ..
            } => (output.len() * kernel * kernel * input.channels) as u64,
            Synapses::Dense { inputs, outputs } => (inputs * outputs) as u64,
            Synapses::AvgPool2 { .. } | Synapses::Subsample { .. } => 0,
        }
    }

    /// Number of input neurons.
    pub fn input_len(&self) -> usize {
        match *self {
            Synapses::Conv { input, .. }
            | Synapses::AvgPool2 { input, .. }
            | Synapses::Subsample { input, .. } => input.len(),
            Synapses::Dense { inputs, .. } => inputs,
        }
    }

    /// Number of output neurons.
    pub fn output_len(&self) -> usize {
        match *self {
            Synapses::Conv { output, .. }
            | Synapses::AvgPool2 { output, .. }
            | Synapses::Subsample { output, .. } => output.len(),
            Synapses::Dense { outputs, .. } => outputs,
        }
    }
}

/// Where spikes come from: the encoded input image or a plan layer. The one name for a source
/// of spikes in every crate (the step's inputs, the mapper's synapse edges, the simulator's
/// routes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Source {
    /// The encoded input image (injected from the host on a chip).
    Input,
    /// The spikes emitted by plan layer `i`.
    Layer(usize),
}

impl Source {
    /// Source of the main synapses of layer `l`.
    pub fn main_of(l: usize) -> Self {
        if l == 0 {
            Source::Input
        } else {
            Source::Layer(l - 1)
        }
    }

    /// Source of a shortcut whose [`Shortcut::source`] is `layer`.
    pub fn of_shortcut(layer: Option<usize>) -> Self {
        layer.map_or(Source::Input, Source::Layer)
    }
}

/// A residual shortcut into a layer's membrane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortcut {
    /// Plan layer whose spikes feed the shortcut (`None` = the network input).
    pub source: Option<usize>,
    /// The shortcut's synapses (1×1 conv or subsampling identity).
    pub synapses: Synapses,
}

/// One layer of neurons with everything derived from the spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerPlan {
    /// Name used in logs, reports and mapping (`conv1`, `pool1`, `fc1`, `res1a`, `readout`).
    pub name: String,
    /// Kind of neurons.
    pub kind: LayerKind,
    /// Shape of the main input.
    pub input: Shape3,
    /// Shape of this layer's neurons.
    pub output: Shape3,
    /// Main synapses (from the previous layer).
    pub synapses: Synapses,
    /// Optional residual shortcut added into the membrane.
    pub shortcut: Option<Shortcut>,
}

impl LayerPlan {
    /// Trainable weights of this layer (main synapses plus shortcut).
    pub fn params(&self) -> usize {
        self.synapses.weight_count() + self.shortcut.map_or(0, |s| s.synapses.weight_count())
    }

    /// Dense MACs per time step of the equivalent ANN layer.
    pub fn dense_macs(&self) -> u64 {
        self.synapses.dense_macs() + self.shortcut.map_or(0, |s| s.synapses.dense_macs())
    }

    /// Synapses per neuron (main plus shortcut).
    pub fn fan_in(&self) -> usize {
        self.synapses.fan_in() + self.shortcut.map_or(0, |s| s.synapses.fan_in())
    }

    /// True for layers whose neurons spike (everything but the readout).
    pub fn spikes(&self) -> bool {
        self.kind != LayerKind::Readout
    }
}

/// The whole network after shape inference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkPlan {
    /// Input image shape.
    pub input: Shape3,
    /// Layers from input to readout.
    pub layers: Vec<LayerPlan>,
}

impl NetworkPlan {
    /// Infers every shape; fails with the layer's name when the layers do not fit together.
    pub fn new(spec: &NetworkSpec) -> Result<Self, SpecError> {
        let mut layers: Vec<LayerPlan> = Vec::new();
        let mut cur = spec.input;
        let (mut n_conv, mut n_pool, mut n_fc, mut n_res) = (0, 0, 0, 0);
        let count = spec.layers.len();
        if count == 0 {
            return Err(invalid(&spec.name, "the network has no layers".into()));
        }
        for (i, layer) in spec.layers.iter().enumerate() {
            let is_last = i + 1 == count;
            if matches!(layer, LayerSpec::Readout { .. }) != is_last {
                return Err(invalid(
                    &spec.name,
                    if is_last {
                        format!("the last layer must be a readout, found {layer:?}")
                    } else {
                        format!("layer {} is a readout but is not the last layer", i + 1)
                    },
                ));
            }
            match *layer {
                LayerSpec::Conv {
                    out_channels,
                    kernel,
                    stride,
                    padding,
                } => {
                    n_conv += 1;
                    let name = format!("conv{n_conv}");
                    let syn = conv_synapses(&name, cur, out_channels, kernel, stride, padding)?;
                    let out = syn.output_len();
                    let output = match syn {
                        Synapses::Conv { output, .. } => output,
                        _ => unreachable!("conv_synapses returns Conv"),
                    };
                    debug_assert_eq!(out, output.len());
                    layers.push(LayerPlan {
                        name,
                        kind: LayerKind::Conv,
                        input: cur,
                        output,
                        synapses: syn,
                        shortcut: None,
                    });
                    cur = output;
                }
                LayerSpec::Pool => {
                    n_pool += 1;
                    let name = format!("pool{n_pool}");
                    if cur.height < 2 || cur.width < 2 {
                        return Err(invalid(
                            &name,
                            format!("cannot 2x2-pool an input of shape {cur}"),
                        ));
                    }
                    let output = Shape3::new(cur.channels, cur.height / 2, cur.width / 2);
                    let synapses = Synapses::AvgPool2 { input: cur, output };
                    layers.push(LayerPlan {
                        name,
                        kind: LayerKind::Pool,
                        input: cur,
                        output,
                        synapses,
                        shortcut: None,
                    });
                    cur = output;
                }
                LayerSpec::Linear { out_features } | LayerSpec::Readout { out_features } => {
                    let readout = matches!(layer, LayerSpec::Readout { .. });
                    let name = if readout {
                        "readout".to_string()
                    } else {
                        n_fc += 1;
                        format!("fc{n_fc}")
                    };
                    if out_features == 0 {
                        return Err(invalid(&name, "out_features must be at least 1".into()));
                    }
                    let output = Shape3::flat(out_features);
                    let synapses = Synapses::Dense {
                        inputs: cur.len(),
                        outputs: out_features,
                    };
                    let kind = if readout {
                        LayerKind::Readout
                    } else {
                        LayerKind::Linear
                    };
                    layers.push(LayerPlan {
                        name,
                        kind,
                        input: cur,
                        output,
                        synapses,
                        shortcut: None,
                    });
                    cur = output;
                }
                LayerSpec::Residual {
                    out_channels,
                    stride,
                } => {
                    n_res += 1;
                    if stride != 1 && stride != 2 {
                        return Err(invalid(
                            &format!("res{n_res}"),
                            format!("stride must be 1 or 2, got {stride}"),
                        ));
                    }
                    let block_input = cur;
                    let source = layers.len().checked_sub(1);
                    let a_name = format!("res{n_res}a");
                    let a = conv_synapses(&a_name, cur, out_channels, 3, 1, 1)?;
                    let a_out = conv_output(&a);
                    layers.push(LayerPlan {
                        name: a_name,
                        kind: LayerKind::Conv,
                        input: cur,
                        output: a_out,
                        synapses: a,
                        shortcut: None,
                    });
                    let b_name = format!("res{n_res}b");
                    let b = conv_synapses(&b_name, a_out, out_channels, 3, stride, 1)?;
                    let b_out = conv_output(&b);
                    let sc = if block_input.channels == out_channels {
                        let output = Shape3::new(
                            out_channels,
                            (block_input.height - 1) / stride + 1,
                            (block_input.width - 1) / stride + 1,
                        );
                        Synapses::Subsample {
                            stride,
                            input: block_input,
                            output,
                        }
                    } else {
                        conv_synapses(&b_name, block_input, out_channels, 1, stride, 0)?
                    };
                    let sc_out = match sc {
                        Synapses::Subsample { output, .. } => output,
                        ref s => conv_output(s),
                    };
                    if sc_out != b_out {
                        return Err(invalid(
                            &b_name,
                            format!("shortcut gives {sc_out} but the block gives {b_out}"),
                        ));
                    }
                    layers.push(LayerPlan {
                        name: b_name,
                        kind: LayerKind::Conv,
                        input: a_out,
                        output: b_out,
                        synapses: b,
                        shortcut: Some(Shortcut {
                            source,
                            synapses: sc,
                        }),
                    });
                    cur = b_out;
                }
            }
        }
        Ok(NetworkPlan {
            input: spec.input,
            layers,
        })
    }

    /// Total trainable weights.
    pub fn params(&self) -> usize {
        self.layers.iter().map(LayerPlan::params).sum()
    }

    /// Total dense MACs per time step of the equivalent ANN.
    pub fn dense_macs(&self) -> u64 {
        self.layers.iter().map(LayerPlan::dense_macs).sum()
    }

    /// Number of classes (readout width).
    pub fn classes(&self) -> usize {
        self.layers.last().map_or(0, |l| l.output.len())
    }

    /// Shape of the spikes feeding layer `i`'s main synapses (the input or the previous layer).
    pub fn input_of(&self, i: usize) -> Shape3 {
        self.layers[i].input
    }
}

fn conv_output(s: &Synapses) -> Shape3 {
    match *s {
        Synapses::Conv { output, .. } => output,
        _ => unreachable!("only called on conv synapses"),
    }
}

fn conv_synapses(
    name: &str,
    input: Shape3,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<Synapses, SpecError> {
    if out_channels == 0 || kernel == 0 || stride == 0 {
        return Err(invalid(
            name,
            "out_channels, kernel and stride must be at least 1".into(),
        ));
    }
    if input.height == 1 && input.width == 1 && kernel > 1 + 2 * padding {
        return Err(invalid(
            name,
            format!(
                "cannot convolve a flat input of {} features",
                input.channels
            ),
        ));
    }
    let span_h = input.height + 2 * padding;
    let span_w = input.width + 2 * padding;
    if span_h < kernel || span_w < kernel {
        return Err(invalid(
            name,
            format!("kernel {kernel} with padding {padding} does not fit input {input}"),
        ));
    }
    let output = Shape3::new(
        out_channels,
        (span_h - kernel) / stride + 1,
        (span_w - kernel) / stride + 1,
    );
    Ok(Synapses::Conv {
        kernel,
        stride,
        padding,
        input,
        output,
    })
}

fn invalid(context: &str, msg: String) -> SpecError {
    SpecError::Invalid {
        context: context.to_string(),
        msg,
    }
}
