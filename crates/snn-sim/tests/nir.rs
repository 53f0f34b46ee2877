//! `snn-sim --model M.nir` gives the same report as the `.snn` the NIR file was exported from
//! (paths, command and timings aside), on a residual network, with the `.snn`'s mapping.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

const NET: &str = r#"
name = "nir-res"
input = { channels = 1, height = 28, width = 28 }
[[layer]]
type = "conv"
out_channels = 4
kernel = 4
stride = 4
[[layer]]
type = "residual"
out_channels = 6
stride = 2
[[layer]]
type = "residual"
out_channels = 6
[[layer]]
type = "linear"
out_features = 16
[[layer]]
type = "readout"
out_features = 10
"#;

/// report.json without the fields that name files or measure wall time.
fn report(model: &Path, mapping: &Path, out: &Path) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_snn-sim"))
        .arg("--model")
        .arg(model)
        .arg("--mapping")
        .arg(mapping)
        .arg("--data-dir")
        .arg(mnist_dir())
        .args(["--test-limit", "8", "--timesteps", "6", "--threads", "2"])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    strip(&mut r);
    r
}

fn strip(v: &mut serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !(k == "model" || k == "command" || k.contains("second")));
        o.values_mut().for_each(strip);
    } else if let Some(a) = v.as_array_mut() {
        a.iter_mut().for_each(strip);
    }
}

#[test]
fn a_nir_export_simulates_to_the_same_report() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = random_model(spec(NET), 3, 0.5, 0.06);
    model.meta.dataset = "mnist".into();
    model.meta.timesteps = 6;
    model.meta.seed = 4;
    let snn = tmp.path().join("m.snn");
    let nir = tmp.path().join("m.nir");
    model.save(&snn).unwrap();
    snn_nir::export_file(&model, &nir, snn_nir::DEFAULT_DT).unwrap();
    let mapping = tmp.path().join("mapping.bin");
    map(&model, &loihi(), 1).save(&mapping).unwrap();
    let a = report(&snn, &mapping, &tmp.path().join("a"));
    let b = report(&nir, &mapping, &tmp.path().join("b"));
    assert!(
        a["synaptic_ops"].as_u64().unwrap() > 0,
        "the model must spike"
    );
    assert_eq!(a, b);
}
