//! The `snn-map` binary: help, the files it writes, one-line errors with a non-zero exit for
//! bad input, the infeasible-chip messages for LeNet, and a corrupt mapping.bin rejected by
//! its checksum.

mod common;

use snn_map::mapping::Mapping;
use snn_map::MapError;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_snn-map"))
}

fn chip_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../hardware-models/{name}.toml"))
}

/// An untrained LeNet saved as a model file.
fn lenet(dir: &Path) -> PathBuf {
    let p = dir.join("lenet.snn");
    snn_map::external::untrained(snn_core::preset::lenet())
        .unwrap()
        .save(&p)
        .unwrap();
    p
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    bin().args(args).output().expect("snn-map runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure: non-zero exit, exactly one line on stderr, no panic.
fn one_line_failure(o: &Output) -> String {
    assert!(!o.status.success(), "expected failure");
    let e = stderr(o);
    assert!(!e.contains("panicked"), "panic: {e}");
    assert_eq!(e.trim_end().lines().count(), 1, "not one line: {e}");
    e
}

#[test]
fn help_lists_the_flags() {
    let o = bin().arg("--help").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--model",
        "--chip",
        "--chips",
        "--profile",
        "--seed",
        "--out",
        "--export-graph",
        "--evaluate-partition",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn maps_lenet_on_loihi_and_detects_a_corrupt_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let model = lenet(dir.path());
    let out = dir.path().join("out");
    let graph = dir.path().join("graph.json");
    let chip = chip_file("loihi");
    let o = run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "--chip".as_ref(),
        chip.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--export-graph".as_ref(),
        graph.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["mapping.bin", "mapping.json", "mapping.md"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("mapping.json")).unwrap()).unwrap();
    for key in [
        "cores_used",
        "cores_available",
        "inter_core_packets",
        "hop_weighted_traffic",
        "max_core_load",
        "per_core",
    ] {
        assert!(j.get(key).is_some(), "mapping.json lacks {key}");
    }
    for b in ["sequential", "random"] {
        for key in [
            "inter_core_packets",
            "hop_weighted_traffic",
            "max_core_load",
        ] {
            assert!(j["baselines"][b][key].is_number(), "baselines.{b}.{key}");
        }
    }
    let m = Mapping::load(&out.join("mapping.bin")).unwrap();
    assert_eq!(m.cores.len() as u64, j["cores_used"].as_u64().unwrap());
    // the packet lower bound sits next to the packets, below ours and both baselines
    let lb = j["inter_core_packets_lower_bound"]
        .as_f64()
        .expect("lower bound");
    assert!(lb > 0.0 && lb <= j["inter_core_packets"].as_f64().unwrap());
    for b in ["sequential", "random"] {
        assert!(lb <= j["baselines"][b]["inter_core_packets"].as_f64().unwrap());
    }
    let md = std::fs::read_to_string(out.join("mapping.md")).unwrap();
    assert!(
        md.contains("lower bound on inter-core packets for any valid mapping"),
        "mapping.md lacks the bound"
    );

    // Exported graph scored by --evaluate-partition: our own partition scores as ours.
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&graph).unwrap()).unwrap();
    let parts = dir.path().join("parts.json");
    std::fs::write(&parts, g["ours"].to_string()).unwrap();
    let out2 = dir.path().join("out2");
    let o = run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "--chip".as_ref(),
        chip.as_os_str(),
        "--out".as_ref(),
        out2.as_os_str(),
        "--evaluate-partition".as_ref(),
        parts.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("mapping.json")).unwrap()).unwrap();
    assert_eq!(j2["external"]["cores_over_limits"], 0);
    assert_eq!(
        j2["external"]["inter_core_packets"],
        j2["inter_core_packets"]
    );

    // One flipped payload byte: the checksum catches it.
    let bin_path = out.join("mapping.bin");
    let mut bytes = std::fs::read(&bin_path).unwrap();
    let k = bytes.len() / 2;
    bytes[k] ^= 0x40;
    std::fs::write(&bin_path, &bytes).unwrap();
    match Mapping::load(&bin_path) {
        Err(MapError::File(e @ snn_core::FileError::Checksum { .. })) => {
            assert!(e.to_string().contains("checksum"), "{e}");
        }
        other => panic!("expected a checksum error, got {:?}", other.err()),
    }
}

#[test]
fn bad_chip_files_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = lenet(dir.path());
    let out = dir.path().join("out");
    let missing = dir.path().join("no-such-chip.toml");
    let o = run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "--chip".as_ref(),
        missing.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let e = one_line_failure(&o);
    assert!(e.contains("no-such-chip.toml"), "{e}");

    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(chip_file("loihi"))
        .unwrap()
        .replace("[core]", "[core]\nmax_neurone = 3");
    std::fs::write(&bad, text).unwrap();
    let o = run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "--chip".as_ref(),
        bad.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let e = one_line_failure(&o);
    assert!(e.contains("bad.toml") && e.contains("max_neurone"), "{e}");

    let o = run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "--chip".as_ref(),
        chip_file("loihi").as_os_str(),
        "--chips".as_ref(),
        "0".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    one_line_failure(&o);
    assert!(!out.join("mapping.bin").exists());
}

#[test]
fn lenet_on_chips_too_small_says_what_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let model = lenet(dir.path());
    let out = dir.path().join("out");
    let map = |chip: &str| {
        run(&[
            "--model".as_ref(),
            model.as_os_str(),
            "--chip".as_ref(),
            chip_file(chip).as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
    };
    // TrueNorth: 256 axons per core, a conv2 neuron listens to 5x5x20 = 500.
    let e = one_line_failure(&map("truenorth"));
    assert!(
        e.contains("conv2") && e.contains("fan-in 500") && e.contains("256"),
        "{e}"
    );
    // DYNAP-CNN: fc1 needs dozens of cores (19,600 bits of weights per neuron) and every pool2
    // core would have to reach all of them, but a core has 2 destinations: the fan-out limit is
    // what fails, whatever the number of chips.
    let e = one_line_failure(&map("dynapcnn"));
    assert!(
        e.contains("destinations per core") && e.contains("allows 2"),
        "{e}"
    );
    // A chip with too few cores names the chip count that suffices, and that count works.
    let small = dir.path().join("small.toml");
    std::fs::write(
        &small,
        common::chip_toml(&common::Limits {
            width: 2,
            height: 2,
            cores_per_tile: 2,
            ..Default::default()
        }),
    )
    .unwrap();
    let with_chips = |n: &str| {
        run(&[
            "--model".as_ref(),
            model.as_os_str(),
            "--chip".as_ref(),
            small.as_os_str(),
            "--chips".as_ref(),
            n.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
    };
    let e = one_line_failure(&with_chips("1"));
    assert!(e.contains("offers 8") && e.contains("--chips "), "{e}");
    let n: String = e
        .split("--chips ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    assert!(n.parse::<u32>().unwrap() > 1, "{e}");
    let o = with_chips(&n);
    assert!(o.status.success(), "--chips {n}: {}", stderr(&o));
}
