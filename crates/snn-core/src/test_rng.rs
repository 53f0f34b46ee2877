//! Deterministic pseudo-random numbers for this crate's unit tests (a 64-bit LCG).

/// Next value in [−0.5, 0.5) from the LCG state `seed`.
pub(crate) fn lcg(seed: &mut u64) -> f32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}
