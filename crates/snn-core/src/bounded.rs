//! Reading input files defensively: only regular files (a FIFO would block forever, `/dev/zero`
//! would never end), and never more bytes than a stated bound for that kind of file, checked
//! before anything is allocated. Every tool reads its inputs through here.
//!
//! Errors are `std::io::Error`s (kind `InvalidInput` or `InvalidData`) whose message says what is
//! wrong, so callers keep wrapping them with the path as they do for any I/O failure.

use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// Bound on a model file (`.snn`): ResNet11's is 72 MB.
pub const MAX_MODEL_BYTES: u64 = 2 << 30;
/// Bound on a mapping file (`mapping.bin`).
pub const MAX_MAPPING_BYTES: u64 = 2 << 30;
/// Bound on a text file written by hand: a network or chip TOML.
pub const MAX_TEXT_BYTES: u64 = 1 << 20;
/// Bound on a JSON file written by a tool (activity profiles, run logs, partitions).
pub const MAX_JSON_BYTES: u64 = 1 << 30;
/// Bound on a data-set file (IDX, CIFAR-10 batch, the CIFAR-10 JPEG archive).
pub const MAX_DATA_BYTES: u64 = 2 << 30;

/// The size of `path` if it is a regular file of at most `max` bytes (following symbolic
/// links). Does not open the file, so a FIFO is refused without blocking.
pub fn regular_file_len(path: &Path, max: u64, what: &str) -> std::io::Result<u64> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("is {kind}; a {what} must be a regular file"),
        ));
    }
    if meta.len() > max {
        return Err(too_large(meta.len(), max, what));
    }
    Ok(meta.len())
}

/// Reads a whole regular file of at most `max` bytes; `what` names the kind of file in the
/// error ("model file"). A file that grows past the bound while being read is refused too.
pub fn read_bounded(path: &Path, max: u64, what: &str) -> std::io::Result<Vec<u8>> {
    let len = regular_file_len(path, max, what)?;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64, max, what));
    }
    Ok(bytes)
}

/// [`read_bounded`] for UTF-8 text.
pub fn read_text_bounded(path: &Path, max: u64, what: &str) -> std::io::Result<String> {
    String::from_utf8(read_bounded(path, max, what)?).map_err(|e| {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "{what} is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn too_large(len: u64, max: u64, what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("{len} bytes is more than a {what} may hold ({max} bytes)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_bound_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(read_bounded(&p, 5, "test file").unwrap(), b"hello");
        let e = read_bounded(&p, 4, "test file").unwrap_err();
        assert_eq!(
            e.to_string(),
            "5 bytes is more than a test file may hold (4 bytes)"
        );
        assert_eq!(read_text_bounded(&p, 5, "test file").unwrap(), "hello");
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert!(read_text_bounded(&p, 5, "test file")
            .unwrap_err()
            .to_string()
            .contains("not UTF-8"));
    }

    #[test]
    fn directories_devices_and_fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_bounded(dir.path(), 1 << 20, "model file").unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20, "model file").unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = read_bounded(&fifo, 1 << 20, "model file").unwrap_err();
            assert!(e.to_string().contains("FIFO"), "{e}");
        } else {
            eprintln!("mkfifo unavailable: FIFO case skipped");
        }
    }
}
