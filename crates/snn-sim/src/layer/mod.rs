//! The layer engine: each time step computes every layer once with the same `snn-core` kernels
//! as `snn-train eval` (so predictions, outputs, spikes and synaptic operations are equal by
//! construction), and charges the step's spikes to the mapped cores through `tables`: per
//! (core, layer) synaptic operations, active and idle neuron updates (active = input current
//! ≠ 0, recorded by [`NetState::record_active`]), spikes received and emitted, local
//! deliveries, packets and hops, and from them each core's busy time per chip step with the
//! layers pipelined one step apart, exactly as the event engine ([`crate::engine`]) counts
//! them by really sending every packet. Samples are cut into one contiguous share per worker;
//! the shares merge like the event engine's chip replicas (`crate::part`).

mod tables;

use crate::counters::Counts;
use crate::links::{LaneAdder, LinkLoad};
use crate::part::{in_shares, merge, EdgeStep, Part};
use crate::program::ChipProgram;
use crate::run::{RunConfig, RunResult};
use crate::timing::Timing;
use snn_core::active;
use snn_core::neuron;
use snn_core::runtime::{CompiledNet, NetState, PreparedWeights};
use snn_data::dataset::Dataset;
use snn_data::encode::RateEncoder;
use snn_map::chip::ChipModel;
use std::collections::BTreeMap;
use tables::{EdgeOps, Tables};

/// Per-slot event counts of the current network step that the busy time depends on.
#[derive(Clone, Copy, Default)]
struct StepCounts {
    synops: u64,
    active: u64,
    /// Modeled time of routing the slot's spikes (local deliveries, packets, hops), fs.
    route_fs: u64,
}

/// Runs the first `samples` images of `data` through the mapped network, whole layers at a
/// time, on `cfg.threads` workers (float arithmetic; `cfg.mode` must be float). Every field of
/// the result but the wall time equals [`crate::engine::run`]'s.
#[allow(clippy::too_many_arguments)]
pub fn run(
    prog: &ChipProgram,
    chip: &ChipModel,
    net: &CompiledNet,
    weights: &PreparedWeights,
    data: &Dataset,
    encoder: &RateEncoder,
    samples: usize,
    cfg: RunConfig,
) -> RunResult {
    let start = std::time::Instant::now();
    let samples = samples.min(data.len());
    let parts = run_parts(prog, chip, net, weights, data, encoder, 0..samples, cfg);
    merge(
        parts,
        chip,
        samples,
        cfg.timesteps,
        prog.net.layers(),
        1,
        start,
    )
}

/// Samples `range` of `data` cut into one contiguous share per worker, as shares still to
/// merge.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_parts(
    prog: &ChipProgram,
    chip: &ChipModel,
    net: &CompiledNet,
    weights: &PreparedWeights,
    data: &Dataset,
    encoder: &RateEncoder,
    range: std::ops::Range<usize>,
    cfg: RunConfig,
) -> Vec<Part> {
    let tables = Tables::new(prog);
    let shares = cfg.threads.clamp(1, range.len().max(1));
    in_shares(range, shares, |_, share| {
        let (lo, hi) = (share.start, share.end);
        run_share(
            prog, chip, &tables, net, weights, data, encoder, lo, hi, cfg,
        )
    })
}

/// Samples `lo..hi` on one worker.
#[allow(clippy::too_many_arguments)]
fn run_share(
    prog: &ChipProgram,
    chip: &ChipModel,
    tables: &Tables,
    net: &CompiledNet,
    weights: &PreparedWeights,
    data: &Dataset,
    encoder: &RateEncoder,
    lo: usize,
    hi: usize,
    cfg: RunConfig,
) -> Part {
    let start = std::time::Instant::now();
    let n_cores = prog.cores.len();
    let layers = prog.net.layers();
    let t = cfg.timesteps as u64;
    let tm = Timing::of(chip);
    let mut state = NetState::new(net);
    state.record_active();
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    let n_slots = tables.slots.len();
    let mut counts = vec![Counts::default(); n_slots];
    let mut step = vec![StepCounts::default(); n_slots];
    // Per chip step still open (one row per pipeline stage): busy time per core, packets per
    // mesh link.
    let n_links = prog.links.len();
    let mut ring = vec![vec![0u64; n_cores]; layers];
    let mut link_ring = vec![vec![0u32; n_links]; layers];
    let mut links = LinkLoad::new(n_links);
    let mut busy_fs = vec![0u128; n_cores];
    let mut edge: BTreeMap<u64, EdgeStep> = BTreeMap::new();
    let mut interior_fs = 0u128;
    // Spikes per input pixel and per route class: every counter that does not enter the busy
    // time is derived from them once at the end ([`Tables::add_totals`]). Spikes per neuron
    // only for a profile (a counter per neuron is a cache miss per spike).
    let mut input_count = vec![0u64; prog.net.plan.input.len()];
    let mut neuron_count: Vec<Vec<u64>> = prog
        .net
        .plan
        .layers
        .iter()
        .map(|l| vec![0u64; if cfg.profile { l.output.len() } else { 0 }])
        .collect();
    let routes = tables.route_classes(prog, &tm);
    let mut class_total: Vec<Vec<u64>> = routes.iter().map(|r| vec![0; r.classes.len()]).collect();
    let max_classes = routes.iter().map(|r| r.classes.len()).max().unwrap_or(0);
    let mut class_count = vec![0u32; max_classes];
    let mut touched: Vec<u32> = Vec::new();
    // Packets per core pair of one layer's spikes, before they are spread over the pair's
    // route (a route is several links long; far fewer pairs than spikes are touched).
    let mut pair_count = vec![0u32; prog.links.pairs()];
    let mut touched_pairs: Vec<u32> = Vec::new();
    let mut lanes = LaneAdder::default();
    let mut outputs = Vec::with_capacity(hi - lo);
    let fill = layers as u64 - 1;
    for (local_sample, index) in (lo..hi).enumerate() {
        let image = encoder.prepare(data.image(index));
        state.reset();
        for s in 0..t {
            encoder.encode_step(&image, index as u64, s as u32, &mut pos, &mut neg);
            state.step_prepared(net, weights, &pos, &neg, None);
            let g = local_sample as u64 * t + s;
            // Host input.
            for list in [&pos, &neg] {
                for &p in list.iter() {
                    input_count[p as usize] += 1;
                }
                charge_synops(&tables.edges_from[0], list, &mut step);
            }
            // Spikes of every layer: counted per route class, then each class charged once.
            for l in 0..layers {
                let spikes = &state.spikes[l];
                let rc = &routes[l];
                let count = &mut neuron_count[l];
                if rc.class_of.is_empty() {
                    continue; // the readout
                }
                touched.clear();
                for &j in spikes {
                    let c = rc.class_of[j as usize];
                    if class_count[c as usize] == 0 {
                        touched.push(c);
                    }
                    class_count[c as usize] += 1;
                }
                if cfg.profile {
                    for &j in spikes {
                        count[j as usize] += 1;
                    }
                }
                for &c in &touched {
                    let n = std::mem::take(&mut class_count[c as usize]);
                    class_total[l][c as usize] += u64::from(n);
                    let class = rc.classes[c as usize];
                    step[class.slot as usize].route_fs += u64::from(n) * class.fs;
                    for &p in &rc.class_pairs[class.pairs.0 as usize..class.pairs.1 as usize] {
                        if pair_count[p as usize] == 0 {
                            touched_pairs.push(p);
                        }
                        pair_count[p as usize] += n;
                    }
                }
                let link_row = &mut link_ring[((g + l as u64) % layers as u64) as usize];
                lanes.add(&prog.links, &touched_pairs, &mut pair_count, link_row);
                touched_pairs.clear();
                charge_synops(&tables.edges_from[l + 1], spikes, &mut step);
            }
            // Active neurons, then each slot's busy time at chip step g + layer.
            let bits = state.active.as_ref().expect("recording active neurons");
            for (l, runs) in tables.runs.iter().enumerate() {
                for &(a, b, sl) in runs {
                    step[sl as usize].active +=
                        active::count_range(&bits[l], a as usize, b as usize);
                }
            }
            for (sl, &(core, l)) in tables.slots.iter().enumerate() {
                let st = std::mem::take(&mut step[sl]);
                let idle = tables.slot_neurons[sl] - st.active;
                let c = &mut counts[sl];
                c.synaptic_ops += st.synops;
                c.active_updates += st.active;
                c.idle_updates += idle;
                let dt =
                    st.synops * tm.synop + st.active * tm.active + idle * tm.idle + st.route_fs;
                ring[((g + u64::from(l)) % layers as u64) as usize][core as usize] += dt;
                busy_fs[core as usize] += u128::from(dt);
            }
            // Chip step g is complete.
            let at = (g % layers as u64) as usize;
            let (row, link_row) = (&mut ring[at], &mut link_ring[at]);
            if g < fill {
                let step = EdgeStep {
                    busy: row.clone(),
                    links: link_row.clone(),
                };
                edge.insert(lo as u64 * t + g, step);
            } else {
                let core = row.iter().copied().max().unwrap_or(0);
                interior_fs += u128::from(links.step(link_row, core, tm.link, tm.barrier));
            }
            row.fill(0);
            link_row.fill(0);
        }
        outputs.push(neuron::readout_output(state.readout(), cfg.timesteps));
    }
    // The pipeline drain: chip steps after the last network step.
    let end = (hi - lo) as u64 * t;
    if hi > lo {
        for tau in end..end + fill {
            // Each ring row is taken once: the drain is shorter than the ring.
            let at = (tau % layers as u64) as usize;
            let step = EdgeStep {
                busy: std::mem::take(&mut ring[at]),
                links: std::mem::take(&mut link_ring[at]),
            };
            edge.insert(lo as u64 * t + tau, step);
        }
    }
    let (input_spikes, input_packets) =
        tables.add_totals(prog, &input_count, &routes, &class_total, &mut counts);
    let mut per_core_layer = vec![vec![Counts::default(); layers]; n_cores];
    for (sl, &(core, l)) in tables.slots.iter().enumerate() {
        per_core_layer[core as usize][l as usize] = counts[sl];
    }
    Part {
        result: RunResult {
            predictions: outputs.iter().map(|o| neuron::argmax(o) as u8).collect(),
            neuron_spikes: cfg.profile.then_some((input_count, neuron_count)),
            outputs,
            per_core_layer,
            input_packets,
            input_spikes,
            chip_seconds: 0.0,
            links,
            core_busy_seconds: Vec::new(),
            chip_steps: 0,
            replicas: 1,
            wall_seconds: start.elapsed().as_secs_f64(),
        },
        interior_fs,
        edge,
        busy_fs,
    }
}

/// Adds the synaptic operations of `spikes` through every edge of `edges` to their slots.
fn charge_synops(edges: &[EdgeOps], spikes: &[u32], step: &mut [StepCounts]) {
    for e in edges {
        if e.per_pixel == 0 {
            let row = e.ops.row(0);
            for &(sl, n) in row {
                step[sl as usize].synops += u64::from(n) * spikes.len() as u64;
            }
            continue;
        }
        // Spikes ascend and are channel-last: a pixel's spikes are consecutive and reach the
        // same slots.
        let mut i = 0;
        while i < spikes.len() {
            let pixel = spikes[i] as usize / e.per_pixel;
            let end = ((pixel + 1) * e.per_pixel) as u32;
            let mut k = 1;
            while i + k < spikes.len() && spikes[i + k] < end {
                k += 1;
            }
            for &(sl, n) in e.ops.row(pixel) {
                step[sl as usize].synops += u64::from(n) * k as u64;
            }
            i += k;
        }
    }
}
