//! The NIR graph in memory: nodes with their parameters, edges and metadata, independent of
//! the HDF5 file that holds them ([`crate::read`], [`crate::write`]) and of the snn model they
//! are converted from or to ([`crate::export`], [`crate::import`]).
//!
//! Arrays keep NIR's layouts: conv weights `[out, in, kh, kw]`, affine weights `[out, in]`,
//! per-neuron parameters in channel-first (CHW) order. Neuron parameters are `f64`, as
//! snnTorch writes them; weights are `f32`, as every framework trains them.

/// A dense array with its shape (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Array<T> {
    /// Dimensions, outermost first; empty for a scalar.
    pub shape: Vec<usize>,
    /// Values in row-major order; `shape.iter().product()` of them.
    pub data: Vec<T>,
}

impl<T: Copy> Array<T> {
    /// A scalar (shape `[]`).
    pub fn scalar(value: T) -> Self {
        Array {
            shape: Vec::new(),
            data: vec![value],
        }
    }

    /// `value` repeated over `shape`.
    pub fn filled(shape: &[usize], value: T) -> Self {
        Array {
            shape: shape.to_vec(),
            data: vec![value; shape.iter().product()],
        }
    }
}

/// A metadata value (NIR stores metadata as scalar datasets in a `metadata` group).
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    /// A string.
    Str(String),
    /// A floating-point number (f32 values of snn round-trip exactly through f64).
    Float(f64),
    /// An integer.
    Int(i64),
}

/// Metadata of a graph or a node: name and value, in the order written.
pub type Metadata = Vec<(String, MetaValue)>;

/// Looks a metadata key up.
pub fn meta_get<'a>(meta: &'a Metadata, key: &str) -> Option<&'a MetaValue> {
    meta.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// What a node computes, with its parameters (the NIR 1.0 primitives snn reads and writes).
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// Graph input; `shape` excludes the batch (e.g. `[1, 28, 28]`).
    Input {
        /// Shape of one input.
        shape: Vec<usize>,
    },
    /// Graph output.
    Output {
        /// Shape of one output.
        shape: Vec<usize>,
    },
    /// 2-D convolution.
    Conv2d {
        /// Weights `[out, in, kh, kw]`.
        weight: Array<f32>,
        /// Bias per output channel (`None` when the file has none).
        bias: Option<Vec<f32>>,
        /// Stride (y, x).
        stride: [usize; 2],
        /// Zero padding (y, x).
        padding: [usize; 2],
        /// Dilation (y, x).
        dilation: [usize; 2],
        /// Groups.
        groups: usize,
        /// Input height and width, when the file states them.
        input_shape: Option<[usize; 2]>,
    },
    /// Fully connected `y = W x + b` (NIR `Affine`; a NIR `Linear` has no bias).
    Affine {
        /// Weights `[out, in]`.
        weight: Array<f32>,
        /// Bias (`None` for `Linear` or when absent).
        bias: Option<Vec<f32>>,
    },
    /// 2-D pooling: the sum (`average = false`, NIR `SumPool2d`) or mean (`AvgPool2d`) of
    /// each window.
    Pool2d {
        /// True for `AvgPool2d`.
        average: bool,
        /// Window (y, x).
        kernel: [usize; 2],
        /// Stride (y, x).
        stride: [usize; 2],
        /// Padding (y, x).
        padding: [usize; 2],
    },
    /// Flattens dimensions `start_dim..=end_dim` (NIR counts them without the batch; some
    /// exporters count the batch, see [`crate::import`]).
    Flatten {
        /// First dimension flattened.
        start_dim: i64,
        /// Last dimension flattened (negative counts from the end).
        end_dim: i64,
        /// Shape of the input, when the file states it.
        input_type: Option<Vec<usize>>,
    },
    /// Leaky integrate-and-fire: `tau dv/dt = (v_leak − v) + r I`, spike on `v > v_threshold`,
    /// then `v = v_reset`.
    Lif {
        /// Membrane time constant in seconds.
        tau: Array<f64>,
        /// Resistance (input gain).
        r: Array<f64>,
        /// Leak (resting) potential.
        v_leak: Array<f64>,
        /// Firing threshold.
        v_threshold: Array<f64>,
        /// Reset potential.
        v_reset: Array<f64>,
    },
    /// Integrate-and-fire: `dv/dt = r I`, spike on `v > v_threshold`, then `v = v_reset`.
    If {
        /// Input gain per step (snnTorch's reading of NIR's `r`).
        r: Array<f64>,
        /// Firing threshold.
        v_threshold: Array<f64>,
        /// Reset potential.
        v_reset: Array<f64>,
    },
    /// Leaky integrator (no spikes): `tau dv/dt = (v_leak − v) + r I`.
    Li {
        /// Time constant in seconds.
        tau: Array<f64>,
        /// Resistance (input gain).
        r: Array<f64>,
        /// Leak potential.
        v_leak: Array<f64>,
    },
}

impl NodeKind {
    /// The NIR type name written in the node's `type` dataset.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Input { .. } => "Input",
            NodeKind::Output { .. } => "Output",
            NodeKind::Conv2d { .. } => "Conv2d",
            NodeKind::Affine { bias: Some(_), .. } => "Affine",
            NodeKind::Affine { bias: None, .. } => "Linear",
            NodeKind::Pool2d { average: false, .. } => "SumPool2d",
            NodeKind::Pool2d { average: true, .. } => "AvgPool2d",
            NodeKind::Flatten { .. } => "Flatten",
            NodeKind::Lif { .. } => "LIF",
            NodeKind::If { .. } => "IF",
            NodeKind::Li { .. } => "LI",
        }
    }
}

/// One named node.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Name, unique in the graph (the HDF5 group name under `/node/nodes`).
    pub name: String,
    /// What it computes.
    pub kind: NodeKind,
    /// Node metadata (snn writes its layer name and role here).
    pub metadata: Metadata,
}

/// A whole NIR graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// NIR version string stored in `/version`.
    pub version: String,
    /// Nodes (order carries no meaning; edges do).
    pub nodes: Vec<Node>,
    /// Directed edges, source → target, by node name.
    pub edges: Vec<(String, String)>,
    /// Graph metadata (snn writes what NIR cannot express here, see the crate docs).
    pub metadata: Metadata,
}

impl Graph {
    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
}
