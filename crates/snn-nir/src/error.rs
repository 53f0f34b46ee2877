//! Typed errors of snn-nir. Every message is one line naming the file and the cause.

use std::path::PathBuf;

/// A NIR file that cannot be read, converted or written.
#[derive(Debug, thiserror::Error)]
pub enum NirError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The file is not HDF5, or the HDF5 structure is damaged (truncated, garbage).
    #[error("{path}: not a readable NIR (HDF5) file: {}", one_line(msg))]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// What the HDF5 reader reported.
        msg: String,
    },
    /// A node type snn cannot run (CubaLIF, Delay, Scale, Threshold, Conv1d, …).
    #[error(
        "unsupported node type {} in {path} (node '{}')",
        one_line(kind),
        one_line(node)
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The node's NIR type.
        kind: String,
        /// The node's name.
        node: String,
    },
    /// A dataset the node type requires is absent.
    #[error(
        "{path}: node '{}' ({}) has no '{}' dataset",
        one_line(node),
        one_line(kind),
        one_line(field)
    )]
    Missing {
        /// The file.
        path: PathBuf,
        /// The node's name (or `/` for the graph).
        node: String,
        /// The node's NIR type.
        kind: String,
        /// The missing dataset.
        field: String,
    },
    /// A node's data is malformed: wrong shape, wrong type, non-uniform parameters, bad values.
    #[error("{path}: node '{}': {}", one_line(node), one_line(msg))]
    Node {
        /// The file.
        path: PathBuf,
        /// The node's name.
        node: String,
        /// What is wrong.
        msg: String,
    },
    /// The graph is well formed but snn's semantics cannot run it.
    #[error("{path}: cannot run this graph: {}", one_line(msg))]
    Graph {
        /// The file.
        path: PathBuf,
        /// Why.
        msg: String,
    },
    /// The model to export is inconsistent, or the imported model fails snn's checks.
    #[error("{path}: {}", one_line(msg))]
    Model {
        /// The file.
        path: PathBuf,
        /// What the check reported.
        msg: String,
    },
    /// A `.snn` model file that cannot be read (the loader found no HDF5 signature).
    #[error(transparent)]
    Snn(#[from] snn_core::ModelFileError),
}

/// `text` with control characters escaped (`\n` → `\\n`): names and messages read from a
/// file must not break the one-line error (found by the fuzzer: a node type with a newline).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
