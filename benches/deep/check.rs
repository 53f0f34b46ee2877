//! The cross-check file of `deep_throughput --write-check`: one training sample's weights, input
//! spikes, output, loss and per-layer gradient norms in both gradient modes, for
//! `benches/peers/deep_peer.py --check-against DIR`, which rebuilds the network from the plan
//! and compares its PyTorch loss and gradients with ours.
//!
//! `DIR/check.json` (metadata, plan, spikes, expected numbers) and `DIR/weights.f32` (every
//! weight tensor in our canonical layout — conv `[ky][kx][c_in][c_out]`, dense `[in][out]` —
//! little-endian f32, at the offsets `check.json` gives).

use snn::core::model_file::LayerWeights;
use snn::core::runtime::{CompiledNet, PreparedWeights};
use snn::data::dataset::Dataset;
use snn::data::encode::RateEncoder;
use snn::train::batch::{BatchContext, BatchEngine};
use snn::train::forward::Runner;
use snn::train::trace::Trace;
use snn::train::GradMode;
use std::path::Path;

/// Writes the check directory for sample 0 of `data`.
pub fn write(
    dir: &Path,
    arch: &str,
    net: &CompiledNet,
    weights: &[LayerWeights],
    data: &Dataset,
    timesteps: usize,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let encoder = RateEncoder::new(7, net.input_scale);
    let sample = 0usize;
    let label = data.labels[sample] as usize;

    // Input spikes and output of the training forward.
    let mut runner = Runner::new(net);
    let mut trace = Trace::default();
    let prepared = PreparedWeights::new(net, weights);
    let image = encoder.prepare(data.image(sample));
    let output = runner.run(
        net,
        &prepared,
        &encoder,
        &image,
        sample as u64,
        timesteps,
        None,
        Some(&mut trace),
        None,
    );
    let steps = |train: &snn::train::trace::SpikeTrain| -> Vec<Vec<u32>> {
        (0..timesteps).map(|t| train.step(t).to_vec()).collect()
    };

    // Gradients of the one sample in both modes (no weight decay, no update).
    let grad = |mode: GradMode| -> (f64, serde_json::Value) {
        let mut engine = BatchEngine::new(net.clone());
        let ctx = BatchContext::plain(data, &encoder, timesteps, mode);
        let outcome = engine.gradient_of(weights, &[sample], &ctx);
        let norm = |v: &[f32]| v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
        let per_layer: Vec<[f64; 2]> = engine
            .gradient()
            .layers
            .iter()
            .map(|(m, s)| [norm(m), norm(s)])
            .collect();
        let total = per_layer
            .iter()
            .map(|[m, s]| m * m + s * s)
            .sum::<f64>()
            .sqrt();
        (
            outcome.loss_sum,
            serde_json::json!({"norm": total, "per_layer": per_layer}),
        )
    };
    let (loss, code) = grad(GradMode::Code);
    let (_, aggregate) = grad(GradMode::Aggregate);

    let mut bytes = Vec::new();
    let mut index = Vec::new();
    let mut put = |w: &[f32]| -> [usize; 2] {
        let at = bytes.len() / 4;
        for x in w {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        [at, w.len()]
    };
    for w in weights {
        let main = put(&w.main);
        let shortcut = put(&w.shortcut);
        index.push(serde_json::json!({"layer": w.layer, "main": main, "shortcut": shortcut}));
    }
    let doc = serde_json::json!({
        "arch": arch,
        "timesteps": timesteps,
        "sample": sample,
        "label": label,
        "neuron": {"leak": net.neuron.leak, "threshold": net.neuron.threshold,
                   "pool_threshold": net.neuron.pool_threshold},
        "plan": net.plan,
        "input_pos": steps(&trace.input_pos),
        "input_neg": steps(&trace.input_neg),
        "weights_file": "weights.f32",
        "weights": index,
        "expected": {"output": output, "loss": loss, "grad_code": code, "grad_aggregate": aggregate},
    });
    snn::core::atomic::write_atomic(&dir.join("weights.f32"), &bytes)
        .map_err(std::io::Error::other)?;
    snn::core::atomic::write_atomic(
        &dir.join("check.json"),
        serde_json::to_string(&doc).unwrap().as_bytes(),
    )
    .map_err(std::io::Error::other)
}
