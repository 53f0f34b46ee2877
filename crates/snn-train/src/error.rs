//! Errors of the trainer library; the binary prints them as one line and exits non-zero.

use std::path::PathBuf;

/// Why a training or evaluation run stopped.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Bad data files.
    #[error(transparent)]
    Data(#[from] snn_data::DataError),
    /// Bad network description.
    #[error(transparent)]
    Spec(#[from] snn_core::SpecError),
    /// Bad model file.
    #[error(transparent)]
    Model(#[from] snn_core::ModelFileError),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A flag value is invalid.
    #[error("{0}")]
    Config(String),
    /// A chart could not be drawn.
    #[error(transparent)]
    Plot(#[from] snn_plot::PlotError),
    /// The loss became NaN/infinite or exploded.
    #[error("training diverged at epoch {epoch}, batch {batch}: loss per sample {loss}; {} (try a smaller --lr)", kept(checkpoint.as_deref()))]
    Diverged {
        /// 1-based epoch.
        epoch: u32,
        /// Batch index within the epoch.
        batch: usize,
        /// Loss per sample of that batch.
        loss: f64,
        /// The checkpoint left untouched; `None` when none had been written yet.
        checkpoint: Option<PathBuf>,
    },
    /// Stopped by Ctrl-C (or `--stop-after-batches`) after writing a checkpoint.
    #[error("interrupted at epoch {epoch}, batch {batch}; checkpoint written to {checkpoint}; continue with --resume {dir}")]
    Interrupted {
        /// 1-based epoch that was running.
        epoch: u32,
        /// Next batch to run in that epoch.
        batch: usize,
        /// The checkpoint written.
        checkpoint: PathBuf,
        /// The run directory to pass to `--resume`.
        dir: PathBuf,
    },
}

/// What a diverged run leaves behind, for its error message.
fn kept(checkpoint: Option<&std::path::Path>) -> String {
    match checkpoint {
        Some(p) => format!("kept the last good checkpoint {}", p.display()),
        None => "no checkpoint was written (it diverged before its first epoch ended)".into(),
    }
}

impl TrainError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
        move |source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
