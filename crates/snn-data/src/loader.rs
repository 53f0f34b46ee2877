//! Loading a data split into memory: MNIST and Fashion-MNIST from their IDX files, CIFAR-10
//! from its binary batches ([`crate::cifar`]).

use crate::dataset::{Dataset, DatasetKind, Split};
use crate::idx::{read_idx_images, read_idx_labels};
use crate::DataError;
use std::path::Path;

/// Loads one split of `kind`: for MNIST and Fashion-MNIST from
/// `<data_dir>/<dir_name>/{train,t10k}-{images-idx3,labels-idx1}-ubyte`, scaling pixels to
/// `[0, 1]` (fails if either file is missing or malformed, or if the two disagree on the number of
/// samples); for CIFAR-10 through [`crate::cifar::load`].
pub fn load(kind: DatasetKind, data_dir: &Path, split: Split) -> Result<Dataset, DataError> {
    if kind == DatasetKind::Cifar10 {
        return crate::cifar::load(data_dir, split);
    }
    let dir = kind.dir(data_dir);
    let images_path = dir.join(split.images_file());
    let labels_path = dir.join(split.labels_file());
    let raw = read_idx_images(&images_path)?;
    let labels = read_idx_labels(&labels_path)?;
    if raw.count != labels.len() {
        return Err(DataError::CountMismatch {
            images_path,
            labels_path,
            images: raw.count,
            labels: labels.len(),
        });
    }
    let images = raw.pixels.iter().map(|&b| f32::from(b) / 255.0).collect();
    Ok(Dataset {
        kind,
        split,
        channels: 1,
        rows: raw.rows,
        cols: raw.cols,
        images,
        labels,
    })
}
