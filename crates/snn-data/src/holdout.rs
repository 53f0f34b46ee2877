//! The validation hold-out: a fixed, class-stratified choice of training images kept out of
//! training so that a run can pick its best epoch without looking at the test set.
//!
//! The choice depends only on the labels and the requested size, never on a run's seed, so runs
//! with different seeds, gradient modes or time steps are selected on the same images.

use crate::dataset::Dataset;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Seed of the hold-out shuffle (fixed: the split is a property of the data set, not of a run).
const HOLDOUT_SEED: u64 = 0x005E_ED0F_7A11_DA7E;

/// Indices (ascending) of `n` images held out of `labels`, stratified by class: each class `c`
/// with `k_c` images gives `n·k_c/len` of them, rounded by largest remainder (ties to the lower
/// class) so that exactly `n` are chosen; within a class the images are a seeded shuffle's first.
/// Panics if `n > labels.len()`.
pub fn stratified_holdout(labels: &[u8], n: usize) -> Vec<usize> {
    assert!(n <= labels.len(), "hold-out larger than the data set");
    if n == 0 {
        return Vec::new();
    }
    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        members[l as usize].push(i);
    }
    let total = labels.len();
    // Floor shares, then one more for the classes with the largest remainders.
    let mut take: Vec<usize> = members.iter().map(|m| n * m.len() / total).collect();
    let mut by_remainder: Vec<usize> = (0..classes).collect();
    by_remainder.sort_by_key(|&c| std::cmp::Reverse((n * members[c].len()) % total));
    let short = n - take.iter().sum::<usize>();
    for &c in by_remainder.iter().take(short) {
        take[c] += 1;
    }
    let mut chosen = Vec::with_capacity(n);
    for (c, m) in members.iter_mut().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(HOLDOUT_SEED ^ c as u64);
        m.shuffle(&mut rng);
        chosen.extend_from_slice(&m[..take[c]]);
    }
    chosen.sort_unstable();
    chosen
}

impl Dataset {
    /// A new data set of the samples at `indices`, in that order. Panics on an index out of range.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let n = self.pixels_per_image();
        let mut images = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        Dataset {
            images,
            labels,
            ..self.clone_header()
        }
    }

    /// Splits off a validation set of `n` images ([`stratified_holdout`]); returns
    /// `(rest, validation)`, both in the original order. Panics if `n > len()`.
    pub fn split_holdout(&self, n: usize) -> (Dataset, Dataset) {
        let held = stratified_holdout(&self.labels, n);
        let mut is_held = vec![false; self.len()];
        for &i in &held {
            is_held[i] = true;
        }
        let rest: Vec<usize> = (0..self.len()).filter(|&i| !is_held[i]).collect();
        (self.select(&rest), self.select(&held))
    }

    /// An empty data set with this one's kind, split and image shape.
    fn clone_header(&self) -> Dataset {
        Dataset {
            kind: self.kind,
            split: self.split,
            channels: self.channels,
            rows: self.rows,
            cols: self.cols,
            images: Vec::new(),
            labels: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{DatasetKind, Split};

    fn toy(labels: Vec<u8>) -> Dataset {
        Dataset {
            kind: DatasetKind::Mnist,
            split: Split::Train,
            channels: 1,
            rows: 1,
            cols: 2,
            images: (0..labels.len() * 2).map(|v| v as f32).collect(),
            labels,
        }
    }

    #[test]
    fn holdout_is_exact_stratified_and_fixed() {
        // 3 classes of 50, 30 and 20 images, interleaved.
        let labels: Vec<u8> = (0..100)
            .map(|i| match i % 10 {
                0..=4 => 0,
                5..=7 => 1,
                _ => 2,
            })
            .collect();
        let held = stratified_holdout(&labels, 10);
        assert_eq!(held.len(), 10);
        let count = |c| held.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!((count(0), count(1), count(2)), (5, 3, 2));
        assert!(held.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(held, stratified_holdout(&labels, 10));
        // Shares that do not divide evenly still add up: 7 of 100 → 3.5, 2.1, 1.4 → 4, 2, 1.
        let held = stratified_holdout(&labels, 7);
        assert_eq!(
            (count_of(&held, &labels, 0), count_of(&held, &labels, 1)),
            (4, 2)
        );
        assert_eq!(held.len(), 7);
    }

    fn count_of(held: &[usize], labels: &[u8], c: u8) -> usize {
        held.iter().filter(|&&i| labels[i] == c).count()
    }

    #[test]
    fn split_partitions_the_data_in_order() {
        let data = toy((0..40).map(|i| (i % 4) as u8).collect());
        let (rest, val) = data.split_holdout(8);
        assert_eq!((rest.len(), val.len()), (32, 8));
        let mut firsts: Vec<f32> = rest
            .images
            .chunks(2)
            .chain(val.images.chunks(2))
            .map(|p| p[0])
            .collect();
        assert!(rest
            .images
            .chunks(2)
            .zip(rest.images.chunks(2).skip(1))
            .all(|(a, b)| a[0] < b[0]));
        firsts.sort_by(f32::total_cmp);
        let all: Vec<f32> = data.images.chunks(2).map(|p| p[0]).collect();
        assert_eq!(firsts, all, "every image lands in exactly one part");
        for (img, &l) in val.images.chunks(2).zip(&val.labels) {
            assert_eq!(
                data.labels[img[0] as usize / 2],
                l,
                "labels travel with images"
            );
        }
        let (rest0, val0) = data.split_holdout(0);
        assert_eq!((rest0, val0.len()), (data, 0));
    }
}
