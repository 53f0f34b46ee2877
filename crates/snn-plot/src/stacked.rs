//! Stacked bar charts: one bar per category, made of the series stacked bottom-up.

use plotters::coord::Shift;
use plotters::element::{EmptyElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color;

use crate::axis::{compact, Axis};
use crate::bar::linear_axis;
use crate::error::DrawFailure;
use crate::font;
use crate::legend::{LegendEntry, Mark};
use crate::output::Figure;
use crate::palette;
use crate::panel::{self, Panel, PanelChart};
use crate::size::CHART_SIZE;

/// Share of a category's slot that its bar fills.
const BAR_WIDTH: f64 = 0.7;

pub(crate) struct StackedBarChart<'a> {
    pub(crate) title: &'a str,
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    pub(crate) categories: &'a [String],
    /// Each series has one finite, non-negative value per category.
    pub(crate) series: &'a [(String, Vec<f64>)],
}

impl StackedBarChart<'_> {
    /// The height of each category's bar.
    fn totals(&self) -> Vec<f64> {
        (0..self.categories.len())
            .map(|c| self.series.iter().map(|(_, v)| v[c]).sum())
            .collect()
    }
}

impl Figure for StackedBarChart<'_> {
    fn size(&self) -> (u32, u32) {
        CHART_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = panel::title(root, self.title)?;
        let legend = self
            .series
            .iter()
            .enumerate()
            .map(|(i, (name, _))| LegendEntry {
                label: name.clone(),
                color: palette::series(i),
                mark: Mark::Swatch,
            })
            .collect();
        let has_data = !self.categories.is_empty() && !self.series.is_empty();
        let totals = self.totals();
        let largest = totals.iter().copied().fold(0.0_f64, f64::max);
        let frame = Panel {
            x: Axis::categories(self.categories),
            y: linear_axis(Some((0.0, largest))).unwrap_or_else(|| Axis::linear(0.0, 1.0, 8)),
            x_title: self.x_label,
            y_title: self.y_label,
            legend,
            x_grid: false,
        };
        let mut chart = frame.draw(&area)?;
        if has_data {
            self.draw_bars(&area, &mut chart, &totals)
        } else {
            panel::note(&chart, "no data")
        }
    }
}

impl StackedBarChart<'_> {
    fn draw_bars<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        chart: &mut PanelChart<DB>,
        totals: &[f64],
    ) -> Result<(), DrawFailure> {
        for c in 0..self.categories.len() {
            let (x0, x1) = (c as f64 - BAR_WIDTH / 2.0, c as f64 + BAR_WIDTH / 2.0);
            let mut bottom = 0.0;
            for (s, (_, values)) in self.series.iter().enumerate() {
                let top = bottom + values[c];
                if top > bottom {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, bottom), (x1, top)],
                        palette::series(s).filled(),
                    )))?;
                }
                bottom = top;
            }
        }

        // Totals above the bars only when every one of them fits over its bar.
        let style = font::text(font::VALUE_PX, palette::INK);
        let plot_w = chart.plotting_area().dim_in_pixel().0 as f64;
        let bar_px = plot_w * BAR_WIDTH / self.categories.len().max(1) as f64;
        let labels: Vec<String> = totals.iter().map(|t| compact(*t)).collect();
        let mut widest = 0.0_f64;
        for text in &labels {
            widest = widest.max(area.estimate_text_size(text, &style)?.0 as f64);
        }
        if widest > bar_px * 1.3 {
            return Ok(());
        }
        chart.draw_series(labels.into_iter().zip(totals).enumerate().map(
            |(c, (text, total))| {
                EmptyElement::at((c as f64, *total))
                    + Text::new(
                        text,
                        (0, -5),
                        style.pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
            },
        ))?;
        Ok(())
    }
}
