//! The decoders under fuzz, each with its seed file and the tool's first use of what decodes.
//! Seeds are made here from a small network (so every mutant runs in about a millisecond) and
//! the repository's own Loihi chip file and LeNet network.

use crate::mutate::SplitMix;
use snn_core::model_file::LayerWeights;
use snn_core::profile::ActivityProfile;
use snn_core::runtime::CompiledNet;
use snn_core::{Model, NetworkPlan, NetworkSpec};
use snn_data::dataset::{Dataset, DatasetKind, Split};
use snn_data::encode::RateEncoder;
use snn_map::chip::ChipModel;
use snn_map::mapping::Mapping;
use snn_map::pipeline::{map_model, MapRequest};
use snn_sim::engine::{Mode, Workers};
use snn_sim::simulation::{simulate, Engine, SimRequest};
use snn_train::eval::{evaluate, evaluate_with_profile};
use std::path::{Path, PathBuf};

/// The small network every binary seed is made from.
const NET: &str = r#"
name = "fuzz"
input = { channels = 1, height = 12, width = 12 }
[[layer]]
type = "conv"
out_channels = 4
kernel = 3
padding = 1
[[layer]]
type = "pool"
[[layer]]
type = "linear"
out_features = 16
[[layer]]
type = "readout"
out_features = 10
"#;

/// The network TOML seed: every layer type and every optional key.
const NETWORK_SEED: &str = r#"
name = "every-layer"
input = { channels = 3, height = 32, width = 32 }
input_scale = 1.0
[neuron]
leak = 0.99
threshold = 1.0
pool_threshold = 0.75
[[layer]]
type = "conv"
out_channels = 16
kernel = 3
stride = 1
padding = 1
[[layer]]
type = "residual"
out_channels = 32
stride = 2
[[layer]]
type = "pool"
[[layer]]
type = "linear"
out_features = 64
[[layer]]
type = "readout"
out_features = 10
"#;

/// Everything the targets share: the seed model, data to run it on, a scratch directory.
pub struct Context {
    /// The seed model.
    pub model: Model,
    /// Its mapping on Loihi.
    mapping: Mapping,
    model_bytes: Vec<u8>,
    nir_bytes: Vec<u8>,
    mapping_bytes: Vec<u8>,
    profile_bytes: Vec<u8>,
    chip_text: String,
    chip: ChipModel,
    network_text: String,
    /// Four 12×12 images for the first uses that run the network.
    data: Dataset,
    scratch: tempfile::TempDir,
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

impl Context {
    /// Builds the seeds.
    pub fn new() -> Context {
        let spec = NetworkSpec::from_toml_str(NET, Path::new("fuzz.toml")).expect("seed net");
        let plan = NetworkPlan::new(&spec).expect("seed plan");
        let mut r = 0x2545_F491_4F6C_DD1Du64;
        let mut draw = move || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.4) as f32
        };
        let weights = plan
            .layers
            .iter()
            .map(|l| LayerWeights {
                layer: l.name.clone(),
                main: (0..l.synapses.weight_count()).map(|_| draw()).collect(),
                shortcut: vec![],
            })
            .collect();
        let model = Model {
            spec,
            weights,
            meta: snn_core::model_file::ModelMeta {
                created_by: "fuzz seed".into(),
                dataset: "mnist".into(),
                timesteps: 4,
                seed: 1,
                epochs: 1,
                test_accuracy: None,
            },
            training: None,
        };
        let data = Dataset {
            kind: DatasetKind::Mnist,
            split: Split::Test,
            channels: 1,
            rows: 12,
            cols: 12,
            images: (0..4 * 144)
                .map(|i| ((i * 37) % 101) as f32 / 100.0)
                .collect(),
            labels: vec![1, 7, 3, 0],
        };
        let chip_path = repo("hardware-models/loihi.toml");
        let chip_text = std::fs::read_to_string(&chip_path).expect("loihi.toml");
        let chip = ChipModel::from_toml_str(&chip_text, &chip_path).expect("loihi chip");
        let mapping = map_model(&MapRequest {
            model: &model,
            chip: &chip,
            chip_path: "loihi.toml".into(),
            chips: 1,
            activity: None,
            seed: 1,
            atoms_per_core: snn_map::atoms::DEFAULT_ATOMS_PER_CORE,
        })
        .expect("seed mapping")
        .mapping;
        let scratch = tempfile::tempdir().expect("scratch dir");
        let mapping_path = scratch.path().join("mapping.bin");
        mapping.save(&mapping_path).expect("save mapping");
        let net = CompiledNet::new(&model.spec).expect("seed net compiles");
        let encoder = RateEncoder::new(1, model.spec.input_scale);
        let (_, profile) = evaluate_with_profile(
            &net,
            &model.weights,
            &data,
            &encoder,
            4,
            data.len(),
            "fuzz",
            "fuzz seed",
        );
        let profile_path = scratch.path().join("profile.json");
        profile.save(&profile_path).expect("save profile");
        let nir = snn_nir::export::to_graph(&model, snn_nir::DEFAULT_DT).expect("seed NIR graph");
        Context {
            mapping,
            model_bytes: model.to_bytes(),
            nir_bytes: snn_nir::write::to_bytes(&nir).expect("seed NIR file"),
            mapping_bytes: std::fs::read(&mapping_path).expect("mapping bytes"),
            profile_bytes: std::fs::read(&profile_path).expect("profile bytes"),
            network_text: NETWORK_SEED.to_string(),
            model,
            chip_text,
            chip,
            data,
            scratch,
        }
    }

    fn scratch_file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        let p = self.scratch.path().join(name);
        std::fs::write(&p, bytes).map_err(|e| e.to_string())?;
        Ok(p)
    }
}

/// One decoder under fuzz.
pub struct Target {
    /// Name used by `--only` and in the report.
    pub name: &'static str,
    /// The file mutated.
    pub seed: Vec<u8>,
    /// Whether the seed is text (numbers get swapped for extreme ones too).
    pub text: bool,
    /// Whether the seed is a framed snn file (payload mutated, usually re-framed).
    pub framed: bool,
    /// Decodes a mutant and uses it as the tool would; `Err` is a clean refusal.
    pub run: fn(&Context, &[u8]) -> Result<(), String>,
    /// Structure-aware mutants instead of byte mutations: fields of the decoded seed set to
    /// extreme values, then encoded with a valid frame (reaches the validators behind the
    /// binary decoder, which byte mutations of varint payloads rarely do).
    pub poke: Option<fn(&Context, &mut SplitMix) -> Vec<u8>>,
}

/// Every target, in a fixed order (the order seeds the mutants).
pub fn all(ctx: &Context) -> Vec<Target> {
    vec![
        Target {
            name: "model",
            seed: ctx.model_bytes.clone(),
            text: false,
            framed: true,
            run: run_model,
            poke: None,
        },
        Target {
            name: "model-fields",
            seed: ctx.model_bytes.clone(),
            text: false,
            framed: true,
            run: run_model,
            poke: Some(poke_model),
        },
        Target {
            name: "nir",
            seed: ctx.nir_bytes.clone(),
            text: false,
            framed: false,
            run: run_nir,
            poke: None,
        },
        Target {
            name: "mapping",
            seed: ctx.mapping_bytes.clone(),
            text: false,
            framed: true,
            run: run_mapping,
            poke: None,
        },
        Target {
            name: "mapping-fields",
            seed: ctx.mapping_bytes.clone(),
            text: false,
            framed: true,
            run: run_mapping,
            poke: Some(poke_mapping),
        },
        Target {
            name: "chip-toml",
            seed: ctx.chip_text.clone().into_bytes(),
            text: true,
            framed: false,
            run: run_chip,
            poke: None,
        },
        Target {
            name: "network-toml",
            seed: ctx.network_text.clone().into_bytes(),
            text: true,
            framed: false,
            run: run_network,
            poke: None,
        },
        Target {
            name: "profile-json",
            seed: ctx.profile_bytes.clone(),
            text: true,
            framed: false,
            run: run_profile,
            poke: None,
        },
        Target {
            name: "idx-images",
            seed: idx_images(&ctx.data),
            text: false,
            framed: false,
            run: run_idx_images,
            poke: None,
        },
        Target {
            name: "idx-labels",
            seed: idx_labels(&ctx.data),
            text: false,
            framed: false,
            run: run_idx_labels,
            poke: None,
        },
        Target {
            name: "cifar-jpeg",
            seed: cifar_member(),
            text: false,
            framed: false,
            run: run_cifar_jpeg,
            poke: None,
        },
        Target {
            name: "cifar-tar",
            seed: ustar(&[("train/bird/0338.jpg", &cifar_member())]),
            text: false,
            framed: false,
            run: run_cifar_tar,
            poke: None,
        },
        Target {
            name: "cifar-batch",
            seed: cifar_batch(),
            text: false,
            framed: false,
            run: run_cifar_batch,
            poke: None,
        },
    ]
}

/// An extreme integer for a size or index field.
fn wild_u32(rng: &mut SplitMix) -> u32 {
    [
        0,
        1,
        2,
        7,
        255,
        4096,
        65535,
        1 << 20,
        i32::MAX as u32,
        u32::MAX,
    ][rng.below(10)]
}

/// An extreme float for a parameter or cost.
fn wild_f(rng: &mut SplitMix) -> f64 {
    [
        0.0,
        -1.0,
        1e-320,
        1e18,
        1e308,
        -1e300,
        f64::NAN,
        f64::INFINITY,
        0.75,
        2.0,
    ][rng.below(10)]
}

/// The seed model with one to three fields set to extreme values.
fn poke_model(ctx: &Context, rng: &mut SplitMix) -> Vec<u8> {
    use snn_core::spec::LayerSpec;
    let mut m = ctx.model.clone();
    for _ in 0..1 + rng.below(3) {
        let n = m.spec.layers.len();
        match rng.below(9) {
            0 => m.meta.timesteps = wild_u32(rng),
            1 => m.spec.neuron.threshold = wild_f(rng) as f32,
            2 => m.spec.neuron.leak = wild_f(rng) as f32,
            3 => m.spec.input_scale = wild_f(rng) as f32,
            4 => m.spec.input.height = wild_u32(rng) as usize,
            5 => match &mut m.spec.layers[rng.below(n)] {
                LayerSpec::Conv {
                    out_channels,
                    kernel,
                    stride,
                    padding,
                } => match rng.below(4) {
                    0 => *out_channels = wild_u32(rng) as usize,
                    1 => *kernel = wild_u32(rng) as usize,
                    2 => *stride = wild_u32(rng) as usize,
                    _ => *padding = wild_u32(rng) as usize,
                },
                LayerSpec::Linear { out_features } | LayerSpec::Readout { out_features } => {
                    *out_features = wild_u32(rng) as usize
                }
                _ => m.spec.layers.swap(0, n - 1),
            },
            6 => {
                let l = rng.below(m.weights.len());
                if let Some(w) = m.weights[l].main.first_mut() {
                    *w = wild_f(rng) as f32;
                }
            }
            7 => {
                let l = rng.below(m.weights.len());
                m.weights[l].layer = ["", "conv1", "fc9", "readout"][rng.below(4)].into();
            }
            _ => {
                let l = rng.below(m.weights.len());
                let keep = rng.below(m.weights[l].main.len() + 1);
                m.weights[l].main.truncate(keep);
            }
        }
    }
    m.to_bytes()
}

/// The seed mapping with one to three fields set to extreme values.
fn poke_mapping(ctx: &Context, rng: &mut SplitMix) -> Vec<u8> {
    let mut m = ctx.mapping.clone();
    for _ in 0..1 + rng.below(3) {
        let cores = m.cores.len();
        let atoms = m.atoms.atoms.len();
        match rng.below(12) {
            0 => m.mesh.width = wild_u32(rng),
            1 => m.mesh.chips = wild_u32(rng),
            2 => m.cores[rng.below(cores)].slot.x = wild_u32(rng),
            3 => m.cores[rng.below(cores)].slot.core = wild_u32(rng),
            4 => m.atoms.atoms[rng.below(atoms)].layer = wild_u32(rng),
            5 => m.atoms.atoms[rng.below(atoms)].region.c1 = wild_u32(rng),
            6 => m.core_of_atom[rng.below(atoms)] = wild_u32(rng),
            7 => {
                let t = rng.below(m.atoms.tilings.len());
                m.atoms.tilings[t].grid[rng.below(3)] = wild_u32(rng);
            }
            8 => {
                let c = rng.below(cores);
                m.cores[c].routes.push(snn_map::mapping::Route {
                    dest: wild_u32(rng),
                    hops_x: wild_u32(rng),
                    hops_y: 0,
                });
            }
            9 => m.chip.energy.synop_pj.value = wild_f(rng),
            10 => m.chip.latency.barrier_ns.value = wild_f(rng),
            _ => {
                let c = rng.below(cores);
                m.cores[c].atoms.push(wild_u32(rng));
            }
        }
    }
    snn_map::mapping::MAPPING_FILE.to_bytes(&m)
}

fn text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

/// The model loader, then what `snn-train eval` does first: compile and run a sample.
fn run_model(ctx: &Context, bytes: &[u8]) -> Result<(), String> {
    let m = Model::from_bytes(bytes, Path::new("fuzz.snn")).map_err(|e| e.to_string())?;
    let net = CompiledNet::new(&m.spec).map_err(|e| e.to_string())?;
    ctx.data
        .check_feeds(&net.plan.input, &m.spec.name)
        .map_err(|e| e.to_string())?;
    let encoder = RateEncoder::new(m.meta.seed, m.spec.input_scale);
    evaluate(&net, &m.weights, &ctx.data, &encoder, 2, 1);
    Ok(())
}

/// The NIR reader and importer (snn_nir), then the model's first use as in `run_model`.
fn run_nir(ctx: &Context, bytes: &[u8]) -> Result<(), String> {
    let path = Path::new("fuzz.nir");
    let m = snn_nir::read::from_bytes(bytes.to_vec(), path)
        .and_then(|g| snn_nir::import::from_graph(&g, path, None))
        .map_err(|e| e.to_string())?
        .model;
    let net = CompiledNet::new(&m.spec).map_err(|e| e.to_string())?;
    ctx.data
        .check_feeds(&net.plan.input, &m.spec.name)
        .map_err(|e| e.to_string())?;
    let encoder = RateEncoder::new(m.meta.seed, m.spec.input_scale);
    evaluate(&net, &m.weights, &ctx.data, &encoder, 2, 1);
    Ok(())
}

/// The mapping loader, the check against its model, one simulated sample and its report.
fn run_mapping(ctx: &Context, bytes: &[u8]) -> Result<(), String> {
    let path = Path::new("fuzz-mapping.bin");
    let m = Mapping::from_bytes(bytes, path).map_err(|e| e.to_string())?;
    m.check_model(&ctx.model, Path::new("fuzz.snn"), path)
        .map_err(|e| e.to_string())?;
    let outcome = simulate(&SimRequest {
        model: &ctx.model,
        mapping: &m,
        ann_chip: &ctx.chip,
        data: &ctx.data,
        seed: 1,
        timesteps: 2,
        samples: 1,
        workers: Workers {
            threads: 1,
            replicas: 1,
        },
        mode: Mode::Float,
        engine: Engine::default_for(Mode::Float),
    })
    .map_err(|e| e.to_string())?;
    // The report snn-sim writes next (JSON and Markdown, in memory; the charts are left out).
    let info = snn_sim::report::RunInfo {
        model: "fuzz.snn",
        mapping_path: "fuzz-mapping.bin",
        dataset: "mnist",
        seed: 1,
        threads: 1,
        command: "fuzz",
        float_accuracy: None,
        sweep: &[],
        static_metrics: (0.0, 0, 0),
    };
    std::hint::black_box(snn_sim::report::report_json(&outcome, &m, &info));
    std::hint::black_box(snn_sim::report::markdown(&outcome, &m, &info));
    Ok(())
}

/// The chip loader, then mapping the seed model onto the chip.
fn run_chip(ctx: &Context, bytes: &[u8]) -> Result<(), String> {
    let chip = ChipModel::from_toml_str(text(bytes)?, Path::new("fuzz-chip.toml"))
        .map_err(|e| e.to_string())?;
    map_model(&MapRequest {
        model: &ctx.model,
        chip: &chip,
        chip_path: "fuzz-chip.toml".into(),
        chips: 1,
        activity: None,
        seed: 1,
        atoms_per_core: snn_map::atoms::DEFAULT_ATOMS_PER_CORE,
    })
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The network loader, then shape inference (plan, parameter and MAC counts). Compiling is
/// left out: it allocates the state of every neuron, so a valid network of 2^28 neurons takes
/// seconds by design, not by a decoding defect.
fn run_network(_: &Context, bytes: &[u8]) -> Result<(), String> {
    let spec = NetworkSpec::from_toml_str(text(bytes)?, Path::new("fuzz-net.toml"))
        .map_err(|e| e.to_string())?;
    let plan = NetworkPlan::new(&spec).map_err(|e| e.to_string())?;
    std::hint::black_box((plan.params(), plan.dense_macs()));
    Ok(())
}

/// The profile loader, the check against the plan, then the mapper's activity table.
fn run_profile(ctx: &Context, bytes: &[u8]) -> Result<(), String> {
    let path = Path::new("fuzz-profile.json");
    let p = ActivityProfile::from_slice(bytes, path).map_err(|e| e.to_string())?;
    let plan = NetworkPlan::new(&ctx.model.spec).map_err(|e| e.to_string())?;
    p.check_matches(&plan, path).map_err(|e| e.to_string())?;
    snn_map::traffic::Activity::from_profile(&p, "fuzz");
    Ok(())
}

fn run_idx_images(ctx: &Context, bytes: &[u8]) -> Result<(), String> {
    let p = ctx.scratch_file("images-idx3-ubyte", bytes)?;
    snn_data::idx::read_idx_images(&p).map_err(|e| e.to_string())?;
    Ok(())
}

fn run_idx_labels(ctx: &Context, bytes: &[u8]) -> Result<(), String> {
    let p = ctx.scratch_file("labels-idx1-ubyte", bytes)?;
    snn_data::idx::read_idx_labels(&p).map_err(|e| e.to_string())?;
    Ok(())
}

/// The JPEG decoder of the CIFAR-10 import, on one member.
fn run_cifar_jpeg(_: &Context, bytes: &[u8]) -> Result<(), String> {
    snn_data::cifar::decode_image(bytes)?;
    Ok(())
}

/// The tar walk and member decoding of the CIFAR-10 import (after the archive's checksum and
/// xz, so a mutant always ends in an error: the counts of a real archive are missing).
fn run_cifar_tar(_: &Context, bytes: &[u8]) -> Result<(), String> {
    snn_data::cifar::import_jpeg_tar(Path::new("cifar10-jpeg-images.tar"), bytes)
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn run_cifar_batch(_: &Context, bytes: &[u8]) -> Result<(), String> {
    snn_data::cifar::parse_batch(Path::new("data_batch_1.bin"), bytes)
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// One member of the CIFAR-10 JPEG archive (`train/bird/0338.jpg`, 971 bytes).
fn cifar_member() -> Vec<u8> {
    std::fs::read(repo("benches/fuzz/seeds/cifar-member.jpg")).expect("JPEG seed")
}

/// A ustar archive of `members` (name, bytes), as the CIFAR-10 archive is made.
fn ustar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, bytes) in members {
        out.extend_from_slice(&snn_data::ustar::member_header(name, bytes.len() as u64));
        out.extend_from_slice(bytes);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// The seed images as an IDX image file (magic 0x803, count, rows, cols, bytes).
fn idx_images(d: &Dataset) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0x803u32, d.len() as u32, d.rows as u32, d.cols as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend(d.images.iter().map(|&p| (p * 255.0) as u8));
    out
}

/// The seed labels as an IDX label file (magic 0x801, count, bytes).
fn idx_labels(d: &Dataset) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0x801u32, d.len() as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&d.labels);
    out
}

/// Twenty CIFAR-10 records (label byte, then 3×32×32 channel-major pixels).
fn cifar_batch() -> Vec<u8> {
    let mut out = Vec::new();
    for r in 0..20u32 {
        out.push((r % 10) as u8);
        out.extend((0..3072u32).map(|i| (i.wrapping_mul(2654435761) ^ r) as u8));
    }
    out
}
