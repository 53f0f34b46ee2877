//! One simulation end to end: load and check model + mapping, build the chip program, run the
//! engine, and turn counters into the numbers of the report (accuracy, per-layer and per-core
//! counts, NeuroBench metrics, energy ledger, ANN baseline, time).

use crate::counters::Counts;
use crate::engine;
use crate::layer;
use crate::ledger::{Constants, Energy};
use crate::part;
use crate::program::ChipProgram;
use crate::quant::Weights;
use crate::run::{Mode, RunConfig, RunResult, Workers};
use crate::SimError;
use serde::Serialize;
use snn_core::profile::ActivityProfile;
use snn_core::runtime::{CompiledNet, PreparedWeights};
use snn_core::Model;
use snn_data::dataset::Dataset;
use snn_data::encode::RateEncoder;
use snn_map::chip::ChipModel;
use snn_map::mapping::Mapping;
use snn_mpi::World;

/// The 45 nm reference chip used for the ANN baseline when no file is given.
pub const GENERIC_45NM: &str = include_str!("../../../hardware-models/generic-45nm.toml");

/// Per-layer numbers of a run (totals over all samples unless named per inference): the
/// activity every tool reports, then the chip's counters and energies.
#[derive(Clone, Debug, Serialize)]
pub struct LayerReport {
    /// Spikes, spike rate, synaptic operations and ANN MACs (as `snn-train eval` reports them).
    #[serde(flatten)]
    pub activity: snn_core::report::LayerReport,
    /// All counters.
    pub counts: Counts,
    /// On-chip dynamic energy per inference, joules.
    pub energy_per_inference: Energy,
    /// Effective ACs per inference / ANN MACs per inference.
    pub ops_ratio_snn_over_ann: f64,
    /// 45 nm energy ratio: ACs × E_AC / (MACs × E_MAC).
    pub energy_ratio_snn_over_ann_45nm: f64,
}

/// Per-core numbers of a run.
#[derive(Clone, Debug, Serialize)]
pub struct CoreReport {
    /// Core id.
    pub core: usize,
    /// Tile (x, y) on the mesh.
    pub tile: (u32, u32),
    /// Counters summed over the core's layers.
    pub counts: Counts,
    /// Modeled busy time, seconds (all samples).
    pub busy_seconds: f64,
    /// Energy per inference (dynamic + the core's static share), joules.
    pub energy_per_inference: Energy,
}

/// What a simulation produced.
#[derive(Clone, Debug)]
pub struct SimOutcome {
    /// Arithmetic.
    pub mode: Mode,
    /// Samples run.
    pub samples: usize,
    /// Correct predictions.
    pub correct: usize,
    /// Predicted class per sample.
    pub predictions: Vec<u8>,
    /// Per layer.
    pub layers: Vec<LayerReport>,
    /// Per core.
    pub cores: Vec<CoreReport>,
    /// Whole chip counters.
    pub total: Counts,
    /// Energy per inference.
    pub energy: Energy,
    /// Constants used.
    pub constants: Constants,
    /// ANN MACs per inference.
    pub ann_macs: f64,
    /// ANN energy per inference on the 45 nm reference, joules.
    pub ann_energy: f64,
    /// SNN ACs × E_AC per inference on the 45 nm reference, joules.
    pub snn_energy_45nm: f64,
    /// E_MAC and E_AC used, pJ.
    pub e_mac_pj: f64,
    /// E_AC, pJ.
    pub e_ac_pj: f64,
    /// Raw engine result.
    pub run: RunResult,
    /// Steps per sample.
    pub timesteps: u32,
    /// The engine that ran it.
    pub engine: Engine,
    /// The mesh links the routes use, numbered as in [`RunResult::links`]'s per-link counts.
    pub links: Vec<crate::links::Link>,
}

impl SimOutcome {
    /// Fraction correct.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.samples.max(1) as f64
    }
}

/// Loads a mapping and checks it belongs to the model.
pub fn load_mapping(
    model: &Model,
    model_path: &std::path::Path,
    path: &std::path::Path,
) -> Result<Mapping, SimError> {
    let m = Mapping::load(path)?;
    m.check_model(model, model_path, path)?;
    Ok(m)
}

/// What to simulate: a model, its mapping, the data and how to run it.
#[derive(Clone, Copy)]
pub struct SimRequest<'a> {
    /// The trained model.
    pub model: &'a Model,
    /// Its mapping (checked against the model by [`load_mapping`]).
    pub mapping: &'a Mapping,
    /// Chip of the ANN baseline (MAC and AC energies).
    pub ann_chip: &'a ChipModel,
    /// Test images.
    pub data: &'a Dataset,
    /// Seed of the input spike encoding.
    pub seed: u64,
    /// Steps per sample.
    pub timesteps: u32,
    /// Images to run (the first ones of `data`).
    pub samples: usize,
    /// Worker threads and chip replicas (results do not depend on them).
    pub workers: Workers,
    /// Arithmetic.
    pub mode: Mode,
    /// Which engine runs it ([`Engine::Layer`] needs float arithmetic).
    pub engine: Engine,
}

/// The two ways of running a mapped network; their results are equal in every counter,
/// modeled time and energy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Whole layers per step with the trainer's kernels, events charged to cores from tables
    /// ([`crate::layer`]): fast; float arithmetic only.
    Layer,
    /// Every core a unit of work exchanging real spike packets ([`crate::engine`]): the
    /// reference, and the one for fixed-point arithmetic.
    Event,
}

impl Engine {
    /// Its name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Layer => "layer",
            Engine::Event => "event",
        }
    }

    /// The default for an arithmetic: the layer engine for float, the event engine for fixed
    /// point.
    pub fn default_for(mode: Mode) -> Self {
        match mode {
            Mode::Float => Engine::Layer,
            Mode::Fixed => Engine::Event,
        }
    }
}

/// Runs the requested test images through the mapped chip.
pub fn simulate(req: &SimRequest) -> Result<SimOutcome, SimError> {
    simulate_inner(req, false, &World::single())
}

/// [`simulate`] over the ranks of `world`: each rank runs a contiguous share of the images
/// (rank order = image order) and rank 0 merges every rank's shares exactly as a single
/// process merges its workers', so its outcome equals [`simulate`]'s in
/// everything but the wall time. The other ranks get the outcome of their own share only
/// (for nothing but taking part: they write nothing). Every rank must make the same calls.
pub fn simulate_on(req: &SimRequest, world: &World) -> Result<SimOutcome, SimError> {
    simulate_inner(req, false, world)
}

/// [`simulate`] that also counts spikes per neuron and returns them as an activity profile
/// (the same format `snn-train eval --profile-out` writes, so `snn-map --profile` reads both).
pub fn simulate_with_profile(req: &SimRequest) -> Result<(SimOutcome, ActivityProfile), SimError> {
    simulate_with_profile_on(req, &World::single())
}

/// [`simulate_with_profile`] over the ranks of `world`, as [`simulate_on`].
pub fn simulate_with_profile_on(
    req: &SimRequest,
    world: &World,
) -> Result<(SimOutcome, ActivityProfile), SimError> {
    let o = simulate_inner(req, true, world)?;
    let created_by = format!(
        "snn-sim {} ({:?} mode, {})",
        env!("CARGO_PKG_VERSION"),
        req.mode,
        req.mapping.chip.name
    );
    let mut p = ActivityProfile::zeros(&req.mapping.plan, &req.model.spec.name, &created_by);
    let (input, layers) = o.run.neuron_spikes.clone().expect("profiled run");
    p.input = input;
    for (la, counts) in p.layers.iter_mut().zip(layers) {
        la.spikes = counts;
    }
    p.samples = o.samples as u64;
    p.timesteps = req.timesteps;
    Ok((o, p))
}

fn simulate_inner(req: &SimRequest, profile: bool, world: &World) -> Result<SimOutcome, SimError> {
    let SimRequest {
        model,
        mapping,
        ann_chip,
        data,
        seed,
        timesteps,
        samples,
        workers,
        mode,
        engine,
    } = *req;
    if engine == Engine::Layer && mode == Mode::Fixed {
        return Err(SimError::Usage(
            "--engine layer: runs float arithmetic only; fixed point runs on --engine event".into(),
        ));
    }
    let plan = &mapping.plan;
    data.check_feeds(&plan.input, &model.spec.name)
        .map_err(SimError::Usage)?;
    let chip = &mapping.chip;
    let net = snn_map::network::NetGraph::new(plan);
    let bits =
        (mode == Mode::Fixed).then_some((chip.core.weight_bits.value, chip.core.state_bits.value));
    let weights = Weights::new(&net, &model.weights, model.spec.neuron, bits);
    let prog = ChipProgram::new(mapping, weights);
    let encoder = RateEncoder::new(seed, model.spec.input_scale);
    let cfg = RunConfig {
        timesteps,
        threads: workers.threads,
        replicas: workers.replicas,
        mode,
        profile,
    };
    let start = std::time::Instant::now();
    let all = samples.min(data.len());
    // This rank's images: a contiguous share, in rank order.
    let (r, size) = (world.rank(), world.size());
    let range = r * all / size..(r + 1) * all / size;
    let (parts, replicas) = match engine {
        Engine::Event => (
            engine::run_parts(&prog, chip, data, &encoder, range.clone(), cfg),
            engine::replicas_of(cfg, all),
        ),
        Engine::Layer => {
            let net = CompiledNet::new(&model.spec).map_err(|e| SimError::Usage(e.to_string()))?;
            let prepared = PreparedWeights::new(&net, &model.weights);
            let parts = layer::run_parts(
                &prog,
                chip,
                &net,
                &prepared,
                data,
                &encoder,
                range.clone(),
                cfg,
            );
            (parts, 1)
        }
    };
    let (parts, merged) = if size == 1 {
        (parts, all)
    } else {
        match world.gather_bytes(&part::to_bytes(&parts)) {
            Some(shares) => {
                let mut parts = Vec::new();
                for (rank, bytes) in shares.iter().enumerate() {
                    parts.extend(part::from_bytes(bytes, rank)?);
                }
                (parts, all)
            }
            None => (parts, range.len()),
        }
    };
    let layers = prog.net.layers();
    let run = part::merge(parts, chip, merged, timesteps, layers, replicas, start);
    let n = run.predictions.len();
    let correct = run
        .predictions
        .iter()
        .enumerate()
        .filter(|(i, &p)| data.labels[*i] == p)
        .count();
    let k = Constants::of(chip);
    let e_ac = ann_chip.energy.synop_pj.value;
    let e_mac = ann_chip.energy.mac_pj.as_ref().map_or(4.6, |c| c.value);
    let per = n.max(1) as f64;
    let mut layers = Vec::new();
    for (l, layer) in plan.layers.iter().enumerate() {
        let mut c = Counts::default();
        for core in &run.per_core_layer {
            c += &core[l];
        }
        let activity = snn_core::report::LayerReport::new(
            layer,
            c.output_spikes,
            c.synaptic_ops,
            n,
            timesteps as usize,
        );
        let ann = activity.ann_macs;
        let e = k.dynamic(&c).per(per);
        layers.push(LayerReport {
            activity,
            counts: c,
            energy_per_inference: e,
            ops_ratio_snn_over_ann: if ann > 0 {
                c.synaptic_ops as f64 / ann as f64
            } else {
                0.0
            },
            energy_ratio_snn_over_ann_45nm: if ann > 0 {
                c.synaptic_ops as f64 * e_ac / (ann as f64 * e_mac)
            } else {
                0.0
            },
        });
    }
    let mut total = Counts::default();
    for l in &layers {
        total += &l.counts;
    }
    let n_cores = run.per_core_layer.len();
    let static_total = k.static_energy(n_cores, run.chip_seconds);
    let mut energy = k.dynamic(&total);
    energy.r#static = static_total;
    let energy = energy.per(per);
    let cores = run
        .per_core_layer
        .iter()
        .enumerate()
        .map(|(c, cl)| {
            let mut counts = Counts::default();
            for x in cl {
                counts += x;
            }
            let mut e = k.dynamic(&counts);
            e.r#static = k.static_energy(1, run.chip_seconds);
            let slot = mapping.cores[c].slot;
            CoreReport {
                core: c,
                tile: (slot.x, slot.y),
                counts,
                busy_seconds: run.core_busy_seconds[c],
                energy_per_inference: e.per(per),
            }
        })
        .collect();
    let ann_macs = plan.dense_macs() as f64;
    Ok(SimOutcome {
        mode,
        samples: n,
        correct,
        predictions: run.predictions.clone(),
        layers,
        cores,
        total,
        energy,
        constants: k,
        ann_macs,
        ann_energy: ann_macs * e_mac * 1e-12,
        snn_energy_45nm: total.synaptic_ops as f64 / per * e_ac * 1e-12,
        e_mac_pj: e_mac,
        e_ac_pj: e_ac,
        run,
        timesteps,
        engine,
        links: prog.links.links.clone(),
    })
}
