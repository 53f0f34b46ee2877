//! `.snn → .nir → .snn` gives back the same spec, bit-identical weights and the same
//! provenance, for LeNet and for a residual net with every kind of shortcut.

mod common;

use snn_core::{preset, Model};
use snn_nir::{export_file, load_any};

fn round_trip(model: &Model, dt: f64) -> Model {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.nir");
    export_file(model, &path, dt).unwrap();
    let imported = load_any(&path, None).unwrap();
    assert!(imported.notes.is_empty(), "notes: {:?}", imported.notes);
    imported.model
}

fn assert_same(a: &Model, b: &Model) {
    assert_eq!(a.spec, b.spec);
    assert_eq!(a.meta, b.meta);
    assert_eq!(a.weights.len(), b.weights.len());
    for (x, y) in a.weights.iter().zip(&b.weights) {
        assert_eq!(x.layer, y.layer);
        let bits = |v: &[f32]| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&x.main), bits(&y.main), "layer {}", x.layer);
        assert_eq!(
            bits(&x.shortcut),
            bits(&y.shortcut),
            "layer {} shortcut",
            x.layer
        );
    }
    assert_eq!(a.weights_fingerprint(), b.weights_fingerprint());
}

#[test]
fn lenet_round_trips_bit_identically() {
    let m = common::model(preset::lenet());
    assert_same(&m, &round_trip(&m, snn_nir::DEFAULT_DT));
}

#[test]
fn residual_net_with_every_shortcut_kind_round_trips_bit_identically() {
    let m = common::model(common::small_resnet());
    assert_same(&m, &round_trip(&m, snn_nir::DEFAULT_DT));
}

#[test]
fn round_trip_holds_for_another_dt() {
    let m = common::model(common::small_resnet());
    assert_same(&m, &round_trip(&m, 1e-3));
}

#[test]
fn snn_files_load_unchanged_through_the_shared_loader() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.snn");
    let m = common::model(preset::lenet());
    m.save(&path).unwrap();
    let loaded = load_any(&path, None).unwrap();
    assert_eq!(loaded.model, m);
    assert!(loaded.notes.is_empty());
}

#[test]
fn a_failed_export_leaves_no_file_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.nir");
    let m = common::model(preset::lenet());
    assert!(export_file(&m, &path, -1.0).is_err());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn the_graph_alone_without_snn_metadata_gives_the_same_network() {
    // What another tool sees: only NIR's nodes and edges. The spikes must be the same, so
    // the layers, weights and thresholds must be; the leak may differ by f32 rounding.
    let m = common::model(common::small_resnet());
    let mut g = snn_nir::export::to_graph(&m, 1e-4).unwrap();
    g.metadata.clear();
    let bytes = snn_nir::write::to_bytes(&g).unwrap();
    let path = std::path::Path::new("bare.nir");
    let back = snn_nir::read::from_bytes(bytes, path).unwrap();
    let im = snn_nir::import::from_graph(&back, path, Some(1e-4)).unwrap();
    let s = &im.model.spec;
    assert_eq!(s.layers, m.spec.layers);
    assert_eq!(s.neuron.threshold, m.spec.neuron.threshold);
    assert_eq!(s.neuron.pool_threshold, m.spec.neuron.pool_threshold);
    assert!((s.neuron.leak - m.spec.neuron.leak).abs() <= f32::EPSILON);
    for (x, y) in m.weights.iter().zip(&im.model.weights) {
        assert_eq!(x.main, y.main, "layer {}", x.layer);
        assert_eq!(x.shortcut, y.shortcut, "layer {}", x.layer);
    }
    // Without the encoder's scale the importer says what it assumed.
    assert!(
        im.notes.iter().any(|n| n.contains("snn_input_scale")),
        "{:?}",
        im.notes
    );
}

#[test]
fn every_preset_round_trips() {
    // Weights from a short cycle (compressible, so the test stays fast) that still differs
    // between neighbouring positions, so a wrong permutation shows.
    for name in preset::NAMES {
        let spec = preset::by_name(name).unwrap();
        let mut m = common::model(spec);
        for w in &mut m.weights {
            for (i, x) in w.main.iter_mut().chain(w.shortcut.iter_mut()).enumerate() {
                *x = (i % 13) as f32 * 0.125 - 0.75;
            }
        }
        let back = round_trip(&m, snn_nir::DEFAULT_DT);
        assert_eq!(back.spec, m.spec, "{name}");
        assert!(back.weights == m.weights, "{name}: weights differ");
    }
}
