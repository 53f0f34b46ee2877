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
    #[error("{path}: not a readable NIR (HDF5) file: {msg}")]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// What the HDF5 reader reported.
        msg: String,
    },
    /// A node type snn cannot run (CubaLIF, Delay, Scale, Threshold, Conv1d, …).
    #[error("unsupported node type {kind} in {path} (node '{node}')")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The node's NIR type.
        kind: String,
        /// The node's name.
        node: String,
    },
    /// A dataset the node type requires is absent.
    #[error("{path}: node '{node}' ({kind}) has no '{field}' dataset")]
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
    #[error("{path}: node '{node}': {msg}")]
    Node {
        /// The file.
        path: PathBuf,
        /// The node's name.
        node: String,
        /// What is wrong.
        msg: String,
    },
    /// The graph is well formed but snn's semantics cannot run it.
    #[error("{path}: cannot run this graph: {msg}")]
    Graph {
        /// The file.
        path: PathBuf,
        /// Why.
        msg: String,
    },
    /// The model to export is inconsistent, or the imported model fails snn's checks.
    #[error("{path}: {msg}")]
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
