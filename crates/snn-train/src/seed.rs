//! Seeded random streams. Every random choice of a run (initial weights, shuffling, dropout
//! masks, input spikes) comes from a ChaCha stream keyed by the run seed and a few counters
//! (layer, epoch, sample), so the same seed reproduces a run whatever the thread count or the
//! point where it was interrupted.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// SplitMix64 finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit key derived from the seed and a list of counters.
pub fn derive(seed: u64, counters: &[u64]) -> u64 {
    counters.iter().fold(mix(seed), |acc, &c| mix(acc ^ mix(c)))
}

/// A ChaCha8 stream for (seed, counters).
pub fn stream_rng(seed: u64, counters: &[u64]) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive(seed, counters))
}
