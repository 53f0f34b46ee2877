//! Training curves: loss and accuracy per epoch, side by side.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::RGBColor;

use crate::error::DrawFailure;
use crate::frame::{self, compact, finite_extent, linear_labels, whole_number, Frame, Y_LABELS};
use crate::line::{draw_lines, finite, Line};
use crate::output::Figure;
use crate::palette;
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
const TRAIN: RGBColor = palette::SERIES[0];
const TEST: RGBColor = palette::SERIES[1];
const VAL: RGBColor = palette::SERIES[2];
/// Most epoch labels.
const EPOCH_LABELS: usize = 12;

pub(crate) struct TrainingCurves<'a> {
    pub(crate) title: &'a str,
    pub(crate) epochs: &'a [EpochPoint],
}

impl Figure for TrainingCurves<'_> {
    fn size(&self) -> (u32, u32) {
        TRAINING_CURVES_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawFailure> {
        let area = frame::title(root, self.title)?;
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
        let loss: Vec<(f64, f64)> = self.epochs.iter().map(|e| (e.epoch, e.loss)).collect();
        let percent = |f: fn(&EpochPoint) -> Option<f64>| -> Vec<(f64, f64)> {
            let points = self.epochs.iter();
            points
                .filter_map(|e| Some((e.epoch, 100.0 * f(e)?)))
                .collect()
        };
        let train = percent(|e| Some(e.train_accuracy));
        let test = percent(|e| Some(e.test_accuracy));
        let val = percent(|e| e.val_accuracy);

        // Loss is never negative: start the axis at zero so the eye reads proportions.
        let loss_range = finite_extent(finite(&loss).map(|p| p.1)).map_or(0.0..1.0, |(lo, hi)| {
            let lo = lo.min(0.0);
            let hi = if hi > lo { hi } else { lo + 1.0 };
            lo..hi + 0.06 * (hi - lo)
        });
        let lines = [("training loss", TRAIN, loss.as_slice())];
        self.panel(&left, LOSS_Y_TITLE, loss_range, &lines, None)?;

        let extent = finite_extent(
            [&train, &test, &val]
                .into_iter()
                .flat_map(|points| finite(points).map(|p| p.1)),
        );
        let mut lines = vec![("train", TRAIN, &train[..]), ("test", TEST, &test[..])];
        if !val.is_empty() {
            lines.push(("validation", VAL, &val[..]));
        }
        let best = best(&test, &val);
        self.panel(
            &right,
            ACCURACY_Y_TITLE,
            extent.map_or(0.0..100.0, accuracy_range),
            &lines,
            best,
        )
    }
}

impl TrainingCurves<'_> {
    /// One panel: `lines` (label, colour, points) over the epochs on a y axis over `y`, with
    /// `best` (a point and its legend label) ringed.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        y_title: &str,
        y: Range<f64>,
        lines: &[Line],
        best: Option<((f64, f64), String)>,
    ) -> Result<(), DrawFailure> {
        let epochs = epoch_range(self.epochs);
        // No more labels than whole epochs in the range, so that plotters' steps are whole.
        let span = (epochs.end - epochs.start).floor();
        let frame = Frame {
            x_labels: span.clamp(1.0, EPOCH_LABELS as f64 - 1.0) as usize + 1,
            ..Frame::new("epoch", y_title)
        };
        draw_lines(
            area,
            frame,
            (epochs, y.clone()),
            (&whole_number, &percent_labels(y)),
            lines,
            best,
        )
    }
}

/// The ringed point, the selected model, with its legend label: the best validation epoch (its
/// test accuracy named beside it), else the best test epoch; the first of equals.
fn best(test: &[(f64, f64)], val: &[(f64, f64)]) -> Option<((f64, f64), String)> {
    let first_best = |points: &[(f64, f64)]| {
        finite(points).fold(None, |best: Option<(f64, f64)>, p| match best {
            Some(b) if b.1 >= p.1 => Some(b),
            _ => Some(p),
        })
    };
    if let Some((epoch, v)) = first_best(val) {
        let at = test.iter().find(|p| p.0 == epoch).map_or(f64::NAN, |p| p.1);
        let label = format!(
            "best validation {v:.2} % @ epoch {} (test {at:.2} %)",
            compact(epoch)
        );
        return Some(((epoch, v), label));
    }
    let (epoch, a) = first_best(test)?;
    let label = format!("best test {a:.2} % @ epoch {}", compact(epoch));
    Some(((epoch, a), label))
}

/// Tick labels for the y axis over `y`, none above 100 (an accuracy never reads above 100 %).
fn percent_labels(y: Range<f64>) -> impl Fn(&f64) -> String {
    let format = linear_labels(y, Y_LABELS);
    move |v| {
        if *v > 100.0 + 1e-9 {
            String::new()
        } else {
            format(v)
        }
    }
}

/// The epochs present, with room for the end dots.
fn epoch_range(epochs: &[EpochPoint]) -> Range<f64> {
    let (lo, hi) = finite_extent(epochs.iter().map(|e| e.epoch)).unwrap_or((0.0, 1.0));
    let pad = if hi > lo { 0.03 * (hi - lo) } else { 0.5 };
    lo - pad..hi + pad
}

/// Zoomed to the accuracies present (in percent) with a small margin, never below 0 %.
fn accuracy_range((lo, hi): (f64, f64)) -> Range<f64> {
    let margin = (0.08 * (hi - lo)).max(0.25);
    (lo - margin).max(0.0)..hi + margin
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::ranged1d::Ranged;
    use plotters::coord::types::RangedCoordf64;

    #[test]
    fn accuracy_range_zooms_to_the_data() {
        let range = accuracy_range((97.0, 99.5));
        assert!(range.start > 96.0 && range.start < 97.0, "{range:?}");
        assert!(range.end > 99.5 && range.end < 100.0, "{range:?}");
        assert_eq!(accuracy_range((0.0, 50.0)).start, 0.0);
    }

    #[test]
    fn no_accuracy_label_above_one_hundred_percent() {
        let format = percent_labels(accuracy_range((99.0, 100.0)));
        assert_eq!(format(&100.0), "100.0");
        assert_eq!(format(&100.2), "");
    }

    #[test]
    fn epoch_ticks_are_whole_numbers() {
        let one = [EpochPoint {
            epoch: 1.0,
            loss: 0.5,
            train_accuracy: 0.9,
            test_accuracy: 0.9,
            val_accuracy: None,
        }];
        assert_eq!(epoch_range(&one), 0.5..1.5);
        let ticks = RangedCoordf64::from(0.5..1.5).key_points(2);
        assert_eq!(ticks, vec![1.0]);
        assert_eq!(whole_number(&3.0), "3");
        assert_eq!(whole_number(&2.5), "");
    }
}
