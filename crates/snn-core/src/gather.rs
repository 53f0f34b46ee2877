//! Gather form of a convolution step (stride 1; any stride in the AVX-512 kernel), for layers whose input spikes are dense enough
//! that reading each output's receptive field beats scattering every spike: the layer's current
//! is summed output by output in registers, then the LIF kernels of [`crate::neuron`] update the
//! layer (and, through [`crate::lif_pool`], the 2×2 pooling layer after it).
//!
//! Bit-identity with scatter + [`crate::neuron::lif_step`]: the scatter adds, into a zeroed
//! current, `w·value` of each input spike in ascending input-index order (channel-last, so
//! ascending (iy, ix, c_in)). The gather visits, per output neuron, the same spikes in the same
//! order — ascending kernel row (= input row), then the contiguous run of the spike list that
//! covers the window's input columns (ascending ix, c_in) — starting from +0.0, multiplying
//! first and adding after (never fused). The current is therefore the scattered one, bit for
//! bit, and the same LIF update runs on it.

use crate::aligned::AlignedVec;
use crate::lif_pool::{self, PoolScratch, PoolStep};
use crate::neuron::{self, Hits};
use crate::simd::FastDiv;
use crate::synapse::ConvGeometry;

/// Largest number of output channels the AVX2 and scalar gather supports (8 accumulator
/// registers of 8).
pub const MAX_COUT: usize = 64;

/// Largest number of output channels the AVX-512 gather supports, used where the CPU has
/// AVX-512 (the 128- to 512-channel layers of VGG9 and ResNet11). One pass over the window
/// accumulates up to `BLOCK_AVX512` (256) channels; wider layers take one pass per block.
pub const MAX_COUT_AVX512: usize = 512;

/// Output channels one AVX-512 pass accumulates (16 registers of 16 lanes).
const BLOCK_AVX512: usize = 256;

/// Padded row length of `cout` channels: a multiple of 16 for the AVX-512 kernel, else of 8.
fn row_len(cout: usize, wide: bool) -> usize {
    if wide {
        cout.div_ceil(16) * 16
    } else {
        cout.div_ceil(8) * 8
    }
}

/// Whether the AVX-512 kernel runs here.
fn wide() -> bool {
    crate::simd::has_avx512()
}

/// Conv weights laid out for the gather: canonical `[ky][kx][c_in][c_out]` with every `c_out`
/// row padded with zeros to a multiple of 8 (16 where the AVX-512 kernel runs).
#[derive(Clone, Debug)]
pub struct GatherWeights {
    /// Padded row length (multiple of 8).
    pub row: usize,
    /// `[ky][kx][c_in][row]`; every row starts 32-byte aligned, so 8-wide loads never
    /// straddle a cache line.
    w: AlignedVec,
}

impl GatherWeights {
    /// Padded copy of canonical weights, or None when the geometry is not supported (stride ≠ 1
    /// or more than [`MAX_COUT`] output channels, [`MAX_COUT_AVX512`] with AVX-512).
    pub fn new(geo: &ConvGeometry, weights: &[f32]) -> Option<Self> {
        let (k, cin, cout) = (geo.kernel, geo.input.channels, geo.output.channels);
        let max = if wide() { MAX_COUT_AVX512 } else { MAX_COUT };
        // Strides other than 1 only in the AVX-512 kernel.
        if (geo.stride != 1 && !wide()) || cout == 0 || cout > max || cin == 0 {
            return None;
        }
        assert_eq!(weights.len(), k * k * cin * cout, "conv weight count");
        let row = row_len(cout, wide());
        let mut w = AlignedVec::zeros(k * k * cin * row);
        for (src, dst) in weights.chunks_exact(cout).zip(w.chunks_exact_mut(row)) {
            dst[..cout].copy_from_slice(src);
        }
        Some(GatherWeights { row, w })
    }

    /// Rewrites the padded copy from new canonical weights of the same shape.
    pub fn update(&mut self, weights: &[f32]) {
        let cout = weights.len() / (self.w.len() / self.row);
        assert_eq!(
            weights.len() * self.row,
            self.w.len() * cout,
            "conv weight count"
        );
        for (src, dst) in weights
            .chunks_exact(cout)
            .zip(self.w.chunks_exact_mut(self.row))
        {
            dst[..cout].copy_from_slice(src);
        }
    }

    /// The padded weights as floats.
    pub fn weights(&self) -> &[f32] {
        &self.w
    }
}

/// Scratch space reused between steps.
#[derive(Clone, Debug, Default)]
pub struct GatherScratch {
    /// Per input pixel `p`: index of the first spike with pixel ≥ p (length pixels + 1).
    pix_start: Vec<u32>,
    /// Per spike: `(ix·c_in + c)·row`, its weight-row offset relative to its window column.
    key: Vec<u32>,
    /// The layer's current, channel-last (as the membranes) plus 8 floats of slack for the last
    /// register's loads; all +0.0 between calls (the LIF update zeroes it).
    buf: AlignedVec,
}

/// True when the gathered step may replace scatter + LIF: spikes strictly ascending (so the
/// per-element order of the scatter is ascending input index), LIF parameters for which
/// the vector LIF kernel's skipped all-zero blocks equal the computed update (`λ·(+0) = +0`).
pub fn applicable(spikes: &[u32], input_len: usize, leak: f32) -> bool {
    leak.is_finite()
        && leak.is_sign_positive()
        && spikes.windows(2).all(|p| p[0] < p[1])
        && spikes.last().is_none_or(|&s| (s as usize) < input_len)
}

/// Expected number of active inputs per receptive field above which the gather is used.
pub const MIN_ACTIVE_PER_FIELD: f32 = 4.0;

/// Whether the gather is expected to be faster for this many input spikes.
pub fn worthwhile(geo: &ConvGeometry, spikes: usize) -> bool {
    let field = (geo.kernel * geo.kernel * geo.input.channels) as f32;
    spikes as f32 / geo.input.len() as f32 * field >= MIN_ACTIVE_PER_FIELD
}

/// One LIF conv step in gather form: `v` is the layer's membrane (channel-last output), `spikes`
/// the (strictly ascending, see [`applicable`]) input spikes carrying `value`, then `neg` (also
/// ascending, usually empty) those carrying `−value` (the image's negative spikes): the scatter
/// adds the first list's spikes, then the second's, and so does each output here. Appends the firing
/// output neurons (ascending) to `out`. Bit-identical to zeroed current + conv scatter +
/// [`crate::neuron::lif_step`]. With `pool`, the 2×2 average-pooling layer that reads this one
/// (its spikes carrying the value 1) is stepped in the same pass, as
/// [`lif_pool::lif_pool_step`] does. `then` adds any further input (a residual block's shortcut)
/// into the gathered current before the LIF update, as a scatter after the main synapses would.
#[allow(clippy::too_many_arguments)]
pub fn conv_lif_gather(
    geo: &ConvGeometry,
    gw: &GatherWeights,
    spikes: &[u32],
    neg: &[u32],
    value: f32,
    v: &mut [f32],
    leak: f32,
    threshold: f32,
    scratch: &mut GatherScratch,
    out: &mut Vec<u32>,
    pool: Option<(PoolStep<'_>, &mut PoolScratch)>,
    then: impl FnOnce(&mut [f32]),
) {
    let (k, cin, cout) = (geo.kernel, geo.input.channels, geo.output.channels);
    let wide = wide();
    let s = geo.stride;
    assert!(
        s == 1 || (s > 1 && wide),
        "strided gather needs the AVX-512 kernel"
    );
    assert_eq!(
        gw.weights().len(),
        k * k * cin * gw.row,
        "gather weight count"
    );
    assert_eq!(gw.row, row_len(cout, wide));
    assert_eq!(v.len(), geo.output.len(), "membrane length");
    assert!((geo.output.height - 1) * s + k <= geo.input.height + 2 * geo.padding);
    assert!((geo.output.width - 1) * s + k <= geo.input.width + 2 * geo.padding);
    let GatherScratch {
        pix_start,
        key,
        buf,
    } = scratch;
    let need = v.len() + 8;
    if buf.len() < need {
        buf.resize_zeroed(need);
    }
    let buf = &mut buf[..];
    for (pass, (list, value)) in [(spikes, value), (neg, -value)].into_iter().enumerate() {
        if pass == 1 && list.is_empty() {
            continue;
        }
        index(geo, gw, list, pix_start, key);
        #[cfg(target_arch = "x86_64")]
        if wide {
            for c0 in (0..cout).step_by(BLOCK_AVX512) {
                let width = (cout - c0).min(BLOCK_AVX512);
                let n = width.div_ceil(16);
                // SAFETY: AVX-512F present; the kernel's loads and stores are bounds-checked by the
                // asserts above (see `gather_avx512`).
                unsafe {
                    macro_rules! go {
                        ($($n:literal)*) => {
                            match (n, value == 1.0) {
                                $(($n, true) => gather_avx512::<$n, true>(
                                    geo, gw, pix_start, key, buf, value, c0, width),
                                  ($n, false) => gather_avx512::<$n, false>(
                                    geo, gw, pix_start, key, buf, value, c0, width),)*
                                _ => unreachable!(),
                            }
                        };
                    }
                    go!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
                }
            }
        } else if crate::simd::has_avx2() {
            let n = gw.row / 8;
            // Lanes the last register must load: its real channels, rounded up to 2, 4 or 8.
            let last = match cout - (n - 1) * 8 {
                1 | 2 => 2,
                3 | 4 => 4,
                _ => 8,
            };
            // SAFETY: AVX2 present; the kernel's loads and stores are bounds-checked by the
            // asserts above (see `gather_avx2`).
            unsafe {
                macro_rules! go {
                    ($($n:literal)*) => {
                        match (n, value == 1.0, last) {
                            $(($n, true, 2) => gather_avx2::<$n, true, 2>(
                                geo, gw, pix_start, key, buf, value),
                              ($n, true, 4) => gather_avx2::<$n, true, 4>(
                                geo, gw, pix_start, key, buf, value),
                              ($n, true, _) => gather_avx2::<$n, true, 8>(
                                geo, gw, pix_start, key, buf, value),
                              ($n, false, 2) => gather_avx2::<$n, false, 2>(
                                geo, gw, pix_start, key, buf, value),
                              ($n, false, 4) => gather_avx2::<$n, false, 4>(
                                geo, gw, pix_start, key, buf, value),
                              ($n, false, _) => gather_avx2::<$n, false, 8>(
                                geo, gw, pix_start, key, buf, value),)*
                            _ => unreachable!(),
                        }
                    };
                }
                go!(1 2 3 4 5 6 7 8);
            }
        } else {
            gather_scalar(geo, gw, pix_start, key, value, buf);
        }
        #[cfg(not(target_arch = "x86_64"))]
        gather_scalar(geo, gw, pix_start, key, value, buf);
    }
    // The LIF update (and the pooling layer's step) on the gathered current, which it zeroes.
    let current = &mut buf[..v.len()];
    then(current);
    match pool {
        Some((p, ps)) => {
            lif_pool::lif_pool_step(geo.output, v, current, leak, threshold, out, p, ps)
        }
        None => neuron::lif_run(v, current, leak, threshold, 0, out, Hits::None),
    }
}

/// Indexes the spike list by input pixel: `pix_start[p]` is the first spike of pixel ≥ `p`
/// (`pixels + 1` entries), `key[j]` spike `j`'s weight-row offset `(ix·c_in + c)·row` relative
/// to its window column.
fn index(
    geo: &ConvGeometry,
    gw: &GatherWeights,
    spikes: &[u32],
    pix_start: &mut Vec<u32>,
    key: &mut Vec<u32>,
) {
    let (w_in, cin) = (geo.input.width, geo.input.channels);
    let pixels = w_in * geo.input.height;
    assert!(w_in * cin * gw.row <= u32::MAX as usize, "gather key range");
    // Histogram of spikes per pixel, then prefix sums (branch-free).
    pix_start.clear();
    pix_start.resize(pixels + 1, 0);
    key.clear();
    key.reserve(spikes.len());
    let (dc, dw) = (FastDiv::new(cin), FastDiv::new(w_in));
    for &s in spikes {
        let (p, c) = dc.div_rem(s);
        let p = p as usize;
        assert!(p < pixels, "spike index out of range");
        pix_start[p + 1] += 1;
        let ix = dw.div_rem(p as u32).1 as usize;
        key.push(((ix * cin + c as usize) * gw.row) as u32);
    }
    let mut sum = 0;
    for x in pix_start.iter_mut() {
        sum += *x;
        *x = sum;
    }
}

/// Input range `[lo, hi)` (clipped to `0..len`) read by output `o` along one axis.
#[inline(always)]
pub(crate) fn window(o: usize, pad: usize, k: usize, len: usize) -> (usize, usize) {
    let lo = o.saturating_sub(pad);
    let hi = (o + k).saturating_sub(pad).min(len);
    (lo, hi)
}

/// The gathered current in plain Rust: `buf[(oy·w_out + ox)·c_out + c]` += each spike's weight,
/// in the order of the module doc.
fn gather_scalar(
    geo: &ConvGeometry,
    gw: &GatherWeights,
    pix_start: &[u32],
    key: &[u32],
    value: f32,
    buf: &mut [f32],
) {
    let (k, cin, cout, pad) = (
        geo.kernel,
        geo.input.channels,
        geo.output.channels,
        geo.padding,
    );
    let (w_in, h_in) = (geo.input.width, geo.input.height);
    let row = gw.row;
    for oy in 0..geo.output.height {
        let (iy_lo, iy_hi) = window(oy, pad, k, h_in);
        for ox in 0..geo.output.width {
            let (ix_lo, ix_hi) = window(ox, pad, k, w_in);
            let o = (oy * geo.output.width + ox) * cout;
            let acc = &mut buf[o..o + cout];
            for iy in iy_lo..iy_hi {
                let ky = iy + pad - oy;
                // weight row of spike = ((ky·k + ix − ox + pad)·cin + c)·row
                //                     = key + (ky·k + pad − ox)·cin·row
                let base = ((ky * k + pad) * cin * row).wrapping_sub(ox * cin * row);
                let (a, b) = (pix_start[iy * w_in + ix_lo], pix_start[iy * w_in + ix_hi]);
                for &kk in &key[a as usize..b as usize] {
                    let r = &gw.weights()[base.wrapping_add(kk as usize)..][..cout];
                    for (y, &x) in acc.iter_mut().zip(r) {
                        *y += x * value;
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gather_avx2<const N: usize, const UNIT: bool, const LAST: usize>(
    geo: &ConvGeometry,
    gw: &GatherWeights,
    pix_start: &[u32],
    key: &[u32],
    buf: &mut [f32],
    value: f32,
) {
    use std::arch::x86_64::*;
    let (k, cin, cout, pad) = (
        geo.kernel,
        geo.input.channels,
        geo.output.channels,
        geo.padding,
    );
    let (w_in, h_in) = (geo.input.width, geo.input.height);
    let (w_out, h_out) = (geo.output.width, geo.output.height);
    let row = gw.row;
    debug_assert_eq!(row, N * 8);
    assert!(buf.len() >= w_out * h_out * cout + 8);
    // Real channels of the last register (its other lanes belong to the next pixel).
    let tail = cout - (N - 1) * 8;
    let wp = gw.weights().as_ptr();
    let kp = key.as_ptr();
    let bp = buf.as_mut_ptr();
    let v8 = _mm256_set1_ps(value);
    // Kernel row outermost: one kernel row's weights ([kx][c_in][row]) stay in L1 while every
    // output row is visited; per output element the adds still come in ascending (ky, ix, c).
    for ky in 0..k {
        for oy in 0..h_out {
            let Some(iy) = (oy + ky).checked_sub(pad).filter(|&iy| iy < h_in) else {
                continue;
            };
            let base_ky = (ky * k + pad) * cin * row;
            for ox in 0..w_out {
                let (ix_lo, ix_hi) = window(ox, pad, k, w_in);
                let a = *pix_start.get_unchecked(iy * w_in + ix_lo) as usize;
                let b = *pix_start.get_unchecked(iy * w_in + ix_hi) as usize;
                if a == b {
                    continue;
                }
                let base = base_ky.wrapping_sub(ox * cin * row);
                let acc_p = bp.add((oy * w_out + ox) * cout);
                let mut acc = [_mm256_setzero_ps(); N];
                for (n, a) in acc.iter_mut().enumerate() {
                    // The last register reads `LAST` lanes (slack at the end of `buf`); the
                    // ones past the pixel only ever gain +0.0 and are not stored.
                    *a = load::<LAST>(acc_p.add(8 * n), n + 1 == N);
                }
                for j in a..b {
                    // In bounds: ix − ox + pad ∈ [0, k) for every spike of the window, so the
                    // row lies inside `[ky][kx][c][..row]`.
                    let r = wp.add(base.wrapping_add(*kp.add(j) as usize));
                    for (n, a) in acc.iter_mut().enumerate() {
                        // The last register loads only its real channels (`LAST` lanes, the
                        // rest zero like the padding): fewer bytes through the load ports.
                        let x = load::<LAST>(r.add(8 * n), n + 1 == N);
                        *a = _mm256_add_ps(*a, if UNIT { x } else { _mm256_mul_ps(x, v8) });
                    }
                }
                for (n, &a) in acc.iter().enumerate() {
                    let p = acc_p.add(8 * n);
                    if n + 1 < N || tail == 8 {
                        _mm256_storeu_ps(p, a);
                    } else {
                        store_lanes(p, a, tail);
                    }
                }
            }
        }
    }
}

/// [`gather_avx2`] with 16-lane registers for the `width` output channels from `c0` (`N`
/// accumulators of 16 hold up to 256); the last one loads and stores only its real channels
/// (masked), so no slack is read or written. Same order of adds per output element, so the
/// same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn gather_avx512<const N: usize, const UNIT: bool>(
    geo: &ConvGeometry,
    gw: &GatherWeights,
    pix_start: &[u32],
    key: &[u32],
    buf: &mut [f32],
    value: f32,
    c0: usize,
    width: usize,
) {
    use std::arch::x86_64::*;
    let (k, cin, cout, pad) = (
        geo.kernel,
        geo.input.channels,
        geo.output.channels,
        geo.padding,
    );
    let (w_in, h_in) = (geo.input.width, geo.input.height);
    let (w_out, h_out) = (geo.output.width, geo.output.height);
    let row = gw.row;
    assert!(N == width.div_ceil(16) && c0 + N * 16 <= row && c0 + width <= cout);
    assert!(buf.len() >= w_out * h_out * cout);
    let tail = width - (N - 1) * 16;
    let last: __mmask16 = if tail == 16 {
        0xFFFF
    } else {
        (1u32 << tail) as u16 - 1
    };
    let mask = |n: usize| if n + 1 == N { last } else { 0xFFFF };
    let wp = gw.weights().as_ptr();
    let kp = key.as_ptr();
    let bp = buf.as_mut_ptr();
    let v16 = _mm512_set1_ps(value);
    let stride = geo.stride;
    for ky in 0..k {
        for oy in 0..h_out {
            let Some(iy) = (oy * stride + ky).checked_sub(pad).filter(|&iy| iy < h_in) else {
                continue;
            };
            let base_ky = (ky * k + pad) * cin * row;
            // The spikes of output `ox`'s window in this input row (input columns from
            // `ox·stride − pad`), and its weight base: a spike's row is its key plus
            // `(ky·k + pad − ox·stride)·c_in·row`.
            let span = |ox: usize| {
                let (ix_lo, ix_hi) = window(ox * stride, pad, k, w_in);
                let a = *pix_start.get_unchecked(iy * w_in + ix_lo) as usize;
                let b = *pix_start.get_unchecked(iy * w_in + ix_hi) as usize;
                (
                    a,
                    b,
                    base_ky
                        .wrapping_sub(ox * stride * cin * row)
                        .wrapping_add(c0),
                )
            };
            let add = |acc: &mut [__m512; N], base: usize, j: usize| {
                // In bounds as in `gather_avx2`; rows are padded to 16 with zeros.
                let r = wp.add(base.wrapping_add(*kp.add(j) as usize));
                for (n, a) in acc.iter_mut().enumerate() {
                    let x = _mm512_loadu_ps(r.add(16 * n));
                    *a = _mm512_add_ps(*a, if UNIT { x } else { _mm512_mul_ps(x, v16) });
                }
            };
            let load = |ox: usize| {
                let p = bp.add((oy * w_out + ox) * cout + c0);
                let mut acc = [_mm512_setzero_ps(); N];
                for (n, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_maskz_loadu_ps(mask(n), p.add(16 * n));
                }
                acc
            };
            let store = |ox: usize, acc: &[__m512; N]| {
                let p = bp.add((oy * w_out + ox) * cout + c0);
                for (n, &a) in acc.iter().enumerate() {
                    _mm512_mask_storeu_ps(p.add(16 * n), mask(n), a);
                }
            };
            for ox in 0..w_out {
                let (a, b, base) = span(ox);
                if a != b {
                    let mut acc = load(ox);
                    for j in a..b {
                        add(&mut acc, base, j);
                    }
                    store(ox, &acc);
                }
            }
        }
    }
}

/// Eight floats from `p`, or, for the `last` register, only its first `LAST` (2, 4 or 8) with
/// the other lanes zero.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load<const LAST: usize>(p: *const f32, last: bool) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    if !last || LAST == 8 {
        _mm256_loadu_ps(p)
    } else if LAST == 4 {
        _mm256_zextps128_ps256(_mm_loadu_ps(p))
    } else {
        _mm256_zextps128_ps256(_mm_castpd_ps(_mm_load_sd(p as *const f64)))
    }
}

/// Stores the first `t < 8` lanes of `x` at `p` in 4-, 2- and 1-float pieces (a masked store
/// is microcoded on AMD, and a wider one would overwrite the next pixel).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store_lanes(p: *mut f32, x: std::arch::x86_64::__m256, t: usize) {
    use std::arch::x86_64::*;
    let lo = _mm256_castps256_ps128(x);
    let hi = _mm256_extractf128_ps::<1>(x);
    let (mut rest, mut s) = (lo, 0);
    if t >= 4 {
        _mm_storeu_ps(p, lo);
        rest = hi;
        s = 4;
    }
    if t - s >= 2 {
        _mm_store_sd(p.add(s) as *mut f64, _mm_castps_pd(rest));
        rest = _mm_movehl_ps(rest, rest);
        s += 2;
    }
    if t > s {
        _mm_store_ss(p.add(s), rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Synapses;
    use crate::shape::Shape3;
    use crate::test_rng::lcg;
    use crate::{neuron, synapse};

    /// Scatter + LIF (+ pooling scatter + IF) vs the gathered step with and without the
    /// pooling layer, and the scalar gathered current vs the scattered one, bit for bit, over
    /// many steps.
    fn check(kernel: usize, padding: usize, input: Shape3, cout: usize) {
        check_strided(kernel, 1, padding, input, cout)
    }

    fn check_strided(kernel: usize, stride: usize, padding: usize, input: Shape3, cout: usize) {
        let out_h = (input.height + 2 * padding - kernel) / stride + 1;
        let out_w = (input.width + 2 * padding - kernel) / stride + 1;
        let output = Shape3::new(cout, out_h, out_w);
        let pooled = Shape3::new(cout, out_h / 2, out_w / 2);
        let syn = Synapses::Conv {
            kernel,
            stride,
            padding,
            input,
            output,
        };
        let geo = ConvGeometry::new(&syn);
        let mut seed = 17;
        let w: Vec<f32> = (0..syn.weight_count()).map(|_| lcg(&mut seed)).collect();
        let mut prepared = Vec::new();
        geo.prepare(&w, &mut prepared);
        let Some(gw) = GatherWeights::new(&geo, &w) else {
            // Wider or more strided than the kernels of this CPU support (no AVX-512).
            assert!((cout > MAX_COUT || stride != 1) && !wide());
            return;
        };
        let n = syn.output_len();
        let init: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
        let (mut v_ref, mut v_vec, mut v_pool) = (init.clone(), init.clone(), init);
        let (mut q_ref, mut q_pool) = (vec![0.0f32; pooled.len()], vec![0.0f32; pooled.len()]);
        let (mut current, mut pool_current) = (vec![0.0f32; n], vec![0.0f32; pooled.len()]);
        let (mut scratch, mut scratch_pool) = (GatherScratch::default(), GatherScratch::default());
        let mut pool_scratch = PoolScratch::default();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let (mut fired, mut pooled_fired) = (0, 0);
        for step in 0..12 {
            let value = if step % 2 == 0 { 1.0 } else { 1.25 };
            let density = [0.45f32, 0.3, 0.0, 0.49][step % 4];
            let spikes: Vec<u32> = (0..syn.input_len() as u32)
                .filter(|_| lcg(&mut seed) > density)
                .collect();
            synapse::conv_scatter_prepared(&geo, &prepared, &spikes, value, &mut current);
            // The scalar gather (stride 1 only) yields the scattered current itself.
            let mut gathered = vec![0.0f32; n + 8];
            let (mut pix_start, mut key) = (Vec::new(), Vec::new());
            index(&geo, &gw, &spikes, &mut pix_start, &mut key);
            if stride == 1 {
                gather_scalar(&geo, &gw, &pix_start, &key, value, &mut gathered);
            } else {
                gathered[..n].copy_from_slice(&current);
            }
            assert_eq!(
                bits(&gathered[..n]),
                bits(&current),
                "step {step} scalar current"
            );
            let (mut s_ref, mut p_ref) = (Vec::new(), Vec::new());
            neuron::lif_step(&mut v_ref, &mut current, 0.9, 0.3, &mut s_ref);
            synapse::avgpool_scatter(output, pooled, &s_ref, 1.0, &mut pool_current);
            neuron::if_step(&mut q_ref, &mut pool_current, 0.2, &mut p_ref);
            let (mut s_vec, mut s_pool, mut p_pool) = (vec![7u32], vec![7u32], vec![5u32]);
            let (leak, th) = (0.9, 0.3);
            conv_lif_gather(
                &geo,
                &gw,
                &spikes,
                &[],
                value,
                &mut v_vec,
                leak,
                th,
                &mut scratch,
                &mut s_vec,
                None,
                |_| {},
            );
            let pool = PoolStep {
                output: pooled,
                state: &mut q_pool,
                threshold: 0.2,
                spikes: &mut p_pool,
                active: None,
            };
            conv_lif_gather(
                &geo,
                &gw,
                &spikes,
                &[],
                value,
                &mut v_pool,
                leak,
                th,
                &mut scratch_pool,
                &mut s_pool,
                Some((pool, &mut pool_scratch)),
                |_| {},
            );
            assert_eq!(
                (s_vec[0], s_pool[0], p_pool[0]),
                (7, 7, 5),
                "existing spikes kept"
            );
            assert_eq!(&s_vec[1..], &s_ref[..], "step {step}");
            assert_eq!(&s_pool[1..], &s_ref[..], "step {step} with pooling");
            assert_eq!(&p_pool[1..], &p_ref[..], "step {step} pooling spikes");
            assert_eq!(bits(&v_vec), bits(&v_ref), "step {step}");
            assert_eq!(bits(&v_pool), bits(&v_ref), "step {step} with pooling");
            assert_eq!(bits(&q_pool), bits(&q_ref), "step {step} pooling state");
            fired += s_ref.len();
            pooled_fired += p_ref.len();
        }
        assert!(fired > 0);
        assert!(pooled_fired > 0 || pooled.is_empty());
    }

    /// The image's two spike lists (+1, then −1) gathered, and a shortcut's current added by
    /// `then`, equal the scatters and the addition, bit for bit.
    #[test]
    fn signed_input_gather_matches_two_scatters() {
        for &(cin, cout) in &[(3usize, 64usize), (1, 20), (3, 130)] {
            let input = Shape3::new(cin, 6, 7);
            let output = Shape3::new(cout, 6, 7);
            let syn = Synapses::Conv {
                kernel: 3,
                stride: 1,
                padding: 1,
                input,
                output,
            };
            let geo = ConvGeometry::new(&syn);
            let mut seed = 5;
            let w: Vec<f32> = (0..syn.weight_count()).map(|_| lcg(&mut seed)).collect();
            let mut prepared = Vec::new();
            geo.prepare(&w, &mut prepared);
            let Some(gw) = GatherWeights::new(&geo, &w) else {
                assert!(cout > MAX_COUT && !wide());
                continue;
            };
            let n = output.len();
            let init: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
            let (mut v_ref, mut v_gat) = (init.clone(), init);
            let mut current = vec![0.0f32; n];
            let mut scratch = GatherScratch::default();
            for step in 0..6 {
                let (mut pos, mut neg) = (Vec::new(), Vec::new());
                for i in 0..input.len() as u32 {
                    let r = lcg(&mut seed);
                    if r > 0.3 {
                        pos.push(i);
                    } else if r < -0.3 || (step == 3 && r < 0.0) {
                        neg.push(i);
                    }
                }
                if step == 5 {
                    neg.clear();
                }
                synapse::conv_scatter_prepared(&geo, &prepared, &pos, 1.0, &mut current);
                synapse::conv_scatter_prepared(&geo, &prepared, &neg, -1.0, &mut current);
                // A shortcut's current, added after the main synapses' (odd steps).
                let extra: Vec<f32> = (0..n).map(|_| lcg(&mut seed) * (step % 2) as f32).collect();
                let add = |c: &mut [f32]| c.iter_mut().zip(&extra).for_each(|(y, x)| *y += x);
                add(&mut current);
                let (mut s_ref, mut s_gat) = (Vec::new(), Vec::new());
                neuron::lif_step(&mut v_ref, &mut current, 0.9, 0.3, &mut s_ref);
                conv_lif_gather(
                    &geo,
                    &gw,
                    &pos,
                    &neg,
                    1.0,
                    &mut v_gat,
                    0.9,
                    0.3,
                    &mut scratch,
                    &mut s_gat,
                    None,
                    add,
                );
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&v_ref),
                    bits(&v_gat),
                    "membranes, step {step}, {cin}->{cout}"
                );
                assert_eq!(s_ref, s_gat, "spikes, step {step}");
            }
        }
    }

    #[test]
    fn gathered_step_matches_scatter_and_lif() {
        check(5, 2, Shape3::new(20, 9, 8), 50);
        check(5, 2, Shape3::new(7, 6, 11), 37);
        check(3, 0, Shape3::new(3, 7, 5), 8);
        check(3, 1, Shape3::new(5, 4, 4), 64);
        // Wider layers (the AVX-512 kernel where present): full and masked last registers.
        check(3, 1, Shape3::new(9, 5, 6), 128);
        check(3, 1, Shape3::new(4, 4, 3), 200);
        check(3, 1, Shape3::new(3, 3, 4), 256);
        check(3, 1, Shape3::new(2, 3, 3), 300);
        check(3, 1, Shape3::new(2, 3, 4), 512);
        check(1, 0, Shape3::new(2, 3, 3), 3);
        // Stride 2 (ResNet11's downsampling convs; the AVX-512 kernel only), odd and even sizes.
        check_strided(3, 2, 1, Shape3::new(5, 8, 8), 48);
        check_strided(3, 2, 1, Shape3::new(4, 7, 9), 256);
        check_strided(3, 2, 1, Shape3::new(3, 6, 6), 300);
    }
}
