//! Splitting layers into atoms: small boxes of neurons (a channel block × a spatial tile) that
//! each fit a core with room to spare, so the partitioner can pack several into one core. The
//! atoms of a layer form a regular grid, so the atom holding a neuron, or the atoms a spike
//! reaches, are found by arithmetic.

use crate::error::MapError;
use crate::limits::CoreLimits;
use crate::network::NetGraph;
use crate::region::Region;
use serde::{Deserialize, Serialize};
use snn_core::plan::Synapses;

/// How many atoms should fit one core (when the limits allow atoms that small), unless the
/// request says otherwise (`snn-map --atoms-per-core`). Finer atoms give the partitioner more
/// freedom at the cost of time: 8 sent 0–11 % fewer packets on the networks of
/// `reports/mapping/` and took up to twice as long.
pub const DEFAULT_ATOMS_PER_CORE: u32 = 4;

/// The atom grid of one layer. Atoms are numbered in channel-last order (row of tiles, column
/// of tiles, then channel block), like the neurons, so ties in the partitioner keep the blocks
/// of one pixel and neighbouring pixels together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerTiling {
    /// Layer name.
    pub name: String,
    /// Channels per atom (the last block may be smaller).
    pub channel_block: u32,
    /// Rows per atom.
    pub tile_rows: u32,
    /// Columns per atom.
    pub tile_cols: u32,
    /// Number of channel blocks, row tiles and column tiles.
    pub grid: [u32; 3],
    /// Id of the layer's first atom.
    pub first_atom: u32,
    /// Layer shape: channels, height, width.
    pub shape: [u32; 3],
}

impl LayerTiling {
    /// Number of atoms of the layer.
    pub fn atoms(&self) -> u32 {
        self.grid[0] * self.grid[1] * self.grid[2]
    }

    /// The atom holding neuron (y, x, c).
    #[inline]
    pub fn atom_of(&self, y: u32, x: u32, c: u32) -> u32 {
        let (b, ty, tx) = (
            c / self.channel_block,
            y / self.tile_rows,
            x / self.tile_cols,
        );
        self.first_atom + (ty * self.grid[2] + tx) * self.grid[0] + b
    }

    /// The box of the `k`-th atom of this layer.
    pub fn region(&self, k: u32) -> Region {
        let b = k % self.grid[0];
        let tx = (k / self.grid[0]) % self.grid[2];
        let ty = k / (self.grid[0] * self.grid[2]);
        Region {
            c0: b * self.channel_block,
            c1: ((b + 1) * self.channel_block).min(self.shape[0]),
            y0: ty * self.tile_rows,
            y1: ((ty + 1) * self.tile_rows).min(self.shape[1]),
            x0: tx * self.tile_cols,
            x1: ((tx + 1) * self.tile_cols).min(self.shape[2]),
        }
    }

    /// Calls `f(atom, part)` for every atom overlapping box `r`, with the overlap.
    pub fn for_each_atom_in(&self, r: &Region, mut f: impl FnMut(u32, Region)) {
        let (b0, b1) = (
            r.c0 / self.channel_block,
            (r.c1 - 1) / self.channel_block + 1,
        );
        let (y0, y1) = (r.y0 / self.tile_rows, (r.y1 - 1) / self.tile_rows + 1);
        let (x0, x1) = (r.x0 / self.tile_cols, (r.x1 - 1) / self.tile_cols + 1);
        for b in b0..b1 {
            for ty in y0..y1 {
                for tx in x0..x1 {
                    let k = (ty * self.grid[2] + tx) * self.grid[0] + b;
                    if let Some(part) = self.region(k).intersect(r) {
                        f(self.first_atom + k, part);
                    }
                }
            }
        }
    }
}

/// One atom: a box of one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Atom {
    /// Plan layer index.
    pub layer: u32,
    /// The neurons.
    pub region: Region,
}

/// All atoms of a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomSet {
    /// One grid per plan layer.
    pub tilings: Vec<LayerTiling>,
    /// Every atom, layer by layer.
    pub atoms: Vec<Atom>,
}

/// Start of a run of `len` (at most `extent`) centred in `0..extent`: test boxes sit in the
/// middle of a layer, where every kernel tap is in bounds and a box costs the most.
fn centre(extent: u32, len: u32) -> u32 {
    (extent - len.min(extent)) / 2
}

/// True when plan layer `l + 1` is a 2×2 average pooling of layer `l`.
fn feeds_pool(net: &NetGraph, l: usize) -> bool {
    net.plan
        .layers
        .get(l + 1)
        .is_some_and(|n| matches!(n.synapses, Synapses::AvgPool2 { .. }))
}

/// Resources of a box standing alone on a core: (fan-in, memory bits).
pub fn box_cost(net: &NetGraph, limits: &CoreLimits, layer: usize, r: &Region) -> (u64, u64) {
    let mut fan_in = 0u64;
    let mut mem = 0u64;
    for e in net.edges_into(layer) {
        fan_in += e.field(r, net.source_shape(e.source)).len() as u64;
        mem += limits.memory_bits(e, r);
    }
    (fan_in, mem)
}

impl AtomSet {
    /// Cuts every layer of `net` into atoms that fit `limits`; fails naming the layer and what
    /// it needs when not even a single neuron fits a core.
    /// `atoms_per_core` (≥ 1) is how many atoms should fit one core.
    pub fn build(
        net: &NetGraph,
        limits: &CoreLimits,
        chip_file: &str,
        atoms_per_core: u32,
    ) -> Result<Self, MapError> {
        let per_core = u64::from(atoms_per_core.max(1));
        let mut tilings = Vec::new();
        let mut atoms = Vec::new();
        for (l, layer) in net.plan.layers.iter().enumerate() {
            let shape = layer.output;
            let (c, h, w) = (
                shape.channels as u32,
                shape.height as u32,
                shape.width as u32,
            );
            let one = Region {
                c0: 0,
                c1: 1,
                y0: h / 2,
                y1: h / 2 + 1,
                x0: w / 2,
                x1: w / 2 + 1,
            };
            let fits = |r: &Region| {
                let (fi, mem) = box_cost(net, limits, l, r);
                r.len() as u64 <= limits.max_neurons
                    && fi <= limits.max_fan_in
                    && mem <= limits.memory_bits
            };
            if !fits(&one) {
                let (fi, mem) = box_cost(net, limits, l, &one);
                return Err(MapError::NeuronTooBig {
                    layer: layer.name.clone(),
                    fan_in: fi,
                    memory_bits: mem,
                    chip: chip_file.to_string(),
                    limits: *limits,
                });
            }
            // Largest channel block that fits one pixel, then blocks of equal size.
            let mut cb_max = 1;
            while cb_max < c
                && fits(&Region {
                    c1: cb_max + 1,
                    ..one
                })
            {
                cb_max += 1;
            }
            // A conv pixel whose channels do not fit one core is cut into blocks a fraction of a
            // core, so several blocks (of the same or neighbouring pixels) pack into one core.
            let conv = matches!(layer.synapses, Synapses::Conv { .. });
            let cb_max = if conv && cb_max < c {
                (cb_max as u64).div_ceil(per_core) as u32
            } else {
                cb_max
            };
            let nc = c.div_ceil(cb_max);
            let cb = c.div_ceil(nc);
            // Neurons of a whole core for this layer, then atoms a fraction of that.
            let mut core_px = 1u32;
            while core_px < h * w {
                let side = ((core_px + 1) as f64).sqrt().ceil() as u32;
                let r = Region {
                    c1: cb,
                    y0: centre(h, side.min(h)),
                    y1: centre(h, side.min(h)) + (side.min(h)),
                    x0: centre(w, (core_px + 1).div_ceil(side.min(h)).min(w)),
                    x1: centre(w, (core_px + 1).div_ceil(side.min(h)).min(w))
                        + ((core_px + 1).div_ceil(side.min(h)).min(w)),
                    ..one
                };
                if !fits(&r) {
                    break;
                }
                core_px += 1;
            }
            let px = (core_px as u64).div_ceil(per_core).max(1) as u32;
            let mut th = ((px as f64).sqrt().floor() as u32).clamp(1, h);
            let mut tw = (px / th).clamp(1, w);
            // A pooling layer takes exactly the image of the previous layer's tiles, so a conv
            // tile and the pooling tile it feeds can share a core.
            let prev: Option<&LayerTiling> = tilings.last();
            let pooled = matches!(layer.synapses, Synapses::AvgPool2 { .. });
            let mut aligned = false;
            if let (true, Some(p)) = (pooled, prev) {
                // The image of one source tile; for single-pixel source atoms (memory-bound
                // conv pixels) one pooling pixel, the image of a 2x2 block of them, which can
                // share a core with up to three of its four sources.
                let tile = if p.tile_rows == 1 && p.tile_cols == 1 {
                    Some((1, 1))
                } else {
                    (p.tile_rows % 2 == 0 && p.tile_cols % 2 == 0)
                        .then_some((p.tile_rows / 2, p.tile_cols / 2))
                };
                if let Some((ph, pw)) = tile.filter(|_| p.channel_block <= cb) {
                    let r = Region {
                        c1: p.channel_block,
                        y0: centre(h, ph),
                        y1: centre(h, ph) + ph,
                        x0: centre(w, pw),
                        x1: centre(w, pw) + pw,
                        ..one
                    };
                    if fits(&r) {
                        th = ph;
                        tw = pw;
                        aligned = true;
                    }
                }
            }
            let cb = if aligned {
                prev.map_or(cb, |p| p.channel_block)
            } else {
                cb
            };
            let nc = c.div_ceil(cb);
            // A layer that feeds a pooling layer gets even tiles (at least 2x2 when that fits).
            if feeds_pool(net, l) && !aligned && cb == c {
                let even = |v: u32, lim: u32| {
                    if v >= 2 {
                        (v / 2 * 2).min(lim / 2 * 2).max(2)
                    } else {
                        2
                    }
                };
                let (eh, ew) = (even(th, h), even(tw, w));
                let r = Region {
                    c1: cb,
                    y0: centre(h, eh.min(h)),
                    y1: centre(h, eh.min(h)) + (eh.min(h)),
                    x0: centre(w, ew.min(w)),
                    x1: centre(w, ew.min(w)) + (ew.min(w)),
                    ..one
                };
                if h >= 2 && w >= 2 && fits(&r) {
                    th = eh;
                    tw = ew;
                    aligned = true;
                }
            }
            // The tile must fit on its own (fan-in grows with the tile's border).
            loop {
                let r = Region {
                    c1: cb,
                    y0: centre(h, th),
                    y1: centre(h, th) + (th),
                    x0: centre(w, tw),
                    x1: centre(w, tw) + (tw),
                    ..one
                };
                let all_fit = || {
                    let t = LayerTiling {
                        name: String::new(),
                        channel_block: cb,
                        tile_rows: th,
                        tile_cols: tw,
                        grid: [nc, h.div_ceil(th), w.div_ceil(tw)],
                        first_atom: 0,
                        shape: [c, h, w],
                    };
                    (0..t.atoms()).all(|k| fits(&t.region(k)))
                };
                if (fits(&r) && all_fit()) || (th == 1 && tw == 1) {
                    break;
                }
                if aligned && th >= 4 && tw >= 4 {
                    if th >= tw {
                        th -= 2;
                    } else {
                        tw -= 2;
                    }
                    continue;
                }
                if th >= tw {
                    th -= 1;
                } else {
                    tw -= 1;
                }
            }
            let tiling = LayerTiling {
                name: layer.name.clone(),
                channel_block: cb,
                tile_rows: th,
                tile_cols: tw,
                grid: [nc, h.div_ceil(th), w.div_ceil(tw)],
                first_atom: atoms.len() as u32,
                shape: [c, h, w],
            };
            for k in 0..tiling.atoms() {
                atoms.push(Atom {
                    layer: l as u32,
                    region: tiling.region(k),
                });
            }
            tilings.push(tiling);
        }
        Ok(AtomSet { tilings, atoms })
    }

    /// The atom holding neuron `idx` (channel-last) of layer `layer`.
    #[inline]
    pub fn atom_of(&self, layer: usize, idx: usize) -> u32 {
        let t = &self.tilings[layer];
        let c = (idx % t.shape[0] as usize) as u32;
        let p = idx / t.shape[0] as usize;
        t.atom_of(p as u32 / t.shape[2], p as u32 % t.shape[2], c)
    }

    /// Every atom once, in the order in which in-order filling should take them: atom id order,
    /// except that a layer of single-pixel atoms feeding a 2×2 pooling layer goes two rows at a
    /// time, column by column ((0,0), (1,0), (0,1), (1,1), (0,2), …). Consecutive pixels then form
    /// compact L-shapes and the four sources of a pooling neuron stay close in the order, so a
    /// core filled with three or four consecutive pixels holds most of a pooling block.
    pub fn fill_order(&self, net: &NetGraph) -> Vec<u32> {
        let mut order = Vec::with_capacity(self.atoms.len());
        for (l, t) in self.tilings.iter().enumerate() {
            if !(feeds_pool(net, l) && t.tile_rows == 1 && t.tile_cols == 1) {
                order.extend(t.first_atom..t.first_atom + t.atoms());
                continue;
            }
            let [nc, gy, gx] = t.grid;
            for y0 in (0..gy).step_by(2) {
                for x in 0..gx {
                    for y in y0..(y0 + 2).min(gy) {
                        order.extend((0..nc).map(|b| t.atom_of(y, x, b * t.channel_block)));
                    }
                }
            }
        }
        order
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    /// True when there are no atoms.
    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }
}
