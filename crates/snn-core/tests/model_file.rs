//! Model file: round trip, and every kind of damage is a clear error (never a panic).

use snn_core::model_file::{LayerWeights, ModelMeta, FORMAT_VERSION};
use snn_core::{preset, Model, ModelFileError, NetworkPlan};
use std::path::Path;

fn lenet_model() -> Model {
    let spec = preset::lenet();
    let plan = NetworkPlan::new(&spec).unwrap();
    let weights = plan
        .layers
        .iter()
        .map(|l| LayerWeights {
            layer: l.name.clone(),
            main: (0..l.synapses.weight_count())
                .map(|i| (i % 97) as f32 * 0.01)
                .collect(),
            shortcut: vec![],
        })
        .collect();
    Model {
        spec,
        weights,
        meta: ModelMeta {
            created_by: "test".into(),
            ..Default::default()
        },
        training: None,
    }
}

#[test]
fn round_trip_preserves_the_model() {
    let m = lenet_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.snn");
    m.save(&path).unwrap();
    assert_eq!(Model::load(&path).unwrap(), m);
    assert!(!dir.path().join(".m.snn.tmp").exists());
}

#[test]
fn damaged_files_are_rejected_with_the_cause() {
    let bytes = lenet_model().to_bytes();
    let p = Path::new("model.snn");
    let e = Model::from_bytes(&bytes[..bytes.len() - 10], p).unwrap_err();
    assert!(matches!(e, ModelFileError::Length { .. }), "{e}");
    assert!(e.to_string().starts_with("model.snn: truncated"));
    let e = Model::from_bytes(&bytes[..5], p).unwrap_err();
    assert!(matches!(e, ModelFileError::BadMagic { .. }), "{e}");
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let e = Model::from_bytes(&flipped, p).unwrap_err();
    assert!(matches!(e, ModelFileError::Checksum { .. }), "{e}");
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let e = Model::from_bytes(&newer, p).unwrap_err();
    assert!(matches!(e, ModelFileError::NewerVersion { .. }), "{e}");
    let e = Model::from_bytes(b"PK\x03\x04 definitely a zip file, not a model", p).unwrap_err();
    assert!(matches!(e, ModelFileError::BadMagic { .. }), "{e}");
    // Header fields no build writes: version 0, a flags word.
    let mut zero = bytes.clone();
    zero[8..12].copy_from_slice(&0u32.to_le_bytes());
    let e = Model::from_bytes(&zero, p).unwrap_err();
    assert!(
        e.to_string().contains("format version 0 does not exist"),
        "{e}"
    );
    let mut flagged = bytes.clone();
    flagged[12] = 1;
    let e = Model::from_bytes(&flagged, p).unwrap_err();
    assert!(e.to_string().contains("flags word 0x00000001"), "{e}");
}

#[test]
fn model_fields_out_of_range_are_rejected() {
    let mut m = lenet_model();
    m.meta.timesteps = 1_000_000_000;
    let e = Model::from_bytes(&m.to_bytes(), Path::new("x.snn")).unwrap_err();
    assert!(e.to_string().contains("records T = 1000000000"), "{e}");
    let mut m = lenet_model();
    m.spec.neuron.threshold = f32::NAN;
    let e = Model::from_bytes(&m.to_bytes(), Path::new("x.snn")).unwrap_err();
    assert!(e.to_string().contains("threshold"), "{e}");
}

#[test]
fn only_regular_files_are_read() {
    let e = Model::load(Path::new("/dev/zero")).unwrap_err();
    assert!(e.to_string().starts_with("/dev/zero: "), "{e}");
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let e = Model::load(dir.path()).unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
}

#[test]
fn weights_that_do_not_match_the_spec_are_rejected() {
    let mut m = lenet_model();
    m.weights[2].main.pop();
    let e = Model::from_bytes(&m.to_bytes(), Path::new("x.snn")).unwrap_err();
    assert!(matches!(e, ModelFileError::Inconsistent { .. }), "{e}");
    assert!(e.to_string().contains("conv2"), "{e}");
}

/// Found by the fuzzer: a payload whose first string claims 3.8 GB. The decoder's allocation
/// limit scales with the payload, so this is refused as over the limit, not allocated.
#[test]
fn a_forged_length_prefix_is_refused_not_allocated() {
    // bincode standard varint: 252 = a u32 length follows.
    let mut payload = vec![252u8];
    payload.extend_from_slice(&3_812_519_786u32.to_le_bytes());
    payload.extend_from_slice(b"lenet");
    let mut file = b"SNNMODEL".to_vec();
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    file.extend_from_slice(&payload);
    let e = Model::from_bytes(&file, Path::new("forged.snn")).unwrap_err();
    assert!(e.to_string().to_lowercase().contains("limit"), "{e}");
}
