//! Gather form of a stride-1 convolution over one output box and channel block: the synaptic
//! half of a step for one simulated core's atom when its input spikes are dense enough that
//! reading each output's receptive field beats scattering every spike into the box.
//!
//! Weights are in the scatter layout of [`ConvGeometry::prepare`] (`[c_in][ky][kx'][c_out]`).
//! The result *replaces* the box's current: per output neuron, the spikes of its field are
//! added in ascending input index (kernel row, then the contiguous run of the channel-last
//! spike list covering the window's columns) to an accumulator starting at +0.0, multiplying
//! by the spike value first (skipped for 1.0) and never fusing. That is the exact sequence of
//! roundings of a scatter of the same ascending spike list into a zeroed current, so the two
//! are bit-identical (tested below).

use crate::gather::window;
pub use crate::shape::OutBox;
use crate::simd::FastDiv;
use crate::synapse::ConvGeometry;

/// Largest channel block the vector kernel keeps in registers (8 registers of 8 floats);
/// larger blocks fall back to the scalar loop.
pub const MAX_BLOCK: usize = 64;

/// Scratch space reused between calls.
#[derive(Clone, Debug, Default)]
pub struct BoxScratch {
    /// Per (input row of the field, input column of the field + 1): first spike at or after it.
    start: Vec<u32>,
    /// Per spike of the field's rows: its weight offset, relative to its window (see `keys`).
    key: Vec<u32>,
}

/// Input rows or columns `[lo, hi)` read by outputs `o0..o1` along one axis (clipped).
fn field(o0: usize, o1: usize, pad: usize, k: usize, len: usize) -> (usize, usize) {
    (
        o0.saturating_sub(pad),
        (o1 - 1 + k).saturating_sub(pad).min(len),
    )
}

/// Writes the current of box `b` caused by `spikes` (strictly ascending channel-last input
/// indices, each carrying `value`) into `current` (box-local, see [`OutBox`]), replacing what
/// was there; returns the synaptic operations (spike × target pairs inside the box).
/// `weights` are the whole layer's prepared weights. Panics on a stride other than 1, a box
/// outside the output, or spikes out of range.
pub fn conv_gather_box(
    geo: &ConvGeometry,
    weights: &[f32],
    spikes: &[u32],
    value: f32,
    b: OutBox,
    current: &mut [f32],
    scratch: &mut BoxScratch,
) -> u64 {
    let (k, cin, cout, pad) = (
        geo.kernel,
        geo.input.channels,
        geo.output.channels,
        geo.padding,
    );
    let (w_in, h_in) = (geo.input.width, geo.input.height);
    assert_eq!(geo.stride, 1, "gather needs stride 1");
    assert_eq!(weights.len(), k * k * cin * cout, "conv weight count");
    assert!(b.y0 < b.y1 && b.y1 <= geo.output.height, "box rows");
    assert!(b.x0 < b.x1 && b.x1 <= geo.output.width, "box columns");
    assert!(b.c0 < b.c1 && b.c1 <= cout, "box channels");
    assert_eq!(current.len(), b.len(), "box current length");
    assert!(
        spikes
            .last()
            .is_none_or(|&s| (s as usize) < geo.input.len()),
        "spike index out of range"
    );
    debug_assert!(spikes.windows(2).all(|p| p[0] < p[1]), "spikes ascending");
    let (iy0, iy1) = field(b.y0, b.y1, pad, k, h_in);
    let (ix0, ix1) = field(b.x0, b.x1, pad, k, w_in);
    if iy0 >= iy1 || ix0 >= ix1 {
        current.fill(0.0);
        return 0;
    }
    let BoxScratch { start, key } = scratch;
    // Start of every (field row, field column) run of the spike list.
    let ncol = ix1 - ix0 + 1;
    start.clear();
    let first = spikes.partition_point(|&s| (s as usize) < iy0 * w_in * cin);
    let last = spikes.partition_point(|&s| (s as usize) < iy1 * w_in * cin);
    let mut p = first;
    for iy in iy0..iy1 {
        for ix in ix0..=ix1 {
            let bound = (iy * w_in + ix) * cin;
            while p < last && (spikes[p] as usize) < bound {
                p += 1;
            }
            start.push((p - first) as u32);
        }
    }
    // Weight offset of a spike at (ix, c) for output column ox and kernel row ky:
    //   ((c·k + ky)·k + kx')·cout + c0 with kx' = k − 1 − (ix + pad − ox)
    // = [c·k·k·cout + (w_in − ix)·cout] + [ky·k·cout + (k − 1 − pad + ox − w_in)·cout + c0];
    // the first bracket is the spike's key, the second the window's base (wrapping).
    let (dc, dw) = (FastDiv::new(cin), FastDiv::new(w_in));
    key.clear();
    key.extend(spikes[first..last].iter().map(|&s| {
        let (pix, c) = dc.div_rem(s);
        let ix = dw.div_rem(pix).1 as usize;
        (c as usize * k * k * cout + (w_in - ix) * cout) as u32
    }));
    assert!(
        k * k * cin * cout + w_in * cout <= u32::MAX as usize,
        "key range"
    );
    let base = |ky: usize, ox: usize| {
        (ky * k * cout + (k - 1 + ox) * cout + b.c0).wrapping_sub((pad + w_in) * cout)
    };
    let cb = b.c1 - b.c0;
    let mut ops = 0u64;
    let g = Geometry {
        k,
        pad,
        w_in,
        h_in,
        iy0,
        ix0,
        ncol,
    };
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2() && cb <= MAX_BLOCK {
        macro_rules! go {
            ($($n:literal)*) => {
                match (cb.div_ceil(8), value == 1.0) {
                    $(($n, true) => {
                        // SAFETY: AVX2 present; offsets are in bounds (see `gather_avx2`).
                        unsafe { gather_avx2::<$n, true>(&g, b, weights, start, key, &base, value, current, &mut ops) }
                    }
                    ($n, false) => {
                        // SAFETY: as above.
                        unsafe { gather_avx2::<$n, false>(&g, b, weights, start, key, &base, value, current, &mut ops) }
                    })*
                    _ => unreachable!(),
                }
            };
        }
        go!(1 2 3 4 5 6 7 8);
        return ops * cb as u64;
    }
    let mut acc = vec![0.0f32; cb];
    for oy in b.y0..b.y1 {
        for ox in b.x0..b.x1 {
            acc.fill(0.0);
            let (lo, hi) = window(ox, pad, k, w_in);
            for ky in 0..k {
                let Some(iy) = (oy + ky).checked_sub(pad).filter(|&iy| iy < h_in) else {
                    continue;
                };
                let row = (iy - iy0) * ncol;
                let (a, e) = (
                    start[row + lo - ix0] as usize,
                    start[row + hi - ix0] as usize,
                );
                ops += (e - a) as u64;
                let bs = base(ky, ox);
                for &kk in &key[a..e] {
                    let w = &weights[bs.wrapping_add(kk as usize)..][..cb];
                    for (y, &x) in acc.iter_mut().zip(w) {
                        *y += if value == 1.0 { x } else { x * value };
                    }
                }
            }
            let o = ((oy - b.y0) * (b.x1 - b.x0) + ox - b.x0) * cb;
            current[o..o + cb].copy_from_slice(&acc);
        }
    }
    ops * cb as u64
}

/// Shape facts the kernels share.
struct Geometry {
    k: usize,
    pad: usize,
    w_in: usize,
    h_in: usize,
    iy0: usize,
    ix0: usize,
    ncol: usize,
}

/// Vector kernel: `N` registers of 8 channels per output pixel (the last one masked).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gather_avx2<const N: usize, const UNIT: bool>(
    g: &Geometry,
    b: OutBox,
    weights: &[f32],
    start: &[u32],
    key: &[u32],
    base: &impl Fn(usize, usize) -> usize,
    value: f32,
    current: &mut [f32],
    ops: &mut u64,
) {
    use std::arch::x86_64::*;
    let cb = b.c1 - b.c0;
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let tail = cb - (N - 1) * 8;
    let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail as i32), lane);
    let v8 = _mm256_set1_ps(value);
    let wp = weights.as_ptr();
    let cp = current.as_mut_ptr();
    let kp = key.as_ptr();
    let mut n_ops = 0usize;
    for oy in b.y0..b.y1 {
        for ox in b.x0..b.x1 {
            let mut acc = [_mm256_setzero_ps(); N];
            let (lo, hi) = window(ox, g.pad, g.k, g.w_in);
            for ky in 0..g.k {
                let Some(iy) = (oy + ky).checked_sub(g.pad).filter(|&iy| iy < g.h_in) else {
                    continue;
                };
                let row = (iy - g.iy0) * g.ncol;
                let a = *start.get_unchecked(row + lo - g.ix0) as usize;
                let e = *start.get_unchecked(row + hi - g.ix0) as usize;
                n_ops += e - a;
                let bs = base(ky, ox);
                for j in a..e {
                    // In bounds: the spike lies in the window, so its tap (c, ky, kx') exists
                    // and the row `c0..c1` of that tap is inside `weights`; the masked lanes
                    // of the last register are never read.
                    let r = wp.add(bs.wrapping_add(*kp.add(j) as usize));
                    for (n, a) in acc.iter_mut().enumerate() {
                        let x = if n + 1 == N {
                            _mm256_maskload_ps(r.add(8 * n), mask)
                        } else {
                            _mm256_loadu_ps(r.add(8 * n))
                        };
                        *a = _mm256_add_ps(*a, if UNIT { x } else { _mm256_mul_ps(x, v8) });
                    }
                }
            }
            let o = cp.add(((oy - b.y0) * (b.x1 - b.x0) + ox - b.x0) * cb);
            for (n, &a) in acc.iter().enumerate() {
                if n + 1 == N {
                    _mm256_maskstore_ps(o.add(8 * n), mask, a);
                } else {
                    _mm256_storeu_ps(o.add(8 * n), a);
                }
            }
        }
    }
    *ops += n_ops as u64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Synapses;
    use crate::shape::Shape3;
    use crate::synapse;
    use crate::test_rng::lcg;

    /// Scatter of the whole layer into a zeroed current, cut to the box, against the gather.
    fn check(kernel: usize, padding: usize, input: Shape3, cout: usize, b: OutBox, value: f32) {
        let out_h = input.height + 2 * padding + 1 - kernel;
        let out_w = input.width + 2 * padding + 1 - kernel;
        let output = Shape3::new(cout, out_h, out_w);
        let syn = Synapses::Conv {
            kernel,
            stride: 1,
            padding,
            input,
            output,
        };
        let geo = ConvGeometry::new(&syn);
        let mut seed = 7 + kernel as u64 * 31 + cout as u64;
        let w: Vec<f32> = (0..kernel * kernel * input.channels * cout)
            .map(|_| 2.0 * lcg(&mut seed))
            .collect();
        let mut prepared = Vec::new();
        geo.prepare(&w, &mut prepared);
        let mut scratch = BoxScratch::default();
        for density in [0.0f32, 0.05, 0.3, 1.0] {
            let spikes: Vec<u32> = (0..input.len() as u32)
                .filter(|_| lcg(&mut seed) + 0.5 < density)
                .collect();
            let mut full = vec![0.0f32; output.len()];
            synapse::conv_scatter_prepared(&geo, &prepared, &spikes, value, &mut full);
            let mut cur = vec![f32::NAN; b.len()];
            let ops = conv_gather_box(&geo, &prepared, &spikes, value, b, &mut cur, &mut scratch);
            let mut want_ops = 0u64;
            for &s in &spikes {
                let (iy, ix, _) = geo.split_input(s as usize);
                let rows = geo
                    .rows(iy)
                    .iter()
                    .filter(|r| (b.y0..b.y1).contains(&(r.1 as usize)));
                let cols = geo
                    .cols(ix)
                    .iter()
                    .filter(|c| (b.x0..b.x1).contains(&(c.1 as usize)));
                want_ops += (rows.count() * cols.count() * (b.c1 - b.c0)) as u64;
            }
            assert_eq!(ops, want_ops, "ops, density {density}, box {b:?}");
            let mut j = 0;
            for y in b.y0..b.y1 {
                for x in b.x0..b.x1 {
                    for c in b.c0..b.c1 {
                        let want = full[(y * out_w + x) * cout + c];
                        assert_eq!(
                            cur[j].to_bits(),
                            want.to_bits(),
                            "({y},{x},{c}) density {density} box {b:?}: {} vs {want}",
                            cur[j]
                        );
                        j += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn box_gather_matches_scatter_bit_for_bit() {
        let b = |y0, y1, x0, x1, c0, c1| OutBox {
            y0,
            y1,
            x0,
            x1,
            c0,
            c1,
        };
        // LeNet conv2-like: whole channel block, a corner, an interior and an edge box.
        let s = Shape3::new(20, 14, 14);
        for bx in [
            b(0, 2, 0, 2, 0, 50),
            b(6, 8, 4, 6, 0, 50),
            b(12, 14, 3, 14, 0, 50),
        ] {
            check(5, 2, s, 50, bx, 1.0);
        }
        // Partial channel blocks (tails of 1..8 lanes), more than 64 channels (scalar path),
        // no padding, a dropout-like spike value, the whole layer as one box.
        check(3, 1, Shape3::new(3, 9, 7), 70, b(2, 5, 1, 7, 0, 70), 1.0);
        check(3, 1, Shape3::new(3, 9, 7), 70, b(0, 9, 0, 7, 13, 37), 1.0);
        check(3, 1, Shape3::new(4, 8, 8), 16, b(1, 4, 0, 8, 3, 4), 1.0);
        check(3, 0, Shape3::new(2, 8, 9), 9, b(0, 6, 0, 7, 0, 9), 1.25);
        check(5, 2, Shape3::new(2, 6, 6), 24, b(0, 6, 0, 6, 0, 24), -1.0);
        // Padding as wide as the kernel: some outputs (a whole corner box) see only padding.
        check(3, 3, Shape3::new(2, 5, 6), 8, b(0, 9, 0, 10, 0, 8), 1.0);
        check(3, 3, Shape3::new(2, 5, 6), 8, b(0, 1, 0, 1, 2, 7), 1.0);
    }
}
