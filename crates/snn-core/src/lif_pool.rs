//! The LIF update of a layer fused with the 2×2 average-pooling IF layer that reads it, for
//! layers such as LeNet's first convolution (20 channels, 28×28) whose current has already been
//! scattered.
//!
//! The plain path runs the LIF over the layer, then the pooling layer scatters every emitted
//! spike into its current one by one (two divisions, a read-modify-write and a flag each) and
//! updates the touched pooling neurons. Here the LIF walks the layer one output row at a time
//! and records, per neuron, `0.25` if it fired and `+0.0` if not, summed over a pair of rows in
//! a buffer of two rows; after the second row of a pair the pooling row's current is two vector
//! adds per eight channels. The IF update then runs over the whole pooling layer in one pass
//! (one call instead of one per pooling row: +1.1 % on LeNet's evaluation).
//!
//! Bit-identity with [`crate::neuron::lif_step`] + pooling scatter + [`crate::neuron::if_step`]:
//! the LIF is the same kernel; a pooling neuron's current is `0.25·(its inputs that fired)`,
//! an exact float whatever the order of the additions, and so equal to the scatter's sum of
//! `0.25·1` per spike (the layer's spikes carry the value 1); the IF update is the same `P + I`,
//! fire iff `> θ`, reset to 0, over every pooling neuron.

use crate::aligned::AlignedVec;
use crate::neuron::{self, Hits};
use crate::shape::Shape3;
use crate::simd;

/// The 2×2 average-pooling IF layer that reads the LIF layer, stepped by the same pass.
#[derive(Debug)]
pub struct PoolStep<'a> {
    /// Its output shape: the LIF layer's halved, an odd last row or column dropped.
    pub output: Shape3,
    /// Its state `P`.
    pub state: &'a mut [f32],
    /// Its threshold.
    pub threshold: f32,
    /// Where its spikes are appended (ascending).
    pub spikes: &'a mut Vec<u32>,
    /// When given, set to the bitmap of its neurons whose current is non-zero
    /// ([`crate::active`]); the arithmetic is the same either way.
    pub active: Option<&'a mut [u64]>,
}

/// Scratch space reused between steps.
#[derive(Clone, Debug, Default)]
pub struct PoolScratch {
    /// One row pair's hits: 0.25 per neuron that fired, summed over the pair (+8 padding).
    hits: AlignedVec,
    /// The pooling layer's current (+8 padding).
    current: AlignedVec,
}

/// One step of a LIF layer of shape `shape` (channel-last) whose current is `current`, and of
/// the pooling layer `pool` on its spikes (which must carry the value 1): updates `v`, zeroes
/// `current`, appends the firing LIF neurons (ascending) to `out` and steps the pooling layer.
#[allow(clippy::too_many_arguments)]
pub fn lif_pool_step(
    shape: Shape3,
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    out: &mut Vec<u32>,
    pool: PoolStep<'_>,
    scratch: &mut PoolScratch,
) {
    let (h, w, c) = (shape.height, shape.width, shape.channels);
    let o = pool.output;
    assert!(
        o.channels == c && o.height == h / 2 && o.width == w / 2,
        "pooling shape"
    );
    assert_eq!(v.len(), shape.len(), "membrane length");
    assert_eq!(current.len(), shape.len(), "current length");
    assert_eq!(pool.state.len(), o.len(), "pooling state length");
    let row = w * c;
    let pool_row = o.width * c;
    scratch.hits.resize_zeroed(row + 8);
    scratch.current.resize_zeroed(o.len() + 8);
    for y in 0..h {
        let record = match y < 2 * o.height {
            false => Hits::None,
            true if y % 2 == 0 => Hits::Store(&mut scratch.hits, 0.25),
            true => Hits::Add(&mut scratch.hits, 0.25),
        };
        let span = y * row..(y + 1) * row;
        neuron::lif_run(
            &mut v[span.clone()],
            &mut current[span],
            leak,
            threshold,
            y * row,
            out,
            record,
        );
        if y % 2 == 1 && y / 2 < o.height {
            let py = y / 2;
            // A block past the row's end spills into the next row's first neuron, which that
            // row's own pass then writes (the last row's into the padding).
            pool_current(
                &scratch.hits,
                &mut scratch.current[py * pool_row..],
                o.width,
                c,
            );
        }
    }
    if let Some(bits) = pool.active {
        simd::nonzero_bits(&scratch.current[..o.len()], bits);
    }
    // The pooling layer's IF update, over all its rows in one pass.
    neuron::lif_run(
        pool.state,
        &mut scratch.current[..o.len()],
        1.0,
        pool.threshold,
        0,
        pool.spikes,
        Hits::None,
    );
}

/// One pooling row's current from a row pair's hits:
/// `pool[px·c + ch] = hits[2px·c + ch] + hits[(2px+1)·c + ch]`.
fn pool_current(hits: &[f32], pool: &mut [f32], width: usize, c: usize) {
    assert!(hits.len() >= 2 * width * c + 8 && pool.len() >= width * c + 8);
    #[cfg(target_arch = "x86_64")]
    if simd::has_avx2() {
        // SAFETY: AVX2 present; lengths checked above (see `pool_current_avx2`).
        unsafe { pool_current_avx2(hits, pool, width, c) };
        return;
    }
    for px in 0..width {
        let (even, odd, dst) = (2 * px * c, (2 * px + 1) * c, px * c);
        for ch in 0..c {
            pool[dst + ch] = hits[even + ch] + hits[odd + ch];
        }
    }
}

/// [`pool_current`] eight channels at a time: a block past `c` reads into the next pixel (or the
/// 8 floats of padding) and spills into the next pooling neuron's slots, which that neuron's
/// own block then overwrites (or into the padding).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn pool_current_avx2(hits: &[f32], pool: &mut [f32], width: usize, c: usize) {
    use std::arch::x86_64::*;
    let (hp, pp) = (hits.as_ptr(), pool.as_mut_ptr());
    for px in 0..width {
        let (even, odd, dst) = (2 * px * c, (2 * px + 1) * c, px * c);
        let mut cb = 0;
        while cb < c {
            let a = _mm256_loadu_ps(hp.add(even + cb));
            let b = _mm256_loadu_ps(hp.add(odd + cb));
            _mm256_storeu_ps(pp.add(dst + cb), _mm256_add_ps(a, b));
            cb += 8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synapse;
    use crate::test_rng::lcg;

    /// LIF + pooling scatter + IF vs the fused step, bit for bit, over many steps.
    fn check(shape: Shape3) {
        let pooled = Shape3::new(shape.channels, shape.height / 2, shape.width / 2);
        let n = shape.len();
        let mut seed = 29;
        let init: Vec<f32> = (0..n).map(|_| 0.5 * lcg(&mut seed)).collect();
        let (mut v_ref, mut v_fused) = (init.clone(), init);
        let (mut q_ref, mut q_fused) = (vec![0.0f32; pooled.len()], vec![0.0f32; pooled.len()]);
        let mut pool_current = vec![0.0f32; pooled.len()];
        let mut scratch = PoolScratch::default();
        let (mut fired, mut pooled_fired) = (0, 0);
        for step in 0..16 {
            // Zero blocks (skipped by the vector LIF), silent steps and busy ones.
            let level = [0.9f32, 0.0, 0.5, 0.7][step % 4];
            let current: Vec<f32> = (0..n)
                .map(|j| {
                    if (j / 8) % 5 == 1 {
                        0.0
                    } else {
                        level * (lcg(&mut seed) + 0.5)
                    }
                })
                .collect();
            let (mut c_ref, mut c_fused) = (current.clone(), current);
            let (mut s_ref, mut p_ref) = (Vec::new(), Vec::new());
            neuron::lif_step(&mut v_ref, &mut c_ref, 0.9, 0.4, &mut s_ref);
            synapse::avgpool_scatter(shape, pooled, &s_ref, 1.0, &mut pool_current);
            neuron::if_step(&mut q_ref, &mut pool_current, 0.6, &mut p_ref);
            let (mut s_fused, mut p_fused) = (vec![3u32], vec![5u32]);
            lif_pool_step(
                shape,
                &mut v_fused,
                &mut c_fused,
                0.9,
                0.4,
                &mut s_fused,
                PoolStep {
                    output: pooled,
                    state: &mut q_fused,
                    threshold: 0.6,
                    spikes: &mut p_fused,
                    active: None,
                },
                &mut scratch,
            );
            assert_eq!((s_fused[0], p_fused[0]), (3, 5), "existing spikes kept");
            assert_eq!(&s_fused[1..], &s_ref[..], "step {step}");
            assert_eq!(&p_fused[1..], &p_ref[..], "step {step} pooling");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&v_fused), bits(&v_ref), "step {step}");
            assert_eq!(bits(&q_fused), bits(&q_ref), "step {step} pooling");
            assert!(c_fused.iter().all(|&x| x == 0.0), "current cleared");
            fired += s_ref.len();
            pooled_fired += p_ref.len();
        }
        assert!(fired > 0 && pooled_fired > 0, "{fired} {pooled_fired}");
    }

    #[test]
    fn fused_step_matches_lif_pooling_scatter_and_if() {
        // LeNet's first layer, odd sizes (dropped last row and column), narrow channels.
        check(Shape3::new(20, 28, 28));
        check(Shape3::new(13, 9, 11));
        check(Shape3::new(8, 6, 6));
        check(Shape3::new(3, 7, 5));
        check(Shape3::new(50, 4, 4));
    }
}
