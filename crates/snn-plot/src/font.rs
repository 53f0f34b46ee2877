//! The embedded DejaVu Sans font and the text sizes every chart uses.
//!
//! plotters' `ab_glyph` backend has no system font lookup: a text draw before the font is registered
//! fails with `FontUnavailable` and leaves a half-drawn image, so [`ensure_registered`] runs before
//! any chart is drawn.

use std::sync::OnceLock;

use plotters::style::{register_font, Color, FontStyle, IntoFont, RGBColor, TextStyle};

/// The family name our font is registered under; distinct from "sans-serif" so that nobody
/// else's registration can replace it.
const FAMILY: &str = "snn-plot DejaVu Sans";

/// Chart title, above everything.
pub(crate) const TITLE_PX: f64 = 30.0;
/// Axis titles ("epoch", "accuracy (%)").
pub(crate) const AXIS_TITLE_PX: f64 = 22.0;
/// Tick labels.
pub(crate) const TICK_PX: f64 = 18.0;
/// Smallest tick label size used when category names have to be squeezed.
pub(crate) const MIN_TICK_PX: f64 = 14.0;
/// Legend entries.
pub(crate) const LEGEND_PX: f64 = 19.0;
/// Numbers printed on top of bars.
pub(crate) const VALUE_PX: f64 = 16.0;
/// The "no data" note.
pub(crate) const NOTE_PX: f64 = 26.0;

/// Registers DejaVu Sans (regular and bold) with plotters exactly once per process.
/// Returns `false` if the rasteriser rejected the embedded bytes (it never does for DejaVu 2.37).
pub(crate) fn ensure_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    })
}

/// Regular text of `px` pixels in `color`.
pub(crate) fn text(px: f64, color: RGBColor) -> TextStyle<'static> {
    with_color(TextStyle::from((FAMILY, px).into_font()), color)
}

/// Bold text of `px` pixels in `color`.
pub(crate) fn bold(px: f64, color: RGBColor) -> TextStyle<'static> {
    with_color(
        TextStyle::from((FAMILY, px, FontStyle::Bold).into_font()),
        color,
    )
}

// `TextStyle::color` wants a reference that outlives the style; setting the field does not.
fn with_color(mut style: TextStyle<'static>, color: RGBColor) -> TextStyle<'static> {
    style.color = color.to_backend_color();
    style
}
