//! A mapping file that is corrupt, truncated, not a mapping, or made for another model is
//! refused by `load_mapping` with one line that names the file and the cause (SPEC §9).

mod common;

use common::*;
use snn_core::Model;
use snn_map::mapping::Mapping;
use snn_map::place::Slot;
use snn_sim::simulation::load_mapping;
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

/// Wide enough to need several Loihi cores, so there are routes between cores.
const WIDE_NET: &str = r#"
name = "wide"
input = { channels = 1, height = 28, width = 28 }
[[layer]]
type = "conv"
out_channels = 8
kernel = 3
stride = 2
[[layer]]
type = "linear"
out_features = 12
[[layer]]
type = "readout"
out_features = 10
"#;

/// A model and its mapping saved under `dir`: (model, model path, mapping path).
fn saved(dir: &Path) -> (Model, PathBuf, PathBuf) {
    saved_net(dir, NET)
}

/// [`saved`] for any network.
fn saved_net(dir: &Path, net: &str) -> (Model, PathBuf, PathBuf) {
    let model = random_model(spec(net), 3, 0.3, 0.0);
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

/// Saves `forge(mapping)` with a valid frame and checksum and returns the load error: a forged
/// field must be caught by validation, not by a panic in the simulator.
fn forged(forge: impl FnOnce(&mut Mapping)) -> String {
    forged_net(NET, forge)
}

/// [`forged`] for any network.
fn forged_net(net: &str, forge: impl FnOnce(&mut Mapping)) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let (model, model_path, mapping_path) = saved_net(tmp.path(), net);
    let mut m = Mapping::load(&mapping_path).unwrap();
    forge(&mut m);
    m.save(&mapping_path).unwrap();
    refused(&model, &model_path, &mapping_path)
}

#[test]
fn forged_atoms_are_refused() {
    let msg = forged(|m| m.atoms.atoms[0].layer = 99);
    assert!(msg.contains("atom 0 is"), "{msg}");
    // The readout's atom shrunk to fewer classes: once silently dropped accuracy.
    let msg = forged(|m| m.atoms.atoms.last_mut().unwrap().region.c1 -= 1);
    assert!(msg.contains("should be"), "{msg}");
    let msg = forged(|m| m.atoms.tilings[1].grid[0] += 1);
    assert!(msg.contains("atom grid of layer 1"), "{msg}");
    let msg = forged(|m| m.atoms.tilings[0].channel_block = 0);
    assert!(msg.contains("does not fit"), "{msg}");
    let msg = forged(|m| m.core_of_atom[0] = 1_000_000);
    assert!(msg.contains("core 1000000"), "{msg}");
}

#[test]
fn forged_cores_slots_and_routes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cores = Mapping::load(&saved_net(tmp.path(), WIDE_NET).2)
        .unwrap()
        .cores;
    assert!(cores.len() >= 2 && cores.iter().any(|c| !c.routes.is_empty()));
    let msg = forged_net(WIDE_NET, |m| m.cores[0].slot.y = m.mesh.height);
    assert!(msg.contains("outside the mesh"), "{msg}");
    let msg = forged_net(WIDE_NET, |m| m.cores[0].slot.chip = u32::MAX);
    assert!(msg.contains("outside the mesh"), "{msg}");
    let msg = forged_net(WIDE_NET, |m| {
        let (a, b) = (m.cores[0].slot, m.cores[1].slot);
        m.cores[1].slot = Slot { core: a.core, ..b };
        m.cores[1].slot.x = a.x;
        m.cores[1].slot.y = a.y;
    });
    assert!(msg.contains("shares slot"), "{msg}");
    let msg = forged_net(WIDE_NET, |m| {
        let c = m.cores.iter().position(|c| !c.routes.is_empty()).unwrap();
        m.cores[c].routes[0].dest = 4_000_000;
    });
    assert!(msg.contains("routes to core 4000000"), "{msg}");
    let msg = forged_net(WIDE_NET, |m| {
        let c = m.cores.iter().position(|c| !c.routes.is_empty()).unwrap();
        m.cores[c].routes[0].hops_x += 3;
    });
    assert!(msg.contains("hops"), "{msg}");
    let msg = forged_net(WIDE_NET, |m| m.cores[0].atoms.push(0));
    assert!(msg.contains("atom"), "{msg}");
}

#[test]
fn forged_mesh_and_embedded_chip_are_refused() {
    let msg = forged(|m| m.mesh.width = 0);
    assert!(msg.contains("is not the embedded chip's"), "{msg}");
    let msg = forged(|m| m.mesh.chips = 0);
    assert!(msg.contains("0 chips joined"), "{msg}");
    // A 100000×100000 mesh once took 15 GB: the chip validator bounds each side.
    let msg = forged(|m| {
        m.chip.mesh.width.value = 100_000;
        m.chip.mesh.height.value = 100_000;
        m.mesh.width = 100_000;
        m.mesh.height = 100_000;
    });
    assert!(
        msg.contains("embedded chip model: key `mesh.width.value`"),
        "{msg}"
    );
    for bad in [f64::NAN, -1e300, 1e308] {
        let msg = forged(|m| m.chip.energy.synop_pj.value = bad);
        assert!(
            msg.contains("embedded chip model: key `energy.synop_pj.value`"),
            "{bad}: {msg}"
        );
    }
    let msg = forged(|m| m.chip.latency.barrier_ns.value = 1e18);
    assert!(msg.contains("latency.barrier_ns"), "{msg}");
}
