//! Chart sizes in pixels, shared by the chart modules and re-exported at the crate root (kept
//! here, not in `lib.rs`, so that no module imports from the crate root that imports it).

/// Size in pixels (width, height) of `line_chart`, `bar_chart`, `grouped_bar_chart` and
/// `stacked_bar_chart` (and of `heat_map` when it has no cells).
pub const CHART_SIZE: (u32, u32) = (1000, 600);

/// Size in pixels (width, height) of `training_curves` (two panels side by side).
pub const TRAINING_CURVES_SIZE: (u32, u32) = (1400, 600);
