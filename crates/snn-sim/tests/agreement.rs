//! Float mode equals the trainer's evaluation exactly (SPEC §7): the same predictions, input
//! spikes, and per-layer spike and synaptic-operation counts, for briefly trained models mapped
//! on Loihi and on a tiny chip that cuts every layer into many cores and channel blocks, and for
//! residual networks (identity and 1×1-conv shortcuts, a shortcut from the input).

mod common;

use common::*;
use snn_core::Model;
use snn_map::mapping::Mapping;
use snn_sim::engine::Mode;
use std::sync::OnceLock;

/// A small conv net whose 16 conv channels exceed the tiny chip's 12 neurons per core.
const TINY: &str = r#"
name = "tiny"
input = { channels = 1, height = 28, width = 28 }
[[layer]]
type = "conv"
out_channels = 16
kernel = 7
stride = 7
[[layer]]
type = "pool"
[[layer]]
type = "linear"
out_features = 20
[[layer]]
type = "readout"
out_features = 10
"#;

/// conv → residual block with an identity shortcut → residual block with a strided 1×1-conv
/// shortcut (6 channels, split on a 4-neuron core) → readout.
const RESIDUAL: &str = r#"
name = "resid"
input = { channels = 1, height = 28, width = 28 }
[[layer]]
type = "conv"
out_channels = 4
kernel = 7
stride = 7
[[layer]]
type = "residual"
out_channels = 4
[[layer]]
type = "residual"
out_channels = 6
stride = 2
[[layer]]
type = "readout"
out_features = 10
"#;

/// A residual block first, so its (strided identity) shortcut reads the input spikes.
const INPUT_SHORTCUT: &str = r#"
name = "inshort"
input = { channels = 1, height = 28, width = 28 }
[[layer]]
type = "residual"
out_channels = 1
stride = 2
[[layer]]
type = "pool"
[[layer]]
type = "readout"
out_features = 10
"#;

const SEED: u64 = 11;
const T: u32 = 6;

fn tiny_model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| train_briefly(TINY, 640, 5))
}

/// A chip with `neurons` neurons per core (4 cores per tile on an 8×8 mesh).
fn small_core_chip(neurons: u64) -> snn_map::chip::ChipModel {
    chip(&ChipSpec {
        neurons,
        ..ChipSpec::default()
    })
}

/// Every spiking layer of the reference evaluation emitted spikes.
fn assert_all_layers_spike(model: &Model, ev: &snn_train::eval::Evaluation) {
    let plan = snn_core::NetworkPlan::new(&model.spec).unwrap();
    for (l, layer) in plan.layers.iter().enumerate() {
        if layer.spikes() {
            assert!(
                ev.stats.layer_spikes[l] > 0,
                "layer {} never spiked: {:?}",
                layer.name,
                ev.stats.layer_spikes
            );
        }
    }
}

fn check(model: &Model, mapping: &Mapping, samples: usize, threads: usize, what: &str) {
    check_at(model, mapping, T, samples, threads, what)
}

/// [`check`] at `t` time steps.
fn check_at(model: &Model, mapping: &Mapping, t: u32, samples: usize, threads: usize, what: &str) {
    let data = mnist_test(samples);
    let ev = eval(model, &data, SEED, t, samples);
    assert_all_layers_spike(model, &ev);
    let o = sim(
        model,
        mapping,
        &data,
        SEED,
        t,
        samples,
        threads,
        Mode::Float,
    );
    assert_matches_eval(&o, &ev, what);
}

#[test]
fn briefly_trained_lenet_on_loihi_matches_the_trainers_evaluation() {
    // Deep layers of a barely trained LeNet need a few more steps before they first fire.
    let model = train_briefly("lenet", 512, 3);
    let mapping = map(&model, &loihi(), 1);
    check_at(&model, &mapping, 24, 12, 2, "lenet on loihi");
}

#[test]
fn tiny_net_on_loihi_matches_the_trainers_evaluation() {
    let model = tiny_model();
    let mapping = map(model, &loihi(), 1);
    check_at(model, &mapping, 16, 24, 2, "tiny on loihi");
}

#[test]
fn tiny_net_cut_into_many_cores_and_channel_blocks_matches_the_trainers_evaluation() {
    let model = tiny_model();
    let mapping = map(model, &small_core_chip(12), 1);
    assert!(
        mapping.cores.len() >= 40,
        "expected many cores, got {}",
        mapping.cores.len()
    );
    assert!(has_channel_split(&mapping), "no layer was channel-split");
    assert!(cores_of_layer(&mapping, 0) > 1 && cores_of_layer(&mapping, 2) > 1);
    check_at(model, &mapping, 16, 24, 3, "tiny on 12-neuron cores");
}

#[test]
fn residual_blocks_with_random_weights_match_the_trainers_evaluation() {
    let model = random_model(spec(RESIDUAL), 7, 0.6, 0.12);
    let plan = snn_core::NetworkPlan::new(&model.spec).unwrap();
    assert!(plan.layers.iter().filter(|l| l.shortcut.is_some()).count() == 2);
    let on_loihi = map(&model, &loihi(), 1);
    check(&model, &on_loihi, 16, 2, "residual on loihi");
    let split = map(&model, &small_core_chip(4), 1);
    assert!(has_channel_split(&split), "no layer was channel-split");
    assert!(split.cores.len() >= 40, "{} cores", split.cores.len());
    check(&model, &split, 16, 4, "residual on 4-neuron cores");
}

#[test]
fn shortcut_from_the_input_matches_the_trainers_evaluation() {
    let model = random_model(spec(INPUT_SHORTCUT), 9, 0.6, 0.15);
    let on_loihi = map(&model, &loihi(), 1);
    check(&model, &on_loihi, 12, 2, "input shortcut on loihi");
    let many = map(&model, &small_core_chip(64), 1);
    assert!(many.cores.len() > 10, "{} cores", many.cores.len());
    check(&model, &many, 12, 3, "input shortcut on 64-neuron cores");
}
