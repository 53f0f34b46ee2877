//! snn-plot: the one place where the snn tools draw charts.
//!
//! Every chart is a PNG (or SVG, by file extension) drawn with plotters and the DejaVu Sans font
//! embedded in the binary, so output looks the same on every machine and needs no system font
//! libraries. Charts are meant to be read by people: large fonts, axis titles, legends in their
//! own band above the plot (never over the data), ranges that fit the data.
//!
//! Files are written atomically: each chart is drawn into a hidden temporary file in the same
//! directory and renamed into place, so a reader never sees a half-written image.
//!
//! Bad numbers never panic: non-finite points are skipped (and break a line), and a chart with
//! nothing left to show says "no data".

#![warn(missing_docs)]

mod axis;
mod bar;
mod error;
mod font;
mod legend;
mod line;
mod output;
mod palette;
mod panel;
mod training;

use std::path::Path;

pub use error::PlotError;
pub use line::Series;
pub use training::EpochPoint;

/// Size in pixels (width, height) of [`line_chart`], [`bar_chart`] and [`grouped_bar_chart`].
pub const CHART_SIZE: (u32, u32) = (1000, 600);

/// Size in pixels (width, height) of [`training_curves`] (two panels side by side).
pub const TRAINING_CURVES_SIZE: (u32, u32) = (1400, 600);

/// Draws a line chart with one linear y axis, one line per series, to `path` (`.png` or `.svg`).
///
/// Series are coloured in order and listed in a legend above the plot (unnamed series are left
/// out). Series of up to 40 points get a dot on each point. Non-finite points are skipped and
/// break the line; with no finite point at all the chart says "no data".
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), PlotError> {
    output::write(
        path,
        &line::LineChart {
            title,
            x_label,
            y_label,
            series,
        },
    )
}

/// Draws the training curves of snn-train to `path`: two panels side by side.
///
/// Left: training loss per epoch, with the y axis from zero. Right: train and test accuracy in
/// percent per epoch, zoomed to the data with a small margin, with the best test accuracy ringed
/// and named in the legend ("best test 99.12 % @ epoch 7"). One epoch is enough; non-finite values
/// are skipped.
pub fn training_curves(path: &Path, title: &str, epochs: &[EpochPoint]) -> Result<(), PlotError> {
    output::write(path, &training::TrainingCurves { title, epochs })
}

/// Draws a vertical bar chart with one bar per category (e.g. spike rate per layer) to `path`.
///
/// `values[i]` belongs to `categories[i]`; the lengths must match. Each bar carries its value
/// when the numbers fit. With `log_y` the y axis is logarithmic and bars rise from a power of ten
/// below the smallest positive value; values that cannot be shown (non-positive on a log axis,
/// non-finite) leave their slot empty with the value written at the baseline.
pub fn bar_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    categories: &[String],
    values: &[f64],
    log_y: bool,
) -> Result<(), PlotError> {
    if values.len() != categories.len() {
        return Err(PlotError::InvalidInput {
            path: path.to_owned(),
            reason: format!(
                "{} categories but {} values",
                categories.len(),
                values.len()
            ),
        });
    }
    output::write(
        path,
        &bar::BarChart {
            title,
            x_label,
            y_label,
            categories,
            series: vec![("", values)],
            log_y,
            legend: false,
        },
    )
}

/// Draws grouped bars to `path`: for each category, one bar per named series side by side
/// (e.g. SNN accumulates vs ANN multiply-accumulates per layer), with the series in a legend.
///
/// Every series must have one value per category. `log_y` and value handling are as in
/// [`bar_chart`].
pub fn grouped_bar_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
    log_y: bool,
) -> Result<(), PlotError> {
    if let Some((name, values)) = series.iter().find(|(_, v)| v.len() != categories.len()) {
        return Err(PlotError::InvalidInput {
            path: path.to_owned(),
            reason: format!(
                "{} categories but series {name:?} has {} values",
                categories.len(),
                values.len()
            ),
        });
    }
    output::write(
        path,
        &bar::BarChart {
            title,
            x_label,
            y_label,
            categories,
            series: series
                .iter()
                .map(|(name, values)| (name.as_str(), values.as_slice()))
                .collect(),
            log_y,
            legend: true,
        },
    )
}
