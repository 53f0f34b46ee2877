//! Backward work of all events of one conv output position at one step, done together: the
//! events share their input window, so each chunk of the window's cumulative inputs `X` and of
//! its input gradient `g` is loaded once (into registers) for all of them, and `g` is stored once,
//! instead of once per event as in [`super::event::apply`]. Every element receives the same
//! products in the same order as applying the events one by one (ascending output channel), with
//! multiply and add never fused, so the result is bit-identical to [`super::event::apply`].
//!
//! Weight tensors are in the transposed (output-major) layout: conv `[c_out][ky][kx][c_in]`.

use super::event::Window;
use snn_core::plan::Synapses;

/// Events of one position: `(c_out, Δ)` in ascending `c_out`.
pub type PositionEvents = [(u32, f32)];

/// Largest receptive field (`k·k·c_in` floats) gathered into one contiguous window when the
/// inputs are the image (no input gradient): the image layer's weight-gradient rows are then one
/// run per event instead of one per kernel row.
const MAX_GATHERED_FIELD: usize = 64;

/// Applies the events `events` of output position `p` (row-major `oy·W + ox`) of conv `syn`.
/// `x`: cumulative input values; `wt`: transposed weights; `dwt`: their gradient; `g_in`: the
/// gradient at the inputs (None when the inputs are the image).
#[allow(clippy::too_many_arguments)]
pub fn conv_position(
    syn: &Synapses,
    p: usize,
    events: &PositionEvents,
    x: &[f32],
    wt: &[f32],
    dwt: &mut [f32],
    mut g_in: Option<&mut [f32]>,
) {
    let Synapses::Conv { kernel, input, .. } = *syn else {
        panic!("conv_position needs conv synapses");
    };
    let win = Window::of(syn, p);
    let (cin, len) = (input.channels, win.len);
    if len == 0 {
        return;
    }
    // Distance between two output channels' rows in the transposed weights.
    let field = kernel * kernel * cin;
    let full = win.ky_lo == 0 && win.ky_hi == kernel && win.kx_lo == 0 && win.kx_hi == kernel;
    if g_in.is_none() && full && field <= MAX_GATHERED_FIELD {
        // The window's rows side by side, as the transposed weights hold them.
        let mut window = [0.0f32; MAX_GATHERED_FIELD];
        for ky in 0..kernel {
            let xi = win.input_offset(ky);
            window[ky * len..(ky + 1) * len].copy_from_slice(&x[xi..xi + len]);
        }
        rows(&window[..field], None, wt, dwt, events, field, 0);
        return;
    }
    for ky in win.ky_lo..win.ky_hi {
        let xi = win.input_offset(ky);
        let g = g_in.as_deref_mut().map(|g| &mut g[xi..xi + len]);
        let base = (ky * kernel + win.kx_lo) * cin;
        rows(&x[xi..xi + len], g, wt, dwt, events, field, base);
    }
}

/// For every event `(c, d)`, with its row at `o = c·stride + base`: `dwt[o..o+n] += x·d` and
/// `g += wt[o..o+n]·d` (n = `x.len()`), the events applied in order. Bit-identical to one
/// [`super::event::apply`] row per event.
pub fn rows(
    x: &[f32],
    g: Option<&mut [f32]>,
    wt: &[f32],
    dwt: &mut [f32],
    ev: &PositionEvents,
    stride: usize,
    base: usize,
) {
    let n = x.len();
    assert!(wt.len() == dwt.len());
    if let Some(&(c, _)) = ev.iter().max_by_key(|e| e.0) {
        let o = c as usize * stride + base;
        assert!(
            o <= wt.len() && n <= wt.len() - o,
            "weight row out of range"
        );
    }
    if let Some(g) = g.as_deref() {
        assert_eq!(g.len(), n);
    }
    #[cfg(target_arch = "x86_64")]
    if snn_core::simd::has_avx512() {
        // SAFETY: AVX-512F is present; every row `o..o+n` is inside `wt`/`dwt` (checked above
        // for the largest channel), `g` (when given) has `n` elements like `x`.
        unsafe { rows_avx512(x, g, wt, dwt, ev, stride, base) };
        return;
    }
    rows_scalar(x, g, wt, dwt, ev, stride, base)
}

/// Scalar reference of [`rows`].
pub fn rows_scalar(
    x: &[f32],
    g: Option<&mut [f32]>,
    wt: &[f32],
    dwt: &mut [f32],
    ev: &PositionEvents,
    stride: usize,
    base: usize,
) {
    let n = x.len();
    let ev = ev.iter().map(|&(c, d)| (c as usize * stride + base, d));
    match g {
        Some(g) => {
            for i in 0..n {
                let xv = x[i];
                let mut gv = g[i];
                for (o, d) in ev.clone() {
                    dwt[o + i] += xv * d;
                    gv += wt[o + i] * d;
                }
                g[i] = gv;
            }
        }
        None => {
            for (o, d) in ev {
                for i in 0..n {
                    dwt[o + i] += x[i] * d;
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn rows_avx512(
    x: &[f32],
    g: Option<&mut [f32]>,
    wt: &[f32],
    dwt: &mut [f32],
    ev: &PositionEvents,
    stride: usize,
    base: usize,
) {
    use std::arch::x86_64::*;
    let n = x.len();
    let (xp, wp, dp) = (x.as_ptr(), wt.as_ptr(), dwt.as_mut_ptr());
    let gp = g.map(|g| g.as_mut_ptr());
    let mut i = 0;
    // Two registers (32 floats) per pass, then one masked register for the rest.
    while i + 32 <= n {
        let x0 = _mm512_loadu_ps(xp.add(i));
        let x1 = _mm512_loadu_ps(xp.add(i + 16));
        match gp {
            Some(gp) => {
                let mut g0 = _mm512_loadu_ps(gp.add(i));
                let mut g1 = _mm512_loadu_ps(gp.add(i + 16));
                for &(c, d) in ev {
                    let o = c as usize * stride + base;
                    let dv = _mm512_set1_ps(d);
                    let q = dp.add(o + i);
                    let w = wp.add(o + i);
                    _mm512_storeu_ps(q, _mm512_add_ps(_mm512_loadu_ps(q), _mm512_mul_ps(x0, dv)));
                    _mm512_storeu_ps(
                        q.add(16),
                        _mm512_add_ps(_mm512_loadu_ps(q.add(16)), _mm512_mul_ps(x1, dv)),
                    );
                    g0 = _mm512_add_ps(g0, _mm512_mul_ps(_mm512_loadu_ps(w), dv));
                    g1 = _mm512_add_ps(g1, _mm512_mul_ps(_mm512_loadu_ps(w.add(16)), dv));
                }
                _mm512_storeu_ps(gp.add(i), g0);
                _mm512_storeu_ps(gp.add(i + 16), g1);
            }
            None => {
                for &(c, d) in ev {
                    let o = c as usize * stride + base;
                    let dv = _mm512_set1_ps(d);
                    let q = dp.add(o + i);
                    _mm512_storeu_ps(q, _mm512_add_ps(_mm512_loadu_ps(q), _mm512_mul_ps(x0, dv)));
                    _mm512_storeu_ps(
                        q.add(16),
                        _mm512_add_ps(_mm512_loadu_ps(q.add(16)), _mm512_mul_ps(x1, dv)),
                    );
                }
            }
        }
        i += 32;
    }
    while i < n {
        let m: __mmask16 = if n - i >= 16 {
            0xFFFF
        } else {
            (1u32 << (n - i)) as u16 - 1
        };
        let xv = _mm512_maskz_loadu_ps(m, xp.add(i));
        let mut gv = match gp {
            Some(gp) => _mm512_maskz_loadu_ps(m, gp.add(i)),
            None => _mm512_setzero_ps(),
        };
        for &(c, d) in ev {
            let o = c as usize * stride + base;
            let dv = _mm512_set1_ps(d);
            let q = dp.add(o + i);
            _mm512_mask_storeu_ps(
                q,
                m,
                _mm512_add_ps(_mm512_maskz_loadu_ps(m, q), _mm512_mul_ps(xv, dv)),
            );
            if gp.is_some() {
                gv = _mm512_add_ps(
                    gv,
                    _mm512_mul_ps(_mm512_maskz_loadu_ps(m, wp.add(o + i)), dv),
                );
            }
        }
        if let Some(gp) = gp {
            _mm512_mask_storeu_ps(gp.add(i), m, gv);
        }
        i += 16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snn_core::shape::Shape3;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    /// Every conv shape of the presets' kind (3×3 pad 1, stride 1 and 2, 1×1 shortcuts, channel
    /// counts that leave masked tails): grouped events equal the events applied one by one.
    #[test]
    fn grouped_events_equal_single_events_bit_for_bit() {
        let mut seed = 7u64;
        for &(k, stride, pad, cin, cout, h) in &[
            (3, 1, 1, 3, 8, 6),
            (3, 1, 1, 5, 4, 5),
            (3, 2, 1, 16, 6, 8),
            (1, 1, 0, 20, 7, 4),
            (1, 2, 0, 33, 5, 6),
            (5, 1, 2, 2, 3, 7),
        ] {
            let oh = (h + 2 * pad - k) / stride + 1;
            let syn = Synapses::Conv {
                kernel: k,
                stride,
                padding: pad,
                input: Shape3::new(cin, h, h),
                output: Shape3::new(cout, oh, oh),
            };
            let nw = syn.weight_count();
            let wt: Vec<f32> = (0..nw).map(|_| lcg(&mut seed)).collect();
            let x: Vec<f32> = (0..cin * h * h).map(|_| lcg(&mut seed) * 8.0).collect();
            for with_g in [true, false] {
                let mut dw_a: Vec<f32> = (0..nw).map(|_| lcg(&mut seed)).collect();
                let mut g_a: Vec<f32> = (0..cin * h * h).map(|_| lcg(&mut seed)).collect();
                let (mut dw_b, mut g_b) = (dw_a.clone(), g_a.clone());
                for p in 0..oh * oh {
                    let mut events: Vec<(u32, f32)> = Vec::new();
                    for co in 0..cout as u32 {
                        if lcg(&mut seed) > 0.0 {
                            events.push((co, lcg(&mut seed)));
                        }
                    }
                    let ga = with_g.then_some(&mut g_a[..]);
                    conv_position(&syn, p, &events, &x, &wt, &mut dw_a, ga);
                    for &(co, d) in &events {
                        let j = p * cout + co as usize;
                        let gb = with_g.then_some(&mut g_b[..]);
                        super::super::event::apply(&syn, j, d, &x, &wt, &mut dw_b, gb);
                    }
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&dw_a),
                    bits(&dw_b),
                    "dW, k={k} stride={stride} cin={cin}"
                );
                assert_eq!(bits(&g_a), bits(&g_b), "g, k={k} stride={stride} cin={cin}");
            }
        }
    }

    #[test]
    fn avx512_rows_equal_scalar_rows() {
        let mut seed = 3u64;
        for n in [1, 7, 16, 31, 32, 33, 64, 100, 192] {
            let wt: Vec<f32> = (0..n * 5).map(|_| lcg(&mut seed)).collect();
            let x: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
            let ev: Vec<(u32, f32)> = (0..4).map(|k| (k, lcg(&mut seed))).collect();
            let mut a: Vec<f32> = (0..n * 5).map(|_| lcg(&mut seed)).collect();
            let mut ga: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
            let (mut b, mut gb) = (a.clone(), ga.clone());
            rows(&x, Some(&mut ga), &wt, &mut a, &ev, n, 0);
            rows_scalar(&x, Some(&mut gb), &wt, &mut b, &ev, n, 0);
            assert_eq!(a, b, "n={n}");
            assert_eq!(ga, gb, "n={n}");
        }
    }
}
