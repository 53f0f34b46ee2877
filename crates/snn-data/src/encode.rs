//! The Bernoulli rate encoder of SPEC §3: at every time step each pixel `x` emits a spike of
//! value `sign(x)` with probability `p = scale * |x|` (MNIST: `scale = 0.5`).
//!
//! The random numbers come from ChaCha8 used as a counter-based generator: the key is derived
//! from the seed, the stream number is the sample index, and pixel `i` at step `t` of an image of
//! `n` values reads the 32-bit word at position `t * n + i`. The spike is fired iff that word is
//! below `threshold = round(p * 2^32)` (so `p >= 1` always fires and `p = 0` never does). The
//! spikes of `(seed, sample_index, step)` are therefore a pure function of those three numbers and
//! the pixels: encode in any order, on any thread, skip steps, and the spikes are the same.
//!
//! [`RateEncoder::encode_step`] is the fast path (reads only the words of non-zero pixels);
//! [`RateEncoder::encode_step_reference`] is the naive one-word-per-seek version it is tested
//! against.

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `2^32` as a threshold: a pixel with this threshold fires at every step.
const ALWAYS: u64 = 1 << 32;

/// Words drawn at once: four ChaCha blocks, the generator's own buffer. A chunk starts on the
/// block of an active pixel; active pixels beyond it start another.
const CHUNK: usize = 64;

/// Words per ChaCha block.
const BLOCK_WORDS: u128 = 16;

/// The seeded, counter-based Bernoulli rate encoder of SPEC §3.
#[derive(Clone, Debug)]
pub struct RateEncoder {
    seed: u64,
    scale: f32,
    /// The ChaCha key derived from `seed`, computed once.
    key: [u8; 32],
}

/// One image's per-pixel firing thresholds, made by [`RateEncoder::prepare`] once per sample and
/// reused for all of its steps. Pixels that can never fire are left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedImage {
    /// Number of values in the image (the stride of the random stream per step).
    len: usize,
    /// The pixels that can fire, in increasing index order.
    active: Vec<ActivePixel>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ActivePixel {
    index: u32,
    /// Fires iff the pixel's random word is below this (`1..=2^32`).
    threshold: u64,
    /// The pixel is negative, so its spikes are -1.
    negative: bool,
}

impl PreparedImage {
    /// Number of pixels in the image, firing or not.
    pub fn num_pixels(&self) -> usize {
        self.len
    }

    /// Number of pixels with a non-zero firing probability.
    pub fn num_active(&self) -> usize {
        self.active.len()
    }
}

/// The firing threshold of a pixel: `round(p * 2^32)` with `p = scale * |x|` computed in `f32`,
/// `2^32` when `p >= 1`, and 0 when `p` is zero, negative or NaN.
pub fn firing_threshold(scale: f32, x: f32) -> u64 {
    let p = scale * x.abs();
    if p.is_nan() || p <= 0.0 {
        0
    } else if p >= 1.0 {
        ALWAYS
    } else {
        (f64::from(p) * ALWAYS as f64).round() as u64
    }
}

impl RateEncoder {
    /// An encoder whose spikes are determined by `seed`; `scale` turns a pixel value into a
    /// firing probability (`p = scale * |x|`, clamped to 1; a negative or NaN scale never fires).
    pub fn new(seed: u64, scale: f32) -> Self {
        let key = ChaCha8Rng::seed_from_u64(seed).get_seed();
        RateEncoder { seed, scale, key }
    }

    /// The seed this encoder was made with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The probability scale (`p = scale * |x|`).
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Precomputes per-pixel firing thresholds for one image (call once per sample, reuse for all steps).
    ///
    /// Panics if the image has more than `u32::MAX` pixels.
    pub fn prepare(&self, pixels: &[f32]) -> PreparedImage {
        assert!(
            u32::try_from(pixels.len()).is_ok(),
            "image of {} pixels exceeds u32 indices",
            pixels.len()
        );
        let active = pixels
            .iter()
            .enumerate()
            .filter_map(|(i, &x)| {
                let threshold = firing_threshold(self.scale, x);
                (threshold > 0).then_some(ActivePixel {
                    index: i as u32,
                    threshold,
                    negative: x < 0.0,
                })
            })
            .collect();
        PreparedImage {
            len: pixels.len(),
            active,
        }
    }

    /// Appends to `pos` the indices of pixels firing +1 and to `neg` those firing -1 at `step`, in increasing index order. Clears both first.
    pub fn encode_step(
        &self,
        image: &PreparedImage,
        sample_index: u64,
        step: u32,
        pos: &mut Vec<u32>,
        neg: &mut Vec<u32>,
    ) {
        // Branch-free appends (a spike is a coin flip, which no predictor guesses): every
        // active pixel's index is written at the end of both lists, and a list's length
        // advances only when the pixel fires with that sign.
        let n = image.active.len();
        pos.clear();
        neg.clear();
        pos.resize(n, 0);
        neg.resize(n, 0);
        let (mut np, mut nn) = (0, 0);
        self.for_each_word(image, sample_index, step, |a, word| {
            let fire = u64::from(word) < a.threshold;
            pos[np] = a.index;
            neg[nn] = a.index;
            np += (fire & !a.negative) as usize;
            nn += (fire & a.negative) as usize;
        });
        pos.truncate(np);
        neg.truncate(nn);
    }

    /// Writes the spikes of `step` densely: `out[i]` becomes +1, -1 or 0. `out` must have
    /// `image.num_pixels()` elements (panics otherwise).
    pub fn encode_step_dense(
        &self,
        image: &PreparedImage,
        sample_index: u64,
        step: u32,
        out: &mut [f32],
    ) {
        assert_eq!(out.len(), image.len, "dense spike buffer length");
        out.fill(0.0);
        self.for_each_spike(image, sample_index, step, |index, negative| {
            out[index as usize] = if negative { -1.0 } else { 1.0 };
        });
    }

    /// The naive version of [`encode_step`](Self::encode_step): one fresh generator and one
    /// seek per pixel, straight from the definition. Slow; kept as the reference the fast path
    /// is tested against.
    pub fn encode_step_reference(
        &self,
        pixels: &[f32],
        sample_index: u64,
        step: u32,
        pos: &mut Vec<u32>,
        neg: &mut Vec<u32>,
    ) {
        pos.clear();
        neg.clear();
        for (i, &x) in pixels.iter().enumerate() {
            let mut rng = ChaCha8Rng::from_seed(self.key);
            rng.set_stream(sample_index);
            rng.set_word_pos(u128::from(step) * pixels.len() as u128 + i as u128);
            let word = rng.next_u32();
            if u64::from(word) < firing_threshold(self.scale, x) {
                if x < 0.0 {
                    neg.push(i as u32);
                } else {
                    pos.push(i as u32);
                }
            }
        }
    }

    /// Calls `spike(index, negative)` for every pixel firing at `step`, in increasing index order.
    fn for_each_spike(
        &self,
        image: &PreparedImage,
        sample_index: u64,
        step: u32,
        mut spike: impl FnMut(u32, bool),
    ) {
        self.for_each_word(image, sample_index, step, |a, word| {
            if u64::from(word) < a.threshold {
                spike(a.index, a.negative);
            }
        });
    }

    /// Calls `f(pixel, word)` with the random word of every active pixel at `step`, in
    /// increasing index order.
    fn for_each_word(
        &self,
        image: &PreparedImage,
        sample_index: u64,
        step: u32,
        mut f: impl FnMut(&ActivePixel, u32),
    ) {
        let Some(first) = image.active.first() else {
            return;
        };
        let base = u128::from(step) * image.len as u128;
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(sample_index);
        // Words come in chunks of `CHUNK` that start on a ChaCha block, so each fill is exactly
        // one refill of the generator's 4-block buffer; a chunk that starts where the generator
        // already is continues the stream, any other one seeks to its block.
        let mut words = [0u8; 4 * CHUNK];
        let block_of = |index: u32| (base + u128::from(index)) & !(BLOCK_WORDS - 1);
        let mut start = block_of(first.index);
        rng.set_word_pos(start);
        rng.fill_bytes(&mut words);
        for a in &image.active {
            let pos = base + u128::from(a.index);
            if pos >= start + CHUNK as u128 {
                let next = block_of(a.index);
                if next != start + CHUNK as u128 {
                    rng.set_word_pos(next);
                }
                rng.fill_bytes(&mut words);
                start = next;
            }
            let at = 4 * (pos - start) as usize;
            let word = u32::from_le_bytes([words[at], words[at + 1], words[at + 2], words[at + 3]]);
            f(a, word);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spikes(
        enc: &RateEncoder,
        img: &PreparedImage,
        sample: u64,
        step: u32,
    ) -> (Vec<u32>, Vec<u32>) {
        let (mut p, mut n) = (Vec::new(), Vec::new());
        enc.encode_step(img, sample, step, &mut p, &mut n);
        (p, n)
    }

    /// A deterministic image with zeros, runs of zeros longer than the seek gap, negatives and
    /// values whose probability saturates.
    fn test_image(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| match i % 7 {
                0 | 1 => 0.0,
                2 => (i % 255) as f32 / 255.0,
                3 => -((i % 100) as f32) / 100.0,
                4 => 2.5,
                5 if (100..300).contains(&i) => 0.0,
                _ => 0.6,
            })
            .enumerate()
            .map(|(i, x)| if (400..520).contains(&i) { 0.0 } else { x })
            .collect()
    }

    #[test]
    fn fast_encoder_agrees_with_the_naive_reference() {
        for &(seed, scale, len) in &[(1u64, 0.5f32, 784usize), (99, 1.0, 3072), (7, 0.25, 13)] {
            let enc = RateEncoder::new(seed, scale);
            let pixels = test_image(len);
            let img = enc.prepare(&pixels);
            for sample in [0u64, 1, 12345, u64::MAX] {
                for step in [0u32, 1, 2, 99, 1000] {
                    let fast = spikes(&enc, &img, sample, step);
                    let (mut p, mut n) = (Vec::new(), Vec::new());
                    enc.encode_step_reference(&pixels, sample, step, &mut p, &mut n);
                    assert_eq!(
                        fast,
                        (p, n),
                        "seed {seed} len {len} sample {sample} step {step}"
                    );
                }
            }
        }
    }

    #[test]
    fn dense_encoding_matches_sparse_lists() {
        let enc = RateEncoder::new(3, 0.5);
        let pixels = test_image(784);
        let img = enc.prepare(&pixels);
        let mut dense = vec![9.0; 784];
        for step in 0..20 {
            let (p, n) = spikes(&enc, &img, 5, step);
            enc.encode_step_dense(&img, 5, step, &mut dense);
            for (i, &v) in dense.iter().enumerate() {
                let want = if p.contains(&(i as u32)) {
                    1.0
                } else if n.contains(&(i as u32)) {
                    -1.0
                } else {
                    0.0
                };
                assert_eq!(v, want, "pixel {i} step {step}");
            }
        }
    }

    #[test]
    fn threshold_is_rounded_probability_times_two_to_the_32() {
        assert_eq!(firing_threshold(0.5, 0.0), 0);
        assert_eq!(firing_threshold(0.5, 1.0), 1 << 31);
        assert_eq!(firing_threshold(1.0, 1.0), 1 << 32);
        assert_eq!(firing_threshold(0.5, 3.0), 1 << 32);
        assert_eq!(firing_threshold(0.5, -0.5), 1 << 30);
        assert_eq!(firing_threshold(0.5, f32::NAN), 0);
        assert_eq!(firing_threshold(-0.5, 1.0), 0);
    }
}
