//! Line charts: named series of (x, y) points on one pair of linear axes.

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::Circle;
use plotters::prelude::{DrawingArea, DrawingBackend, LineSeries};
use plotters::style::{Color, RGBColor};

use crate::error::DrawFailure;
use crate::frame::{
    self, bounded, finite_extent, linear_labels, padded, Frame, X_LABELS, Y_LABELS,
};
use crate::legend::{LegendEntry, Mark};
use crate::output::Figure;
use crate::palette;
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
const MAX_POINTS_WITH_DOTS: usize = 40;
const LINE_WIDTH: u32 = 4;
const DOT_RADIUS: u32 = 5;

/// One line: legend label (empty: left out of the legend), colour and points.
pub(crate) type Line<'p> = (&'p str, RGBColor, &'p [(f64, f64)]);
/// Tick label formatters for the x and y axes.
pub(crate) type Formats<'f> = (&'f dyn Fn(&f64) -> String, &'f dyn Fn(&f64) -> String);

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
        let area = frame::title(root, self.title)?;
        let points = || self.series.iter().flat_map(|s| finite(&s.points));
        let x_extent = finite_extent(points().map(|p| p.0));
        let (x, y) = match x_extent.zip(finite_extent(points().map(|p| p.1))) {
            Some(((x0, x1), (y0, y1))) => (padded(x0, x1, 0.02), padded(y0, y1, 0.06)),
            None => (0.0..1.0, 0.0..1.0),
        };
        let lines: Vec<Line> = (self.series.iter().enumerate())
            .map(|(i, s)| (s.name.as_str(), palette::series(i), s.points.as_slice()))
            .collect();
        let frame = Frame::new(self.x_label, self.y_label);
        let formats: Formats = (
            &linear_labels(x.clone(), X_LABELS),
            &linear_labels(y.clone(), Y_LABELS),
        );
        draw_lines(&area, frame, (x, y), formats, &lines, None)
    }
}

/// The points of `points` where both coordinates are finite.
pub(crate) fn finite(points: &[(f64, f64)]) -> impl Iterator<Item = (f64, f64)> + '_ {
    points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
}

/// Draws `frame` over `x` × `y`, with the named `lines` (and `ring`'s label) in its legend, and
/// then the lines: broken wherever a point is not finite, with a dot on every point of a line of
/// up to 40 points and on a stretch of one point (a line needs two); `ring` (a point and its
/// legend label) is ringed. Without any finite point the chart says "no data".
pub(crate) fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    mut frame: Frame,
    (x, y): (Range<f64>, Range<f64>),
    (x_format, y_format): Formats,
    lines: &[Line],
    ring: Option<((f64, f64), String)>,
) -> Result<(), DrawFailure> {
    let has_data = lines
        .iter()
        .any(|(_, _, points)| finite(points).next().is_some());
    let dots = |points: &[(f64, f64)]| points.len() <= MAX_POINTS_WITH_DOTS;
    for (label, color, points) in lines.iter().filter(|l| has_data && !l.0.is_empty()) {
        let mark = if dots(points) {
            Mark::LineAndDot
        } else {
            Mark::Line
        };
        frame.legend.push(LegendEntry::new(label, *color, mark));
    }
    if let Some((_, label)) = &ring {
        frame
            .legend
            .push(LegendEntry::new(label, palette::HIGHLIGHT, Mark::Ring));
    }
    let (x, y) = (RangedCoordf64::from(x), RangedCoordf64::from(y));
    let mut chart = frame.draw(area, x, y, x_format, y_format)?;
    if !has_data {
        return frame::note(&chart.plotting_area().strip_coord_spec(), "no data");
    }
    for (_, color, points) in lines {
        for run in points.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
            let dot = DOT_RADIUS * u32::from(dots(points) || run.len() == 1);
            let style = color.filled().stroke_width(LINE_WIDTH);
            let run = run.iter().map(|(x, y)| (bounded(*x), bounded(*y)));
            chart.draw_series(LineSeries::new(run, style).point_size(dot))?;
        }
    }
    if let Some((point, _)) = ring {
        chart.draw_series([Circle::new(point, 11, palette::HIGHLIGHT.stroke_width(3))])?;
    }
    Ok(())
}
