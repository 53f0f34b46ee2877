//! Float mode equals the trainer's evaluation exactly (SPEC §7): the same predictions, input
//! spikes, and per-layer spike and synaptic-operation counts, for briefly trained models mapped
//! on Loihi and on a tiny chip that cuts every layer into many cores and channel blocks, and for
//! residual networks (identity and 1×1-conv shortcuts, a shortcut from the input).

mod common;

use common::*;
use snn_core::Model;
use snn_map::mapping::Mapping;
use snn_sim::engine::Mode;
use snn_sim::simulation::Engine;
use std::sync::OnceLock;

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
        mapping.cores.len() >= 24,
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

/// Images with pixels in [-1, 1], so the input carries −1 spikes as well (SPEC §3: value sign(x)).
fn signed_images(n: usize, seed: u64) -> snn_data::dataset::Dataset {
    let mut r = Lcg(seed);
    let mut d = mnist_test(n);
    for x in &mut d.images {
        *x = (*x * 2.0 - 1.0) * (r.uniform() as f32);
    }
    d
}

#[test]
fn signed_input_spikes_match_the_trainers_evaluation() {
    let data = signed_images(10, 3);
    for (text, on) in [(INPUT_SHORTCUT, 64), (RESIDUAL, 4)] {
        let model = random_model(spec(text), 5, 0.6, 0.12);
        let mapping = map(&model, &small_core_chip(on), 1);
        let ev = eval(&model, &data, SEED, T, 10);
        assert_all_layers_spike(&model, &ev);
        for threads in [1, 3] {
            let o = sim(&model, &mapping, &data, SEED, T, 10, threads, Mode::Float);
            assert_matches_eval(&o, &ev, &format!("{} signed input", model.spec.name));
        }
    }
}

#[test]
fn fewer_steps_than_layers_still_match_the_trainers_evaluation() {
    // Six plan layers in the pipeline while a sample lasts 1 or 2 steps: several samples are in
    // flight at once.
    let model = random_model(spec(RESIDUAL), 7, 0.6, 0.12);
    let mapping = map(&model, &small_core_chip(4), 1);
    let data = mnist_test(9);
    for t in [1, 2, 3] {
        let ev = eval(&model, &data, SEED, t, 9);
        let o = sim(&model, &mapping, &data, SEED, t, 9, 2, Mode::Float);
        assert_matches_eval(&o, &ev, &format!("T={t}"));
        assert_eq!(o.run.chip_steps, 9 * t as u64 + 6 - 1);
    }
}

#[test]
fn more_threads_than_cores_and_more_samples_than_images_are_harmless() {
    let model = random_model(spec(INPUT_SHORTCUT), 9, 0.6, 0.15);
    let mapping = map(&model, &loihi(), 1);
    assert!(mapping.cores.len() < 8);
    let data = mnist_test(5);
    let ev = eval(&model, &data, SEED, T, 5);
    let o = sim(&model, &mapping, &data, SEED, T, 50, 8, Mode::Float);
    assert_matches_eval(&o, &ev, "8 threads, 50 samples asked of 5");
}

#[test]
fn fixed_mode_with_wide_words_tracks_float() {
    // 16-bit weights and 32-bit membranes leave quantization error far below one spike's worth,
    // so fixed-point spike counts stay within a few percent of float in every layer.
    let wide = |neurons| {
        chip(&ChipSpec {
            neurons,
            weight_bits: 16,
            state_bits: 32,
            ..ChipSpec::default()
        })
    };
    let data = mnist_test(12);
    for (model, on) in [
        (tiny_model().clone(), 12),
        (random_model(spec(RESIDUAL), 7, 0.6, 0.12), 4),
        (random_model(spec(INPUT_SHORTCUT), 9, 0.6, 0.15), 12),
    ] {
        let mapping = map(&model, &wide(on), 1);
        let f = sim(&model, &mapping, &data, SEED, 16, 12, 2, Mode::Float);
        let q = sim(&model, &mapping, &data, SEED, 16, 12, 2, Mode::Fixed);
        for (lf, lq) in f.layers.iter().zip(&q.layers) {
            let (a, b) = (lf.activity.spikes as f64, lq.activity.spikes as f64);
            assert!(
                (a - b).abs() <= 0.03 * a.max(b) + 2.0,
                "{} {}: float {a} spikes, fixed {b}",
                model.spec.name,
                lf.activity.name
            );
        }
    }
}

#[test]
fn fixed_mode_keeps_the_identity_shortcut_at_weight_one() {
    // res1b's own weights are all 0.02, so its membrane is driven by the identity shortcut from
    // the input (+1 per input spike). Whatever the layer's weight scale, the identity must still
    // add 1.0 in fixed point: 16-bit weights represent 1.0 and 0.02 both well.
    let mut model = random_model(spec(INPUT_SHORTCUT), 9, 0.6, 0.15);
    let plan = snn_core::NetworkPlan::new(&model.spec).unwrap();
    assert_eq!(plan.layers[1].name, "res1b");
    assert!(matches!(
        plan.layers[1].shortcut.map(|s| s.synapses),
        Some(snn_core::plan::Synapses::Subsample { .. })
    ));
    for w in &mut model.weights[1].main {
        *w = 0.02;
    }
    let mapping = map(
        &model,
        &chip(&ChipSpec {
            weight_bits: 16,
            state_bits: 32,
            ..ChipSpec::default()
        }),
        1,
    );
    let data = mnist_test(8);
    let f = sim(&model, &mapping, &data, SEED, 12, 8, 2, Mode::Float);
    let q = sim(&model, &mapping, &data, SEED, 12, 8, 2, Mode::Fixed);
    let (a, b) = (
        f.layers[1].activity.spikes as f64,
        q.layers[1].activity.spikes as f64,
    );
    assert!(a > 100.0, "res1b float spikes {a}");
    assert!(
        (a - b).abs() <= 0.03 * a,
        "res1b: float {a} spikes, fixed {b}"
    );
}

#[test]
fn the_simulators_activity_profile_equals_the_trainers() {
    // Per-neuron spike counts (and input spikes per pixel) measured on the chip, on many small
    // cores, equal those of `snn-train eval --profile-out`.
    let model = tiny_model();
    let mapping = map(model, &small_core_chip(12), 1);
    let data = mnist_test(12);
    let net = snn_core::runtime::CompiledNet::new(&model.spec).unwrap();
    let enc = snn_data::encode::RateEncoder::new(SEED, model.spec.input_scale);
    let (_, want) = snn_train::eval::evaluate_with_profile(
        &net,
        &model.weights,
        &data,
        &enc,
        T as usize,
        12,
        &model.spec.name,
        "test",
    );
    // One chip on two workers, and chip copies sharing the samples: the same profile; and the
    // layer engine's.
    for (workers, engine) in [
        ((2, 1), Engine::Event),
        ((2, 2), Engine::Event),
        ((3, 3), Engine::Event),
        ((2, 1), Engine::Layer),
    ] {
        let (threads, replicas) = workers;
        let (_, got) =
            snn_sim::simulation::simulate_with_profile(&snn_sim::simulation::SimRequest {
                model,
                mapping: &mapping,
                ann_chip: &generic_45nm(),
                data: &data,
                seed: SEED,
                timesteps: T,
                samples: 12,
                workers: snn_sim::engine::Workers { threads, replicas },
                mode: Mode::Float,
                engine,
            })
            .unwrap();
        assert_eq!((got.samples, got.timesteps), (want.samples, want.timesteps));
        assert_eq!(got.input, want.input, "input spikes per pixel, {workers:?}");
        for (g, w) in got.layers.iter().zip(&want.layers) {
            assert_eq!(g.name, w.name);
            assert_eq!(
                g.spikes, w.spikes,
                "spikes per neuron of {}, {workers:?}",
                g.name
            );
        }
        assert!(got.layers.iter().any(|l| l.spikes.iter().any(|&s| s > 0)));
    }
}
