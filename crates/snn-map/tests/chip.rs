//! Chip descriptions: the shipped files load, a written model reads back equal, and every kind of
//! malformed file is rejected with one line naming the file, the line and the dotted key.

use snn_map::chip::{MAX_MEMORY_BITS, MAX_PER_CORE, MAX_STATIC_MW_PER_CORE};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use snn_map::chip::{
    Basis, ChipError, ChipModel, Constant, CoreSpec, EnergySpec, LatencySpec, MeshSpec, Problem,
};

const SHIPPED: [&str; 6] = [
    "loihi",
    "loihi-nxtf",
    "truenorth",
    "spinnaker2",
    "dynapcnn",
    "generic-45nm",
];

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hardware-models")
}

fn shipped(name: &str) -> ChipModel {
    let path = models_dir().join(format!("{name}.toml"));
    match ChipModel::load(&path) {
        Ok(model) => model,
        Err(e) => panic!("{e}"),
    }
}

/// A small valid chip; every key starts its own line and no key name repeats, so tests can
/// replace or drop one line by key.
const BASE: &str = r#"name = "testchip"
description = "A fictional chip for loader tests."

[mesh]
width = { value = 2, source = "test", basis = "model" }
height = { value = 3, source = "test", basis = "model" }
cores_per_tile = { value = 4, source = "test", basis = "measured" }

[core]
max_neurons = { value = 256, source = "test", basis = "measured" }
max_fan_in = { value = 512, source = "test", basis = "measured" }
max_fan_out = { value = 16, source = "test", basis = "derived" }
synaptic_memory_bits = { value = 65536, source = "test", basis = "measured" }
weight_bits = { value = 8, source = "test", basis = "model" }
state_bits = { value = 16, source = "test", basis = "model" }
shared_conv_weights = { value = false, source = "test", basis = "model" }

[energy]
synop_pj = { value = 23.6, source = "test", basis = "pre-silicon" }
neuron_active_pj = { value = 81.0, source = "test", basis = "pre-silicon" }
neuron_idle_pj = { value = 52.0, source = "test", basis = "pre-silicon" }
spike_local_pj = { value = 1.7, source = "test", basis = "pre-silicon" }
hop_x_pj = { value = 3.0, source = "test", basis = "pre-silicon" }
hop_y_pj = { value = 4.0, source = "test", basis = "pre-silicon" }
static_mw_per_core = { value = 0.8125, source = "test", basis = "derived" }

[latency]
synop_ns = { value = 3.5, source = "test", basis = "pre-silicon" }
neuron_active_ns = { value = 8.4, source = "test", basis = "pre-silicon" }
neuron_idle_ns = { value = 5.3, source = "test", basis = "pre-silicon" }
spike_local_ns = { value = 2.1, source = "test", basis = "pre-silicon" }
hop_x_ns = { value = 4.1, source = "test", basis = "pre-silicon" }
hop_y_ns = { value = 6.5, source = "test", basis = "pre-silicon" }
barrier_ns = { value = 465.0, source = "test", basis = "pre-silicon" }
"#;

const TEST_PATH: &str = "models/testchip.toml";

/// 1-based number of the line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(start))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starts with {start:?}"))
}

/// BASE with the line of `key` replaced by `line`; also returns that line's number.
fn with_line(key: &str, line: &str) -> (String, usize) {
    let n = line_of(BASE, &format!("{key} = "));
    let text: Vec<&str> = BASE
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == n { line } else { l })
        .collect();
    (text.join("\n") + "\n", n)
}

/// BASE without the line of `key`.
fn without_line(key: &str) -> String {
    let prefix = format!("{key} = ");
    BASE.lines()
        .filter(|l| !l.starts_with(&prefix))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Loads `text` expecting an `Invalid` error; checks it is one line naming file, line and key.
fn invalid(text: &str, line: usize, key: &str) -> Problem {
    let err = match ChipModel::from_toml_str(text, Path::new(TEST_PATH)) {
        Ok(_) => panic!("expected an error about `{key}`"),
        Err(e) => e,
    };
    let message = err.to_string();
    assert!(!message.contains('\n'), "not one line: {message}");
    assert!(
        message.starts_with(&format!("{TEST_PATH}:{line}: key `{key}`: ")),
        "unexpected message: {message}"
    );
    assert_eq!(err.key(), Some(key));
    assert_eq!(err.line(), Some(line));
    match err {
        ChipError::Invalid { problem, .. } => problem,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn base_test_chip_loads() {
    let model = ChipModel::from_toml_str(BASE, Path::new(TEST_PATH)).expect("BASE is valid");
    assert_eq!(model.cores_per_chip(), 2 * 3 * 4);
    assert_eq!(model.core.weight_bits.value, 8);
    assert_eq!(model.energy.mac_pj, None);
    assert_eq!(model.energy.synop_pj.basis, Basis::PreSilicon);
}

#[test]
fn all_five_shipped_chips_load_and_are_named_after_their_file() {
    for name in SHIPPED {
        let model = shipped(name);
        assert_eq!(model.name, name);
        assert!(model.cores_per_chip() >= 1);
    }
}

#[test]
fn shipped_chip_core_counts_match_the_hardware_notes() {
    assert_eq!(shipped("loihi").cores_per_chip(), 128);
    assert_eq!(shipped("truenorth").cores_per_chip(), 4096);
    assert_eq!(shipped("spinnaker2").cores_per_chip(), 152);
    assert_eq!(shipped("dynapcnn").cores_per_chip(), 9);
    assert_eq!(shipped("generic-45nm").cores_per_chip(), 1);
}

#[test]
fn loihi_carries_davies_table_2_and_the_derived_static_power() {
    let loihi = shipped("loihi");
    assert_eq!(loihi.core.max_neurons.value, 1024);
    assert_eq!(loihi.core.max_fan_in.value, 4096);
    assert_eq!(loihi.core.max_fan_out.value, 4096);
    assert_eq!(loihi.core.synaptic_memory_bits.value, 128 * 1024 * 8);
    assert_eq!(loihi.core.weight_bits.value, 8);
    assert_eq!(loihi.energy.synop_pj.value, 23.6);
    assert_eq!(loihi.energy.synop_pj.basis, Basis::PreSilicon);
    assert_eq!(loihi.energy.hop_x_pj.value, 3.0);
    assert_eq!(loihi.energy.hop_y_pj.value, 4.0);
    assert_eq!(loihi.energy.static_mw_per_core.value, 104.0 / 128.0);
    assert_eq!(loihi.energy.static_mw_per_core.basis, Basis::Derived);
    assert_eq!(loihi.latency.hop_y_ns.value, 6.5);
}

#[test]
fn generic_45nm_uses_horowitz_ac_and_mac_and_has_no_routing_cost() {
    let chip = shipped("generic-45nm");
    assert_eq!(chip.energy.synop_pj.value, 0.9);
    let mac = chip.energy.mac_pj.expect("45 nm reference has a MAC cost");
    // 3.7 pJ fp32 multiply + 0.9 pJ fp32 add.
    assert_eq!(mac.value, 4.6);
    for c in [
        &chip.energy.spike_local_pj,
        &chip.energy.hop_x_pj,
        &chip.energy.hop_y_pj,
    ] {
        assert_eq!(c.value, 0.0);
        assert_eq!(c.basis, Basis::Model);
    }
}

#[test]
fn dynapcnn_shares_conv_weights_and_sends_to_at_most_two_cores() {
    let chip = shipped("dynapcnn");
    assert!(chip.core.shared_conv_weights.value);
    assert_eq!(chip.core.max_fan_out.value, 2);
    // Element-wise medians of sinabs' per-core memories.
    assert_eq!(chip.core.max_neurons.value, 32 * 1024);
    assert_eq!(chip.core.synaptic_memory_bits.value, 16 * 1024 * 8);
}

#[test]
fn shipped_chips_round_trip_through_to_toml_string() {
    for name in SHIPPED {
        let model = shipped(name);
        let text = model.to_toml_string();
        let again = ChipModel::from_toml_str(&text, Path::new("written.toml"))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(again, model, "{name}");
    }
}

#[test]
fn serde_deserialize_agrees_with_the_loader_on_shipped_chips() {
    for name in SHIPPED {
        let text = std::fs::read_to_string(models_dir().join(format!("{name}.toml"))).unwrap();
        let via_serde: ChipModel = toml::from_str(&text).unwrap();
        assert_eq!(via_serde, shipped(name), "{name}");
    }
}

#[test]
fn load_of_a_missing_file_names_the_file() {
    let path = models_dir().join("no-such-chip.toml");
    let err = ChipModel::load(&path).unwrap_err();
    assert!(matches!(err, ChipError::Read { .. }));
    assert!(err.to_string().contains("no-such-chip.toml"), "{err}");
}

#[test]
fn toml_syntax_error_names_file_and_line() {
    let (text, line) = with_line("height", "height = { value = 3, source = \"test");
    let err = ChipModel::from_toml_str(&text, Path::new(TEST_PATH)).unwrap_err();
    assert!(matches!(err, ChipError::Syntax { .. }), "{err:?}");
    assert_eq!(err.line(), Some(line));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{TEST_PATH}:{line}: ")),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn unknown_key_in_a_block_is_named() {
    let (text, line) = with_line(
        "max_neurons",
        "max_neuronz = { value = 256, source = \"test\", basis = \"measured\" }",
    );
    let problem = invalid(&text, line, "core.max_neuronz");
    assert!(matches!(problem, Problem::UnknownKey { .. }));
}

#[test]
fn unknown_top_level_table_is_named() {
    let text = format!("{BASE}\n[routing]\nkind = \"xy\"\n");
    let line = line_of(&text, "[routing]");
    let problem = invalid(&text, line, "routing");
    assert!(matches!(problem, Problem::UnknownKey { .. }));
}

#[test]
fn unknown_key_inside_a_constant_is_named() {
    let (text, line) = with_line(
        "synop_pj",
        "synop_pj = { value = 23.6, source = \"test\", basis = \"model\", unit = \"pJ\" }",
    );
    let problem = invalid(&text, line, "energy.synop_pj.unit");
    assert!(matches!(problem, Problem::UnknownKey { .. }));
}

#[test]
fn missing_key_points_at_its_table() {
    let text = without_line("hop_y_pj");
    let problem = invalid(&text, line_of(&text, "[energy]"), "energy.hop_y_pj");
    assert_eq!(problem, Problem::MissingKey);
}

#[test]
fn missing_basis_inside_a_constant_is_named() {
    let (text, line) = with_line(
        "state_bits",
        "state_bits = { value = 16, source = \"test\" }",
    );
    let problem = invalid(&text, line, "core.state_bits.basis");
    assert_eq!(problem, Problem::MissingKey);
}

#[test]
fn missing_table_is_reported_at_line_one() {
    let start = BASE.find("[latency]").unwrap();
    let problem = invalid(&BASE[..start], 1, "latency");
    assert_eq!(problem, Problem::MissingKey);
}

#[test]
fn string_where_a_number_is_expected_is_a_type_error() {
    let (text, line) = with_line(
        "max_neurons",
        "max_neurons = { value = \"256\", source = \"test\", basis = \"measured\" }",
    );
    let problem = invalid(&text, line, "core.max_neurons.value");
    assert_eq!(
        problem,
        Problem::WrongType {
            expected: "an integer",
            found: "string"
        }
    );
}

#[test]
fn bare_number_instead_of_a_constant_table_is_a_type_error() {
    let (text, line) = with_line("max_neurons", "max_neurons = 256");
    let problem = invalid(&text, line, "core.max_neurons");
    assert!(
        matches!(
            problem,
            Problem::WrongType {
                found: "integer",
                ..
            }
        ),
        "{problem:?}"
    );
}

#[test]
fn float_where_an_integer_is_expected_is_a_type_error() {
    let (text, line) = with_line(
        "weight_bits",
        "weight_bits = { value = 8.0, source = \"test\", basis = \"model\" }",
    );
    let problem = invalid(&text, line, "core.weight_bits.value");
    assert!(matches!(problem, Problem::WrongType { found: "float", .. }));
}

#[test]
fn integer_is_accepted_where_a_float_is_expected() {
    let (text, _) = with_line(
        "hop_x_pj",
        "hop_x_pj = { value = 3, source = \"test\", basis = \"pre-silicon\" }",
    );
    let model = ChipModel::from_toml_str(&text, Path::new(TEST_PATH)).unwrap();
    assert_eq!(model.energy.hop_x_pj.value, 3.0);
}

#[test]
fn zero_mesh_width_is_rejected() {
    let (text, line) = with_line(
        "width",
        "width = { value = 0, source = \"test\", basis = \"model\" }",
    );
    let problem = invalid(&text, line, "mesh.width.value");
    assert!(matches!(problem, Problem::OutOfRange { .. }));
}

#[test]
fn zero_cores_per_tile_is_rejected() {
    let (text, line) = with_line(
        "cores_per_tile",
        "cores_per_tile = { value = 0, source = \"test\", basis = \"model\" }",
    );
    let problem = invalid(&text, line, "mesh.cores_per_tile.value");
    assert!(matches!(problem, Problem::OutOfRange { .. }));
}

#[test]
fn zero_neurons_fan_in_fan_out_memory_and_state_bits_are_rejected() {
    for key in [
        "max_neurons",
        "max_fan_in",
        "max_fan_out",
        "synaptic_memory_bits",
        "weight_bits",
        "state_bits",
    ] {
        let (text, line) = with_line(
            key,
            &format!("{key} = {{ value = 0, source = \"test\", basis = \"model\" }}"),
        );
        let problem = invalid(&text, line, &format!("core.{key}.value"));
        assert!(matches!(problem, Problem::OutOfRange { .. }), "{key}");
    }
}

#[test]
fn weight_bits_above_32_are_rejected() {
    let (text, line) = with_line(
        "weight_bits",
        "weight_bits = { value = 33, source = \"test\", basis = \"model\" }",
    );
    let problem = invalid(&text, line, "core.weight_bits.value");
    assert!(matches!(problem, Problem::OutOfRange { .. }));
}

#[test]
fn negative_count_is_out_of_range_not_a_crash() {
    let (text, line) = with_line(
        "max_fan_in",
        "max_fan_in = { value = -4, source = \"test\", basis = \"model\" }",
    );
    let problem = invalid(&text, line, "core.max_fan_in.value");
    assert!(matches!(problem, Problem::OutOfRange { .. }));
}

#[test]
fn negative_energy_is_rejected() {
    let (text, line) = with_line(
        "synop_pj",
        "synop_pj = { value = -23.6, source = \"test\", basis = \"pre-silicon\" }",
    );
    let problem = invalid(&text, line, "energy.synop_pj.value");
    assert!(matches!(problem, Problem::OutOfRange { .. }));
}

#[test]
fn non_finite_latency_and_power_are_rejected() {
    for (key, value) in [("barrier_ns", "inf"), ("static_mw_per_core", "nan")] {
        let (text, line) = with_line(
            key,
            &format!("{key} = {{ value = {value}, source = \"test\", basis = \"model\" }}"),
        );
        let block = if key == "barrier_ns" {
            "latency"
        } else {
            "energy"
        };
        let problem = invalid(&text, line, &format!("{block}.{key}.value"));
        assert!(matches!(problem, Problem::OutOfRange { .. }), "{key}");
    }
}

#[test]
fn unknown_basis_is_rejected() {
    let (text, line) = with_line(
        "neuron_idle_ns",
        "neuron_idle_ns = { value = 5.3, source = \"test\", basis = \"simulated\" }",
    );
    let problem = invalid(&text, line, "latency.neuron_idle_ns.basis");
    assert_eq!(
        problem,
        Problem::UnknownBasis {
            found: "simulated".to_string()
        }
    );
}

#[test]
fn empty_source_is_rejected() {
    for source in ["", "   "] {
        let (text, line) = with_line(
            "spike_local_pj",
            &format!(
                "spike_local_pj = {{ value = 1.7, source = \"{source}\", basis = \"model\" }}"
            ),
        );
        let problem = invalid(&text, line, "energy.spike_local_pj.source");
        assert_eq!(problem, Problem::EmptyText);
    }
}

#[test]
fn optional_mac_energy_is_read_when_present() {
    let text = BASE.replace(
        "\n[latency]",
        "mac_pj = { value = 4.6, source = \"test\", basis = \"derived\" }\n\n[latency]",
    );
    let model = ChipModel::from_toml_str(&text, Path::new(TEST_PATH)).unwrap();
    let mac = model.energy.mac_pj.unwrap();
    assert_eq!((mac.value, mac.basis), (4.6, Basis::Derived));
}

fn constant<T>(value: T, source: &str, basis: Basis) -> Constant<T> {
    Constant {
        value,
        source: source.to_string(),
        basis,
    }
}

fn arb_basis() -> impl Strategy<Value = Basis> {
    prop::sample::select(Basis::ALL.to_vec())
}

/// Any finite non-negative cost within the smallest physical bound (static power, 1e4 mW),
/// subnormals and zero included.
fn arb_cost() -> impl Strategy<Value = f64> {
    use proptest::num::f64;
    (f64::POSITIVE | f64::NORMAL | f64::SUBNORMAL | f64::ZERO).prop_map(|v| {
        let v = v.abs();
        if v > MAX_STATIC_MW_PER_CORE {
            v % MAX_STATIC_MW_PER_CORE
        } else {
            v
        }
    })
}

/// Any valid model: awkward text (quotes, backslashes, control characters, non-ASCII) and any
/// finite non-negative cost, including subnormals.
fn arb_model() -> impl Strategy<Value = ChipModel> {
    let text = any::<String>().prop_map(|s| format!("s{s}"));
    (
        (text.clone(), any::<String>()),
        prop::collection::vec((text, arb_basis()), 27),
        (1u32..=64, 1u32..=64, 1u32..=16),
        (
            1u32..=MAX_PER_CORE as u32,
            1u32..=MAX_PER_CORE as u32,
            1u32..=MAX_PER_CORE as u32,
            1u64..=MAX_MEMORY_BITS,
        ),
        (1u32..=32, 1u32..=64, any::<bool>()),
        prop::collection::vec(arb_cost(), 14),
        (prop::option::of(arb_cost()), prop::option::of(arb_cost())),
    )
        .prop_map(|(names, prov, mesh, counts, bits, costs, (mac, link))| {
            let mut prov = prov.into_iter();
            // Each constant takes the next (source, basis) pair.
            fn next<T>(prov: &mut impl Iterator<Item = (String, Basis)>, value: T) -> Constant<T> {
                let (source, basis) = prov.next().expect("27 provenances");
                constant(value, &source, basis)
            }
            let p = &mut prov;
            ChipModel {
                name: names.0,
                description: names.1,
                mesh: MeshSpec {
                    width: next(p, mesh.0),
                    height: next(p, mesh.1),
                    cores_per_tile: next(p, mesh.2),
                },
                core: CoreSpec {
                    max_neurons: next(p, counts.0),
                    max_fan_in: next(p, counts.1),
                    max_fan_out: next(p, counts.2),
                    synaptic_memory_bits: next(p, counts.3),
                    weight_bits: next(p, bits.0),
                    state_bits: next(p, bits.1),
                    shared_conv_weights: next(p, bits.2),
                },
                energy: EnergySpec {
                    synop_pj: next(p, costs[0]),
                    neuron_active_pj: next(p, costs[1]),
                    neuron_idle_pj: next(p, costs[2]),
                    spike_local_pj: next(p, costs[3]),
                    hop_x_pj: next(p, costs[4]),
                    hop_y_pj: next(p, costs[5]),
                    static_mw_per_core: next(p, costs[6]),
                    mac_pj: mac.map(|m| next(p, m)),
                },
                latency: LatencySpec {
                    synop_ns: next(p, costs[7]),
                    neuron_active_ns: next(p, costs[8]),
                    neuron_idle_ns: next(p, costs[9]),
                    spike_local_ns: next(p, costs[10]),
                    hop_x_ns: next(p, costs[11]),
                    hop_y_ns: next(p, costs[12]),
                    barrier_ns: next(p, costs[13]),
                    link_packet_ns: link.map(|l| next(p, l)),
                },
            }
        })
}

proptest! {
    #[test]
    fn any_valid_model_round_trips_through_to_toml_string(model in arb_model()) {
        prop_assert_eq!(model.validate(), Ok(()));
        let text = model.to_toml_string();
        let again = ChipModel::from_toml_str(&text, Path::new("written.toml"));
        prop_assert!(again.is_ok(), "{:?}\n{}", again, text);
        prop_assert_eq!(again.unwrap(), model.clone());
        // The written text is plain TOML that serde reads to the same model.
        let via_serde: ChipModel = toml::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(via_serde, model);
    }
}

/// loihi-nxtf.toml is loihi.toml with conv weights shared: every other constant, source and
/// basis equal, so the two can be compared to isolate weight sharing.
#[test]
fn loihi_nxtf_differs_from_loihi_only_in_weight_sharing() {
    let (loihi, mut nxtf) = (shipped("loihi"), shipped("loihi-nxtf"));
    assert!(!loihi.core.shared_conv_weights.value);
    assert!(nxtf.core.shared_conv_weights.value);
    nxtf.name = loihi.name.clone();
    nxtf.description = loihi.description.clone();
    nxtf.core.shared_conv_weights = loihi.core.shared_conv_weights.clone();
    assert_eq!(nxtf, loihi);
}
