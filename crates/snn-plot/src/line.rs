//! Line charts: named series of (x, y) points on one pair of linear axes.

use plotters::coord::Shift;
use plotters::element::{Circle, PathElement};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::{Color, RGBColor};

use crate::axis::{finite_extent, padded, Axis};
use crate::error::DrawFailure;
use crate::legend::{LegendEntry, Mark};
use crate::output::Figure;
use crate::palette;
use crate::panel::{self, Panel, PanelChart};
use crate::size::CHART_SIZE;

/// One named line on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label; an empty name leaves the series out of the legend.
    pub name: String,
    /// The points in drawing order. Non-finite points are skipped and break the line.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series named `name` through `points`.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }
}

/// Series with at most this many points get a dot on every point.
pub(crate) const MAX_POINTS_WITH_DOTS: usize = 40;
/// Lines are `2 * BRUSH_RADIUS + 1` pixels wide.
const BRUSH_RADIUS: i32 = 1;
const DOT_RADIUS: u32 = 5;

pub(crate) struct LineChart<'a> {
    pub(crate) title: &'a str,
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    pub(crate) series: &'a [Series],
}

impl Figure for LineChart<'_> {
    fn size(&self) -> (u32, u32) {
        CHART_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = panel::title(root, self.title)?;
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let x_extent = finite_extent(finite_points(points()).map(|p| p.0));
        let y_extent = finite_extent(finite_points(points()).map(|p| p.1));
        let (Some((x_lo, x_hi)), Some((y_lo, y_hi))) = (x_extent, y_extent) else {
            let empty = Panel {
                x: Axis::linear(0.0, 1.0, 10),
                y: Axis::linear(0.0, 1.0, 8),
                x_title: self.x_label,
                y_title: self.y_label,
                legend: Vec::new(),
                x_grid: true,
            };
            return panel::note(&empty.draw(&area)?, "no data");
        };

        let dots = |s: &Series| s.points.len() <= MAX_POINTS_WITH_DOTS;
        let legend = self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.is_empty())
            .map(|(i, s)| LegendEntry {
                label: s.name.clone(),
                color: palette::series(i),
                mark: if dots(s) {
                    Mark::LineAndDot
                } else {
                    Mark::Line
                },
            })
            .collect();
        let (x_lo, x_hi) = padded(x_lo, x_hi, 0.02);
        let (y_lo, y_hi) = padded(y_lo, y_hi, 0.06);
        let frame = Panel {
            x: Axis::linear(x_lo, x_hi, 10),
            y: Axis::linear(y_lo, y_hi, 8),
            x_title: self.x_label,
            y_title: self.y_label,
            legend,
            x_grid: true,
        };
        let mut chart = frame.draw(&area)?;
        for (i, s) in self.series.iter().enumerate() {
            draw_line(&mut chart, &s.points, palette::series(i), dots(s))?;
        }
        Ok(())
    }
}

fn finite_points<'p>(
    points: impl Iterator<Item = &'p (f64, f64)>,
) -> impl Iterator<Item = (f64, f64)> {
    points
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
}

/// Draws `points` as a line in `color`, broken wherever a point is not finite; with `dots`, every
/// point also gets a dot. A stretch of a single point always gets a dot (a line needs two).
pub(crate) fn draw_line<DB: DrawingBackend>(
    chart: &mut PanelChart<DB>,
    points: &[(f64, f64)],
    color: RGBColor,
    dots: bool,
) -> Result<(), DrawFailure> {
    // plotters fills a wide line as a polygon, which comes out visibly thinner on steep
    // segments. Instead we stamp a 1-pixel line (drawn exactly) at every offset of a square
    // brush, which gives the same width at every slope.
    let (w, h) = chart.plotting_area().dim_in_pixel();
    let (xs, ys) = (chart.x_range(), chart.y_range());
    let pixel = (
        (xs.end - xs.start) / f64::from(w.max(1)),
        (ys.end - ys.start) / f64::from(h.max(1)),
    );
    for run in points.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
        if run.len() > 1 {
            for dx in -BRUSH_RADIUS..=BRUSH_RADIUS {
                for dy in -BRUSH_RADIUS..=BRUSH_RADIUS {
                    let shifted: Vec<(f64, f64)> = run
                        .iter()
                        .map(|(x, y)| (x + f64::from(dx) * pixel.0, y + f64::from(dy) * pixel.1))
                        .collect();
                    chart.draw_series(std::iter::once(PathElement::new(
                        shifted,
                        color.stroke_width(1),
                    )))?;
                }
            }
        }
        if dots || run.len() == 1 {
            chart.draw_series(
                run.iter()
                    .map(|p| Circle::new(*p, DOT_RADIUS, color.filled())),
            )?;
        }
    }
    Ok(())
}
