//! What every chart shares: the title, the frame (a legend band above plotters' `ChartBuilder`
//! chart and its mesh, with label areas sized to the labels they hold), the "no data" note, and
//! how numbers read on ticks and bars.

use std::collections::HashMap;
use std::ops::Range;

use plotters::chart::{ChartBuilder, ChartContext};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::Text;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, TextStyle, TRANSPARENT};

use crate::error::DrawFailure;
use crate::font;
use crate::legend::{self, LegendEntry};
use crate::palette;

/// A chart after its frame is drawn: draw series into it.
pub(crate) type Chart<'c, DB, X, Y> = ChartContext<'c, DB, Cartesian2d<X, Y>>;

/// Most labels on a linear axis; plotters picks round (1-2-5) values up to this many.
pub(crate) const X_LABELS: usize = 10;
pub(crate) const Y_LABELS: usize = 8;
/// On a log axis, plotters labels whole decades only while asked for fewer than ten labels.
pub(crate) const LOG_LABELS: usize = 9;

const MARGIN_LEFT: i32 = 12;
const MARGIN_RIGHT: i32 = 28;
// Tick mark and gap to its label; gap between labels and the axis title.
const TICK_LABEL_GAP: i32 = 14;
const LABEL_TITLE_GAP: i32 = 8;
/// Height of the tick labels and axis title under a plot.
pub(crate) const X_AREA_H: i32 =
    font::TICK_PX as i32 + font::AXIS_TITLE_PX as i32 + TICK_LABEL_GAP + LABEL_TITLE_GAP;

/// What a chart shows around its data.
pub(crate) struct Frame<'a> {
    pub(crate) x_title: &'a str,
    pub(crate) y_title: &'a str,
    /// Entries of the legend band above the plot (none: no band).
    pub(crate) legend: Vec<LegendEntry>,
    /// Most labels on each axis (fewer on x when they would overlap).
    pub(crate) x_labels: usize,
    pub(crate) y_labels: usize,
    /// Vertical and horizontal grid lines (no vertical ones through bars).
    pub(crate) grid: (bool, bool),
    /// An exact plot size in pixels, centred in the area (square heat map cells); none: the
    /// plot fills the area.
    pub(crate) plot: Option<(i32, i32)>,
    /// Crowded x labels (names) are cut to their room ending in "…" rather than thinned while
    /// each has the room of three characters; numbers are always thinned.
    pub(crate) shorten: bool,
}

impl<'a> Frame<'a> {
    /// A frame with axis titles `x_title` and `y_title`, no legend, up to ten x and eight y
    /// labels, and grid lines both ways filling the area.
    pub(crate) fn new(x_title: &'a str, y_title: &'a str) -> Frame<'a> {
        Frame {
            x_title,
            y_title,
            legend: Vec::new(),
            x_labels: X_LABELS,
            y_labels: Y_LABELS,
            grid: (true, true),
            plot: None,
            shorten: false,
        }
    }

    /// Draws the legend band, then the axes, ticks, grid and axis titles of a chart over `x`
    /// and `y` into `area`, and returns the chart to draw series into.
    pub(crate) fn draw<'c, DB, X, Y>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: X,
        y: Y,
        x_format: &dyn Fn(&X::ValueType) -> String,
        y_format: &dyn Fn(&Y::ValueType) -> String,
    ) -> Result<Chart<'c, DB, X, Y>, DrawFailure>
    where
        DB: DrawingBackend,
        X: Ranged + ValueFormatter<X::ValueType>,
        Y: Ranged + ValueFormatter<Y::ValueType>,
    {
        let tick = font::text(font::TICK_PX, palette::INK);
        let y_ticks: Vec<String> = y.key_points(self.y_labels).iter().map(y_format).collect();
        let y_area_w = font::AXIS_TITLE_PX as i32
            + LABEL_TITLE_GAP
            + widest(area, &y_ticks, &tick)?
            + TICK_LABEL_GAP;
        let (w, h) = (area.dim_in_pixel().0 as i32, area.dim_in_pixel().1 as i32);
        let (plot_left, plot_w) = match self.plot {
            Some((plot_w, _)) => (((w - plot_w) / 2).max(MARGIN_LEFT + y_area_w), plot_w),
            None => (
                MARGIN_LEFT + y_area_w,
                (w - MARGIN_LEFT - y_area_w - MARGIN_RIGHT).max(1),
            ),
        };
        let bottom = self
            .plot
            .map_or(8, |(_, plot_h)| h - 10 - plot_h - X_AREA_H);

        let rest = legend::band(area, &self.legend, plot_left, plot_w)?;
        let (px, count, shortened) = self.fit_labels(area, &x, x_format, plot_w)?;

        let mut chart = ChartBuilder::on(&rest)
            .margin_left(plot_left - y_area_w)
            .margin_right((w - plot_left - plot_w).max(0))
            .margin_top(10)
            .margin_bottom(bottom.max(0))
            .x_label_area_size(X_AREA_H)
            .y_label_area_size(y_area_w)
            .build_cartesian_2d(x, y)?;
        let x_label = |v: &X::ValueType| {
            let label = x_format(v);
            shortened.get(&label).cloned().unwrap_or(label)
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_title)
            .y_desc(self.y_title)
            .axis_desc_style(font::text(font::AXIS_TITLE_PX, palette::INK))
            .x_labels(count)
            .y_labels(self.y_labels)
            .x_label_style(font::text(px, palette::INK))
            .y_label_style(tick)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_format)
            .bold_line_style(palette::GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(palette::INK.stroke_width(1))
            .set_all_tick_mark_size(5);
        if !self.grid.0 {
            mesh.disable_x_mesh();
        }
        if !self.grid.1 {
            mesh.disable_y_mesh();
        }
        mesh.draw()?;
        Ok(chart)
    }

    /// The x tick label size, the most labels (plotters thins to round steps below it), and
    /// labels cut to their room: labels shrink down to the smallest tick size; then, unless they
    /// may be shortened to a room of at least three characters, fewer are asked for (at full
    /// size); labels still too wide are cut, ending in "…".
    fn fit_labels<DB: DrawingBackend, X: Ranged>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: &X,
        format: &dyn Fn(&X::ValueType) -> String,
        plot_w: i32,
    ) -> Result<(f64, usize, HashMap<String, String>), DrawFailure> {
        let (mut px, mut count) = (font::TICK_PX, self.x_labels.max(1));
        loop {
            let labels: Vec<String> = x.key_points(count).iter().map(format).collect();
            let room = plot_w / labels.len().max(1) as i32 - 10;
            let style = font::text(px, palette::INK);
            let needed = widest(area, &labels, &style)?;
            if needed > room && px > font::MIN_TICK_PX {
                px -= 1.0;
            } else if needed > room
                && (!self.shorten || room < (3.0 * 0.64 * px) as i32)
                && labels.len() > 1
            {
                // Fewer labels, at full size again.
                let full = widest(area, &labels, &font::text(font::TICK_PX, palette::INK))?;
                count = ((plot_w / (full + 10)).max(1) as usize).min(labels.len() - 1);
                px = font::TICK_PX;
            } else {
                let mut shortened = HashMap::new();
                for label in labels {
                    let short = shorten(area, &label, &style, room)?;
                    shortened.insert(label, short);
                }
                return Ok((px, count, shortened));
            }
        }
    }
}

/// Width in pixels of the widest of `labels`.
pub(crate) fn widest<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[String],
    style: &TextStyle,
) -> Result<i32, DrawFailure> {
    let mut widest = 0;
    for label in labels {
        widest = widest.max(area.estimate_text_size(label, style)?.0 as i32);
    }
    Ok(widest)
}

/// `label` cut to fit `room` pixels, ending in "…" if anything was cut.
fn shorten<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    style: &TextStyle,
    room: i32,
) -> Result<String, DrawFailure> {
    let mut chars: Vec<char> = label.chars().collect();
    let mut candidate = label.to_string();
    while chars.len() > 1 && area.estimate_text_size(&candidate, style)?.0 as i32 > room {
        chars.pop();
        candidate = chars.iter().chain(['…'].iter()).collect();
    }
    Ok(candidate)
}

/// Draws the figure title centred at the top of `root` (smaller rather than clipped when it is
/// too wide) and returns the area below it.
pub(crate) fn title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawFailure> {
    let root = root.margin(9, 0, 0, 0);
    if title.is_empty() {
        return Ok(root);
    }
    let room = root.dim_in_pixel().0.saturating_sub(40);
    let mut px = font::TITLE_PX;
    while px > 16.0
        && root
            .estimate_text_size(title, &font::bold(px, palette::INK))?
            .0
            > room
    {
        px -= 1.0;
    }
    Ok(root.titled(title, font::bold(px, palette::INK))?)
}

/// Writes `note` (e.g. "no data") in the middle of `area` (of a plot: its plotting area).
pub(crate) fn note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    note: &str,
) -> Result<(), DrawFailure> {
    let (w, h) = area.dim_in_pixel();
    let style = font::text(font::NOTE_PX, palette::MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(note, (w as i32 / 2, h as i32 / 2), style))?;
    Ok(())
}

/// A tick label for whole numbers (epochs, indices), and none between them.
pub(crate) fn whole_number(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{}", v.round())
    } else {
        String::new()
    }
}

/// Tick labels for the linear axis `range` with up to `n` ticks (plotters' choice of ticks):
/// as many decimals as the step needs, so that 0.1 * 3 reads "0.3", and k/M/G suffixes from ten
/// thousand up.
pub(crate) fn linear_labels(range: Range<f64>, n: usize) -> impl Fn(&f64) -> String {
    let ticks = RangedCoordf64::from(range).key_points(n);
    let step = ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::NAN, f64::min);
    let large = ticks.iter().any(|t| t.abs() >= 1e4);
    let decimals = (-step.log10() - 1e-9).ceil().max(0.0) as usize;
    move |v: &f64| {
        if large || !step.is_finite() {
            return compact(*v);
        }
        let s = format!("{v:.decimals$}");
        // "-0.0" reads as a different number from "0.0".
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s
        }
    }
}

/// Widens `lo..hi` by `fraction` of its span on each side; a zero span becomes a span around the
/// value (±10 % of it, or ±1 around zero).
pub(crate) fn padded(lo: f64, hi: f64, fraction: f64) -> Range<f64> {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - half, lo + half)
    };
    let pad = (hi - lo) * fraction;
    lo - pad..hi + pad
}

/// `v` within ±1e300, so that every span stays finite and every point maps to a pixel (plotters
/// overflows on points far outside the plot).
pub(crate) fn bounded(v: f64) -> f64 {
    v.clamp(-1e300, 1e300)
}

/// The smallest and largest finite value ([`bounded`]), or `None` if there is none.
pub(crate) fn finite_extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .map(bounded)
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A number in three significant digits, with k/M/G/T suffixes from ten thousand up and
/// scientific notation below 0.001 and from 1e15: "0.0234", "12.3", "45.6k", "1.2M", "3e-5".
pub(crate) fn compact(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let (a, sign) = (v.abs(), if v < 0.0 { "-" } else { "" });
    if !(1e-3..1e15).contains(&a) {
        let exponent = a.log10().floor();
        let mantissa = significant(10f64.powf(a.log10() - exponent), 2);
        return format!("{sign}{mantissa}e{exponent}");
    }
    // The first suffix whose rounded mantissa stays below 1000 (999_999 is "1M", not "1000k").
    for (divisor, suffix) in [(1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")] {
        let mantissa = significant(a / divisor, 3);
        if a >= 1e4 && (suffix == "T" || mantissa.parse::<f64>().is_ok_and(|m| m < 1000.0)) {
            return format!("{sign}{mantissa}{suffix}");
        }
    }
    format!("{sign}{}", significant(a, 3))
}

/// `a` (positive) rounded to `digits` significant digits, trailing zeros dropped;
/// the integer part is never rounded away (1234 stays "1234").
fn significant(a: f64, digits: i32) -> String {
    let magnitude = a.log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let s = format!("{a:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(range: Range<f64>, n: usize) -> Vec<String> {
        let format = linear_labels(range.clone(), n);
        let ticks = RangedCoordf64::from(range).key_points(n);
        ticks.iter().map(format).collect()
    }

    #[test]
    fn linear_labels_print_the_step_without_float_noise() {
        assert_eq!(
            labels(96.8..99.7, 8),
            ["97.0", "97.5", "98.0", "98.5", "99.0", "99.5"]
        );
        assert_eq!(labels(0.0..1.0, 11)[3], "0.3");
        assert_eq!(labels(-1.0..1.0, 5), ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
        assert_eq!(labels(0.0..3e6, 4), ["0", "1M", "2M", "3M"]);
    }

    #[test]
    fn a_single_value_gets_a_visible_range() {
        assert_eq!(padded(0.0, 0.0, 0.05), -1.1..1.1);
        assert_eq!(padded(2.0, 2.0, 0.0), 1.8..2.2);
    }

    #[test]
    fn compact_numbers_keep_three_significant_digits() {
        assert_eq!(compact(0.0234), "0.0234");
        assert_eq!(compact(12.345), "12.3");
        assert_eq!(compact(1234.0), "1234");
        assert_eq!(compact(45_600.0), "45.6k");
        assert_eq!(compact(1_200_000.0), "1.2M");
        assert_eq!(compact(999_999.0), "1M");
        assert_eq!(compact(0.00003), "3e-5");
        assert_eq!(
            (compact(2e300), compact(-5e-320)),
            ("2e300".into(), "-5e-320".into())
        );
        assert_eq!(compact(-0.5), "-0.5");
        assert_eq!(compact(f64::NAN), "n/a");
    }

    #[test]
    fn finite_extent_ignores_nan_and_infinity() {
        assert_eq!(
            finite_extent([f64::NAN, 2.0, f64::INFINITY, -1.0]),
            Some((-1.0, 2.0))
        );
        assert_eq!(finite_extent([f64::NAN]), None);
        assert_eq!(finite_extent([f64::MAX, -f64::MAX]), Some((-1e300, 1e300)));
    }
}
