//! The one error type of this crate.

use std::path::PathBuf;

/// Why a chart could not be written. Every message is one line and names the output path.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The output file (or its temporary sibling) could not be created, written or renamed.
    #[error("cannot write chart {}: {source}", path.display())]
    Write {
        /// The chart file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file name does not say which image format to write.
    #[error("cannot write chart {}: the file name must end in .png or .svg", path.display())]
    UnsupportedFormat {
        /// The chart file that was asked for.
        path: PathBuf,
    },
    /// The caller's data cannot describe a chart (e.g. 5 categories but 4 values).
    #[error("cannot draw chart {}: {reason}", path.display())]
    InvalidInput {
        /// The chart file that was asked for.
        path: PathBuf,
        /// What is inconsistent about the input.
        reason: String,
    },
    /// The embedded DejaVu Sans font was rejected by the glyph rasteriser.
    #[error("cannot draw chart {}: the embedded DejaVu Sans font could not be loaded", path.display())]
    Font {
        /// The chart file that was asked for.
        path: PathBuf,
    },
    /// plotters failed while drawing or encoding the image.
    #[error("cannot draw chart {}: {message}", path.display())]
    Draw {
        /// The chart file that was asked for.
        path: PathBuf,
        /// plotters' description of the failure.
        message: String,
    },
}

/// A drawing failure before it is tied to an output path; `?` converts plotters' errors into it.
#[derive(Debug)]
pub(crate) struct DrawFailure(pub(crate) String);

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for DrawFailure
{
    fn from(error: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        DrawFailure(error.to_string())
    }
}
