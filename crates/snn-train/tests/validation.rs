//! The validation hold-out on real MNIST: its size and class balance against the data set's
//! published class counts, disjoint from what trains, the same whatever the run's seed, and a
//! one-line error when it would leave nothing to train on.

mod common;

use snn_train::train::load_train_and_validation;
use snn_train::{TrainConfig, TrainError};

/// MNIST's training images per digit (LeCun et al.; `shared/datasets/README.md`).
const MNIST_TRAIN_PER_CLASS: [usize; 10] =
    [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];

fn config(val_split: usize, train_limit: usize, seed: u64) -> TrainConfig {
    TrainConfig {
        val_split,
        train_limit,
        seed,
        ..TrainConfig::preset("lenet")
    }
}

#[test]
fn mnist_holdout_is_stratified_disjoint_and_independent_of_the_seed() {
    let dir = common::mnist_dir();
    let (train, val) = load_train_and_validation(&config(5000, 0, 1), &dir).unwrap();
    assert_eq!((train.len(), val.len()), (55_000, 5_000));
    for (c, &k) in MNIST_TRAIN_PER_CLASS.iter().enumerate() {
        let held = val.labels.iter().filter(|&&l| l as usize == c).count();
        let share = 5000.0 * k as f64 / 60_000.0;
        assert!(
            (held as f64 - share).abs() < 1.0,
            "digit {c}: {held} held, share {share:.2}"
        );
        let kept = train.labels.iter().filter(|&&l| l as usize == c).count();
        assert_eq!(held + kept, k, "digit {c}");
    }
    // Disjoint: no validation image is also a training image (MNIST has a few exact duplicates,
    // so compare multisets of image hashes against the full set's).
    let hash = |p: &[f32]| {
        p.iter().fold(0u64, |h, v| {
            h.wrapping_mul(31).wrapping_add(v.to_bits() as u64)
        })
    };
    let (full, _) = load_train_and_validation(&config(0, 0, 1), &dir).unwrap();
    let mut all: Vec<u64> = (0..full.len()).map(|i| hash(full.image(i))).collect();
    let mut parts: Vec<u64> = (0..train.len())
        .map(|i| hash(train.image(i)))
        .chain((0..val.len()).map(|i| hash(val.image(i))))
        .collect();
    all.sort_unstable();
    parts.sort_unstable();
    assert_eq!(
        all, parts,
        "train + validation is exactly the training split"
    );
    // Another seed, and a train limit, leave the validation set as it was.
    let (limited, val2) = load_train_and_validation(&config(5000, 100, 9), &dir).unwrap();
    assert_eq!(val2, val);
    assert_eq!(limited.len(), 100);
    assert_eq!(limited.image(0), train.image(0));
}

#[test]
fn a_holdout_that_leaves_nothing_to_train_on_is_a_one_line_error() {
    let e = load_train_and_validation(&config(60_000, 0, 1), &common::mnist_dir()).unwrap_err();
    let TrainError::Config(msg) = e else {
        panic!("{e}")
    };
    assert!(
        msg.starts_with("--val-split: 60000 leaves no training images"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}
