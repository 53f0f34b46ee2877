//! Plain SGD with L2 weight decay, no momentum (paper-method §5.5):
//! `W ← W − lr·(∂W + wd·W)`.

use crate::grad::Grads;
use crate::params::for_each_untransposed;
use snn_core::model_file::LayerWeights;
use snn_core::plan::NetworkPlan;

/// Applies one SGD step. `grads` are in the transposed layout and already summed over the batch.
pub fn sgd_step(
    plan: &NetworkPlan,
    weights: &mut [LayerWeights],
    grads: &Grads,
    lr: f64,
    weight_decay: f64,
) {
    let lr = lr as f32;
    let wd = weight_decay as f32;
    for ((layer, w), (gm, gs)) in plan
        .layers
        .iter()
        .zip(weights.iter_mut())
        .zip(&grads.layers)
    {
        let main = &mut w.main;
        for_each_untransposed(&layer.synapses, gm, |p, g| {
            main[p] -= lr * (g + wd * main[p])
        });
        if let Some(sc) = layer.shortcut {
            let short = &mut w.shortcut;
            for_each_untransposed(&sc.synapses, gs, |p, g| {
                short[p] -= lr * (g + wd * short[p])
            });
        }
    }
}
