//! Writing a figure to disk: pick the backend from the file name, draw into a temporary sibling
//! file ([`snn_core::atomic::temp_sibling`], the one mechanism every file the tools write goes
//! through), and persist it over the target, so a reader never sees a half-written chart.

use snn_core::atomic::temp_sibling;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend};

use crate::error::{DrawFailure, PlotError};
use crate::font;
use crate::palette;

/// Something that can draw itself onto a blank image of a fixed size.
pub(crate) trait Figure {
    /// Image size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws onto `root`, which is already filled with the background colour.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure>;
}

/// The image format named by the file's extension, "png" or "svg" (in any case).
fn format(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    ["png", "svg"].into_iter().find(|f| *f == ext)
}

/// Draws `figure` and writes it to `path` (PNG or SVG by extension), atomically.
pub(crate) fn write(path: &Path, figure: &impl Figure) -> Result<(), PlotError> {
    let format = format(path).ok_or_else(|| PlotError::UnsupportedFormat {
        path: path.to_owned(),
    })?;
    if !font::ensure_registered() {
        return Err(PlotError::Font {
            path: path.to_owned(),
        });
    }
    let write_error = |source| PlotError::Write {
        path: path.to_owned(),
        source,
    };
    // Creating the file ourselves first turns a missing or read-only directory into the
    // operating system's own message instead of an image-encoder error.
    // The temporary name ends in `.tmp.{format}`: the backend's encoder goes by the extension.
    let temp = temp_sibling(path, &format!(".tmp.{format}")).map_err(write_error)?;

    // The backend is dropped at the end of `draw_to`, before the temporary file is persisted
    // or removed (plotters' backends save on drop). The encoder goes by the extension.
    let drawn = match format {
        "png" => draw_to(BitMapBackend::new(temp.path(), figure.size()), figure),
        _ => draw_to(SVGBackend::new(temp.path(), figure.size()), figure),
    };
    if let Err(DrawFailure(message)) = drawn {
        return Err(PlotError::Draw {
            path: path.to_owned(),
            message,
        });
    }
    temp.persist(path)
        .map(|_| ())
        .map_err(|e| write_error(e.error))
}

fn draw_to<DB: DrawingBackend>(backend: DB, figure: &impl Figure) -> Result<(), DrawFailure> {
    let root = backend.into_drawing_area();
    root.fill(&palette::BACKGROUND)?;
    figure.draw(&root)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_is_a_hidden_sibling_with_the_same_extension() {
        let dir = tempfile::tempdir().unwrap();
        let temp = temp_sibling(&dir.path().join("curves.png"), ".tmp.png").unwrap();
        assert_eq!(temp.path().parent(), Some(dir.path()));
        let name = temp.path().file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".curves."), "{name}");
        assert!(name.ends_with(".tmp.png"), "{name}");
    }

    #[test]
    fn format_follows_the_extension_case_insensitively() {
        assert_eq!(format(Path::new("a.PNG")), Some("png"));
        assert_eq!(format(Path::new("a.svg")), Some("svg"));
        assert_eq!(format(Path::new("a.jpg")), None);
        assert_eq!(format(Path::new("a")), None);
    }
}
