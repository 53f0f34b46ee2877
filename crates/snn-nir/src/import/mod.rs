//! NIR [`Graph`] → snn [`Model`]: recognizes snn's layers in the graph (Conv2d→LIF,
//! SumPool2d/AvgPool2d→IF, [Flatten→]Affine→LIF, Affine→LI readout, and residual blocks: two
//! Conv2d→LIF whose second LIF also receives the block input through a 1×1 Conv2d or a direct
//! edge), checks every shape, and converts the neuron parameters with [`crate::convention`].
//!
//! What is exact and what is not:
//! * snn's one leak, threshold and pooling threshold per network must be uniform over the
//!   neurons of the file (per-neuron arrays with different values are refused).
//! * A layer whose threshold differs from the first LIF layer's, or whose input gain
//!   `r·dt/tau` is not 1, has its incoming weights scaled so the spikes are the same
//!   (exact in real arithmetic, rounded in f32): reported in [`Imported::notes`].
//! * The readout LI's input gain `r·dt/tau` becomes snn's `V = λ(V + I)` by scaling its
//!   weights by gain/λ (1/λ for snnTorch's `r = tau/dt`): outputs scale, predictions do not.
//! * A last spiking LIF is read as snn's non-spiking readout (`argmax V(T)/T` instead of
//!   spike counts): an approximation, reported in the notes.
//! * Lenient where exporters differ: Flatten counting the batch or not, `bias` absent or
//!   zero, optional `v_reset`/`v_leak`/`input_shape`/`dilation`/`groups`, scalars or
//!   per-neuron arrays, `padding = "same"`/`"valid"`, AvgPool2d or SumPool2d.
//! * Files written by snn carry metadata with the exact f32 parameters, so they import
//!   bit-identically.

use crate::convention::{self as conv, DEFAULT_DT};
use crate::error::NirError;
use crate::graph::{meta_get, Graph, MetaValue, Node, NodeKind};
use snn_core::{LayerSpec, Model, Shape3};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod network;
mod neuron;
mod synapse;

/// A model read from NIR, with what the reader had to assume or approximate.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The model (spec, weights, provenance).
    pub model: Model,
    /// One line per assumption or approximation (print them where the model is used).
    pub notes: Vec<String>,
}

/// Most neurons (input pixels, and all layers together) a NIR file may describe: far above
/// snn's presets (VGG9 has about 0.3 M), far below what would exhaust memory.
pub const MAX_NEURONS: usize = 1 << 24;

/// Relative tolerance for "the same value" of parameters computed in floating point.
const REL_TOL: f64 = 1e-6;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= REL_TOL * a.abs().max(b.abs()) || a == b
}

/// Converts a graph to a model. `dt`: the time step (seconds) to read tau with; `None` takes
/// the file's `snn_dt` metadata, else snnTorch's 1e-4 s.
pub fn from_graph(g: &Graph, path: &Path, dt: Option<f64>) -> Result<Imported, NirError> {
    let mut im = Importer::new(g, path, dt)?;
    im.run()?;
    im.finish()
}

/// A neuron node's input: from `source` (a neuron node or the input) through an optional
/// synapse node (with an optional Flatten before it).
#[derive(Clone, Copy, Debug)]
struct InPath {
    source: usize,
    synapse: Option<usize>,
    flatten: Option<usize>,
}

/// Neuron parameters of one layer after the uniformity checks.
#[derive(Clone, Copy, Debug)]
struct Neuron {
    /// Leak per step (1 for IF).
    beta: f64,
    /// Input gain per step.
    gain: f64,
    /// Threshold (infinite for LI).
    threshold: f64,
}

struct Importer<'a> {
    g: &'a Graph,
    path: PathBuf,
    dt: f64,
    preds: Vec<Vec<usize>>,
    succs: Vec<Vec<usize>>,
    visited: Vec<bool>,
    notes: Vec<String>,
    layers: Vec<LayerSpec>,
    /// Per plan layer: main weights, shortcut weights, the layer's neuron parameters,
    /// its neuron node's name, and whether its shortcut is an identity.
    blocks: Vec<Block>,
    input: Shape3,
}

struct Block {
    main: Vec<f32>,
    shortcut: Vec<f32>,
    neuron: Neuron,
    kind: BlockKind,
    node: String,
    identity_shortcut: bool,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum BlockKind {
    Lif,
    Pool { sum: bool },
    Readout { spiking: bool },
}

impl<'a> Importer<'a> {
    fn new(g: &'a Graph, path: &Path, dt: Option<f64>) -> Result<Self, NirError> {
        let path = path.to_path_buf();
        let dt = match dt {
            Some(d) => d,
            None => match meta_get(&g.metadata, conv::KEY_DT) {
                Some(MetaValue::Float(d)) => *d,
                _ => DEFAULT_DT,
            },
        };
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(NirError::Graph {
                path,
                msg: format!("dt must be a positive number of seconds, got {dt}"),
            });
        }
        let index: HashMap<&str, usize> = g
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        let mut preds = vec![Vec::new(); g.nodes.len()];
        let mut succs = vec![Vec::new(); g.nodes.len()];
        for (a, b) in &g.edges {
            let find = |n: &str| {
                index.get(n).copied().ok_or_else(|| NirError::Graph {
                    path: path.clone(),
                    msg: format!("edge {a} -> {b} names a node '{n}' that does not exist"),
                })
            };
            let (ia, ib) = (find(a)?, find(b)?);
            succs[ia].push(ib);
            preds[ib].push(ia);
        }
        Ok(Importer {
            g,
            path,
            dt,
            preds,
            succs,
            visited: vec![false; g.nodes.len()],
            notes: Vec::new(),
            layers: Vec::new(),
            blocks: Vec::new(),
            input: Shape3::flat(1),
        })
    }

    fn graph_err(&self, msg: String) -> NirError {
        NirError::Graph {
            path: self.path.clone(),
            msg,
        }
    }

    fn node_err(&self, i: usize, msg: String) -> NirError {
        NirError::Node {
            path: self.path.clone(),
            node: self.g.nodes[i].name.clone(),
            msg,
        }
    }

    fn node(&self, i: usize) -> &'a Node {
        &self.g.nodes[i]
    }

    fn name(&self, i: usize) -> &'a str {
        &self.g.nodes[i].name
    }

    fn describe(&self, i: usize) -> String {
        format!("'{}' ({})", self.name(i), self.node(i).kind.type_name())
    }

    fn is_neuron(&self, i: usize) -> bool {
        matches!(
            self.node(i).kind,
            NodeKind::Lif { .. } | NodeKind::If { .. } | NodeKind::Li { .. }
        )
    }

    fn is_source(&self, i: usize) -> bool {
        self.is_neuron(i) || matches!(self.node(i).kind, NodeKind::Input { .. })
    }

    fn the_one(&self, want: &str) -> Result<usize, NirError> {
        let found: Vec<usize> = (0..self.g.nodes.len())
            .filter(|&i| self.node(i).kind.type_name() == want)
            .collect();
        match found.as_slice() {
            [i] => Ok(*i),
            [] => Err(self.graph_err(format!("the graph has no {want} node"))),
            _ => Err(self.graph_err(format!(
                "the graph has {} {want} nodes; snn runs one input and one output",
                found.len()
            ))),
        }
    }

    /// Neuron nodes in topological order (Kahn's algorithm; a cycle is refused).
    fn neuron_order(&self) -> Result<Vec<usize>, NirError> {
        let n = self.g.nodes.len();
        let mut indeg: Vec<usize> = self.preds.iter().map(Vec::len).collect();
        let mut ready: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        ready.reverse();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop() {
            order.push(i);
            for &j in self.succs[i].iter().rev() {
                indeg[j] -= 1;
                if indeg[j] == 0 {
                    ready.push(j);
                }
            }
        }
        if order.len() != n {
            let stuck = (0..n).find(|&i| indeg[i] > 0).unwrap_or(0);
            return Err(self.graph_err(format!(
                "the graph has a cycle through node '{}' (recurrent connections are not supported)",
                self.name(stuck)
            )));
        }
        Ok(order.into_iter().filter(|&i| self.is_neuron(i)).collect())
    }

    /// The inputs of neuron node `n`.
    fn in_paths(&self, n: usize) -> Result<Vec<InPath>, NirError> {
        let mut out = Vec::new();
        for &p in &self.preds[n] {
            if self.is_source(p) {
                out.push(InPath {
                    source: p,
                    synapse: None,
                    flatten: None,
                });
                continue;
            }
            let synaptic = matches!(
                self.node(p).kind,
                NodeKind::Conv2d { .. } | NodeKind::Affine { .. } | NodeKind::Pool2d { .. }
            );
            if !synaptic {
                return Err(self.graph_err(format!(
                    "{} feeds neuron node '{}' directly; snn expects a Conv2d, Affine or pooling node there",
                    self.describe(p),
                    self.name(n)
                )));
            }
            let single = |i: usize, what: &str| -> Result<usize, NirError> {
                match (self.preds[i].as_slice(), self.succs[i].len()) {
                    ([q], 1) => Ok(*q),
                    (ps, ns) => Err(self.graph_err(format!(
                        "{what} {} has {} inputs and {} outputs; snn needs one of each",
                        self.describe(i),
                        ps.len(),
                        ns
                    ))),
                }
            };
            let mut q = single(p, "synapse node")?;
            let mut flatten = None;
            if matches!(self.node(q).kind, NodeKind::Flatten { .. }) {
                flatten = Some(q);
                q = single(q, "flatten node")?;
            }
            if !self.is_source(q) {
                return Err(self.graph_err(format!(
                    "{} feeds {}; snn expects a neuron node or the input there",
                    self.describe(q),
                    self.describe(p)
                )));
            }
            out.push(InPath {
                source: q,
                synapse: Some(p),
                flatten,
            });
        }
        Ok(out)
    }

    fn run(&mut self) -> Result<(), NirError> {
        let input = self.the_one("Input")?;
        let output = self.the_one("Output")?;
        self.visited[input] = true;
        self.visited[output] = true;
        self.input = self.input_shape(input)?;
        let neurons = self.neuron_order()?;
        let mut cur = input;
        let mut shape = self.input;
        let mut k = 0;
        while k < neurons.len() {
            let n = neurons[k];
            let paths = self.in_paths(n)?;
            let [path] = paths.as_slice() else {
                return Err(self.graph_err(format!(
                    "neuron node '{}' has {} inputs; only the second LIF of a residual block may have two",
                    self.name(n),
                    paths.len()
                )));
            };
            if path.source != cur {
                return Err(self.graph_err(format!(
                    "neuron node '{}' reads {}, but snn runs layers as a chain and expected {}",
                    self.name(n),
                    self.describe(path.source),
                    self.describe(cur)
                )));
            }
            // A residual block: the next neuron reads this one and the block input.
            if let Some(&b) = neurons.get(k + 1) {
                let next = self.in_paths(b)?;
                if next.len() == 2 {
                    shape = self.residual(cur, shape, n, *path, b, &next)?;
                    cur = b;
                    k += 2;
                    continue;
                }
            }
            let last = k + 1 == neurons.len();
            shape = self.layer(shape, n, *path, last)?;
            cur = n;
            k += 1;
        }
        if self.preds[output].as_slice() != [cur] {
            return Err(self.graph_err(format!(
                "the output node must be fed by the last neuron node {} alone",
                self.describe(cur)
            )));
        }
        if let NodeKind::Output { shape: out } = &self.node(output).kind {
            let len: usize = out.iter().product();
            if !out.is_empty() && len != shape.len() {
                return Err(self.node_err(
                    output,
                    format!(
                        "output shape {out:?} does not match the readout's {} neurons",
                        shape.len()
                    ),
                ));
            }
        }
        if let Some(i) = self.visited.iter().position(|v| !v) {
            return Err(self.graph_err(format!(
                "node {} is not on snn's path from the input to the output",
                self.describe(i)
            )));
        }
        Ok(())
    }

    fn input_shape(&self, i: usize) -> Result<Shape3, NirError> {
        let NodeKind::Input { shape } = &self.node(i).kind else {
            unreachable!("the_one(\"Input\") returns an Input node")
        };
        let s = match shape.as_slice() {
            [n] => Shape3::flat(*n),
            [h, w] => Shape3::new(1, *h, *w),
            [c, h, w] => Shape3::new(*c, *h, *w),
            [1, c, h, w] => Shape3::new(*c, *h, *w),
            other => {
                return Err(self.node_err(i, format!("input shape {other:?} is not C x H x W")))
            }
        };
        let len = [s.channels, s.height, s.width]
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d));
        match len {
            Some(0) => Err(self.node_err(i, format!("input shape {shape:?} has no elements"))),
            Some(n) if n <= MAX_NEURONS => Ok(s),
            _ => Err(self.node_err(
                i,
                format!("input shape {shape:?} has more than {MAX_NEURONS} elements"),
            )),
        }
    }

    /// One plain layer: its synapse node and neuron node.
    fn layer(
        &mut self,
        shape: Shape3,
        n: usize,
        p: InPath,
        last: bool,
    ) -> Result<Shape3, NirError> {
        let Some(s) = p.synapse else {
            return Err(self.graph_err(format!(
                "neuron node '{}' reads {} without synapses between them",
                self.name(n),
                self.describe(p.source)
            )));
        };
        self.visited[n] = true;
        self.visited[s] = true;
        let neuron_kind = self.node(n).kind.type_name();
        let (spec, main, out, kind) = match (&self.node(s).kind, &self.node(n).kind) {
            (NodeKind::Conv2d { .. }, NodeKind::Lif { .. }) => {
                let (spec, w, out) = self.conv(s, shape, None)?;
                (spec, w, out, BlockKind::Lif)
            }
            (NodeKind::Pool2d { average, .. }, NodeKind::If { .. }) => {
                let out = self.pool(s, shape)?;
                (LayerSpec::Pool, Vec::new(), out, BlockKind::Pool { sum: !average })
            }
            (NodeKind::Affine { .. }, NodeKind::Lif { .. } | NodeKind::Li { .. }) => {
                let (w, outs) = self.dense(s, p.flatten, shape)?;
                let is_li = neuron_kind == "LI";
                if is_li && !last {
                    return Err(self.graph_err(format!(
                        "LI node '{}' is not the last neuron node; snn's non-spiking readout must be last",
                        self.name(n)
                    )));
                }
                let (spec, kind) = if last {
                    if !is_li {
                        self.notes.push(format!(
                            "approximation: the last LIF node '{}' is run as snn's non-spiking readout (prediction argmax V(T)/T instead of spike counts)",
                            self.name(n)
                        ));
                    }
                    (
                        LayerSpec::Readout { out_features: outs },
                        BlockKind::Readout { spiking: !is_li },
                    )
                } else {
                    (LayerSpec::Linear { out_features: outs }, BlockKind::Lif)
                };
                (spec, w, Shape3::flat(outs), kind)
            }
            _ => {
                return Err(self.graph_err(format!(
                    "{} feeds {}; snn's layers are Conv2d->LIF, SumPool2d/AvgPool2d->IF, Affine->LIF and a last Affine->LI readout",
                    self.describe(s),
                    self.describe(n)
                )))
            }
        };
        if last && !matches!(kind, BlockKind::Readout { .. }) {
            return Err(self.graph_err(format!(
                "the last neuron node {} must be a readout (Affine->LI)",
                self.describe(n)
            )));
        }
        let neuron = self.neuron(n, out.len())?;
        self.layers.push(spec);
        self.blocks.push(Block {
            main,
            shortcut: Vec::new(),
            neuron,
            kind,
            node: self.name(n).to_string(),
            identity_shortcut: false,
        });
        Ok(out)
    }

    /// A residual block: `a` (Conv2d 3x3 stride 1 pad 1 → LIF) and `b` (Conv2d 3x3 pad 1 →
    /// LIF) with the block input `cur` added into `b` through `next`'s other path.
    fn residual(
        &mut self,
        cur: usize,
        shape: Shape3,
        a: usize,
        pa: InPath,
        b: usize,
        next: &[InPath],
    ) -> Result<Shape3, NirError> {
        let (main, short) = match (next[0].source, next[1].source) {
            (x, y) if x == a && y == cur => (next[0], next[1]),
            (x, y) if y == a && x == cur => (next[1], next[0]),
            _ => {
                return Err(self.graph_err(format!(
                    "neuron node '{}' has two inputs that are not a residual block (the previous LIF and the block input {})",
                    self.name(b),
                    self.describe(cur)
                )))
            }
        };
        for (n, p) in [(a, pa), (b, main)] {
            let ok = matches!(self.node(n).kind, NodeKind::Lif { .. })
                && p.synapse
                    .is_some_and(|s| matches!(self.node(s).kind, NodeKind::Conv2d { .. }));
            if !ok {
                return Err(self.graph_err(format!(
                    "residual block at '{}': both layers must be Conv2d->LIF",
                    self.name(b)
                )));
            }
        }
        let (sa, sb) = (pa.synapse.unwrap_or(a), main.synapse.unwrap_or(b));
        for i in [a, b, sa, sb] {
            self.visited[i] = true;
        }
        let (spec_a, wa, out_a) = self.conv(sa, shape, Some((3, 1, 1)))?;
        let (spec_b, wb, out_b) = self.conv(sb, out_a, Some((3, 0, 1)))?;
        let (
            LayerSpec::Conv { out_channels, .. },
            LayerSpec::Conv {
                stride,
                out_channels: cb,
                ..
            },
        ) = (spec_a, spec_b)
        else {
            unreachable!("conv returns LayerSpec::Conv")
        };
        if cb != out_channels || !(stride == 1 || stride == 2) {
            return Err(self.graph_err(format!(
                "residual block at '{}': both convolutions need the same channels and the second stride 1 or 2",
                self.name(b)
            )));
        }
        let identity_expected = shape.channels == out_channels;
        let (shortcut, identity) = match short.synapse {
            None if stride == 1 && identity_expected => (Vec::new(), true),
            None => {
                return Err(self.graph_err(format!(
                "residual block at '{}': a direct shortcut edge needs stride 1 and equal channels",
                self.name(b)
            )))
            }
            Some(s) => {
                self.visited[s] = true;
                if short.flatten.is_some() || !matches!(self.node(s).kind, NodeKind::Conv2d { .. })
                {
                    return Err(self.graph_err(format!(
                        "residual block at '{}': the shortcut {} must be a 1x1 Conv2d",
                        self.name(b),
                        self.describe(s)
                    )));
                }
                let (_, w, out) = self.conv(s, shape, Some((1, stride, 0)))?;
                if out != out_b {
                    return Err(self.node_err(
                        s,
                        format!("shortcut gives {out} but the block gives {out_b}"),
                    ));
                }
                if identity_expected {
                    // snn's shortcut between equal channel counts is the (subsampling) identity.
                    let c = out_channels;
                    let eye = (0..c * c).all(|i| w[i] == if i / c == i % c { 1.0 } else { 0.0 });
                    if !eye {
                        return Err(self.node_err(
                            s,
                            "a shortcut between equal channel counts must be the identity (snn has no 1x1 conv there)".into(),
                        ));
                    }
                    (Vec::new(), true)
                } else {
                    (w, false)
                }
            }
        };
        let na = self.neuron(a, out_a.len())?;
        let nb = self.neuron(b, out_b.len())?;
        self.layers.push(LayerSpec::Residual {
            out_channels,
            stride,
        });
        self.blocks.push(Block {
            main: wa,
            shortcut: Vec::new(),
            neuron: na,
            kind: BlockKind::Lif,
            node: self.name(a).to_string(),
            identity_shortcut: false,
        });
        self.blocks.push(Block {
            main: wb,
            shortcut,
            neuron: nb,
            kind: BlockKind::Lif,
            node: self.name(b).to_string(),
            identity_shortcut: identity,
        });
        Ok(out_b)
    }
}
