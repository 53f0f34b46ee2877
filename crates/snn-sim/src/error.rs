//! Errors of the simulator: one line each, naming the file and the cause.

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Model or mapping problems (corrupt file, wrong model, bad chip).
    #[error(transparent)]
    Map(#[from] snn_map::MapError),
    /// A model file problem.
    #[error(transparent)]
    File(#[from] snn_core::FileError),
    /// Data set problems.
    #[error(transparent)]
    Data(#[from] snn_data::DataError),
    /// A bad command-line value or an inconsistent combination.
    #[error("{0}")]
    Usage(String),
    /// Writing a report or chart failed.
    #[error("{path}: {msg}")]
    Output {
        /// File being written.
        path: std::path::PathBuf,
        /// Cause.
        msg: String,
    },
}
