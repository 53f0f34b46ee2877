//! Training-time augmentation: the authors' CIFAR-10 transform (paper-method.md §2.2), a random
//! crop of the image padded by 4 pixels on every side, then a horizontal flip with probability ½.
//! The padding is black *before* normalisation, as torchvision pads the PIL image, so padded
//! pixels carry the normalised value of 0 (negative, hence spiking). Every choice comes from a
//! ChaCha8 stream seeded by one key, which the trainer derives from (seed, epoch, sample), so a
//! run is reproducible on any thread count and after a resume.

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random crop with zero padding and an optional horizontal flip, for HWC images.
#[derive(Clone, Debug, PartialEq)]
pub struct Augment {
    /// Pixels of padding on each side (the crop offset is uniform in `−padding..=padding`).
    pub padding: usize,
    /// Flip horizontally with probability ½.
    pub flip: bool,
    /// Value of a padded pixel, per channel.
    pub fill: Vec<f32>,
}

/// The choices made for one image: crop offsets and flip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// Row offset: output row `y` reads input row `y + dy`.
    pub dy: isize,
    /// Column offset, applied before the flip.
    pub dx: isize,
    /// Whether the crop is mirrored left to right.
    pub flipped: bool,
}

impl Augment {
    /// The authors' CIFAR-10 training transform: padding 4, flip, black padding.
    pub fn cifar10() -> Self {
        Augment {
            padding: 4,
            flip: true,
            fill: (0..3).map(|c| crate::cifar::normalize(0, c)).collect(),
        }
    }

    /// The choices for `key`.
    pub fn choose(&self, key: u64) -> Choice {
        let mut rng = ChaCha8Rng::seed_from_u64(key);
        let span = 2 * self.padding as u64 + 1;
        // Multiply-shift maps a uniform u32 onto 0..span (bias below 2⁻²⁸ for these spans).
        let mut offset =
            || ((u64::from(rng.next_u32()) * span) >> 32) as isize - self.padding as isize;
        let (dy, dx) = (offset(), offset());
        let flipped = self.flip && rng.next_u32() & 1 == 1;
        Choice { dy, dx, flipped }
    }

    /// Writes the augmented `src` (HWC, `rows × cols × fill.len()`) into `dst` for `key`.
    pub fn apply(&self, rows: usize, cols: usize, key: u64, src: &[f32], dst: &mut Vec<f32>) {
        let ch = self.fill.len();
        assert_eq!(src.len(), rows * cols * ch, "image size");
        let Choice { dy, dx, flipped } = self.choose(key);
        dst.clear();
        for y in 0..rows {
            for x in 0..cols {
                let xc = if flipped { cols - 1 - x } else { x };
                let (sy, sx) = (y as isize + dy, xc as isize + dx);
                if (0..rows as isize).contains(&sy) && (0..cols as isize).contains(&sx) {
                    let p = (sy as usize * cols + sx as usize) * ch;
                    dst.extend_from_slice(&src[p..p + ch]);
                } else {
                    dst.extend_from_slice(&self.fill);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_and_flips_move_pixels_where_torchvision_would() {
        let aug = Augment {
            padding: 1,
            flip: true,
            fill: vec![-9.0],
        };
        // 3×3 grey image with pixel value 10·y + x.
        let src: Vec<f32> = (0..9).map(|i| (10 * (i / 3) + i % 3) as f32).collect();
        let mut seen = std::collections::HashSet::new();
        let mut dst = Vec::new();
        for key in 0..400 {
            let c = aug.choose(key);
            assert!(c.dy.abs() <= 1 && c.dx.abs() <= 1);
            seen.insert((c.dy, c.dx, c.flipped));
            aug.apply(3, 3, key, &src, &mut dst);
            for y in 0..3isize {
                for x in 0..3isize {
                    let xc = if c.flipped { 2 - x } else { x };
                    let (sy, sx) = (y + c.dy, xc + c.dx);
                    let want = if (0..3).contains(&sy) && (0..3).contains(&sx) {
                        (10 * sy + sx) as f32
                    } else {
                        -9.0
                    };
                    assert_eq!(dst[(y * 3 + x) as usize], want, "key {key} {c:?}");
                }
            }
        }
        assert_eq!(
            seen.len(),
            18,
            "every offset pair with and without flip occurs"
        );
        assert_eq!(aug.choose(7), aug.choose(7));
    }

    #[test]
    fn channels_move_together_and_padding_is_black_before_normalisation() {
        let aug = Augment::cifar10();
        assert_eq!(aug.fill[0], crate::cifar::normalize(0, 0));
        let src: Vec<f32> = (0..32 * 32 * 3).map(|i| i as f32).collect();
        let mut dst = Vec::new();
        let key = (0..).find(|&k| aug.choose(k).dx == 4).unwrap();
        let c = aug.choose(key);
        aug.apply(32, 32, key, &src, &mut dst);
        // With dx = 4 the four columns on the side the crop ran past are padding.
        let padded_col = if c.flipped { 0 } else { 31 };
        let p = (16 * 32 + padded_col) * 3;
        assert_eq!(&dst[p..p + 3], &aug.fill[..]);
        let inner = (16 * 32 + 10) * 3;
        assert_eq!(dst[inner + 1], dst[inner] + 1.0);
        assert_eq!(dst[inner + 2], dst[inner] + 2.0);
    }
}
