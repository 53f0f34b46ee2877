//! Readers for the IDX format MNIST and Fashion-MNIST ship in.
//!
//! An IDX file is a big-endian header — a magic number whose low byte is the number of
//! dimensions and whose third byte is the element type (0x08 = unsigned byte), then one `u32`
//! per dimension — followed by the elements, row-major. These readers accept exactly the two
//! shapes the data sets use and insist that the file is exactly as long as its header says, so a
//! truncated download or a file of the wrong kind fails here with its path in the message.

use snn_core::bounded::{regular_file_len, MAX_DATA_BYTES};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::DataError;

/// Magic number of an IDX file of unsigned bytes with three dimensions (count, rows, cols).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension (count).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Labels must be below this: the data sets read here all have ten classes.
pub const NUM_CLASSES: usize = 10;

const IMAGES_HEADER_LEN: u64 = 16;
const LABELS_HEADER_LEN: u64 = 8;

/// The contents of an IDX image file: `count` grey-scale images of `rows` x `cols` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Image height in pixels.
    pub rows: usize,
    /// Image width in pixels.
    pub cols: usize,
    /// `count * rows * cols` bytes, image after image, each row-major; 0 is background.
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// The pixels of image `i` (row-major). Panics if `i >= count`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.rows * self.cols;
        &self.pixels[i * n..(i + 1) * n]
    }
}

/// Reads an IDX image file (magic 0x00000803), checking the magic, that no dimension is zero,
/// and that the file holds exactly `count * rows * cols` pixel bytes after its 16-byte header.
pub fn read_idx_images(path: &Path) -> Result<IdxImages, DataError> {
    let (mut file, file_len) = open(path, "IDX image file")?;
    let header = read_header::<4>(
        &mut file,
        path,
        file_len,
        IMAGES_MAGIC,
        "IDX image file (unsigned byte, 3 dimensions)",
    )?;
    let [_, count, rows, cols] = header.map(|v| v as usize);
    if rows == 0 || cols == 0 {
        return Err(DataError::BadHeader {
            path: path.to_path_buf(),
            reason: format!("image size {rows}x{cols} has a zero dimension"),
        });
    }
    let payload = (count as u64)
        .checked_mul(rows as u64)
        .and_then(|v| v.checked_mul(cols as u64))
        .ok_or_else(|| DataError::BadHeader {
            path: path.to_path_buf(),
            reason: format!("{count} images of {rows}x{cols} overflow a 64-bit size"),
        })?;
    let desc = format!(
        "header says {count} images of {rows}x{cols} ({} bytes)",
        IMAGES_HEADER_LEN + payload
    );
    check_length(path, file_len, IMAGES_HEADER_LEN, payload, desc)?;
    let pixels = read_payload(&mut file, path, payload)?;
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Reads an IDX label file (magic 0x00000801), checking the magic, that the file holds exactly
/// `count` label bytes after its 8-byte header, and that every label is below 10.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let (mut file, file_len) = open(path, "IDX label file")?;
    let header = read_header::<2>(
        &mut file,
        path,
        file_len,
        LABELS_MAGIC,
        "IDX label file (unsigned byte, 1 dimension)",
    )?;
    let count = u64::from(header[1]);
    let desc = format!(
        "header says {count} labels ({} bytes)",
        LABELS_HEADER_LEN + count
    );
    check_length(path, file_len, LABELS_HEADER_LEN, count, desc)?;
    let labels = read_payload(&mut file, path, count)?;
    if let Some((index, &value)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| usize::from(l) >= NUM_CLASSES)
    {
        return Err(DataError::BadLabel {
            path: path.to_path_buf(),
            index,
            value,
            num_classes: NUM_CLASSES,
        });
    }
    Ok(labels)
}

fn open(path: &Path, what: &str) -> Result<(File, u64), DataError> {
    // Refuse FIFOs, devices and oversized files before opening (opening a FIFO blocks).
    let missing = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing {
                path: path.to_path_buf(),
                what: what.to_string(),
            }
        } else {
            io_err(path, "open", e)
        }
    };
    regular_file_len(path, MAX_DATA_BYTES, "data-set file").map_err(missing)?;
    let file = File::open(path).map_err(missing)?;
    let len = file.metadata().map_err(|e| io_err(path, "stat", e))?.len();
    Ok((file, len))
}

/// Reads `N` big-endian `u32` header words, the first being the magic number, which must be
/// `magic`. The magic is checked before the rest of the header is required, so a file of the
/// wrong kind is reported as such even when it is shorter than this kind's header.
fn read_header<const N: usize>(
    file: &mut File,
    path: &Path,
    file_len: u64,
    magic: u32,
    what: &'static str,
) -> Result<[u32; N], DataError> {
    let header_len = 4 * N as u64;
    let truncated = || DataError::Truncated {
        path: path.to_path_buf(),
        expected_desc: format!("the header of an {what} is {header_len} bytes"),
        actual: file_len,
    };
    let mut words = [0u32; N];
    for (i, w) in words.iter_mut().enumerate() {
        if file_len < 4 * (i as u64 + 1) {
            return Err(truncated());
        }
        let mut b = [0u8; 4];
        file.read_exact(&mut b)
            .map_err(|e| io_err(path, "read header", e))?;
        *w = u32::from_be_bytes(b);
        if i == 0 && *w != magic {
            return Err(DataError::BadMagic {
                path: path.to_path_buf(),
                expected: magic,
                found: *w,
                what,
            });
        }
    }
    Ok(words)
}

fn check_length(
    path: &Path,
    file_len: u64,
    header_len: u64,
    payload: u64,
    expected_desc: String,
) -> Result<(), DataError> {
    let expected = header_len + payload;
    if file_len < expected {
        Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected_desc,
            actual: file_len,
        })
    } else if file_len > expected {
        Err(DataError::TrailingBytes {
            path: path.to_path_buf(),
            expected_desc,
            expected,
            actual: file_len,
        })
    } else {
        Ok(())
    }
}

fn read_payload(file: &mut File, path: &Path, len: u64) -> Result<Vec<u8>, DataError> {
    let len = usize::try_from(len).map_err(|_| DataError::BadHeader {
        path: path.to_path_buf(),
        reason: format!("payload of {len} bytes does not fit in memory on this platform"),
    })?;
    let mut buf = vec![0u8; len];
    file.read_exact(&mut buf)
        .map_err(|e| io_err(path, "read", e))?;
    Ok(buf)
}

pub(crate) fn io_err(path: &Path, op: &'static str, cause: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        op,
        cause,
    }
}
