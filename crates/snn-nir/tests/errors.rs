//! Bad NIR files give one-line errors that name the file and the cause, never a panic:
//! unsupported node types, missing datasets, wrong shapes, non-uniform parameters, graphs
//! snn cannot run, truncated and garbage files, and forged sizes.

mod common;

use hdf5_pure::{FileBuilder, GroupBuilder};
use snn_core::preset;
use snn_nir::{export_file, load_any, NirError};
use std::path::{Path, PathBuf};

/// One dataset of a hand-built node: name, shape, values (f64), or a string.
enum Field {
    Num(&'static str, Vec<u64>, Vec<f64>),
    Str(&'static str, &'static str),
}
use Field::{Num, Str};

/// Writes a NIR file with the given nodes (name, fields) and edges, as `nir.write` lays it out.
fn write_nir(path: &Path, nodes: Vec<(&str, Vec<Field>)>, edges: &[(&str, &str)]) {
    let mut fb = FileBuilder::new();
    fb.create_dataset("version")
        .with_vlen_strings(&["1.0.8"])
        .with_shape(&[]);
    let mut node = fb.create_group("node");
    node.create_dataset("type")
        .with_vlen_strings(&["NIRGraph"])
        .with_shape(&[]);
    let mut ns = node.create_group("nodes");
    for (name, fields) in nodes {
        let mut g: GroupBuilder = ns.create_group(name);
        for f in fields {
            match f {
                Num(k, shape, v) => {
                    g.create_dataset(k).with_f64_data(&v).with_shape(&shape);
                }
                Str(k, s) => {
                    g.create_dataset(k).with_vlen_strings(&[s]).with_shape(&[]);
                }
            }
        }
        ns.add_group(g.finish());
    }
    node.add_group(ns.finish());
    let flat: Vec<&str> = edges.iter().flat_map(|(a, b)| [*a, *b]).collect();
    node.create_dataset("edges")
        .with_vlen_strings(&flat)
        .with_shape(&[edges.len() as u64, 2]);
    fb.add_group(node.finish());
    fb.write(path).unwrap();
}

/// The nodes of a minimal runnable graph: Input 1x2x2 → Affine 4→2 → LI → Output.
fn tiny_nodes() -> Vec<(&'static str, Vec<Field>)> {
    vec![
        (
            "input",
            vec![
                Str("type", "Input"),
                Num("shape", vec![3], vec![1.0, 2.0, 2.0]),
            ],
        ),
        (
            "fc",
            vec![
                Str("type", "Affine"),
                Num("weight", vec![2, 4], vec![0.5; 8]),
                Num("bias", vec![2], vec![0.0; 2]),
            ],
        ),
        (
            "li",
            vec![
                Str("type", "LI"),
                Num("tau", vec![2], vec![0.01; 2]),
                Num("r", vec![2], vec![100.0; 2]),
                Num("v_leak", vec![2], vec![0.0; 2]),
            ],
        ),
        (
            "output",
            vec![Str("type", "Output"), Num("shape", vec![1], vec![2.0])],
        ),
    ]
}

/// Writes the minimal graph with `edit` applied to its nodes first.
fn tiny(path: &Path, edit: impl FnOnce(&mut Vec<(&'static str, Vec<Field>)>)) {
    let mut nodes = tiny_nodes();
    edit(&mut nodes);
    write_nir(
        path,
        nodes,
        &[("input", "fc"), ("fc", "li"), ("li", "output")],
    );
}

fn set(nodes: &mut [(&str, Vec<Field>)], node: &str, field: Field) {
    let key = match &field {
        Num(k, ..) | Str(k, _) => *k,
    };
    let fields = &mut nodes.iter_mut().find(|(n, _)| *n == node).unwrap().1;
    fields.retain(|f| !matches!(f, Num(k, ..) | Str(k, _) if *k == key));
    fields.push(field);
}

fn remove(nodes: &mut [(&str, Vec<Field>)], node: &str, key: &str) {
    let fields = &mut nodes.iter_mut().find(|(n, _)| *n == node).unwrap().1;
    fields.retain(|f| !matches!(f, Num(k, ..) | Str(k, _) if *k == key));
}

/// Loads `path` expecting an error: one line, naming the file and every needle.
fn fails(path: &Path, needles: &[&str]) -> NirError {
    let err = match load_any(path, None) {
        Ok(_) => panic!("{} loaded but should not", path.display()),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert_eq!(msg.lines().count(), 1, "not one line: {msg}");
    assert!(
        msg.contains(&path.display().to_string()),
        "file not named: {msg}"
    );
    for n in needles {
        assert!(msg.contains(n), "'{msg}' lacks '{n}'");
    }
    err
}

fn tmp_file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn the_tiny_graph_itself_loads() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "ok.nir");
    tiny(&p, |_| {});
    let im = load_any(&p, None).unwrap();
    assert_eq!(im.model.spec.layers.len(), 1);
    // LI gain r*dt/tau = 1 where snn's readout has λ = 0.99: weights scaled by 1/λ.
    assert!((im.model.weights[0].main[0] - 0.5 / 0.99).abs() < 1e-6);
}

#[test]
fn unsupported_node_type_is_named_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "cuba.nir");
    tiny(&p, |n| set(n, "li", Str("type", "CubaLIF")));
    fails(&p, &["unsupported node type CubaLIF in", "'li'"]);
    // Found by the fuzzer: a control character in a name read from the file is escaped, so
    // the error stays one line (`fails` checks that).
    tiny(&p, |n| set(n, "li", Str("type", "Cuba\nLIF")));
    fails(&p, &["unsupported node type Cuba\\nLIF in"]);
}

#[test]
fn missing_dataset_names_node_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "missing.nir");
    tiny(&p, |n| remove(n, "fc", "weight"));
    fails(&p, &["node 'fc' (Affine) has no 'weight' dataset"]);
    tiny(&p, |n| remove(n, "li", "tau"));
    fails(&p, &["node 'li' (LI) has no 'tau' dataset"]);
}

#[test]
fn optional_fields_may_be_missing() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "lenient.nir");
    tiny(&p, |n| {
        remove(n, "fc", "bias");
        remove(n, "li", "v_leak");
        set(n, "li", Num("tau", vec![], vec![0.01]));
        set(n, "li", Num("r", vec![], vec![100.0]));
    });
    assert!(load_any(&p, None).is_ok());
}

#[test]
fn wrong_weight_shape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "shape.nir");
    tiny(&p, |n| {
        set(n, "fc", Num("weight", vec![2, 3], vec![0.5; 6]))
    });
    fails(&p, &["node 'fc'", "3 inputs, but its input has 4"]);
    tiny(&p, |n| set(n, "fc", Num("weight", vec![8], vec![0.5; 8])));
    fails(&p, &["node 'fc'", "expected [out, in]"]);
    tiny(&p, |n| set(n, "li", Num("tau", vec![3], vec![0.01; 3])));
    fails(
        &p,
        &[
            "node 'li'",
            "'tau' has shape [3] but the layer has 2 neurons",
        ],
    );
}

#[test]
fn non_uniform_parameters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "uniform.nir");
    tiny(&p, |n| set(n, "li", Num("tau", vec![2], vec![0.01, 0.02])));
    fails(&p, &["node 'li'", "'tau' is not uniform"]);
}

#[test]
fn semantics_snn_cannot_run_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "bias.nir");
    tiny(&p, |n| set(n, "fc", Num("bias", vec![2], vec![0.0, 1.0])));
    fails(&p, &["node 'fc'", "non-zero bias"]);
    tiny(&p, |n| set(n, "li", Num("v_leak", vec![2], vec![0.5; 2])));
    fails(&p, &["node 'li'", "'v_leak' is 0.5"]);
    // tau shorter than dt: no leak factor in (0, 1].
    tiny(&p, |n| set(n, "li", Num("tau", vec![2], vec![1e-5; 2])));
    fails(&p, &["node 'li'", "--dt"]);
}

#[test]
fn graphs_that_are_not_snn_chains_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "cycle.nir");
    let nodes = tiny_nodes;
    write_nir(
        &p,
        nodes(),
        &[
            ("input", "fc"),
            ("fc", "li"),
            ("li", "fc"),
            ("li", "output"),
        ],
    );
    fails(&p, &["cannot run this graph", "cycle"]);
    write_nir(
        &p,
        nodes(),
        &[("input", "fc"), ("fc", "li"), ("li", "outptu")],
    );
    fails(
        &p,
        &["cannot run this graph", "'outptu' that does not exist"],
    );
    let mut extra = nodes();
    extra.push((
        "stray",
        vec![
            Str("type", "Affine"),
            Num("weight", vec![2, 2], vec![1.0; 4]),
        ],
    ));
    write_nir(
        &p,
        extra,
        &[
            ("input", "fc"),
            ("fc", "li"),
            ("li", "output"),
            ("li", "stray"),
        ],
    );
    fails(&p, &["cannot run this graph", "'stray'"]);
}

#[test]
fn truncated_and_garbage_files_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = tmp_file(&dir, "lenet.nir");
    export_file(&common::model(preset::lenet()), &good, 1e-4).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let p = tmp_file(&dir, "cut.nir");
    for frac in [1, 3, 10, 50, 200, 500, 900, 990, 999] {
        std::fs::write(&p, &bytes[..bytes.len() * frac / 1000]).unwrap();
        fails(&p, &[]);
    }
    // Garbage after the HDF5 signature.
    let mut junk = bytes[..8].to_vec();
    junk.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    std::fs::write(&p, &junk).unwrap();
    fails(&p, &["not a readable NIR"]);
    // Neither HDF5 nor .snn.
    std::fs::write(&p, b"hello").unwrap();
    fails(&p, &["not an snn model file"]);
}

#[test]
fn dataset_sizes_are_bounded_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "big.nir");
    tiny(&p, |_| {});
    let bytes = std::fs::read(&p).unwrap();
    let limits = |max_elements, max_total_elements| snn_nir::read::Limits {
        max_elements,
        max_total_elements,
    };
    // The 2x4 weight (8 elements) is over a 7-element limit; the file's 20-odd elements
    // are over a 15-element total.
    let err = snn_nir::read::from_bytes_limited(bytes.clone(), &p, limits(7, 1000)).unwrap_err();
    assert!(
        err.to_string()
            .contains("'weight' has shape [2, 4], more than 7 elements"),
        "{err}"
    );
    let err = snn_nir::read::from_bytes_limited(bytes.clone(), &p, limits(100, 15)).unwrap_err();
    assert!(err.to_string().contains("more than 15 elements"), "{err}");
    assert!(snn_nir::read::from_bytes_limited(bytes, &p, limits(8, 1000)).is_ok());
}

#[test]
fn a_forged_dataspace_is_refused_without_allocating() {
    // Dims patched to 2^20 x 2^20 f32 (4 TiB) in a written file: the reader must refuse
    // (here the object header's checksum catches it first), not allocate.
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "huge.nir");
    tiny(&p, |n| {
        set(n, "fc", Num("weight", vec![3, 5], vec![0.0; 15]))
    });
    let mut bytes = std::fs::read(&p).unwrap();
    let dims: Vec<u8> = [3u64, 5].iter().flat_map(|d| d.to_le_bytes()).collect();
    let huge: Vec<u8> = [1u64 << 20, 1 << 20]
        .iter()
        .flat_map(|d| d.to_le_bytes())
        .collect();
    let at = bytes
        .windows(16)
        .position(|w| w == dims.as_slice())
        .expect("the dataspace's dims are in the file");
    bytes[at..at + 16].copy_from_slice(&huge);
    std::fs::write(&p, &bytes).unwrap();
    fails(&p, &["not a readable NIR"]);
}

#[test]
fn a_huge_input_shape_is_refused_before_any_network_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "wide.nir");
    tiny(&p, |n| {
        set(n, "input", Num("shape", vec![3], vec![1.0, 1e5, 1e5]));
    });
    fails(&p, &["node 'input'", "more than 16777216 elements"]);
}

#[test]
fn random_bit_flips_give_errors_not_panics() {
    let m = common::model(preset::lenet());
    let g = snn_nir::export::to_graph(&m, 1e-4).unwrap();
    let bytes = snn_nir::write::to_bytes(&g).unwrap();
    let path = Path::new("flipped.nir");
    let mut s: u64 = 0x1234_5678;
    for it in 0..400 {
        let mut b = bytes.clone();
        for _ in 0..1 + it % 4 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Half the flips land in the first 64 KiB, where the file's structure lives.
            let span = if it % 2 == 0 {
                b.len().min(1 << 16)
            } else {
                b.len()
            };
            let pos = s as usize % span;
            b[pos] ^= 1 << ((s >> 32) % 8);
        }
        let run = std::panic::catch_unwind(|| {
            snn_nir::read::from_bytes(b, path)
                .and_then(|g| snn_nir::import::from_graph(&g, path, None))
                .map_err(|e| e.to_string())
        });
        match run {
            Err(_) => panic!("flip set {it} panicked"),
            Ok(Err(msg)) => assert_eq!(msg.lines().count(), 1, "{msg}"),
            Ok(Ok(_)) => {}
        }
    }
}

#[test]
fn a_directory_or_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let msg = load_any(dir.path(), None).unwrap_err().to_string();
    assert!(msg.contains("a directory"), "{msg}");
    #[cfg(unix)]
    {
        let fifo = dir.path().join("pipe.nir");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let msg = load_any(&fifo, None).unwrap_err().to_string();
            assert!(msg.contains("not a regular file"), "{msg}");
        }
    }
}
