//! Runtime CPU-feature dispatch for hot kernels: the same Rust body compiled twice, once for the
//! baseline target and once with AVX2+FMA enabled, chosen once per process. Rust never fuses a
//! multiply and an add on its own, so both versions give bit-identical results. A few kernels
//! also have an AVX-512 version ([`has_avx512`]).

use std::sync::atomic::{AtomicU8, Ordering};

/// `detect()` on the first call, its cached answer afterwards (`flag`: 0 not yet known, 1 yes,
/// 2 no).
#[inline]
fn cached(flag: &AtomicU8, detect: fn() -> bool) -> bool {
    match flag.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let yes = detect();
            flag.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
            yes
        }
    }
}

/// True when the CPU supports AVX2 and FMA (cached after the first call).
#[inline]
pub fn has_avx2() -> bool {
    static AVX2: AtomicU8 = AtomicU8::new(0);
    cached(&AVX2, || {
        #[cfg(target_arch = "x86_64")]
        return std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        false
    })
}

/// True when the CPU supports AVX-512F (and AVX2, FMA, POPCNT) and the environment variable
/// `SNN_NO_AVX512` is not set (cached after the first call). The variable is for comparing the
/// kernels, and for CPUs that lower their clock for 512-bit instructions.
#[inline]
pub fn has_avx512() -> bool {
    static AVX512: AtomicU8 = AtomicU8::new(0);
    cached(&AVX512, || {
        #[cfg(target_arch = "x86_64")]
        return has_avx2()
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("popcnt")
            && std::env::var_os("SNN_NO_AVX512").is_none();
        #[cfg(not(target_arch = "x86_64"))]
        false
    })
}

/// `dispatch_avx2!(body(args…))` calls `body` compiled with AVX2 when available, else as is.
/// `body` (and everything it calls in the hot path) must be `#[inline(always)]`.
#[macro_export]
macro_rules! dispatch_avx2 {
    ($body:ident ( $($arg:expr),* $(,)? )) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2,fma")]
            unsafe fn __avx2<F: FnOnce() -> R, R>(f: F) -> R { f() }
            if $crate::simd::has_avx2() {
                // SAFETY: the CPU supports avx2+fma (checked above); the closure is inlined into
                // the target_feature function so its body is compiled with those features.
                unsafe { __avx2(#[inline(always)] || $body($($arg),*)) }
            } else {
                $body($($arg),*)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        { $body($($arg),*) }
    }};
}
pub(crate) use dispatch_avx2 as dispatch;

/// Most weight rows [`accumulate_rows`] adds in one pass.
pub const MAX_ROWS: usize = 8;

/// `out[i] = (…((out[i] + w[o₀+i]·v) + w[o₁+i]·v) …)` for every `i`, rows in the order of
/// `offsets`: the same per-element sequence of roundings as one `y += x·v` pass per row, but
/// `out` is loaded and stored once. When `v == 1` the multiply is skipped (`x·1 == x` exactly).
/// Multiply and add are never fused, so the result is bit-identical to the scalar loop.
#[inline(always)]
pub fn accumulate_rows(out: &mut [f32], w: &[f32], offsets: &[usize], value: f32) {
    let len = out.len();
    assert!(offsets.len() <= MAX_ROWS);
    for &o in offsets {
        assert!(
            o <= w.len() && len <= w.len() - o,
            "weight row out of range"
        );
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: AVX2+FMA present; every row `w[o..o+len]` is in bounds (checked above) and
        // `out` has `len` elements.
        unsafe {
            if value == 1.0 {
                accumulate_rows_avx2::<true>(out.as_mut_ptr(), len, w.as_ptr(), offsets, value)
            } else {
                accumulate_rows_avx2::<false>(out.as_mut_ptr(), len, w.as_ptr(), offsets, value)
            }
        }
        return;
    }
    accumulate_rows_scalar(out, w, offsets, value)
}

/// Scalar reference of [`accumulate_rows`].
pub fn accumulate_rows_scalar(out: &mut [f32], w: &[f32], offsets: &[usize], value: f32) {
    for (i, y) in out.iter_mut().enumerate() {
        let mut acc = *y;
        for &o in offsets {
            acc += w[o + i] * value;
        }
        *y = acc;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn accumulate_rows_avx2<const UNIT: bool>(
    out: *mut f32,
    len: usize,
    w: *const f32,
    offsets: &[usize],
    value: f32,
) {
    use std::arch::x86_64::*;
    if offsets.len() == 1 {
        return accumulate_row_avx2::<UNIT>(out, len, w.add(offsets[0]), value);
    }
    let v8 = _mm256_set1_ps(value);
    let v4 = _mm_set1_ps(value);
    let rows = offsets;
    let mut i = 0;
    while i + 32 <= len {
        let mut a0 = _mm256_loadu_ps(out.add(i));
        let mut a1 = _mm256_loadu_ps(out.add(i + 8));
        let mut a2 = _mm256_loadu_ps(out.add(i + 16));
        let mut a3 = _mm256_loadu_ps(out.add(i + 24));
        for &o in rows {
            let r = w.add(o);
            let (mut x0, mut x1) = (_mm256_loadu_ps(r.add(i)), _mm256_loadu_ps(r.add(i + 8)));
            let (mut x2, mut x3) = (
                _mm256_loadu_ps(r.add(i + 16)),
                _mm256_loadu_ps(r.add(i + 24)),
            );
            if !UNIT {
                x0 = _mm256_mul_ps(x0, v8);
                x1 = _mm256_mul_ps(x1, v8);
                x2 = _mm256_mul_ps(x2, v8);
                x3 = _mm256_mul_ps(x3, v8);
            }
            a0 = _mm256_add_ps(a0, x0);
            a1 = _mm256_add_ps(a1, x1);
            a2 = _mm256_add_ps(a2, x2);
            a3 = _mm256_add_ps(a3, x3);
        }
        _mm256_storeu_ps(out.add(i), a0);
        _mm256_storeu_ps(out.add(i + 8), a1);
        _mm256_storeu_ps(out.add(i + 16), a2);
        _mm256_storeu_ps(out.add(i + 24), a3);
        i += 32;
    }
    while i + 8 <= len {
        let mut a = _mm256_loadu_ps(out.add(i));
        for &o in rows {
            let r = w.add(o);
            let x = _mm256_loadu_ps(r.add(i));
            a = _mm256_add_ps(a, if UNIT { x } else { _mm256_mul_ps(x, v8) });
        }
        _mm256_storeu_ps(out.add(i), a);
        i += 8;
    }
    if i + 4 <= len {
        let mut a = _mm_loadu_ps(out.add(i));
        for &o in rows {
            let r = w.add(o);
            let x = _mm_loadu_ps(r.add(i));
            a = _mm_add_ps(a, if UNIT { x } else { _mm_mul_ps(x, v4) });
        }
        _mm_storeu_ps(out.add(i), a);
        i += 4;
    }
    for _ in 0..3 {
        if i < len {
            let mut a = *out.add(i);
            for &o in rows {
                let x = *w.add(o + i);
                a += if UNIT { x } else { x * value };
            }
            *out.add(i) = a;
            i += 1;
        }
    }
}

/// One-row case of [`accumulate_rows_avx2`]: `out[i] += r[i]·value` for `i < len`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn accumulate_row_avx2<const UNIT: bool>(
    out: *mut f32,
    len: usize,
    r: *const f32,
    value: f32,
) {
    use std::arch::x86_64::*;
    let v8 = _mm256_set1_ps(value);
    let v4 = _mm_set1_ps(value);
    let mut i = 0;
    while i + 32 <= len {
        let (mut x0, mut x1) = (_mm256_loadu_ps(r.add(i)), _mm256_loadu_ps(r.add(i + 8)));
        let (mut x2, mut x3) = (
            _mm256_loadu_ps(r.add(i + 16)),
            _mm256_loadu_ps(r.add(i + 24)),
        );
        if !UNIT {
            x0 = _mm256_mul_ps(x0, v8);
            x1 = _mm256_mul_ps(x1, v8);
            x2 = _mm256_mul_ps(x2, v8);
            x3 = _mm256_mul_ps(x3, v8);
        }
        _mm256_storeu_ps(out.add(i), _mm256_add_ps(_mm256_loadu_ps(out.add(i)), x0));
        _mm256_storeu_ps(
            out.add(i + 8),
            _mm256_add_ps(_mm256_loadu_ps(out.add(i + 8)), x1),
        );
        _mm256_storeu_ps(
            out.add(i + 16),
            _mm256_add_ps(_mm256_loadu_ps(out.add(i + 16)), x2),
        );
        _mm256_storeu_ps(
            out.add(i + 24),
            _mm256_add_ps(_mm256_loadu_ps(out.add(i + 24)), x3),
        );
        i += 32;
    }
    while i + 8 <= len {
        let mut x = _mm256_loadu_ps(r.add(i));
        if !UNIT {
            x = _mm256_mul_ps(x, v8);
        }
        _mm256_storeu_ps(out.add(i), _mm256_add_ps(_mm256_loadu_ps(out.add(i)), x));
        i += 8;
    }
    if i + 4 <= len {
        let mut x = _mm_loadu_ps(r.add(i));
        if !UNIT {
            x = _mm_mul_ps(x, v4);
        }
        _mm_storeu_ps(out.add(i), _mm_add_ps(_mm_loadu_ps(out.add(i)), x));
        i += 4;
    }
    // At most 3 left: straight-line code (a loop here gets vectorized with alias checks).
    for _ in 0..3 {
        if i < len {
            let x = *r.add(i);
            *out.add(i) += if UNIT { x } else { x * value };
            i += 1;
        }
    }
}

/// `bits[w]` = bitmap of the nonzero bytes of `flags[64w..64w+64]` (bit `i` for byte
/// `64w+i`), for every `w < bits.len()`; zeroes those bytes. `flags.len() == 64·bits.len()`.
pub fn flags_to_bits(flags: &mut [u8], bits: &mut [u64]) {
    assert_eq!(flags.len(), bits.len() * 64);
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: AVX2 present; every 32-byte access lies inside `flags` (length 64·bits.len()).
        unsafe { flags_to_bits_avx2(flags, bits) };
        return;
    }
    for (b, f) in bits.iter_mut().zip(flags.chunks_exact_mut(64)) {
        let mut m = 0u64;
        for (i, x) in f.iter_mut().enumerate() {
            m |= ((*x != 0) as u64) << i;
            *x = 0;
        }
        *b = m;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn flags_to_bits_avx2(flags: &mut [u8], bits: &mut [u64]) {
    use std::arch::x86_64::*;
    let zero = _mm256_setzero_si256();
    let p = flags.as_mut_ptr();
    for (w, b) in bits.iter_mut().enumerate() {
        let q = p.add(64 * w);
        let lo = _mm256_loadu_si256(q as *const __m256i);
        let hi = _mm256_loadu_si256(q.add(32) as *const __m256i);
        let z_lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, zero)) as u32;
        let z_hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, zero)) as u32;
        *b = !((z_lo as u64) | ((z_hi as u64) << 32));
        _mm256_storeu_si256(q as *mut __m256i, zero);
        _mm256_storeu_si256(q.add(32) as *mut __m256i, zero);
    }
}

/// `bits[w]` = bitmap of the elements of `values[64w..64w+64]` that are `!= 0.0` (bit `i` for
/// element `64w+i`; −0.0 counts as zero, NaN as non-zero, as Rust's `!=`), for every word the
/// values reach; a last partial word has zeros above the values' end.
pub fn nonzero_bits(values: &[f32], bits: &mut [u64]) {
    let full = values.len() / 64;
    assert!(bits.len() >= values.len().div_ceil(64), "bitmap too short");
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: AVX2 present; the kernel reads `values[..64·full]` only.
        unsafe { nonzero_bits_avx2(&values[..full * 64], &mut bits[..full]) };
    } else {
        nonzero_bits_scalar(&values[..full * 64], &mut bits[..full]);
    }
    #[cfg(not(target_arch = "x86_64"))]
    nonzero_bits_scalar(&values[..full * 64], &mut bits[..full]);
    if values.len() > full * 64 {
        nonzero_bits_scalar(&values[full * 64..], &mut bits[full..full + 1]);
    }
}

fn nonzero_bits_scalar(values: &[f32], bits: &mut [u64]) {
    for (word, chunk) in bits.iter_mut().zip(values.chunks(64)) {
        let mut w = 0u64;
        for (b, &x) in chunk.iter().enumerate() {
            w |= u64::from(x != 0.0) << b;
        }
        *word = w;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn nonzero_bits_avx2(values: &[f32], bits: &mut [u64]) {
    use std::arch::x86_64::*;
    let zero = _mm256_setzero_ps();
    let p = values.as_ptr();
    for (w, b) in bits.iter_mut().enumerate() {
        let mut m = 0u64;
        for k in 0..8 {
            let x = _mm256_loadu_ps(p.add(64 * w + 8 * k));
            // Unordered not-equal: true for NaN, false for ±0.0, as `x != 0.0`.
            let ne = _mm256_cmp_ps::<_CMP_NEQ_UQ>(x, zero);
            m |= (_mm256_movemask_ps(ne) as u32 as u64) << (8 * k);
        }
        *b = m;
    }
}

/// Division of `u32` values by a fixed divisor with a multiply instead of a `div` (Lemire's
/// method: exact for every `u32` numerator and nonzero divisor).
#[derive(Clone, Copy, Debug)]
pub struct FastDiv {
    m: u64,
    d: u32,
}

impl FastDiv {
    /// Divisor `d` (nonzero).
    pub fn new(d: usize) -> Self {
        assert!(d > 0 && d <= u32::MAX as usize, "FastDiv divisor");
        FastDiv {
            // ⌈2⁶⁴ / d⌉; d = 1 would need 2⁶⁴ and is handled apart in `div_rem`.
            m: (u64::MAX / d as u64).wrapping_add(1),
            d: d as u32,
        }
    }

    /// `(n / d, n % d)`.
    #[inline(always)]
    pub fn div_rem(self, n: u32) -> (u32, u32) {
        let q = if self.d == 1 {
            n
        } else {
            ((self.m as u128 * n as u128) >> 64) as u32
        };
        (q, n - q * self.d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulate_rows_matches_plain_loops_bit_for_bit() {
        let mut seed = 3u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for n in [0usize, 1, 3, 4, 5, 7, 8, 12, 15, 16, 20, 31, 33, 100, 250] {
            for a in [1.0f32, -1.0, 0.37, 1e-3] {
                let x1: Vec<f32> = (0..n).map(|_| rnd()).collect();
                let x2: Vec<f32> = (0..n).map(|_| rnd()).collect();
                let y1: Vec<f32> = (0..n).map(|_| rnd()).collect();
                let plain = |y: &[f32], x: &[f32]| -> Vec<u32> {
                    y.iter()
                        .zip(x)
                        .map(|(y, x)| (y + x * a).to_bits())
                        .collect()
                };
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let mut b = y1.clone();
                accumulate_rows(&mut b, &x1, &[0], a);
                assert_eq!(bits(&b), plain(&y1, &x1), "one row n={n} a={a}");
                let mut c = y1.clone();
                let w: Vec<f32> = x1.iter().chain(&x2).copied().collect();
                accumulate_rows(&mut c, &w, &[0, n], a);
                let want: Vec<u32> = (0..n)
                    .map(|i| ((y1[i] + x1[i] * a) + x2[i] * a).to_bits())
                    .collect();
                assert_eq!(bits(&c), want, "rows n={n} a={a}");
            }
        }
    }

    #[test]
    fn flags_to_bits_packs_and_clears() {
        let mut flags = vec![0u8; 192];
        for i in [0usize, 5, 63, 64, 100, 127, 191] {
            flags[i] = 1;
        }
        let mut bits = vec![u64::MAX; 3];
        flags_to_bits(&mut flags, &mut bits);
        assert_eq!(
            bits,
            vec![1 | 1 << 5 | 1 << 63, 1 | 1 << 36 | 1 << 63, 1 << 63]
        );
        assert!(flags.iter().all(|&f| f == 0));
    }

    #[test]
    fn fast_div_is_exact() {
        for d in [
            1usize,
            2,
            3,
            5,
            7,
            20,
            50,
            64,
            100,
            784,
            1000,
            65537,
            4_000_000_000,
        ] {
            let f = FastDiv::new(d);
            let mut n = 0u32;
            loop {
                assert_eq!(f.div_rem(n), (n / d as u32, n % d as u32), "{n}/{d}");
                match n.checked_add(n / 3 + 1) {
                    Some(m) => n = m,
                    None => break,
                }
            }
            for n in [u32::MAX, u32::MAX - 1, d as u32, (d as u32).wrapping_sub(1)] {
                assert_eq!(f.div_rem(n), (n / d as u32, n % d as u32), "{n}/{d}");
            }
        }
    }
}
