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

mod bar;
mod error;
mod font;
mod frame;
mod heat;
mod legend;
mod line;
mod link_map;
mod output;
mod palette;
mod size;
mod training;

use std::path::Path;

pub use error::PlotError;
pub use line::Series;
pub use training::EpochPoint;

pub use size::{CHART_SIZE, TRAINING_CURVES_SIZE};

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
    bars(
        path,
        bar::BarChart {
            title,
            x_label,
            y_label,
            categories,
            series: vec![("", values)],
            log_y,
            layout: bar::Layout::Single,
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
    bars(
        path,
        bar::BarChart {
            title,
            x_label,
            y_label,
            categories,
            series: named(series),
            log_y,
            layout: bar::Layout::Grouped,
        },
    )
}

/// Draws a heat map of a grid of cells (e.g. core utilization or NoC traffic per mesh tile) to
/// `path`.
///
/// `cells[row][col]`: row 0 is drawn at the top, column 0 at the left, with the indices as tick
/// labels and `x_label` / `y_label` as axis titles. `Some(v)` is coloured on a sequential scale
/// (viridis: dark purple to yellow) from `min(0, smallest)` to the largest value, shown in a
/// colour bar titled `value_label` under the grid. `None` (and a non-finite value) means no data:
/// a light grey, hatched cell, explained by a "no data" swatch beside the colour bar.
///
/// Cells are square; the image grows with the grid up to a bounded size (a 64×64 mesh gets
/// cells of about 11 pixels), so the image size depends on the grid's shape. Tick labels are
/// thinned when crowded, and each cell shows its value (three significant digits, in black or
/// white for contrast) only when every value fits its cell. `column_separator_every = n` draws
/// thick lines every `n` columns (chip boundaries when several chips are joined); 0 for none.
///
/// Every row must be as long as the first. An empty grid draws a chart that says "no data".
pub fn heat_map(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    value_label: &str,
    cells: &[Vec<Option<f64>>],
    column_separator_every: usize,
) -> Result<(), PlotError> {
    let columns = cells.first().map_or(0, Vec::len);
    if let Some((r, row)) = cells
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != columns)
    {
        let reason = format!("row 0 has {columns} cells but row {r} has {}", row.len());
        return Err(invalid(path, reason));
    }
    output::write(
        path,
        &heat::HeatMap {
            title,
            x_label,
            y_label,
            value_label,
            cells,
            column_separator_every,
        },
    )
}

/// One directed link between neighbouring tiles of a mesh and its value, for [`link_map`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkValue {
    /// Tile (x, y) the link leaves.
    pub from: (u32, u32),
    /// The neighbouring tile it enters (one step along x or along y).
    pub to: (u32, u32),
    /// What it carried (e.g. packets per step).
    pub value: f64,
}

/// Draws the load of a mesh's links to `path` (`.png` or `.svg`): a grid of `tiles` (across,
/// down) drawn as small squares (darker where listed in `used`), and each link of `links` as a
/// bar between its two tiles coloured on the heat map's scale (viridis, from `min(0, smallest)`
/// to the largest value, colour bar titled `value_label`). The two directions between a pair of
/// tiles are two lanes: eastward above westward, southward (down the picture) left of northward.
/// Neighbour pairs without a listed link show faint grey lanes. `column_separator_every = n`
/// draws thick lines every `n` columns (chip boundaries); 0 for none.
///
/// Every link must join neighbouring tiles inside the grid; otherwise nothing is written and the
/// error is [`PlotError::InvalidInput`]. Non-finite values are left out; with no value at all
/// the chart says so.
pub fn link_map(
    path: &Path,
    title: &str,
    value_label: &str,
    tiles: (usize, usize),
    used: &[(u32, u32)],
    links: &[LinkValue],
    column_separator_every: usize,
) -> Result<(), PlotError> {
    let inside = |(x, y): (u32, u32)| (x as usize) < tiles.0 && (y as usize) < tiles.1;
    if let Some(bad) = links.iter().find(|l| {
        let step = l.from.0.abs_diff(l.to.0) + l.from.1.abs_diff(l.to.1);
        step != 1 || !inside(l.from) || !inside(l.to)
    }) {
        let reason = format!(
            "link {:?} -> {:?} does not join neighbouring tiles of the {}x{} grid",
            bad.from, bad.to, tiles.0, tiles.1
        );
        return Err(invalid(path, reason));
    }
    output::write(
        path,
        &link_map::LinkMap {
            title,
            value_label,
            tiles,
            used,
            links,
            column_separator_every,
        },
    )
}

/// Draws stacked vertical bars to `path`: for each category one bar made of the series stacked
/// bottom-up (e.g. energy per layer split into synaptic / neuron / routing / static), with the
/// series in a legend above the plot.
///
/// Every series must have one value per category, and every value must be finite and not
/// negative; otherwise nothing is written and the error is [`PlotError::InvalidInput`]. The y
/// axis is linear from 0 (there is no log scale: stacked parts would not add up on one). Each
/// bar's total is written above it when all totals fit. No categories or no series: a chart that
/// says "no data".
pub fn stacked_bar_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
) -> Result<(), PlotError> {
    bars(
        path,
        bar::BarChart {
            title,
            x_label,
            y_label,
            categories,
            series: named(series),
            log_y: false,
            layout: bar::Layout::Stacked,
        },
    )
}

fn invalid(path: &Path, reason: String) -> PlotError {
    PlotError::InvalidInput {
        path: path.to_owned(),
        reason,
    }
}

/// The series as (name, values) slices.
fn named(series: &[(String, Vec<f64>)]) -> Vec<(&str, &[f64])> {
    series
        .iter()
        .map(|(name, v)| (name.as_str(), v.as_slice()))
        .collect()
}

/// Writes `chart` to `path` once every series has one value per category (the unnamed series
/// is the values of [`bar_chart`]) and, for stacked bars, every value is finite and at least 0.
fn bars(path: &Path, chart: bar::BarChart) -> Result<(), PlotError> {
    let n = chart.categories.len();
    for (name, values) in &chart.series {
        if values.len() != n {
            let whose = if name.is_empty() {
                String::new()
            } else {
                format!("series {name:?} has ")
            };
            return Err(invalid(
                path,
                format!("{n} categories but {whose}{} values", values.len()),
            ));
        }
        let bad = values.iter().position(|v| !(*v >= 0.0 && v.is_finite()));
        if let (Some(c), bar::Layout::Stacked) = (bad, chart.layout) {
            return Err(invalid(
                path,
                format!(
                    "series {name:?} has {} for category {:?}; stacked bars need finite values of at least 0",
                    values[c], chart.categories[c]
                ),
            ));
        }
    }
    output::write(path, &chart)
}
