//! `snn-sim`: replays a test set as spike events through a network mapped onto a modeled chip.

use clap::{Parser, ValueEnum};
use snn_core::model_file::MAX_TIMESTEPS;
use snn_data::dataset::{resolve_data_dir, DatasetKind, Split};
use snn_data::load;
use snn_map::chip::ChipModel;
use snn_mpi::World;
use snn_sim::engine::{Mode, Workers};
use snn_sim::report::{write_all, RunInfo, SweepPoint};
use snn_sim::simulation::{
    load_mapping, simulate_on, simulate_with_profile_on, Engine, SimRequest, GENERIC_45NM,
};
use snn_sim::SimError;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EngineArg {
    /// Whole layers per step with snn-train's kernels, events charged to cores from tables
    /// (default for float mode).
    Layer,
    /// Cores exchanging real spike packets, batched per destination core (the reference;
    /// default for fixed).
    Event,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    /// f32 arithmetic, identical to `snn-train eval`.
    Float,
    /// Weights and membranes in the chip's bit widths (integer arithmetic).
    Fixed,
}

/// Simulate a mapped SNN on a modeled neuromorphic chip: cores on worker threads exchange spike
/// packets; reports accuracy, synaptic ops, sparsity, traffic, mesh-link load, time and energy.
#[derive(Parser, Debug)]
#[command(name = "snn-sim", version)]
struct Args {
    /// Model file written by snn-train, or a NIR file (.nir).
    #[arg(long)]
    model: PathBuf,
    /// Time step in seconds to read a NIR model's time constants with (default: the file's
    /// snn_dt, else snnTorch's 1e-4).
    #[arg(long)]
    dt: Option<f64>,
    /// Mapping written by snn-map for this model (DIR/mapping.bin).
    #[arg(long)]
    mapping: PathBuf,
    /// Data set (mnist, fashion-mnist, cifar10); default: the one the model was trained on.
    #[arg(long)]
    dataset: Option<String>,
    /// Data directory (default: $SNN_DATA_DIR or ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Time steps per sample (default: the model's training T).
    #[arg(long)]
    timesteps: Option<u32>,
    /// Seed of the input spike encoding (default: the model's seed, as snn-train eval).
    #[arg(long)]
    seed: Option<u64>,
    /// Number of test images (default: all).
    #[arg(long)]
    test_limit: Option<usize>,
    /// Arithmetic.
    #[arg(long, value_enum, default_value_t = ModeArg::Float)]
    mode: ModeArg,
    /// Engine; both give the same numbers (default: layer for float, event for fixed).
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Event engine: copies of the chip the test set is shared over, each on its own workers
    /// (default: one per worker thread). Every reported number is that of one chip streaming all samples,
    /// whatever this is; 1 spreads one chip's cores over all workers instead (a barrier per
    /// chip step between workers, slower).
    #[arg(long)]
    replicas: Option<usize>,
    /// Also run these time-step counts and chart accuracy vs T (e.g. 10,20,40).
    #[arg(long, value_delimiter = ',')]
    sweep_timesteps: Vec<u32>,
    /// Chip file of the ANN baseline (default: the built-in generic-45nm.toml).
    #[arg(long)]
    ann_chip: Option<PathBuf>,
    /// Output directory for report.json, report.md and charts.
    #[arg(long)]
    out: PathBuf,
    /// Also write the measured spike counts per neuron as an activity profile (JSON, the
    /// format of `snn-train eval --profile-out`; `snn-map --profile` reads it).
    #[arg(long)]
    profile_out: Option<PathBuf>,
    /// Share the test images over the ranks of an MPI run (`mpiexec -n R snn-sim ...
    /// --distributed`; needs a build with `--features mpi`): each rank simulates a contiguous
    /// share on its --threads workers and rank 0 merges them and writes the report, which
    /// equals a single process's apart from timings.
    #[arg(long)]
    distributed: bool,
}

fn run(a: Args) -> Result<(), SimError> {
    let world = if a.distributed {
        World::distributed().map_err(|e| SimError::Usage(e.to_string()))?
    } else {
        World::single()
    };
    let loaded = snn_nir::load_any(&a.model, a.dt).map_err(|e| SimError::Usage(e.to_string()))?;
    for note in &loaded.notes {
        eprintln!("snn-sim: note: {note}");
    }
    let model = loaded.model;
    let mapping = load_mapping(&model, &a.model, &a.mapping)?;
    let ann_chip = match &a.ann_chip {
        Some(p) => ChipModel::load(p).map_err(snn_map::MapError::from)?,
        None => ChipModel::from_toml_str(
            GENERIC_45NM,
            std::path::Path::new("generic-45nm.toml (built in)"),
        )
        .map_err(snn_map::MapError::from)?,
    };
    let dataset = a
        .dataset
        .clone()
        .unwrap_or_else(|| model.meta.dataset.clone());
    let kind: DatasetKind = dataset
        .parse()
        .map_err(|e| SimError::Usage(format!("--dataset: {e}")))?;
    let mut data = load(kind, &resolve_data_dir(a.data_dir.as_deref()), Split::Test)?;
    if let Some(n) = a.test_limit {
        if n == 0 {
            return Err(SimError::Usage(
                "--test-limit: must be at least 1 (omit it for the whole test set)".into(),
            ));
        }
        data.truncate(n);
    }
    let t_range = 1..=MAX_TIMESTEPS;
    if let Some(t) = a.sweep_timesteps.iter().find(|t| !t_range.contains(t)) {
        return Err(SimError::Usage(format!(
            "--sweep-timesteps: {t} is outside 1..={MAX_TIMESTEPS}"
        )));
    }
    let timesteps = a.timesteps.unwrap_or(model.meta.timesteps.max(1));
    if !t_range.contains(&timesteps) {
        return Err(SimError::Usage(format!(
            "--timesteps: {timesteps} is outside 1..={MAX_TIMESTEPS}"
        )));
    }
    let seed = a.seed.unwrap_or(model.meta.seed);
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(SimError::Usage("--threads: must be at least 1".into()));
    }
    let replicas = a.replicas.unwrap_or(threads);
    if replicas == 0 || replicas > threads {
        return Err(SimError::Usage(format!(
            "--replicas: must be between 1 and --threads ({threads})"
        )));
    }
    let workers = Workers { threads, replicas };
    let mode = match a.mode {
        ModeArg::Float => Mode::Float,
        ModeArg::Fixed => Mode::Fixed,
    };
    let engine = match a.engine {
        Some(EngineArg::Layer) => Engine::Layer,
        Some(EngineArg::Event) => Engine::Event,
        None => Engine::default_for(mode),
    };
    let req = SimRequest {
        model: &model,
        mapping: &mapping,
        ann_chip: &ann_chip,
        data: &data,
        seed,
        timesteps,
        samples: data.len(),
        workers,
        mode,
        engine,
    };
    let outcome = match &a.profile_out {
        Some(path) => {
            let (o, p) = simulate_with_profile_on(&req, &world)?;
            if world.is_root() {
                p.save(path).map_err(|e| SimError::Usage(e.to_string()))?;
            }
            o
        }
        None => simulate_on(&req, &world)?,
    };
    let float_accuracy = if mode == Mode::Fixed {
        let float = SimRequest {
            mode: Mode::Float,
            engine: Engine::Layer,
            ..req
        };
        Some(simulate_on(&float, &world)?.accuracy())
    } else {
        None
    };
    let mut sweep = Vec::new();
    // Every value was checked to be at least 1 above.
    for &t in &a.sweep_timesteps {
        let o = if t == timesteps {
            outcome.clone()
        } else {
            simulate_on(
                &SimRequest {
                    timesteps: t,
                    ..req
                },
                &world,
            )?
        };
        sweep.push(SweepPoint {
            timesteps: t,
            accuracy: o.accuracy(),
            energy_joules: o.energy.total(),
            synaptic_ops_per_inference: o.total.synaptic_ops as f64 / o.samples.max(1) as f64,
        });
        if world.is_root() {
            eprintln!("sweep T={t}: accuracy {:.2} %", 100.0 * o.accuracy());
        }
    }
    if !world.is_root() {
        return Ok(()); // rank 0 writes the report
    }
    let weights: Vec<f32> = model
        .weights
        .iter()
        .flat_map(|w| w.main.iter().chain(&w.shortcut).copied())
        .collect();
    let zeros = weights.iter().filter(|&&w| w == 0.0).count();
    let bits = if mode == Mode::Fixed {
        mapping.chip.core.weight_bits.value as u64
    } else {
        32
    };
    let state_bits = if mode == Mode::Fixed {
        mapping.chip.core.state_bits.value as u64
    } else {
        32
    };
    let neurons: u64 = mapping
        .plan
        .layers
        .iter()
        .map(|l| l.output.len() as u64)
        .sum();
    let footprint = (weights.len() as u64 * bits).div_ceil(8) + (neurons * state_bits).div_ceil(8);
    let command = snn_core::command::command_line();
    let info = RunInfo {
        model: &a.model.display().to_string(),
        mapping_path: &a.mapping.display().to_string(),
        dataset: &dataset,
        seed,
        threads,
        command: &command,
        float_accuracy,
        sweep: &sweep,
        static_metrics: (
            zeros as f64 / weights.len().max(1) as f64,
            weights.len(),
            footprint,
        ),
    };
    write_all(&outcome, &mapping, &info, &a.out)?;
    let per = outcome.samples.max(1) as f64;
    println!(
        "{} on {} ({:?}): accuracy {:.2} % on {} samples at T={}; {:.3} µJ/inference; {:.1} samples/s, {:.3e} synaptic events/s; wrote {}",
        mapping.network,
        mapping.chip.name,
        mode,
        100.0 * outcome.accuracy(),
        outcome.samples,
        timesteps,
        outcome.energy.total() * 1e6,
        per / outcome.run.wall_seconds.max(1e-12),
        outcome.total.synaptic_ops as f64 / outcome.run.wall_seconds.max(1e-12),
        a.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("snn-sim: error: {e}");
            ExitCode::FAILURE
        }
    }
}
