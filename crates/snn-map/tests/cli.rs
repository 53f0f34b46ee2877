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

/// Sizes that once allocated tens of gigabytes, overflowed or ran for minutes: each is refused
/// up front with the bound in the message.
#[test]
fn oversized_and_hopeless_requests_fail_fast_with_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let model = lenet(dir.path());
    let out = dir.path().join("out");
    let map = |chip: &Path, chips: &str| {
        run(&[
            "--model".as_ref(),
            model.as_os_str(),
            "--chip".as_ref(),
            chip.as_os_str(),
            "--chips".as_ref(),
            chips.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
    };
    let loihi = chip_file("loihi");
    let e = one_line_failure(&map(&loihi, "4294967295"));
    assert!(
        e.contains("--chips 4294967295") && e.contains("1024"),
        "{e}"
    );
    // Loihi's chip file with the value of the line starting with `key` replaced.
    let text = std::fs::read_to_string(&loihi).unwrap();
    let with_values = |name: &str, changes: &[(&str, &str)]| {
        let mut out = text.clone();
        for (key, value) in changes {
            let line = text
                .lines()
                .find(|l| l.starts_with(key))
                .unwrap_or_else(|| panic!("loihi.toml has {key}"));
            let start = line.find("value = ").unwrap() + "value = ".len();
            let end = start + line[start..].find(',').unwrap();
            let new_line = format!("{}{value}{}", &line[..start], &line[end..]);
            out = out.replacen(line, &new_line, 1);
        }
        let p = dir.path().join(name);
        std::fs::write(&p, out).unwrap();
        p
    };
    let with_value = |name: &str, key: &str, value: &str| with_values(name, &[(key, value)]);
    // 1024×256 tiles of 4 cores: the most one chip may have; five of them exceed the mapping's
    // address space.
    let big = with_values("big.toml", &[("width", "1024"), ("height", "256")]);
    let e = one_line_failure(&map(&big, "5"));
    assert!(e.contains("more than the 4194304"), "{e}");
    let e = one_line_failure(&map(&with_value("huge.toml", "width", "65535"), "1"));
    assert!(e.contains("mesh.width") && e.contains("4096"), "{e}");

    // max_neurons = 1: hopeless, and said so before partitioning 10,000 one-neuron atoms.
    let t0 = std::time::Instant::now();
    let e = one_line_failure(&map(&with_value("tiny.toml", "max_neurons", "1"), "1"));
    assert!(e.contains("needs at least") && e.contains("cores"), "{e}");
    eprintln!("tiny chip refused in {:.3} s", t0.elapsed().as_secs_f64());

    // Absurd physical constants name the key and the range.
    let e = one_line_failure(&map(&with_value("slow.toml", "barrier_ns", "1e18"), "1"));
    assert!(
        e.contains("latency.barrier_ns") && e.contains("between 0 and"),
        "{e}"
    );
    let e = one_line_failure(&map(&with_value("hot.toml", "synop_pj", "1e308"), "1"));
    assert!(
        e.contains("energy.synop_pj") && e.contains("between 0 and"),
        "{e}"
    );

    // Inputs that are not regular files are refused without reading or blocking.
    let o = run(&[
        "--model".as_ref(),
        "/dev/zero".as_ref(),
        "--chip".as_ref(),
        loihi.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let e = one_line_failure(&o);
    assert!(
        e.contains("/dev/zero") && e.contains("not a regular file"),
        "{e}"
    );
    assert!(!out.join("mapping.bin").exists());
}
