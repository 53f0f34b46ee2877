//! CIFAR-10: the standard binary layout (reader and writer) and the import of the JPEG copy this
//! environment holds (`shared/datasets/README.md`).
//!
//! A batch file is a run of 3073-byte records: one label byte, then 3072 pixel bytes,
//! channel-major (1024 red, 1024 green, 1024 blue, each row-major 32×32). The original release
//! (`cifar-10-batches-bin/`: `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`) is read
//! as it is. The JPEG copy (`cifar10-jpeg-images.tar.xz`, members `train|test/<class>/NNNN.jpg`)
//! is checked against its sha256, decoded once with `jpeg-decoder` and cached in the same layout
//! under the same names, so later runs read bytes and never decode. Its records are interleaved
//! class by class (record `i` is class `i % 10`, the `i / 10`-th file of that class in name order)
//! so that every prefix is balanced, which `--train-limit` and `--test-limit` rely on.
//! Results on the copy must be labelled "CIFAR-10 (JPEG copy)": JPEG quality 75 moves pixels by
//! about 8/255 from the original release.

use snn_core::bounded::{read_bounded, MAX_DATA_BYTES};
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use crate::dataset::{Dataset, DatasetKind, Split};
use crate::idx::{io_err, NUM_CLASSES};
use crate::install::{install, sha256_hex, FetchReport};
use crate::ustar::visit_members;
use crate::DataError;

/// Class names in label order.
pub const CLASSES: [&str; NUM_CLASSES] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];
/// Image side in pixels.
pub const SIDE: usize = 32;
/// Pixel bytes per image (3 channels × 32 × 32).
pub const IMAGE_BYTES: usize = 3 * SIDE * SIDE;
/// Bytes per record: the label byte and the pixels.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// Records per batch file of the original release.
pub const BATCH_RECORDS: usize = 10_000;
/// The sub-directory of `<data dir>/cifar10/` holding the batch files, as in the original release.
pub const BATCH_DIR: &str = "cifar-10-batches-bin";
/// Training batch files.
pub const TRAIN_BATCHES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// Test batch file.
pub const TEST_BATCH: &str = "test_batch.bin";
/// Images per class: 5000 in the training set, 1000 in the test set.
pub const PER_CLASS: [usize; 2] = [5000, 1000];
/// File name of the JPEG copy.
pub const JPEG_ARCHIVE: &str = "cifar10-jpeg-images.tar.xz";
/// sha256 of [`JPEG_ARCHIVE`] (`shared/datasets/README.md`).
pub const JPEG_ARCHIVE_SHA256: &str =
    "6254f53a1bc70afc08c46178959354e8597763b03706815cc50b5e2cdff16569";
/// Environment variable naming the JPEG copy when it is elsewhere.
pub const ARCHIVE_ENV: &str = "SNN_CIFAR10_ARCHIVE";
/// Per-channel mean of the authors' normalisation (paper-method.md §2.2).
pub const MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
/// Per-channel divisor of the authors' normalisation (their unusual "std", which maps [0, 1] to
/// about [−0.88, 1.00] so that |x| is a spike probability).
pub const STD: [f32; 3] = [0.557, 0.549, 0.5534];

/// Records of one or more batch files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    /// One label `< 10` per record.
    pub labels: Vec<u8>,
    /// [`IMAGE_BYTES`] channel-major pixel bytes per record.
    pub pixels: Vec<u8>,
}

impl Records {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The records in the batch-file layout.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * RECORD_BYTES);
        for (label, px) in self
            .labels
            .iter()
            .zip(self.pixels.chunks_exact(IMAGE_BYTES))
        {
            out.push(*label);
            out.extend_from_slice(px);
        }
        out
    }
}

/// The directory holding the batch files under `data_dir`.
pub fn batch_dir(data_dir: &Path) -> PathBuf {
    DatasetKind::Cifar10.dir(data_dir).join(BATCH_DIR)
}

/// The batch files of a split.
pub fn batch_files(split: Split) -> &'static [&'static str] {
    match split {
        Split::Train => &TRAIN_BATCHES,
        Split::Test => std::slice::from_ref(&TEST_BATCH),
    }
}

/// Parses batch-file bytes read from `path`: a nonzero whole number of records, every label a
/// class index.
pub fn parse_batch(path: &Path, bytes: &[u8]) -> Result<Records, DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD_BYTES) {
        return Err(DataError::BadHeader {
            path: path.to_path_buf(),
            reason: format!(
                "{} bytes is not a whole number of CIFAR-10 records ({RECORD_BYTES} bytes each: \
                 1 label byte + {IMAGE_BYTES} pixel bytes)",
                bytes.len()
            ),
        });
    }
    let mut records = Records::default();
    for (index, rec) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        if rec[0] as usize >= NUM_CLASSES {
            return Err(DataError::BadLabel {
                path: path.to_path_buf(),
                index,
                value: rec[0],
                num_classes: NUM_CLASSES,
            });
        }
        records.labels.push(rec[0]);
        records.pixels.extend_from_slice(&rec[1..]);
    }
    Ok(records)
}

/// Reads and validates one batch file.
pub fn read_batch(path: &Path) -> Result<Records, DataError> {
    parse_batch(path, &read_bytes(path)?)
}

/// The bytes of a batch file; a missing file is [`DataError::Missing`].
fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    read_bounded(path, MAX_DATA_BYTES, "CIFAR-10 batch file").map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::Missing {
            path: path.to_path_buf(),
            what: "CIFAR-10 batch file".into(),
        },
        _ => io_err(path, "read", e),
    })
}

/// Reads every batch file of `split` under `data_dir`, in order.
pub fn read_split(data_dir: &Path, split: Split) -> Result<Records, DataError> {
    let dir = batch_dir(data_dir);
    let mut all = Records::default();
    for name in batch_files(split) {
        let r = read_batch(&dir.join(name))?;
        all.labels.extend(r.labels);
        all.pixels.extend(r.pixels);
    }
    Ok(all)
}

/// `(byte / 255 − mean[c]) / std[c]`, the authors' test-time transform.
pub fn normalize(byte: u8, channel: usize) -> f32 {
    (f32::from(byte) / 255.0 - MEAN[channel]) / STD[channel]
}

/// Loads one split as a [`Dataset`]: HWC images of normalised (signed) values.
pub fn load(data_dir: &Path, split: Split) -> Result<Dataset, DataError> {
    let r = read_split(data_dir, split)?;
    let plane = SIDE * SIDE;
    let mut images = Vec::with_capacity(r.pixels.len());
    for px in r.pixels.chunks_exact(IMAGE_BYTES) {
        for p in 0..plane {
            for c in 0..3 {
                images.push(normalize(px[c * plane + p], c));
            }
        }
    }
    Ok(Dataset {
        kind: DatasetKind::Cifar10,
        split,
        channels: 3,
        rows: SIDE,
        cols: SIDE,
        images,
        labels: r.labels,
    })
}

/// Makes sure the six batch files are under `<data_dir>/cifar10/cifar-10-batches-bin/`. Files
/// already there that read as whole CIFAR-10 batches (the original release or an earlier import)
/// are kept; when none is there the JPEG copy is imported; a partial or damaged set is an error
/// naming the bad file, never overwritten. Idempotent.
pub fn fetch(data_dir: &Path) -> Result<FetchReport, DataError> {
    let dir = batch_dir(data_dir);
    if let Some(files) = present(&dir)? {
        return Ok(FetchReport {
            kind: DatasetKind::Cifar10,
            dir,
            already_present: true,
            files,
        });
    }
    let archive = find_archive(data_dir)?;
    let bytes = read_bounded(&archive, MAX_DATA_BYTES, "CIFAR-10 archive")
        .map_err(|e| io_err(&archive, "read", e))?;
    let got = sha256_hex(&bytes);
    if got != JPEG_ARCHIVE_SHA256 {
        return Err(DataError::ChecksumMismatch {
            path: archive,
            expected: JPEG_ARCHIVE_SHA256.into(),
            got,
        });
    }
    let [train, test] = import_jpeg_archive(&archive, &bytes)?;
    fs::create_dir_all(&dir).map_err(|e| io_err(&dir, "create directory", e))?;
    let mut files = Vec::new();
    let (train, test) = (train.to_bytes(), test.to_bytes());
    let batches = train
        .chunks(BATCH_RECORDS * RECORD_BYTES)
        .zip(TRAIN_BATCHES)
        .chain([(&test[..], TEST_BATCH)]);
    for (bytes, name) in batches {
        install(&dir, name, bytes)?;
        files.push((name.to_string(), sha256_hex(bytes)));
    }
    Ok(FetchReport {
        kind: DatasetKind::Cifar10,
        dir,
        already_present: false,
        files,
    })
}

/// `(name, sha256)` of the six batch files when all are there as whole 10,000-record batches;
/// `None` when none is there (so importing writes no file over a user's). Any other state, some
/// files present and some missing or malformed, is the first bad file's error: it might be a
/// damaged copy of the original release, which an import would silently replace.
fn present(dir: &Path) -> Result<Option<Vec<(String, String)>>, DataError> {
    let names: Vec<&str> = [Split::Train, Split::Test]
        .iter()
        .flat_map(|&s| batch_files(s).iter().copied())
        .collect();
    if names.iter().all(|n| !dir.join(n).exists()) {
        return Ok(None);
    }
    let mut files = Vec::new();
    for name in names {
        let path = dir.join(name);
        let bytes = read_bytes(&path)?;
        let r = parse_batch(&path, &bytes)?;
        if r.len() != BATCH_RECORDS {
            return Err(DataError::BadHeader {
                path,
                reason: format!(
                    "{} records, a CIFAR-10 batch has {BATCH_RECORDS}; remove the directory to \
                     import the JPEG copy afresh",
                    r.len()
                ),
            });
        }
        files.push((name.to_string(), sha256_hex(&bytes)));
    }
    Ok(Some(files))
}

/// Where the JPEG copy is: `$SNN_CIFAR10_ARCHIVE`, else `<data_dir>/cifar10/`, else
/// `shared/datasets/` beside the working directory or one of its ancestors.
fn find_archive(data_dir: &Path) -> Result<PathBuf, DataError> {
    if let Some(p) = std::env::var_os(ARCHIVE_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let mut candidates = vec![DatasetKind::Cifar10.dir(data_dir).join(JPEG_ARCHIVE)];
    if let Ok(cwd) = std::env::current_dir() {
        candidates.extend(
            cwd.ancestors()
                .map(|a| a.join("shared").join("datasets").join(JPEG_ARCHIVE)),
        );
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| DataError::NoSource {
            path: batch_dir(data_dir),
            hint: format!(
                "put the original CIFAR-10 binary release there, or name {JPEG_ARCHIVE} with \
                 {ARCHIVE_ENV} (it is also looked for in <data dir>/cifar10/ and shared/datasets/)"
            ),
        })
}

/// Decodes every `train|test/<class>/*.jpg` member of the archive (already checksummed) into
/// records, interleaved class by class; checks that every class has its 5000 / 1000 images.
pub fn import_jpeg_archive(archive: &Path, xz: &[u8]) -> Result<[Records; 2], DataError> {
    let mut tar = Vec::new();
    lzma_rs::xz_decompress(&mut Cursor::new(xz), &mut tar).map_err(|e| DataError::BadArchive {
        path: archive.to_path_buf(),
        reason: format!("xz decompression failed: {e}"),
    })?;
    import_jpeg_tar(archive, &tar)
}

/// [`import_jpeg_archive`] after decompression: walks the tar and decodes its image members;
/// `archive` names the file in errors.
pub fn import_jpeg_tar(archive: &Path, tar: &[u8]) -> Result<[Records; 2], DataError> {
    let bad = |reason: String| DataError::BadArchive {
        path: archive.to_path_buf(),
        reason,
    };
    let mut found: [PerClass; 2] = std::array::from_fn(|_| vec![Vec::new(); NUM_CLASSES]);
    let mut error = None;
    visit_members(archive, tar, |name, bytes| {
        let Some((split, class, file)) = member_slot(name) else {
            return;
        };
        if error.is_some() {
            return;
        }
        match decode_image(&bytes) {
            Ok(px) => found[split][class].push((file.to_string(), px)),
            Err(why) => error = Some(bad(format!("member `{}`: {why}", name.escape_debug()))),
        }
    })?;
    if let Some(e) = error {
        return Err(e);
    }
    let mut out: [Records; 2] = Default::default();
    for (split, per_class) in found.iter_mut().enumerate() {
        let want = PER_CLASS[split];
        for (class, files) in per_class.iter_mut().enumerate() {
            if files.len() != want {
                return Err(bad(format!(
                    "{} {} images of class {}, expected {want}",
                    files.len(),
                    ["train", "test"][split],
                    CLASSES[class]
                )));
            }
            files.sort_by(|a, b| a.0.cmp(&b.0));
        }
        for i in 0..want * NUM_CLASSES {
            let (class, k) = (i % NUM_CLASSES, i / NUM_CLASSES);
            out[split].labels.push(class as u8);
            out[split].pixels.extend_from_slice(&per_class[class][k].1);
        }
    }
    Ok(out)
}

/// Per class, the `(file name, channel-major pixels)` of its images.
type PerClass = Vec<Vec<(String, Vec<u8>)>>;

/// `(split index, class, file name)` of an image member `train|test/<class>/<file>.jpg`.
fn member_slot(name: &str) -> Option<(usize, usize, &str)> {
    let mut parts = name.trim_start_matches("./").split('/');
    let (split, class, file) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !file.ends_with(".jpg") {
        return None;
    }
    let split = ["train", "test"].iter().position(|s| *s == split)?;
    let class = CLASSES.iter().position(|c| *c == class)?;
    Some((split, class, file))
}

/// One archive member: a 32×32 JPEG (RGB or grey) as channel-major bytes.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    // The size is checked from the frame header before decoding: the decoder allocates what
    // the header claims (up to 65535×65535 pixels, found by the fuzzer).
    dec.read_info()
        .map_err(|e| format!("JPEG decoding failed: {e}"))?;
    let info = dec.info().ok_or("JPEG without a frame header")?;
    if (info.width as usize, info.height as usize) != (SIDE, SIDE) {
        return Err(format!(
            "image is {}x{}, CIFAR-10 images are {SIDE}x{SIDE}",
            info.width, info.height
        ));
    }
    let px = dec
        .decode()
        .map_err(|e| format!("JPEG decoding failed: {e}"))?;
    let info = dec.info().ok_or("JPEG without a frame header")?;
    if (info.width as usize, info.height as usize) != (SIDE, SIDE) || px.len() < SIDE * SIDE {
        return Err(format!(
            "image is {}x{} after decoding, CIFAR-10 images are {SIDE}x{SIDE}",
            info.width, info.height
        ));
    }
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::L8 => 1,
        other => return Err(format!("unsupported JPEG pixel format {other:?}")),
    };
    let plane = SIDE * SIDE;
    let mut out = vec![0u8; IMAGE_BYTES];
    for p in 0..plane {
        for c in 0..3 {
            out[c * plane + p] = px[p * channels + c.min(channels - 1)];
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(label: u8, fill: u8) -> Vec<u8> {
        let mut r = vec![fill; RECORD_BYTES];
        r[0] = label;
        r
    }

    #[test]
    fn batch_bytes_round_trip_and_bad_files_name_the_cause() {
        let bytes: Vec<u8> = [record(3, 7), record(9, 200)].concat();
        let r = parse_batch(Path::new("b.bin"), &bytes).unwrap();
        assert_eq!(r.labels, vec![3, 9]);
        assert_eq!(r.pixels.len(), 2 * IMAGE_BYTES);
        assert_eq!(r.to_bytes(), bytes);
        let cut = parse_batch(Path::new("cut.bin"), &bytes[..RECORD_BYTES + 5])
            .unwrap_err()
            .to_string();
        assert!(cut.starts_with("cut.bin: bad header: 3078 bytes"), "{cut}");
        let empty = parse_batch(Path::new("e.bin"), &[])
            .unwrap_err()
            .to_string();
        assert!(empty.contains("not a whole number"), "{empty}");
        let label = parse_batch(Path::new("l.bin"), &[record(1, 0), record(10, 0)].concat())
            .unwrap_err()
            .to_string();
        assert!(label.starts_with("l.bin: label 10 at index 1"), "{label}");
    }

    #[test]
    fn normalisation_is_the_authors_per_channel_transform() {
        // White in channel 3 is just above 1 (paper-method.md §2.2), black about −0.88.
        assert!((normalize(255, 2) - 1.0002).abs() < 1e-3);
        assert!((normalize(0, 0) + 0.8822).abs() < 1e-3);
        assert_eq!(normalize(0, 1), -MEAN[1] / STD[1]);
    }

    #[test]
    fn member_names_map_to_split_class_and_file() {
        assert_eq!(member_slot("train/cat/0042.jpg"), Some((0, 3, "0042.jpg")));
        assert_eq!(
            member_slot("./test/truck/0999.jpg"),
            Some((1, 9, "0999.jpg"))
        );
        assert_eq!(member_slot("test/truck/"), None);
        assert_eq!(member_slot("test/lion/0001.jpg"), None);
        assert_eq!(member_slot("val/cat/0001.jpg"), None);
    }
}
