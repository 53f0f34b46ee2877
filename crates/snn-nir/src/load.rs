//! One loader for every tool that reads a model: picks `.snn` or NIR by the file's magic
//! bytes, so existing `.snn` files keep working unchanged.

use crate::error::NirError;
use crate::import::{from_graph, Imported};
use snn_core::Model;
use std::io::Read;
use std::path::Path;

/// The HDF5 signature NIR files start with.
const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Reads a NIR file into a model; `dt` as in [`from_graph`].
pub fn load_nir(path: &Path, dt: Option<f64>) -> Result<Imported, NirError> {
    let graph = crate::read::read_file(path)?;
    from_graph(&graph, path, dt)
}

/// True when the file starts with the HDF5 signature. Only regular files are opened (a FIFO
/// would block).
pub fn is_nir(path: &Path) -> Result<bool, NirError> {
    let max = snn_core::bounded::MAX_MODEL_BYTES.max(crate::read::MAX_FILE_BYTES);
    snn_core::bounded::regular_file_len(path, max, "model file").map_err(|source| {
        NirError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let mut head = [0u8; 8];
    let mut f = std::fs::File::open(path).map_err(|source| NirError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let n = f.read(&mut head).map_err(|source| NirError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(n == 8 && &head == HDF5_MAGIC)
}

/// Reads a model from an `.snn` file or a NIR file, whichever the magic bytes say. `dt`
/// applies to NIR files only. A `.snn` file gives no notes.
pub fn load_any(path: &Path, dt: Option<f64>) -> Result<Imported, NirError> {
    if is_nir(path)? {
        load_nir(path, dt)
    } else {
        Ok(Imported {
            model: Model::load(path)?,
            notes: Vec::new(),
        })
    }
}
