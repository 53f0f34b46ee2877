//! Weights as the cores hold them: the model's floats, and their fixed-point form in the chip's
//! bit widths. Fixed point: each layer has one step size `s_l = max|w| / (2^(b-1) - 1)` shared by
//! its main and shortcut synapses (both add into one membrane), weights are `round(w / s_l)`,
//! the firing threshold is `round(θ / s_l)`, a pooling spike adds 1 with step `0.25`, the leak
//! is a Q15 multiplier, and membranes saturate at the chip's state bits.

use snn_core::model_file::LayerWeights;
use snn_core::plan::{LayerKind, Synapses};
use snn_core::spec::NeuronParams;
use snn_core::synapse::ConvGeometry;
use snn_map::network::NetGraph;

/// Fixed-point parameters and weights.
#[derive(Clone, Debug)]
pub struct FixedPoint {
    /// Weight bits (from the chip).
    pub weight_bits: u32,
    /// Membrane bits (from the chip).
    pub state_bits: u32,
    /// Step size of each layer's membrane, in the float units of the model.
    pub scale: Vec<f32>,
    /// Integer weights per edge (same layout as the float ones; empty without weights).
    pub weights: Vec<Vec<i32>>,
    /// Integer increment per spike for weightless edges (pooling, identity shortcut).
    pub unit: Vec<i32>,
    /// Firing threshold per layer in integer units.
    pub threshold: Vec<i64>,
    /// Leak as a Q15 multiplier (LIF and readout); pooling neurons do not leak.
    pub leak_q15: i64,
    /// Largest membrane magnitude.
    pub vmax: i64,
}

/// Float and fixed-point weights of every edge.
#[derive(Clone, Debug)]
pub struct Weights {
    /// Float weights per edge: conv weights in the prepared scatter layout of
    /// [`snn_core::synapse::ConvGeometry::prepare`], others canonical.
    pub float: Vec<Vec<f32>>,
    /// Fixed point, when simulating in chip arithmetic.
    pub fixed: Option<FixedPoint>,
    /// Neuron parameters.
    pub neuron: NeuronParams,
}

impl Weights {
    /// Collects the weights of every edge of `net` from the model's layers; with
    /// `bits = Some((weight_bits, state_bits))` also quantizes them.
    pub fn new(
        net: &NetGraph,
        layers: &[LayerWeights],
        neuron: NeuronParams,
        bits: Option<(u32, u32)>,
    ) -> Self {
        let float: Vec<Vec<f32>> = net
            .edges
            .iter()
            .map(|e| {
                let w = &layers[e.target];
                let w = if e.shortcut { &w.shortcut } else { &w.main };
                match e.synapses {
                    Synapses::Conv { .. } => {
                        let mut out = Vec::new();
                        ConvGeometry::new(&e.synapses).prepare(w, &mut out);
                        out
                    }
                    _ => w.clone(),
                }
            })
            .collect();
        let fixed = bits.map(|(wb, sb)| {
            let qmax = ((1i64 << (wb.min(31) - 1)) - 1).max(1) as f32;
            let scale: Vec<f32> = (0..net.layers())
                .map(|l| {
                    let kind = net.plan.layers[l].kind;
                    if kind == LayerKind::Pool {
                        return 0.25;
                    }
                    let m = net
                        .edges
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| e.target == l)
                        .flat_map(|(i, _)| float[i].iter())
                        .fold(0.0f32, |a, &w| a.max(w.abs()));
                    // An identity shortcut adds weight 1: the step must represent it.
                    let identity = net
                        .edges
                        .iter()
                        .any(|e| e.target == l && matches!(e.synapses, Synapses::Subsample { .. }));
                    let m = if identity { m.max(1.0) } else { m };
                    if m > 0.0 {
                        m / qmax
                    } else {
                        1.0
                    }
                })
                .collect();
            let weights = net
                .edges
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let s = scale[e.target];
                    float[i]
                        .iter()
                        .map(|&w| (w / s).round().clamp(-qmax, qmax) as i32)
                        .collect()
                })
                .collect();
            let unit = net
                .edges
                .iter()
                .map(|e| match e.synapses {
                    Synapses::AvgPool2 { .. } => 1,
                    Synapses::Subsample { .. } => {
                        (1.0 / scale[e.target]).round().clamp(-qmax, qmax) as i32
                    }
                    _ => 0,
                })
                .collect();
            let threshold = (0..net.layers())
                .map(|l| {
                    let th = if net.plan.layers[l].kind == LayerKind::Pool {
                        neuron.pool_threshold
                    } else {
                        neuron.threshold
                    };
                    (th / scale[l]).round() as i64
                })
                .collect();
            FixedPoint {
                weight_bits: wb,
                state_bits: sb,
                scale,
                weights,
                unit,
                threshold,
                leak_q15: (neuron.leak as f64 * 32768.0).round() as i64,
                vmax: (1i64 << (sb.clamp(2, 63) - 1)) - 1,
            }
        });
        Weights {
            float,
            fixed,
            neuron,
        }
    }
}
