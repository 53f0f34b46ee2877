//! Loading real Fashion-MNIST reproduces the facts published in `shared/datasets/README.md`.

mod real_data;

use snn_data::dataset::{load, DatasetKind, Split};
use snn_data::fetch::verify;

fn class_counts(labels: &[u8]) -> Vec<usize> {
    let mut counts = vec![0; 10];
    for &l in labels {
        counts[usize::from(l)] += 1;
    }
    counts
}

#[test]
fn fashion_mnist_has_6000_train_and_1000_test_images_per_class() {
    let dir = real_data::data_dir_with(DatasetKind::FashionMnist);
    verify(DatasetKind::FashionMnist, &dir).unwrap();
    let train =
        load(DatasetKind::FashionMnist, &dir, Split::Train).unwrap_or_else(|e| panic!("{e}"));
    let test = load(DatasetKind::FashionMnist, &dir, Split::Test).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((train.rows, train.cols, train.channels), (28, 28, 1));
    assert_eq!(class_counts(&train.labels), vec![6000; 10]);
    assert_eq!(class_counts(&test.labels), vec![1000; 10]);

    let n = train.images.len() as f64;
    let mean = train.images.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = train
        .images
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    assert!((mean - 0.2860).abs() < 5e-4, "mean {mean}");
    assert!((var.sqrt() - 0.3530).abs() < 5e-4, "std {}", var.sqrt());
}
