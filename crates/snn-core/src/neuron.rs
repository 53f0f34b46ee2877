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

/// One vector width of the LIF kernel: the few operations in which AVX2 and AVX-512 differ.
/// [`lif_lanes`] is the one body over them, so both kernels do the same add, compare and
/// multiply per neuron and are bit-identical to [`lif_scalar`].
///
/// # Safety
/// Every method is an intrinsic of its instruction set: call them only from a function
/// compiled with that set enabled (the `#[target_feature]` wrappers [`lif_avx2`] and
/// [`lif_avx512`]), into which they are inlined.
#[cfg(target_arch = "x86_64")]
trait LifLanes {
    /// Neurons per register.
    const W: usize;
    /// A register of W floats.
    type F: Copy;
    /// Which of W lanes fired.
    type M: Copy;
    /// A register of W neuron indices.
    type I: Copy;
    unsafe fn splat(x: f32) -> Self::F;
    unsafe fn load(p: *const f32) -> Self::F;
    unsafe fn store(p: *mut f32, x: Self::F);
    unsafe fn add(a: Self::F, b: Self::F) -> Self::F;
    /// Whether `a | b` is all zero bits (membrane and current both +0.0 in every lane).
    unsafe fn both_zero(a: Self::F, b: Self::F) -> bool;
    /// `u > threshold` per lane (ordered, quiet).
    unsafe fn above(u: Self::F, threshold: Self::F) -> Self::M;
    /// `leak · u` where the lane did not fire, +0.0 where it did.
    unsafe fn leak_unless(fire: Self::M, leak: Self::F, u: Self::F) -> Self::F;
    /// `q` where the lane fired, +0.0 elsewhere.
    unsafe fn where_fired(fire: Self::M, q: Self::F) -> Self::F;
    /// Indices `base .. base + W`.
    unsafe fn first_indices(base: i32) -> Self::I;
    /// The indices W further on.
    unsafe fn next_indices(idx: Self::I) -> Self::I;
    /// Stores the indices of the lanes that fired, packed and ascending, at `out` (which has
    /// room for W), and returns how many fired.
    unsafe fn push_fired(fire: Self::M, idx: Self::I, out: *mut u32) -> usize;
}

/// Eight neurons per AVX2 register; the firing indices are compressed by a table-driven
/// permute and stored branch-free.
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl LifLanes for Avx2 {
    const W: usize = 8;
    type F = std::arch::x86_64::__m256;
    type M = std::arch::x86_64::__m256;
    type I = std::arch::x86_64::__m256i;
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self::F {
        std::arch::x86_64::_mm256_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::F {
        std::arch::x86_64::_mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, x: Self::F) {
        std::arch::x86_64::_mm256_storeu_ps(p, x)
    }
    #[inline(always)]
    unsafe fn add(a: Self::F, b: Self::F) -> Self::F {
        std::arch::x86_64::_mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn both_zero(a: Self::F, b: Self::F) -> bool {
        use std::arch::x86_64::*;
        let bits = _mm256_castps_si256(_mm256_or_ps(a, b));
        _mm256_testz_si256(bits, bits) == 1
    }
    #[inline(always)]
    unsafe fn above(u: Self::F, threshold: Self::F) -> Self::M {
        use std::arch::x86_64::*;
        _mm256_cmp_ps::<_CMP_GT_OQ>(u, threshold)
    }
    #[inline(always)]
    unsafe fn leak_unless(fire: Self::M, leak: Self::F, u: Self::F) -> Self::F {
        use std::arch::x86_64::*;
        _mm256_andnot_ps(fire, _mm256_mul_ps(leak, u))
    }
    #[inline(always)]
    unsafe fn where_fired(fire: Self::M, q: Self::F) -> Self::F {
        std::arch::x86_64::_mm256_and_ps(fire, q)
    }
    #[inline(always)]
    unsafe fn first_indices(base: i32) -> Self::I {
        use std::arch::x86_64::*;
        _mm256_add_epi32(
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            _mm256_set1_epi32(base),
        )
    }
    #[inline(always)]
    unsafe fn next_indices(idx: Self::I) -> Self::I {
        use std::arch::x86_64::*;
        _mm256_add_epi32(idx, _mm256_set1_epi32(8))
    }
    #[inline(always)]
    unsafe fn push_fired(fire: Self::M, idx: Self::I, out: *mut u32) -> usize {
        use std::arch::x86_64::*;
        let mask = _mm256_movemask_ps(fire) as usize;
        let perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(COMPRESS[mask] as i64));
        _mm256_storeu_si256(out as *mut __m256i, _mm256_permutevar8x32_epi32(idx, perm));
        mask.count_ones() as usize
    }
}

/// Sixteen neurons per AVX-512 register: the comparison gives a mask register, the reset is a
/// zero-masked multiply, the hits a zero-masked move, and the firing indices are compressed in
/// a register (its memory form is slow on AMD).
#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl LifLanes for Avx512 {
    const W: usize = 16;
    type F = std::arch::x86_64::__m512;
    type M = std::arch::x86_64::__mmask16;
    type I = std::arch::x86_64::__m512i;
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self::F {
        std::arch::x86_64::_mm512_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::F {
        std::arch::x86_64::_mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, x: Self::F) {
        std::arch::x86_64::_mm512_storeu_ps(p, x)
    }
    #[inline(always)]
    unsafe fn add(a: Self::F, b: Self::F) -> Self::F {
        std::arch::x86_64::_mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn both_zero(a: Self::F, b: Self::F) -> bool {
        use std::arch::x86_64::*;
        let bits = _mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b));
        _mm512_test_epi32_mask(bits, bits) == 0
    }
    #[inline(always)]
    unsafe fn above(u: Self::F, threshold: Self::F) -> Self::M {
        use std::arch::x86_64::*;
        _mm512_cmp_ps_mask::<_CMP_GT_OQ>(u, threshold)
    }
    #[inline(always)]
    unsafe fn leak_unless(fire: Self::M, leak: Self::F, u: Self::F) -> Self::F {
        std::arch::x86_64::_mm512_maskz_mul_ps(!fire, leak, u)
    }
    #[inline(always)]
    unsafe fn where_fired(fire: Self::M, q: Self::F) -> Self::F {
        std::arch::x86_64::_mm512_maskz_mov_ps(fire, q)
    }
    #[inline(always)]
    unsafe fn first_indices(base: i32) -> Self::I {
        use std::arch::x86_64::*;
        _mm512_add_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32(base),
        )
    }
    #[inline(always)]
    unsafe fn next_indices(idx: Self::I) -> Self::I {
        use std::arch::x86_64::*;
        _mm512_add_epi32(idx, _mm512_set1_epi32(16))
    }
    #[inline(always)]
    unsafe fn push_fired(fire: Self::M, idx: Self::I, out: *mut u32) -> usize {
        use std::arch::x86_64::*;
        // The packed indices go out 8 at a time, the upper 8 only when more than 8 fired
        // (rare): the list's end sits anywhere, so a 64-byte store nearly always straddles two
        // cache lines and a 32-byte one less than half the time (measured +3.1 % on LeNet's
        // evaluation against one 64-byte store; 16 bytes plus a branch was 5 % slower).
        let packed = _mm512_maskz_compress_epi32(fire, idx);
        let count = fire.count_ones() as usize;
        _mm256_storeu_si256(out as *mut __m256i, _mm512_castsi512_si256(packed));
        if count > 8 {
            _mm256_storeu_si256(
                out.add(8) as *mut __m256i,
                _mm512_extracti64x4_epi64::<1>(packed),
            );
        }
        count
    }
}

/// The vector LIF update of a multiple-of-`L::W` prefix of the layer slice, bit-identical to
/// [`lif_scalar`]. `HITS` is 0 (no record), 1 ([`Hits::Store`] into `hits`) or 2
/// ([`Hits::Add`]), with `q` the recorded value.
///
/// # Safety
/// The CPU must run `L`'s instruction set and the caller must be compiled with it; `hits`
/// (when recording) must be valid for `v.len()` floats.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn lif_lanes<L: LifLanes, const HITS: u8>(
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    base: usize,
    spikes: &mut Vec<u32>,
    hits: *mut f32,
    q: f32,
) {
    let n = v.len().min(current.len());
    spikes.reserve(n + L::W);
    let out = spikes.as_mut_ptr();
    let mut len = spikes.len();
    let (th, lk, zero, qv) = (
        L::splat(threshold),
        L::splat(leak),
        L::splat(0.0),
        L::splat(q),
    );
    let mut idx = L::first_indices(base as i32);
    let (vp, ip) = (v.as_mut_ptr(), current.as_mut_ptr());
    // A block whose membranes and currents are all +0.0 stays +0.0 (λ·(0+0) = +0) and cannot
    // fire when threshold ≥ 0: skip its stores (silent regions, e.g. image background).
    let skip_zero = threshold >= 0.0;
    let mut c = 0;
    while c + L::W <= n {
        let (vv, ii) = (L::load(vp.add(c)), L::load(ip.add(c)));
        if skip_zero && L::both_zero(vv, ii) {
            if HITS == 1 {
                L::store(hits.add(c), zero);
            }
            idx = L::next_indices(idx);
            c += L::W;
            continue;
        }
        let u = L::add(vv, ii);
        let fire = L::above(u, th);
        L::store(vp.add(c), L::leak_unless(fire, lk, u));
        L::store(ip.add(c), zero);
        if HITS != 0 {
            let h = L::where_fired(fire, qv);
            let h = if HITS == 2 {
                L::add(L::load(hits.add(c)), h)
            } else {
                h
            };
            L::store(hits.add(c), h);
        }
        // SAFETY: capacity ≥ len + W since at most one spike per neuron precedes this store.
        len += L::push_fired(fire, idx, out.add(len));
        idx = L::next_indices(idx);
        c += L::W;
    }
    spikes.set_len(len);
}

/// [`lif_lanes`] over AVX-512F, sixteen neurons at a time.
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
    lif_lanes::<Avx512, HITS>(v, current, leak, threshold, base, spikes, hits, q)
}

/// [`lif_lanes`] over AVX2, eight neurons at a time.
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
    lif_lanes::<Avx2, HITS>(v, current, leak, threshold, base, spikes, hits, q)
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
