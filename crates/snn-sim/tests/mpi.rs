//! `snn-sim --distributed` under `mpiexec` (only with `--features mpi`, and `mpiexec` on the
//! PATH): on 1 and 2 ranks, report.json and the activity profile equal a single process's in
//! every field but the timings, on both engines and in fixed point.

#![cfg(feature = "mpi")]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes a briefly trained-looking random LeNet-like model and its two-chip mapping under
/// `dir`; returns (model path, mapping path).
fn files(dir: &Path) -> (PathBuf, PathBuf) {
    let mut model = random_model(spec(TINY), 5, 0.6, 0.12);
    model.meta.dataset = "mnist".into();
    model.meta.timesteps = 6;
    model.meta.seed = 2;
    let mp = dir.join("model.snn");
    model.save(&mp).unwrap();
    let chip = chip(&ChipSpec {
        neurons: 16,
        width: 3,
        height: 3,
        cores_per_tile: 2,
        ..ChipSpec::default()
    });
    let map_path = dir.join("mapping.bin");
    let mapping = map_on(&model, &chip, 2, 3);
    mapping.save(&map_path).unwrap();
    (mp, map_path)
}

/// The simulator on `ranks` ranks (0: a plain process) with `extra` flags: report.json and the
/// profile, without the fields that are timings or the command line.
fn sim(ranks: usize, dir: &Path, name: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let (model, mapping) = (dir.join("model.snn"), dir.join("mapping.bin"));
    let bin = env!("CARGO_BIN_EXE_snn-sim");
    let mut cmd = if ranks == 0 {
        Command::new(bin)
    } else {
        let mut c = Command::new("mpiexec");
        c.args(["-n", &ranks.to_string(), bin, "--distributed"]);
        c
    };
    let out = dir.join(name);
    let profile = dir.join(format!("{name}.json"));
    let o = cmd
        .arg("--model")
        .arg(&model)
        .arg("--mapping")
        .arg(&mapping)
        .arg("--data-dir")
        .arg(mnist_dir())
        .args(["--test-limit", "37", "--threads", "2"])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .arg("--profile-out")
        .arg(&profile)
        .output()
        .expect("mpiexec runs (apt-get install mpich)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let mut report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let m = report.as_object_mut().unwrap();
    for k in [
        "sim_seconds",
        "samples_per_second",
        "synaptic_events_per_second",
        "synaptic_events_per_second_per_worker",
        "command",
    ] {
        assert!(m.remove(k).is_some(), "report.json lacks {k}");
    }
    (report, std::fs::read_to_string(&profile).unwrap())
}

#[test]
fn reports_on_one_and_two_ranks_equal_a_single_process() {
    let tmp = tempfile::tempdir().unwrap();
    files(tmp.path());
    for (what, extra) in [
        ("layer", &["--engine", "layer"][..]),
        ("event", &["--engine", "event"][..]),
        (
            "fixed",
            &["--mode", "fixed", "--sweep-timesteps", "3,6"][..],
        ),
    ] {
        let plain = sim(0, tmp.path(), &format!("{what}-plain"), extra);
        assert!(
            plain.0["links"]["links_used"].as_u64().unwrap() > 0,
            "{what}: links"
        );
        for ranks in [1, 2] {
            let d = sim(ranks, tmp.path(), &format!("{what}-{ranks}"), extra);
            assert!(d.0 == plain.0, "{what}: report.json on {ranks} rank(s)");
            assert!(d.1 == plain.1, "{what}: profile on {ranks} rank(s)");
        }
    }
}
