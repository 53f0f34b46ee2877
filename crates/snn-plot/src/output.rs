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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
}

impl Format {
    fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(Format::Png),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// Draws `figure` and writes it to `path` (PNG or SVG by extension), atomically.
pub(crate) fn write(path: &Path, figure: &impl Figure) -> Result<(), PlotError> {
    let format = Format::of(path).ok_or_else(|| PlotError::UnsupportedFormat {
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
        Format::Png => draw_to(BitMapBackend::new(&temp, figure.size()), figure),
        Format::Svg => draw_to(SVGBackend::new(&temp, figure.size()), figure),
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
fn temp_path(path: &Path, format: Format) -> Option<PathBuf> {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let stem = path.file_stem()?.to_str()?;
    let name = format!(
        ".{stem}.{}-{}.tmp.{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed),
        format.extension()
    );
    Some(path.with_file_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_is_a_hidden_sibling_with_the_same_extension() {
        let temp = temp_path(Path::new("out/curves.png"), Format::Png).unwrap();
        assert_eq!(temp.parent(), Some(Path::new("out")));
        let name = temp.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".curves."), "{name}");
        assert!(name.ends_with(".tmp.png"), "{name}");
    }

    #[test]
    fn format_follows_the_extension_case_insensitively() {
        assert_eq!(Format::of(Path::new("a.PNG")), Some(Format::Png));
        assert_eq!(Format::of(Path::new("a.svg")), Some(Format::Svg));
        assert_eq!(Format::of(Path::new("a.jpg")), None);
        assert_eq!(Format::of(Path::new("a")), None);
    }
}
