//! Bar charts: one bar per category, one bar per series side by side within each category, or
//! the series stacked into one bar per category.
//!
//! The category axis is plotters' nested coordinate: one slot per category (labelled at its
//! centre, thinned by plotters when crowded), each with its own axis 0..1 across the slot on
//! which the bars of a group sit.

use plotters::coord::combinators::{
    BuildNestedCoord, IntoLogRange, LogCoord, NestedRange, NestedValue,
};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::element::{EmptyElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color;

use crate::error::DrawFailure;
use crate::font;
use crate::frame::{
    self, bounded, compact, finite_extent, linear_labels, widest, Chart, Frame, LOG_LABELS,
    Y_LABELS,
};
use crate::legend::{LegendEntry, Mark};
use crate::output::Figure;
use crate::palette;
use crate::size::CHART_SIZE;

/// Share of a category's slot that its bars fill, with one bar and with a group.
const SINGLE_BAR_WIDTH: f64 = 0.7;
const GROUP_WIDTH: f64 = 0.82;

/// The category axis: slots `0..n` (for at least one slot), each with an axis 0..1 across it.
type Slots = NestedRange<RangedCoordusize, RangedCoordf64>;
type Slot = NestedValue<usize, f64>;

pub(crate) struct BarChart<'a> {
    pub(crate) title: &'a str,
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    pub(crate) categories: &'a [String],
    /// Each series has one value per category.
    pub(crate) series: Vec<(&'a str, &'a [f64])>,
    /// Logarithmic y axis (never with stacked bars).
    pub(crate) log_y: bool,
    pub(crate) layout: Layout,
}

/// How the series of a bar chart are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One unnamed series: one bar per category, no legend.
    Single,
    /// The series side by side in each category, named in a legend.
    Grouped,
    /// One bar per category made of the series bottom-up (values finite and at least 0), named
    /// in a legend.
    Stacked,
}

impl Figure for BarChart<'_> {
    fn size(&self) -> (u32, u32) {
        CHART_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = frame::title(root, self.title)?;
        let legend = self
            .series
            .iter()
            .enumerate()
            .filter(|_| self.layout != Layout::Single);
        let n = self.categories.len();
        let frame = Frame {
            legend: legend
                .map(|(i, (name, _))| LegendEntry::new(name, palette::series(i), Mark::Swatch))
                .collect(),
            x_labels: n.max(1),
            y_labels: if self.log_y { LOG_LABELS } else { Y_LABELS },
            grid: (false, true),
            shorten: true,
            ..Frame::new(self.x_label, self.y_label)
        };
        let slots = || (0..n.max(1) - 1).nested_coord(|_| 0.0..1.0);
        let names = |v: &Slot| match v {
            NestedValue::Category(c) => self.categories.get(*c).cloned().unwrap_or_default(),
            NestedValue::Value(..) => String::new(),
        };
        let has_data = n > 0 && !self.series.is_empty();
        let tops: Vec<f64> = match self.layout {
            Layout::Stacked => (0..n)
                .map(|c| self.series.iter().map(|s| s.1[c]).sum())
                .collect(),
            _ => self
                .series
                .iter()
                .flat_map(|s| s.1.iter().copied())
                .collect(),
        };
        match finite_extent(tops.iter().copied().filter(|v| *v > 0.0)) {
            Some((lo, hi)) if self.log_y && has_data => {
                let (base, y) = log_axis(lo, hi);
                let mut chart = frame.draw(&area, slots(), y, &names, &|v| compact(*v))?;
                self.draw_bars(&area, &mut chart, base)
            }
            _ => {
                let range = linear_range(finite_extent(tops.iter().copied()));
                let y_format = linear_labels(range.clone(), Y_LABELS);
                let y = RangedCoordf64::from(range);
                let mut chart = frame.draw(&area, slots(), y, &names, &y_format)?;
                let plot = chart.plotting_area().strip_coord_spec();
                match (has_data, self.log_y) {
                    (true, false) => self.draw_bars(&area, &mut chart, 0.0),
                    (true, true) => frame::note(&plot, "no positive values to show on a log scale"),
                    (false, _) => frame::note(&plot, "no data"),
                }
            }
        }
    }
}

impl BarChart<'_> {
    /// Draws the bars rising from `base`, and their values (totals of stacked bars) when every
    /// one of them fits over its bar.
    fn draw_bars<DB, Y>(
        &self,
        area: &DrawingArea<DB, Shift>,
        chart: &mut Chart<DB, Slots, Y>,
        base: f64,
    ) -> Result<(), DrawFailure>
    where
        DB: DrawingBackend,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let stacked = self.layout == Layout::Stacked;
        let k = if stacked { 1 } else { self.series.len() };
        let group = if k > 1 { GROUP_WIDTH } else { SINGLE_BAR_WIDTH };
        let bar_w = group / k as f64;
        // A hairline of background between neighbouring bars of a group keeps them apart.
        let gap = if k > 1 { bar_w * 0.06 } else { 0.0 };
        // Where each number goes, whether under (a negative bar), and the number.
        let mut labels: Vec<((Slot, f64), bool, String)> = Vec::new();
        for c in 0..self.categories.len() {
            let mut bottom = base;
            let at = |x: f64, y: f64| (NestedValue::Value(c, x), y);
            for (s, (_, values)) in self.series.iter().enumerate() {
                let (v, x0) = (
                    bounded(values[c]),
                    (1.0 - group) / 2.0 + (s % k) as f64 * bar_w,
                );
                let (x0, x1) = (x0 + gap / 2.0, x0 + bar_w - gap / 2.0);
                let shown = v.is_finite() && (!self.log_y || v >= base);
                let top = if stacked { bottom + v } else { v };
                if shown && top != bottom {
                    let style = palette::series(s).filled();
                    chart.draw_series([Rectangle::new([at(x0, bottom), at(x1, top)], style)])?;
                }
                if stacked {
                    bottom = top;
                } else {
                    // A value that cannot be shown is written at the baseline of its empty slot.
                    let (y, below) = if shown { (v, v < 0.0) } else { (base, false) };
                    labels.push((at((x0 + x1) / 2.0, y), below, compact(values[c])));
                }
            }
            if stacked {
                labels.push((at(0.5, bottom), false, compact(bottom)));
            }
        }

        let style = font::text(font::VALUE_PX, palette::INK);
        let plot_w = chart.plotting_area().dim_in_pixel().0 as f64;
        let bar_px = plot_w * bar_w / self.categories.len().max(1) as f64;
        let room = if k > 1 { bar_px + 2.0 } else { bar_px * 1.3 };
        let texts: Vec<String> = labels.iter().map(|l| l.2.clone()).collect();
        if widest(area, &texts, &style)? as f64 > room {
            return Ok(());
        }
        chart.draw_series(labels.into_iter().map(|(at, below, text)| {
            let (offset, v_pos) = [(-5, VPos::Bottom), (5, VPos::Top)][usize::from(below)];
            let style = style.pos(Pos::new(HPos::Center, v_pos));
            EmptyElement::at(at) + Text::new(text, (0, offset), style)
        }))?;
        Ok(())
    }
}

/// Zero-based linear range over the values (0..1 without any), with headroom for the value
/// labels.
fn linear_range(extent: Option<(f64, f64)>) -> std::ops::Range<f64> {
    let (lo, hi) = extent.map_or((0.0, 1.0), |(lo, hi)| (lo.min(0.0), hi.max(0.0)));
    let (lo, hi) = if hi > lo { (lo, hi) } else { (0.0, 1.0) };
    let headroom = 0.1 * (hi - lo);
    let lo = if lo < 0.0 { lo - headroom } else { lo };
    let hi = if hi > 0.0 { hi + headroom } else { hi };
    lo..hi
}

/// The log axis over positive values from `lo` to `hi`, and its baseline: a power of ten below
/// the smallest (so that even the smallest bar has height; values below a baseline raised to keep
/// the axis finite cannot be shown); headroom above the largest for its label.
fn log_axis(lo: f64, hi: f64) -> (f64, LogCoord<f64>) {
    // No more than 250 decades within 1e-300..1e300 (`hi` is `bounded`): plotters' log axis
    // never stops ticking when the ratio of its ends overflows.
    let hi_t = hi.log10();
    let lo_t = (lo.log10() - 0.1)
        .floor()
        .max(hi_t.ceil() - 250.0)
        .max(-300.0);
    let top = 10f64.powf((hi_t + (0.12 * (hi_t - lo_t)).max(0.15)).min(300.0));
    let base = 10f64.powf(lo_t);
    // Starting just below the baseline makes it plotters' first labelled decade.
    (base, (base * (1.0 - 1e-6)..top).log_scale().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_bars_start_at_zero_with_headroom() {
        let range = linear_range(Some((0.02, 0.15)));
        assert_eq!(range.start, 0.0);
        assert!(range.end > 0.15 && range.end < 0.2, "{range:?}");
        assert_eq!(linear_range(None), 0.0..1.1);
        assert_eq!(linear_range(Some((-2.0, -1.0))), -2.2..0.0);
    }

    #[test]
    fn log_baseline_is_a_power_of_ten_below_the_smallest_bar() {
        let (base, axis) = log_axis(1000.0, 1e6);
        assert_eq!(base, 100.0);
        assert!(axis.range().end > 1e6);
        assert_eq!(log_axis(0.02, 0.15).0, 0.01);
        assert_eq!(log_axis(0.1, 0.1).0, 0.01);
        // Decades are labelled, from the baseline up.
        let (base, axis) = log_axis(0.0009, 0.21);
        let labels: Vec<String> = axis
            .key_points(LOG_LABELS)
            .iter()
            .map(|v| compact(*v))
            .collect();
        assert_eq!(labels, ["1e-4", "0.001", "0.01", "0.1"]);
        assert_eq!(base, 1e-4);
    }
}
