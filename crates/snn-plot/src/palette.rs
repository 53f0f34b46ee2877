//! Colours shared by all charts.

use plotters::style::RGBColor;

/// Series colours in order of use (matplotlib's "tab10": distinct, and readable on white).
pub(crate) const SERIES: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of series number `index` (cycles after ten).
pub(crate) fn series(index: usize) -> RGBColor {
    SERIES[index % SERIES.len()]
}

/// Text and axis lines.
pub(crate) const INK: RGBColor = RGBColor(20, 20, 20);
/// Secondary text ("no data").
pub(crate) const MUTED: RGBColor = RGBColor(120, 120, 120);
/// Grid lines behind the data.
pub(crate) const GRID: RGBColor = RGBColor(222, 222, 222);
/// Highlight for a marked point (best test accuracy).
pub(crate) const HIGHLIGHT: RGBColor = RGBColor(214, 39, 40);
/// Image background.
pub(crate) const BACKGROUND: RGBColor = RGBColor(255, 255, 255);
