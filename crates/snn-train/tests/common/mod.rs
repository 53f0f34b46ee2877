//! Helpers shared by the trainer's tests: tiny synthetic data sets and dense views of synapses.
#![allow(dead_code)]

use snn_core::model_file::LayerWeights;
use snn_core::plan::Synapses;
use snn_core::synapse::reference;
use snn_core::NetworkSpec;
use snn_data::dataset::{Dataset, DatasetKind, Split};
use std::path::{Path, PathBuf};

/// A network from TOML text.
pub fn spec(text: &str) -> NetworkSpec {
    NetworkSpec::from_toml_str(text, Path::new("test.toml")).unwrap()
}

/// Deterministic pseudo-random numbers in [0, 1).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A data set of `n` random images of `c×h×w` with bright pixels, labels cycling over `classes`.
pub fn synthetic(n: usize, c: usize, h: usize, w: usize, classes: usize, seed: u64) -> Dataset {
    let mut r = Lcg(seed);
    let images = (0..n * c * h * w)
        .map(|_| {
            if r.uniform() < 0.5 {
                r.uniform() as f32
            } else {
                0.0
            }
        })
        .collect();
    Dataset {
        kind: DatasetKind::Mnist,
        split: Split::Train,
        channels: c,
        rows: h,
        cols: w,
        images,
        labels: (0..n).map(|i| (i % classes) as u8).collect(),
    }
}

/// Dense matrix `M[out][in]` of synapses with the given weights (column j = response to unit input j).
pub fn dense_matrix(syn: &Synapses, w: &[f32]) -> Vec<Vec<f64>> {
    let (n_in, n_out) = (syn.input_len(), syn.output_len());
    let mut m = vec![vec![0.0; n_in]; n_out];
    for j in 0..n_in {
        let mut x = vec![0.0f32; n_in];
        x[j] = 1.0;
        let y = reference::forward(syn, w, &x);
        for o in 0..n_out {
            m[o][j] = y[o] as f64;
        }
    }
    m
}

/// `∂M/∂w_p` for every weight p (M is linear in the weights): one dense matrix per weight.
pub fn matrix_basis(syn: &Synapses) -> Vec<Vec<Vec<f64>>> {
    (0..syn.weight_count())
        .map(|p| {
            let mut e = vec![0.0f32; syn.weight_count()];
            e[p] = 1.0;
            dense_matrix(syn, &e)
        })
        .collect()
}

/// Weights drawn uniformly from [-a, a] + bias for every layer.
pub fn weights_for(
    plan: &snn_core::NetworkPlan,
    seed: u64,
    scale: f64,
    bias: f64,
) -> Vec<LayerWeights> {
    let mut r = Lcg(seed);
    plan.layers
        .iter()
        .map(|l| LayerWeights {
            layer: l.name.clone(),
            main: (0..l.synapses.weight_count())
                .map(|_| ((r.uniform() * 2.0 - 1.0) * scale + bias) as f32)
                .collect(),
            shortcut: vec![],
        })
        .collect()
}

/// The MNIST data directory ($SNN_DATA_DIR or the workspace's data/), fetched if missing.
pub fn mnist_dir() -> PathBuf {
    let dir = std::env::var_os("SNN_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data"));
    snn_data::fetch::fetch(snn_data::dataset::DatasetKind::Mnist, &dir)
        .expect("MNIST available or fetchable");
    dir
}
