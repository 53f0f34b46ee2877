//! The data sets by name, where their files live under a data directory, and loading a split
//! into `f32` images with labels.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::idx::NUM_CLASSES;
use crate::DataError;

/// Environment variable naming the data directory when no `--data-dir` flag is given.
pub const DATA_DIR_ENV: &str = "SNN_DATA_DIR";
/// Data directory used when neither the flag nor [`DATA_DIR_ENV`] is set (relative to the cwd).
pub const DEFAULT_DATA_DIR: &str = "data";

/// A data set this crate can fetch and load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetKind {
    /// MNIST handwritten digits, 28x28 grey, 10 classes.
    Mnist,
    /// Zalando's Fashion-MNIST, 28x28 grey, 10 classes, same file layout as MNIST.
    FashionMnist,
    /// CIFAR-10, 32x32 colour, 10 classes, in the binary batch layout ([`crate::cifar`]).
    Cifar10,
}

impl DatasetKind {
    /// Every known data set, in a fixed order.
    pub const ALL: [DatasetKind; 3] = [
        DatasetKind::Mnist,
        DatasetKind::FashionMnist,
        DatasetKind::Cifar10,
    ];

    /// The sub-directory of the data directory that holds this data set's files; also its
    /// canonical name on the command line.
    pub fn dir_name(&self) -> &'static str {
        match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
            DatasetKind::Cifar10 => "cifar10",
        }
    }

    /// The directory holding this data set's files under `data_dir`.
    pub fn dir(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(self.dir_name())
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir_name())
    }
}

impl FromStr for DatasetKind {
    type Err = DataError;

    /// Accepts `mnist`, `fashion-mnist`, `fashion_mnist`, `fmnist`, `cifar10` and `cifar-10`,
    /// ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mnist" => Ok(DatasetKind::Mnist),
            "fashion-mnist" | "fashion_mnist" | "fmnist" => Ok(DatasetKind::FashionMnist),
            "cifar10" | "cifar-10" => Ok(DatasetKind::Cifar10),
            _ => Err(DataError::UnknownDataset {
                name: s.to_string(),
            }),
        }
    }
}

/// Which half of a data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training set (60,000 images for MNIST and Fashion-MNIST).
    Train,
    /// The test set (10,000 images).
    Test,
}

impl Split {
    /// The prefix of the split's file names: `train` or `t10k`.
    pub fn file_prefix(&self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }

    /// File name of the split's image file, e.g. `train-images-idx3-ubyte`.
    pub fn images_file(&self) -> String {
        format!("{}-images-idx3-ubyte", self.file_prefix())
    }

    /// File name of the split's label file, e.g. `t10k-labels-idx1-ubyte`.
    pub fn labels_file(&self) -> String {
        format!("{}-labels-idx1-ubyte", self.file_prefix())
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Test => "test",
        })
    }
}

/// One split of a data set in memory.
///
/// Images as f32, row-major per image, channel-last (HWC; MNIST has 1 channel): in `[0, 1]` for
/// the grey-scale sets, per-channel normalised (signed, about `[−0.88, 1.0]`) for CIFAR-10.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Which data set this is.
    pub kind: DatasetKind,
    /// Which split.
    pub split: Split,
    /// Channels per pixel (1 for the grey-scale sets).
    pub channels: usize,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// `len() * pixels_per_image()` values (see the type's doc), image after image.
    pub images: Vec<f32>,
    /// One class index `< num_classes()` per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of sample `i` (HWC). Panics if `i >= len()`.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.pixels_per_image();
        &self.images[i * n..(i + 1) * n]
    }

    /// Values per image: `rows * cols * channels`.
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols * self.channels
    }

    /// Keeps only the first `n` samples (no effect when `n >= len()`).
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            self.labels.truncate(n);
            self.images.truncate(n * self.pixels_per_image());
        }
    }

    /// Checks that these images can feed a network whose input is `input` (channels, height and
    /// width each equal: a 28×28 network does not run on 56×14 images) and that there is at
    /// least one. The message names the data set and split and is one line.
    pub fn check_feeds(
        &self,
        input: &snn_core::shape::Shape3,
        network: &str,
    ) -> Result<(), String> {
        if self.is_empty() {
            return Err(format!("the {} {} set is empty", self.kind, self.split));
        }
        let ours = (self.channels, self.rows, self.cols);
        if ours != (input.channels, input.height, input.width) {
            return Err(format!(
                "{} {} images are {}×{}×{} (channels×height×width) but network '{network}' expects {}×{}×{}",
                self.kind,
                self.split,
                self.channels,
                self.rows,
                self.cols,
                input.channels,
                input.height,
                input.width
            ));
        }
        Ok(())
    }

    /// Number of classes (10 for every data set here).
    pub fn num_classes(&self) -> usize {
        NUM_CLASSES
    }
}

/// The data directory: the `--data-dir` flag if given, else env `SNN_DATA_DIR` if set and
/// non-empty, else `data` (relative to the working directory).
pub fn resolve_data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    match std::env::var_os(DATA_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_DATA_DIR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_must_match_the_network_input_in_every_dimension() {
        let data = Dataset {
            kind: DatasetKind::Mnist,
            split: Split::Test,
            channels: 1,
            rows: 56,
            cols: 14,
            images: vec![0.0; 56 * 14],
            labels: vec![3],
        };
        let lenet = snn_core::shape::Shape3::new(1, 28, 28);
        let e = data.check_feeds(&lenet, "lenet").unwrap_err();
        assert_eq!(
            e,
            "mnist test images are 1×56×14 (channels×height×width) but network 'lenet' expects 1×28×28"
        );
        assert!(data
            .check_feeds(&snn_core::shape::Shape3::new(1, 56, 14), "x")
            .is_ok());
        let empty = Dataset {
            images: vec![],
            labels: vec![],
            ..data
        };
        let e = empty.check_feeds(&lenet, "lenet").unwrap_err();
        assert_eq!(e, "the mnist test set is empty");
    }

    #[test]
    fn dataset_names_parse_with_aliases_and_round_trip_through_display() {
        for (s, k) in [
            ("mnist", DatasetKind::Mnist),
            ("MNIST", DatasetKind::Mnist),
            ("fashion-mnist", DatasetKind::FashionMnist),
            ("fashion_mnist", DatasetKind::FashionMnist),
            ("fmnist", DatasetKind::FashionMnist),
        ] {
            assert_eq!(s.parse::<DatasetKind>().unwrap(), k, "{s}");
        }
        for k in DatasetKind::ALL {
            assert_eq!(k.to_string().parse::<DatasetKind>().unwrap(), k);
        }
    }

    #[test]
    fn unknown_dataset_name_lists_the_valid_names() {
        let msg = "cifar".parse::<DatasetKind>().unwrap_err().to_string();
        assert!(msg.contains("cifar"), "{msg}");
        assert!(
            msg.contains("mnist") && msg.contains("fashion-mnist"),
            "{msg}"
        );
    }

    #[test]
    fn flag_wins_over_default_data_dir() {
        assert_eq!(
            resolve_data_dir(Some(Path::new("/x/y"))),
            PathBuf::from("/x/y")
        );
    }

    #[test]
    fn truncate_keeps_the_first_samples_and_their_pixels() {
        let mut d = Dataset {
            kind: DatasetKind::Mnist,
            split: Split::Test,
            channels: 1,
            rows: 1,
            cols: 2,
            images: vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
            labels: vec![7, 8, 9],
        };
        d.truncate(5);
        assert_eq!(d.len(), 3);
        d.truncate(2);
        assert_eq!(d.labels, vec![7, 8]);
        assert_eq!(d.image(1), &[0.2, 0.3]);
        assert_eq!(d.images.len(), 4);
    }
}
