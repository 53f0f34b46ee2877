//! Loading real Fashion-MNIST reproduces the facts published in `shared/datasets/README.md`.

mod real_data;

use snn_data::dataset::{DatasetKind, Split};
use snn_data::fetch::verify;
use snn_data::load;

#[test]
fn fashion_mnist_has_6000_train_and_1000_test_images_per_class() {
    let dir = real_data::data_dir_with(DatasetKind::FashionMnist);
    verify(DatasetKind::FashionMnist, &dir).unwrap();
    let train =
        load(DatasetKind::FashionMnist, &dir, Split::Train).unwrap_or_else(|e| panic!("{e}"));
    let test = load(DatasetKind::FashionMnist, &dir, Split::Test).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((train.rows, train.cols, train.channels), (28, 28, 1));
    assert_eq!(real_data::class_counts(&train.labels), vec![6000; 10]);
    assert_eq!(real_data::class_counts(&test.labels), vec![1000; 10]);

    let (mean, std) = real_data::pixel_mean_std(&train.images);
    assert!((mean - 0.2860).abs() < 5e-4, "mean {mean}");
    assert!((std - 0.3530).abs() < 5e-4, "std {std}");
}
