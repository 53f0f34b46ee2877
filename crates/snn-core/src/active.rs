//! Which neurons integrated input in a time step ("active" neuron updates: current ≠ 0
//! exactly, as a neuromorphic core charges them), recorded as bitmaps beside the step's
//! kernels without changing their arithmetic ([`crate::step::NetState::record_active`]).
//! Bit `j % 64` of word `j / 64` stands for neuron `j` of a layer.

use crate::shape::Shape3;
use crate::simd;

/// Words of a bitmap over `n` neurons.
pub fn words(n: usize) -> usize {
    n.div_ceil(64)
}

/// Sets `bits` to the neurons whose `current` is non-zero (every word is overwritten).
pub fn mark_nonzero(current: &[f32], bits: &mut [u64]) {
    simd::nonzero_bits(current, bits);
}

/// Sets `bits` to the neurons of `candidates` (a bitmap) whose `current` is non-zero: for a
/// step that touched only the candidates, so every other current is zero.
pub fn mark_nonzero_in(current: &[f32], candidates: &[u64], bits: &mut [u64]) {
    for (w, (out, &cand)) in bits.iter_mut().zip(candidates).enumerate() {
        let mut m = cand;
        let mut word = 0u64;
        while m != 0 {
            let b = m.trailing_zeros() as usize;
            m &= m - 1;
            word |= u64::from(current[w * 64 + b] != 0.0) << b;
        }
        *out = word;
    }
}

/// Sets `bits` to the 2×2 average-pooling neurons that the spikes of a layer of shape `input`
/// reach: the active pooling neurons when those spikes carry a positive value (each adds
/// `value/4 > 0`, so no sum cancels to zero).
pub fn mark_pool_targets(input: Shape3, output: Shape3, spikes: &[u32], bits: &mut [u64]) {
    bits.fill(0);
    let (c, dc, dw) = (
        input.channels,
        simd::FastDiv::new(input.channels),
        simd::FastDiv::new(input.width),
    );
    // The spikes ascend channel-last: one division per pixel, then `o = offset + spike`.
    let (mut pixel_end, mut offset) = (0usize, None::<isize>);
    // The word being filled stays in a register until the targets move to another word.
    let (mut word, mut acc) = (usize::MAX, 0u64);
    for &s in spikes {
        let s = s as usize;
        if s >= pixel_end {
            let p = dc.div_rem(s as u32).0;
            let (y, x) = dw.div_rem(p);
            let (y, x) = (y as usize / 2, x as usize / 2);
            pixel_end = (p as usize + 1) * c;
            offset = (y < output.height && x < output.width)
                .then(|| output.index(y, x, 0) as isize - (p as usize * c) as isize);
        }
        if let Some(off) = offset {
            let o = (s as isize + off) as usize;
            if o / 64 != word {
                if word != usize::MAX {
                    bits[word] |= acc;
                }
                (word, acc) = (o / 64, 0);
            }
            acc |= 1 << (o % 64);
        }
    }
    if word != usize::MAX {
        bits[word] |= acc;
    }
}

/// Number of set bits of `bits` in `[lo, hi)`.
pub fn count_range(bits: &[u64], lo: usize, hi: usize) -> u64 {
    if lo >= hi {
        return 0;
    }
    let (wl, wh) = (lo / 64, (hi - 1) / 64);
    let mask_lo = !0u64 << (lo % 64);
    let mask_hi = !0u64 >> (63 - (hi - 1) % 64);
    if wl == wh {
        return u64::from((bits[wl] & mask_lo & mask_hi).count_ones());
    }
    let mut n = (bits[wl] & mask_lo).count_ones() + (bits[wh] & mask_hi).count_ones();
    for &w in &bits[wl + 1..wh] {
        n += w.count_ones();
    }
    u64::from(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmaps_follow_nonzero_currents_and_ranges_count_them() {
        let current: Vec<f32> = (0..150)
            .map(|i| {
                if i % 3 == 0 || i == 149 {
                    0.5
                } else if i == 7 {
                    -0.0
                } else {
                    0.0
                }
            })
            .collect();
        let mut bits = vec![!0u64; words(150)];
        mark_nonzero(&current, &mut bits);
        let expect =
            |lo: usize, hi: usize| current[lo..hi].iter().filter(|&&x| x != 0.0).count() as u64;
        for (lo, hi) in [
            (0, 150),
            (0, 1),
            (1, 64),
            (63, 65),
            (64, 128),
            (5, 149),
            (149, 150),
            (7, 7),
        ] {
            assert_eq!(count_range(&bits, lo, hi), expect(lo, hi), "{lo}..{hi}");
        }
        // Candidates restrict the scan; a candidate with zero current stays unset.
        let mut cand = vec![0u64; words(150)];
        for j in [0usize, 1, 3, 64, 149] {
            cand[j / 64] |= 1 << (j % 64);
        }
        let mut sub = vec![!0u64; words(150)];
        mark_nonzero_in(&current, &cand, &mut sub);
        let set: Vec<usize> = (0..150)
            .filter(|&j| sub[j / 64] >> (j % 64) & 1 == 1)
            .collect();
        assert_eq!(set, vec![0, 3, 149]);
    }

    #[test]
    fn pool_targets_equal_the_pooling_scatters_targets() {
        let input = Shape3 { height: 7, width: 9, channels: 5 };
        let output = Shape3 { height: 3, width: 4, channels: 5 };
        let mut seed = 3u64;
        let spikes: Vec<u32> = (0..input.len() as u32)
            .filter(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                seed >> 61 == 0
            })
            .collect();
        assert!(spikes.len() > 20);
        let mut want = vec![0u64; words(output.len())];
        crate::synapse::for_each_pool_target(input, output, &spikes, |o| {
            want[o / 64] |= 1 << (o % 64)
        });
        let mut got = vec![!0u64; words(output.len())];
        mark_pool_targets(input, output, &spikes, &mut got);
        assert_eq!(got, want);
    }

    #[test]
    fn pool_targets_drop_the_odd_last_row_and_column() {
        let input = Shape3 {
            height: 5,
            width: 5,
            channels: 2,
        };
        let output = Shape3 {
            height: 2,
            width: 2,
            channels: 2,
        };
        // (y, x, c) = (0, 1, 1) → (0, 0, 1); (3, 2, 0) → (1, 1, 0); (4, 0, 0) → dropped row.
        let spikes = [
            input.index(0, 1, 1) as u32,
            input.index(3, 2, 0) as u32,
            input.index(4, 0, 0) as u32,
        ];
        let mut bits = vec![!0u64; 1];
        mark_pool_targets(input, output, &spikes, &mut bits);
        assert_eq!(
            bits[0],
            (1 << output.index(0, 0, 1)) | (1 << output.index(1, 1, 0))
        );
    }
}
