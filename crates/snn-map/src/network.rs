//! The network as the mapper sees it: which synapse sets connect which layers, which neurons a
//! spike reaches (as a box in the consumer layer), which neurons feed a box (its receptive
//! field) and how many synapses a box stores. Derived from the plan of `snn-core`, so mapper and
//! simulator agree with the trainer on every connection.

use crate::region::{Field, Region};
use snn_core::plan::Source;
use snn_core::plan::{NetworkPlan, Synapses};
use snn_core::synapse::ConvGeometry;
use snn_core::Shape3;

/// One set of synapses from a source into a layer.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Where the spikes come from.
    pub source: Source,
    /// The layer they feed.
    pub target: usize,
    /// The synapses.
    pub synapses: Synapses,
    /// True for a residual shortcut (false for the main synapses).
    pub shortcut: bool,
    /// Conv only: output rows `[lo, hi)` reached from each input row.
    rows_out: Vec<(u32, u32)>,
    /// Conv only: output columns `[lo, hi)` reached from each input column.
    cols_out: Vec<(u32, u32)>,
}

/// Output range `[lo, hi)` reached from each input position along one axis, from the
/// (kernel tap, output) pairs of the shared conv geometry.
fn reach(pairs: impl Fn(usize) -> Vec<u32>, in_len: usize) -> Vec<(u32, u32)> {
    (0..in_len)
        .map(|i| {
            let outs = pairs(i);
            match (outs.iter().min(), outs.iter().max()) {
                (Some(&lo), Some(&hi)) => (lo, hi + 1),
                _ => (0, 0),
            }
        })
        .collect()
}

/// An image axis: output rows (input height) or output columns (input width).
#[derive(Clone, Copy)]
enum Axis {
    Rows,
    Cols,
}

/// Valid kernel taps of output position `o` along one axis.
fn valid_taps(o: usize, in_len: usize, k: usize, s: usize, p: usize) -> u64 {
    (0..k)
        .filter(|&t| {
            let i = (o * s + t) as isize - p as isize;
            i >= 0 && (i as usize) < in_len
        })
        .count() as u64
}

impl Edge {
    fn new(source: Source, target: usize, synapses: Synapses, shortcut: bool) -> Self {
        let (rows_out, cols_out) = match synapses {
            Synapses::Conv { input, .. } => {
                let geo = ConvGeometry::new(&synapses);
                (
                    reach(|i| geo.rows(i).iter().map(|p| p.1).collect(), input.height),
                    reach(|i| geo.cols(i).iter().map(|p| p.1).collect(), input.width),
                )
            }
            _ => (Vec::new(), Vec::new()),
        };
        Edge {
            source,
            target,
            synapses,
            shortcut,
            rows_out,
            cols_out,
        }
    }

    /// Shape of the source neurons as the synapses see them (a flat view for dense synapses).
    fn input_shape(&self) -> Shape3 {
        match self.synapses {
            Synapses::Conv { input, .. }
            | Synapses::AvgPool2 { input, .. }
            | Synapses::Subsample { input, .. } => input,
            Synapses::Dense { inputs, .. } => Shape3::flat(inputs),
        }
    }

    /// Shape of the target layer.
    pub fn output_shape(&self) -> Shape3 {
        match self.synapses {
            Synapses::Conv { output, .. }
            | Synapses::AvgPool2 { output, .. }
            | Synapses::Subsample { output, .. } => output,
            Synapses::Dense { outputs, .. } => Shape3::flat(outputs),
        }
    }

    /// The box of target neurons reached by one spike of source neuron `idx` (channel-last), or
    /// `None` when it reaches nothing (a pixel dropped by pooling or subsampling).
    pub fn targets(&self, idx: usize) -> Option<Region> {
        match self.synapses {
            Synapses::Conv { input, output, .. } => {
                let p = idx / input.channels;
                let (y, x) = (p / input.width, p % input.width);
                let (y0, y1) = self.rows_out[y];
                let (x0, x1) = self.cols_out[x];
                (y0 < y1 && x0 < x1).then_some(Region {
                    c0: 0,
                    c1: output.channels as u32,
                    y0,
                    y1,
                    x0,
                    x1,
                })
            }
            Synapses::Dense { outputs, .. } => Some(Region::whole(Shape3::flat(outputs))),
            Synapses::AvgPool2 { input, output } => {
                let c = (idx % input.channels) as u32;
                let p = idx / input.channels;
                let (y, x) = ((p / input.width) / 2, (p % input.width) / 2);
                (y < output.height && x < output.width).then_some(Region {
                    c0: c,
                    c1: c + 1,
                    y0: y as u32,
                    y1: y as u32 + 1,
                    x0: x as u32,
                    x1: x as u32 + 1,
                })
            }
            Synapses::Subsample {
                stride,
                input,
                output,
            } => {
                let c = (idx % input.channels) as u32;
                let p = idx / input.channels;
                let (y, x) = (p / input.width, p % input.width);
                (y % stride == 0
                    && x % stride == 0
                    && y / stride < output.height
                    && x / stride < output.width)
                    .then_some(Region {
                        c0: c,
                        c1: c + 1,
                        y0: (y / stride) as u32,
                        y1: (y / stride) as u32 + 1,
                        x0: (x / stride) as u32,
                        x1: (x / stride) as u32 + 1,
                    })
            }
        }
    }

    /// The presynaptic neurons of target box `r`, as a field in the source layer's own shape
    /// (for dense synapses: the whole source).
    pub fn field(&self, r: &Region, source_shape: Shape3) -> Field {
        let source = self.source;
        match self.synapses {
            Synapses::Conv {
                kernel,
                stride,
                padding,
                input,
                ..
            } => {
                let lo = |o: u32| (o as isize * stride as isize - padding as isize).max(0) as u32;
                let hi = |o: u32, len: usize| {
                    (((o - 1) as isize * stride as isize - padding as isize + kernel as isize)
                        .min(len as isize))
                    .max(0) as u32
                };
                Field {
                    source,
                    region: Region {
                        c0: 0,
                        c1: input.channels as u32,
                        y0: lo(r.y0),
                        y1: hi(r.y1, input.height),
                        x0: lo(r.x0),
                        x1: hi(r.x1, input.width),
                    },
                    stride: 1,
                }
            }
            Synapses::Dense { .. } => Field {
                source,
                region: Region::whole(source_shape),
                stride: 1,
            },
            Synapses::AvgPool2 { .. } => Field {
                source,
                region: Region {
                    c0: r.c0,
                    c1: r.c1,
                    y0: 2 * r.y0,
                    y1: 2 * r.y1,
                    x0: 2 * r.x0,
                    x1: 2 * r.x1,
                },
                stride: 1,
            },
            Synapses::Subsample { stride, .. } => {
                let s = stride as u32;
                Field {
                    source,
                    region: Region {
                        c0: r.c0,
                        c1: r.c1,
                        y0: s * r.y0,
                        y1: s * (r.y1 - 1) + 1,
                        x0: s * r.x0,
                        x1: s * (r.x1 - 1) + 1,
                    },
                    stride: s,
                }
            }
        }
    }

    /// Stored synapses of a target neuron factor as `taps(y, Axis::Rows) · taps(x, Axis::Cols) ·
    /// per_position()` (in-bounds kernel taps only: padding taps are not stored): the kernel
    /// taps of output position `o` along `axis` that land inside the input.
    fn taps(&self, o: usize, axis: Axis) -> u64 {
        match self.synapses {
            Synapses::Conv {
                kernel,
                stride,
                padding,
                input,
                ..
            } => {
                let len = match axis {
                    Axis::Rows => input.height,
                    Axis::Cols => input.width,
                };
                valid_taps(o, len, kernel, stride, padding)
            }
            _ => 1,
        }
    }

    /// Synapses per stored tap position of one target neuron (see [`Edge::taps`]).
    fn per_position(&self) -> u64 {
        match self.synapses {
            Synapses::Conv { input, .. } => input.channels as u64,
            Synapses::Dense { inputs, .. } => inputs as u64,
            Synapses::AvgPool2 { .. } => 4,
            Synapses::Subsample { .. } => 1,
        }
    }

    /// Synapses the neurons of box `r` hold through this edge (weighted or fixed, in-bounds
    /// kernel taps only: padding taps are not stored).
    pub fn synapses_stored(&self, r: &Region) -> u64 {
        let vy: u64 = (r.y0..r.y1)
            .map(|y| self.taps(y as usize, Axis::Rows))
            .sum();
        let vx: u64 = (r.x0..r.x1)
            .map(|x| self.taps(x as usize, Axis::Cols))
            .sum();
        vy * vx * self.per_position() * (r.c1 - r.c0) as u64
    }

    /// Synapses stored per neuron as a product: neuron (y, x, c) of the target stores
    /// `rows[y] · cols[x] · per` synapses through this edge, so a box stores
    /// `(c1 − c0) · per · Σ rows[y0..y1] · Σ cols[x0..x1]`, the same as
    /// [`Edge::synapses_stored`]. Returns `(rows, cols, per)`.
    pub fn stored_profile(&self) -> (Vec<u64>, Vec<u64>, u64) {
        let out = self.output_shape();
        (
            (0..out.height).map(|y| self.taps(y, Axis::Rows)).collect(),
            (0..out.width).map(|x| self.taps(x, Axis::Cols)).collect(),
            self.per_position(),
        )
    }

    /// Distinct weight values a box of channels `[c0, c1)` needs when the chip shares one
    /// kernel among all positions of a conv layer (`None` for non-conv synapses).
    pub fn shared_kernel_weights(&self, c0: u32, c1: u32) -> Option<u64> {
        match self.synapses {
            Synapses::Conv { kernel, input, .. } => {
                Some((kernel * kernel * input.channels) as u64 * (c1 - c0) as u64)
            }
            _ => None,
        }
    }

    /// Source neuron count as the synapses see it.
    pub fn input_len(&self) -> usize {
        self.input_shape().len()
    }
}

/// All synapse sets of a network, indexed by source and by target.
#[derive(Clone, Debug)]
pub struct NetGraph {
    /// The plan the graph was built from.
    pub plan: NetworkPlan,
    /// Every edge, main synapses first then shortcuts, in plan order.
    pub edges: Vec<Edge>,
    /// Edge indices leaving each source: index 0 = input, i+1 = plan layer i.
    out_edges: Vec<Vec<usize>>,
    /// Edge indices entering each plan layer (main first, then shortcut).
    in_edges: Vec<Vec<usize>>,
}

impl NetGraph {
    /// Builds the graph of a plan.
    pub fn new(plan: &NetworkPlan) -> Self {
        let n = plan.layers.len();
        let mut edges = Vec::new();
        let mut out_edges = vec![Vec::new(); n + 1];
        let mut in_edges = vec![Vec::new(); n];
        for (l, layer) in plan.layers.iter().enumerate() {
            let main_src = Source::main_of(l);
            let mut add = |e: Edge| {
                let id = edges.len();
                out_edges[Self::slot(e.source)].push(id);
                in_edges[l].push(id);
                edges.push(e);
            };
            add(Edge::new(main_src, l, layer.synapses, false));
            if let Some(sc) = layer.shortcut {
                let src = Source::of_shortcut(sc.source);
                add(Edge::new(src, l, sc.synapses, true));
            }
        }
        NetGraph {
            plan: plan.clone(),
            edges,
            out_edges,
            in_edges,
        }
    }

    fn slot(src: Source) -> usize {
        match src {
            Source::Input => 0,
            Source::Layer(i) => i + 1,
        }
    }

    /// Number of plan layers.
    pub fn layers(&self) -> usize {
        self.plan.layers.len()
    }

    /// Every source of spikes: the input, then each layer in plan order.
    pub fn sources(&self) -> impl Iterator<Item = Source> {
        std::iter::once(Source::Input).chain((0..self.layers()).map(Source::Layer))
    }

    /// Shape of a source's neurons.
    pub fn source_shape(&self, src: Source) -> Shape3 {
        match src {
            Source::Input => self.plan.input,
            Source::Layer(i) => self.plan.layers[i].output,
        }
    }

    /// Edges leaving a source.
    pub fn edges_from(&self, src: Source) -> impl Iterator<Item = &Edge> {
        self.out_edges[Self::slot(src)]
            .iter()
            .map(|&e| &self.edges[e])
    }

    /// Edges entering a layer (main first, then shortcut).
    pub fn edges_into(&self, layer: usize) -> impl Iterator<Item = &Edge> {
        self.in_edges[layer].iter().map(|&e| &self.edges[e])
    }
}
