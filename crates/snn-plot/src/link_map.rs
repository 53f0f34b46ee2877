//! Link-load maps: the tiles of a mesh as small squares on the heat map's grid of cells, and
//! every directed link between neighbouring tiles as a bar in the gap between them, coloured on
//! the heat map's viridis scale by its value (e.g. packets per step). The two directions of a
//! tile pair are two lanes side by side: eastward (x + 1) above westward, southward (y + 1, down
//! the picture) left of northward. Neighbour pairs no listed link joins are drawn as faint grey
//! lanes, so the mesh stays visible.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::Rectangle;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};
use plotters::style::{Color, RGBColor};

use crate::error::DrawFailure;
use crate::frame::{self, finite_extent, whole_number, Frame};
use crate::heat::{self, colour_scale, draw_colour_bar, BAR_BLOCK};
use crate::output::Figure;
use crate::LinkValue;

/// Half the side of a tile square, in cells.
const TILE: f64 = 0.2;
/// A lane's distance from the line through the tile centres, and its width, in cells.
const LANE_GAP: f64 = 0.03;
const LANE_W: f64 = 0.13;
/// Tiles holding something, tiles holding nothing, and lanes no link uses.
const TILE_USED: RGBColor = RGBColor(150, 150, 150);
const TILE_EMPTY: RGBColor = RGBColor(228, 228, 228);
const LANE_UNUSED: RGBColor = RGBColor(236, 236, 236);

pub(crate) struct LinkMap<'a> {
    pub(crate) title: &'a str,
    pub(crate) value_label: &'a str,
    /// Tiles across and down.
    pub(crate) tiles: (usize, usize),
    /// Tiles drawn darker (e.g. those with a core in use).
    pub(crate) used: &'a [(u32, u32)],
    pub(crate) links: &'a [LinkValue],
    /// Thicker lines every this many columns (chip boundaries); 0 for none.
    pub(crate) column_separator_every: usize,
}

/// Smallest cell in pixels: below it the lanes are too thin to read, so a wide mesh (many joined
/// chips) makes a wider image instead, up to `MAX_WIDTH`.
const MIN_CELL: f64 = 22.0;
const MAX_WIDTH: f64 = 3000.0;

impl LinkMap<'_> {
    fn shape(&self) -> (usize, usize) {
        (self.tiles.1, self.tiles.0)
    }

    /// Side of one cell in pixels, and the grid's width and height: the heat map's, with cells
    /// of at least `MIN_CELL` while the grid stays under `MAX_WIDTH`.
    fn grid(&self) -> (f64, i32, i32) {
        let (rows, cols) = self.shape();
        let (cell, ..) = heat::grid(self.shape());
        let cell = cell.max(MIN_CELL.min(MAX_WIDTH / cols.max(1) as f64));
        let px = |n: usize| (cell * n as f64).round() as i32;
        (cell, px(cols), px(rows))
    }
}

/// The bar of the lane from tile `a` to its neighbour `b` (cell coordinates).
fn lane(a: (u32, u32), b: (u32, u32)) -> [(f64, f64); 2] {
    let (ax, ay, bx, by) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
    if ay == by {
        let (lo, hi) = (ax.min(bx) + TILE + 0.02, ax.max(bx) - TILE - 0.02);
        // Eastward above the centre line (smaller row coordinate), westward below.
        let y = if bx > ax {
            ay - LANE_GAP - LANE_W
        } else {
            ay + LANE_GAP
        };
        [(lo, y), (hi, y + LANE_W)]
    } else {
        let (lo, hi) = (ay.min(by) + TILE + 0.02, ay.max(by) - TILE - 0.02);
        // Southward (down the picture) left of the centre line, northward right.
        let x = if by > ay {
            ax - LANE_GAP - LANE_W
        } else {
            ax + LANE_GAP
        };
        [(x, lo), (x + LANE_W, hi)]
    }
}

impl Figure for LinkMap<'_> {
    fn size(&self) -> (u32, u32) {
        if self.shape().0 == 0 || self.shape().1 == 0 {
            return heat::image_size(self.shape());
        }
        let (_, grid_w, grid_h) = self.grid();
        heat::image_size_for(grid_w, grid_h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = frame::title(root, self.title)?;
        let (rows, cols) = self.shape();
        if rows == 0 || cols == 0 {
            return frame::note(&area, "no data");
        }
        let h = area.dim_in_pixel().1 as i32;
        let (_, grid_w, grid_h) = self.grid();
        let (grid_area, block) = area.split_vertically(h - BAR_BLOCK);
        let frame = Frame {
            x_labels: cols,
            y_labels: rows,
            grid: (false, false),
            plot: Some((grid_w, grid_h)),
            ..Frame::new(
                "tile x   (lanes: → above ←, ↓ left of ↑; dark tiles hold used cores)",
                "tile y",
            )
        };
        let x = RangedCoordf64::from(-0.5..cols as f64 - 0.5);
        let y = RangedCoordf64::from(rows as f64 - 0.5..-0.5);
        let mut chart = frame.draw(&grid_area, x, y, &whole_number, &whole_number)?;

        // Every neighbour pair's two lanes in grey first; listed links paint over them.
        let (cols_u, rows_u) = (cols as u32, rows as u32);
        let pairs = (0..rows_u).flat_map(|y| {
            (0..cols_u).flat_map(move |x| {
                let east = (x + 1 < cols_u).then_some(((x, y), (x + 1, y)));
                let south = (y + 1 < rows_u).then_some(((x, y), (x, y + 1)));
                east.into_iter().chain(south)
            })
        });
        chart.draw_series(pairs.flat_map(|(a, b)| {
            [lane(a, b), lane(b, a)].map(|r| Rectangle::new(r, LANE_UNUSED.filled()))
        }))?;
        let tile = |(x, y): (u32, u32), colour: RGBColor| {
            let (x, y) = (x as f64, y as f64);
            Rectangle::new(
                [(x - TILE, y - TILE), (x + TILE, y + TILE)],
                colour.filled(),
            )
        };
        let all = (0..rows_u).flat_map(|y| (0..cols_u).map(move |x| (x, y)));
        chart.draw_series(all.map(|t| tile(t, TILE_EMPTY)))?;
        chart.draw_series(self.used.iter().map(|&t| tile(t, TILE_USED)))?;

        let scale = finite_extent(self.links.iter().map(|l| l.value)).map(colour_scale);
        if let Some(scale) = &scale {
            let fill = |v: f64| {
                let v = v.clamp(scale.start, scale.end);
                ViridisRGB.get_color_normalized(v, scale.start, scale.end)
            };
            chart.draw_series(
                self.links
                    .iter()
                    .filter(|l| l.value.is_finite())
                    .map(|l| Rectangle::new(lane(l.from, l.to), fill(l.value).filled())),
            )?;
        }
        heat::draw_separators(&mut chart, self.column_separator_every, (rows, cols))?;
        let Some(scale) = scale else {
            return frame::note(&block, "no packet crossed a link");
        };
        let w = area.dim_in_pixel().0 as i32;
        let bar_w = grid_w.clamp(360, 600).min(w - 232);
        draw_colour_bar(&block, scale, self.value_label, bar_w)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_sit_between_their_tiles_one_per_direction() {
        let (east, west) = (lane((0, 0), (1, 0)), lane((1, 0), (0, 0)));
        // Between the two tile squares, not overlapping each other.
        assert!(east[0].0 > TILE && east[1].0 < 1.0 - TILE);
        assert!(east[1].1 <= 0.0 && west[0].1 >= 0.0);
        let (south, north) = (lane((2, 1), (2, 2)), lane((2, 2), (2, 1)));
        assert!(south[0].1 > 1.0 + TILE && south[1].1 < 2.0 - TILE);
        assert!(south[1].0 <= 2.0 && north[0].0 >= 2.0);
    }
}
