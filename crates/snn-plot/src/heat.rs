//! Heat maps: a grid of cells (e.g. core utilization per mesh tile) coloured on a sequential
//! scale, with row and column indices, a colour bar, and optional chip boundaries.
//!
//! Cells are square. The image grows with the grid up to a fixed plot size, beyond which cells
//! shrink (a 64×64 mesh gets cells of about 11 pixels); tick labels are thinned and per-cell
//! numbers dropped when there is no room for them.

use plotters::coord::Shift;
use plotters::element::{PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontTransform, RGBColor, TextStyle};

use crate::axis::{compact, finite_extent, Axis};
use crate::error::DrawFailure;
use crate::font;
use crate::output::Figure;
use crate::palette;
use crate::panel;
use crate::size::CHART_SIZE;

/// The grid never gets wider or taller than this many pixels; cells shrink instead.
const MAX_GRID_W: f64 = 1100.0;
const MAX_GRID_H: f64 = 720.0;
/// Cells never get bigger than this, however small the grid.
const MAX_CELL: f64 = 72.0;
/// The image is at least this wide, so the title and the colour bar always fit.
const MIN_IMAGE_W: i32 = 900;
const MARGIN: i32 = 16;
/// Tick mark length, and the gap between a tick mark and its label.
const TICK_LEN: i32 = 5;
const TICK_GAP: i32 = 4;
/// Gap between tick labels and the axis title.
const LABEL_TITLE_GAP: i32 = 8;
/// Colour bar: gap above it, its height, and its width limits.
const BAR_GAP: i32 = 22;
const BAR_H: i32 = 22;
const BAR_MIN_W: i32 = 360;
const BAR_MAX_W: i32 = 600;
/// The "no data" swatch next to the colour bar, and the gap before it.
const SWATCH: i32 = 22;
const SWATCH_GAP: i32 = 36;
/// Thickness of the chip-boundary lines.
const SEPARATOR_W: i32 = 3;
/// Cells at least this big get a white gap around them and hatching when empty.
const GAP_MIN_CELL: f64 = 8.0;
const HATCH_MIN_CELL: f64 = 10.0;
/// Smallest font for the numbers inside cells; below it the numbers are left out.
const MIN_CELL_TEXT_PX: f64 = 10.0;

/// Fill and hatching of a cell without data.
const EMPTY_FILL: RGBColor = RGBColor(242, 242, 242);
const EMPTY_HATCH: RGBColor = RGBColor(190, 190, 190);
/// Text on dark cells.
const LIGHT_TEXT: RGBColor = RGBColor(255, 255, 255);

/// matplotlib's "viridis" at nine evenly spaced points: dark purple (low) to yellow (high),
/// perceptually even, readable in greyscale, and distinct from the grey of empty cells.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

pub(crate) struct HeatMap<'a> {
    pub(crate) title: &'a str,
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    pub(crate) value_label: &'a str,
    /// Rectangular (every row as long as the first).
    pub(crate) cells: &'a [Vec<Option<f64>>],
    /// Thicker lines every this many columns; 0 for none.
    pub(crate) column_separator_every: usize,
}

/// Where everything goes, in pixels of the whole image; pure arithmetic on the grid shape so
/// that `size` and `draw` agree.
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    width: i32,
    height: i32,
    /// Side of one cell (fractional: cell edges are rounded to whole pixels).
    cell: f64,
    grid_left: i32,
    grid_top: i32,
    grid_w: i32,
    grid_h: i32,
    /// Top of the x axis title.
    x_title_top: i32,
    /// Left edge of the rotated y axis title.
    y_title_left: i32,
    /// Top of the colour bar.
    bar_top: i32,
}

impl Layout {
    fn new(rows: usize, cols: usize, title_h: i32) -> Layout {
        let cell = (MAX_GRID_W / cols as f64)
            .min(MAX_GRID_H / rows as f64)
            .min(MAX_CELL);
        let grid_w = (cell * cols as f64).round() as i32;
        let grid_h = (cell * rows as f64).round() as i32;
        // Row labels are indices; DejaVu digits are 0.64 em wide.
        let digits = (rows.saturating_sub(1).max(1) as f64).log10().floor() as i32 + 1;
        let row_label_w = (digits as f64 * 0.64 * font::TICK_PX).ceil() as i32 + 2;
        let left = MARGIN
            + font::AXIS_TITLE_PX as i32
            + LABEL_TITLE_GAP
            + row_label_w
            + TICK_GAP
            + TICK_LEN;
        let right = MARGIN + 12;
        let width = MIN_IMAGE_W.max(left + grid_w + right);
        // Centre the grid when the image is wider than it needs to be.
        let grid_left = left.max((width - grid_w) / 2);
        let grid_top = title_h + 8;
        let x_title_top =
            grid_top + grid_h + TICK_LEN + TICK_GAP + font::TICK_PX as i32 + LABEL_TITLE_GAP;
        let bar_top = x_title_top + font::AXIS_TITLE_PX as i32 + BAR_GAP;
        let height = bar_top
            + BAR_H
            + TICK_LEN
            + TICK_GAP
            + font::TICK_PX as i32
            + LABEL_TITLE_GAP
            + font::AXIS_TITLE_PX as i32
            + MARGIN;
        Layout {
            width,
            height,
            cell,
            grid_left,
            grid_top,
            grid_w,
            grid_h,
            x_title_top,
            y_title_left: grid_left
                - TICK_LEN
                - TICK_GAP
                - row_label_w
                - LABEL_TITLE_GAP
                - font::AXIS_TITLE_PX as i32,
            bar_top,
        }
    }

    /// Pixel edges `(start, end)` (end exclusive) of cell number `i` along an axis starting at
    /// `origin`.
    fn edges(&self, origin: i32, i: usize) -> (i32, i32) {
        let start = origin + (i as f64 * self.cell).round() as i32;
        let end = origin + ((i + 1) as f64 * self.cell).round() as i32;
        (start, end.max(start + 1))
    }
}

/// Height of what `panel::title` draws.
fn title_height(title: &str) -> i32 {
    if title.is_empty() {
        14
    } else {
        14 + (font::TITLE_PX * 1.25) as i32 + 6
    }
}

impl HeatMap<'_> {
    fn rows(&self) -> usize {
        self.cells.len()
    }

    fn cols(&self) -> usize {
        self.cells.first().map_or(0, Vec::len)
    }

    fn layout(&self) -> Option<Layout> {
        if self.rows() == 0 || self.cols() == 0 {
            None
        } else {
            Some(Layout::new(
                self.rows(),
                self.cols(),
                title_height(self.title),
            ))
        }
    }

    /// The finite value of a cell, if it has one.
    fn value(&self, row: usize, col: usize) -> Option<f64> {
        self.cells[row][col].filter(|v| v.is_finite())
    }
}

impl Figure for HeatMap<'_> {
    fn size(&self) -> (u32, u32) {
        self.layout()
            .map_or(CHART_SIZE, |l| (l.width as u32, l.height as u32))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = panel::title(root, self.title)?;
        let Some(layout) = self.layout() else {
            let (w, h) = area.dim_in_pixel();
            let style =
                font::text(font::NOTE_PX, palette::MUTED).pos(Pos::new(HPos::Center, VPos::Center));
            area.draw(&Text::new(
                "no data".to_string(),
                (w as i32 / 2, h as i32 / 2),
                style,
            ))?;
            return Ok(());
        };
        let scale = ColourScale::of(
            self.cells
                .iter()
                .flat_map(|row| row.iter().filter_map(|v| *v)),
        );
        self.draw_cells(root, &layout, scale.as_ref())?;
        self.draw_separators(root, &layout)?;
        self.draw_ticks(root, &layout)?;
        self.draw_titles(root, &layout)?;
        let has_empty =
            (0..self.rows()).any(|r| (0..self.cols()).any(|c| self.value(r, c).is_none()));
        draw_colour_bar(root, &layout, scale.as_ref(), self.value_label, has_empty)
    }
}

impl HeatMap<'_> {
    fn draw_cells<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        layout: &Layout,
        scale: Option<&ColourScale>,
    ) -> Result<(), DrawFailure> {
        let gap = if layout.cell >= GAP_MIN_CELL { 1 } else { 0 };
        let text = match scale {
            Some(_) => self.cell_text_style(root, layout)?,
            None => None,
        };
        for r in 0..self.rows() {
            let (y0, y1) = layout.edges(layout.grid_top, r);
            for c in 0..self.cols() {
                let (x0, x1) = layout.edges(layout.grid_left, c);
                let (x1, y1) = ((x1 - gap).max(x0 + 1), (y1 - gap).max(y0 + 1));
                match (self.value(r, c), scale) {
                    (Some(v), Some(scale)) => {
                        let fill = scale.colour(v);
                        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.filled()))?;
                        if let Some(px) = text {
                            let ink = if luminance(fill) > 0.45 {
                                palette::INK
                            } else {
                                LIGHT_TEXT
                            };
                            let style =
                                font::text(px, ink).pos(Pos::new(HPos::Center, VPos::Center));
                            root.draw(&Text::new(
                                compact(v),
                                ((x0 + x1) / 2, (y0 + y1) / 2),
                                style,
                            ))?;
                        }
                    }
                    _ => draw_empty_cell(root, (x0, y0), (x1, y1), layout.cell)?,
                }
            }
        }
        Ok(())
    }

    /// The font size for the numbers inside the cells, or `None` when the widest of them does
    /// not fit its cell even at the smallest size.
    fn cell_text_style<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        layout: &Layout,
    ) -> Result<Option<f64>, DrawFailure> {
        let labels: Vec<String> = (0..self.rows())
            .flat_map(|r| (0..self.cols()).filter_map(move |c| self.value(r, c)))
            .map(compact)
            .collect();
        let room = layout.cell - 8.0;
        let mut px = font::VALUE_PX.min((layout.cell * 0.42).floor());
        while px >= MIN_CELL_TEXT_PX {
            let style = font::text(px, palette::INK);
            let mut widest = 0.0_f64;
            for label in &labels {
                widest = widest.max(root.estimate_text_size(label, &style)?.0 as f64);
            }
            if widest <= room {
                return Ok(Some(px));
            }
            px -= 1.0;
        }
        Ok(None)
    }

    fn draw_separators<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        layout: &Layout,
    ) -> Result<(), DrawFailure> {
        let every = self.column_separator_every;
        if every == 0 {
            return Ok(());
        }
        for c in (every..self.cols()).step_by(every) {
            let (x, _) = layout.edges(layout.grid_left, c);
            // Centred on the white gap that ends the previous cell.
            let x0 = x - 1 - SEPARATOR_W / 2;
            root.draw(&Rectangle::new(
                [
                    (x0, layout.grid_top - 4),
                    (x0 + SEPARATOR_W, layout.grid_top + layout.grid_h + 4),
                ],
                palette::INK.filled(),
            ))?;
        }
        Ok(())
    }

    fn draw_ticks<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        layout: &Layout,
    ) -> Result<(), DrawFailure> {
        let px = if layout.cell >= 20.0 {
            font::TICK_PX
        } else {
            font::MIN_TICK_PX
        };
        let style = font::text(px, palette::INK);
        let tick = palette::INK.stroke_width(1);

        // Columns: labels need their width plus a gap between neighbours.
        let widest = root
            .estimate_text_size(&(self.cols() - 1).to_string(), &style)?
            .0 as f64;
        let step = index_step(widest + 8.0, layout.cell, self.column_separator_every);
        let below = layout.grid_top + layout.grid_h;
        for c in (0..self.cols()).step_by(step) {
            let (x0, x1) = layout.edges(layout.grid_left, c);
            let x = (x0 + x1 - 1) / 2;
            root.draw(&PathElement::new(
                vec![(x, below), (x, below + TICK_LEN)],
                tick,
            ))?;
            root.draw(&Text::new(
                c.to_string(),
                (x, below + TICK_LEN + TICK_GAP),
                style.pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }

        // Rows: labels need their height plus as much air again, so a tall grid is not a wall
        // of numbers.
        let step = index_step(px * 1.8, layout.cell, 0);
        let left = layout.grid_left - 1;
        for r in (0..self.rows()).step_by(step) {
            let (y0, y1) = layout.edges(layout.grid_top, r);
            let y = (y0 + y1 - 1) / 2;
            root.draw(&PathElement::new(
                vec![(left - TICK_LEN, y), (left, y)],
                tick,
            ))?;
            root.draw(&Text::new(
                r.to_string(),
                (left - TICK_LEN - TICK_GAP, y),
                style.pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        Ok(())
    }

    fn draw_titles<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        layout: &Layout,
    ) -> Result<(), DrawFailure> {
        let style = font::text(font::AXIS_TITLE_PX, palette::INK);
        root.draw(&Text::new(
            self.x_label.to_string(),
            (layout.grid_left + layout.grid_w / 2, layout.x_title_top),
            style.pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        // Rotated a quarter turn anticlockwise, reading bottom-up, like the other charts.
        root.draw(&Text::new(
            self.y_label.to_string(),
            (layout.y_title_left, layout.grid_top + layout.grid_h / 2),
            style
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        Ok(())
    }
}

/// The smallest step between labelled indices that leaves `needed` pixels per label with cells
/// of `cell` pixels. With chip boundaries every `every` columns, steps that divide or are
/// multiples of it are preferred, so labels fall on chip starts; otherwise 1, 2, 5, 10, ...
fn index_step(needed: f64, cell: f64, every: usize) -> usize {
    let fits = |step: usize| step as f64 * cell >= needed;
    if every > 1 {
        let divisors = (1..every).filter(|d| every.is_multiple_of(*d));
        let multiples = nice_steps().map(|k| k * every);
        if let Some(step) = divisors.chain(multiples).find(|s| fits(*s)) {
            return step;
        }
    }
    nice_steps().find(|s| fits(*s)).unwrap_or(1)
}

/// 1, 2, 5, 10, 20, 50, ... up to a billion.
fn nice_steps() -> impl Iterator<Item = usize> {
    (0..10).flat_map(|e| [1, 2, 5].map(|m| m * 10usize.pow(e)))
}

/// A light grey cell covering pixels `x0..x1` × `y0..y1`; hatched when big enough for the
/// hatching to read as hatching.
fn draw_empty_cell<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    cell: f64,
) -> Result<(), DrawFailure> {
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], EMPTY_FILL.filled()))?;
    if cell < HATCH_MIN_CELL {
        return Ok(());
    }
    let (w, h) = (x1 - x0 - 1, y1 - y0 - 1);
    let spacing = ((cell / 4.0).round() as i32).clamp(5, 9);
    let line = EMPTY_HATCH.stroke_width(1);
    // Lines x + y = d (rising to the right), clipped to the cell.
    let mut d = spacing / 2;
    while d < w + h {
        let (ax, bx) = ((d - h).max(0), d.min(w));
        if ax < bx {
            root.draw(&PathElement::new(
                vec![(x0 + ax, y0 + d - ax), (x0 + bx, y0 + d - bx)],
                line,
            ))?;
        }
        d += spacing;
    }
    root.draw(&Rectangle::new(
        [(x0, y0), (x1 - 1, y1 - 1)],
        EMPTY_HATCH.stroke_width(1),
    ))?;
    Ok(())
}

/// A linear map from values to viridis colours.
#[derive(Debug, Clone, PartialEq)]
struct ColourScale {
    lo: f64,
    hi: f64,
}

impl ColourScale {
    /// From `min(0, smallest)` to the largest finite value; `None` without any finite value.
    fn of(values: impl IntoIterator<Item = f64>) -> Option<ColourScale> {
        let (smallest, largest) = finite_extent(values)?;
        let lo = smallest.min(0.0);
        let hi = if largest > lo {
            largest
        } else if lo == 0.0 {
            1.0
        } else {
            lo + lo.abs()
        };
        Some(ColourScale { lo, hi })
    }

    /// Where `v` falls on the scale, 0 to 1.
    fn fraction(&self, v: f64) -> f64 {
        ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
    }

    fn colour(&self, v: f64) -> RGBColor {
        viridis(self.fraction(v))
    }
}

/// The viridis colour at `t` (0 to 1).
fn viridis(t: f64) -> RGBColor {
    let x = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Relative luminance (0 black to 1 white), to pick dark or light text.
fn luminance(c: RGBColor) -> f64 {
    (0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64) / 255.0
}

/// The colour bar under the grid: the scale with ticks and `value_label` below it, and a
/// "no data" swatch beside it when some cells are empty. Without any value, a note instead.
fn draw_colour_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    layout: &Layout,
    scale: Option<&ColourScale>,
    value_label: &str,
    has_empty: bool,
) -> Result<(), DrawFailure> {
    let tick_style = font::text(font::TICK_PX, palette::INK);
    let swatch_text = "no data";
    let swatch_w = if has_empty {
        SWATCH_GAP + SWATCH + 8 + root.estimate_text_size(swatch_text, &tick_style)?.0 as i32
    } else {
        0
    };
    let Some(scale) = scale else {
        let style =
            font::text(font::NOTE_PX, palette::MUTED).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            "no data in any cell".to_string(),
            (layout.grid_left + layout.grid_w / 2, layout.bar_top),
            style,
        ))?;
        return Ok(());
    };
    let bar_w = layout
        .grid_w
        .clamp(BAR_MIN_W, BAR_MAX_W)
        .min(layout.width - 2 * MARGIN - swatch_w - 40);
    let centre = layout.grid_left + layout.grid_w / 2;
    let left = (centre - (bar_w + swatch_w) / 2)
        .clamp(MARGIN + 20, layout.width - MARGIN - 20 - bar_w - swatch_w);
    let top = layout.bar_top;
    for i in 0..bar_w {
        let t = i as f64 / (bar_w - 1).max(1) as f64;
        root.draw(&Rectangle::new(
            [(left + i, top), (left + i + 1, top + BAR_H)],
            viridis(t).filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(left - 1, top - 1), (left + bar_w, top + BAR_H)],
        palette::INK.stroke_width(1),
    ))?;

    let axis = bar_axis(root, scale, bar_w, &tick_style)?;
    let below = top + BAR_H;
    for t in &axis.ticks {
        let x = left + (scale.fraction(*t) * (bar_w - 1) as f64).round() as i32;
        root.draw(&PathElement::new(
            vec![(x, below), (x, below + TICK_LEN)],
            palette::INK.stroke_width(1),
        ))?;
        root.draw(&Text::new(
            axis.label(*t),
            (x, below + TICK_LEN + TICK_GAP),
            tick_style.pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    root.draw(&Text::new(
        value_label.to_string(),
        (
            left + bar_w / 2,
            below + TICK_LEN + TICK_GAP + font::TICK_PX as i32 + LABEL_TITLE_GAP,
        ),
        font::text(font::AXIS_TITLE_PX, palette::INK).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;

    if has_empty {
        let x = left + bar_w + SWATCH_GAP;
        let y = top + (BAR_H - SWATCH) / 2;
        draw_empty_cell(root, (x, y), (x + SWATCH, y + SWATCH), SWATCH as f64)?;
        root.draw(&Text::new(
            swatch_text.to_string(),
            (x + SWATCH + 8, top + BAR_H / 2),
            tick_style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// Ticks for the colour bar: as many as fit `bar_w` pixels without labels touching.
fn bar_axis<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scale: &ColourScale,
    bar_w: i32,
    style: &TextStyle,
) -> Result<Axis, DrawFailure> {
    let mut max_ticks = 8;
    loop {
        let axis = Axis::linear(scale.lo, scale.hi, max_ticks);
        let mut widest = 0;
        for t in &axis.ticks {
            widest = widest.max(root.estimate_text_size(&axis.label(*t), style)?.0 as i32);
        }
        let spacing = match axis.ticks.as_slice() {
            [a, b, ..] => scale.fraction(*b) - scale.fraction(*a),
            _ => 1.0,
        };
        if max_ticks <= 2 || spacing * bar_w as f64 >= (widest + 12) as f64 {
            return Ok(axis);
        }
        max_ticks -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_starts_at_zero_unless_values_are_negative() {
        let scale = ColourScale::of([0.2, 0.9, f64::NAN]).unwrap();
        assert_eq!((scale.lo, scale.hi), (0.0, 0.9));
        let scale = ColourScale::of([-2.0, 3.0]).unwrap();
        assert_eq!((scale.lo, scale.hi), (-2.0, 3.0));
        let scale = ColourScale::of([0.0, 0.0]).unwrap();
        assert_eq!((scale.lo, scale.hi), (0.0, 1.0));
        assert_eq!(ColourScale::of([f64::INFINITY]), None);
    }

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), RGBColor(253, 231, 37));
        assert!(luminance(viridis(0.0)) < 0.45 && luminance(viridis(1.0)) > 0.45);
    }

    #[test]
    fn cells_are_square_and_the_grid_bounded() {
        let big = Layout::new(64, 64, 58);
        assert!(big.grid_w <= MAX_GRID_W as i32 && big.grid_h <= MAX_GRID_H as i32);
        assert_eq!(big.grid_w, big.grid_h);
        let wide = Layout::new(4, 24, 58);
        // Cell edges are rounded to whole pixels.
        assert!((wide.grid_w - 6 * wide.grid_h).abs() <= 6, "{wide:?}");
        let tiny = Layout::new(1, 1, 58);
        assert_eq!(tiny.cell, MAX_CELL);
        assert_eq!(tiny.width, MIN_IMAGE_W);
    }

    #[test]
    fn index_labels_thin_out_and_prefer_chip_boundaries() {
        assert_eq!(index_step(20.0, 40.0, 0), 1);
        assert_eq!(index_step(30.0, 11.0, 0), 5);
        assert_eq!(index_step(30.0, 11.0, 8), 4);
        assert_eq!(index_step(100.0, 11.0, 8), 16);
    }
}
