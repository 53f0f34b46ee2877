//! Box-aware scatter: the spikes of one source added into the current of an output box (rows,
//! columns and a channel block) of a conv, dense, pooling or subsampling layer. The whole layer
//! is the full box ([`OutBox::full`]): `snn_core::runtime` scatters whole layers through these
//! kernels and the simulator scatters each core's box through the same ones, so there is one
//! implementation of a synapse's arithmetic.
//!
//! The kernels walk the synapses and hand runs of weight rows to a [`RowSink`], which adds
//! them: [`FloatRows`] with the vector kernel of [`simd::accumulate_rows`], the simulator's
//! integer sink with integer arithmetic. Per target neuron, inputs arrive in the order of the
//! (ascending) spike list, whatever the box, so a box's current equals the matching part of
//! the whole layer's bit for bit (tested below).

use crate::conv_geometry::ConvGeometry;
use crate::plan::Synapses;
use crate::shape::OutBox;
use crate::simd::{self, FastDiv, MAX_ROWS};

/// Adds runs of weight rows to a box's current: `out[o .. o + len] += Σ_j w[offsets[j] ..
/// offsets[j] + len] · value`, rows in the order of `offsets` (at most [`MAX_ROWS`]).
pub trait RowSink {
    /// Adds the rows at `offsets` (into the layer's weights) to `len` neurons from box-local
    /// neuron `o` on.
    fn add(&mut self, o: usize, len: usize, offsets: &[usize]);
}

/// The float sink: [`simd::accumulate_rows`] into `current` with the spikes' `value`.
pub struct FloatRows<'a> {
    /// The box's current (box-local, channel-last).
    pub current: &'a mut [f32],
    /// The layer's weights (for a conv, in the layout of [`ConvGeometry::prepare`]).
    pub weights: &'a [f32],
    /// The value every spike carries (±1, or the input scale).
    pub value: f32,
}

impl RowSink for FloatRows<'_> {
    #[inline(always)]
    fn add(&mut self, o: usize, len: usize, offsets: &[usize]) {
        simd::accumulate_rows(
            &mut self.current[o..o + len],
            self.weights,
            offsets,
            self.value,
        );
    }
}

/// Scatters `spikes` (strictly ascending channel-last input indices) through a convolution
/// into box `b` of its output; returns the synaptic operations (spike × target pairs inside
/// the box). Weight offsets handed to `sink` are into the prepared layout
/// ([`ConvGeometry::prepare`]). Consecutive spikes of one pixel share a pass over their
/// targets.
#[inline(always)]
pub fn conv_rows<S: RowSink>(geo: &ConvGeometry, spikes: &[u32], b: OutBox, sink: &mut S) -> u64 {
    let (k, cin, cout) = (geo.kernel, geo.input.channels, geo.output.channels);
    let pixels = (geo.input.height * geo.input.width) as u32;
    let dw = FastDiv::new(geo.input.width);
    let mut ops = 0;
    if cin == 1 {
        // One input channel (an image layer): every spike is its own pixel, with one weight
        // row per tap (a constant-length row list, so the single-row kernel is inlined).
        for &pix in spikes {
            assert!(pix < pixels, "spike index out of range");
            ops += conv_pixel(geo, dw.div_rem(pix), &[0], b, sink);
        }
        return ops;
    }
    let dc = FastDiv::new(cin);
    let mut base = [0usize; MAX_ROWS];
    let mut i = 0;
    while i < spikes.len() {
        let (pix, ci) = dc.div_rem(spikes[i]);
        assert!(pix < pixels, "spike index out of range");
        base[0] = ci as usize * k * k * cout;
        let mut g = 1;
        while g < MAX_ROWS && i + g < spikes.len() {
            let (p, c) = dc.div_rem(spikes[i + g]);
            if p != pix {
                break;
            }
            base[g] = c as usize * k * k * cout;
            g += 1;
        }
        i += g;
        ops += conv_pixel(geo, dw.div_rem(pix), &base[..g], b, sink);
    }
    ops
}

/// The targets in box `b` of the spikes of input pixel `(iy, ix)`: `base[j]` is spike `j`'s
/// offset (its channel's) into the prepared weights, ascending. Returns the synaptic operations.
#[inline(always)]
fn conv_pixel<S: RowSink>(
    geo: &ConvGeometry,
    (iy, ix): (u32, u32),
    base: &[usize],
    b: OutBox,
    sink: &mut S,
) -> u64 {
    let (k, cout) = (geo.kernel, geo.output.channels);
    let (ox_lo, pos_lo, n) = geo.col_run(ix as usize);
    let (ox_lo, pos_lo, n) = (ox_lo as usize, pos_lo as usize, n as usize);
    let (a, e) = (ox_lo.max(b.x0), (ox_lo + n).min(b.x1));
    if a >= e {
        return 0;
    }
    let (cols, cb, bw) = (e - a, b.c1 - b.c0, b.x1 - b.x0);
    let mut offs = [0usize; MAX_ROWS];
    let offs = &mut offs[..base.len()];
    let mut rows = 0;
    for &(ky, oy) in geo.rows(iy as usize) {
        let oy = oy as usize;
        if oy < b.y0 || oy >= b.y1 {
            continue;
        }
        rows += 1;
        let w0 = (ky as usize * k + pos_lo + a - ox_lo) * cout;
        let o0 = ((oy - b.y0) * bw + a - b.x0) * cb;
        if cb == cout {
            // Whole channel rows: the columns' weights and targets are one contiguous run.
            for (o, bb) in offs.iter_mut().zip(base) {
                *o = bb + w0;
            }
            sink.add(o0, cols * cout, offs);
        } else {
            for j in 0..cols {
                for (o, bb) in offs.iter_mut().zip(base) {
                    *o = bb + w0 + j * cout + b.c0;
                }
                sink.add(o0 + j * cb, cb, offs);
            }
        }
    }
    (rows * cols * cb * base.len()) as u64
}

/// Scatters `spikes` through dense synapses (`outputs` targets per input, weights `[in][out]`)
/// into the channel block `b.c0 .. b.c1` (a dense layer's box is channels only); returns the
/// synaptic operations. Up to [`MAX_ROWS`] spikes share a pass over the block.
#[inline(always)]
pub fn dense_rows<S: RowSink>(outputs: usize, spikes: &[u32], b: OutBox, sink: &mut S) -> u64 {
    let cb = b.c1 - b.c0;
    let mut offs = [0usize; MAX_ROWS];
    for chunk in spikes.chunks(MAX_ROWS) {
        for (o, &s) in offs.iter_mut().zip(chunk) {
            *o = s as usize * outputs + b.c0;
        }
        sink.add(0, cb, &offs[..chunk.len()]);
    }
    (spikes.len() * cb) as u64
}

/// Calls `f(o)` with the box-local index `o` of the neuron in box `b` that each spike reaches
/// through 2×2 average pooling (stride 2) or an identity shortcut subsampled by its stride
/// (`syn`), in the order of `spikes` (strictly ascending) per target. Inputs in a dropped odd
/// last row or column of a pooling reach nothing. Only the spikes of the box's field are
/// visited: per input row, one run of the list.
#[inline(always)]
pub fn for_each_pool_target(syn: &Synapses, spikes: &[u32], b: OutBox, mut f: impl FnMut(usize)) {
    let (input, stride, pool) = match *syn {
        Synapses::AvgPool2 { input, .. } => (input, 2, true),
        Synapses::Subsample { input, stride, .. } => (input, stride, false),
        _ => panic!("for_each_pool_target needs pooling or subsampling synapses, got {syn:?}"),
    };
    if b.is_empty() {
        return;
    }
    let (w_in, cin) = (input.width, input.channels);
    let (dc, dw) = (FastDiv::new(cin), FastDiv::new(w_in));
    let rows_per_out = if pool { 2 } else { 1 };
    let (ix0, ix1) = (
        b.x0 * stride,
        ((b.x1 - 1) * stride + rows_per_out).min(w_in),
    );
    let (bw, cb) = (b.x1 - b.x0, b.c1 - b.c0);
    let mut from = 0;
    for oy in b.y0..b.y1 {
        for iy in oy * stride..(oy * stride + rows_per_out).min(input.height) {
            let lo = ((iy * w_in + ix0) * cin) as u32;
            let hi = ((iy * w_in + ix1) * cin) as u32;
            let a = from + spikes[from..].partition_point(|&s| s < lo);
            let e = a + spikes[a..].partition_point(|&s| s < hi);
            from = e;
            for &s in &spikes[a..e] {
                let (p, c) = dc.div_rem(s);
                let ix = dw.div_rem(p).1 as usize;
                let c = c as usize;
                if c < b.c0 || c >= b.c1 || (!pool && !ix.is_multiple_of(stride)) {
                    continue;
                }
                f(((oy - b.y0) * bw + ix / stride - b.x0) * cb + c - b.c0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape3;
    use crate::synapse::{conv_scatter, dense_scatter};
    use crate::test_rng::lcg;

    fn conv(k: usize, stride: usize, pad: usize, input: Shape3, cout: usize) -> Synapses {
        let out = |n: usize| (n + 2 * pad - k) / stride + 1;
        Synapses::Conv {
            kernel: k,
            stride,
            padding: pad,
            input,
            output: Shape3::new(cout, out(input.height), out(input.width)),
        }
    }

    /// Ascending spikes: every input neuron with probability about `density`.
    fn spikes(n: usize, density: f32, seed: &mut u64) -> Vec<u32> {
        (0..n as u32)
            .filter(|_| lcg(seed) + 0.5 < density)
            .collect()
    }

    /// Box `b`'s part of a whole-layer current.
    fn crop(whole: &[f32], shape: Shape3, b: OutBox) -> Vec<f32> {
        let mut out = Vec::new();
        for y in b.y0..b.y1 {
            for x in b.x0..b.x1 {
                for c in b.c0..b.c1 {
                    out.push(whole[shape.index(y, x, c)]);
                }
            }
        }
        out
    }

    /// Boxes cutting `shape` into `ny × nx × nc` tiles.
    fn tiles(shape: Shape3, ny: usize, nx: usize, nc: usize) -> Vec<OutBox> {
        let cut = |len: usize, n: usize, i: usize| (i * len / n, (i + 1) * len / n);
        let mut boxes = Vec::new();
        for i in 0..ny {
            for j in 0..nx {
                for l in 0..nc {
                    let ((y0, y1), (x0, x1), (c0, c1)) = (
                        cut(shape.height, ny, i),
                        cut(shape.width, nx, j),
                        cut(shape.channels, nc, l),
                    );
                    boxes.push(OutBox {
                        y0,
                        y1,
                        x0,
                        x1,
                        c0,
                        c1,
                    });
                }
            }
        }
        boxes
    }

    /// The box kernels on the full box equal the plain whole-layer reference bit for bit, and
    /// every tile of a cut equals its part of the whole layer with the synaptic operations
    /// summing to the whole layer's.
    fn check(syn: Synapses, density: f32, value: f32, cuts: [usize; 3]) {
        let mut seed = 17;
        let output = match syn {
            Synapses::Conv { output, .. }
            | Synapses::AvgPool2 { output, .. }
            | Synapses::Subsample { output, .. } => output,
            Synapses::Dense { outputs, .. } => Shape3::flat(outputs),
        };
        let n_w = syn.weight_count();
        let w: Vec<f32> = (0..n_w).map(|_| lcg(&mut seed)).collect();
        let s = spikes(syn.input_len(), density, &mut seed);
        let geo = matches!(syn, Synapses::Conv { .. }).then(|| ConvGeometry::new(&syn));
        let mut prepared = Vec::new();
        if let Some(g) = &geo {
            g.prepare(&w, &mut prepared);
        } else {
            prepared = w.clone();
        }
        // The plain kernels: one pass per spike over its targets, canonical weight layout.
        let mut expect = vec![0.0f32; output.len()];
        match syn {
            Synapses::Conv { .. } => {
                conv_scatter(geo.as_ref().unwrap(), &w, &s, value, &mut expect)
            }
            Synapses::Dense { outputs, .. } => dense_scatter(&w, outputs, &s, value, &mut expect),
            Synapses::AvgPool2 { input, .. } | Synapses::Subsample { input, .. } => {
                let (stride, add) = match syn {
                    Synapses::Subsample { stride, .. } => (stride, value),
                    _ => (2, 0.25 * value),
                };
                for &i in &s {
                    let i = i as usize;
                    let (c, p) = (i % input.channels, i / input.channels);
                    let (y, x) = (p / input.width, p % input.width);
                    let pool = stride == 2 && matches!(syn, Synapses::AvgPool2 { .. });
                    if !pool && (y % stride != 0 || x % stride != 0) {
                        continue;
                    }
                    let (oy, ox) = (y / stride, x / stride);
                    if oy < output.height && ox < output.width {
                        expect[output.index(oy, ox, c)] += add;
                    }
                }
            }
        }
        let run = |b: OutBox| {
            let mut cur = vec![0.0f32; b.len()];
            let mut sink = FloatRows {
                current: &mut cur,
                weights: &prepared,
                value,
            };
            let ops = match syn {
                Synapses::Conv { .. } => conv_rows(geo.as_ref().unwrap(), &s, b, &mut sink),
                Synapses::Dense { outputs, .. } => dense_rows(outputs, &s, b, &mut sink),
                _ => {
                    let add = if matches!(syn, Synapses::AvgPool2 { .. }) {
                        0.25 * value
                    } else {
                        value
                    };
                    for_each_pool_target(&syn, &s, b, |o| cur[o] += add);
                    0
                }
            };
            (cur, ops)
        };
        let (whole, whole_ops) = run(OutBox::full(output));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&whole),
            bits(&expect),
            "{syn:?}: full box vs reference"
        );
        let mut ops = 0;
        for b in tiles(output, cuts[0], cuts[1], cuts[2]) {
            let (cur, o) = run(b);
            ops += o;
            assert_eq!(
                bits(&cur),
                bits(&crop(&whole, output, b)),
                "{syn:?} box {b:?}"
            );
        }
        assert_eq!(ops, whole_ops, "{syn:?}: synaptic operations of the tiles");
    }

    #[test]
    fn boxes_equal_the_whole_layer_for_every_synapse_kind() {
        // Image layer (one channel), stride 1 and 2, padding, uneven cuts.
        check(
            conv(5, 1, 0, Shape3::new(1, 12, 11), 6),
            0.3,
            1.0,
            [3, 2, 1],
        );
        check(
            conv(3, 1, 1, Shape3::new(4, 9, 10), 12),
            0.4,
            -1.0,
            [2, 3, 5],
        );
        check(conv(3, 2, 1, Shape3::new(5, 11, 9), 8), 0.5, 1.0, [3, 3, 3]);
        check(conv(1, 2, 0, Shape3::new(6, 8, 8), 7), 0.6, 1.0, [2, 2, 2]);
        // More spikes per pixel than one pass takes (> MAX_ROWS channels firing together).
        check(
            conv(3, 1, 1, Shape3::new(20, 6, 6), 10),
            0.9,
            1.25,
            [2, 1, 3],
        );
        let dense = Synapses::Dense {
            inputs: 50,
            outputs: 23,
        };
        check(dense, 0.5, 1.0, [1, 1, 4]);
        let pool = Synapses::AvgPool2 {
            input: Shape3::new(3, 9, 7),
            output: Shape3::new(3, 4, 3),
        };
        check(pool, 0.5, 1.0, [2, 3, 2]);
        let sub = Synapses::Subsample {
            stride: 2,
            input: Shape3::new(4, 7, 8),
            output: Shape3::new(4, 4, 4),
        };
        check(sub, 0.5, -1.0, [3, 2, 2]);
    }
}
