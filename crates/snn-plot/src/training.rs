//! Training curves: loss and accuracy per epoch, side by side.

use plotters::coord::Shift;
use plotters::element::Circle;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::Color;

use crate::axis::{compact, finite_extent, Axis};
use crate::error::DrawFailure;
use crate::legend::{LegendEntry, Mark};
use crate::line::{draw_line, MAX_POINTS_WITH_DOTS};
use crate::output::Figure;
use crate::palette;
use crate::panel::{self, Panel};
use crate::size::TRAINING_CURVES_SIZE;

/// What the trainer measured after one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochPoint {
    /// Epoch number (usually 1, 2, ...; fractional values are allowed).
    pub epoch: f64,
    /// Training loss: summed squared error per sample.
    pub loss: f64,
    /// Training-set accuracy as a fraction in 0..=1.
    pub train_accuracy: f64,
    /// Test-set accuracy as a fraction in 0..=1.
    pub test_accuracy: f64,
    /// Validation-set accuracy as a fraction in 0..=1, when the run holds out a validation set;
    /// the chart then rings the best validation epoch (the selected model) instead of the best
    /// test epoch.
    pub val_accuracy: Option<f64>,
}

const LOSS_Y_TITLE: &str = "loss (summed squared error per sample)";
const ACCURACY_Y_TITLE: &str = "accuracy (%)";
const EPOCH_TITLE: &str = "epoch";
const TRAIN_COLOR: usize = 0;
const TEST_COLOR: usize = 1;
const VAL_COLOR: usize = 2;

pub(crate) struct TrainingCurves<'a> {
    pub(crate) title: &'a str,
    pub(crate) epochs: &'a [EpochPoint],
}

impl Figure for TrainingCurves<'_> {
    fn size(&self) -> (u32, u32) {
        TRAINING_CURVES_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = panel::title(root, self.title)?;
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
        let epoch_axis = epoch_axis(self.epochs);
        let dots = self.epochs.len() <= MAX_POINTS_WITH_DOTS;
        let line_mark = if dots { Mark::LineAndDot } else { Mark::Line };
        self.draw_loss(&left, epoch_axis.clone(), dots, line_mark)?;
        self.draw_accuracy(&right, epoch_axis, dots, line_mark)
    }
}

impl TrainingCurves<'_> {
    fn draw_loss<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        epoch_axis: Axis,
        dots: bool,
        line_mark: Mark,
    ) -> Result<(), DrawFailure> {
        let points: Vec<(f64, f64)> = self.epochs.iter().map(|e| (e.epoch, e.loss)).collect();
        let extent = finite_extent(finite(&points).map(|p| p.1));
        // Loss is never negative: start the axis at zero so the eye reads proportions.
        let y = match extent {
            Some((lo, hi)) => {
                let lo = lo.min(0.0);
                let hi = if hi > lo { hi } else { lo + 1.0 };
                Axis::linear(lo, hi + 0.06 * (hi - lo), 8)
            }
            None => Axis::linear(0.0, 1.0, 8),
        };
        let frame = Panel {
            x: epoch_axis,
            y,
            x_title: EPOCH_TITLE,
            y_title: LOSS_Y_TITLE,
            legend: vec![LegendEntry {
                label: "training loss".to_string(),
                color: palette::series(TRAIN_COLOR),
                mark: line_mark,
            }],
            x_grid: true,
        };
        let mut chart = frame.draw(area)?;
        if extent.is_none() {
            return panel::note(&chart, "no data");
        }
        draw_line(&mut chart, &points, palette::series(TRAIN_COLOR), dots)
    }

    fn draw_accuracy<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        epoch_axis: Axis,
        dots: bool,
        line_mark: Mark,
    ) -> Result<(), DrawFailure> {
        let percent = |f: fn(&EpochPoint) -> f64| -> Vec<(f64, f64)> {
            self.epochs
                .iter()
                .map(|e| (e.epoch, 100.0 * f(e)))
                .collect()
        };
        let train = percent(|e| e.train_accuracy);
        let test = percent(|e| e.test_accuracy);
        let val: Vec<(f64, f64)> = self
            .epochs
            .iter()
            .filter_map(|e| Some((e.epoch, 100.0 * e.val_accuracy?)))
            .collect();
        let extent = finite_extent(
            finite(&train)
                .chain(finite(&test))
                .chain(finite(&val))
                .map(|p| p.1),
        );
        let first_best = |points: &[(f64, f64)]| {
            finite(points).fold(None, |best: Option<(f64, f64)>, p| match best {
                Some(b) if b.1 >= p.1 => Some(b),
                _ => Some(p),
            })
        };
        // The ringed point is the selected model: best validation epoch (its test accuracy
        // named beside it), else best test epoch.
        let (best, best_label) = match first_best(&val) {
            Some((epoch, v)) => {
                let at = test.iter().find(|p| p.0 == epoch).map_or(f64::NAN, |p| p.1);
                (
                    Some((epoch, v)),
                    format!(
                        "best validation {v:.2} % @ epoch {} (test {at:.2} %)",
                        compact(epoch)
                    ),
                )
            }
            None => {
                let b = first_best(&test);
                let label = b.map_or(String::new(), |(epoch, a)| {
                    format!("best test {a:.2} % @ epoch {}", compact(epoch))
                });
                (b, label)
            }
        };

        let mut legend = vec![
            LegendEntry {
                label: "train".to_string(),
                color: palette::series(TRAIN_COLOR),
                mark: line_mark,
            },
            LegendEntry {
                label: "test".to_string(),
                color: palette::series(TEST_COLOR),
                mark: line_mark,
            },
        ];
        if !val.is_empty() {
            legend.push(LegendEntry {
                label: "validation".to_string(),
                color: palette::series(VAL_COLOR),
                mark: line_mark,
            });
        }
        if best.is_some() {
            legend.push(LegendEntry {
                label: best_label,
                color: palette::HIGHLIGHT,
                mark: Mark::Ring,
            });
        }
        let frame = Panel {
            x: epoch_axis,
            y: accuracy_axis(extent),
            x_title: EPOCH_TITLE,
            y_title: ACCURACY_Y_TITLE,
            legend,
            x_grid: true,
        };
        let mut chart = frame.draw(area)?;
        if extent.is_none() {
            return panel::note(&chart, "no data");
        }
        draw_line(&mut chart, &train, palette::series(TRAIN_COLOR), dots)?;
        draw_line(&mut chart, &test, palette::series(TEST_COLOR), dots)?;
        if !val.is_empty() {
            draw_line(&mut chart, &val, palette::series(VAL_COLOR), dots)?;
        }
        if let Some(point) = best {
            chart.draw_series(std::iter::once(Circle::new(
                point,
                11,
                palette::HIGHLIGHT.stroke_width(3),
            )))?;
        }
        Ok(())
    }
}

fn finite(points: &[(f64, f64)]) -> impl Iterator<Item = (f64, f64)> + '_ {
    points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
}

/// Whole-number epoch ticks over the epochs present, with room for the end dots.
fn epoch_axis(epochs: &[EpochPoint]) -> Axis {
    let (lo, hi) = finite_extent(epochs.iter().map(|e| e.epoch)).unwrap_or((0.0, 1.0));
    let pad = if hi > lo { 0.03 * (hi - lo) } else { 0.5 };
    Axis::integers(lo - pad, hi + pad, 12)
}

/// Zoomed to the accuracies present (in percent) with a small margin; never a tick above 100 %
/// or a range below 0 %.
fn accuracy_axis(extent: Option<(f64, f64)>) -> Axis {
    let Some((lo, hi)) = extent else {
        return Axis::linear(0.0, 100.0, 8);
    };
    let margin = (0.08 * (hi - lo)).max(0.25);
    let mut axis = Axis::linear((lo - margin).max(0.0), hi + margin, 8);
    axis.ticks.retain(|t| *t <= 100.0 + 1e-9);
    axis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_axis_zooms_to_the_data() {
        let axis = accuracy_axis(Some((97.0, 99.5)));
        assert!(axis.lo > 96.0 && axis.lo < 97.0, "{axis:?}");
        assert!(axis.hi > 99.5 && axis.hi < 100.0, "{axis:?}");
    }

    #[test]
    fn accuracy_axis_never_ticks_above_one_hundred_percent() {
        let axis = accuracy_axis(Some((99.0, 100.0)));
        assert!(axis.hi > 100.0);
        assert!(axis.ticks.iter().all(|t| *t <= 100.0), "{:?}", axis.ticks);
        assert_eq!(accuracy_axis(Some((0.0, 50.0))).lo, 0.0);
    }

    #[test]
    fn a_single_epoch_gets_a_range_around_it() {
        let one = [EpochPoint {
            epoch: 1.0,
            loss: 0.5,
            train_accuracy: 0.9,
            test_accuracy: 0.9,
            val_accuracy: None,
        }];
        let axis = epoch_axis(&one);
        assert_eq!((axis.lo, axis.hi), (0.5, 1.5));
        assert_eq!(axis.ticks, vec![1.0]);
    }
}
