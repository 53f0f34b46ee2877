//! `snn-train --distributed` under `mpiexec` (only with `--features mpi`, and `mpiexec` on the
//! PATH): one rank gives exactly the files of a plain run; two and three ranks are
//! reproducible and end within float rounding of the plain run's weights; the ranks' shares of
//! the evaluation sum to one process's; two ranks resume an interrupted run to exactly the
//! weights of an uninterrupted one.

#![cfg(feature = "mpi")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A small LeNet run on real MNIST: 2 epochs, batch 32 over 5 batches an epoch, a validation
/// hold-out, dropout (keyed by sample, so sharding must not change it).
const ARGS: &[&str] = &[
    "--arch",
    "lenet",
    "--dataset",
    "mnist",
    "--epochs",
    "2",
    "--timesteps",
    "8",
    "--batch-size",
    "32",
    "--train-limit",
    "160",
    "--test-limit",
    "64",
    "--val-split",
    "100",
    "--dropout",
    "0.1",
    "--threads",
    "1",
    "--quiet",
];

/// Runs snn-train with `extra` on `ranks` MPI ranks (0: no mpiexec, no --distributed) into
/// `out`.
fn train(ranks: usize, out: &Path, extra: &[&str]) {
    let bin = env!("CARGO_BIN_EXE_snn-train");
    let mut cmd = if ranks == 0 {
        Command::new(bin)
    } else {
        let mut c = Command::new("mpiexec");
        c.args(["-n", &ranks.to_string(), bin, "--distributed"]);
        c
    };
    let status = cmd
        .args(ARGS)
        .arg("--data-dir")
        .arg(common::mnist_dir())
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("mpiexec runs (apt-get install mpich)");
    assert!(
        status.status.success() || status.status.code() == Some(130),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn bytes(p: PathBuf) -> Vec<u8> {
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn weights(p: &Path) -> Vec<f32> {
    snn_core::Model::load(&p.join("last.snn"))
        .unwrap()
        .weights
        .iter()
        .flat_map(|w| w.main.iter().chain(&w.shortcut).copied())
        .collect()
}

#[test]
fn one_rank_is_a_plain_run_and_two_ranks_are_reproducible_and_close() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |n: &str| tmp.path().join(n);
    train(0, &dir("plain"), &[]);
    train(1, &dir("r1"), &[]);
    train(2, &dir("r2"), &[]);
    train(2, &dir("r2-again"), &[]);
    // Three ranks: the ring cuts the gradient into uneven chunks and adds in another order.
    train(3, &dir("r3"), &[]);
    train(3, &dir("r3-again"), &[]);
    for f in ["last.snn", "model.snn"] {
        assert!(
            bytes(dir("plain").join(f)) == bytes(dir("r1").join(f)),
            "{f}: 1 rank vs plain"
        );
        assert!(
            bytes(dir("r2").join(f)) == bytes(dir("r2-again").join(f)),
            "{f}: 2 ranks twice"
        );
    }
    // Two ranks sum the same per-sample gradients grouped by shard: only rounding differs.
    let (a, b) = (weights(&dir("plain")), weights(&dir("r2")));
    let scale = a.iter().fold(0f32, |m, w| m.max(w.abs()));
    let worst = a
        .iter()
        .zip(&b)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(
        worst <= 1e-4 * scale,
        "2 ranks vs plain: {worst} of {scale}"
    );
    assert!(a != b || worst == 0.0);
}

#[test]
fn two_ranks_resume_an_interrupted_run_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, cut) = (tmp.path().join("whole"), tmp.path().join("cut"));
    train(2, &whole, &[]);
    train(2, &cut, &["--stop-after-batches", "7"]);
    assert!(
        cut.join("last.snn").exists(),
        "the interrupted run left a checkpoint"
    );
    let bin = env!("CARGO_BIN_EXE_snn-train");
    let out = Command::new("mpiexec")
        .args(["-n", "2", bin, "--distributed", "--quiet", "--resume"])
        .arg(&cut)
        .arg("--data-dir")
        .arg(common::mnist_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(bytes(whole.join("last.snn")) == bytes(cut.join("last.snn")));
}
