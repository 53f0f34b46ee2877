//! A panel: one pair of axes with tick labels, axis titles and a legend band above the plot.
//!
//! Sizes of the label areas are computed from the text they will hold, so long tick labels and
//! axis titles are never clipped.

use plotters::chart::{ChartBuilder, ChartContext};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::Shift;
use plotters::element::Text;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, TRANSPARENT};

use crate::axis::{Axis, TickedCoord};
use crate::error::DrawFailure;
use crate::font;
use crate::legend::{Legend, LegendEntry};
use crate::palette;

/// The coordinate system of every panel (both axes linear in plot coordinates; a log axis is
/// log10 of the value).
pub(crate) type Coords = Cartesian2d<TickedCoord, TickedCoord>;

/// A panel after its axes are drawn: draw series into `chart`.
pub(crate) type PanelChart<DB> = ChartContext<'static, DB, Coords>;

const MARGIN_LEFT: i32 = 12;
const MARGIN_RIGHT: i32 = 28;
const MARGIN_TOP: i32 = 10;
const MARGIN_BOTTOM: i32 = 8;
// Tick mark, gap to its label, gap between labels and the axis title.
const TICK_LABEL_GAP: i32 = 14;
const LABEL_TITLE_GAP: i32 = 8;

/// What a panel shows around its data.
pub(crate) struct Panel<'a> {
    /// Horizontal axis.
    pub(crate) x: Axis,
    /// Vertical axis.
    pub(crate) y: Axis,
    /// Title under the x axis.
    pub(crate) x_title: &'a str,
    /// Rotated title left of the y axis.
    pub(crate) y_title: &'a str,
    /// Entries of the legend band above the plot (none: no band).
    pub(crate) legend: Vec<LegendEntry>,
    /// Vertical grid lines at the x ticks (off for bar charts, where they would cut bars).
    pub(crate) x_grid: bool,
}

impl Panel<'_> {
    /// Draws legend, axes, ticks, grid and titles into `area` and returns the chart to draw
    /// series into.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<PanelChart<DB>, DrawFailure> {
        let (area_w, _) = area.dim_in_pixel();
        let area_w = area_w as i32;
        let tick_style = font::text(font::TICK_PX, palette::INK);
        let title_style = font::text(font::AXIS_TITLE_PX, palette::INK);

        let mut widest_y_label = 0;
        for t in &self.y.ticks {
            let (w, _) = area.estimate_text_size(&self.y.label(*t), &tick_style)?;
            widest_y_label = widest_y_label.max(w as i32);
        }
        let y_area_w =
            font::AXIS_TITLE_PX as i32 + LABEL_TITLE_GAP + widest_y_label + TICK_LABEL_GAP;
        let x_area_h =
            font::TICK_PX as i32 + font::AXIS_TITLE_PX as i32 + TICK_LABEL_GAP + LABEL_TITLE_GAP;
        let plot_left = MARGIN_LEFT + y_area_w;
        let plot_w = (area_w - plot_left - MARGIN_RIGHT).max(1);

        let legend = Legend::layout(area, &self.legend, plot_w)?;
        let (band, rest) = area.split_vertically(legend.height());
        legend.draw(&band, plot_left, plot_left + plot_w)?;

        let (x_px, x_labels) = self.fit_x_labels(area, plot_w)?;

        let mut chart = ChartBuilder::on(&rest)
            .margin_left(MARGIN_LEFT)
            .margin_right(MARGIN_RIGHT)
            .margin_top(MARGIN_TOP)
            .margin_bottom(MARGIN_BOTTOM)
            .x_label_area_size(x_area_h)
            .y_label_area_size(y_area_w)
            .build_cartesian_2d(self.x.coord(), self.y.coord())?;

        let x_formatter = |v: &f64| {
            x_labels
                .iter()
                .find(|(t, _)| (t - v).abs() <= 1e-9 * (1.0 + t.abs()))
                .map(|(_, label)| label.clone())
                .unwrap_or_else(|| self.x.label(*v))
        };
        let y_formatter = |v: &f64| self.y.label(*v);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_title)
            .y_desc(self.y_title)
            .axis_desc_style(title_style)
            .x_label_style(font::text(x_px, palette::INK))
            .y_label_style(tick_style)
            .x_label_formatter(&x_formatter)
            .y_label_formatter(&y_formatter)
            .bold_line_style(palette::GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(palette::INK.stroke_width(1));
        if !self.x_grid {
            mesh.disable_x_mesh();
        }
        mesh.draw()?;
        Ok(chart)
    }

    /// The x tick label size, and the labels (shortened with "…" if need be), such that
    /// neighbouring labels do not overlap.
    fn fit_x_labels<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        plot_w: i32,
    ) -> Result<(f64, Vec<(f64, String)>), DrawFailure> {
        let span = self.x.hi - self.x.lo;
        let closest = self
            .x
            .ticks
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(span, f64::min);
        let room = (plot_w as f64 * closest / span) as i32 - 10;
        let labels: Vec<(f64, String)> = self
            .x
            .ticks
            .iter()
            .map(|t| (*t, self.x.label(*t)))
            .collect();

        let widest = |px: f64| -> Result<i32, DrawFailure> {
            let style = font::text(px, palette::INK);
            let mut widest = 0;
            for (_, label) in &labels {
                widest = widest.max(area.estimate_text_size(label, &style)?.0 as i32);
            }
            Ok(widest)
        };
        let mut px = font::TICK_PX;
        while px > font::MIN_TICK_PX && widest(px)? > room {
            px -= 1.0;
        }
        let needed = widest(px)?;
        if needed <= room {
            return Ok((px, labels));
        }
        let style = font::text(px, palette::INK);
        // Too many labels to shorten into something readable (fewer than about three
        // characters each): label every k-th tick only, whole or shortened to the wider room.
        let three_chars = (3.0 * 0.64 * px) as i32;
        let (every, room) = if room < three_chars {
            let per_tick = (room + 10).max(1);
            let every = ((needed + 10 + per_tick - 1) / per_tick).max(1) as usize;
            (every, every as i32 * per_tick - 10)
        } else {
            (1, room)
        };
        let mut shortened = Vec::with_capacity(labels.len());
        for (i, (t, label)) in labels.into_iter().enumerate() {
            let label = if i % every == 0 {
                shorten(area, &label, &style, room)?
            } else {
                String::new()
            };
            shortened.push((t, label));
        }
        Ok((px, shortened))
    }
}

/// `label` cut to fit `room` pixels, ending in "…" if anything was cut.
fn shorten<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    style: &plotters::style::TextStyle,
    room: i32,
) -> Result<String, DrawFailure> {
    if area.estimate_text_size(label, style)?.0 as i32 <= room {
        return Ok(label.to_string());
    }
    let mut chars: Vec<char> = label.chars().collect();
    while chars.len() > 1 {
        chars.pop();
        let candidate: String = chars.iter().chain(std::iter::once(&'…')).collect();
        if area.estimate_text_size(&candidate, style)?.0 as i32 <= room {
            return Ok(candidate);
        }
    }
    Ok("…".to_string())
}

/// Draws the figure title centred at the top of `root` and returns the area below it.
/// A title too wide for the image is drawn smaller rather than clipped.
pub(crate) fn title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawFailure> {
    const TOP: i32 = 14;
    if title.is_empty() {
        return Ok(root.split_vertically(TOP).1);
    }
    let (width, _) = root.dim_in_pixel();
    let mut px = font::TITLE_PX;
    while px > 16.0
        && root
            .estimate_text_size(title, &font::bold(px, palette::INK))?
            .0
            > width.saturating_sub(40)
    {
        px -= 1.0;
    }
    let style = font::bold(px, palette::INK).pos(Pos::new(HPos::Center, VPos::Top));
    root.draw(&Text::new(
        title.to_string(),
        (width as i32 / 2, TOP),
        style,
    ))?;
    Ok(root.split_vertically(TOP + (px * 1.25) as i32 + 6).1)
}

/// Writes `note` (e.g. "no data") in the middle of the plot area.
pub(crate) fn note<DB: DrawingBackend>(
    chart: &PanelChart<DB>,
    note: &str,
) -> Result<(), DrawFailure> {
    let plot = chart.plotting_area().strip_coord_spec();
    let (w, h) = plot.dim_in_pixel();
    let style = font::text(font::NOTE_PX, palette::MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    plot.draw(&Text::new(
        note.to_string(),
        (w as i32 / 2, h as i32 / 2),
        style,
    ))?;
    Ok(())
}
