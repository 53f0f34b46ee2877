//! Shared helpers of the simulator's tests: MNIST, hand-written chips, briefly trained models,
//! mapping, and the trainer's evaluation as the independent reference for float mode.

#![allow(dead_code)]

use snn_core::model_file::LayerWeights;
use snn_core::runtime::CompiledNet;
use snn_core::{Model, NetworkPlan, NetworkSpec};
use snn_data::dataset::{Dataset, DatasetKind, Split};
use snn_data::encode::RateEncoder;
use snn_data::load;
use snn_map::chip::ChipModel;
use snn_map::mapping::Mapping;
use snn_map::pipeline::{map_model, MapRequest};
use snn_sim::engine::{Mode, Workers};
use snn_sim::simulation::{simulate, Engine, SimOutcome, SimRequest, GENERIC_45NM};
use snn_train::eval::{evaluate, Evaluation};
use snn_train::train::{train, ResumeOverrides, RunOptions};
use snn_train::TrainConfig;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The MNIST data directory ($SNN_DATA_DIR or the workspace's data/), fetched if missing.
pub fn mnist_dir() -> PathBuf {
    let dir = std::env::var_os("SNN_DATA_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data"));
    snn_data::fetch::fetch(DatasetKind::Mnist, &dir).expect("MNIST available or fetchable");
    dir
}

/// The first `n` MNIST test images.
pub fn mnist_test(n: usize) -> Dataset {
    let mut d = load(DatasetKind::Mnist, &mnist_dir(), Split::Test).expect("MNIST test set");
    d.truncate(n);
    d
}

/// The shipped Loihi chip model.
pub fn loihi() -> ChipModel {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hardware-models/loihi.toml");
    ChipModel::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

/// The built-in 45 nm reference chip (ANN baseline).
pub fn generic_45nm() -> ChipModel {
    ChipModel::from_toml_str(GENERIC_45NM, Path::new("generic-45nm.toml")).expect("built-in chip")
}

/// Limits, mesh and constants of a hand-written chip.
#[derive(Clone, Copy, Debug)]
pub struct ChipSpec {
    pub neurons: u64,
    pub fan_in: u64,
    pub fan_out: u64,
    pub memory_bits: u64,
    pub weight_bits: u64,
    pub state_bits: u64,
    pub width: u32,
    pub height: u32,
    pub cores_per_tile: u32,
    /// synop, neuron active, neuron idle, spike local, hop x, hop y (pJ), static (mW per core).
    pub energy: [f64; 7],
    /// synop, neuron active, neuron idle, spike local, hop x, hop y, barrier (ns).
    pub latency: [f64; 7],
    /// One packet on one mesh link (ns).
    pub link_ns: f64,
}

impl Default for ChipSpec {
    fn default() -> Self {
        ChipSpec {
            neurons: 1024,
            fan_in: 1 << 16,
            fan_out: 4096,
            memory_bits: 1 << 30,
            weight_bits: 8,
            state_bits: 24,
            width: 8,
            height: 8,
            cores_per_tile: 4,
            energy: [1.0; 7],
            latency: [1.0; 7],
            link_ns: 1.0,
        }
    }
}

/// A hand-made chip: the shipped Loihi model with every limit and constant replaced.
pub fn chip(s: &ChipSpec) -> ChipModel {
    let mut m = loihi();
    m.name = "testchip".into();
    m.mesh.width.value = s.width;
    m.mesh.height.value = s.height;
    m.mesh.cores_per_tile.value = s.cores_per_tile;
    let c = &mut m.core;
    c.max_neurons.value = s.neurons as u32;
    c.max_fan_in.value = s.fan_in as u32;
    c.max_fan_out.value = s.fan_out as u32;
    c.synaptic_memory_bits.value = s.memory_bits;
    c.weight_bits.value = s.weight_bits as u32;
    c.state_bits.value = s.state_bits as u32;
    c.shared_conv_weights.value = false;
    let e = &mut m.energy;
    for (k, v) in [
        &mut e.synop_pj,
        &mut e.neuron_active_pj,
        &mut e.neuron_idle_pj,
        &mut e.spike_local_pj,
        &mut e.hop_x_pj,
        &mut e.hop_y_pj,
        &mut e.static_mw_per_core,
    ]
    .into_iter()
    .zip(s.energy)
    {
        k.value = v;
    }
    let t = &mut m.latency;
    for (k, v) in [
        &mut t.synop_ns,
        &mut t.neuron_active_ns,
        &mut t.neuron_idle_ns,
        &mut t.spike_local_ns,
        &mut t.hop_x_ns,
        &mut t.hop_y_ns,
        &mut t.barrier_ns,
    ]
    .into_iter()
    .zip(s.latency)
    {
        k.value = v;
    }
    t.link_packet_ns
        .as_mut()
        .expect("the Loihi model has a link time")
        .value = s.link_ns;
    m.validate().unwrap_or_else(|e| panic!("{e:?}"));
    m
}

/// A network spec from TOML text.
pub fn spec(text: &str) -> NetworkSpec {
    NetworkSpec::from_toml_str(text, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// Trains `arch` (preset name or network TOML text) for one short epoch on a few hundred MNIST
/// images and returns the best model. Seconds, not minutes: T = 4, small batches.
pub fn train_briefly(arch: &str, train_limit: usize, seed: u64) -> Model {
    let tmp = tempfile::tempdir().expect("temp dir");
    let arch = if arch.contains("[[layer]]") {
        let p = tmp.path().join("net.toml");
        std::fs::write(&p, arch).expect("write network toml");
        p.display().to_string()
    } else {
        arch.to_string()
    };
    let config = TrainConfig {
        epochs: 1,
        timesteps: 4,
        batch_size: 16,
        train_limit,
        test_limit: 16,
        val_split: 0,
        seed,
        ..TrainConfig::preset(&arch)
    };
    let opts = RunOptions {
        out: tmp.path().join("run"),
        data_dir: mnist_dir(),
        threads: 2,
        progress: false,
        interrupt: Arc::new(AtomicBool::new(false)),
        stop_after_batches: None,
        world: std::sync::Arc::new(snn_mpi::World::single()),
    };
    train(Some(config), &opts, ResumeOverrides::default()).unwrap_or_else(|e| panic!("{e}"));
    Model::load(&tmp.path().join("run/model.snn")).unwrap_or_else(|e| panic!("{e}"))
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

/// A model of `spec` with weights uniform in `[-a, a] + bias` (main and shortcut synapses).
pub fn random_model(spec: NetworkSpec, seed: u64, a: f64, bias: f64) -> Model {
    let plan = NetworkPlan::new(&spec).unwrap_or_else(|e| panic!("{e}"));
    let mut r = Lcg(seed);
    let mut draw = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| ((r.uniform() * 2.0 - 1.0) * a + bias) as f32)
            .collect()
    };
    let weights = plan
        .layers
        .iter()
        .map(|l| LayerWeights {
            layer: l.name.clone(),
            main: draw(l.synapses.weight_count()),
            shortcut: draw(l.shortcut.map_or(0, |s| s.synapses.weight_count())),
        })
        .collect();
    let m = Model {
        spec,
        weights,
        meta: Default::default(),
        training: None,
    };
    m.check().unwrap_or_else(|e| panic!("{e}"));
    m
}

/// Maps `model` on `chip` (one chip, uniform activity).
pub fn map(model: &Model, chip: &ChipModel, seed: u64) -> Mapping {
    map_on(model, chip, 1, seed)
}

/// Maps `model` on `chips` joined copies of `chip` (uniform activity).
pub fn map_on(model: &Model, chip: &ChipModel, chips: u32, seed: u64) -> Mapping {
    map_model(&MapRequest {
        model,
        chip,
        chip_path: "test/chip.toml".into(),
        chips,
        activity: None,
        seed,
        atoms_per_core: snn_map::atoms::DEFAULT_ATOMS_PER_CORE,
    })
    .unwrap_or_else(|e| panic!("{e}"))
    .mapping
}

/// The trainer's evaluation of the first `samples` images (the reference of float mode).
pub fn eval(
    model: &Model,
    data: &Dataset,
    seed: u64,
    timesteps: u32,
    samples: usize,
) -> Evaluation {
    let net = CompiledNet::new(&model.spec).unwrap_or_else(|e| panic!("{e}"));
    let enc = RateEncoder::new(seed, model.spec.input_scale);
    evaluate(
        &net,
        &model.weights,
        data,
        &enc,
        timesteps as usize,
        samples,
    )
}

/// Runs the simulator; in float mode on both engines, asserting that they agree in every
/// counter, modeled time and energy ([`assert_same_outcome`]), and returns the event engine's.
#[allow(clippy::too_many_arguments)]
pub fn sim(
    model: &Model,
    mapping: &Mapping,
    data: &Dataset,
    seed: u64,
    timesteps: u32,
    samples: usize,
    workers: impl Into<Workers>,
    mode: Mode,
) -> SimOutcome {
    let workers = workers.into();
    let event = sim_on(
        model,
        mapping,
        data,
        seed,
        timesteps,
        samples,
        workers,
        mode,
        Engine::Event,
    );
    if mode == Mode::Float {
        let layer = sim_on(
            model,
            mapping,
            data,
            seed,
            timesteps,
            samples,
            workers,
            mode,
            Engine::Layer,
        );
        assert_same_outcome(&layer, &event, "layer engine vs event engine");
    }
    event
}

/// Runs the simulator on one engine.
#[allow(clippy::too_many_arguments)]
pub fn sim_on(
    model: &Model,
    mapping: &Mapping,
    data: &Dataset,
    seed: u64,
    timesteps: u32,
    samples: usize,
    workers: impl Into<Workers>,
    mode: Mode,
    engine: Engine,
) -> SimOutcome {
    simulate(&SimRequest {
        model,
        mapping,
        ann_chip: &generic_45nm(),
        data,
        seed,
        timesteps,
        samples,
        workers: workers.into(),
        mode,
        engine,
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts that a float-mode simulation equals the trainer's evaluation exactly: predictions,
/// input spikes, spikes and synaptic operations of every layer.
pub fn assert_matches_eval(o: &SimOutcome, ev: &Evaluation, what: &str) {
    assert_eq!(o.samples, ev.samples, "{what}: samples");
    assert_eq!(o.predictions, ev.predictions, "{what}: predictions");
    assert_eq!(o.correct, ev.correct, "{what}: correct");
    assert_eq!(
        o.run.input_spikes, ev.stats.input_spikes,
        "{what}: input spikes"
    );
    let spikes: Vec<u64> = o.layers.iter().map(|l| l.activity.spikes).collect();
    assert_eq!(spikes, ev.stats.layer_spikes, "{what}: spikes per layer");
    let synops: Vec<u64> = o.layers.iter().map(|l| l.activity.synaptic_ops).collect();
    assert_eq!(
        synops, ev.stats.layer_synops,
        "{what}: synaptic ops per layer"
    );
}

/// Asserts two outcomes are identical in everything that must not depend on threads: predictions,
/// readout values (bit for bit), every per-core per-layer counter, input counts, modeled times
/// and energies.
pub fn assert_same_outcome(a: &SimOutcome, b: &SimOutcome, what: &str) {
    assert_eq!(a.predictions, b.predictions, "{what}: predictions");
    let bits = |o: &SimOutcome| -> Vec<Vec<u32>> {
        o.run
            .outputs
            .iter()
            .map(|v| v.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    assert_eq!(bits(a), bits(b), "{what}: readout outputs");
    assert_eq!(
        a.run.per_core_layer, b.run.per_core_layer,
        "{what}: per-core per-layer counters"
    );
    assert_eq!(a.total, b.total, "{what}: total counters");
    assert_eq!(
        a.run.input_spikes, b.run.input_spikes,
        "{what}: input spikes"
    );
    assert_eq!(
        a.run.input_packets, b.run.input_packets,
        "{what}: input packets"
    );
    assert_eq!(a.run.chip_steps, b.run.chip_steps, "{what}: chip steps");
    assert_eq!(
        a.run.chip_seconds.to_bits(),
        b.run.chip_seconds.to_bits(),
        "{what}: chip seconds"
    );
    assert_eq!(
        a.run.core_busy_seconds, b.run.core_busy_seconds,
        "{what}: core busy seconds"
    );
    assert_eq!(a.run.links, b.run.links, "{what}: link load");
    assert_eq!(a.links, b.links, "{what}: links");
    assert_eq!(a.energy, b.energy, "{what}: energy");
    assert_eq!(
        a.run.neuron_spikes, b.run.neuron_spikes,
        "{what}: spikes per neuron"
    );
}

/// True when some layer of the mapping is cut into several channel blocks.
pub fn has_channel_split(m: &Mapping) -> bool {
    m.atoms.tilings.iter().any(|t| t.grid[0] > 1)
}

/// Number of distinct cores holding atoms of layer `l`.
pub fn cores_of_layer(m: &Mapping, l: usize) -> usize {
    let mut cores: Vec<u32> = m
        .atoms
        .atoms
        .iter()
        .zip(&m.core_of_atom)
        .filter(|(a, _)| a.layer as usize == l)
        .map(|(_, &c)| c)
        .collect();
    cores.sort_unstable();
    cores.dedup();
    cores.len()
}

/// A small conv net whose 16 conv channels exceed a 12-neuron core: conv → pool → linear →
/// readout.
pub const TINY: &str = r#"
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
/// shortcut (6 channels) → readout.
pub const RESIDUAL: &str = r#"
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

/// 2 input pixels → a linear layer of 2 neurons → a readout of 2, with the given dense weights
/// (`[input][output]` order): the hand-computed toys of the ledger and fixed-point tests.
pub fn two_neuron_toy(name: &str, fc1: [f32; 4], readout: [f32; 4]) -> Model {
    let spec = NetworkSpec {
        name: name.into(),
        input: snn_core::Shape3::new(1, 1, 2),
        input_scale: 1.0,
        neuron: snn_core::NeuronParams::default(),
        layers: vec![
            snn_core::LayerSpec::Linear { out_features: 2 },
            snn_core::LayerSpec::Readout { out_features: 2 },
        ],
    };
    let mut m = random_model(spec, 1, 0.0, 0.0);
    m.weights[0].main = fc1.to_vec();
    m.weights[1].main = readout.to_vec();
    m
}
