//! Gradients of the summed squared-error loss with respect to all weights, for one sample,
//! in the two modes of SPEC §4:
//!
//! * [`GradMode::Code`]: the authors' code (paper-method §4.3): per LIF neuron the membrane
//!   gradient follows `δu(t) = s(t)·(NG/V_th)·m·g(t) + (1−s(t))·δu(t+1)`. Since `δu` changes only
//!   at the neuron's spike steps, the backward runs backwards in time over spike *events*: each
//!   change `Δ` adds `Δ·X(t)` to the weight gradient (X = cumulative input counts up to t, by
//!   Abel summation of `Σ_t δu(t)x(t)`) and `Δ·W` to the running input gradient `g` of the layer
//!   below. Cost is proportional to spikes × fan-in, like the forward.
//! * [`GradMode::Aggregate`]: the paper's formulation (§4.2): one backward over spike counts,
//!   `δ_j = (Σ_k w_jk δ_k)·(NG_j/V_th)` for neurons that fired, `∂W = δ ⊗ x_tot`; cost independent
//!   of T.
//! * [`GradMode::If`]: the code mode's recurrence with `NG = 1` for every neuron that fired: the
//!   IF derivative, i.e. the leak correction switched off (the paper's ablation).
//!
//! Pooling neurons (IF, threshold 0.75) pass gradients with factor 1 in every mode, as the
//! authors' code does (paper-method §4.3), not with the `1/0.75` that the IF formula `1/V_th`
//! would give: in code mode the factor is what their autograd graph computes, and the aggregate
//! mode keeps it so that the two modes differ only in their temporal structure. The gradient
//! tests pin it (`tests/gradients.rs`, the count surrogate's pooling gate).
//!
//! Both share the readout (`∂L/∂o = 2(o − y)`, `∂o/∂I(t) = 1/T`) and the event kernel.

pub mod event;
pub mod group;

use crate::trace::{SpikeTrain, Trace};
use serde::{Deserialize, Serialize};
use snn_core::plan::{LayerKind, Synapses};
use snn_core::runtime::CompiledNet;

/// Which gradient the trainer computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum GradMode {
    /// The authors' gated recurrence over time steps (default).
    Code,
    /// One backward over accumulated spike counts.
    Aggregate,
    /// The gated recurrence with `NG = 1`: no leak correction (ablation).
    If,
}

impl std::fmt::Display for GradMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GradMode::Code => "code",
            GradMode::Aggregate => "aggregate",
            GradMode::If => "if",
        })
    }
}

/// Weight gradients of all layers in the transposed (output-major) layout.
#[derive(Clone, Debug, Default)]
pub struct Grads {
    /// Per layer: (main, shortcut).
    pub layers: Vec<(Vec<f32>, Vec<f32>)>,
}

impl Grads {
    /// Zero gradients shaped like `net`'s weights.
    pub fn zeros(net: &CompiledNet) -> Self {
        Grads {
            layers: net
                .plan
                .layers
                .iter()
                .map(|l| {
                    (
                        vec![0.0; l.synapses.weight_count()],
                        vec![0.0; l.shortcut.map_or(0, |s| s.synapses.weight_count())],
                    )
                })
                .collect(),
        }
    }

    /// Sets every gradient to zero.
    pub fn zero(&mut self) {
        for (m, s) in &mut self.layers {
            m.fill(0.0);
            s.fill(0.0);
        }
    }

    /// Adds `other` element-wise.
    pub fn add(&mut self, other: &Grads) {
        self.add_all(&[other]);
    }

    /// Adds every gradient of `others`, element by element in their order (so each element is
    /// `((self + o₀) + o₁) + …`, as repeated [`Grads::add`] gives), in parallel over slices of
    /// the tensors on the current rayon pool.
    pub fn add_all(&mut self, others: &[&Grads]) {
        use rayon::prelude::*;
        const SLICE: usize = 1 << 15;
        let mut jobs: Vec<(&mut [f32], Vec<&[f32]>)> = Vec::new();
        for (l, (m, s)) in self.layers.iter_mut().enumerate() {
            for (k, dst) in [m, s].into_iter().enumerate() {
                for (c, d) in dst.chunks_mut(SLICE).enumerate() {
                    let srcs = others
                        .iter()
                        .map(|o| {
                            let v = if k == 0 {
                                &o.layers[l].0
                            } else {
                                &o.layers[l].1
                            };
                            &v[c * SLICE..c * SLICE + d.len()]
                        })
                        .collect();
                    jobs.push((d, srcs));
                }
            }
        }
        jobs.into_par_iter().for_each(|(d, srcs)| {
            for src in srcs {
                d.iter_mut().zip(src).for_each(|(a, b)| *a += b);
            }
        });
    }
}

/// Scratch buffers of the backward pass, reused across samples.
#[derive(Clone, Debug, Default)]
pub struct BackwardScratch {
    du: Vec<Vec<f32>>,
    g: Vec<Vec<f32>>,
    gate: Vec<Vec<f32>>,
    fired: Vec<Vec<bool>>,
    x_main: Vec<Vec<f32>>,
    x_short: Vec<Vec<f32>>,
    lf: Vec<f64>,
    count: Vec<u32>,
    /// Events of the output position being collected: `(c_out, Δ)`.
    events: Vec<(u32, f32)>,
    /// A layer's `(j, Δ)` of one step (code mode) or of the whole sample (aggregate mode).
    pending: Vec<(usize, f32)>,
    /// When set, nanoseconds of backward work per layer (its gates, its events' weight and
    /// input gradients, its cumulative inputs), summed over samples: for benchmarks.
    pub layer_nanos: Option<Vec<u64>>,
}

/// Per-neuron leak-correction gate of paper-method §4.3:
/// `NG = 1[LF > 1e-3] + ln(λ)·LF / max*(γ)`, with `LF = Σ_t λ^{T−t} s(t)` and `γ = Σ_t s(t)`.
pub fn leak_correction(spike_steps: &[usize], timesteps: usize, leak: f64) -> f64 {
    let gamma = spike_steps.len() as f64;
    let lf: f64 = spike_steps
        .iter()
        .map(|&t| leak.powi((timesteps - 1 - t) as i32))
        .sum();
    leak_correction_ng(gamma, lf, leak)
}

/// `NG` from the spike count `γ` and the filtered trace `LF` (see [`leak_correction`]).
pub fn leak_correction_ng(gamma: f64, lf: f64, leak: f64) -> f64 {
    let ind = if lf > 1e-3 { 1.0 } else { 0.0 };
    let max_g = if gamma >= 1e-3 { gamma } else { 1.0 };
    ind + leak.ln() * lf / max_g
}

/// Reference code-mode recurrence for one neuron (naive, per step), used by tests:
/// returns `δu(t)` for `t = 0..T` given its spikes, incoming gradient `g(t)`, `NG` and `V_th`.
pub fn code_recurrence_reference(spikes: &[bool], g: &[f64], ng: f64, v_th: f64) -> Vec<f64> {
    let mut du = vec![0.0; spikes.len()];
    let mut next = 0.0;
    for t in (0..spikes.len()).rev() {
        du[t] = if spikes[t] { ng / v_th * g[t] } else { next };
        next = du[t];
    }
    du
}

fn source_train(trace: &Trace, src: Option<usize>) -> (&SpikeTrain, Option<&SpikeTrain>, f32) {
    match src {
        None => (&trace.input_pos, Some(&trace.input_neg), 1.0),
        Some(i) => (&trace.layers[i], None, trace.values[i]),
    }
}

/// Adds `sign·value` for every spike of step range `steps` of a source into `x`.
fn add_counts(x: &mut [f32], trace: &Trace, src: Option<usize>, t: Option<usize>, sign: f32) {
    let (pos, neg, value) = source_train(trace, src);
    let add = |x: &mut [f32], train: &SpikeTrain, v: f32| {
        let idx = match t {
            Some(t) => train.step(t),
            None => train.all(),
        };
        for &i in idx {
            x[i as usize] += v;
        }
    };
    add(x, pos, sign * value);
    if let Some(neg) = neg {
        add(x, neg, -sign * value);
    }
}

/// Computes the loss `Σ_j (o_j − y_j)²` of one sample and adds its weight gradients to `grads`.
pub fn backward_sample(
    net: &CompiledNet,
    wt: &crate::params::TransposedWeights,
    trace: &Trace,
    label: usize,
    mode: GradMode,
    grads: &mut Grads,
    s: &mut BackwardScratch,
) -> f64 {
    snn_core::dispatch_avx2!(backward_body(net, wt, trace, label, mode, grads, s))
}

#[inline(always)]
fn backward_body(
    net: &CompiledNet,
    wt: &crate::params::TransposedWeights,
    trace: &Trace,
    label: usize,
    mode: GradMode,
    grads: &mut Grads,
    s: &mut BackwardScratch,
) -> f64 {
    let layers = &net.plan.layers;
    let n = layers.len();
    let timesteps = trace.timesteps;
    let readout = n - 1;
    let main_src = |l: usize| if l == 0 { None } else { Some(l - 1) };

    let mut clock = Lap::new(s.layer_nanos.is_some());
    // Cumulative input values X per synapse set, initialised to the totals over all steps.
    s.x_main.resize_with(n, Vec::new);
    s.x_short.resize_with(n, Vec::new);
    for (l, layer) in layers.iter().enumerate() {
        let needs_x =
            |syn: &Synapses| matches!(syn, Synapses::Conv { .. } | Synapses::Dense { .. });
        let x = &mut s.x_main[l];
        x.clear();
        if needs_x(&layer.synapses) {
            x.resize(layer.synapses.input_len(), 0.0);
            add_counts(x, trace, main_src(l), None, 1.0);
        }
        let xs = &mut s.x_short[l];
        xs.clear();
        if let Some(sc) = layer.shortcut.filter(|sc| needs_x(&sc.synapses)) {
            xs.resize(sc.synapses.input_len(), 0.0);
            add_counts(xs, trace, sc.source, None, 1.0);
        }
        clock.lap(&mut s.layer_nanos, l);
    }

    // Gates per hidden neuron: NG/V_th·m for LIF, 1 for pooling IF (paper-method §4.3).
    s.gate.resize_with(n, Vec::new);
    s.fired.resize_with(n, Vec::new);
    s.du.resize_with(n, Vec::new);
    s.g.resize_with(n, Vec::new);
    let leak = net.neuron.leak as f64;
    for (l, layer) in layers.iter().enumerate().take(readout) {
        let len = layer.output.len();
        s.du[l].clear();
        s.du[l].resize(len, 0.0);
        s.g[l].clear();
        s.g[l].resize(len, 0.0);
        s.fired[l].clear();
        s.fired[l].resize(len, false);
        let gate = &mut s.gate[l];
        gate.clear();
        gate.resize(len, 0.0);
        let train = &trace.layers[l];
        if layer.kind == LayerKind::Pool {
            for &j in train.all() {
                gate[j as usize] = 1.0;
                s.fired[l][j as usize] = true;
            }
        } else {
            s.lf.clear();
            s.lf.resize(len, 0.0);
            s.count.clear();
            s.count.resize(len, 0);
            for t in 0..timesteps {
                let w = leak.powi((timesteps - 1 - t) as i32);
                for &j in train.step(t) {
                    s.lf[j as usize] += w;
                    s.count[j as usize] += 1;
                }
            }
            let scale = trace.values[l] as f64 / net.neuron.threshold as f64;
            for (j, (g, fired)) in gate.iter_mut().zip(s.fired[l].iter_mut()).enumerate() {
                if s.count[j] > 0 {
                    let ng = match mode {
                        GradMode::If => 1.0,
                        _ => leak_correction_ng(s.count[j] as f64, s.lf[j], leak),
                    };
                    *g = (ng * scale) as f32;
                    *fired = true;
                }
            }
        }
        clock.lap(&mut s.layer_nanos, l);
    }

    // Readout: ∂L/∂o = 2(o − y); ∂o/∂I(t) = 1/T at every step (backward ignores the leak).
    let mut loss = 0.0f64;
    let classes = layers[readout].output.len();
    let mut d_out = vec![0.0f32; classes];
    for (k, d) in d_out.iter_mut().enumerate() {
        let y = if k == label { 1.0 } else { 0.0 };
        let e = trace.output[k] - y;
        loss += (e as f64) * (e as f64);
        *d = 2.0 * e / timesteps as f32;
    }
    for (k, &d) in d_out.iter().enumerate() {
        propagate(net, wt, grads, s, readout, k, d, main_src(readout));
    }
    clock.lap(&mut s.layer_nanos, readout);

    match mode {
        GradMode::Aggregate => {
            for l in (0..readout).rev() {
                let mut events = std::mem::take(&mut s.pending);
                events.clear();
                let (fired, gate, g) = (&s.fired[l], &s.gate[l], &s.g[l]);
                events.extend(
                    (0..layers[l].output.len())
                        .filter(|&j| fired[j])
                        .map(|j| (j, gate[j] * g[j])),
                );
                propagate_all(net, wt, grads, s, l, &events);
                s.pending = events;
                clock.lap(&mut s.layer_nanos, l);
            }
        }
        GradMode::Code | GradMode::If => {
            for t in (0..timesteps).rev() {
                for l in (0..readout).rev() {
                    // The membrane-gradient changes of this step's spikes (they read g[l],
                    // which only the layers above write), then their backward work.
                    let mut events = std::mem::take(&mut s.pending);
                    events.clear();
                    let (du, gate, g) = (&mut s.du[l], &s.gate[l], &s.g[l]);
                    events.extend(trace.layers[l].step(t).iter().map(|&j| {
                        let j = j as usize;
                        let new = gate[j] * g[j];
                        let delta = new - du[j];
                        du[j] = new;
                        (j, delta)
                    }));
                    propagate_all(net, wt, grads, s, l, &events);
                    s.pending = events;
                    clock.lap(&mut s.layer_nanos, l);
                }
                // X(t) → X(t−1): remove this step's inputs.
                for (l, layer) in layers.iter().enumerate().take(readout) {
                    if !s.x_main[l].is_empty() {
                        add_counts(&mut s.x_main[l], trace, main_src(l), Some(t), -1.0);
                    }
                    if let Some(sc) = layer.shortcut {
                        if !s.x_short[l].is_empty() {
                            add_counts(&mut s.x_short[l], trace, sc.source, Some(t), -1.0);
                        }
                    }
                    clock.lap(&mut s.layer_nanos, l);
                }
            }
        }
    }
    loss
}

/// A stopwatch that adds the time since its last lap to a layer's counter, when timing is on.
struct Lap(Option<std::time::Instant>);

impl Lap {
    fn new(on: bool) -> Self {
        Lap(on.then(std::time::Instant::now))
    }

    /// Adds the time since the last lap to `nanos[l]` and starts the next lap.
    #[inline(always)]
    fn lap(&mut self, nanos: &mut Option<Vec<u64>>, l: usize) {
        if let (Some(c), Some(n)) = (self.0.as_mut(), nanos.as_mut()) {
            let now = std::time::Instant::now();
            n[l] += (now - *c).as_nanos() as u64;
            *c = now;
        }
    }
}

/// Applies the events `(j, Δ)` (ascending `j`; `Δ = 0` skipped) of layer `l` through its main
/// synapses and its shortcut. Conv synapses take the events of one output position together
/// ([`group::conv_position`]); the result is bit-identical to one [`propagate`] per event.
#[inline(always)]
fn propagate_all(
    net: &CompiledNet,
    wt: &crate::params::TransposedWeights,
    grads: &mut Grads,
    s: &mut BackwardScratch,
    l: usize,
    events: &[(usize, f32)],
) {
    let layer = &net.plan.layers[l];
    let src = if l == 0 { None } else { Some(l - 1) };
    let conv = |syn: &Synapses| matches!(syn, Synapses::Conv { .. });
    if !conv(&layer.synapses) {
        for &(j, delta) in events {
            if delta != 0.0 {
                propagate(net, wt, grads, s, l, j, delta, src);
            }
        }
        return;
    }
    let channels = layer.output.channels;
    let mut group = std::mem::take(&mut s.events);
    let mut flush = |group: &mut Vec<(u32, f32)>, p: usize, s: &mut BackwardScratch| {
        if group.is_empty() {
            return;
        }
        let (gm, gs) = &mut grads.layers[l];
        let (wm, ws) = &wt.layers[l];
        let (lower, _) = s.g.split_at_mut(l);
        let g_in = src.map(|i| lower[i].as_mut_slice());
        group::conv_position(&layer.synapses, p, group, &s.x_main[l], wm, gm, g_in);
        if let Some(sc) = layer.shortcut {
            let g_in = sc.source.map(|i| lower[i].as_mut_slice());
            if conv(&sc.synapses) {
                group::conv_position(&sc.synapses, p, group, &s.x_short[l], ws, gs, g_in);
            } else if let Some(g_in) = g_in {
                for &(co, d) in group.iter() {
                    let j = p * channels + co as usize;
                    event::apply(&sc.synapses, j, d, &s.x_short[l], ws, gs, Some(g_in));
                }
            }
        }
        group.clear();
    };
    group.clear();
    let mut position = usize::MAX;
    for &(j, delta) in events {
        if delta == 0.0 {
            continue;
        }
        let p = j / channels;
        if p != position {
            flush(&mut group, position, s);
            position = p;
        }
        group.push(((j % channels) as u32, delta));
    }
    flush(&mut group, position, s);
    s.events = group;
}

/// Applies an event of layer `l`'s neuron `j` through its main synapses and its shortcut.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn propagate(
    net: &CompiledNet,
    wt: &crate::params::TransposedWeights,
    grads: &mut Grads,
    s: &mut BackwardScratch,
    l: usize,
    j: usize,
    delta: f32,
    src: Option<usize>,
) {
    let layer = &net.plan.layers[l];
    let (gm, gs) = &mut grads.layers[l];
    let (wm, ws) = &wt.layers[l];
    {
        let (lower, upper) = s.g.split_at_mut(l);
        let _ = upper;
        let g_in = src.map(|i| lower[i].as_mut_slice());
        event::apply(&layer.synapses, j, delta, &s.x_main[l], wm, gm, g_in);
    }
    if let Some(sc) = layer.shortcut {
        let (lower, _) = s.g.split_at_mut(l);
        let g_in = sc.source.map(|i| lower[i].as_mut_slice());
        event::apply(&sc.synapses, j, delta, &s.x_short[l], ws, gs, g_in);
    }
}
