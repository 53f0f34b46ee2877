//! Shared test helpers: hand-written chip descriptions with chosen limits, small networks, and
//! an *independent* brute-force evaluator of a neuron-to-core assignment that enumerates every
//! synapse from the plan geometry (kernel taps, pooling windows, dense rows) without using the
//! mapper's regions, fields or traffic code.

#![allow(dead_code)]

use snn_core::plan::Synapses;
use snn_core::{LayerSpec, Model, NetworkPlan, NetworkSpec, NeuronParams, Shape3};
use snn_map::chip::ChipModel;
use snn_map::pipeline::{map_model, MapOutcome, MapRequest};
use snn_map::traffic::Activity;
use snn_map::MapError;
use std::collections::HashSet;
use std::path::Path;

/// Per-core limits and mesh of a hand-made chip.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub neurons: u64,
    pub fan_in: u64,
    pub fan_out: u64,
    pub memory_bits: u64,
    pub weight_bits: u64,
    pub shared: bool,
    pub width: u32,
    pub height: u32,
    pub cores_per_tile: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            neurons: 1024,
            fan_in: 4096,
            fan_out: 4096,
            memory_bits: 1 << 20,
            weight_bits: 8,
            shared: false,
            width: 4,
            height: 4,
            cores_per_tile: 2,
        }
    }
}

/// The shipped Loihi model with the given mesh and per-core limits (energy and latency are
/// Loihi's; the mapper does not read them).
pub fn chip(l: &Limits) -> ChipModel {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hardware-models/loihi.toml");
    let mut m = ChipModel::load(&path).unwrap_or_else(|e| panic!("{e}"));
    m.name = "testchip".into();
    m.mesh.width.value = l.width;
    m.mesh.height.value = l.height;
    m.mesh.cores_per_tile.value = l.cores_per_tile;
    let c = &mut m.core;
    c.max_neurons.value = l.neurons as u32;
    c.max_fan_in.value = l.fan_in as u32;
    c.max_fan_out.value = l.fan_out as u32;
    c.synaptic_memory_bits.value = l.memory_bits;
    c.weight_bits.value = l.weight_bits as u32;
    c.shared_conv_weights.value = l.shared;
    m.validate().unwrap_or_else(|e| panic!("{e:?}"));
    m
}

/// The TOML text of [`chip`] (for command-line tests).
pub fn chip_toml(l: &Limits) -> String {
    chip(l).to_toml_string()
}

/// A network spec from an input shape and layers (a readout must be last).
pub fn spec(input: (usize, usize, usize), layers: Vec<LayerSpec>) -> NetworkSpec {
    NetworkSpec {
        name: "handmade".into(),
        input: Shape3::new(input.0, input.1, input.2),
        input_scale: 0.5,
        neuron: NeuronParams::default(),
        layers,
    }
}

/// Conv layer spec.
pub fn conv(out: usize, kernel: usize, stride: usize, padding: usize) -> LayerSpec {
    LayerSpec::Conv {
        out_channels: out,
        kernel,
        stride,
        padding,
    }
}

/// An untrained model of a spec.
pub fn model(spec: NetworkSpec) -> Model {
    snn_map::external::untrained(spec).expect("valid spec")
}

/// Maps `model` on `chip` (one chip).
pub fn map(
    model: &Model,
    chip: &ChipModel,
    activity: Option<Activity>,
    seed: u64,
) -> Result<MapOutcome, MapError> {
    map_atoms(
        model,
        chip,
        activity,
        seed,
        snn_map::atoms::DEFAULT_ATOMS_PER_CORE,
    )
}

/// [`map`] with `atoms_per_core` atoms meant to fit one core.
pub fn map_atoms(
    model: &Model,
    chip: &ChipModel,
    activity: Option<Activity>,
    seed: u64,
    atoms_per_core: u32,
) -> Result<MapOutcome, MapError> {
    map_model(&MapRequest {
        model,
        chip,
        chip_path: "test/testchip.toml".into(),
        chips: 1,
        activity,
        seed,
        atoms_per_core,
    })
}

/// Calls `f(input_index)` for every presynaptic neuron of output neuron `t` of `syn`, straight
/// from the definition of each synapse kind (same loops as `snn_core::synapse::reference`).
pub fn presyn(syn: &Synapses, t: usize, mut f: impl FnMut(usize)) {
    match *syn {
        Synapses::Conv {
            kernel,
            stride,
            padding,
            input,
            output,
        } => {
            let co_px = t / output.channels;
            let (oy, ox) = (co_px / output.width, co_px % output.width);
            for ky in 0..kernel {
                for kx in 0..kernel {
                    let iy = (oy * stride + ky) as isize - padding as isize;
                    let ix = (ox * stride + kx) as isize - padding as isize;
                    if iy < 0 || ix < 0 || iy >= input.height as isize || ix >= input.width as isize
                    {
                        continue;
                    }
                    for ci in 0..input.channels {
                        f(input.index(iy as usize, ix as usize, ci));
                    }
                }
            }
        }
        Synapses::Dense { inputs, .. } => (0..inputs).for_each(f),
        Synapses::AvgPool2 { input, output } => {
            let c = t % output.channels;
            let p = t / output.channels;
            let (oy, ox) = (p / output.width, p % output.width);
            for dy in 0..2 {
                for dx in 0..2 {
                    f(input.index(2 * oy + dy, 2 * ox + dx, c));
                }
            }
        }
        Synapses::Subsample {
            stride,
            input,
            output,
        } => {
            let c = t % output.channels;
            let p = t / output.channels;
            let (oy, ox) = (p / output.width, p % output.width);
            f(input.index(oy * stride, ox * stride, c));
        }
    }
}

/// Source slot of a synapse set: 0 = input, `l + 1` = plan layer `l`.
pub fn sources(plan: &NetworkPlan, l: usize) -> Vec<(usize, Synapses)> {
    let mut v = vec![(l, plan.layers[l].synapses)];
    if let Some(sc) = plan.layers[l].shortcut {
        v.push((sc.source.map_or(0, |s| s + 1), sc.synapses));
    }
    v
}

/// Figures of an assignment recomputed by brute force.
#[derive(Debug, Default)]
pub struct Brute {
    pub cores: usize,
    pub neurons: Vec<u64>,
    pub fan_in: Vec<u64>,
    pub memory_bits: Vec<u64>,
    /// Distinct destination cores per core (structural).
    pub fan_out: Vec<u64>,
    pub inter_core_packets: f64,
    pub input_packets: f64,
    pub local_deliveries: f64,
    pub hop_weighted: f64,
    pub core_load: Vec<f64>,
    pub packets_by_layer: Vec<f64>,
}

/// Evaluates `core[l][n]` (core of neuron `n` of plan layer `l`) with positions `xy[core]`
/// under rates `act`, enumerating every synapse. Memory follows SPEC §5: synapses stored ×
/// weight bits, or with shared conv weights one kernel per output channel held on the core.
pub fn brute(
    plan: &NetworkPlan,
    core: &[Vec<u32>],
    xy: &[(u32, u32)],
    act: &Activity,
    weight_bits: u64,
    shared: bool,
) -> Brute {
    let ncores = xy.len();
    let mut b = Brute {
        cores: ncores,
        neurons: vec![0; ncores],
        fan_in: vec![0; ncores],
        memory_bits: vec![0; ncores],
        fan_out: vec![0; ncores],
        core_load: vec![0.0; ncores],
        packets_by_layer: vec![0.0; plan.layers.len()],
        ..Default::default()
    };
    let src_len = |s: usize| {
        if s == 0 {
            plan.input.len()
        } else {
            plan.layers[s - 1].output.len()
        }
    };
    // dests[s][i]: (core, synapse count) pairs reached by source neuron i of source s
    let mut dests: Vec<Vec<Vec<u32>>> = (0..=plan.layers.len())
        .map(|s| vec![Vec::new(); src_len(s)])
        .collect();
    let mut axons: Vec<HashSet<(usize, usize)>> = vec![HashSet::new(); ncores];
    let mut kernels: Vec<HashSet<(usize, usize, usize)>> = vec![HashSet::new(); ncores];
    for (l, layer) in plan.layers.iter().enumerate() {
        for (t, &c) in core[l].iter().enumerate() {
            let c = c as usize;
            b.neurons[c] += 1;
            for (k, (s, syn)) in sources(plan, l).into_iter().enumerate() {
                let mut taps = 0u64;
                presyn(&syn, t, |i| {
                    taps += 1;
                    axons[c].insert((s, i));
                    dests[s][i].push(c as u32);
                });
                match syn {
                    Synapses::Conv { .. } if shared => {
                        if kernels[c].insert((l, k, t % layer.output.channels)) {
                            b.memory_bits[c] += syn.fan_in() as u64 * weight_bits;
                        }
                    }
                    _ => b.memory_bits[c] += taps * weight_bits,
                }
            }
        }
    }
    b.fan_in = axons.iter().map(|a| a.len() as u64).collect();
    let mut routes: Vec<HashSet<u32>> = vec![HashSet::new(); ncores];
    for (s, per) in dests.iter_mut().enumerate() {
        let rates: &[f64] = if s == 0 {
            &act.input
        } else {
            &act.layers[s - 1]
        };
        for (i, d) in per.iter_mut().enumerate() {
            let r = rates[i];
            for &c in d.iter() {
                b.core_load[c as usize] += r;
            }
            d.sort_unstable();
            d.dedup();
            if s == 0 {
                b.input_packets += r * d.len() as f64;
                continue;
            }
            let own = core[s - 1][i];
            for &c in d.iter() {
                if c == own {
                    b.local_deliveries += r;
                } else {
                    b.inter_core_packets += r;
                    b.packets_by_layer[s - 1] += r;
                    let (p, q) = (xy[own as usize], xy[c as usize]);
                    b.hop_weighted += r * (p.0.abs_diff(q.0) + p.1.abs_diff(q.1)) as f64;
                    routes[own as usize].insert(c);
                }
            }
        }
    }
    b.fan_out = routes.iter().map(|r| r.len() as u64).collect();
    b
}

/// Core of every neuron of a mapping (through the atom grid).
pub fn neuron_cores(m: &snn_map::mapping::Mapping) -> Vec<Vec<u32>> {
    m.plan
        .layers
        .iter()
        .enumerate()
        .map(|(l, layer)| (0..layer.output.len()).map(|n| m.core_of(l, n)).collect())
        .collect()
}

/// Tile position of every core of a mapping.
pub fn core_xy(m: &snn_map::mapping::Mapping) -> Vec<(u32, u32)> {
    m.cores.iter().map(|c| (c.slot.x, c.slot.y)).collect()
}

/// Pseudo-random rates in [0, 0.5) for every neuron (readout silent), reproducible by `seed`.
pub fn random_activity(plan: &NetworkPlan, seed: u64) -> Activity {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 0.5
    };
    Activity {
        input: (0..plan.input.len()).map(|_| next()).collect(),
        layers: plan
            .layers
            .iter()
            .map(|l| {
                (0..l.output.len())
                    .map(|_| if l.spikes() { next() } else { 0.0 })
                    .collect()
            })
            .collect(),
        origin: format!("test rates (seed {seed})"),
    }
}

/// Asserts `a ≈ b` relative to their size.
pub fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-9 * (1.0 + a.abs().max(b.abs()));
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b}");
}
