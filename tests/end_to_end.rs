//! The whole loop on a small default, through the libraries the three binaries wrap: train
//! LeNet briefly on MNIST → evaluate with a spike profile → map on Loihi weighted by that
//! profile → save and reload the mapping → simulate. Float-mode counters and predictions agree
//! with the trainer's evaluation exactly; fixed mode runs in the chip's bits; the report is
//! written and tells the same numbers.

use snn_core::runtime::CompiledNet;
use snn_core::Model;
use snn_data::dataset::{DatasetKind, Split};
use snn_data::encode::RateEncoder;
use snn_data::load;
use snn_map::chip::ChipModel;
use snn_map::pipeline::{map_model, MapRequest};
use snn_map::traffic::Activity;
use snn_sim::engine::Mode;
use snn_sim::report::{write_all, RunInfo};
use snn_sim::simulation::{load_mapping, simulate, Engine, SimRequest, GENERIC_45NM};
use snn_train::eval::{evaluate, evaluate_with_profile};
use snn_train::train::{train, ResumeOverrides, RunOptions};
use snn_train::TrainConfig;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The MNIST directory ($SNN_DATA_DIR or the workspace's data/), fetched if missing.
fn mnist_dir() -> PathBuf {
    let dir = std::env::var_os("SNN_DATA_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("data"));
    snn_data::fetch::fetch(DatasetKind::Mnist, &dir).expect("MNIST available or fetchable");
    dir
}

#[test]
fn train_map_simulate_counters_agree_with_the_trainer() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = mnist_dir();

    // 1. Train briefly.
    let config = TrainConfig {
        epochs: 1,
        timesteps: 4,
        batch_size: 16,
        train_limit: 512,
        test_limit: 16,
        val_split: 0,
        seed: 7,
        ..TrainConfig::preset("lenet")
    };
    let opts = RunOptions {
        out: tmp.path().join("train"),
        data_dir: data_dir.clone(),
        threads: 2,
        progress: false,
        interrupt: Arc::new(AtomicBool::new(false)),
        stop_after_batches: None,
        world: std::sync::Arc::new(snn_mpi::World::single()),
    };
    train(Some(config), &opts, ResumeOverrides::default()).unwrap();
    let model_path = tmp.path().join("train/model.snn");
    let model = Model::load(&model_path).unwrap();

    // 2. Evaluate (the reference) and profile the spikes on the same images.
    let (t, seed, n) = (24u32, 13u64, 16usize);
    let mut test = load(DatasetKind::Mnist, &data_dir, Split::Test).unwrap();
    test.truncate(n);
    let net = CompiledNet::new(&model.spec).unwrap();
    let enc = RateEncoder::new(seed, model.spec.input_scale);
    let ev = evaluate(&net, &model.weights, &test, &enc, t as usize, n);
    let (ev2, profile) = evaluate_with_profile(
        &net,
        &model.weights,
        &test,
        &enc,
        t as usize,
        n,
        &model.spec.name,
        "end_to_end test",
    );
    assert_eq!(ev.stats.layer_spikes, ev2.stats.layer_spikes);
    for (l, s) in ev.stats.layer_spikes[..5].iter().enumerate() {
        assert!(*s > 0, "layer {l} of the trained LeNet never fires");
    }

    // 3. Map on Loihi, weighted by the profile; save and reload.
    let loihi_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("hardware-models/loihi.toml");
    let loihi = ChipModel::load(&loihi_path).unwrap();
    let outcome = map_model(&MapRequest {
        model: &model,
        chip: &loihi,
        chip_path: loihi_path.display().to_string(),
        chips: 1,
        activity: Some(Activity::from_profile(&profile, "end_to_end")),
        seed: 1,
        atoms_per_core: snn_map::atoms::DEFAULT_ATOMS_PER_CORE,
    })
    .unwrap();
    assert!(outcome.mapping.cores.len() > 1);
    let mapping_path = tmp.path().join("map/mapping.bin");
    std::fs::create_dir_all(mapping_path.parent().unwrap()).unwrap();
    outcome.mapping.save(&mapping_path).unwrap();
    let mapping = load_mapping(&model, &model_path, &mapping_path).unwrap();
    assert_eq!(mapping, outcome.mapping);

    // 4. Simulate in float: exactly the trainer's numbers.
    let ann = ChipModel::from_toml_str(GENERIC_45NM, Path::new("generic-45nm.toml")).unwrap();
    let sim = |mode, threads: usize| {
        simulate(&SimRequest {
            engine: Engine::default_for(mode),
            model: &model,
            mapping: &mapping,
            ann_chip: &ann,
            data: &test,
            seed,
            timesteps: t,
            samples: n,
            workers: threads.into(),
            mode,
        })
        .unwrap()
    };
    let f = sim(Mode::Float, 2);
    assert_eq!(f.predictions, ev.predictions);
    assert_eq!(f.correct, ev.correct);
    assert_eq!(f.run.input_spikes, ev.stats.input_spikes);
    let spikes: Vec<u64> = f.layers.iter().map(|l| l.activity.spikes).collect();
    let synops: Vec<u64> = f.layers.iter().map(|l| l.activity.synaptic_ops).collect();
    assert_eq!(spikes, ev.stats.layer_spikes);
    assert_eq!(synops, ev.stats.layer_synops);
    assert_eq!(
        f.total.synaptic_ops,
        ev.stats.layer_synops.iter().sum::<u64>()
    );
    // Every spike of a layer that another layer reads reaches at least one core: its own
    // (a local delivery) or others (packets); LeNet spans several Loihi cores, so some leave.
    for l in &f.layers[..f.layers.len() - 1] {
        let c = &l.counts;
        assert!(
            c.local_deliveries + c.packets() >= c.output_spikes,
            "{}: {} spikes, {} local deliveries, {} packets",
            l.activity.name,
            c.output_spikes,
            c.local_deliveries,
            c.packets()
        );
    }
    assert!(f.total.packets() > 0, "no spike left its core");
    // The ANN baseline: the paper's LeNet has 5.784 M MACs (paper-method §8.2) at 4.6 pJ each.
    assert!(
        (f.ann_macs - 5.784e6).abs() < 1e3,
        "ANN MACs {}",
        f.ann_macs
    );
    assert!((f.ann_energy / (f.ann_macs * 4.6e-12) - 1.0).abs() < 1e-12);
    // Static energy: every used core's static power over the modeled chip time, per inference.
    let static_j = loihi.energy.static_mw_per_core.value
        * 1e-3
        * mapping.cores.len() as f64
        * f.run.chip_seconds
        / n as f64;
    assert!((f.energy.r#static / static_j - 1.0).abs() < 1e-12);

    // 5. Fixed point in Loihi's 8-bit weights: independent of the thread count, and close to
    // float.
    let q = sim(Mode::Fixed, 3);
    assert_eq!(q.run.input_spikes, f.run.input_spikes);
    assert_eq!(q.predictions, sim(Mode::Fixed, 1).predictions);
    // 8-bit weights perturb each layer's activity a little, not a lot (this barely trained
    // LeNet's predictions sit near ties, so they are no measure): spikes within 10 % per layer.
    for (lq, lf) in q.layers.iter().zip(&f.layers) {
        let (a, b) = (lq.activity.spikes as f64, lf.activity.spikes as f64);
        assert!(
            (a - b).abs() <= 0.1 * b,
            "{}: fixed {a} spikes, float {b}",
            lq.activity.name
        );
    }
    assert!(q.layers[..4].iter().all(|l| l.activity.spikes > 0));

    // 6. The report says the same.
    let out = tmp.path().join("report");
    let info = RunInfo {
        model: &model_path.display().to_string(),
        mapping_path: &mapping_path.display().to_string(),
        dataset: "mnist",
        seed,
        threads: 2,
        command: "end_to_end test",
        float_accuracy: None,
        sweep: &[],
        static_metrics: (0.0, 0, 0),
    };
    write_all(&f, &mapping, &info, &out).unwrap();
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(r["accuracy"].as_f64(), Some(ev.accuracy()));
    assert_eq!(
        r["synaptic_ops"].as_u64(),
        Some(ev.stats.layer_synops.iter().sum::<u64>())
    );
    assert_eq!(r["spikes_per_layer"]["conv1"].as_u64(), Some(spikes[0]));
}
