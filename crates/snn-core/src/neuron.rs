//! The neuron half of one time step (SPEC §3, paper-method §3). These functions are the single
//! definition of the dynamics; the trainer's forward, its evaluation and the simulator call them.
//!
//! Each takes the layer's state and the synaptic current accumulated this step, updates the state,
//! clears the current for the next step and appends the indices of the neurons that fired.

use crate::simd;

/// LIF layer step: `u = v + I`; fire iff `u > threshold` (strict); hard reset to 0; then leak
/// `v = λ·(1−s)·u`. Appends firing indices (ascending) to `spikes` and zeroes `current`.
pub fn lif_step(
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    spikes: &mut Vec<u32>,
) {
    lif_run(v, current, leak, threshold, 0, spikes, Hits::None)
}

/// How a LIF pass also records which neurons fired, as the input of a 2×2 pooling layer
/// ([`crate::lif_pool`]): `q` per firing neuron, `+0.0` per silent one.
#[derive(Debug)]
pub(crate) enum Hits<'a> {
    /// Nothing recorded.
    None,
    /// `hits[j] = fired(j) ? q : 0`.
    Store(&'a mut [f32], f32),
    /// `hits[j] += fired(j) ? q : 0`.
    Add(&'a mut [f32], f32),
}

/// [`lif_step`] on a slice of a layer whose first neuron has index `base` (the indices
/// appended to `spikes` are layer indices), optionally recording the firing neurons in `hits`
/// (at least as long as `v`).
pub(crate) fn lif_run(
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    base: usize,
    spikes: &mut Vec<u32>,
    hits: Hits<'_>,
) {
    lif_run_with(
        LifKernel::best(),
        v,
        current,
        leak,
        threshold,
        base,
        spikes,
        hits,
    )
}

/// The implementations of the LIF update, bit-identical to each other: the widest one the CPU
/// has does the leading multiple of its width, the narrower ones the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LifKernel {
    /// One neuron at a time.
    Scalar,
    /// Eight neurons per AVX2 register.
    Avx2,
    /// Sixteen neurons per AVX-512 register (mask registers, in-register compress).
    Avx512,
}

impl LifKernel {
    /// Whether this CPU runs the kernel.
    #[inline]
    fn runs_here(self) -> bool {
        match self {
            LifKernel::Scalar => true,
            LifKernel::Avx2 => simd::has_avx2(),
            LifKernel::Avx512 => simd::has_avx512(),
        }
    }

    /// The widest kernel this CPU runs.
    #[inline]
    fn best() -> Self {
        [LifKernel::Avx512, LifKernel::Avx2]
            .into_iter()
            .find(|k| k.runs_here())
            .unwrap_or(LifKernel::Scalar)
    }
}

/// [`lif_run`] with a chosen kernel (which the CPU must support).
#[allow(clippy::too_many_arguments)]
fn lif_run_with(
    kernel: LifKernel,
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    base: usize,
    spikes: &mut Vec<u32>,
    mut hits: Hits<'_>,
) {
    assert_eq!(v.len(), current.len());
    assert!(base + v.len() <= u32::MAX as usize, "neuron index range");
    match &hits {
        Hits::None => {}
        Hits::Store(h, _) | Hits::Add(h, _) => assert!(h.len() >= v.len(), "hit row length"),
    }
    let n = v.len();
    // Neurons done by the vector kernels.
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    {
        assert!(
            kernel.runs_here(),
            "{kernel:?} LIF kernel on a CPU without it"
        );
        // Runs `$kernel` over neurons `done..end` with the record's `HITS` mode.
        macro_rules! run {
            ($kernel:ident, $end:expr) => {{
                let end = $end;
                let (v, i, b) = (&mut v[done..end], &mut current[done..end], base + done);
                let (h, q) = hits.raw(done);
                // SAFETY: the CPU runs the kernel (asserted); every load/store stays inside
                // `done..end` of `v`, `current` and (when recording) the hit row, which is at
                // least as long as `v`.
                unsafe {
                    match hits.mode() {
                        0 => $kernel::<0>(v, i, leak, threshold, b, spikes, h, q),
                        1 => $kernel::<1>(v, i, leak, threshold, b, spikes, h, q),
                        _ => $kernel::<2>(v, i, leak, threshold, b, spikes, h, q),
                    }
                }
                done = end;
            }};
        }
        if kernel == LifKernel::Avx512 && n >= 16 {
            run!(lif_avx512, n - n % 16);
        }
        if kernel != LifKernel::Scalar && n - done >= 8 {
            run!(lif_avx2, n - n % 8);
        }
    }
    if done == n {
        return;
    }
    lif_scalar(
        &mut v[done..],
        &mut current[done..],
        leak,
        threshold,
        base + done,
        spikes,
        hits.skip(done),
    );
}

impl Hits<'_> {
    /// The kernels' `HITS` number of this record: 0 none, 1 store, 2 add.
    fn mode(&self) -> u8 {
        match self {
            Hits::None => 0,
            Hits::Store(..) => 1,
            Hits::Add(..) => 2,
        }
    }

    /// The hit row from neuron `start` on (null without a record) and the recorded value.
    fn raw(&mut self, start: usize) -> (*mut f32, f32) {
        match self {
            Hits::None => (std::ptr::null_mut(), 0.0),
            Hits::Store(h, q) | Hits::Add(h, q) => (h[start..].as_mut_ptr(), *q),
        }
    }

    /// The same record for the neurons from `start` on.
    fn skip(&mut self, start: usize) -> Hits<'_> {
        match self {
            Hits::None => Hits::None,
            Hits::Store(h, q) => Hits::Store(&mut h[start..], *q),
            Hits::Add(h, q) => Hits::Add(&mut h[start..], *q),
        }
    }
}

/// Scalar LIF update; `base` is the index of `v[0]` in the layer.
#[inline(always)]
fn lif_scalar(
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    base: usize,
    spikes: &mut Vec<u32>,
    mut hits: Hits<'_>,
) {
    for (k, (vv, ii)) in v.iter_mut().zip(current.iter_mut()).enumerate() {
        let u = *vv + *ii;
        *ii = 0.0;
        let fire = u > threshold;
        if fire {
            *vv = 0.0;
            spikes.push((base + k) as u32);
        } else {
            *vv = leak * u;
        }
        match &mut hits {
            Hits::None => {}
            Hits::Store(h, q) => h[k] = if fire { *q } else { 0.0 },
            Hits::Add(h, q) => h[k] += if fire { *q } else { 0.0 },
        }
    }
}

/// For each 8-bit mask, the positions of its set bits packed one per byte (ascending).
#[cfg(target_arch = "x86_64")]
const COMPRESS: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut m = 0;
    while m < 256 {
        let (mut packed, mut n, mut b) = (0u64, 0, 0);
        while b < 8 {
            if m & (1 << b) != 0 {
                packed |= (b as u64) << (8 * n);
                n += 1;
            }
            b += 1;
        }
        t[m] = packed;
        m += 1;
    }
    t
};

/// [`lif_avx2`] sixteen neurons at a time with AVX-512F: the comparison gives a mask register,
/// the reset is a zero-masked multiply, the hits a zero-masked move and the firing indices are
/// compressed in a register (its memory form is slow on AMD) and stored 8 at a time.
/// Bit-identical: the same add, compare and multiply per neuron, `+0.0` where [`lif_avx2`]
/// and-nots to zero.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma,popcnt")]
#[allow(clippy::too_many_arguments)]
unsafe fn lif_avx512<const HITS: u8>(
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    base: usize,
    spikes: &mut Vec<u32>,
    hits: *mut f32,
    q: f32,
) {
    use std::arch::x86_64::*;
    let n = v.len().min(current.len());
    spikes.reserve(n + 16);
    let out = spikes.as_mut_ptr();
    let mut len = spikes.len();
    let th = _mm512_set1_ps(threshold);
    let lk = _mm512_set1_ps(leak);
    let zero = _mm512_setzero_ps();
    let mut idx = _mm512_add_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(base as i32),
    );
    let sixteen = _mm512_set1_epi32(16);
    let q16 = _mm512_set1_ps(q);
    let vp = v.as_mut_ptr();
    let ip = current.as_mut_ptr();
    // As in `lif_avx2`: an all-+0.0 block stays +0.0 and cannot fire when threshold ≥ 0.
    let skip_zero = threshold >= 0.0;
    let mut c = 0;
    while c + 16 <= n {
        let (vv, ii) = (_mm512_loadu_ps(vp.add(c)), _mm512_loadu_ps(ip.add(c)));
        if skip_zero {
            let bits = _mm512_or_si512(_mm512_castps_si512(vv), _mm512_castps_si512(ii));
            if _mm512_test_epi32_mask(bits, bits) == 0 {
                if HITS == 1 {
                    _mm512_storeu_ps(hits.add(c), zero);
                }
                idx = _mm512_add_epi32(idx, sixteen);
                c += 16;
                continue;
            }
        }
        let u = _mm512_add_ps(vv, ii);
        let fire = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(u, th);
        _mm512_storeu_ps(vp.add(c), _mm512_maskz_mul_ps(!fire, lk, u));
        _mm512_storeu_ps(ip.add(c), zero);
        if HITS != 0 {
            let h = _mm512_maskz_mov_ps(fire, q16);
            let h = if HITS == 2 {
                _mm512_add_ps(_mm512_loadu_ps(hits.add(c)), h)
            } else {
                h
            };
            _mm512_storeu_ps(hits.add(c), h);
        }
        // The packed indices go out 8 at a time, the upper 8 only when more than 8 fired
        // (rare): the list's end sits anywhere, so a 64-byte store nearly always straddles two
        // cache lines and a 32-byte one less than half the time (measured +3.1 % on LeNet's
        // evaluation against one 64-byte store; 16 bytes plus a branch was 5 % slower).
        // SAFETY: capacity ≥ len + 16 since at most one spike per neuron precedes these stores.
        let packed = _mm512_maskz_compress_epi32(fire, idx);
        let count = fire.count_ones() as usize;
        _mm256_storeu_si256(out.add(len) as *mut __m256i, _mm512_castsi512_si256(packed));
        if count > 8 {
            _mm256_storeu_si256(
                out.add(len + 8) as *mut __m256i,
                _mm512_extracti64x4_epi64::<1>(packed),
            );
        }
        len += count;
        idx = _mm512_add_epi32(idx, sixteen);
        c += 16;
    }
    spikes.set_len(len);
}

/// AVX2 LIF update of a multiple-of-8 prefix; bit-identical to [`lif_scalar`]. Firing indices
/// are written branch-free: all 8 lanes' indices are compressed by a table-driven permute and
/// stored, and the length advances by the number of spikes. `HITS` is 0 (no record), 1
/// ([`Hits::Store`] into `hits`) or 2 ([`Hits::Add`]), with `q` the recorded value.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn lif_avx2<const HITS: u8>(
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    base: usize,
    spikes: &mut Vec<u32>,
    hits: *mut f32,
    q: f32,
) {
    use std::arch::x86_64::*;
    let n = v.len().min(current.len());
    spikes.reserve(n + 8);
    let out = spikes.as_mut_ptr();
    let mut len = spikes.len();
    let th = _mm256_set1_ps(threshold);
    let lk = _mm256_set1_ps(leak);
    let zero = _mm256_setzero_ps();
    let mut idx = _mm256_add_epi32(
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        _mm256_set1_epi32(base as i32),
    );
    let eight = _mm256_set1_epi32(8);
    let q8 = _mm256_set1_ps(q);
    let vp = v.as_mut_ptr();
    let ip = current.as_mut_ptr();
    // A block whose membranes and currents are all +0.0 stays +0.0 (λ·(0+0) = +0) and cannot
    // fire when threshold ≥ 0: skip its stores (silent regions, e.g. image background).
    let skip_zero = threshold >= 0.0;
    let mut c = 0;
    while c + 8 <= n {
        let (vv, ii) = (_mm256_loadu_ps(vp.add(c)), _mm256_loadu_ps(ip.add(c)));
        if skip_zero {
            let bits = _mm256_castps_si256(_mm256_or_ps(vv, ii));
            if _mm256_testz_si256(bits, bits) == 1 {
                if HITS == 1 {
                    _mm256_storeu_ps(hits.add(c), zero);
                }
                idx = _mm256_add_epi32(idx, eight);
                c += 8;
                continue;
            }
        }
        let u = _mm256_add_ps(vv, ii);
        let fire = _mm256_cmp_ps::<_CMP_GT_OQ>(u, th);
        _mm256_storeu_ps(vp.add(c), _mm256_andnot_ps(fire, _mm256_mul_ps(lk, u)));
        _mm256_storeu_ps(ip.add(c), zero);
        if HITS != 0 {
            let h = _mm256_and_ps(fire, q8);
            let h = if HITS == 2 {
                _mm256_add_ps(_mm256_loadu_ps(hits.add(c)), h)
            } else {
                h
            };
            _mm256_storeu_ps(hits.add(c), h);
        }
        let mask = _mm256_movemask_ps(fire) as usize;
        let perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(COMPRESS[mask] as i64));
        // SAFETY: capacity ≥ len + 8 since at most one spike per neuron precedes this store.
        _mm256_storeu_si256(
            out.add(len) as *mut __m256i,
            _mm256_permutevar8x32_epi32(idx, perm),
        );
        len += mask.count_ones() as usize;
        idx = _mm256_add_epi32(idx, eight);
        c += 8;
    }
    spikes.set_len(len);
}

/// Pooling IF step restricted to the neurons whose bit is set in `touched` (bit `j` of word
/// `j/64`), which must include every neuron with a nonzero current; clears those bits and
/// currents. Equivalent to [`if_step`] when `threshold >= 0`: an untouched pooling neuron
/// has `P ≤ threshold` (it did not fire, or was reset to 0) and no leak, so it neither changes
/// nor fires. Spikes are appended in ascending order.
pub fn if_step_touched(
    q: &mut [f32],
    current: &mut [f32],
    threshold: f32,
    touched: &mut [u64],
    spikes: &mut Vec<u32>,
) {
    assert_eq!(q.len(), current.len());
    assert!(touched.len() * 64 >= q.len());
    let n = q.len();
    spikes.reserve(n);
    let mut len = spikes.len();
    let out = spikes.as_mut_ptr();
    for (wi, word) in touched.iter_mut().enumerate() {
        let mut m = *word;
        *word = 0;
        while m != 0 {
            let j = wi * 64 + m.trailing_zeros() as usize;
            m &= m - 1;
            let u = q[j] + current[j];
            current[j] = 0.0;
            let (fire, next) = fire_reset(u, threshold);
            q[j] = next;
            // Branch-free append: always write the index, advance only on a spike.
            // SAFETY: j < n (indexed above) and each neuron is visited once, so fewer than
            // n indices are appended before this write: len < old len + n ≤ capacity.
            unsafe { out.add(len).write(j as u32) };
            len += fire as usize;
        }
    }
    // SAFETY: the first `len` elements are initialised.
    unsafe { spikes.set_len(len) };
}

/// `(u > threshold, if fired { 0.0 } else { u })` without a branch (spikes are unpredictable,
/// and the compiler turns the plain select into a jump).
#[inline(always)]
fn fire_reset(u: f32, threshold: f32) -> (bool, f32) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unused_unsafe)]
    // SAFETY: SSE is part of the x86_64 baseline.
    unsafe {
        use std::arch::x86_64::*;
        let uv = _mm_set_ss(u);
        let f = _mm_cmpgt_ss(uv, _mm_set_ss(threshold));
        (
            _mm_movemask_ps(f) & 1 == 1,
            _mm_cvtss_f32(_mm_andnot_ps(f, uv)),
        )
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let fire = u > threshold;
        (fire, if fire { 0.0 } else { u })
    }
}

/// Pooling IF step: `P = q + I`; fire iff `P > threshold`; hard reset to 0; no leak.
pub fn if_step(q: &mut [f32], current: &mut [f32], threshold: f32, spikes: &mut Vec<u32>) {
    lif_step(q, current, 1.0, threshold, spikes)
}

/// Readout step: `V = λ·(V + I)`; never fires. Zeroes `current`.
pub fn readout_step(v: &mut [f32], current: &mut [f32], leak: f32) {
    for (vv, ii) in v.iter_mut().zip(current.iter_mut()) {
        *vv = leak * (*vv + *ii);
        *ii = 0.0;
    }
}

/// Network output from the readout membrane after `timesteps` steps: `o = V(T)/T`.
pub fn readout_output(v: &[f32], timesteps: u32) -> Vec<f32> {
    v.iter().map(|x| x / timesteps as f32).collect()
}

/// Index of the largest output (first one on ties): the prediction.
pub fn argmax(o: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in o.iter().enumerate() {
        if x > o[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_threshold_does_not_fire_at_equality() {
        let mut v = vec![0.5f32];
        let mut i = vec![0.5f32];
        let mut s = Vec::new();
        lif_step(&mut v, &mut i, 0.99, 1.0, &mut s);
        assert!(s.is_empty());
        assert!((v[0] - 0.99).abs() < 1e-7);
    }

    #[test]
    fn pooling_three_of_four_spikes_do_not_fire() {
        let mut q = vec![0.0f32];
        let mut i = vec![0.75f32];
        let mut s = Vec::new();
        if_step(&mut q, &mut i, 0.75, &mut s);
        assert!(s.is_empty());
        assert_eq!(q[0], 0.75, "no leak on pooling neurons");
        let mut i = vec![0.25f32];
        if_step(&mut q, &mut i, 0.75, &mut s);
        assert_eq!(s, vec![0]);
        assert_eq!(q[0], 0.0);
    }

    #[test]
    fn vector_and_scalar_lif_agree_bit_for_bit() {
        let n = 1003;
        let init: Vec<f32> = (0..n)
            .map(|k| ((k * 37 % 101) as f32 - 50.0) / 40.0)
            .collect();
        let cur: Vec<f32> = (0..n)
            .map(|k| ((k * 53 % 97) as f32 - 30.0) / 35.0)
            .collect();
        let (mut v1, mut i1, mut s1) = (init.clone(), cur.clone(), Vec::new());
        lif_step(&mut v1, &mut i1, 0.99, 1.0, &mut s1);
        let (mut v2, mut i2, mut s2) = (init, cur, Vec::new());
        lif_scalar(&mut v2, &mut i2, 0.99, 1.0, 0, &mut s2, Hits::None);
        assert_eq!(s1, s2);
        assert_eq!(
            v1.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v2.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert!(!s1.is_empty());
    }

    #[test]
    fn silent_blocks_match_scalar_for_any_threshold_sign() {
        let n = 203;
        // Whole 8-blocks of zeros (skippable), blocks with a -0.0 or one nonzero value.
        let init: Vec<f32> = (0..n)
            .map(|k| match (k / 8) % 4 {
                0 => 0.0,
                1 if k % 8 == 3 => -0.0,
                2 if k % 8 == 5 => 0.9,
                _ => 0.0,
            })
            .collect();
        let cur: Vec<f32> = (0..n)
            .map(|k| if k % 29 == 0 { 0.6 } else { 0.0 })
            .collect();
        for th in [1.0f32, 0.0, -0.5] {
            let (mut v1, mut i1, mut s1) = (init.clone(), cur.clone(), Vec::new());
            let (mut v2, mut i2, mut s2) = (init.clone(), cur.clone(), Vec::new());
            for _ in 0..3 {
                s1.clear();
                s2.clear();
                lif_step(&mut v1, &mut i1, 0.99, th, &mut s1);
                lif_scalar(&mut v2, &mut i2, 0.99, th, 0, &mut s2, Hits::None);
                assert_eq!(s1, s2, "threshold {th}");
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&v1), bits(&v2), "threshold {th}");
                assert_eq!(bits(&i1), bits(&i2), "threshold {th}");
            }
        }
    }

    /// Every kernel this CPU runs against the scalar one, bit for bit, over several steps:
    /// lengths leaving 16-, 8- and 1-neuron remainders, all-zero blocks (skippable) and blocks
    /// holding a -0.0, thresholds of both signs, and each way of recording hits.
    #[test]
    fn every_kernel_matches_the_scalar_one() {
        let kernels: Vec<LifKernel> = [LifKernel::Avx2, LifKernel::Avx512]
            .into_iter()
            .filter(|k| k.runs_here())
            .collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        fn record(mode: u8, h: &mut [f32]) -> Hits<'_> {
            match mode {
                0 => Hits::None,
                1 => Hits::Store(h, 0.25),
                _ => Hits::Add(h, 0.25),
            }
        }
        let mut checked = 0;
        for kernel in kernels {
            for n in [0usize, 7, 16, 19, 40, 203, 1003] {
                let init: Vec<f32> = (0..n)
                    .map(|k| match (k / 16) % 5 {
                        0 => 0.0,
                        1 if k % 16 == 3 => -0.0,
                        2 => ((k * 37 % 101) as f32 - 50.0) / 40.0,
                        _ => 0.3,
                    })
                    .collect();
                for th in [1.0f32, 0.0, -0.5] {
                    for mode in 0..3u8 {
                        let (mut v1, mut v2) = (init.clone(), init.clone());
                        let (mut h1, mut h2) = (vec![0.5f32; n], vec![0.5f32; n]);
                        for step in 0..4 {
                            let cur: Vec<f32> = (0..n)
                                .map(|k| match (k / 16 + step) % 4 {
                                    0 => 0.0,
                                    _ => ((k * 53 % 97) as f32 - 30.0) / 35.0,
                                })
                                .collect();
                            let (mut i1, mut i2) = (cur.clone(), cur);
                            let (mut s1, mut s2) = (vec![9u32], vec![9u32]);
                            lif_run_with(
                                kernel,
                                &mut v1,
                                &mut i1,
                                0.9,
                                th,
                                5,
                                &mut s1,
                                record(mode, &mut h1),
                            );
                            lif_scalar(
                                &mut v2,
                                &mut i2,
                                0.9,
                                th,
                                5,
                                &mut s2,
                                record(mode, &mut h2),
                            );
                            let what = format!("{kernel:?} n {n} threshold {th} hits {mode}");
                            assert_eq!(s1, s2, "{what}");
                            assert_eq!(bits(&v1), bits(&v2), "{what}");
                            assert_eq!(bits(&i1), bits(&i2), "{what}");
                            assert_eq!(bits(&h1), bits(&h2), "{what}");
                            checked += s1.len() - 1;
                        }
                    }
                }
            }
        }
        if simd::has_avx2() {
            assert!(checked > 1000, "{checked} spikes compared");
        }
    }

    #[test]
    fn touched_if_step_matches_dense_if_step() {
        let n = 301;
        let mut seed = 5u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            seed >> 8
        };
        let (mut q1, mut q2) = (vec![0.0f32; n], vec![0.0f32; n]);
        let mut touched = vec![0u64; n.div_ceil(64)];
        for _ in 0..20 {
            let mut i1 = vec![0.0f32; n];
            for _ in 0..60 {
                let j = rnd() as usize % n;
                i1[j] += 0.25;
                touched[j / 64] |= 1 << (j % 64);
            }
            let mut i2 = i1.clone();
            let (mut s1, mut s2) = (Vec::new(), Vec::new());
            if_step(&mut q1, &mut i1, 0.75, &mut s1);
            if_step_touched(&mut q2, &mut i2, 0.75, &mut touched, &mut s2);
            assert_eq!(s1, s2);
            assert_eq!(q1, q2);
            assert!(i2.iter().all(|&x| x == 0.0) && touched.iter().all(|&w| w == 0));
        }
    }

    #[test]
    fn spike_indices_cover_ragged_tail() {
        let n = 19;
        let mut v = vec![0.0f32; n];
        let mut i: Vec<f32> = (0..n).map(|k| if k % 3 == 0 { 2.0 } else { 0.1 }).collect();
        let mut s = Vec::new();
        lif_step(&mut v, &mut i, 0.9, 1.0, &mut s);
        assert_eq!(s, (0..n as u32).filter(|k| k % 3 == 0).collect::<Vec<_>>());
        assert!(i.iter().all(|&x| x == 0.0));
    }
}
