//! Which neurons integrated input in a time step ("active" neuron updates: current ≠ 0
//! exactly, as a neuromorphic core charges them), recorded as bitmaps beside the step's
//! kernels without changing their arithmetic ([`crate::runtime::NetState::record_active`]).
//! Bit `j % 64` of word `j / 64` stands for neuron `j` of a layer.

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
}
