//! Trainable weights: initialisation (paper-method §5.4) and the transposed copies the backward
//! pass reads (one contiguous row per *output* neuron, so an output event touches one slice).

use crate::seed::stream_rng;
use rand_distr::{Distribution, Normal};
use snn_core::model_file::LayerWeights;
use snn_core::plan::{NetworkPlan, Synapses};

/// `(blocks, rows, cols)` of a weight tensor viewed as `blocks` row-major `rows × cols`
/// matrices with rows = inputs and cols = outputs: conv `[ky·kx·c_in][c_out]`, dense
/// `[in][out]`. The transposed conv layout is therefore `[c_out][ky][kx][c_in]`, in which one
/// output neuron's taps along a kernel row are contiguous and line up with the channel-last input.
pub fn block_dims(syn: &Synapses) -> (usize, usize, usize) {
    match *syn {
        Synapses::Conv {
            kernel,
            input,
            output,
            ..
        } => (1, kernel * kernel * input.channels, output.channels),
        Synapses::Dense { inputs, outputs } => (1, inputs, outputs),
        Synapses::AvgPool2 { .. } | Synapses::Subsample { .. } => (0, 0, 0),
    }
}

/// Side of the square tiles the transposes walk. Measured on a 4096 × 1024 tensor (VGG9's fc1,
/// 16 MB): 16 takes 8 ms where 32-wide tiles walked along the canonical rows took 30 ms (every
/// store a different 16 KB-strided page).
const TILE: usize = 16;

/// Calls `f(i, j)` for every `i < rows`, `j < cols`, tile by tile, `i` innermost: the transposed
/// `cols × rows` matrix is walked along its rows, the row-major `rows × cols` one through a
/// cache-resident tile.
#[inline(always)]
fn for_each_tiled(rows: usize, cols: usize, mut f: impl FnMut(usize, usize)) {
    for j0 in (0..cols).step_by(TILE) {
        for i0 in (0..rows).step_by(TILE) {
            for j in j0..(j0 + TILE).min(cols) {
                for i in i0..(i0 + TILE).min(rows) {
                    f(i, j);
                }
            }
        }
    }
}

/// Transposes each block of `w` (rows × cols → cols × rows) into `out`, in parallel over
/// stripes of the transposed rows on the current rayon pool.
pub fn transpose_into(syn: &Synapses, w: &[f32], out: &mut Vec<f32>) {
    use rayon::prelude::*;
    let (b, r, c) = block_dims(syn);
    // Every element is written below: no need to clear.
    out.resize(w.len(), 0.0);
    for k in 0..b {
        let src = &w[k * r * c..(k + 1) * r * c];
        let dst = &mut out[k * r * c..(k + 1) * r * c];
        // Stripe s holds the transposed rows j ∈ [s·TILE, s·TILE + TILE).
        dst.par_chunks_mut(TILE * r)
            .enumerate()
            .for_each(|(stripe, d)| {
                let j0 = stripe * TILE;
                let cols = d.len() / r;
                for_each_tiled(r, cols, |i, jj| d[jj * r + i] = src[i * c + j0 + jj]);
            });
    }
}

/// Inverse of [`transpose_into`]: reads a transposed tensor and yields the element at
/// canonical position `p` through `f(p, value)`, every position once (in tile order).
pub fn for_each_untransposed(syn: &Synapses, wt: &[f32], mut f: impl FnMut(usize, f32)) {
    let (b, r, c) = block_dims(syn);
    for k in 0..b {
        let base = k * r * c;
        for_each_tiled(r, c, |i, j| f(base + i * c + j, wt[base + j * r + i]));
    }
}

/// Updates every element of the canonical tensor `w` from the element at the same position of
/// its transposed copy `wt`: `f(&mut w[p], wt-value)`, in parallel over stripes of canonical rows
/// on the current rayon pool (each element exactly once; the order does not matter to `f`).
pub fn update_from_transposed(
    syn: &Synapses,
    w: &mut [f32],
    wt: &[f32],
    f: impl Fn(&mut f32, f32) + Sync,
) {
    use rayon::prelude::*;
    let (b, r, c) = block_dims(syn);
    assert_eq!(w.len(), wt.len());
    for k in 0..b {
        let w = &mut w[k * r * c..(k + 1) * r * c];
        let wt = &wt[k * r * c..(k + 1) * r * c];
        // Stripe s holds the canonical rows i ∈ [s·TILE, s·TILE + TILE).
        w.par_chunks_mut(TILE * c)
            .enumerate()
            .for_each(|(stripe, d)| {
                let i0 = stripe * TILE;
                let rows = d.len() / c;
                for j in 0..c {
                    for ii in 0..rows {
                        f(&mut d[ii * c + j], wt[j * r + i0 + ii]);
                    }
                }
            });
    }
}

/// Normal(0, sqrt(gain / fan_in)) weights for every layer, from a seeded stream per layer.
pub fn init(plan: &NetworkPlan, gain: f64, seed: u64) -> Vec<LayerWeights> {
    plan.layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let draw = |syn: &Synapses, stream: u64| -> Vec<f32> {
                let n = syn.weight_count();
                if n == 0 {
                    return Vec::new();
                }
                let std = (gain / syn.fan_in() as f64).sqrt();
                let normal = Normal::new(0.0, std).expect("finite std");
                let mut rng = stream_rng(seed, &[0x1417, l as u64, stream]);
                (0..n).map(|_| normal.sample(&mut rng) as f32).collect()
            };
            LayerWeights {
                layer: layer.name.clone(),
                main: draw(&layer.synapses, 0),
                shortcut: layer
                    .shortcut
                    .map(|s| draw(&s.synapses, 1))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Transposed copies of all weights (rebuilt after every update).
#[derive(Clone, Debug, Default)]
pub struct TransposedWeights {
    /// Per layer: (main, shortcut) in output-major layout.
    pub layers: Vec<(Vec<f32>, Vec<f32>)>,
}

impl TransposedWeights {
    /// Rebuilds from the canonical weights.
    pub fn update(&mut self, plan: &NetworkPlan, weights: &[LayerWeights]) {
        self.layers.resize_with(plan.layers.len(), Default::default);
        for ((layer, w), (m, s)) in plan.layers.iter().zip(weights).zip(&mut self.layers) {
            transpose_into(&layer.synapses, &w.main, m);
            match layer.shortcut {
                Some(sc) => transpose_into(&sc.synapses, &w.shortcut, s),
                None => s.clear(),
            }
        }
    }
}
