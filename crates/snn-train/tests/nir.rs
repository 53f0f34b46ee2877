//! `snn-train export --format nir` and `snn-train eval --model M.nir`: the NIR copy of a model
//! evaluates to the same JSON as the `.snn` it came from (timing fields and the path aside),
//! and a bad NIR file is a one-line error.

mod common;

use snn_core::model_file::{LayerWeights, ModelMeta};
use snn_core::{preset, Model, NetworkPlan};
use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_snn-train"))
}

/// LeNet with weights that make it spike (the same draw every run).
fn model() -> Model {
    let spec = preset::lenet();
    let plan = NetworkPlan::new(&spec).unwrap();
    let mut r = common::Lcg(11);
    let weights = plan
        .layers
        .iter()
        .map(|l| {
            let std = (2.0 / l.synapses.fan_in().max(1) as f64).sqrt();
            LayerWeights {
                layer: l.name.clone(),
                main: (0..l.synapses.weight_count())
                    .map(|_| ((r.uniform() - 0.45) * 3.4 * std) as f32)
                    .collect(),
                shortcut: Vec::new(),
            }
        })
        .collect();
    Model {
        spec,
        weights,
        meta: ModelMeta {
            created_by: "test".into(),
            dataset: "mnist".into(),
            timesteps: 6,
            seed: 5,
            epochs: 0,
            test_accuracy: None,
        },
        training: None,
    }
}

fn eval(model: &Path, data: &Path) -> serde_json::Value {
    let out = bin()
        .args(["eval", "--test-limit", "40", "--threads", "2", "--model"])
        .arg(model)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let o = v.as_object_mut().unwrap();
    for timing in ["model", "seconds", "samples_per_second"] {
        o.remove(timing);
    }
    v
}

#[test]
fn nir_export_evaluates_exactly_like_the_snn_file() {
    let tmp = tempfile::tempdir().unwrap();
    let snn = tmp.path().join("m.snn");
    let nir = tmp.path().join("m.nir");
    model().save(&snn).unwrap();
    let out = bin()
        .args(["export", "--format", "nir", "--model"])
        .arg(&snn)
        .arg("--out")
        .arg(&nir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = common::mnist_dir();
    let a = eval(&snn, &d);
    let b = eval(&nir, &d);
    assert!(
        a["synaptic_ops"].as_u64().unwrap() > 0,
        "the model must spike: {a}"
    );
    assert_eq!(a, b);
}

#[test]
fn bad_nir_file_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.nir");
    std::fs::write(&bad, b"\x89HDF\r\n\x1a\nnot really").unwrap();
    let out = bin().args(["eval", "--model"]).arg(&bad).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.nir") && err.contains("not a readable NIR"),
        "{err}"
    );
    let out = bin()
        .args(["export", "--format", "nir", "--model"])
        .arg(&bad)
        .arg("--out")
        .arg(tmp.path().join("x.nir"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!tmp.path().join("x.nir").exists());
}

/// snnTorch's predictions on binarized test images, recorded by
/// benches/peers/snntorch_nir_fixture.py in reports/nir/snntorch_fixture.json.
fn snntorch_binarized_predictions() -> Vec<u8> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reports/nir/snntorch_fixture.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["binarized_predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap() as u8)
        .collect()
}

#[test]
fn snntorch_fixture_predicts_like_snntorch_on_deterministic_input() {
    // Binarized pixels make the rate code deterministic (p = 0 or 1) in both tools, so the
    // same network must make the same prediction on every image.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../snn-nir/tests/data/snntorch_mnist.nir");
    let model = snn_nir::load_any(&path, None).unwrap().model;
    let net = snn_core::runtime::CompiledNet::new(&model.spec).unwrap();
    let mut data = snn_data::load(
        snn_data::dataset::DatasetKind::Mnist,
        &common::mnist_dir(),
        snn_data::dataset::Split::Test,
    )
    .unwrap();
    for x in &mut data.images {
        *x = if *x > 0.5 { 1.0 } else { 0.0 };
    }
    let want = snntorch_binarized_predictions();
    let encoder = snn_data::encode::RateEncoder::new(1, model.spec.input_scale);
    let ev = snn_train::eval::evaluate(&net, &model.weights, &data, &encoder, 20, want.len());
    let agree = ev
        .predictions
        .iter()
        .zip(&want)
        .filter(|(a, b)| a == b)
        .count();
    assert_eq!(
        agree,
        want.len(),
        "{agree} of {} predictions agree",
        want.len()
    );
}
