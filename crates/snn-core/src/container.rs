//! The framed binary file shared by every snn file format (model `.snn`, mapping `.bin`):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic (one per file kind) |
//! | 8 | 4 | format version (little-endian u32) |
//! | 12 | 4 | flags (0) |
//! | 16 | 8 | payload length in bytes (u64) |
//! | 24 | 4 | CRC-32 (IEEE) of the payload |
//! | 28 | n | payload, serialized by the payload module |
//!
//! Reading checks magic, version, length and checksum before decoding, so a truncated, corrupt
//! or foreign file is a distinct one-line error naming the file.

use crate::atomic::write_atomic;
use crate::error::FileError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

const HEADER_LEN: usize = 28;

/// One kind of framed file: its magic bytes, current version and a human name for messages.
#[derive(Clone, Copy, Debug)]
pub struct FileKind {
    /// Magic bytes at the start of the file.
    pub magic: &'static [u8; 8],
    /// Version written by this build; files with a higher version are refused.
    pub version: u32,
    /// Oldest version this build decodes; older files are refused with `remedy`.
    pub oldest: u32,
    /// What to do with a file older than `oldest` (e.g. "map the model again").
    pub remedy: &'static str,
    /// What the file is, for messages ("model", "mapping").
    pub name: &'static str,
    /// Largest file accepted, checked before reading ([`crate::bounded`]).
    pub max_bytes: u64,
}

impl FileKind {
    /// Frames a value: header + payload bytes.
    pub fn to_bytes<T: Serialize>(&self, value: &T) -> Vec<u8> {
        let payload = crate::payload::encode(value).expect("file payloads always serialize");
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(self.magic);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Checks the frame and decodes the payload; `path` is used in error messages.
    pub fn from_bytes<T: DeserializeOwned>(
        &self,
        bytes: &[u8],
        path: &Path,
    ) -> Result<T, FileError> {
        let p = || path.to_path_buf();
        let kind = self.name;
        if bytes.len() < 8 || &bytes[..8] != self.magic {
            return Err(FileError::BadMagic { path: p(), kind });
        }
        if bytes.len() < HEADER_LEN {
            return Err(FileError::ShortHeader {
                path: p(),
                kind,
                found: bytes.len() as u64,
            });
        }
        let u32_at =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let version = u32_at(8);
        if version == 0 {
            return Err(FileError::Header {
                path: p(),
                kind,
                msg: "format version 0 does not exist (versions start at 1)".into(),
            });
        }
        if u32_at(12) != 0 {
            return Err(FileError::Header {
                path: p(),
                kind,
                msg: format!(
                    "flags word {:#010x} is not 0 (no flags are defined)",
                    u32_at(12)
                ),
            });
        }
        if version > self.version {
            return Err(FileError::NewerVersion {
                path: p(),
                kind,
                found: version,
                supported: self.version,
            });
        }
        if version < self.oldest {
            return Err(FileError::OlderVersion {
                path: p(),
                kind,
                found: version,
                oldest: self.oldest,
                remedy: self.remedy,
            });
        }
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(&bytes[16..24]);
        let expected = u64::from_le_bytes(len8);
        let payload = &bytes[HEADER_LEN..];
        if payload.len() as u64 != expected {
            return Err(FileError::Length {
                path: p(),
                kind,
                expected,
                found: payload.len() as u64,
            });
        }
        let crc = crc32fast::hash(payload);
        if crc != u32_at(24) {
            return Err(FileError::Checksum {
                path: p(),
                kind,
                expected: u32_at(24),
                found: crc,
            });
        }
        crate::payload::decode(payload).map_err(|msg| FileError::Decode {
            path: p(),
            kind,
            msg,
        })
    }

    /// Writes a value atomically (temporary file + rename).
    pub fn save<T: Serialize>(&self, value: &T, path: &Path) -> Result<(), FileError> {
        write_atomic(path, &self.to_bytes(value)).map_err(|source| FileError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads and decodes a file.
    pub fn load<T: DeserializeOwned>(&self, path: &Path) -> Result<T, FileError> {
        let what = format!("{} file", self.name);
        let bytes =
            crate::bounded::read_bounded(path, self.max_bytes, &what).map_err(|source| {
                FileError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        self.from_bytes(&bytes, path)
    }
}
