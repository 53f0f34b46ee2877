//! Writing a figure to disk: pick the backend from the file name, draw into a temporary sibling
//! file, and rename it into place, so a reader never sees a half-written chart.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
    let temp = temp_path(path, format).ok_or_else(|| PlotError::InvalidInput {
        path: path.to_owned(),
        reason: "the path has no file name".to_string(),
    })?;
    let write_error = |source| PlotError::Write {
        path: path.to_owned(),
        source,
    };
    // Creating the file ourselves first turns a missing or read-only directory into the
    // operating system's own message instead of an image-encoder error.
    fs::File::create(&temp).map_err(write_error)?;

    // The backend is dropped at the end of `draw_to`, before the temporary file is renamed or
    // removed (plotters' backends save on drop).
    let drawn = match format {
        "png" => draw_to(BitMapBackend::new(&temp, figure.size()), figure),
        _ => draw_to(SVGBackend::new(&temp, figure.size()), figure),
    };
    if let Err(DrawFailure(message)) = drawn {
        let _ = fs::remove_file(&temp);
        return Err(PlotError::Draw {
            path: path.to_owned(),
            message,
        });
    }
    fs::rename(&temp, path).map_err(|source| {
        let _ = fs::remove_file(&temp);
        write_error(source)
    })
}

fn draw_to<DB: DrawingBackend>(backend: DB, figure: &impl Figure) -> Result<(), DrawFailure> {
    let root = backend.into_drawing_area();
    root.fill(&palette::BACKGROUND)?;
    figure.draw(&root)?;
    root.present()?;
    Ok(())
}

/// `dir/.name.<pid>-<n>.tmp.png` for `dir/name.png`: same directory (so the rename is atomic),
/// hidden, unique per process and call, and still ending in the extension the backend's encoder
/// goes by.
fn temp_path(path: &Path, format: &str) -> Option<PathBuf> {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let stem = path.file_stem()?.to_str()?;
    let name = format!(
        ".{stem}.{}-{}.tmp.{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed),
        format
    );
    Some(path.with_file_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_is_a_hidden_sibling_with_the_same_extension() {
        let temp = temp_path(Path::new("out/curves.png"), "png").unwrap();
        assert_eq!(temp.parent(), Some(Path::new("out")));
        let name = temp.file_name().unwrap().to_str().unwrap();
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
