//! Fixed-point arithmetic worked by hand on a toy: 2 input pixels → fc1 (2 LIF neurons) →
//! readout (2 neurons), on a chip with 4-bit weights and 5-bit membranes (|v| ≤ 15).
//!
//! Pixel 0 is 1.0 (input scale 1: a spike at every step), pixel 1 is 0 (never).
//!
//! fc1 weights from pixel 0: (0.7, −0.3), from pixel 1: (0.2, 0.1). Step s = max|w| / 7 = 0.1,
//! so the integer weights are (7, −3) (and (2, 1), never used); threshold round(1.0 / 0.1) = 10;
//! leak round(0.99 · 2^15) = 32440 (Q15); an update is u = clamp(v + i, ±15), fire iff u > 10
//! (then v = 0), else v = (u · 32440) >> 15 (floor).
//!
//! * fc1 neuron 0: u = 7 → v = 6; u = 13 fires; … so it fires at steps 1, 3, 5 (0-based) of T = 6.
//! * fc1 neuron 1: v = −3, −6, −9, −12, −15, then u = −18 saturates to −15: never fires.
//!
//! Readout weights from fc1 neuron 0: (0.75, −0.25), from neuron 1: (0, 0.5): step 0.75 / 7,
//! integers (7, −2) and (0, 5). The readout leaks like fc1 and saturates at ±15:
//!
//! * out 0: steps 1..5 give u = 7 → 6, 6 → 5, 12 → 11, 11 → 10, then 17 saturates to 15 →
//!   (15 · 32440) >> 15 = 14 (without saturation it would be 16);
//! * out 1: u = −2 → −2, −2 → −2, −4 → −4, −4 → −4, −6 → −6 (floor of −5.94).
//!
//! Outputs are v · step / T.

mod common;

use common::*;
use snn_core::Model;
use snn_data::dataset::{Dataset, DatasetKind, Split};
use snn_sim::engine::Mode;

const T: u32 = 6;

fn toy_model() -> Model {
    two_neuron_toy("fixed-toy", [0.7, -0.3, 0.2, 0.1], [0.75, -0.25, 0.0, 0.5])
}

#[test]
fn fixed_point_toy_matches_the_hand_computation() {
    let model = toy_model();
    assert_eq!(model.spec.neuron.threshold, 1.0);
    assert_eq!(model.spec.neuron.leak, 0.99);
    let chip = chip(&ChipSpec {
        neurons: 2,
        weight_bits: 4,
        state_bits: 5,
        ..ChipSpec::default()
    });
    let mapping = map(&model, &chip, 1);
    let data = Dataset {
        kind: DatasetKind::Mnist,
        split: Split::Test,
        channels: 1,
        rows: 1,
        cols: 2,
        images: vec![1.0, 0.0],
        labels: vec![0],
    };
    let o = sim(&model, &mapping, &data, 1, T, 1, 1, Mode::Fixed);
    assert_eq!(o.run.input_spikes, T as u64, "pixel 0 at every step");
    let spikes: Vec<u64> = o.layers.iter().map(|l| l.activity.spikes).collect();
    assert_eq!(
        spikes,
        vec![3, 0],
        "fc1 fires 3 times (neuron 0), the readout never"
    );
    let step = 0.75f32 / 7.0;
    let want = vec![14.0 * step / T as f32, -6.0 * step / T as f32];
    assert_eq!(o.run.outputs, vec![want]);
    assert_eq!(o.predictions, vec![0]);
    // Synaptic ops: fc1 2 per input spike, the readout 2 per fc1 spike.
    let synops: Vec<u64> = o.layers.iter().map(|l| l.activity.synaptic_ops).collect();
    assert_eq!(synops, vec![2 * T as u64, 2 * 3]);
}
