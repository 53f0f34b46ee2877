//! An independent recount of the simulator's event counters on many-core, two-chip mappings
//! (one spike reaches several cores, routes take both x and y hops): every synapse is
//! enumerated by `snn-core`'s reference scatter with unit weights, the mapping says where each
//! neuron lives and where each core sits, and the trainer's evaluation says how often each
//! neuron fired. From those alone this file recounts, per core, the spikes received and
//! emitted, local deliveries, packets inside a tile and over the mesh, hops along x and y and
//! synaptic operations, prices them by hand, and compares with both engines (which `common::sim`
//! asserts equal to each other).

mod common;

use common::*;
use snn_core::plan::{NetworkPlan, Synapses};
use snn_core::synapse::{self, ConvGeometry};
use snn_core::Model;
use snn_map::mapping::Mapping;
use snn_sim::counters::Counts;
use snn_sim::engine::Mode;
use snn_train::eval::evaluate_with_profile;
use std::collections::{BTreeMap, BTreeSet};

const SEED: u64 = 5;
const T: u32 = 8;
const SAMPLES: usize = 12;

/// Synapse counts from source neuron `j` of an edge into each target neuron (the reference
/// scatter of one spike through unit weights), as (target, synapses).
fn synapses_of(syn: &Synapses, j: usize, targets: usize) -> Vec<(usize, u64)> {
    let geo = matches!(syn, Synapses::Conv { .. }).then(|| ConvGeometry::new(syn));
    let ones = vec![1.0f32; syn.weight_count().max(1)];
    let mut current = vec![0.0f32; targets];
    synapse::scatter(syn, geo.as_ref(), &ones, &[j as u32], 1.0, &mut current);
    current
        .iter()
        .enumerate()
        .filter(|(_, &x)| x != 0.0)
        // Pooling adds 1/4 per spike: one synapse.
        .map(|(t, &x)| (t, x.ceil() as u64))
        .collect()
}

/// Every core's counters from per-neuron spike counts and the synapses.
/// Every core's counters (summed over its layers) from per-neuron spike counts and the
/// synapses; active and idle updates are left at 0 (they depend on currents, not spike counts).
fn recount(model: &Model, mapping: &Mapping, input: &[u64], spikes: &[Vec<u64>]) -> Vec<Counts> {
    let plan = NetworkPlan::new(&model.spec).unwrap();
    let mut out = vec![Counts::default(); mapping.cores.len()];
    let slot = |c: u32| mapping.cores[c as usize].slot;
    // Edges as (source: None = input, target layer, synapses).
    let mut edges = Vec::new();
    for (l, layer) in plan.layers.iter().enumerate() {
        edges.push((l.checked_sub(1), l, layer.synapses));
        if let Some(sc) = layer.shortcut {
            edges.push((sc.source, l, sc.synapses));
        }
    }
    let counted = |syn: &Synapses| matches!(syn, Synapses::Conv { .. } | Synapses::Dense { .. });
    // Host input: each pixel's spikes reach each (core, input-fed layer) once.
    for (p, &n) in input.iter().enumerate() {
        let mut reached = BTreeSet::new();
        for &(_, l, syn) in edges.iter().filter(|e| e.0.is_none()) {
            for (t, k) in synapses_of(&syn, p, plan.layers[l].output.len()) {
                let c = mapping.core_of(l, t);
                reached.insert((c, l));
                if counted(&syn) {
                    out[c as usize].synaptic_ops += n * k;
                }
            }
        }
        for (c, _) in reached {
            out[c as usize].input_spikes += n;
        }
    }
    // Every layer's spikes.
    for (s, layer) in plan.layers.iter().enumerate() {
        if !layer.spikes() {
            continue;
        }
        for (j, &n) in spikes[s].iter().enumerate() {
            let own = mapping.core_of(s, j);
            out[own as usize].output_spikes += n;
            let mut cores = BTreeSet::new();
            for &(_, l, syn) in edges.iter().filter(|e| e.0 == Some(s)) {
                for (t, k) in synapses_of(&syn, j, plan.layers[l].output.len()) {
                    let c = mapping.core_of(l, t);
                    cores.insert(c);
                    if counted(&syn) {
                        out[c as usize].synaptic_ops += n * k;
                    }
                }
            }
            let o = &mut out[own as usize];
            let (ox, oy) = (slot(own).x, slot(own).y);
            for &c in &cores {
                if c == own {
                    o.local_deliveries += n;
                    continue;
                }
                let (dx, dy) = (slot(c).x.abs_diff(ox) as u64, slot(c).y.abs_diff(oy) as u64);
                if dx == 0 && dy == 0 {
                    o.tile_packets += n;
                } else {
                    o.mesh_packets += n;
                    o.hops_x += n * dx;
                    o.hops_y += n * dy;
                }
            }
            for c in cores {
                out[c as usize].input_spikes += n;
            }
        }
    }
    out
}

/// A directed mesh link: (from tile, to tile).
type Link = ((u32, u32), (u32, u32));

/// Packets per directed mesh link from per-neuron spike counts: every spike sends one packet to
/// each other core holding a target, along x in the sender's row, then along y.
fn recount_links(model: &Model, mapping: &Mapping, spikes: &[Vec<u64>]) -> BTreeMap<Link, u64> {
    let plan = NetworkPlan::new(&model.spec).unwrap();
    let tile = |c: u32| {
        (
            mapping.cores[c as usize].slot.x,
            mapping.cores[c as usize].slot.y,
        )
    };
    let mut links = BTreeMap::new();
    for (s, layer) in plan.layers.iter().enumerate() {
        if !layer.spikes() {
            continue;
        }
        let targets: Vec<(usize, Synapses)> = plan
            .layers
            .iter()
            .enumerate()
            .flat_map(|(l, t)| {
                let main = (l == s + 1).then_some((l, t.synapses));
                let short = t.shortcut.filter(|sc| sc.source == Some(s));
                main.into_iter().chain(short.map(|sc| (l, sc.synapses)))
            })
            .collect();
        for (j, &n) in spikes[s].iter().enumerate().filter(|(_, &n)| n > 0) {
            let own = mapping.core_of(s, j);
            let mut cores = BTreeSet::new();
            for &(l, syn) in &targets {
                for (t, _) in synapses_of(&syn, j, plan.layers[l].output.len()) {
                    cores.insert(mapping.core_of(l, t));
                }
            }
            for c in cores.into_iter().filter(|&c| c != own) {
                let ((mut x, y0), (x1, y1)) = (tile(own), tile(c));
                while x != x1 {
                    let next = if x1 > x { x + 1 } else { x - 1 };
                    *links.entry(((x, y0), (next, y0))).or_default() += n;
                    x = next;
                }
                let mut y = y0;
                while y != y1 {
                    let next = if y1 > y { y + 1 } else { y - 1 };
                    *links.entry(((x1, y), (x1, next))).or_default() += n;
                    y = next;
                }
            }
        }
    }
    links
}

/// Maps `model` over two chips of `neurons`-neuron cores on a 3×3 mesh of 2-core tiles.
fn two_chip_mapping(model: &Model, neurons: u64) -> Mapping {
    let chip = chip(&ChipSpec {
        neurons,
        width: 3,
        height: 3,
        cores_per_tile: 2,
        // Distinct constants, so a counter priced at another's rate shows.
        energy: [1.5, 0.25, 0.125, 3.0, 7.0, 11.0, 0.5],
        ..ChipSpec::default()
    });
    map_on(model, &chip, 2, 3)
}

fn check(text: &str, neurons: u64) {
    let model = random_model(spec(text), 7, 0.6, 0.12);
    let mapping = two_chip_mapping(&model, neurons);
    let chips_used: BTreeSet<u32> = mapping.cores.iter().map(|c| c.slot.chip).collect();
    assert_eq!(chips_used.len(), 2, "the mapping must span both chips");
    let data = mnist_test(SAMPLES);
    let net = snn_core::runtime::CompiledNet::new(&model.spec).unwrap();
    let enc = snn_data::encode::RateEncoder::new(SEED, model.spec.input_scale);
    let (_, profile) = evaluate_with_profile(
        &net,
        &model.weights,
        &data,
        &enc,
        T as usize,
        SAMPLES,
        &model.spec.name,
        "test",
    );
    let spikes: Vec<Vec<u64>> = profile.layers.iter().map(|l| l.spikes.clone()).collect();
    let want = recount(&model, &mapping, &profile.input, &spikes);
    let o = sim(&model, &mapping, &data, SEED, T, SAMPLES, 3, Mode::Float);
    let (mut any_y, mut multi_dest) = (false, false);
    for (c, per_layer) in o.run.per_core_layer.iter().enumerate() {
        let mut got = Counts::default();
        for x in per_layer {
            got += x;
        }
        (got.active_updates, got.idle_updates) = (0, 0);
        assert_eq!(got, want[c], "{}: core {c}", model.spec.name);
        any_y |= got.hops_y > 0;
        multi_dest |= got.tile_packets + got.mesh_packets > got.output_spikes;
    }
    assert!(
        any_y,
        "no route took a y hop: the test would miss that axis"
    );
    assert!(multi_dest, "no spike reached several cores");
    // Packets per mesh link: recounted, and a packet crosses one link per hop.
    let got: BTreeMap<_, u64> = o
        .links
        .iter()
        .zip(&o.run.links.per_link)
        .filter(|(_, &n)| n > 0)
        .map(|(k, &n)| ((k.from, k.to), n))
        .collect();
    assert_eq!(
        got,
        recount_links(&model, &mapping, &spikes),
        "packets per link"
    );
    assert_eq!(
        o.run.links.per_link.iter().sum::<u64>(),
        o.total.hops_x + o.total.hops_y,
        "link crossings = hops"
    );
    assert!(
        o.run.links.busiest_max <= *got.values().max().unwrap(),
        "one step's busiest link carries at most that link's total"
    );
    // Priced by hand (pJ per event, as set above): synaptic, neuron (the engines' active and
    // idle counts: not recountable from spike counts), routing.
    let (mut syn, mut neuron, mut routing) = (0.0f64, 0.0f64, 0.0f64);
    for (c, per_layer) in o.run.per_core_layer.iter().enumerate() {
        let r = want[c];
        syn += r.synaptic_ops as f64 * 1.5;
        for x in per_layer {
            neuron += x.active_updates as f64 * 0.25 + x.idle_updates as f64 * 0.125;
        }
        routing += (r.local_deliveries + r.tile_packets) as f64 * 3.0
            + r.hops_x as f64 * 7.0
            + r.hops_y as f64 * 11.0;
    }
    let per = SAMPLES as f64 * 1e12;
    let e = o.energy;
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1e-30),
            "{what}: {a} vs {b}"
        )
    };
    close(e.synaptic, syn / per, "synaptic energy");
    close(e.neuron, neuron / per, "neuron energy");
    close(e.routing, routing / per, "routing energy");
    close(
        e.r#static,
        0.5e-3 * mapping.cores.len() as f64 * o.run.chip_seconds / SAMPLES as f64,
        "static energy",
    );
}

#[test]
fn tiny_net_on_two_chips_recounts_exactly() {
    check(TINY, 16);
}

#[test]
fn residual_net_on_two_chips_recounts_exactly() {
    check(RESIDUAL, 16);
}

/// A chip whose cores and barrier take no time and whose links take 1 ns per packet: every step
/// lasts exactly as long as its busiest link, so the chip time is the busiest links' time, and
/// each step with a packet on a link is a stretched one. Both engines (`sim` asserts them
/// equal) on 1, 2 and 3 workers.
#[test]
fn steps_last_as_long_as_their_busiest_link_when_links_are_the_bottleneck() {
    let model = random_model(spec(TINY), 7, 0.6, 0.12);
    let chip = chip(&ChipSpec {
        neurons: 16,
        width: 3,
        height: 3,
        cores_per_tile: 2,
        latency: [0.0; 7],
        link_ns: 1.0,
        ..ChipSpec::default()
    });
    let mapping = map_on(&model, &chip, 2, 3);
    let data = mnist_test(SAMPLES);
    let runs: Vec<_> = [1, 2, 3]
        .map(|threads| {
            sim(
                &model,
                &mapping,
                &data,
                SEED,
                T,
                SAMPLES,
                threads,
                Mode::Float,
            )
        })
        .into();
    let o = &runs[0];
    let l = &o.run.links;
    assert!(
        l.busiest_max > 0 && l.stretched_steps > 0,
        "no link carried a packet"
    );
    assert_eq!(
        o.run.chip_seconds,
        l.busiest_seconds(),
        "chip time = link time"
    );
    assert_eq!(
        l.stretch_seconds(),
        l.busiest_seconds(),
        "all of it is stretch"
    );
    assert!(l.stretched_steps <= o.run.chip_steps);
    assert!((l.busiest_sum as f64 * 1e-9 - l.busiest_seconds()).abs() < 1e-18);
    assert_eq!(l.peak_utilization, 1.0);
    for other in &runs[1..] {
        assert_same_outcome(o, other, "1 worker vs more");
    }
}
