//! What the layer engine needs to charge a whole layer's spikes to the mapped cores, built
//! once from the chip program: every (core, layer) pair holding neurons is a *slot*; tables
//! say which slot each neuron lives in, which slots receive its spike, how many synaptic
//! operations it does on each, and which runs of neuron indices each slot holds (to count
//! active neurons from a bitmap). What a spike's routing costs is read from the program's own
//! routes ([`ChipProgram::routes`]).

use crate::counters::Counts;
use crate::program::{ChipProgram, LayerRoutes};
use crate::timing::Timing;
use snn_core::plan::Source;
use snn_core::plan::Synapses;
use snn_map::region::Region;
use std::collections::{BTreeMap, HashMap};

/// Routing cost of one spike of a neuron: delivery in its own core, packets to other cores of
/// its tile and over the mesh, and the hops those take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RouteCost {
    local: u64,
    tile: u64,
    mesh: u64,
    hops_x: u64,
    hops_y: u64,
}

impl RouteCost {
    /// The cost of neuron `j`'s spike under `routes`.
    fn of(routes: &LayerRoutes, j: usize) -> Self {
        let mut c = RouteCost {
            local: u64::from(routes.local[j]),
            ..RouteCost::default()
        };
        for &(_, hx, hy) in &routes.dests[routes.start[j] as usize..routes.start[j + 1] as usize] {
            if hx == 0 && hy == 0 {
                c.tile += 1;
            } else {
                c.mesh += 1;
                c.hops_x += u64::from(hx);
                c.hops_y += u64::from(hy);
            }
        }
        c
    }
}

/// Neurons of one slot whose spikes go the same way (own core or not, same destination cores):
/// their slot, the modeled routing time of one spike, fs, and the core pairs over the mesh its
/// packets go between (`RouteClasses::class_pairs[pairs.0..pairs.1]`, numbered as in
/// [`crate::links::MeshLinks`], one per packet that leaves the tile).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RouteClass {
    pub(crate) slot: u32,
    pub(crate) fs: u64,
    pub(crate) pairs: (u32, u32),
    /// One neuron of the class (all route alike).
    pub(crate) neuron: u32,
}

/// How one layer's spikes are routed: each neuron's class, and the classes.
pub(crate) struct RouteClasses {
    /// Class of every neuron (empty for the readout).
    pub(crate) class_of: Vec<u32>,
    pub(crate) classes: Vec<RouteClass>,
    pub(crate) class_pairs: Vec<u32>,
}

/// Compressed rows: `items[start[k]..start[k + 1]]` belong to key `k`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Csr<T> {
    start: Vec<u32>,
    items: Vec<T>,
}

impl<T> Csr<T> {
    fn push_row(&mut self, row: impl IntoIterator<Item = T>) {
        if self.start.is_empty() {
            self.start.push(0);
        }
        self.items.extend(row);
        self.start.push(self.items.len() as u32);
    }

    /// The items of key `k`.
    pub(crate) fn row(&self, k: usize) -> &[T] {
        &self.items[self.start[k] as usize..self.start[k + 1] as usize]
    }
}

/// How one edge's spikes turn into synaptic operations per slot: conv edges per source pixel
/// (every channel of a pixel reaches the same box), dense edges the same for every neuron.
#[derive(Clone, Debug)]
pub(crate) struct EdgeOps {
    /// Source channels (a conv key is `neuron / channels`); 0 for a dense edge (one key).
    pub(crate) per_pixel: usize,
    /// (slot, synaptic operations) per key.
    pub(crate) ops: Csr<(u32, u32)>,
}

/// The tables of one chip program.
pub(crate) struct Tables {
    /// (core, layer) of each slot, ordered by core then layer.
    pub(crate) slots: Vec<(u32, u32)>,
    /// Neurons of each slot.
    pub(crate) slot_neurons: Vec<u64>,
    /// Slot of every neuron, per layer.
    pub(crate) slot_of: Vec<Vec<u32>>,
    /// Slots charged with receiving each neuron's spike (per receiving core, the first layer
    /// there that reads the source), per source: index 0 = input pixels, `l + 1` = layer `l`.
    pub(crate) deliver: Vec<Csr<u32>>,
    /// Synaptic operations of the edges leaving each source (same indexing as `deliver`).
    pub(crate) edges_from: Vec<Vec<EdgeOps>>,
    /// Runs `[lo, hi)` of neuron indices of each layer with their slot, for active counts.
    pub(crate) runs: Vec<Vec<(u32, u32, u32)>>,
}

impl Tables {
    /// Per layer, the route class of each neuron (local delivery and packets at the
    /// local-spike time, hops at the hop times, packets over the mesh links); empty for the
    /// readout. A layer's neurons have few distinct routes, so a spike costs one class lookup.
    pub(crate) fn route_classes(&self, prog: &ChipProgram, tm: &Timing) -> Vec<RouteClasses> {
        prog.routes
            .iter()
            .zip(&self.slot_of)
            .map(|(routes, slots)| {
                let mut out = RouteClasses {
                    class_of: Vec::new(),
                    classes: Vec::new(),
                    class_pairs: Vec::new(),
                };
                if routes.start.is_empty() {
                    return out; // the readout sends nothing
                }
                // (slot, own core reads it, destinations) → class.
                type Key<'r> = (u32, bool, &'r [(u32, u16, u16)]);
                let mut index: HashMap<Key, u32> = HashMap::new();
                for (j, &slot) in slots.iter().enumerate() {
                    let dests =
                        &routes.dests[routes.start[j] as usize..routes.start[j + 1] as usize];
                    let key = (slot, routes.local[j], dests);
                    let class = *index.entry(key).or_insert_with(|| {
                        let r = RouteCost::of(routes, j);
                        let fs = (r.local + r.tile) * tm.local
                            + r.hops_x * tm.hop_x
                            + r.hops_y * tm.hop_y;
                        let own = self.slots[slot as usize].0;
                        let lo = out.class_pairs.len() as u32;
                        for &(d, _, _) in dests {
                            out.class_pairs.extend(prog.links.pair(own, d));
                        }
                        out.classes.push(RouteClass {
                            slot,
                            fs,
                            pairs: (lo, out.class_pairs.len() as u32),
                            neuron: j as u32,
                        });
                        out.classes.len() as u32 - 1
                    });
                    out.class_of.push(class);
                }
                out
            })
            .collect()
    }

    /// Adds to `counts` (per slot) what follows from the spike counts of the input pixels and
    /// of every route class (`class_total[l][c]`, classes of `classes[l]`): spikes received
    /// and emitted, local deliveries, packets and hops. Returns (input spikes, host packets).
    pub(crate) fn add_totals(
        &self,
        prog: &ChipProgram,
        input_count: &[u64],
        classes: &[RouteClasses],
        class_total: &[Vec<u64>],
        counts: &mut [Counts],
    ) -> (u64, u64) {
        let (mut spikes, mut packets) = (0u64, 0u64);
        for (p, &n) in input_count.iter().enumerate() {
            if n == 0 {
                continue;
            }
            spikes += n;
            packets += n * u64::from(prog.input_dests[p]);
            for &d in self.deliver[0].row(p) {
                counts[d as usize].input_spikes += n;
            }
        }
        for (l, (rc, totals)) in classes.iter().zip(class_total).enumerate() {
            let routes = &prog.routes[l];
            for (class, &n) in rc.classes.iter().zip(totals) {
                if n == 0 {
                    continue;
                }
                // Every neuron of a class routes alike: one of them stands for all.
                let j = class.neuron as usize;
                let r = RouteCost::of(routes, j);
                let c = &mut counts[class.slot as usize];
                c.output_spikes += n;
                c.local_deliveries += n * r.local;
                c.tile_packets += n * r.tile;
                c.mesh_packets += n * r.mesh;
                c.hops_x += n * r.hops_x;
                c.hops_y += n * r.hops_y;
                for &d in self.deliver[l + 1].row(j) {
                    counts[d as usize].input_spikes += n;
                }
            }
        }
        (spikes, packets)
    }

    /// Builds the tables of `prog`.
    pub(crate) fn new(prog: &ChipProgram) -> Self {
        let net = &prog.net;
        let plan = &net.plan;
        let layers = net.layers();
        let mut slot_index: BTreeMap<(u32, u32), u32> = BTreeMap::new();
        for core in &prog.cores {
            for a in &core.atoms {
                let next = slot_index.len() as u32;
                slot_index
                    .entry((core.core, a.layer as u32))
                    .or_insert(next);
            }
        }
        // Number slots in (core, layer) order.
        let slots: Vec<(u32, u32)> = slot_index.keys().copied().collect();
        for (i, v) in slot_index.values_mut().enumerate() {
            *v = i as u32;
        }
        let slot = |c: u32, l: usize| slot_index[&(c, l as u32)];
        let mut slot_neurons = vec![0u64; slots.len()];
        let mut slot_of: Vec<Vec<u32>> = plan
            .layers
            .iter()
            .map(|l| vec![u32::MAX; l.output.len()])
            .collect();
        let mut runs: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); layers];
        // Per target layer, the boxes on each slot.
        let mut boxes: Vec<Vec<(u32, Region)>> = vec![Vec::new(); layers];
        for core in &prog.cores {
            for a in &core.atoms {
                let s = slot(core.core, a.layer);
                slot_neurons[s as usize] += a.region.len() as u64;
                for &g in &a.globals {
                    slot_of[a.layer][g as usize] = s;
                }
                boxes[a.layer].push((s, a.region));
            }
        }
        for (l, owner) in slot_of.iter().enumerate() {
            assert!(
                owner.iter().all(|&s| s != u32::MAX),
                "layer {l}: a neuron on no core"
            );
            // Maximal runs of consecutive neurons on one slot.
            let mut lo = 0;
            for j in 1..=owner.len() {
                if j == owner.len() || owner[j] != owner[lo] {
                    runs[l].push((lo as u32, j as u32, owner[lo]));
                    lo = j;
                }
            }
        }
        // Receiving: per core, the first layer there that reads the source.
        let source_index = |s: Source| match s {
            Source::Input => 0,
            Source::Layer(l) => l + 1,
        };
        let mut first_reader: Vec<BTreeMap<u32, usize>> = vec![BTreeMap::new(); layers + 1];
        for core in &prog.cores {
            for a in &core.atoms {
                for inp in &a.inputs {
                    let e = first_reader[source_index(inp.source)]
                        .entry(core.core)
                        .or_insert(a.layer);
                    *e = (*e).min(a.layer);
                }
            }
        }
        // Receiving, from the program's own routing: a layer's spike reaches the cores in its
        // route (its own when `local`), charged to the first layer there that reads it; a
        // host pixel reaches each (core, input-fed layer) whose `input_reach` holds it.
        let mut deliver = Vec::with_capacity(layers + 1);
        let mut by_pixel: Vec<Vec<u32>> = vec![Vec::new(); plan.input.len()];
        for core in &prog.cores {
            for a in core.atoms.iter().filter(|a| !a.input_reach.is_empty()) {
                let s = slot(core.core, a.layer);
                for (p, _) in a.input_reach.iter().enumerate().filter(|(_, &r)| r) {
                    by_pixel[p].push(s);
                }
            }
        }
        let mut d = Csr::default();
        for row in &mut by_pixel {
            row.sort_unstable();
            d.push_row(row.iter().copied());
        }
        deliver.push(d);
        for (l, routes) in prog.routes.iter().enumerate() {
            let mut d = Csr::default();
            let mut row = Vec::new();
            if !routes.start.is_empty() {
                let readers = &first_reader[l + 1];
                for (j, &own_slot) in slot_of[l].iter().enumerate() {
                    let own = slots[own_slot as usize].0;
                    let dests =
                        &routes.dests[routes.start[j] as usize..routes.start[j + 1] as usize];
                    let cores = routes.local[j].then_some(own).into_iter();
                    row.clear();
                    row.extend(
                        cores
                            .chain(dests.iter().map(|&(c, _, _)| c))
                            .map(|c| slot(c, readers[&c])),
                    );
                    row.sort_unstable();
                    d.push_row(row.iter().copied());
                }
            }
            deliver.push(d);
        }
        let mut edges_from = Vec::with_capacity(layers + 1);
        for src in net.sources() {
            let mut ops_of = Vec::new();
            for e in net.edges_from(src) {
                let (per_pixel, keys) = match e.synapses {
                    Synapses::Conv { input, .. } => (input.channels, input.height * input.width),
                    Synapses::Dense { .. } => (0, 1),
                    // Pooling and subsampling synapses are not counted as synaptic operations.
                    Synapses::AvgPool2 { .. } | Synapses::Subsample { .. } => continue,
                };
                let mut ops = Csr::default();
                let mut per_slot: BTreeMap<u32, u32> = BTreeMap::new();
                for k in 0..keys {
                    per_slot.clear();
                    let n = k * per_pixel.max(1);
                    if let Some(t) = e.targets(n) {
                        for &(s, r) in &boxes[e.target] {
                            if let Some(i) = t.intersect(&r) {
                                *per_slot.entry(s).or_default() += i.len() as u32;
                            }
                        }
                    }
                    ops.push_row(per_slot.iter().map(|(&s, &n)| (s, n)));
                }
                ops_of.push(EdgeOps { per_pixel, ops });
            }
            edges_from.push(ops_of);
        }
        Tables {
            slots,
            slot_neurons,
            slot_of,
            deliver,
            edges_from,
            runs,
        }
    }
}
