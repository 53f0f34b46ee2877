//! Legends drawn in their own band above the plot, so they never cover data (plotters' own
//! series labels are drawn inside the plot area).

use plotters::coord::Shift;
use plotters::element::{Circle, PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor};

use crate::error::DrawFailure;
use crate::font;
use crate::palette;

/// The symbol drawn in front of a legend label; it matches how the series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// A line segment (a line series without point markers).
    Line,
    /// A line segment with a dot (a line series with point markers).
    LineAndDot,
    /// A hollow ring (a highlighted point).
    Ring,
    /// A filled box (a bar series).
    Swatch,
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendEntry {
    /// The text shown.
    pub(crate) label: String,
    /// The series colour.
    pub(crate) color: RGBColor,
    /// The symbol in front of the text.
    pub(crate) mark: Mark,
}

impl LegendEntry {
    /// An entry reading `label` after `mark` in `color`.
    pub(crate) fn new(label: &str, color: RGBColor, mark: Mark) -> LegendEntry {
        let label = label.to_string();
        LegendEntry { label, color, mark }
    }
}

const MARK_W: i32 = 36;
const MARK_TEXT_GAP: i32 = 8;
const ENTRY_GAP: i32 = 32;
const ROW_H: i32 = 30;
const BAND_PAD: i32 = 6;

/// Draws `entries` in rows centred between pixel columns `left` and `left + width` of a band at
/// the top of `area` (an entry wider than a row gets a row of its own), and returns the area
/// under the band (all of `area` without entries).
pub(crate) fn band<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    left: i32,
    width: i32,
) -> Result<DrawingArea<DB, Shift>, DrawFailure> {
    let style = font::text(font::LEGEND_PX, palette::INK);
    // Each row: the entries with their widths in pixels, and the row's width.
    let mut rows: Vec<(Vec<(&LegendEntry, i32)>, i32)> = Vec::new();
    for entry in entries {
        let entry_w =
            MARK_W + MARK_TEXT_GAP + area.estimate_text_size(&entry.label, &style)?.0 as i32;
        match rows.last_mut() {
            Some((row, row_w)) if *row_w + ENTRY_GAP + entry_w <= width => {
                row.push((entry, entry_w));
                *row_w += ENTRY_GAP + entry_w;
            }
            _ => rows.push((vec![(entry, entry_w)], entry_w)),
        }
    }
    if rows.is_empty() {
        return Ok(area.clone());
    }
    let (band, rest) = area.split_vertically(rows.len() as i32 * ROW_H + 2 * BAND_PAD);
    let style = style.pos(Pos::new(HPos::Left, VPos::Center));
    for (r, (row, row_w)) in rows.iter().enumerate() {
        let mut x = left + ((width - row_w) / 2).max(0);
        let cy = BAND_PAD + r as i32 * ROW_H + ROW_H / 2;
        for (entry, entry_w) in row {
            draw_mark(&band, entry.mark, entry.color, x, cy)?;
            let at = (x + MARK_W + MARK_TEXT_GAP, cy);
            band.draw(&Text::new(entry.label.as_str(), at, style.clone()))?;
            x += entry_w + ENTRY_GAP;
        }
    }
    Ok(rest)
}

fn draw_mark<DB: DrawingBackend>(
    band: &DrawingArea<DB, Shift>,
    mark: Mark,
    color: RGBColor,
    x: i32,
    cy: i32,
) -> Result<(), DrawFailure> {
    let mid = x + MARK_W / 2;
    match mark {
        Mark::Line | Mark::LineAndDot => {
            let line = [(x, cy), (x + MARK_W, cy)];
            band.draw(&PathElement::new(line, color.stroke_width(3)))?;
            if mark == Mark::LineAndDot {
                band.draw(&Circle::new((mid, cy), 5, color.filled()))?;
            }
        }
        Mark::Ring => band.draw(&Circle::new((mid, cy), 9, color.stroke_width(3)))?,
        Mark::Swatch => band.draw(&Rectangle::new(
            [(x + 6, cy - 9), (x + MARK_W - 6, cy + 9)],
            color.filled(),
        ))?,
    }
    Ok(())
}
