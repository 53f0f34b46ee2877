//! Placing cores on the chip mesh and routing between them. Tiles form a 2-D mesh (several
//! chips joined side by side along x); a packet travels dimension-order (first along x, then
//! along y), so its hop count is the Manhattan distance between tiles. The placer minimizes
//! hop-weighted traffic by simulated annealing over slot swaps, starting from a snake order.

use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The core slots of one or more joined chips.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mesh {
    /// Tiles along x per chip.
    pub width: u32,
    /// Tiles along y.
    pub height: u32,
    /// Cores per tile.
    pub cores_per_tile: u32,
    /// Chips joined along x.
    pub chips: u32,
}

/// Where a core sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Chip index.
    pub chip: u32,
    /// Tile column on the joined mesh (chip `k` covers `k·width .. (k+1)·width`).
    pub x: u32,
    /// Tile row.
    pub y: u32,
    /// Core index within the tile.
    pub core: u32,
}

impl Mesh {
    /// Number of core slots.
    pub fn slots(&self) -> usize {
        (self.width * self.height * self.cores_per_tile * self.chips) as usize
    }

    /// Slot `s`, numbered chip by chip, row-major over the chip's tiles, then core in tile.
    pub fn slot(&self, s: usize) -> Slot {
        let s = s as u32;
        let per_chip = self.width * self.height * self.cores_per_tile;
        let chip = s / per_chip;
        let r = s % per_chip;
        let tile = r / self.cores_per_tile;
        Slot {
            chip,
            x: chip * self.width + tile % self.width,
            y: tile / self.width,
            core: r % self.cores_per_tile,
        }
    }

    /// Hops along x and y between two slots (0, 0 inside one tile).
    pub fn hops(&self, a: usize, b: usize) -> (u32, u32) {
        let (p, q) = (self.slot(a), self.slot(b));
        (p.x.abs_diff(q.x), p.y.abs_diff(q.y))
    }

    /// Slots in snake order over the joined mesh (rows alternate direction), so consecutive
    /// cores land on the same or neighbouring tiles.
    pub fn snake(&self) -> Vec<usize> {
        let gw = self.width * self.chips;
        let mut out = Vec::with_capacity(self.slots());
        for y in 0..self.height {
            for i in 0..gw {
                let x = if y % 2 == 0 { i } else { gw - 1 - i };
                let chip = x / self.width;
                let tile = y * self.width + x % self.width;
                for k in 0..self.cores_per_tile {
                    let per_chip = self.width * self.height * self.cores_per_tile;
                    out.push((chip * per_chip + tile * self.cores_per_tile + k) as usize);
                }
            }
        }
        out
    }
}

/// Sum over core pairs of packets × hops for a placement (`slot_of[core]`).
pub fn hop_weighted(mesh: &Mesh, matrix: &BTreeMap<(u32, u32), f64>, slot_of: &[usize]) -> f64 {
    matrix
        .iter()
        .map(|(&(p, q), &w)| {
            let (hx, hy) = mesh.hops(slot_of[p as usize], slot_of[q as usize]);
            w * (hx + hy) as f64
        })
        .sum::<f64>()
        + 0.0 // an empty sum is -0.0; report 0
}

/// Sequential placement: core `i` in slot `i` (chip by chip, row-major), as fill-order tools do.
pub fn place_sequential(cores: usize) -> Vec<usize> {
    (0..cores).collect()
}

/// A uniformly random placement.
pub fn place_random(mesh: &Mesh, cores: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9_1ACE);
    let mut slots: Vec<usize> = (0..mesh.slots()).collect();
    for i in 0..cores.min(slots.len()) {
        let j = rng.random_range(i..slots.len());
        slots.swap(i, j);
    }
    slots.truncate(cores);
    slots
}

/// Traffic-aware placement: snake order, then simulated annealing over swaps of two slots (a
/// core with another core or with an empty slot), deterministic for a seed.
pub fn place_optimized(
    mesh: &Mesh,
    cores: usize,
    matrix: &BTreeMap<(u32, u32), f64>,
    seed: u64,
) -> Vec<usize> {
    let slots = mesh.slots();
    let snake = mesh.snake();
    // occupant of each slot (usize::MAX = empty) and slot of each core
    let mut slot_of: Vec<usize> = snake[..cores].to_vec();
    let mut occupant = vec![usize::MAX; slots];
    for (c, &s) in slot_of.iter().enumerate() {
        occupant[s] = c;
    }
    // undirected traffic graph between cores
    let mut g: UnGraph<u32, f64> = UnGraph::with_capacity(cores, matrix.len());
    for c in 0..cores {
        g.add_node(c as u32);
    }
    let mut sym: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for (&(p, q), &w) in matrix {
        *sym.entry((p.min(q), p.max(q))).or_insert(0.0) += w;
    }
    for (&(p, q), &w) in &sym {
        g.add_edge(NodeIndex::new(p as usize), NodeIndex::new(q as usize), w);
    }
    if cores < 2 || sym.is_empty() {
        return slot_of;
    }
    let dist = |a: usize, b: usize| {
        let (x, y) = mesh.hops(a, b);
        (x + y) as f64
    };
    // cost change of moving core c from slot `from` to slot `to`, ignoring core `skip`
    let delta = |slot_of: &[usize], c: usize, to: usize, skip: usize| -> f64 {
        let from = slot_of[c];
        g.edges(NodeIndex::new(c))
            .map(|e| {
                let (a, b) = (e.source().index(), e.target().index());
                let o = if a == c { b } else { a };
                if o == skip {
                    return 0.0;
                }
                e.weight() * (dist(to, slot_of[o]) - dist(from, slot_of[o]))
            })
            .sum()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0051_ACE5);
    let iters = (4000 * cores).clamp(20_000, 2_000_000);
    let mean_w = sym.values().sum::<f64>() / sym.len() as f64;
    let t0 = mean_w * 2.0;
    for it in 0..iters {
        let temp = t0 * (1.0 - it as f64 / iters as f64).powi(2) + 1e-12;
        let c = rng.random_range(0..cores);
        let to = rng.random_range(0..slots);
        let from = slot_of[c];
        if to == from {
            continue;
        }
        let other = occupant[to];
        let mut d = delta(&slot_of, c, to, other);
        if other != usize::MAX {
            d += delta(&slot_of, other, from, c);
        }
        if d <= 0.0 || rng.random::<f64>() < (-d / temp).exp() {
            slot_of[c] = to;
            occupant[to] = c;
            occupant[from] = other;
            if other != usize::MAX {
                slot_of[other] = from;
            }
        }
    }
    slot_of
}
