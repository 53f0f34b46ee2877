//! Partitioning atoms into cores under every per-core limit, minimizing activity-weighted
//! inter-core packets (hyperedge connectivity − 1) and keeping the busiest core's load in check:
//! greedy growth (each core starts from the first unplaced atom and absorbs the atoms that
//! share the most traffic with it) followed by positive-gain moves between cores.
//!
//! The two baselines reported beside every mapping live here too: sequential fill (layer by
//! layer into consecutive cores, as PACMAN / nengo-loihi style tools do) and a random valid
//! assignment.

use crate::limits::CoreLimits;
use crate::network::NetGraph;
use crate::region::Region;
use crate::traffic::{Hypergraph, NeuronMap};
use crate::usage::{AtomCost, CoreUsage};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

const FREE: u32 = u32::MAX;

/// What the partitioner minimizes first when its candidate partitions disagree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// Inter-core spike packets (then cores).
    #[default]
    Packets,
    /// Cores used (then packets): on chips whose static power dwarfs routing energy.
    Cores,
}

/// Options of the partitioner.
#[derive(Clone, Copy, Debug)]
pub struct PartitionOptions {
    /// Refinement passes over all atoms.
    pub refine_passes: usize,
    /// Busiest-core load allowed, as a multiple of the mean core load of an uncapped first pass
    /// (never below the heaviest single atom).
    pub load_slack: f64,
    /// What to minimize.
    pub objective: Objective,
}

impl Default for PartitionOptions {
    fn default() -> Self {
        PartitionOptions {
            refine_passes: 4,
            load_slack: 4.0,
            objective: Objective::Packets,
        }
    }
}

/// Atom-to-core map (`core_of[atom]`), cores numbered `0..cores` without gaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Core of every atom.
    pub core_of: Vec<u32>,
    /// Number of cores.
    pub cores: usize,
}

struct Packer<'a> {
    hg: &'a Hypergraph,
    /// Order of in-order filling (a permutation of the atoms).
    order: &'a [u32],
    costs: &'a [AtomCost],
    limits: &'a CoreLimits,
    net: &'a NetGraph,
    cap: f64,
}

impl Packer<'_> {
    fn fits(&self, core: &CoreUsage, a: u32) -> bool {
        let c = &self.costs[a as usize];
        (core.atoms.is_empty() || core.load + c.load <= self.cap)
            && core.can_add(c, self.limits, self.net)
    }

    /// Greedy growth over atoms in id order.
    fn grow(&self) -> (Vec<u32>, Vec<CoreUsage>) {
        self.grow_from(vec![FREE; self.costs.len()], Vec::new())
    }

    /// True for an atom that fills a core's synaptic memory much faster than its neurons.
    fn memory_bound(&self, a: usize) -> bool {
        let c = &self.costs[a];
        let mem: u64 = c.memory.iter().map(|m| m.1).sum();
        mem as f64 / self.limits.memory_bits as f64
            > 2.0 * c.neurons as f64 / self.limits.max_neurons as f64
    }

    /// Memory-bound atoms filled in the fill order (see `AtomSet::fill_order`) into cores of
    /// their own (as tightly as sequential fill packs them), then greedy growth for the rest.
    fn hybrid(&self) -> (Vec<u32>, Vec<CoreUsage>) {
        let mut core_of = vec![FREE; self.costs.len()];
        let mut cores: Vec<CoreUsage> = Vec::new();
        for &a in self.order {
            if !self.memory_bound(a as usize) {
                continue;
            }
            if cores.last().is_none_or(|c| !self.fits(c, a)) {
                cores.push(CoreUsage::default());
            }
            let k = cores.len() - 1;
            cores[k].add(a, &self.costs[a as usize], self.net);
            core_of[a as usize] = k as u32;
        }
        self.grow_from(core_of, cores)
    }

    /// Greedy growth over the atoms still free, after the given partial assignment.
    fn grow_from(
        &self,
        mut core_of: Vec<u32>,
        mut cores: Vec<CoreUsage>,
    ) -> (Vec<u32>, Vec<CoreUsage>) {
        let n = self.costs.len();
        let mut next = 0usize;
        let mut edge_mark = vec![u32::MAX; self.hg.pins.len()];
        loop {
            while next < n && core_of[next] != FREE {
                next += 1;
            }
            if next == n {
                break;
            }
            let p = cores.len() as u32;
            let mut core = CoreUsage::default();
            let mut gain: HashMap<u32, f64> = HashMap::new();
            let mut add = |a: u32,
                           core: &mut CoreUsage,
                           gain: &mut HashMap<u32, f64>,
                           core_of: &mut Vec<u32>| {
                core.add(a, &self.costs[a as usize], self.net);
                core_of[a as usize] = p;
                gain.remove(&a);
                for &e in &self.hg.incident[a as usize] {
                    if edge_mark[e as usize] != p {
                        edge_mark[e as usize] = p;
                        let w = self.hg.weight[e as usize];
                        for &b in &self.hg.pins[e as usize] {
                            if core_of[b as usize] == FREE {
                                *gain.entry(b).or_insert(0.0) += w;
                            }
                        }
                    }
                }
            };
            add(next as u32, &mut core, &mut gain, &mut core_of);
            let mut fill_from = next;
            loop {
                // Best connected candidate (ties: lowest id, for determinism).
                let best = gain
                    .iter()
                    .filter(|(&b, _)| core_of[b as usize] == FREE)
                    .max_by(|x, y| x.1.total_cmp(y.1).then(y.0.cmp(x.0)))
                    .map(|(&b, _)| b);
                match best {
                    Some(b) => {
                        if self.fits(&core, b) {
                            add(b, &mut core, &mut gain, &mut core_of);
                        } else {
                            gain.remove(&b);
                        }
                    }
                    None => {
                        // Nothing connected fits: use the room for the next atoms in order.
                        let mut tried = 0;
                        let mut added = false;
                        while fill_from < n && tried < 4 {
                            if core_of[fill_from] == FREE {
                                tried += 1;
                                if self.fits(&core, fill_from as u32) {
                                    add(fill_from as u32, &mut core, &mut gain, &mut core_of);
                                    added = true;
                                    break;
                                }
                            }
                            fill_from += 1;
                        }
                        if !added {
                            break;
                        }
                    }
                }
            }
            cores.push(core);
        }
        (core_of, cores)
    }

    /// Fills cores with atoms in id order (channel-last within each layer), opening a core when
    /// the next atom does not fit.
    fn fill_in_order(&self) -> (Vec<u32>, Vec<CoreUsage>) {
        let mut core_of = vec![FREE; self.costs.len()];
        let mut cores: Vec<CoreUsage> = vec![CoreUsage::default()];
        for a in 0..self.costs.len() as u32 {
            if !self.fits(cores.last().expect("a core"), a) {
                cores.push(CoreUsage::default());
            }
            let k = cores.len() - 1;
            cores[k].add(a, &self.costs[a as usize], self.net);
            core_of[a as usize] = k as u32;
        }
        (core_of, cores)
    }

    /// Positive-gain single-atom moves between cores (Fiduccia–Mattheyses without negative
    /// moves), under every limit.
    fn refine(&self, core_of: &mut [u32], cores: &mut [CoreUsage], passes: usize) {
        let hg = self.hg;
        // pin count of each hyperedge on each core
        let mut cnt: Vec<Vec<(u32, u32)>> = hg
            .pins
            .iter()
            .map(|pins| {
                let mut v: Vec<(u32, u32)> = Vec::new();
                for &a in pins {
                    let c = core_of[a as usize];
                    match v.iter_mut().find(|(k, _)| *k == c) {
                        Some(e) => e.1 += 1,
                        None => v.push((c, 1)),
                    }
                }
                v
            })
            .collect();
        let count =
            |v: &Vec<(u32, u32)>, c: u32| v.iter().find(|(k, _)| *k == c).map_or(0, |e| e.1);
        let mut conn: HashMap<u32, f64> = HashMap::new();
        for _ in 0..passes {
            let mut moved = 0;
            for a in 0..core_of.len() as u32 {
                let q = core_of[a as usize];
                let mut release = 0.0;
                let mut total = 0.0;
                conn.clear();
                for &e in &hg.incident[a as usize] {
                    let w = hg.weight[e as usize];
                    total += w;
                    let v = &cnt[e as usize];
                    if count(v, q) == 1 {
                        release += w;
                    }
                    for &(c, _) in v {
                        if c != q {
                            *conn.entry(c).or_insert(0.0) += w;
                        }
                    }
                }
                let mut cands: Vec<(u32, f64)> = conn
                    .iter()
                    .map(|(&c, &w)| (c, release - total + w))
                    .filter(|&(_, g)| g > 1e-12 * (1.0 + total))
                    .collect();
                cands.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                for (p, _) in cands {
                    if self.fits(&cores[p as usize], a) {
                        let cost = &self.costs[a as usize];
                        cores[q as usize].remove(a, cost, self.net);
                        cores[p as usize].add(a, cost, self.net);
                        core_of[a as usize] = p;
                        for &e in &hg.incident[a as usize] {
                            let v = &mut cnt[e as usize];
                            if let Some(i) = v.iter().position(|(k, _)| *k == q) {
                                v[i].1 -= 1;
                                if v[i].1 == 0 {
                                    v.swap_remove(i);
                                }
                            }
                            match v.iter_mut().find(|(k, _)| *k == p) {
                                Some(e) => e.1 += 1,
                                None => v.push((p, 1)),
                            }
                        }
                        moved += 1;
                        break;
                    }
                }
            }
            if moved == 0 {
                break;
            }
        }
    }
}

/// Renumbers cores so that ids have no gaps and follow the first atom of each core.
fn compact(core_of: &mut [u32]) -> usize {
    let mut remap: HashMap<u32, u32> = HashMap::new();
    for c in core_of.iter_mut() {
        let n = remap.len() as u32;
        *c = *remap.entry(*c).or_insert(n);
    }
    remap.len()
}

/// The traffic-aware partition of `atoms`.
pub fn partition(
    net: &NetGraph,
    hg: &Hypergraph,
    costs: &[AtomCost],
    limits: &CoreLimits,
    opts: PartitionOptions,
    fill_order: &[u32],
) -> Partition {
    assert_eq!(
        fill_order.len(),
        costs.len(),
        "fill order covers every atom"
    );
    let mut packer = Packer {
        hg,
        order: fill_order,
        costs,
        limits,
        net,
        cap: f64::INFINITY,
    };
    let (_, first) = packer.grow();
    let total: f64 = costs.iter().map(|c| c.load).sum();
    let heaviest = costs.iter().map(|c| c.load).fold(0.0, f64::max);
    packer.cap = (opts.load_slack * total / first.len().max(1) as f64).max(heaviest);
    // Three starts, each refined: greedy growth along the traffic; filling cores with atoms in
    // channel-last order (what sequential fill does, at atom granularity); and in-order fill of
    // the memory-bound atoms only, then growth for the rest. The objective picks the winner.
    let mut best: Option<((f64, f64), Vec<u32>)> = None;
    for start in [packer.grow(), packer.fill_in_order(), packer.hybrid()] {
        let (mut core_of, mut cores) = start;
        packer.refine(&mut core_of, &mut cores, opts.refine_passes);
        let n = compact(&mut core_of) as f64;
        let cut = hg.cut(&core_of);
        let key = match opts.objective {
            Objective::Packets => (cut, n),
            Objective::Cores => (n, cut),
        };
        let better = |(a0, a1): (f64, f64), (b0, b1): (f64, f64)| {
            a0 < b0 - 1e-9 * b0.abs() || (a0 <= b0 + 1e-9 * b0.abs() && a1 < b1)
        };
        if best.as_ref().is_none_or(|(k, _)| better(key, *k)) {
            best = Some((key, core_of));
        }
    }
    let (_, mut core_of) = best.expect("three candidates");
    let cores = compact(&mut core_of);
    Partition { core_of, cores }
}

/// Per-core usage of an atom partition (for reports and validation).
pub fn usage_of(net: &NetGraph, part: &Partition, costs: &[AtomCost]) -> Vec<CoreUsage> {
    let mut cores = vec![CoreUsage::default(); part.cores];
    for (a, &c) in part.core_of.iter().enumerate() {
        cores[c as usize].add(a as u32, &costs[a], net);
    }
    cores
}

/// A random valid assignment: atoms in random order, each onto a random core among those it
/// fits (about as many cores as `target_cores`), a new core when none fits.
pub fn random_partition(
    net: &NetGraph,
    costs: &[AtomCost],
    limits: &CoreLimits,
    target_cores: usize,
    seed: u64,
) -> Partition {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005E_ED0F_4A4D);
    let mut order: Vec<u32> = (0..costs.len() as u32).collect();
    order.shuffle(&mut rng);
    let mut cores: Vec<CoreUsage> = vec![CoreUsage::default(); target_cores.max(1)];
    let mut core_of = vec![FREE; costs.len()];
    for a in order {
        let c = &costs[a as usize];
        let start = rng.random_range(0..cores.len());
        let found = (0..cores.len())
            .map(|k| (start + k) % cores.len())
            .find(|&k| cores[k].can_add(c, limits, net));
        let k = found.unwrap_or_else(|| {
            cores.push(CoreUsage::default());
            cores.len() - 1
        });
        cores[k].add(a, c, net);
        core_of[a as usize] = k as u32;
    }
    let cores = compact(&mut core_of);
    Partition { core_of, cores }
}

/// Sequential fill: every layer starts a new core and fills cores with its neurons in index
/// order (channel-last), as far as every limit allows; returns the neuron map and the per-core
/// usage.
pub fn sequential_fill(net: &NetGraph, limits: &CoreLimits) -> (NeuronMap, Vec<CoreUsage>) {
    let mut cores: Vec<CoreUsage> = Vec::new();
    let mut maps = Vec::new();
    let edge_ids: Vec<Vec<usize>> = (0..net.layers())
        .map(|l| {
            (0..net.edges.len())
                .filter(|&i| net.edges[i].target == l)
                .collect()
        })
        .collect();
    let box_cost = |l: usize, r: &Region| -> AtomCost {
        let mut fields = Vec::new();
        let mut memory = Vec::new();
        for &ei in &edge_ids[l] {
            let e = &net.edges[ei];
            fields.push(e.field(r, net.source_shape(e.source)));
            let shared =
                limits.shared_conv_weights && e.shared_kernel_weights(r.c0, r.c1).is_some();
            memory.push((
                shared.then_some((ei as u32, r.c0, r.c1)),
                limits.memory_bits(e, r),
            ));
        }
        AtomCost {
            neurons: r.len() as u64,
            fields,
            memory,
            load: 0.0,
        }
    };
    for (l, layer) in net.plan.layers.iter().enumerate() {
        let shape = layer.output;
        let mut map = vec![0u32; shape.len()];
        cores.push(CoreUsage::default());
        let (c, h, w) = (
            shape.channels as u32,
            shape.height as u32,
            shape.width as u32,
        );
        for y in 0..h {
            for x in 0..w {
                let mut c0 = 0;
                while c0 < c {
                    // the rest of the pixel's channels at once if they fit, else one by one
                    let whole = Region {
                        c0,
                        c1: c,
                        y0: y,
                        y1: y + 1,
                        x0: x,
                        x1: x + 1,
                    };
                    let one = Region {
                        c1: c0 + 1,
                        ..whole
                    };
                    let cur = cores.last().expect("a core is open");
                    let r = if cur.can_add(&box_cost(l, &whole), limits, net) {
                        whole
                    } else if cur.can_add(&box_cost(l, &one), limits, net) {
                        one
                    } else {
                        cores.push(CoreUsage::default());
                        continue;
                    };
                    let k = cores.len() - 1;
                    let id = (cores.len() + cores[k].atoms.len()) as u32;
                    cores[k].add(id, &box_cost(l, &r), net);
                    r.for_each_index(shape, |i| map[i] = k as u32);
                    c0 = r.c1;
                }
            }
        }
        maps.push(map);
    }
    let count = cores.len();
    (NeuronMap { cores: maps, count }, cores)
}
