//! A mapping file that is corrupt, truncated, not a mapping, or made for another model is
//! refused by `load_mapping` with one line that names the file and the cause (SPEC §9).

mod common;

use common::*;
use snn_core::Model;
use snn_sim::sim::load_mapping;
use snn_sim::SimError;
use std::path::{Path, PathBuf};

const NET: &str = r#"
name = "files"
input = { channels = 1, height = 28, width = 28 }
[[layer]]
type = "conv"
out_channels = 4
kernel = 7
stride = 7
[[layer]]
type = "linear"
out_features = 12
[[layer]]
type = "readout"
out_features = 10
"#;

/// A model and its mapping saved under `dir`: (model, model path, mapping path).
fn saved(dir: &Path) -> (Model, PathBuf, PathBuf) {
    let model = random_model(spec(NET), 3, 0.3, 0.0);
    let model_path = dir.join("model.snn");
    model.save(&model_path).unwrap();
    let mapping_path = dir.join("mapping.bin");
    map(&model, &loihi(), 1).save(&mapping_path).unwrap();
    (model, model_path, mapping_path)
}

/// The error of loading `mapping` for `model`, checked to be one line naming the file.
fn refused(model: &Model, model_path: &Path, mapping: &Path) -> String {
    let err: SimError = load_mapping(model, model_path, mapping).expect_err("must be refused");
    let msg = err.to_string();
    assert_eq!(msg.lines().count(), 1, "not one line: {msg}");
    assert!(
        msg.contains(&mapping.display().to_string()),
        "does not name {}: {msg}",
        mapping.display()
    );
    msg
}

#[test]
fn the_mapping_made_for_the_model_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, model_path, mapping_path) = saved(tmp.path());
    let m = load_mapping(&model, &model_path, &mapping_path).unwrap();
    assert_eq!(m.weights_fingerprint, model.weights_fingerprint());
}

#[test]
fn a_flipped_payload_byte_is_a_checksum_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, model_path, mapping_path) = saved(tmp.path());
    let mut bytes = std::fs::read(&mapping_path).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x40;
    std::fs::write(&mapping_path, &bytes).unwrap();
    let msg = refused(&model, &model_path, &mapping_path);
    assert!(msg.contains("corrupt") && msg.contains("checksum"), "{msg}");
}

#[test]
fn a_flipped_magic_byte_is_not_a_mapping() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, model_path, mapping_path) = saved(tmp.path());
    let mut bytes = std::fs::read(&mapping_path).unwrap();
    bytes[0] ^= 0x01;
    std::fs::write(&mapping_path, &bytes).unwrap();
    let msg = refused(&model, &model_path, &mapping_path);
    assert!(msg.contains("not an snn mapping file"), "{msg}");
}

#[test]
fn a_model_file_given_as_mapping_is_not_a_mapping() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, model_path, _) = saved(tmp.path());
    let msg = refused(&model, &model_path, &model_path);
    assert!(msg.contains("not an snn mapping file"), "{msg}");
}

#[test]
fn a_truncated_mapping_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, model_path, mapping_path) = saved(tmp.path());
    let bytes = std::fs::read(&mapping_path).unwrap();
    for keep in [bytes.len() - 1, bytes.len() / 3, 20] {
        std::fs::write(&mapping_path, &bytes[..keep]).unwrap();
        let msg = refused(&model, &model_path, &mapping_path);
        assert!(msg.contains("truncated"), "kept {keep} bytes: {msg}");
    }
}

#[test]
fn a_missing_mapping_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, model_path, _) = saved(tmp.path());
    refused(&model, &model_path, &tmp.path().join("nowhere/mapping.bin"));
}

#[test]
fn a_mapping_of_the_same_network_with_other_weights_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, _, mapping_path) = saved(tmp.path());
    let mut other = model.clone();
    other.weights[1].main[5] += 0.25;
    let other_path = tmp.path().join("other.snn");
    other.save(&other_path).unwrap();
    let msg = refused(&other, &other_path, &mapping_path);
    assert!(
        msg.contains("another model") && msg.contains("different weights"),
        "{msg}"
    );
    assert!(msg.contains("other.snn"), "does not name the model: {msg}");
}

#[test]
fn a_mapping_of_another_architecture_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, _, mapping_path) = saved(tmp.path());
    let other = random_model(
        spec(&NET.replace("out_features = 12", "out_features = 13")),
        3,
        0.3,
        0.0,
    );
    let other_path = tmp.path().join("wider.snn");
    other.save(&other_path).unwrap();
    let msg = refused(&other, &other_path, &mapping_path);
    assert!(
        msg.contains("another model") && msg.contains("fc1"),
        "{msg}"
    );
}
