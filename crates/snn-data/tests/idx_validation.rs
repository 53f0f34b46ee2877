//! Malformed IDX files are rejected with a one-line message naming the file and the fault.

mod real_data;

use std::fs;
use std::path::{Path, PathBuf};

use snn_data::dataset::{DatasetKind, Split};
use snn_data::idx::{read_idx_images, read_idx_labels};
use snn_data::load;
use snn_data::DataError;

/// An IDX image file built byte by byte: magic, count, rows, cols (big-endian), then pixels.
fn image_file_bytes(magic: u32, count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for w in [magic, count, rows, cols] {
        b.extend_from_slice(&w.to_be_bytes());
    }
    b.extend_from_slice(pixels);
    b
}

fn label_file_bytes(magic: u32, count: u32, labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for w in [magic, count] {
        b.extend_from_slice(&w.to_be_bytes());
    }
    b.extend_from_slice(labels);
    b
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

fn assert_names_path(msg: &str, path: &Path) {
    assert!(
        msg.starts_with(&path.display().to_string()),
        "message does not start with the path {}: {msg}",
        path.display()
    );
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
}

#[test]
fn well_formed_synthetic_files_read_back_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..12).map(|i| i * 20).collect();
    let img = write(tmp.path(), "i", &image_file_bytes(0x803, 2, 2, 3, &pixels));
    let lab = write(tmp.path(), "l", &label_file_bytes(0x801, 2, &[9, 0]));
    let images = read_idx_images(&img).unwrap();
    assert_eq!((images.count, images.rows, images.cols), (2, 2, 3));
    assert_eq!(images.pixels, pixels);
    assert_eq!(read_idx_labels(&lab).unwrap(), vec![9, 0]);
}

#[test]
fn truncated_copy_of_real_mnist_images_is_rejected_with_expected_and_actual_length() {
    let data = real_data::data_dir_with(DatasetKind::Mnist);
    let original = fs::read(data.join("mnist/train-images-idx3-ubyte")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cut = write(tmp.path(), "train-images-idx3-ubyte", &original[..1000]);
    let msg = read_idx_images(&cut).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{}: truncated: header says 60000 images of 28x28 (47040016 bytes) but file has 1000 bytes",
            cut.display()
        )
    );
}

#[test]
fn truncated_copy_of_real_mnist_labels_is_rejected() {
    let data = real_data::data_dir_with(DatasetKind::Mnist);
    let original = fs::read(data.join("mnist/t10k-labels-idx1-ubyte")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cut = write(
        tmp.path(),
        "t10k-labels-idx1-ubyte",
        &original[..original.len() - 1],
    );
    let err = read_idx_labels(&cut).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DataError::Truncated { .. }), "{msg}");
    assert_names_path(&msg, &cut);
    assert!(
        msg.contains("10000 labels (10008 bytes)") && msg.contains("10007 bytes"),
        "{msg}"
    );
}

#[test]
fn file_shorter_than_its_header_is_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "tiny", &[0, 0, 8, 3, 0]);
    let msg = read_idx_images(&path).unwrap_err().to_string();
    assert_names_path(&msg, &path);
    assert!(
        msg.contains("truncated") && msg.contains("16 bytes") && msg.contains("has 5 bytes"),
        "{msg}"
    );
}

#[test]
fn image_file_longer_than_its_header_says_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(
        tmp.path(),
        "long",
        &image_file_bytes(0x803, 1, 2, 2, &[0; 5]),
    );
    let msg = read_idx_images(&path).unwrap_err().to_string();
    assert_names_path(&msg, &path);
    assert!(
        msg.contains("1 trailing bytes") && msg.contains("has 21 bytes"),
        "{msg}"
    );
}

#[test]
fn label_file_given_as_image_file_is_rejected_for_its_magic() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(
        tmp.path(),
        "labels",
        &label_file_bytes(0x801, 3, &[1, 2, 3]),
    );
    let msg = read_idx_images(&path).unwrap_err().to_string();
    assert_names_path(&msg, &path);
    assert!(
        msg.contains("bad magic number 0x00000801, expected 0x00000803"),
        "{msg}"
    );
}

#[test]
fn gzipped_file_is_rejected_for_its_magic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = vec![0x1f, 0x8b, 0x08, 0x00];
    bytes.extend_from_slice(&[0; 20]);
    let path = write(tmp.path(), "t10k-labels-idx1-ubyte", &bytes);
    let msg = read_idx_labels(&path).unwrap_err().to_string();
    assert_names_path(&msg, &path);
    assert!(
        msg.contains("bad magic number 0x1f8b0800, expected 0x00000801"),
        "{msg}"
    );
}

#[test]
fn zero_image_dimension_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "flat", &image_file_bytes(0x803, 4, 0, 28, &[]));
    let msg = read_idx_images(&path).unwrap_err().to_string();
    assert_names_path(&msg, &path);
    assert!(msg.contains("0x28"), "{msg}");
}

#[test]
fn label_of_ten_or_more_is_rejected_with_its_index() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(
        tmp.path(),
        "labels",
        &label_file_bytes(0x801, 4, &[0, 9, 10, 3]),
    );
    let msg = read_idx_labels(&path).unwrap_err().to_string();
    assert_names_path(&msg, &path);
    assert!(msg.contains("label 10 at index 2"), "{msg}");
}

#[test]
fn missing_file_message_names_it_and_says_how_to_fetch() {
    let tmp = tempfile::tempdir().unwrap();
    let err = load(DatasetKind::Mnist, tmp.path(), Split::Test).unwrap_err();
    let msg = err.to_string();
    let expected_path = tmp.path().join("mnist/t10k-images-idx3-ubyte");
    assert_names_path(&msg, &expected_path);
    assert!(msg.contains("snn-train fetch-data"), "{msg}");
}

#[test]
fn label_count_different_from_image_count_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fashion-mnist");
    fs::create_dir(&dir).unwrap();
    let img = write(
        &dir,
        "train-images-idx3-ubyte",
        &image_file_bytes(0x803, 3, 1, 1, &[0, 255, 51]),
    );
    let lab = write(
        &dir,
        "train-labels-idx1-ubyte",
        &label_file_bytes(0x801, 2, &[1, 2]),
    );
    let msg = load(DatasetKind::FashionMnist, tmp.path(), Split::Train)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        format!(
            "{}: has 3 images but {} has 2 labels",
            img.display(),
            lab.display()
        )
    );
}

#[test]
fn load_scales_bytes_to_unit_range() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mnist");
    fs::create_dir(&dir).unwrap();
    write(
        &dir,
        "t10k-images-idx3-ubyte",
        &image_file_bytes(0x803, 2, 1, 2, &[0, 255, 51, 102]),
    );
    write(
        &dir,
        "t10k-labels-idx1-ubyte",
        &label_file_bytes(0x801, 2, &[4, 5]),
    );
    let d = load(DatasetKind::Mnist, tmp.path(), Split::Test).unwrap();
    assert_eq!((d.len(), d.rows, d.cols, d.channels), (2, 1, 2, 1));
    assert_eq!(d.image(0), &[0.0, 1.0]);
    assert_eq!(d.image(1), &[0.2, 0.4]);
    assert_eq!(d.labels, vec![4, 5]);
}
