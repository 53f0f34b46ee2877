//! Gather form of a stride-1 convolution fused with the LIF update, for layers whose input spikes
//! are dense enough that reading each output's receptive field beats scattering every spike.
//!
//! Bit-identity with scatter + [`crate::neuron::lif_step`]: the scatter adds, into a zeroed
//! current, `w·value` of each input spike in ascending input-index order (channel-last, so
//! ascending (iy, ix, c_in)). The gather visits, per output neuron, the same spikes in the same
//! order — ascending kernel row (= input row), then the contiguous run of the spike list that
//! covers the window's input columns (ascending ix, c_in) — starting from +0.0, multiplying
//! first and adding after (never fused). Then `u = v + acc`, fire iff `u > θ`,
//! `v = fire ? 0 : λ·u`, exactly as the LIF kernels do.

use crate::simd::FastDiv;
use crate::synapse::ConvGeometry;

/// Largest number of output channels the gather supports (8 accumulator registers of 8).
pub const MAX_COUT: usize = 64;

/// Eight floats aligned to 32 bytes, so that 8-wide loads never straddle a cache line.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(32))]
pub struct F8(pub [f32; 8]);

fn flat(v: &[F8]) -> &[f32] {
    // SAFETY: F8 is repr(C) over [f32; 8] with no padding (32 bytes).
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len() * 8) }
}

fn flat_mut(v: &mut [F8]) -> &mut [f32] {
    // SAFETY: as in `flat`.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut f32, v.len() * 8) }
}

/// Conv weights laid out for the gather: canonical `[ky][kx][c_in][c_out]` with every `c_out`
/// row padded with zeros to a multiple of 8.
#[derive(Clone, Debug)]
pub struct GatherWeights {
    /// Padded row length (multiple of 8).
    pub row: usize,
    /// `[ky][kx][c_in][row]`, 32-byte aligned.
    w: Vec<F8>,
}

impl GatherWeights {
    /// Padded copy of canonical weights, or None when the geometry is not supported (stride ≠ 1
    /// or more than [`MAX_COUT`] output channels).
    pub fn new(geo: &ConvGeometry, weights: &[f32]) -> Option<Self> {
        let (k, cin, cout) = (geo.kernel, geo.input.channels, geo.output.channels);
        if geo.stride != 1 || cout == 0 || cout > MAX_COUT || cin == 0 {
            return None;
        }
        assert_eq!(weights.len(), k * k * cin * cout, "conv weight count");
        let row = cout.div_ceil(8) * 8;
        let mut w = vec![F8::default(); k * k * cin * row / 8];
        for (src, dst) in weights
            .chunks_exact(cout)
            .zip(flat_mut(&mut w).chunks_exact_mut(row))
        {
            dst[..cout].copy_from_slice(src);
        }
        Some(GatherWeights { row, w })
    }

    /// The padded weights as floats.
    pub fn weights(&self) -> &[f32] {
        flat(&self.w)
    }
}

/// Scratch space reused between steps.
#[derive(Clone, Debug, Default)]
pub struct GatherScratch {
    /// Per input pixel `p`: index of the first spike with pixel ≥ p (length pixels + 1).
    pix_start: Vec<u32>,
    /// Per spike: `(ix·c_in + c)·row`, its weight-row offset relative to its window column.
    key: Vec<u32>,
    /// Per output pixel, its padded accumulator row (all zero between calls).
    buf: Vec<F8>,
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
/// the (strictly ascending, see [`applicable`]) input spikes carrying `value`. Appends the firing
/// output neurons (ascending) to `out`. Bit-identical to zeroed current + conv scatter +
/// [`crate::neuron::lif_step`].
#[allow(clippy::too_many_arguments)]
pub fn conv_lif_gather(
    geo: &ConvGeometry,
    gw: &GatherWeights,
    spikes: &[u32],
    value: f32,
    v: &mut [f32],
    leak: f32,
    threshold: f32,
    scratch: &mut GatherScratch,
    out: &mut Vec<u32>,
) {
    let (k, cin, cout) = (geo.kernel, geo.input.channels, geo.output.channels);
    assert_eq!(geo.stride, 1);
    assert_eq!(
        gw.weights().len(),
        k * k * cin * gw.row,
        "gather weight count"
    );
    assert_eq!(gw.row, cout.div_ceil(8) * 8);
    assert_eq!(v.len(), geo.output.len(), "membrane length");
    assert!(geo.output.height + k <= geo.input.height + 2 * geo.padding + 1);
    assert!(geo.output.width + k <= geo.input.width + 2 * geo.padding + 1);
    let (w_in, h_in) = (geo.input.width, geo.input.height);
    let pixels = w_in * h_in;
    assert!(w_in * cin * gw.row <= u32::MAX as usize, "gather key range");
    // Index the spike list by pixel.
    let GatherScratch {
        pix_start,
        key,
        buf,
    } = scratch;
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
    let need = geo.output.height * geo.output.width * gw.row;
    if buf.len() * 8 < need {
        buf.resize(need / 8, F8::default());
    }
    let buf = flat_mut(buf);
    out.reserve(v.len() + 8);
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2() {
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
                            geo, gw, pix_start, key, buf, value, v, leak, threshold, out),
                          ($n, true, 4) => gather_avx2::<$n, true, 4>(
                            geo, gw, pix_start, key, buf, value, v, leak, threshold, out),
                          ($n, true, _) => gather_avx2::<$n, true, 8>(
                            geo, gw, pix_start, key, buf, value, v, leak, threshold, out),
                          ($n, false, 2) => gather_avx2::<$n, false, 2>(
                            geo, gw, pix_start, key, buf, value, v, leak, threshold, out),
                          ($n, false, 4) => gather_avx2::<$n, false, 4>(
                            geo, gw, pix_start, key, buf, value, v, leak, threshold, out),
                          ($n, false, _) => gather_avx2::<$n, false, 8>(
                            geo, gw, pix_start, key, buf, value, v, leak, threshold, out),)*
                        _ => unreachable!(),
                    }
                };
            }
            go!(1 2 3 4 5 6 7 8);
        }
        return;
    }
    gather_scalar(geo, gw, pix_start, key, value, v, leak, threshold, out);
}

/// Input range `[lo, hi)` (clipped to `0..len`) read by output `o` along one axis.
#[inline(always)]
pub(crate) fn window(o: usize, pad: usize, k: usize, len: usize) -> (usize, usize) {
    let lo = o.saturating_sub(pad);
    let hi = (o + k).saturating_sub(pad).min(len);
    (lo, hi)
}

#[allow(clippy::too_many_arguments)]
fn gather_scalar(
    geo: &ConvGeometry,
    gw: &GatherWeights,
    pix_start: &[u32],
    key: &[u32],
    value: f32,
    v: &mut [f32],
    leak: f32,
    threshold: f32,
    out: &mut Vec<u32>,
) {
    let (k, cin, cout, pad) = (
        geo.kernel,
        geo.input.channels,
        geo.output.channels,
        geo.padding,
    );
    let (w_in, h_in) = (geo.input.width, geo.input.height);
    let row = gw.row;
    let mut acc = vec![0.0f32; row];
    for oy in 0..geo.output.height {
        let (iy_lo, iy_hi) = window(oy, pad, k, h_in);
        for ox in 0..geo.output.width {
            let (ix_lo, ix_hi) = window(ox, pad, k, w_in);
            acc.fill(0.0);
            for iy in iy_lo..iy_hi {
                let ky = iy + pad - oy;
                // weight row of spike = ((ky·k + ix − ox + pad)·cin + c)·row
                //                     = key + (ky·k + pad − ox)·cin·row
                let base = ((ky * k + pad) * cin * row).wrapping_sub(ox * cin * row);
                let (a, b) = (pix_start[iy * w_in + ix_lo], pix_start[iy * w_in + ix_hi]);
                for &kk in &key[a as usize..b as usize] {
                    let r = &gw.weights()[base.wrapping_add(kk as usize)..][..row];
                    for (y, &x) in acc.iter_mut().zip(r) {
                        *y += x * value;
                    }
                }
            }
            let o = (oy * geo.output.width + ox) * cout;
            for (c, (vv, &i)) in v[o..o + cout].iter_mut().zip(&acc).enumerate() {
                let u = *vv + i;
                if u > threshold {
                    *vv = 0.0;
                    out.push((o + c) as u32);
                } else {
                    *vv = leak * u;
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
    v: &mut [f32],
    leak: f32,
    threshold: f32,
    out: &mut Vec<u32>,
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
    assert!(buf.len() >= w_out * h_out * row);
    let wp = gw.weights().as_ptr();
    let vp = v.as_mut_ptr();
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
                let acc_p = bp.add((oy * w_out + ox) * row);
                let mut acc = [_mm256_setzero_ps(); N];
                for (n, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_loadu_ps(acc_p.add(8 * n));
                }
                for j in a..b {
                    // In bounds: ix − ox + pad ∈ [0, k) for every spike of the window, so the
                    // row lies inside `[ky][kx][c][..row]`.
                    let r = wp.add(base.wrapping_add(*kp.add(j) as usize));
                    for (n, a) in acc.iter_mut().enumerate() {
                        // The last register loads only its real channels (`LAST` lanes, the
                        // rest zero like the padding): fewer bytes through the load ports.
                        let p = r.add(8 * n);
                        let x = if n + 1 < N || LAST == 8 {
                            _mm256_loadu_ps(p)
                        } else if LAST == 4 {
                            _mm256_zextps128_ps256(_mm_loadu_ps(p))
                        } else {
                            _mm256_zextps128_ps256(_mm_castpd_ps(_mm_load_sd(p as *const f64)))
                        };
                        *a = _mm256_add_ps(*a, if UNIT { x } else { _mm256_mul_ps(x, v8) });
                    }
                }
                for (n, &a) in acc.iter().enumerate() {
                    _mm256_storeu_ps(acc_p.add(8 * n), a);
                }
            }
        }
    }
    let th = _mm256_set1_ps(threshold);
    let lk = _mm256_set1_ps(leak);
    let zero = _mm256_setzero_ps();
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // Lanes of the last register that are real channels.
    let tail = cout - (N - 1) * 8;
    let tail_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail as i32), lane);
    let tail_bits = (1u32 << tail) - 1;
    let outp = out.as_mut_ptr();
    let mut len = out.len();
    for pix in 0..w_out * h_out {
        let o = pix * cout;
        let acc_p = bp.add(pix * row);
        for n in 0..N {
            let a = _mm256_loadu_ps(acc_p.add(8 * n));
            _mm256_storeu_ps(acc_p.add(8 * n), zero);
            let p = vp.add(o + 8 * n);
            let last = n + 1 == N;
            let vv = if last {
                _mm256_maskload_ps(p, tail_mask)
            } else {
                _mm256_loadu_ps(p)
            };
            let u = _mm256_add_ps(vv, a);
            let fire = _mm256_cmp_ps::<_CMP_GT_OQ>(u, th);
            let nv = _mm256_andnot_ps(fire, _mm256_mul_ps(lk, u));
            let mut mask = _mm256_movemask_ps(fire) as u32;
            if last && tail < 8 {
                // A masked store is microcoded on AMD: store the real lanes in 4-, 2- and
                // 1-float pieces.
                let lo = _mm256_castps256_ps128(nv);
                let hi = _mm256_extractf128_ps::<1>(nv);
                let (mut rest, mut t) = (lo, 0);
                if tail >= 4 {
                    _mm_storeu_ps(p, lo);
                    rest = hi;
                    t = 4;
                }
                if tail - t >= 2 {
                    _mm_store_sd(p.add(t) as *mut f64, _mm_castps_pd(rest));
                    rest = _mm_movehl_ps(rest, rest);
                    t += 2;
                }
                if tail > t {
                    _mm_store_ss(p.add(t), rest);
                }
                mask &= tail_bits;
            } else {
                _mm256_storeu_ps(p, nv);
            }
            let idx = _mm256_add_epi32(lane, _mm256_set1_epi32((o + 8 * n) as i32));
            let perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(
                crate::neuron::COMPRESS[mask as usize] as i64,
            ));
            // SAFETY: capacity ≥ initial len + v.len() + 8 and each neuron appends at
            // most once, so this 8-wide store stays inside the allocation.
            _mm256_storeu_si256(
                outp.add(len) as *mut __m256i,
                _mm256_permutevar8x32_epi32(idx, perm),
            );
            len += mask.count_ones() as usize;
        }
    }
    out.set_len(len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Synapses;
    use crate::shape::Shape3;
    use crate::test_rng::lcg;
    use crate::{neuron, synapse};

    /// Scatter + LIF vs the gathered step (vector and scalar), bit for bit, over many steps.
    fn check(kernel: usize, padding: usize, input: Shape3, cout: usize) {
        let out_h = input.height + 2 * padding - kernel + 1;
        let out_w = input.width + 2 * padding - kernel + 1;
        let syn = Synapses::Conv {
            kernel,
            stride: 1,
            padding,
            input,
            output: Shape3::new(cout, out_h, out_w),
        };
        let geo = ConvGeometry::new(&syn);
        let mut seed = 17;
        let w: Vec<f32> = (0..syn.weight_count()).map(|_| lcg(&mut seed)).collect();
        let mut prepared = Vec::new();
        geo.prepare(&w, &mut prepared);
        let gw = GatherWeights::new(&geo, &w).unwrap();
        let n = syn.output_len();
        let init: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
        let (mut v_ref, mut v_vec, mut v_sc) = (init.clone(), init.clone(), init);
        let mut current = vec![0.0f32; n];
        let mut scratch = GatherScratch::default();
        let mut fired = 0;
        for step in 0..12 {
            let value = if step % 2 == 0 { 1.0 } else { 1.25 };
            let density = [0.45f32, 0.3, 0.0, 0.49][step % 4];
            let spikes: Vec<u32> = (0..syn.input_len() as u32)
                .filter(|_| lcg(&mut seed) > density)
                .collect();
            let (mut s_ref, mut s_vec, mut s_sc) = (Vec::new(), vec![7u32], vec![7u32]);
            synapse::conv_scatter_prepared(&geo, &prepared, &spikes, value, &mut current);
            neuron::lif_step(&mut v_ref, &mut current, 0.9, 0.3, &mut s_ref);
            conv_lif_gather(
                &geo,
                &gw,
                &spikes,
                value,
                &mut v_vec,
                0.9,
                0.3,
                &mut scratch,
                &mut s_vec,
            );
            gather_scalar(
                &geo,
                &gw,
                &scratch.pix_start,
                &scratch.key,
                value,
                &mut v_sc,
                0.9,
                0.3,
                &mut s_sc,
            );
            assert_eq!(s_vec[0], 7, "existing spikes kept");
            assert_eq!(&s_vec[1..], &s_ref[..], "step {step}");
            assert_eq!(&s_sc[1..], &s_ref[..], "step {step} scalar");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&v_vec), bits(&v_ref), "step {step}");
            assert_eq!(bits(&v_sc), bits(&v_ref), "step {step} scalar");
            fired += s_ref.len();
        }
        assert!(fired > 0);
    }

    #[test]
    fn gathered_step_matches_scatter_and_lif() {
        check(5, 2, Shape3::new(20, 9, 8), 50);
        check(5, 2, Shape3::new(7, 6, 11), 37);
        check(3, 0, Shape3::new(3, 7, 5), 8);
        check(3, 1, Shape3::new(5, 4, 4), 64);
        check(1, 0, Shape3::new(2, 3, 3), 3);
    }
}
