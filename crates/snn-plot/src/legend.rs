//! Legends drawn in their own band above the plot, so they never cover data.

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

const MARK_W: i32 = 36;
const MARK_TEXT_GAP: i32 = 8;
const ENTRY_GAP: i32 = 32;
const ROW_H: i32 = 30;
const BAND_PAD: i32 = 6;

/// Entries laid out in centred rows that fit a given width.
pub(crate) struct Legend<'e> {
    entries: &'e [LegendEntry],
    /// Each row: the entries' indices and widths in pixels.
    rows: Vec<Vec<(usize, i32)>>,
}

impl<'e> Legend<'e> {
    /// Wraps `entries` into rows no wider than `width` pixels (an entry wider than that gets a
    /// row of its own).
    pub(crate) fn layout<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        entries: &'e [LegendEntry],
        width: i32,
    ) -> Result<Legend<'e>, DrawFailure> {
        let style = font::text(font::LEGEND_PX, palette::INK);
        let mut rows: Vec<Vec<(usize, i32)>> = Vec::new();
        let mut row_width = 0;
        for (i, entry) in entries.iter().enumerate() {
            let (text_w, _) = area.estimate_text_size(&entry.label, &style)?;
            let entry_w = MARK_W + MARK_TEXT_GAP + text_w as i32;
            match rows.last_mut() {
                Some(row) if row_width + ENTRY_GAP + entry_w <= width => {
                    row.push((i, entry_w));
                    row_width += ENTRY_GAP + entry_w;
                }
                _ => {
                    rows.push(vec![(i, entry_w)]);
                    row_width = entry_w;
                }
            }
        }
        Ok(Legend { entries, rows })
    }

    /// Height of the band the legend needs (0 when there are no entries).
    pub(crate) fn height(&self) -> i32 {
        if self.rows.is_empty() {
            0
        } else {
            self.rows.len() as i32 * ROW_H + 2 * BAND_PAD
        }
    }

    /// Draws the rows into `band`, each centred between pixel columns `left` and `right`.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        band: &DrawingArea<DB, Shift>,
        left: i32,
        right: i32,
    ) -> Result<(), DrawFailure> {
        let style =
            font::text(font::LEGEND_PX, palette::INK).pos(Pos::new(HPos::Left, VPos::Center));
        for (r, row) in self.rows.iter().enumerate() {
            let row_w: i32 =
                row.iter().map(|(_, w)| w).sum::<i32>() + ENTRY_GAP * (row.len() as i32 - 1);
            let mut x = left + ((right - left - row_w) / 2).max(0);
            let cy = BAND_PAD + r as i32 * ROW_H + ROW_H / 2;
            for &(i, entry_w) in row {
                let entry = &self.entries[i];
                draw_mark(band, entry.mark, entry.color, x, cy)?;
                band.draw(&Text::new(
                    entry.label.clone(),
                    (x + MARK_W + MARK_TEXT_GAP, cy),
                    style.clone(),
                ))?;
                x += entry_w + ENTRY_GAP;
            }
        }
        Ok(())
    }
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
            band.draw(&PathElement::new(
                vec![(x, cy), (x + MARK_W, cy)],
                color.stroke_width(3),
            ))?;
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
