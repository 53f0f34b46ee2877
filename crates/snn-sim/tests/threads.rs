//! Results never depend on the number of worker threads or on message arrival order (SPEC §7):
//! 1, 2 and 4 workers give identical predictions, readout values, per-core counters, modeled
//! times and energies, in float and fixed mode; fixed mode repeats exactly run after run.

mod common;

use common::*;
use snn_core::Model;
use snn_map::mapping::Mapping;
use snn_sim::engine::{Mode, Workers};

/// conv (split into channel blocks on 6-neuron cores) → pool → residual block with a 1×1-conv
/// shortcut → linear → readout, with random weights that make every layer fire.
const NET: &str = r#"
name = "threads"
input = { channels = 1, height = 28, width = 28 }
[[layer]]
type = "conv"
out_channels = 8
kernel = 7
stride = 5
padding = 2
[[layer]]
type = "pool"
[[layer]]
type = "residual"
out_channels = 10
[[layer]]
type = "linear"
out_features = 16
[[layer]]
type = "readout"
out_features = 10
"#;

const SEED: u64 = 4;
const T: u32 = 8;
const SAMPLES: usize = 10;

fn setup() -> (Model, Mapping) {
    let model = random_model(spec(NET), 21, 0.5, 0.1);
    let mapping = map(
        &model,
        &chip(&ChipSpec {
            neurons: 6,
            width: 16,
            ..ChipSpec::default()
        }),
        2,
    );
    assert!(has_channel_split(&mapping));
    assert!(
        mapping.cores.len() >= 16,
        "only {} cores",
        mapping.cores.len()
    );
    (model, mapping)
}

fn check_invariance(mode: Mode) {
    let (model, mapping) = setup();
    let data = mnist_test(SAMPLES);
    let one = sim(&model, &mapping, &data, SEED, T, SAMPLES, 1, mode);
    for l in &one.layers[..one.layers.len() - 1] {
        assert!(
            l.activity.spikes > 0,
            "{mode:?}: layer {} silent",
            l.activity.name
        );
    }
    for threads in [2, 4] {
        let many = sim(&model, &mapping, &data, SEED, T, SAMPLES, threads, mode);
        assert_same_outcome(&one, &many, &format!("{mode:?}, 1 vs {threads} threads"));
    }
}

#[test]
fn float_results_do_not_depend_on_thread_count() {
    check_invariance(Mode::Float);
}

#[test]
fn fixed_results_do_not_depend_on_thread_count() {
    check_invariance(Mode::Fixed);
    // The runs compared above really were in the chip's integers: their readout values are
    // not float mode's (which `fixed_toy.rs` and `agreement.rs` check exactly).
    let (model, mapping) = setup();
    let data = mnist_test(SAMPLES);
    let fixed = sim(&model, &mapping, &data, SEED, T, SAMPLES, 2, Mode::Fixed);
    let float = sim(&model, &mapping, &data, SEED, T, SAMPLES, 2, Mode::Float);
    assert_ne!(
        fixed.run.outputs, float.run.outputs,
        "fixed mode ran in float"
    );
}

#[test]
fn chip_replicas_change_nothing_at_all() {
    // Copies of the chip sharing the samples give every result of one chip, the modeled chip
    // time and per-core busy times included (the steps where copies meet are merged).
    let (model, mapping) = setup();
    let data = mnist_test(SAMPLES);
    let ev = eval(&model, &data, SEED, T, SAMPLES);
    for mode in [Mode::Float, Mode::Fixed] {
        let one = sim(&model, &mapping, &data, SEED, T, SAMPLES, 1, mode);
        for (threads, replicas) in [(2, 2), (3, 3), (4, 2), (4, 4)] {
            let what = format!("{mode:?}, {replicas} replicas on {threads} threads");
            let w = Workers { threads, replicas };
            let r = sim(&model, &mapping, &data, SEED, T, SAMPLES, w, mode);
            if mode == Mode::Float {
                assert_matches_eval(&r, &ev, &what);
            }
            assert_same_outcome(&one, &r, &what);
        }
    }
}

#[test]
fn replicas_shorter_than_the_pipeline_still_add_up() {
    // T = 1 and one sample per replica: every step of every copy overlaps its neighbours'.
    let (model, mapping) = setup();
    let data = mnist_test(4);
    let one = sim(&model, &mapping, &data, SEED, 1, 4, 1, Mode::Float);
    let w = Workers {
        threads: 4,
        replicas: 4,
    };
    let r = sim(&model, &mapping, &data, SEED, 1, 4, w, Mode::Float);
    assert_same_outcome(&one, &r, "T=1, 4 replicas of 1 sample");
}

#[test]
fn fixed_mode_repeats_exactly() {
    let (model, mapping) = setup();
    let data = mnist_test(SAMPLES);
    let a = sim(&model, &mapping, &data, SEED, T, SAMPLES, 3, Mode::Fixed);
    for _ in 0..3 {
        let b = sim(&model, &mapping, &data, SEED, T, SAMPLES, 3, Mode::Fixed);
        assert_same_outcome(&a, &b, "fixed, repeated run");
    }
}

#[test]
fn float_mode_at_every_thread_count_equals_the_trainers_evaluation() {
    let (model, mapping) = setup();
    let data = mnist_test(SAMPLES);
    let ev = eval(&model, &data, SEED, T, SAMPLES);
    for threads in [1, 2, 4] {
        let o = sim(
            &model,
            &mapping,
            &data,
            SEED,
            T,
            SAMPLES,
            threads,
            Mode::Float,
        );
        assert_matches_eval(&o, &ev, &format!("{threads} threads"));
    }
}

#[test]
fn fixed_mode_at_8_bits_stays_close_to_float() {
    // Not a bit-exact property: quantization may flip a few decisions, but counts stay the same
    // order of magnitude and every sample gets a prediction.
    let (model, mapping) = setup();
    let data = mnist_test(SAMPLES);
    let f = sim(&model, &mapping, &data, SEED, T, SAMPLES, 2, Mode::Float);
    let q = sim(&model, &mapping, &data, SEED, T, SAMPLES, 2, Mode::Fixed);
    assert_eq!(q.predictions.len(), SAMPLES);
    assert_eq!(
        q.run.input_spikes, f.run.input_spikes,
        "input spikes are mode-free"
    );
    // The first layer sees the same input spikes through 8-bit weights.
    let (sf, sq) = (
        f.layers[0].activity.spikes as f64,
        q.layers[0].activity.spikes as f64,
    );
    assert!(
        (sf - sq).abs() <= 0.1 * sf,
        "conv1 spikes: float {sf}, fixed {sq}"
    );
}
