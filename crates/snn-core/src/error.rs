//! Typed errors of snn-core. Every message is one line that names the file (or layer) and the cause.

use std::path::PathBuf;

/// A network description that cannot be used: bad TOML, unknown keys, impossible shapes.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The TOML text could not be parsed or does not match the schema (line and key are in `msg`).
    #[error("{path}: {msg}")]
    Toml { path: PathBuf, msg: String },
    /// The file could not be read.
    #[error("{path}: cannot read network file: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A value is out of range or the layers do not fit together.
    #[error("{context}: {msg}")]
    Invalid { context: String, msg: String },
    /// No built-in preset has this name.
    #[error(
        "unknown architecture '{0}' (built-in: lenet, vgg7, vgg9, resnet7, resnet9, resnet11; or give a .toml file)"
    )]
    UnknownPreset(String),
}

/// A framed file (model, mapping) that cannot be read or written. `kind` names the file kind.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Underlying I/O failure.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file does not start with the expected magic bytes.
    #[error("{path}: not an snn {kind} file (bad magic bytes)")]
    BadMagic { path: PathBuf, kind: &'static str },
    /// The file was written by a newer snn with a format this build does not know.
    #[error("{path}: {kind} file format version {found} is newer than this build supports ({supported}); upgrade snn")]
    NewerVersion {
        path: PathBuf,
        kind: &'static str,
        found: u32,
        supported: u32,
    },
    /// The file has an older format that this build no longer reads (its payload changed).
    #[error("{path}: {kind} file format version {found} is older than this build reads ({oldest} or newer); {remedy}")]
    OlderVersion {
        path: PathBuf,
        kind: &'static str,
        found: u32,
        oldest: u32,
        remedy: &'static str,
    },
    /// A header field holds a value no snn build writes (version 0, flags set).
    #[error("{path}: bad {kind} file header: {msg}")]
    Header {
        path: PathBuf,
        kind: &'static str,
        msg: String,
    },
    /// The file ends inside its header.
    #[error("{path}: truncated {kind} file: {found} bytes, shorter than the 28-byte header")]
    ShortHeader {
        path: PathBuf,
        kind: &'static str,
        found: u64,
    },
    /// The file is shorter (or longer) than its header says.
    #[error("{path}: truncated or padded {kind} file: header promises {expected} payload bytes, file holds {found}")]
    Length {
        path: PathBuf,
        kind: &'static str,
        expected: u64,
        found: u64,
    },
    /// The payload's checksum does not match the header.
    #[error(
        "{path}: corrupt {kind} file: checksum {found:08x} does not match header {expected:08x}"
    )]
    Checksum {
        path: PathBuf,
        kind: &'static str,
        expected: u32,
        found: u32,
    },
    /// The payload decoded but does not describe a consistent value.
    #[error("{path}: inconsistent {kind}: {msg}")]
    Inconsistent {
        path: PathBuf,
        kind: &'static str,
        msg: String,
    },
    /// The payload could not be decoded.
    #[error("{path}: cannot decode {kind} payload: {msg}")]
    Decode {
        path: PathBuf,
        kind: &'static str,
        msg: String,
    },
}

/// Errors of the model file (the framed-file errors with `kind = "model"`).
pub type ModelFileError = FileError;
