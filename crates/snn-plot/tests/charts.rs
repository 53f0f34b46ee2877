//! Every chart function writes a real, non-blank image of the promised size, survives bad
//! numbers, and reports unwritable paths as errors that name the path.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use snn_plot::{
    bar_chart, grouped_bar_chart, line_chart, training_curves, EpochPoint, PlotError, Series,
    CHART_SIZE, TRAINING_CURVES_SIZE,
};

/// A decoded PNG: width, height and RGB pixels.
struct Image {
    width: u32,
    height: u32,
    pixels: Vec<[u8; 3]>,
}

impl Image {
    fn distinct_colours(&self) -> usize {
        self.pixels.iter().collect::<HashSet<_>>().len()
    }

    fn count(&self, rgb: [u8; 3]) -> usize {
        self.pixels.iter().filter(|p| **p == rgb).count()
    }
}

fn decode(path: &Path) -> Image {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(file).read_info().expect("a valid PNG");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("a PNG frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let samples = info.color_type.samples();
    let pixels = buffer[..info.buffer_size()]
        .chunks_exact(samples)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Image {
        width: info.width,
        height: info.height,
        pixels,
    }
}

/// Asserts `path` is a PNG of `size` with something drawn on it, and returns it.
fn assert_drawn_png(path: &Path, size: (u32, u32)) -> Image {
    let image = decode(path);
    assert_eq!((image.width, image.height), size);
    // Background, text, grid and data colours at the very least.
    assert!(
        image.distinct_colours() > 3,
        "{} looks blank",
        path.display()
    );
    image
}

/// Asserts that nothing but `expected` is in `dir` (no temporary files left behind).
fn assert_only_files(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected);
}

fn missing_dir_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("does-not-exist").join(name)
}

fn assert_write_error_names_path(result: Result<(), PlotError>, path: &Path) {
    let error = result.expect_err("writing into a missing directory must fail");
    assert!(matches!(error, PlotError::Write { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

fn ten_epochs() -> Vec<EpochPoint> {
    let loss = [0.9, 0.42, 0.27, 0.19, 0.14, 0.11, 0.085, 0.07, 0.058, 0.05];
    let train = [
        0.90, 0.95, 0.967, 0.975, 0.981, 0.985, 0.988, 0.991, 0.993, 0.995,
    ];
    let test = [
        0.915, 0.958, 0.970, 0.977, 0.982, 0.985, 0.9912, 0.9905, 0.990, 0.9908,
    ];
    (0..10)
        .map(|i| EpochPoint {
            epoch: (i + 1) as f64,
            loss: loss[i],
            train_accuracy: train[i],
            test_accuracy: test[i],
            val_accuracy: None,
        })
        .collect()
}

fn layers() -> Vec<String> {
    ["conv1", "pool1", "conv2", "pool2", "fc1"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

// The colours the crate promises to use, in order: train/first series, test/second series,
// and the ring around the best test accuracy.
const FIRST_SERIES: [u8; 3] = [31, 119, 180];
const SECOND_SERIES: [u8; 3] = [255, 127, 14];
const HIGHLIGHT: [u8; 3] = [214, 39, 40];

#[test]
fn line_chart_draws_each_series_in_its_colour() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lines.png");
    let rising = Series::new("rising", (0..50).map(|i| (i as f64, i as f64)).collect());
    let falling = Series::new(
        "falling",
        (0..50).map(|i| (i as f64, 50.0 - i as f64)).collect(),
    );
    line_chart(&path, "two lines", "step", "value", &[rising, falling]).unwrap();
    let image = assert_drawn_png(&path, CHART_SIZE);
    assert!(image.count(FIRST_SERIES) > 500);
    assert!(image.count(SECOND_SERIES) > 500);
    assert_only_files(dir.path(), &["lines.png"]);
}

#[test]
fn line_chart_skips_non_finite_points() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gappy.png");
    let points = vec![
        (0.0, 1.0),
        (1.0, f64::NAN),
        (2.0, 3.0),
        (f64::INFINITY, 2.0),
        (4.0, f64::NEG_INFINITY),
        (5.0, 2.0),
    ];
    line_chart(&path, "gaps", "x", "y", &[Series::new("s", points)]).unwrap();
    let image = assert_drawn_png(&path, CHART_SIZE);
    assert!(image.count(FIRST_SERIES) > 0);
}

#[test]
fn line_chart_without_any_finite_point_says_no_data() {
    let dir = tempfile::tempdir().unwrap();
    for (name, series) in [
        ("none.png", vec![]),
        ("empty.png", vec![Series::new("empty", vec![])]),
        (
            "nan.png",
            vec![Series::new("nan", vec![(f64::NAN, f64::NAN)])],
        ),
    ] {
        let path = dir.path().join(name);
        line_chart(&path, "nothing", "x", "y", &series).unwrap();
        let image = assert_drawn_png(&path, CHART_SIZE);
        assert_eq!(image.count(FIRST_SERIES), 0, "{name}");
    }
}

#[test]
fn line_chart_into_missing_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = missing_dir_path(dir.path(), "lines.png");
    let series = [Series::new("s", vec![(0.0, 0.0), (1.0, 1.0)])];
    assert_write_error_names_path(line_chart(&path, "t", "x", "y", &series), &path);
}

#[test]
fn training_curves_draw_both_panels_and_ring_the_best_test_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    training_curves(&path, "LeNet on MNIST", &ten_epochs()).unwrap();
    let image = assert_drawn_png(&path, TRAINING_CURVES_SIZE);
    let (w, h) = TRAINING_CURVES_SIZE;
    let left_half = |p: usize| (p % w as usize) < (w as usize / 2);
    let train_left = image
        .pixels
        .iter()
        .enumerate()
        .filter(|(i, p)| left_half(*i) && **p == FIRST_SERIES)
        .count();
    assert!(train_left > 500, "loss line missing from the left panel");
    assert!(
        image.count(SECOND_SERIES) > 500,
        "test accuracy line missing"
    );
    assert!(image.count(HIGHLIGHT) > 50, "best test accuracy not ringed");
    assert_eq!(image.pixels.len(), (w * h) as usize);
    assert_only_files(dir.path(), &["curves.png"]);
}

#[test]
fn training_curves_work_with_a_single_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.png");
    training_curves(&path, "one epoch", &ten_epochs()[..1]).unwrap();
    let image = assert_drawn_png(&path, TRAINING_CURVES_SIZE);
    assert!(image.count(FIRST_SERIES) > 0);
    assert!(image.count(HIGHLIGHT) > 0);
}

#[test]
fn training_curves_survive_no_epochs_and_nan_values() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.png");
    training_curves(&empty, "no epochs yet", &[]).unwrap();
    assert_drawn_png(&empty, TRAINING_CURVES_SIZE);

    let mut epochs = ten_epochs();
    epochs[3].loss = f64::NAN;
    epochs[4].test_accuracy = f64::INFINITY;
    epochs[5].epoch = f64::NAN;
    let nan = dir.path().join("nan.png");
    training_curves(&nan, "diverged", &epochs).unwrap();
    assert_drawn_png(&nan, TRAINING_CURVES_SIZE);

    let all_nan = vec![
        EpochPoint {
            epoch: 1.0,
            loss: f64::NAN,
            train_accuracy: f64::NAN,
            test_accuracy: f64::NAN,
            val_accuracy: None,
        };
        3
    ];
    let path = dir.path().join("all_nan.png");
    training_curves(&path, "all NaN", &all_nan).unwrap();
    let image = assert_drawn_png(&path, TRAINING_CURVES_SIZE);
    assert_eq!(image.count(HIGHLIGHT), 0);
}

#[test]
fn training_curves_into_missing_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = missing_dir_path(dir.path(), "curves.png");
    assert_write_error_names_path(training_curves(&path, "t", &ten_epochs()), &path);
}

#[test]
fn bar_chart_draws_linear_and_log_bars() {
    let dir = tempfile::tempdir().unwrap();
    let rates = [0.15, 0.09, 0.06, 0.035, 0.02];
    for (name, log_y) in [("linear.png", false), ("log.png", true)] {
        let path = dir.path().join(name);
        bar_chart(&path, "rates", "layer", "rate", &layers(), &rates, log_y).unwrap();
        let image = assert_drawn_png(&path, CHART_SIZE);
        assert!(image.count(FIRST_SERIES) > 5000, "{name}: bars missing");
    }
}

#[test]
fn bar_chart_survives_values_a_log_axis_cannot_show() {
    let dir = tempfile::tempdir().unwrap();
    let values = [0.0, -1.0, f64::NAN, 10.0, f64::INFINITY];
    for (name, log_y) in [("linear.png", false), ("log.png", true)] {
        let path = dir.path().join(name);
        bar_chart(&path, "odd", "layer", "v", &layers(), &values, log_y).unwrap();
        assert_drawn_png(&path, CHART_SIZE);
    }
    let path = dir.path().join("nothing_positive.png");
    bar_chart(&path, "odd", "layer", "v", &layers(), &[0.0; 5], true).unwrap();
    let image = assert_drawn_png(&path, CHART_SIZE);
    assert_eq!(image.count(FIRST_SERIES), 0);
    let path = dir.path().join("no_categories.png");
    bar_chart(&path, "empty", "layer", "v", &[], &[], false).unwrap();
    assert_drawn_png(&path, CHART_SIZE);
}

#[test]
fn bar_chart_rejects_mismatched_lengths_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bars.png");
    let error = bar_chart(&path, "t", "x", "y", &layers(), &[1.0, 2.0], false).unwrap_err();
    assert!(matches!(error, PlotError::InvalidInput { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("5 categories but 2 values"), "{message}");
    assert_only_files(dir.path(), &[]);
}

#[test]
fn bar_chart_into_missing_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = missing_dir_path(dir.path(), "bars.png");
    let result = bar_chart(&path, "t", "x", "y", &layers(), &[1.0; 5], false);
    assert_write_error_names_path(result, &path);
}

#[test]
fn grouped_bar_chart_draws_every_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ops.png");
    let series = vec![
        (
            "SNN ACs".to_string(),
            vec![1.8e6, 2.1e5, 3.9e6, 1.1e5, 2.4e4],
        ),
        (
            "ANN MACs".to_string(),
            vec![2.9e6, 1.2e6, 2.4e7, 3.2e5, 4.8e4],
        ),
    ];
    grouped_bar_chart(
        &path,
        "ops",
        "layer",
        "operations",
        &layers(),
        &series,
        true,
    )
    .unwrap();
    let image = assert_drawn_png(&path, CHART_SIZE);
    assert!(image.count(FIRST_SERIES) > 2000);
    assert!(image.count(SECOND_SERIES) > 2000);
}

#[test]
fn grouped_bar_chart_rejects_a_short_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ops.png");
    let series = vec![
        ("a".to_string(), vec![1.0; 5]),
        ("b".to_string(), vec![1.0; 4]),
    ];
    let error = grouped_bar_chart(&path, "t", "x", "y", &layers(), &series, false).unwrap_err();
    assert!(matches!(error, PlotError::InvalidInput { .. }), "{error:?}");
    assert!(error.to_string().contains("\"b\" has 4 values"), "{error}");
}

#[test]
fn grouped_bar_chart_into_missing_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = missing_dir_path(dir.path(), "ops.png");
    let series = vec![("a".to_string(), vec![1.0; 5])];
    let result = grouped_bar_chart(&path, "t", "x", "y", &layers(), &series, false);
    assert_write_error_names_path(result, &path);
}

#[test]
fn rewriting_a_chart_replaces_it_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    std::fs::write(&path, b"old contents").unwrap();
    training_curves(&path, "first", &ten_epochs()[..3]).unwrap();
    training_curves(&path, "second", &ten_epochs()).unwrap();
    assert_drawn_png(&path, TRAINING_CURVES_SIZE);
    assert_only_files(dir.path(), &["curves.png"]);
}

#[test]
fn svg_is_written_when_asked_for_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.svg");
    training_curves(&path, "as SVG", &ten_epochs()).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.contains("best test 99.12 % @ epoch 7"));
    assert_only_files(dir.path(), &["curves.svg"]);
}

#[test]
fn an_unknown_extension_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.jpg");
    let error = training_curves(&path, "t", &ten_epochs()).unwrap_err();
    assert!(
        matches!(error, PlotError::UnsupportedFormat { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("curves.jpg"));
    assert_only_files(dir.path(), &[]);
}

#[test]
fn charts_survive_one_or_thousands_of_categories_and_extreme_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let one = vec!["only".to_string()];
    for log_y in [false, true] {
        let path = dir.path().join(format!("one_{log_y}.png"));
        bar_chart(&path, "one", "layer", "v", &one, &[3.0], log_y).unwrap();
        let image = assert_drawn_png(&path, CHART_SIZE);
        assert!(image.count(FIRST_SERIES) > 5000, "the single bar is drawn");
    }
    let many: Vec<String> = (0..3000).map(|i| format!("layer {i}")).collect();
    let values: Vec<f64> = (0..3000).map(|i| i as f64).collect();
    let path = dir.path().join("many.png");
    bar_chart(&path, "many", "layer", "v", &many, &values, true).unwrap();
    assert_drawn_png(&path, CHART_SIZE);

    let extreme = [f64::MAX, -f64::MAX, 1e300, 0.0, 5e-320];
    for (name, values, log_y) in [
        ("extreme.png", extreme, false),
        ("extreme_log.png", extreme, true),
        ("equal_log.png", [2.0; 5], true),
    ] {
        let path = dir.path().join(name);
        bar_chart(&path, "odd", "layer", "v", &layers(), &values, log_y).unwrap();
        assert_drawn_png(&path, CHART_SIZE);
    }
    let points: Vec<(f64, f64)> = extreme.iter().map(|v| (*v, *v)).collect();
    let path = dir.path().join("extreme_line.png");
    let series = [
        Series::new("extreme", points),
        Series::new("one", vec![(1.0, 1.0)]),
    ];
    line_chart(&path, "extreme", "x", "y", &series).unwrap();
    assert_drawn_png(&path, CHART_SIZE);
}
