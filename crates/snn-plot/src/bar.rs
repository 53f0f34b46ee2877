//! Bar charts: one bar per category, or one bar per series within each category.

use plotters::coord::Shift;
use plotters::element::{EmptyElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color;

use crate::axis::{compact, finite_extent, Axis};
use crate::error::DrawFailure;
use crate::font;
use crate::legend::{LegendEntry, Mark};
use crate::output::Figure;
use crate::palette;
use crate::panel::{self, Panel, PanelChart};
use crate::size::CHART_SIZE;

/// Share of a category's slot that its bars fill, with one series and with several.
const SINGLE_BAR_WIDTH: f64 = 0.7;
const GROUP_WIDTH: f64 = 0.82;

pub(crate) struct BarChart<'a> {
    pub(crate) title: &'a str,
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    pub(crate) categories: &'a [String],
    /// Each series has one value per category; names are shown in a legend when `legend` is set.
    pub(crate) series: Vec<(&'a str, &'a [f64])>,
    pub(crate) log_y: bool,
    pub(crate) legend: bool,
}

impl Figure for BarChart<'_> {
    fn size(&self) -> (u32, u32) {
        CHART_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = panel::title(root, self.title)?;
        let legend = if self.legend {
            self.series
                .iter()
                .enumerate()
                .map(|(i, (name, _))| LegendEntry {
                    label: name.to_string(),
                    color: palette::series(i),
                    mark: Mark::Swatch,
                })
                .collect()
        } else {
            Vec::new()
        };
        let values = || self.series.iter().flat_map(|(_, v)| v.iter().copied());
        let y = if self.log_y {
            log_axis(finite_extent(values().filter(|v| *v > 0.0)))
        } else {
            linear_axis(finite_extent(values()))
        };
        let has_data = !self.categories.is_empty() && y.is_some();
        let frame = Panel {
            x: Axis::categories(self.categories),
            y: y.clone().unwrap_or_else(|| Axis::linear(0.0, 1.0, 8)),
            x_title: self.x_label,
            y_title: self.y_label,
            legend,
            x_grid: false,
        };
        let mut chart = frame.draw(&area)?;
        match y {
            Some(y) if has_data => self.draw_bars(&area, &mut chart, &y),
            _ if self.log_y && !self.categories.is_empty() => {
                panel::note(&chart, "no positive values to show on a log scale")
            }
            _ => panel::note(&chart, "no data"),
        }
    }
}

impl BarChart<'_> {
    fn draw_bars<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        chart: &mut PanelChart<DB>,
        y: &Axis,
    ) -> Result<(), DrawFailure> {
        let k = self.series.len().max(1) as f64;
        let group = if k > 1.0 {
            GROUP_WIDTH
        } else {
            SINGLE_BAR_WIDTH
        };
        let bar_w = group / k;
        // A hairline of background between neighbouring bars of a group keeps them apart.
        let gap = if k > 1.0 { bar_w * 0.06 } else { 0.0 };
        let to_coord = |v: f64| if self.log_y { v.log10() } else { v };
        let baseline = if self.log_y { y.lo } else { 0.0 };

        let mut labels = Vec::new();
        for (s, (_, values)) in self.series.iter().enumerate() {
            let color = palette::series(s);
            for (c, v) in values.iter().copied().enumerate() {
                let x0 = c as f64 - group / 2.0 + s as f64 * bar_w + gap / 2.0;
                let x1 = x0 + bar_w - gap;
                let center = (x0 + x1) / 2.0;
                let drawable = v.is_finite() && (!self.log_y || v > 0.0);
                if drawable {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, baseline), (x1, to_coord(v))],
                        color.filled(),
                    )))?;
                    labels.push((center, to_coord(v), v < 0.0, compact(v)));
                } else {
                    labels.push((center, baseline, false, compact(v)));
                }
            }
        }

        // Numbers on the bars only when every one of them fits over its bar.
        let style = font::text(font::VALUE_PX, palette::INK);
        let plot_w = chart.plotting_area().dim_in_pixel().0 as f64;
        // The category axis is one unit per category.
        let bar_px = plot_w * bar_w / self.categories.len().max(1) as f64;
        let room = if k > 1.0 { bar_px + 2.0 } else { bar_px * 1.3 };
        let mut widest = 0.0_f64;
        for (_, _, _, text) in &labels {
            widest = widest.max(area.estimate_text_size(text, &style)?.0 as f64);
        }
        if widest > room {
            return Ok(());
        }
        chart.draw_series(labels.into_iter().map(|(x, y, below, text)| {
            let (offset, v_pos) = if below {
                (5, VPos::Top)
            } else {
                (-5, VPos::Bottom)
            };
            EmptyElement::at((x, y))
                + Text::new(text, (0, offset), style.pos(Pos::new(HPos::Center, v_pos)))
        }))?;
        Ok(())
    }
}

/// Zero-based linear axis over the values, with headroom for the value labels.
pub(crate) fn linear_axis(extent: Option<(f64, f64)>) -> Option<Axis> {
    let (lo, hi) = extent?;
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let (lo, hi) = if hi > lo { (lo, hi) } else { (0.0, 1.0) };
    let headroom = 0.1 * (hi - lo);
    let lo = if lo < 0.0 { lo - headroom } else { lo };
    let hi = if hi > 0.0 { hi + headroom } else { hi };
    Some(Axis::linear(lo, hi, 8))
}

/// Log axis over the positive values: the baseline is a power of ten below the smallest value
/// (so even the smallest bar has height), with headroom above the largest for value labels.
fn log_axis(positive_extent: Option<(f64, f64)>) -> Option<Axis> {
    let (lo, hi) = positive_extent?;
    let lo_t = (lo.log10() - 0.1).floor();
    let hi_t = hi.log10();
    let headroom = (0.12 * (hi_t - lo_t)).max(0.15);
    Some(Axis::log10(
        10f64.powf(lo_t),
        10f64.powf(hi_t + headroom),
        10,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_bars_start_at_zero_with_headroom() {
        let axis = linear_axis(Some((0.02, 0.15))).unwrap();
        assert_eq!(axis.lo, 0.0);
        assert!(axis.hi > 0.15 && axis.hi < 0.2, "{axis:?}");
    }

    #[test]
    fn log_baseline_is_a_power_of_ten_below_the_smallest_bar() {
        let axis = log_axis(Some((1000.0, 1e6))).unwrap();
        assert_eq!(axis.lo, 2.0);
        assert!(axis.hi > 6.0);
        let small = log_axis(Some((0.02, 0.15))).unwrap();
        assert_eq!(small.lo, -2.0);
    }
}
