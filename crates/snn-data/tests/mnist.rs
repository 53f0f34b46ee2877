//! Loading real MNIST reproduces the facts published in `shared/datasets/README.md`.

mod real_data;

use std::sync::OnceLock;

use snn_data::dataset::{Dataset, DatasetKind, Split};
use snn_data::fetch::verify;
use snn_data::load;

fn mnist(split: Split) -> &'static Dataset {
    static TRAIN: OnceLock<Dataset> = OnceLock::new();
    static TEST: OnceLock<Dataset> = OnceLock::new();
    let cell = match split {
        Split::Train => &TRAIN,
        Split::Test => &TEST,
    };
    cell.get_or_init(|| {
        let dir = real_data::data_dir_with(DatasetKind::Mnist);
        load(DatasetKind::Mnist, &dir, split).unwrap_or_else(|e| panic!("{e}"))
    })
}

#[test]
fn mnist_files_match_the_published_checksums() {
    let dir = real_data::data_dir_with(DatasetKind::Mnist);
    verify(DatasetKind::Mnist, &dir).unwrap();
}

#[test]
fn mnist_train_has_the_published_label_counts_per_class() {
    let d = mnist(Split::Train);
    assert_eq!(d.len(), 60_000);
    assert_eq!(
        real_data::class_counts(&d.labels),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
}

#[test]
fn mnist_test_has_the_published_label_counts_per_class() {
    let d = mnist(Split::Test);
    assert_eq!(d.len(), 10_000);
    assert_eq!(
        real_data::class_counts(&d.labels),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

#[test]
fn mnist_first_ten_labels_are_the_published_ones() {
    assert_eq!(
        mnist(Split::Train).labels[..10],
        [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    );
    assert_eq!(
        mnist(Split::Test).labels[..10],
        [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    );
}

#[test]
fn mnist_images_are_28x28_grey_in_unit_range() {
    for split in [Split::Train, Split::Test] {
        let d = mnist(split);
        assert_eq!((d.rows, d.cols, d.channels), (28, 28, 1));
        assert_eq!(d.pixels_per_image(), 784);
        assert_eq!(d.images.len(), d.len() * 784);
        assert_eq!(d.image(d.len() - 1).len(), 784);
        assert!(d.images.iter().all(|&x| (0.0..=1.0).contains(&x)));
        assert_eq!(d.num_classes(), 10);
    }
}

#[test]
fn mnist_train_pixel_mean_and_std_are_the_published_normalisation_constants() {
    let d = mnist(Split::Train);
    let (mean, std) = real_data::pixel_mean_std(&d.images);
    assert!((mean - 0.1307).abs() < 5e-4, "mean {mean}");
    assert!((std - 0.3081).abs() < 5e-4, "std {std}");
}

#[test]
fn fetching_present_mnist_again_does_nothing() {
    let dir = real_data::data_dir_with(DatasetKind::Mnist);
    let report = snn_data::fetch::fetch(DatasetKind::Mnist, &dir).unwrap();
    assert!(report.already_present);
    assert_eq!(report.files.len(), 4);
}

#[test]
fn corrupted_mnist_file_fails_verify_and_fetch_replaces_it() {
    let source = real_data::data_dir_with(DatasetKind::Mnist).join("mnist");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mnist");
    std::fs::create_dir(&dir).unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::copy(source.join(name), dir.join(name)).unwrap();
    }
    let labels = dir.join("t10k-labels-idx1-ubyte");
    let mut bytes = std::fs::read(&labels).unwrap();
    bytes[8] ^= 1;
    std::fs::write(&labels, &bytes).unwrap();

    let msg = verify(DatasetKind::Mnist, tmp.path())
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: sha256 mismatch: expected ff7bcfd4",
            labels.display()
        )),
        "{msg}"
    );

    let report = snn_data::fetch::fetch(DatasetKind::Mnist, tmp.path()).unwrap();
    assert!(!report.already_present);
    verify(DatasetKind::Mnist, tmp.path()).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 4, "stray files: {names:?}");
}
