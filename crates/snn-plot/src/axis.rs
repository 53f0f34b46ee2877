//! One chart axis: the visible range, where the ticks go, and how tick labels read.
//!
//! We choose ticks ourselves (1-2-5 steps, integer epochs, one tick per category, decades on a
//! log scale) instead of using plotters' defaults, so that labels never read "0.30000000000000004"
//! and accuracy ticks never pass 100 %.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// An axis in plot coordinates. On a log axis the coordinate is `log10(value)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    /// Lower end of the visible range.
    pub(crate) lo: f64,
    /// Upper end of the visible range (always greater than `lo`).
    pub(crate) hi: f64,
    /// Tick positions, ascending, all inside `lo..=hi`.
    pub(crate) ticks: Vec<f64>,
    labels: TickLabels,
}

#[derive(Debug, Clone, PartialEq)]
enum TickLabels {
    /// A fixed number of decimals.
    Decimals(usize),
    /// Three significant digits with k/M/G suffixes, for large numbers.
    Compact,
    /// The coordinate is log10 of the value; print the value compactly.
    Log10,
    /// Tick `i` is category `i`.
    Categories(Vec<String>),
}

impl Axis {
    /// A linear axis over `lo..hi` with at most `max_ticks` ticks on a 1-2-5 step.
    pub(crate) fn linear(lo: f64, hi: f64, max_ticks: usize) -> Axis {
        let (lo, hi) = non_degenerate(lo, hi);
        let step = nice_step(hi - lo, max_ticks);
        let ticks = ticks_on_step(lo, hi, step);
        let largest = ticks.iter().fold(0.0_f64, |m, t| m.max(t.abs()));
        let labels = if largest >= 1e4 {
            TickLabels::Compact
        } else {
            TickLabels::Decimals(decimals_for_step(step))
        };
        Axis {
            lo,
            hi,
            ticks,
            labels,
        }
    }

    /// A linear axis whose ticks are whole numbers (epochs), at most `max_ticks` of them.
    pub(crate) fn integers(lo: f64, hi: f64, max_ticks: usize) -> Axis {
        let (lo, hi) = non_degenerate(lo, hi);
        let step = nice_step(hi - lo, max_ticks).max(1.0);
        Axis {
            lo,
            hi,
            ticks: ticks_on_step(lo, hi, step),
            labels: TickLabels::Decimals(0),
        }
    }

    /// A log axis for positive values from `lo_value` to `hi_value`; coordinates are log10.
    /// Ticks are 1-2-5 multiples of powers of ten, thinned to whole decades when there are more
    /// than `max_ticks`.
    pub(crate) fn log10(lo_value: f64, hi_value: f64, max_ticks: usize) -> Axis {
        let (lo, hi) = non_degenerate(lo_value.log10(), hi_value.log10());
        let first_decade = lo.floor() as i32;
        let last_decade = hi.ceil() as i32;
        let on_mantissas = |mantissas: &[f64], decade_step: usize| -> Vec<f64> {
            (first_decade..=last_decade)
                .step_by(decade_step)
                .flat_map(|d| mantissas.iter().map(move |m| (m * 10f64.powi(d)).log10()))
                .filter(|t| *t >= lo - 1e-9 && *t <= hi + 1e-9)
                .collect()
        };
        let mut ticks = on_mantissas(&[1.0, 2.0, 5.0], 1);
        if ticks.len() < 2 {
            ticks = on_mantissas(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1);
        }
        if ticks.len() > max_ticks {
            ticks = on_mantissas(&[1.0], 1);
            let decade_step = ticks.len().div_ceil(max_ticks.max(1)).max(1);
            if decade_step > 1 {
                ticks = on_mantissas(&[1.0], decade_step);
            }
        }
        Axis {
            lo,
            hi,
            ticks,
            labels: TickLabels::Log10,
        }
    }

    /// One slot per category, centred on 0, 1, 2, ...; the visible range is `-0.5..n-0.5`.
    pub(crate) fn categories(names: &[String]) -> Axis {
        let n = names.len().max(1) as f64;
        Axis {
            lo: -0.5,
            hi: n - 0.5,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            labels: TickLabels::Categories(names.to_vec()),
        }
    }

    /// The tick label for coordinate `v`.
    pub(crate) fn label(&self, v: f64) -> String {
        match &self.labels {
            TickLabels::Decimals(d) => fixed(v, *d),
            TickLabels::Compact => compact(v),
            TickLabels::Log10 => compact(10f64.powf(v)),
            TickLabels::Categories(names) => {
                let index = v.round();
                if index >= 0.0 && (v - index).abs() < 1e-6 {
                    names.get(index as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        }
    }

    /// plotters' coordinate for this axis, with exactly our ticks.
    pub(crate) fn coord(&self) -> TickedCoord {
        TickedCoord {
            linear: (self.lo..self.hi).into(),
            ticks: self.ticks.clone(),
        }
    }
}

/// A linear f64 coordinate whose tick marks are exactly the given ones.
///
/// plotters' own `WithKeyPoints` does the same but cannot carry custom label formatters for f64,
/// so mesh configuration would not compile with it.
pub(crate) struct TickedCoord {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for TickedCoord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Light (minor) grid lines are not drawn; all ticks are major.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }
}

/// Widens `lo..hi` by `fraction` of its span on each side; a zero span becomes a span around the
/// value (±10 % of it, or ±1 around zero).
pub(crate) fn padded(lo: f64, hi: f64, fraction: f64) -> (f64, f64) {
    let (lo, hi) = non_degenerate(lo, hi);
    let pad = (hi - lo) * fraction;
    (lo - pad, hi + pad)
}

/// The smallest and largest finite value, or `None` if there is none.
pub(crate) fn finite_extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

fn non_degenerate(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        let center = (lo + hi) / 2.0;
        let half = if center == 0.0 {
            1.0
        } else {
            center.abs() * 0.1
        };
        (center - half, center + half)
    }
}

/// The smallest of 1, 2, 5 times a power of ten that splits `span` into at most `max_ticks` steps.
fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let raw = span / max_ticks.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

fn ticks_on_step(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    // Multiplying an integer by the step (rather than adding steps) keeps 0.1 * 3 from drifting.
    (first..=last).map(|k| k as f64 * step).collect()
}

fn decimals_for_step(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10() - 1e-9).ceil().max(0.0) as usize
    }
}

fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    // "-0.0" reads as a different number from "0.0".
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A number in three significant digits, with k/M/G/T suffixes from ten thousand up and
/// scientific notation below 0.001: "0.0234", "12.3", "45.6k", "1.2M", "3e-5".
pub(crate) fn compact(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if a >= 1e4 {
        // The first suffix whose rounded mantissa stays below 1000 (999_999 is "1M", not "1000k").
        let suffixes = [(1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")];
        for (i, (divisor, suffix)) in suffixes.iter().enumerate() {
            let mantissa = significant(a / divisor, 3);
            let fits = mantissa.parse::<f64>().is_ok_and(|m| m < 1000.0);
            if fits || i == suffixes.len() - 1 {
                return format!("{sign}{mantissa}{suffix}");
            }
        }
    }
    if a < 1e-3 {
        let exponent = a.log10().floor() as i32;
        let mantissa = a / 10f64.powi(exponent);
        return format!("{sign}{}e{exponent}", significant(mantissa, 2));
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

    #[test]
    fn linear_ticks_are_round_and_inside_the_range() {
        let axis = Axis::linear(96.8, 99.7, 8);
        assert_eq!(axis.ticks, vec![97.0, 97.5, 98.0, 98.5, 99.0, 99.5]);
        let labels: Vec<String> = axis.ticks.iter().map(|t| axis.label(*t)).collect();
        assert_eq!(labels, ["97.0", "97.5", "98.0", "98.5", "99.0", "99.5"]);
    }

    #[test]
    fn tenth_steps_print_without_float_noise() {
        let axis = Axis::linear(0.0, 1.0, 10);
        assert_eq!(axis.label(axis.ticks[3]), "0.3");
        assert_eq!(axis.ticks.len(), 11);
    }

    #[test]
    fn negative_zero_prints_as_zero() {
        assert_eq!(Axis::linear(-1.0, 1.0, 4).label(-0.0), "0.0");
    }

    #[test]
    fn integer_axis_never_ticks_between_whole_numbers() {
        let axis = Axis::integers(0.8, 3.2, 12);
        assert_eq!(axis.ticks, vec![1.0, 2.0, 3.0]);
        assert_eq!(axis.label(2.0), "2");
        let many = Axis::integers(1.0, 100.0, 12);
        assert_eq!(many.ticks.first(), Some(&10.0));
        assert!(many.ticks.len() <= 12);
    }

    #[test]
    fn single_value_gets_a_visible_range() {
        let axis = Axis::integers(1.0, 1.0, 12);
        assert!(axis.lo < 1.0 && axis.hi > 1.0);
        assert_eq!(axis.ticks, vec![1.0]);
        // A zero span around 0 becomes -1..1, then 5 % of its span (0.1) is added on each side.
        assert_eq!(padded(0.0, 0.0, 0.05), (-1.1, 1.1));
    }

    #[test]
    fn log_axis_ticks_on_one_two_five_within_a_few_decades() {
        let axis = Axis::log10(0.01, 0.3, 10);
        let labels: Vec<String> = axis.ticks.iter().map(|t| axis.label(*t)).collect();
        assert_eq!(labels, ["0.01", "0.02", "0.05", "0.1", "0.2"]);
    }

    #[test]
    fn log_axis_thins_to_decades_over_a_wide_range() {
        let axis = Axis::log10(1.0, 1e9, 10);
        let labels: Vec<String> = axis.ticks.iter().map(|t| axis.label(*t)).collect();
        assert_eq!(
            labels,
            ["1", "10", "100", "1000", "10k", "100k", "1M", "10M", "100M", "1G"]
        );
        let wider = Axis::log10(1e-3, 1e15, 10);
        assert!(wider.ticks.len() <= 10, "{:?}", wider.ticks);
    }

    #[test]
    fn category_labels_sit_on_whole_coordinates_only() {
        let axis = Axis::categories(&["conv1".to_string(), "fc1".to_string()]);
        assert_eq!((axis.lo, axis.hi), (-0.5, 1.5));
        assert_eq!(axis.label(1.0), "fc1");
        assert_eq!(axis.label(0.5), "");
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
    }
}
