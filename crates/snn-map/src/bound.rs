//! A lower bound on the inter-core packets per step of *any* assignment of neurons to cores
//! that respects the chip's per-core neuron and synaptic-memory limits. It is reported beside
//! every mapping, so a user sees how far ours, sequential fill and random are from optimal, and
//! whether a goal such as "30 % below sequential fill" is reachable at all.
//!
//! # What is bounded
//!
//! Exactly what [`crate::traffic::TrafficStats::inter_core_packets`] counts: for every neuron
//! `j` of a spiking layer, its rate `a_j` times the number of distinct cores other than its own
//! that hold at least one of its targets `T_j` (over every edge, main and shortcut). Host input
//! spikes are not sent by any core; they are reported apart as `input_packets` and left out
//! here too. The readout does not spike.
//!
//! # The argument
//!
//! Let `D_j` be the cores holding some neuron of `T_j` and `N(X)` the fewest cores that can hold
//! the neuron set `X` under the limits. The cores `D_j ∪ {core(j)}` hold `T_j ∪ {j}`, so
//! `|D_j \ {core(j)}| ≥ N(T_j ∪ {j}) − 1` whatever the assignment; summed with the rates,
//! `packets ≥ Σ_j a_j · (N(T_j ∪ {j}) − 1)`. Every `N(X)` below comes from a relaxation (fan-in,
//! fan-out and every neuron outside `X` are ignored, and each core may take the neurons of `X`
//! that suit it best), so it never exceeds the true minimum:
//!
//! 1. neurons: `N ≥ ⌈|X| / max_neurons⌉`;
//! 2. memory: by the rules of [`crate::limits::CoreLimits::memory_bits`], neuron `t` stores
//!    `m(t)` bits of its own synapses (every synapse when kernels are not shared, else those of
//!    its non-conv edges), and with shared conv weights a core holding any neuron of output
//!    channel `c` of layer `l` stores that channel's kernels, `K_l` bits, at least once (the
//!    mapper stores them per channel block, never less). Summed over the cores,
//!    `N · memory_bits ≥ Σ_{t∈X} m(t) + Σ_l channels(X_l) · K_l`;
//! 3. per target layer `l`: one core holds at most `cap_l` neurons of layer `l`, the largest
//!    `k ≤ max_neurons` such that the `k` cheapest neurons of the layer (by `m`) fit in
//!    `memory_bits − K_l`. This is never above `⌊memory_bits / min_t m(t)⌋`. With shared conv
//!    weights a core also holds at most `⌊memory_bits / K_l⌋` channels, hence at most that many
//!    times the neurons per channel of `X_l`. So `N ≥ ⌈|X_l| / cap⌉`, and the memory of `X_l`
//!    alone gives `N ≥ ⌈(m(X_l) + channels(X_l) · K_l) / memory_bits⌉`.
//!
//! `N_j` is the largest of these for `X = T_j ∪ {j}` (1 and 2 over the whole set, 3 per target
//! layer), so `N_j − 1 ≥ max_l ⌈|T_{j,l}| / cap_l⌉ − 1`: at least as tight as bounding each
//! target layer alone with `min(max_neurons, ⌊memory_bits / min m⌋)` neurons per core, and
//! tighter when `j` itself must squeeze in (a dense layer exactly one core wide still costs one
//! packet per spike, since its sender needs a slot too).
//!
//! # Cost
//!
//! A spike reaches a box per edge (all output channels × the clipped kernel window for a conv,
//! one neuron for pooling, the whole layer for a dense edge), boxes of one layer are joined by
//! inclusion–exclusion (two boxes meet in a box), and a box's memory is a product of prefix sums
//! of the per-row and per-column synapse counts ([`crate::network::Edge::stored_profile`]): a
//! constant amount of work per source neuron, no synapse enumerated.

use crate::limits::CoreLimits;
use crate::network::{Edge, NetGraph};
use crate::region::Region;
use crate::traffic::Activity;
use snn_core::plan::Source;
use snn_core::plan::Synapses;

/// The lower bound on inter-core packets per step, in total and by sending layer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PacketBound {
    /// Fewest inter-core packets per step any valid assignment can send.
    pub inter_core_packets: f64,
    /// The same, by sending layer (plan order; zero for the readout).
    pub by_layer: Vec<f64>,
}

/// One additive memory term of a layer: `bits · rows[y] · cols[x]` bits per neuron (y, x), kept
/// as prefix sums.
struct Term {
    bits: u64,
    rows: Vec<u64>,
    cols: Vec<u64>,
}

fn prefix(v: &[u64]) -> Vec<u64> {
    let mut p = Vec::with_capacity(v.len() + 1);
    p.push(0);
    for &x in v {
        p.push(p[p.len() - 1] + x);
    }
    p
}

/// How one layer's neurons use a core's synaptic memory and how many fit one core.
struct LayerMemory {
    terms: Vec<Term>,
    /// Bits of shared kernels per output channel held on a core.
    kernel_bits: u64,
    /// Most neurons of the layer one core can hold.
    cap: u64,
    /// Most output channels of the layer one core can hold.
    channels: u64,
}

impl LayerMemory {
    fn new(net: &NetGraph, layer: usize, limits: &CoreLimits) -> Self {
        let shape = net.plan.layers[layer].output;
        let mut terms = Vec::new();
        let mut kernel_bits = 0u64;
        for e in net.edges_into(layer) {
            match (limits.shared_conv_weights, e.synapses) {
                (true, Synapses::Conv { .. }) => {
                    kernel_bits += e.shared_kernel_weights(0, 1).unwrap_or(0) * limits.weight_bits
                }
                _ => {
                    let (rows, cols, per) = e.stored_profile();
                    terms.push(Term {
                        bits: per * limits.weight_bits,
                        rows: prefix(&rows),
                        cols: prefix(&cols),
                    });
                }
            }
        }
        let mut lm = LayerMemory {
            terms,
            kernel_bits,
            cap: 0,
            channels: limits
                .memory_bits
                .checked_div(kernel_bits)
                .map_or(u64::MAX, |d| d.max(1)),
        };
        // The cheapest neurons first: every channel of a pixel costs the same.
        let (h, w) = (shape.height as u32, shape.width as u32);
        let mut px: Vec<u128> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (y, x)))
            .map(|(y, x)| {
                lm.bits(&Region {
                    c0: 0,
                    c1: 1,
                    y0: y,
                    y1: y + 1,
                    x0: x,
                    x1: x + 1,
                })
            })
            .collect();
        px.sort_unstable();
        let budget = limits.memory_bits.saturating_sub(kernel_bits) as u128;
        let per_px = shape.channels as u128;
        let (mut used, mut k) = (0u128, 0u128);
        for m in px {
            let take = (budget - used)
                .checked_div(m)
                .map_or(per_px, |k| k.min(per_px));
            used += take * m;
            k += take;
            if take < per_px {
                break;
            }
        }
        // A layer none of whose neurons fits a core cannot be mapped at all; 1 keeps the
        // bound finite (and still valid) for such a chip.
        lm.cap = (k.min(limits.max_neurons as u128) as u64).max(1);
        lm
    }

    /// Bits the neurons of box `r` store on their own (shared kernels excluded).
    fn bits(&self, r: &Region) -> u128 {
        let nc = (r.c1 - r.c0) as u128;
        self.terms
            .iter()
            .map(|t| {
                let ry = (t.rows[r.y1 as usize] - t.rows[r.y0 as usize]) as u128;
                let cx = (t.cols[r.x1 as usize] - t.cols[r.x0 as usize]) as u128;
                nc * t.bits as u128 * ry * cx
            })
            .sum()
    }
}

/// Size and own memory of the union of some boxes of one layer, by inclusion–exclusion.
fn union_of(boxes: &[Region], lm: &LayerMemory) -> (u128, u128) {
    if let [r] = boxes {
        return (r.len() as u128, lm.bits(r));
    }
    let (mut n, mut bits) = (0i128, 0i128);
    for mask in 1u32..(1 << boxes.len()) {
        let mut it = (0..boxes.len()).filter(|&i| mask & (1 << i) != 0);
        let first = boxes[it.next().unwrap_or(0)];
        let Some(r) = it.try_fold(first, |acc, i| acc.intersect(&boxes[i])) else {
            continue;
        };
        let sign = if mask.count_ones() % 2 == 1 { 1 } else { -1 };
        n += sign * r.len() as i128;
        bits += sign * lm.bits(&r) as i128;
    }
    (n.max(0) as u128, bits.max(0) as u128)
}

/// The single-neuron box of neuron `idx` (channel-last) of a layer of shape `s`.
fn neuron_box(s: snn_core::Shape3, idx: usize) -> Region {
    let (c, p) = ((idx % s.channels) as u32, idx / s.channels);
    let (y, x) = ((p / s.width) as u32, (p % s.width) as u32);
    Region {
        c0: c,
        c1: c + 1,
        y0: y,
        y1: y + 1,
        x0: x,
        x1: x + 1,
    }
}

impl PacketBound {
    /// Fewest inter-core packets one spike of each neuron must cost under `limits`, per plan
    /// layer and neuron (`N_j − 1` of the module documentation; zero for the readout).
    pub fn per_spike(net: &NetGraph, limits: &CoreLimits) -> Vec<Vec<u32>> {
        let mems: Vec<LayerMemory> = (0..net.layers())
            .map(|l| LayerMemory::new(net, l, limits))
            .collect();
        let max_n = limits.max_neurons.max(1) as u128;
        let mem_bits = limits.memory_bits.max(1) as u128;
        let mut boxes: Vec<Region> = Vec::new();
        (0..net.layers())
            .map(|s| {
                let shape = net.plan.layers[s].output;
                // edges leaving the layer, grouped by target layer
                let mut groups: Vec<(usize, Vec<&Edge>)> = Vec::new();
                for e in net.edges_from(Source::Layer(s)) {
                    match groups.iter_mut().find(|g| g.0 == e.target) {
                        Some(g) => g.1.push(e),
                        None => groups.push((e.target, vec![e])),
                    }
                }
                if groups.is_empty() || !net.plan.layers[s].spikes() {
                    return vec![0; shape.len()];
                }
                let own = &mems[s];
                (0..shape.len())
                    .map(|j| {
                        let mut n_all = 1u128;
                        let mut bits_all =
                            own.bits(&neuron_box(shape, j)) + own.kernel_bits as u128;
                        let mut cores = 1u128;
                        for (l, edges) in &groups {
                            boxes.clear();
                            boxes.extend(edges.iter().filter_map(|e| e.targets(j)));
                            if boxes.is_empty() {
                                continue;
                            }
                            let lm = &mems[*l];
                            let (n, own_bits) = union_of(&boxes, lm);
                            let channels = boxes.iter().map(|r| r.c1 - r.c0).max().unwrap_or(0);
                            let per_channel: u128 = boxes
                                .iter()
                                .map(|r| ((r.y1 - r.y0) * (r.x1 - r.x0)) as u128)
                                .sum();
                            let cap = (lm.cap as u128).min(lm.channels as u128 * per_channel);
                            let bits = own_bits + channels as u128 * lm.kernel_bits as u128;
                            cores = cores
                                .max(n.div_ceil(cap.max(1)))
                                .max(bits.div_ceil(mem_bits));
                            n_all += n;
                            bits_all += bits;
                        }
                        let cores = cores
                            .max(n_all.div_ceil(max_n))
                            .max(bits_all.div_ceil(mem_bits));
                        (cores - 1).min(u32::MAX as u128) as u32
                    })
                    .collect()
            })
            .collect()
    }

    /// The bound for spike rates `act`: `Σ_j a_j · (N_j − 1)` over every spiking neuron.
    pub fn new(net: &NetGraph, limits: &CoreLimits, act: &Activity) -> Self {
        let by_layer: Vec<f64> = Self::per_spike(net, limits)
            .iter()
            .enumerate()
            .map(|(l, lb)| {
                lb.iter()
                    .zip(act.of(Source::Layer(l)))
                    .map(|(&k, &a)| a * k as f64)
                    .sum()
            })
            .collect();
        PacketBound {
            inter_core_packets: by_layer.iter().sum(),
            by_layer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two overlapping boxes (a source reaching one layer through two edges, which the plans
    /// never build but the bound allows): size and memory of the union by inclusion–exclusion
    /// equal counting every neuron once.
    #[test]
    fn union_of_overlapping_boxes_counts_every_neuron_once() {
        let (rows, cols) = (vec![1u64, 2, 3, 4], vec![5u64, 6, 7]);
        let lm = LayerMemory {
            terms: vec![Term {
                bits: 3,
                rows: prefix(&rows),
                cols: prefix(&cols),
            }],
            kernel_bits: 0,
            cap: 1,
            channels: u64::MAX,
        };
        let a = Region {
            c0: 0,
            c1: 2,
            y0: 0,
            y1: 3,
            x0: 1,
            x1: 3,
        };
        let b = Region {
            c0: 1,
            c1: 3,
            y0: 2,
            y1: 4,
            x0: 0,
            x1: 2,
        };
        let (mut n, mut bits) = (0u128, 0u128);
        for c in 0..3 {
            for y in 0..4 {
                for x in 0..3 {
                    if a.contains(y, x, c) || b.contains(y, x, c) {
                        n += 1;
                        bits += 3 * (rows[y as usize] * cols[x as usize]) as u128;
                    }
                }
            }
        }
        assert_eq!(union_of(&[a, b], &lm), (n, bits));
        assert_eq!(union_of(&[a], &lm).0, a.len() as u128);
    }
}
