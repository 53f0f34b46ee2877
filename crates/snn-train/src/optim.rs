//! Plain SGD with L2 weight decay, no momentum (paper-method §5.5):
//! `W ← W − lr·(∂W + wd·W)`.

use crate::grad::Grads;
use crate::params::update_from_transposed;
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
        let step = |w: &mut f32, g: f32| *w -= lr * (g + wd * *w);
        update_from_transposed(&layer.synapses, &mut w.main, gm, step);
        if let Some(sc) = layer.shortcut {
            update_from_transposed(&sc.synapses, &mut w.shortcut, gs, step);
        }
    }
}
