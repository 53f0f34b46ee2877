//! Heat maps and stacked bars write real images (PNG and SVG), handle empty and wide grids, and
//! reject inconsistent input without writing anything.

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;

use snn_plot::{heat_map, stacked_bar_chart, PlotError, CHART_SIZE};

/// Decodes the PNG at `path`: (width, height, number of distinct RGB colours).
fn decode(path: &Path) -> (u32, u32, usize) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG header");
    let file = File::open(path).unwrap();
    let mut reader = png::Decoder::new(file).read_info().expect("a valid PNG");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("a PNG frame");
    let samples = info.color_type.samples();
    let colours = buffer[..info.buffer_size()]
        .chunks_exact(samples)
        .map(|p| [p[0], p[1], p[2]])
        .collect::<HashSet<_>>()
        .len();
    (info.width, info.height, colours)
}

fn assert_only_files(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, expected);
}

fn grid(rows: usize, cols: usize) -> Vec<Vec<Option<f64>>> {
    (0..rows)
        .map(|r| {
            (0..cols)
                .map(|c| ((r + c) % 5 != 0).then(|| (r * cols + c) as f64 / 10.0))
                .collect()
        })
        .collect()
}

fn layers() -> Vec<String> {
    ["conv1", "pool1", "conv2", "fc1"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn energy() -> Vec<(String, Vec<f64>)> {
    vec![
        ("synaptic".to_string(), vec![40.0, 3.0, 80.0, 12.0]),
        ("neuron".to_string(), vec![12.0, 6.0, 9.0, 2.0]),
        ("static".to_string(), vec![20.0; 4]),
    ]
}

#[test]
fn heat_map_writes_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("heat.png");
    heat_map(&png, "utilization", "x", "y", "fraction", &grid(4, 8), 0).unwrap();
    let (w, h, colours) = decode(&png);
    assert!(w >= 800 && h >= 400, "{w}x{h}");
    assert!(colours > 20, "only {colours} colours");

    let svg = dir.path().join("heat.svg");
    heat_map(&svg, "utilization", "x", "y", "fraction", &grid(4, 8), 0).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"));
    assert!(text.contains("utilization") && text.contains("fraction"));
    assert!(
        text.contains("no data"),
        "the empty-cell swatch is explained"
    );
    assert_only_files(dir.path(), &["heat.png", "heat.svg"]);
}

#[test]
fn heat_map_keeps_cells_square_for_wide_and_large_grids() {
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.png");
    heat_map(&wide, "three chips", "x", "y", "spikes", &grid(4, 24), 8).unwrap();
    let (w, h, _) = decode(&wide);
    assert!(w > h, "a 24 x 4 grid is drawn wide: {w}x{h}");

    let mesh = dir.path().join("mesh.png");
    heat_map(&mesh, "mesh", "x", "y", "use", &grid(64, 64), 0).unwrap();
    let (w, h, _) = decode(&mesh);
    assert!(
        w <= 1400 && h <= 1100,
        "a 64 x 64 mesh stays a sane size: {w}x{h}"
    );

    let huge = dir.path().join("huge.png");
    heat_map(&huge, "huge", "x", "y", "use", &grid(300, 500), 3).unwrap();
    let (w, h, _) = decode(&huge);
    assert!(w <= 1400 && h <= 1100, "{w}x{h}");
}

#[test]
fn heat_map_without_values_still_draws() {
    let dir = tempfile::tempdir().unwrap();
    let all_none = dir.path().join("none.png");
    heat_map(
        &all_none,
        "empty",
        "x",
        "y",
        "v",
        &vec![vec![None; 5]; 3],
        0,
    )
    .unwrap();
    assert!(decode(&all_none).2 > 3);

    let non_finite = dir.path().join("nan.png");
    let cells = vec![vec![Some(f64::NAN), Some(f64::INFINITY), Some(-1.0)]];
    heat_map(&non_finite, "odd", "x", "y", "v", &cells, 1).unwrap();
    assert!(decode(&non_finite).2 > 3);

    let extreme = dir.path().join("extreme.png");
    let cells = vec![vec![
        Some(f64::MAX),
        Some(-f64::MAX),
        Some(5e-320),
        Some(0.0),
    ]];
    heat_map(&extreme, "extreme", "x", "y", "v", &cells, 2).unwrap();
    assert!(decode(&extreme).2 > 3);

    for (name, cells) in [
        ("no_rows.png", vec![]),
        ("no_cols.png", vec![vec![], vec![]]),
    ] {
        let path = dir.path().join(name);
        heat_map(&path, "nothing", "x", "y", "v", &cells, 0).unwrap();
        let (w, h, colours) = decode(&path);
        assert_eq!((w, h), CHART_SIZE);
        assert!(colours > 3, "{name} looks blank");
    }
}

#[test]
fn heat_map_rejects_ragged_rows_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heat.png");
    let cells = vec![vec![Some(1.0); 4], vec![Some(1.0); 3]];
    let error = heat_map(&path, "t", "x", "y", "v", &cells, 0).unwrap_err();
    assert!(matches!(error, PlotError::InvalidInput { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("row 1 has 3"), "{message}");
    assert_only_files(dir.path(), &[]);
}

#[test]
fn stacked_bar_chart_writes_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("energy.png");
    stacked_bar_chart(&png, "energy", "layer", "nJ", &layers(), &energy()).unwrap();
    let (w, h, colours) = decode(&png);
    assert_eq!((w, h), CHART_SIZE);
    assert!(colours > 5);

    let svg = dir.path().join("energy.svg");
    stacked_bar_chart(&svg, "energy", "layer", "nJ", &layers(), &energy()).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"));
    assert!(text.contains("synaptic") && text.contains("static"));
    // conv2: 80 + 9 + 20.
    assert!(
        text.lines().any(|l| l.trim() == "109"),
        "total above the bar"
    );
    assert_only_files(dir.path(), &["energy.png", "energy.svg"]);
}

#[test]
fn stacked_bar_chart_without_data_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for (name, categories, series) in [
        ("no_categories.svg", vec![], vec![("a".to_string(), vec![])]),
        ("no_series.svg", layers(), vec![]),
    ] {
        let path = dir.path().join(name);
        stacked_bar_chart(&path, "t", "x", "y", &categories, &series).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("no data"), "{name}");
    }
    let zeros = dir.path().join("zeros.png");
    let series = vec![("a".to_string(), vec![0.0; 4])];
    stacked_bar_chart(&zeros, "t", "x", "y", &layers(), &series).unwrap();
    assert_eq!(decode(&zeros).0, CHART_SIZE.0);
}

#[test]
fn stacked_bar_chart_rejects_mismatched_lengths_and_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("energy.png");
    let mut short = energy();
    short[1].1.pop();
    let error = stacked_bar_chart(&path, "t", "x", "y", &layers(), &short).unwrap_err();
    assert!(matches!(error, PlotError::InvalidInput { .. }), "{error:?}");
    assert!(
        error.to_string().contains("\"neuron\" has 3 values"),
        "{error}"
    );

    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let mut series = energy();
        series[2].1[3] = bad;
        let error = stacked_bar_chart(&path, "t", "x", "y", &layers(), &series).unwrap_err();
        assert!(matches!(error, PlotError::InvalidInput { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("\"static\"") && message.contains("\"fc1\""),
            "{message}"
        );
        assert!(message.contains(&path.display().to_string()), "{message}");
    }
    assert_only_files(dir.path(), &[]);
}
