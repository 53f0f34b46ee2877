//! Network TOML files: valid ones parse to the same spec as the preset; malformed ones are one-line
//! errors naming the file and the cause.

use snn_core::{preset, NetworkSpec};
use std::path::Path;

const LENET_TOML: &str = r#"
name = "lenet"
input = { channels = 1, height = 28, width = 28 }
input_scale = 0.5
[neuron]
leak = 0.99
threshold = 1.0
pool_threshold = 0.75
[[layer]]
type = "conv"
out_channels = 20
kernel = 5
padding = 2
[[layer]]
type = "pool"
[[layer]]
type = "conv"
out_channels = 50
kernel = 5
padding = 2
[[layer]]
type = "pool"
[[layer]]
type = "linear"
out_features = 200
[[layer]]
type = "readout"
out_features = 10
"#;

fn err(text: &str) -> String {
    NetworkSpec::from_toml_str(text, Path::new("net.toml"))
        .unwrap_err()
        .to_string()
}

#[test]
fn lenet_toml_equals_the_preset() {
    let spec = NetworkSpec::from_toml_str(LENET_TOML, Path::new("lenet.toml")).unwrap();
    assert_eq!(spec, preset::lenet());
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let e = err(&LENET_TOML.replace(
        "kernel = 5\npadding = 2\n[[layer]]\ntype = \"pool\"",
        "kernel = 5\npadding = 2\nbias = true\n[[layer]]\ntype = \"pool\"",
    ));
    assert!(e.starts_with("net.toml: line "), "{e}");
    assert!(e.contains("bias"), "{e}");
}

#[test]
fn wrong_type_and_missing_key_are_errors() {
    let e = err(&LENET_TOML.replace("out_features = 200", "out_features = \"many\""));
    assert!(e.contains("net.toml") && e.contains("line"), "{e}");
    let e = err(&LENET_TOML.replace("out_channels = 20\n", ""));
    assert!(e.contains("out_channels"), "{e}");
}

#[test]
fn impossible_shapes_and_values_are_errors() {
    let e = err(&LENET_TOML.replace(
        "kernel = 5\npadding = 2\n[[layer]]\ntype = \"pool\"\n[[layer]]\ntype = \"conv\"",
        "kernel = 31\npadding = 0\n[[layer]]\ntype = \"pool\"\n[[layer]]\ntype = \"conv\"",
    ));
    assert!(e.contains("conv1") && e.contains("does not fit"), "{e}");
    // Sizes beyond the stated bounds are refused before any shape is computed.
    let e = err(&LENET_TOML.replace("kernel = 5\npadding = 2", "kernel = 40\npadding = 2"));
    assert!(
        e.contains("layer 1: kernel 40") && e.contains("1..=31"),
        "{e}"
    );
    let e = err(&LENET_TOML.replace("out_features = 200", "out_features = 100000000"));
    assert!(e.contains("100000000 output channels or features"), "{e}");
    let e = err(&LENET_TOML.replace("height = 28", "height = 1000000"));
    assert!(e.contains("too large"), "{e}");
    let e = err(&LENET_TOML.replace("leak = 0.99", "leak = 1.5"));
    assert!(e.contains("leak"), "{e}");
    let e = err(&LENET_TOML.replace("type = \"readout\"", "type = \"linear\""));
    assert!(e.contains("readout"), "{e}");
}
