//! Heat maps: a grid of cells (e.g. core utilization per mesh tile) as a `Rectangle` series in a
//! plotters chart whose ticks are the row and column indices, coloured on plotters' viridis
//! colour map, with a colour bar (a second small chart) under it and optional chip boundaries.
//!
//! Cells are square. The image grows with the grid up to a fixed plot size, beyond which cells
//! shrink (a 64×64 mesh gets cells of about 11 pixels); plotters thins the tick labels when
//! crowded, and the per-cell numbers are left out when they do not fit.

use std::ops::Range;

use plotters::chart::ChartBuilder;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::{PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor};

use crate::error::DrawFailure;
use crate::font;
use crate::frame::{
    self, compact, finite_extent, linear_labels, whole_number, widest, Chart, Frame, X_AREA_H,
};
use crate::output::Figure;
use crate::palette;
use crate::size::CHART_SIZE;

/// The grid is never wider or taller than this (cells shrink instead), and cells never bigger.
const MAX_GRID: (f64, f64) = (1100.0, 720.0);
const MAX_CELL: f64 = 72.0;
/// The image is at least this wide, so the title and the colour bar always fit.
const MIN_IMAGE_W: i32 = 900;
const MARGIN: i32 = 16;
/// Room for the title.
const TITLE_H: i32 = 9 + font::TITLE_PX as i32 * 5 / 4 + 10;
/// Colour bar: its height, where it starts in the block under the grid that holds it (the
/// frame's top margin), and that block; the "no data" swatch beside it, and the gap before it.
const BAR_H: i32 = 22;
const BAR_TOP: i32 = 10;
pub(crate) const BAR_BLOCK: i32 = BAR_TOP + BAR_H + X_AREA_H + MARGIN;
const SWATCH: i32 = 22;
const SWATCH_GAP: i32 = 36;
/// Cells at least this big get a white gap around them, and hatching when empty.
const GAP_MIN_CELL: f64 = 8.0;
const HATCH_MIN_CELL: f64 = 10.0;
/// Smallest font for the numbers inside cells; below it the numbers are left out.
const MIN_CELL_TEXT_PX: f64 = 10.0;
/// Fill and hatching of a cell without data.
const EMPTY_FILL: RGBColor = RGBColor(242, 242, 242);
const EMPTY_HATCH: RGBColor = RGBColor(190, 190, 190);

/// A chart over cell coordinates: cell (row r, column c) spans c ± 0.5 and r ± 0.5.
pub(crate) type Grid<'c, DB> = Chart<'c, DB, RangedCoordf64, RangedCoordf64>;

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

impl HeatMap<'_> {
    fn shape(&self) -> (usize, usize) {
        (self.cells.len(), self.cells.first().map_or(0, Vec::len))
    }

    /// Side of one cell in pixels, and the grid's width and height.
    fn grid(&self) -> (f64, i32, i32) {
        grid(self.shape())
    }
}

/// Side of one cell in pixels, and the width and height of a grid of (`rows`, `cols`) cells.
pub(crate) fn grid((rows, cols): (usize, usize)) -> (f64, i32, i32) {
    let (rows, cols) = (rows as f64, cols as f64);
    let cell = (MAX_GRID.0 / cols).min(MAX_GRID.1 / rows).min(MAX_CELL);
    (
        cell,
        (cell * cols).round() as i32,
        (cell * rows).round() as i32,
    )
}

/// Image size of a grid of `shape` cells with its title and colour bar.
pub(crate) fn image_size(shape: (usize, usize)) -> (u32, u32) {
    if shape.0 == 0 || shape.1 == 0 {
        return CHART_SIZE;
    }
    let (_, grid_w, grid_h) = grid(shape);
    image_size_for(grid_w, grid_h)
}

/// Image size of a grid `grid_w` × `grid_h` pixels with its title and colour bar.
pub(crate) fn image_size_for(grid_w: i32, grid_h: i32) -> (u32, u32) {
    // Left of the grid: the axis title and row labels of up to four digits.
    let width = MIN_IMAGE_W.max(2 * MARGIN + 90 + grid_w + 12);
    (
        width as u32,
        (TITLE_H + 10 + grid_h + X_AREA_H + BAR_BLOCK) as u32,
    )
}

impl Figure for HeatMap<'_> {
    fn size(&self) -> (u32, u32) {
        image_size(self.shape())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = frame::title(root, self.title)?;
        let (rows, cols) = self.shape();
        if rows == 0 || cols == 0 {
            return frame::note(&area, "no data");
        }
        let (w, h) = (area.dim_in_pixel().0 as i32, area.dim_in_pixel().1 as i32);
        let (cell, grid_w, grid_h) = self.grid();
        let (grid_area, block) = area.split_vertically(h - BAR_BLOCK);
        let frame = Frame {
            x_labels: cols,
            // Row labels need their height plus as much air again, so that a tall grid is not a
            // wall of numbers.
            y_labels: (grid_h as f64 / (font::TICK_PX * 1.8)).clamp(1.0, rows as f64) as usize,
            grid: (false, false),
            plot: Some((grid_w, grid_h)),
            ..Frame::new(self.x_label, self.y_label)
        };
        let x = RangedCoordf64::from(-0.5..cols as f64 - 0.5);
        let y = RangedCoordf64::from(rows as f64 - 0.5..-0.5);
        let mut chart = frame.draw(&grid_area, x, y, &whole_number, &whole_number)?;

        let cells = (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c)));
        let value = |(r, c): (usize, usize)| self.cells[r][c].filter(|v| v.is_finite());
        let (full, empty): (Vec<_>, Vec<_>) = cells.partition(|rc| value(*rc).is_some());
        let full: Vec<_> = full
            .into_iter()
            .map(|rc| (rc, value(rc).unwrap_or(0.0)))
            .collect();
        draw_empty(&mut chart, &empty, cell)?;
        let scale = finite_extent(full.iter().map(|(_, v)| *v)).map(colour_scale);
        if let Some(scale) = &scale {
            draw_full(&area, &mut chart, &full, cell, scale)?;
        }
        draw_separators(&mut chart, self.column_separator_every, (rows, cols))?;

        let Some(scale) = scale else {
            return frame::note(&block, "no data in any cell");
        };
        let swatch_w = (SWATCH_GAP + SWATCH + 100) * i32::from(!empty.is_empty());
        let bar_w = grid_w.clamp(360, 600).min(w - 2 * MARGIN - 200);
        let bar_area = block.margin(0, 0, 0, swatch_w);
        let bar_left = draw_colour_bar(&bar_area, scale, self.value_label, bar_w)?;
        if !empty.is_empty() {
            let x = bar_left + bar_w + SWATCH_GAP;
            let y = BAR_TOP + (BAR_H - SWATCH) / 2;
            let swatch = block.margin(y, BAR_BLOCK - y - SWATCH, x, w - x - SWATCH);
            let mut chart = ChartBuilder::on(&swatch).build_cartesian_2d(-0.5..0.5, 0.5..-0.5)?;
            draw_empty(&mut chart, &[(0, 0)], SWATCH as f64)?;
            let style = font::text(font::TICK_PX, palette::INK);
            let style = style.pos(Pos::new(HPos::Left, VPos::Center));
            block.draw(&Text::new(
                "no data",
                (x + SWATCH + 8, y + SWATCH / 2),
                style,
            ))?;
        }
        Ok(())
    }
}

/// Thick lines every `every` columns of a grid of `(rows, cols)` cells (chip boundaries when
/// several chips are joined); none for 0.
pub(crate) fn draw_separators<DB: DrawingBackend>(
    chart: &mut Grid<DB>,
    every: usize,
    (rows, cols): (usize, usize),
) -> Result<(), DrawFailure> {
    if every > 0 {
        chart.draw_series((every..cols).step_by(every).map(|c| {
            let x = c as f64 - 0.5;
            let line = [(x, -0.5), (x, rows as f64 - 0.5)];
            PathElement::new(line, palette::INK.stroke_width(3))
        }))?;
    }
    Ok(())
}

/// The corners of cell (`r`, `c`) in cell coordinates, a white gap wide in pixels for big cells.
fn cell_rect<S: Into<plotters::style::ShapeStyle>>(
    (r, c): (usize, usize),
    cell: f64,
    style: S,
) -> Rectangle<(f64, f64)> {
    let (x, y) = (c as f64, r as f64);
    let mut rect = Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], style);
    let gap = u32::from(cell >= GAP_MIN_CELL);
    rect.set_margin(0, gap, 0, gap);
    rect
}

/// Cells with a value, in their colour, with the value written in each when every value fits
/// its cell of `cell` pixels.
fn draw_full<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &mut Grid<DB>,
    full: &[((usize, usize), f64)],
    cell: f64,
    scale: &ColourScale,
) -> Result<(), DrawFailure> {
    let fill = |v: f64| {
        ViridisRGB.get_color_normalized(v.clamp(scale.start, scale.end), scale.start, scale.end)
    };
    chart.draw_series(
        full.iter()
            .map(|(rc, v)| cell_rect(*rc, cell, fill(*v).filled())),
    )?;
    let labels: Vec<String> = full.iter().map(|(_, v)| compact(*v)).collect();
    let mut px = font::VALUE_PX.min((cell * 0.42).floor());
    while px >= MIN_CELL_TEXT_PX
        && widest(area, &labels, &font::text(px, palette::INK))? as f64 > cell - 8.0
    {
        px -= 1.0;
    }
    if px < MIN_CELL_TEXT_PX {
        return Ok(());
    }
    chart.draw_series(full.iter().zip(labels).map(|(((r, c), v), label)| {
        // Dark text on light cells, white on dark ones (relative luminance).
        let RGBColor(red, green, blue) = fill(*v);
        let light =
            0.2126 * red as f64 + 0.7152 * green as f64 + 0.0722 * blue as f64 > 0.45 * 255.0;
        let ink = if light {
            palette::INK
        } else {
            palette::BACKGROUND
        };
        let style = font::text(px, ink).pos(Pos::new(HPos::Center, VPos::Center));
        Text::new(label, (*c as f64, *r as f64), style)
    }))?;
    Ok(())
}

/// Light grey cells at `cells` (row, column), hatched when cells of `cell` pixels are big enough
/// for the hatching to read as hatching.
fn draw_empty<DB: DrawingBackend>(
    chart: &mut Grid<DB>,
    cells: &[(usize, usize)],
    cell: f64,
) -> Result<(), DrawFailure> {
    chart.draw_series(
        cells
            .iter()
            .map(|rc| cell_rect(*rc, cell, EMPTY_FILL.filled())),
    )?;
    if cell < HATCH_MIN_CELL {
        return Ok(());
    }
    // Lines u + v = d across the cell (rising to the right), d in steps of 1/m.
    let m = (cell / (cell / 4.0).clamp(5.0, 9.0)).round();
    chart.draw_series(cells.iter().flat_map(|&(r, c)| {
        (1..2 * m as usize).map(move |i| {
            let (x, y, d) = (c as f64 - 0.5, r as f64 - 0.5, i as f64 / m);
            let (u0, u1) = ((d - 1.0).max(0.0), d.min(1.0));
            let ends = [(x + u0, y + d - u0), (x + u1, y + d - u1)];
            PathElement::new(ends, EMPTY_HATCH.stroke_width(1))
        })
    }))?;
    chart.draw_series(
        cells
            .iter()
            .map(|rc| cell_rect(*rc, cell, EMPTY_HATCH.stroke_width(1))),
    )?;
    Ok(())
}

/// Values from `scale.start` (dark purple) to `scale.end` (yellow).
pub(crate) type ColourScale = Range<f64>;

/// The colour scale for values from `smallest` to `largest`: from `min(0, smallest)` to the
/// largest value (never empty).
pub(crate) fn colour_scale((smallest, largest): (f64, f64)) -> ColourScale {
    let lo = smallest.min(0.0);
    let hi = if largest > lo {
        largest
    } else if lo == 0.0 {
        1.0
    } else {
        lo + lo.abs()
    };
    lo..hi
}

/// Draws the colour bar over `scale`, titled `value_label`, `bar_w` pixels wide in the middle of
/// `area`, and returns the pixel column of its left end.
pub(crate) fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: ColourScale,
    value_label: &str,
    bar_w: i32,
) -> Result<i32, DrawFailure> {
    let frame = Frame {
        x_labels: 8,
        y_labels: 0,
        grid: (false, false),
        plot: Some((bar_w, BAR_H)),
        ..Frame::new(value_label, "")
    };
    let x = RangedCoordf64::from(scale.clone());
    let format = linear_labels(scale.clone(), 8);
    let mut chart = frame.draw(area, x, RangedCoordf64::from(0.0..1.0), &format, &|_| {
        String::new()
    })?;
    let step = (scale.end - scale.start) / bar_w as f64;
    chart.draw_series((0..bar_w).map(|i| {
        let (x, t) = (
            scale.start + i as f64 * step,
            (i as f64 + 0.5) / bar_w as f64,
        );
        Rectangle::new(
            [(x, 0.0), (x + step, 1.0)],
            ViridisRGB.get_color(t).filled(),
        )
    }))?;
    let outline = [(scale.start, 0.0), (scale.end, 1.0)];
    chart.draw_series([Rectangle::new(outline, palette::INK.stroke_width(1))])?;
    Ok(chart.plotting_area().get_base_pixel().0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_starts_at_zero_unless_values_are_negative() {
        assert_eq!(colour_scale((0.2, 0.9)), 0.0..0.9);
        assert_eq!(colour_scale((-2.0, 3.0)), -2.0..3.0);
        assert_eq!(colour_scale((0.0, 0.0)), 0.0..1.0);
        assert_eq!(colour_scale((-2.0, -2.0)), -2.0..0.0);
    }

    #[test]
    fn cells_are_square_and_the_grid_bounded() {
        let shape = |rows: usize, cols: usize| {
            let cells = vec![vec![None; cols]; rows];
            let map = HeatMap {
                title: "",
                x_label: "",
                y_label: "",
                value_label: "",
                cells: &cells,
                column_separator_every: 0,
            };
            (map.grid(), map.size())
        };
        let ((_, w, h), _) = shape(64, 64);
        assert!(w <= MAX_GRID.0 as i32 && h <= MAX_GRID.1 as i32 && w == h);
        let ((_, w, h), _) = shape(4, 24);
        assert!((w - 6 * h).abs() <= 6, "{w}x{h}");
        let ((cell, _, _), (width, _)) = shape(1, 1);
        assert_eq!((cell, width), (MAX_CELL, MIN_IMAGE_W as u32));
    }
}
