//! The Python `nir` package (the reference implementation) reads our exported LeNet: node
//! types, edges, shapes, and weights at the positions PyTorch's layouts put them. Runs when
//! a Python with `nir` importable is found ($SNN_PYTHON, benches/peers/.venv, python3);
//! otherwise prints why it skipped.

mod common;

use snn_core::preset;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The first Python that can `import nir`, or why there is none.
fn python_with_nir() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("SNN_PYTHON") {
        candidates.push(p.into());
    }
    candidates.push(root.join("benches/peers/.venv/bin/python"));
    candidates.push("python3".into());
    let mut tried = Vec::new();
    for c in candidates {
        match Command::new(&c).args(["-c", "import nir"]).output() {
            Ok(o) if o.status.success() => return Ok(c),
            Ok(_) => tried.push(format!("{} (no nir module)", c.display())),
            Err(_) => tried.push(format!("{} (not found)", c.display())),
        }
    }
    Err(format!("no Python with nir: tried {}", tried.join(", ")))
}

const SCRIPT: &str = r#"
import json, sys, nir
g = nir.read(sys.argv[1])
shapes = {}
for name, n in g.nodes.items():
    shapes[name] = {k: list(getattr(n, k).shape) for k in ("weight", "tau", "r", "v_threshold") if hasattr(n, k)}
c1 = g.nodes["conv1"].weight
fc = g.nodes["fc1"].weight
print(json.dumps({
    "types": {k: type(v).__name__ for k, v in g.nodes.items()},
    "edges": sorted([list(e) for e in g.edges]),
    "shapes": shapes,
    "input": [int(x) for x in g.nodes["input"].input_type["input"]],
    "conv1_w_7_0_1_3": float(c1[7, 0, 1, 3]),
    "fc1_w_5_1234": float(fc[5, 1234]),
    "pool_if_threshold": float(g.nodes["pool1_if"].v_threshold.flat[0]),
    "lif_tau": float(g.nodes["conv1_lif"].tau.flat[0]),
    "leak": float(g.metadata["snn_leak"]),
}))
"#;

#[test]
fn python_nir_reads_exported_lenet() {
    let python = match python_with_nir() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("lenet.nir");
    let model = common::model(preset::lenet());
    snn_nir::export_file(&model, &path, 1e-4).unwrap();
    let v = run_python(&python, SCRIPT, &path);
    let types = &v["types"];
    for (name, ty) in [
        ("input", "Input"),
        ("conv1", "Conv2d"),
        ("conv1_lif", "LIF"),
        ("pool1", "SumPool2d"),
        ("pool1_if", "IF"),
        ("conv2", "Conv2d"),
        ("conv2_lif", "LIF"),
        ("pool2", "SumPool2d"),
        ("pool2_if", "IF"),
        ("fc1_flatten", "Flatten"),
        ("fc1", "Affine"),
        ("fc1_lif", "LIF"),
        ("readout", "Affine"),
        ("readout_li", "LI"),
        ("output", "Output"),
    ] {
        assert_eq!(types[name], ty, "node {name}");
    }
    assert_eq!(types.as_object().unwrap().len(), 15);
    let chain = [
        "input",
        "conv1",
        "conv1_lif",
        "pool1",
        "pool1_if",
        "conv2",
        "conv2_lif",
        "pool2",
        "pool2_if",
        "fc1_flatten",
        "fc1",
        "fc1_lif",
        "readout",
        "readout_li",
        "output",
    ];
    let mut edges: Vec<serde_json::Value> = chain
        .windows(2)
        .map(|w| serde_json::json!([w[0], w[1]]))
        .collect();
    edges.sort_by_key(|e| e.to_string());
    let mut got = v["edges"].as_array().unwrap().clone();
    got.sort_by_key(|e| e.to_string());
    assert_eq!(got, edges);
    let s = &v["shapes"];
    assert_eq!(v["input"], serde_json::json!([1, 28, 28]));
    assert_eq!(s["conv1"]["weight"], serde_json::json!([20, 1, 5, 5]));
    assert_eq!(s["conv1_lif"]["tau"], serde_json::json!([20, 28, 28]));
    assert_eq!(s["conv2"]["weight"], serde_json::json!([50, 20, 5, 5]));
    assert_eq!(s["pool2_if"]["v_threshold"], serde_json::json!([50, 7, 7]));
    assert_eq!(s["fc1"]["weight"], serde_json::json!([200, 2450]));
    assert_eq!(s["readout"]["weight"], serde_json::json!([10, 200]));
    assert_eq!(s["readout_li"]["tau"], serde_json::json!([10]));
    // conv1 [co=7][ci=0][ky=1][kx=3] is snn's [ky=1][kx=3][ci=0][co=7] of 20 outputs.
    let c1 = &model.weights[0].main;
    assert_eq!(
        v["conv1_w_7_0_1_3"].as_f64().unwrap() as f32,
        c1[(5 + 3) * 20 + 7]
    );
    // fc1 input 1234 in CHW order over 50x7x7 is c = 25, y = 1, x = 2 (1234 = 25*49 + 1*7 + 2):
    // snn's HWC row (1*7 + 2)*50 + 25 = 475 of 200 outputs.
    let fc1 = &model.weights[4].main;
    assert_eq!(
        v["fc1_w_5_1234"].as_f64().unwrap() as f32,
        fc1[475 * 200 + 5]
    );
    assert_eq!(v["pool_if_threshold"], 3.0);
    let tau = v["lif_tau"].as_f64().unwrap();
    assert!(
        (tau - 1e-4 / (1.0 - 0.99f32 as f64)).abs() < 1e-12,
        "tau {tau}"
    );
    assert_eq!(v["leak"].as_f64().unwrap() as f32, 0.99f32);
}

#[test]
fn python_nir_reads_exported_residual_net_with_every_shortcut_kind() {
    let python = match python_with_nir() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("res.nir");
    snn_nir::export_file(&common::model(common::small_resnet()), &path, 1e-4).unwrap();
    // nir.read type-checks every edge, including the two inputs of each block's second LIF.
    let script = r#"
import json, sys, nir
g = nir.read(sys.argv[1])
print(json.dumps({"nodes": len(g.nodes), "into": sorted(a for a, b in g.edges if b == "res3b_lif"),
                  "eye": g.nodes["res2b_shortcut"].weight[:, :, 0, 0].tolist()}))
"#;
    let v = run_python(&python, script, &path);
    // input, output, 8 conv+LIF pairs, 2 conv shortcuts, 1 identity-weight shortcut, pool+IF,
    // flatten, fc+LIF, readout+LI.
    assert_eq!(v["nodes"], 2 + 16 + 3 + 2 + 1 + 2 + 2);
    // res3b's LIF sums its conv and the stride-1 identity (a direct edge from res2b's LIF).
    assert_eq!(v["into"], serde_json::json!(["res2b_lif", "res3b"]));
    let eye: Vec<Vec<f64>> = serde_json::from_value(v["eye"].clone()).unwrap();
    for (i, row) in eye.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            assert_eq!(x, if i == j { 1.0 } else { 0.0 });
        }
    }
}

#[test]
fn python_nir_type_checks_every_preset() {
    let python = match python_with_nir() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in preset::NAMES {
        let mut m = common::model(preset::by_name(name).unwrap());
        // Constant weights compress well, so the test stays fast; layouts are checked above.
        for w in &mut m.weights {
            w.main
                .iter_mut()
                .chain(w.shortcut.iter_mut())
                .for_each(|x| *x = 0.5);
        }
        let path = tmp.path().join(format!("{name}.nir"));
        snn_nir::export_file(&m, &path, 1e-4).unwrap();
        files.push(path);
    }
    let script = "import sys, nir\nfor f in sys.argv[1:]: nir.read(f)\nprint('ok')";
    python_stdout(&python, script, &files);
}

/// Runs `script` with the NIR file as its argument and parses the JSON it prints.
fn run_python(python: &Path, script: &str, nir: &Path) -> serde_json::Value {
    serde_json::from_slice(&python_stdout(python, script, &[nir.to_path_buf()])).unwrap()
}

/// Runs `script` with `files` as its arguments; its standard output (it must succeed).
fn python_stdout(python: &Path, script: &str, files: &[std::path::PathBuf]) -> Vec<u8> {
    let out = Command::new(python)
        .args(["-c", script])
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
