//! Helpers shared by snn-nir's tests: models with distinct, deterministic weights.
#![allow(dead_code)]

use snn_core::model_file::{LayerWeights, ModelMeta};
use snn_core::{Model, NetworkPlan, NetworkSpec};
use std::path::Path;

/// Deterministic pseudo-random weights in [-0.5, 0.5), different for every position, so a
/// permuted layout cannot go unnoticed.
pub fn weights(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

/// A model of `spec` with pseudo-random weights and provenance set.
pub fn model(spec: NetworkSpec) -> Model {
    let plan = NetworkPlan::new(&spec).unwrap();
    let weights = plan
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerWeights {
            layer: l.name.clone(),
            main: weights(l.synapses.weight_count(), i as u64 + 1),
            shortcut: weights(
                l.shortcut.map_or(0, |s| s.synapses.weight_count()),
                100 + i as u64,
            ),
        })
        .collect();
    Model {
        spec,
        weights,
        meta: ModelMeta {
            created_by: "snn-nir tests".into(),
            dataset: "mnist".into(),
            timesteps: 7,
            seed: u64::MAX - 3,
            epochs: 2,
            test_accuracy: Some(0.5),
        },
        training: None,
    }
}

/// A small residual network covering every shortcut kind: a 1x1 conv from the input
/// (channels change), a stride-2 identity, a stride-1 identity and a stride-2 1x1 conv.
pub fn small_resnet() -> NetworkSpec {
    NetworkSpec::from_toml_str(
        r#"
name = "tiny-res"
input = { channels = 2, height = 8, width = 8 }
input_scale = 0.75
neuron = { leak = 0.95, threshold = 1.25, pool_threshold = 0.5 }
[[layer]]
type = "residual"
out_channels = 4
[[layer]]
type = "residual"
out_channels = 4
stride = 2
[[layer]]
type = "residual"
out_channels = 4
[[layer]]
type = "residual"
out_channels = 6
stride = 2
[[layer]]
type = "pool"
[[layer]]
type = "linear"
out_features = 5
[[layer]]
type = "readout"
out_features = 3
"#,
        Path::new("tiny-res.toml"),
    )
    .unwrap()
}
