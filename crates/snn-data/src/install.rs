//! Installing fetched data files: sha256 checksums, the atomic write of a file into the data
//! directory, and the report of a fetch; shared by the registry fetch ([`crate::fetch`]) and the
//! CIFAR-10 import ([`crate::cifar`]).

use crate::dataset::DatasetKind;
use crate::idx::io_err;
use crate::DataError;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a fetch did ([`crate::fetch::fetch`], [`crate::cifar::fetch`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchReport {
    /// The data set fetched.
    pub kind: DatasetKind,
    /// The directory now holding its four IDX files.
    pub dir: PathBuf,
    /// True when all four files were already there with the right checksums, so nothing was
    /// downloaded or written.
    pub already_present: bool,
    /// `(file name, sha256)` of the four files, in the order of [`crate::fetch::expected_files`].
    pub files: Vec<(String, String)>,
}

/// The lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The lowercase hex sha256 of a file's contents, `None` if the file does not exist.
pub fn sha256_file(path: &Path) -> Result<Option<String>, DataError> {
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, "open", e)),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| io_err(path, "read", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Some(hex(&hasher.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `<dir>/<name>` atomically: to a hidden temporary name in `dir`, flushed to
/// disk, then renamed over the final name. The temporary file is removed on any failure.
pub(crate) fn install(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), DataError> {
    let dest = dir.join(name);
    snn_core::atomic::write_atomic(&dest, bytes).map_err(|e| io_err(&dest, "write", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_leaves_only_the_final_file() {
        let dir = tempfile::tempdir().unwrap();
        install(dir.path(), "f", b"data").unwrap();
        install(dir.path(), "f", b"new data").unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
        assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"new data");
    }
}
