//! The training loop: epochs of shuffled mini-batches, evaluation after every epoch, logs,
//! charts, best/last model files, atomic checkpoints, resume, interruption and divergence stop.

use crate::batch::{BatchContext, BatchEngine};
use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::eval::{evaluate, layer_reports};
use crate::log::{
    draw_charts, first_best, read_log, run_title, write_json, write_log, EpochRecord, Summary,
};
use crate::params;
use crate::seed::{derive, stream_rng};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use snn_core::model_file::{LayerWeights, ModelMeta, TrainingState};
use snn_core::step::CompiledNet;
use snn_core::{preset, Model};
use snn_data::augment::Augment;
use snn_data::dataset::{Dataset, DatasetKind, Split};
use snn_data::encode::RateEncoder;
use snn_data::load;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Loss per sample above which a run is considered to have exploded.
const DIVERGED_LOSS: f64 = 1e3;

/// How to run (not part of the model's identity: thread count, output, UI).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Output directory.
    pub out: PathBuf,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Worker threads.
    pub threads: usize,
    /// Show progress bars.
    pub progress: bool,
    /// Set by Ctrl-C: checkpoint and stop after the current batch.
    pub interrupt: Arc<AtomicBool>,
    /// Testing aid: behave as if Ctrl-C came after this many batches of this invocation.
    pub stop_after_batches: Option<u64>,
}

/// The trainer's state stored in checkpoints (`TrainingState::trainer_state_json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct TrainerState {
    config: TrainConfig,
    epoch_loss_sum: f64,
    epoch_correct: usize,
    epoch_samples: usize,
    epoch_train_seconds: f64,
    epoch_seconds: f64,
}

/// Loads a data split, applying a limit (0 = all).
pub fn load_split(
    config: &TrainConfig,
    data_dir: &Path,
    split: Split,
    limit: usize,
) -> Result<Dataset, TrainError> {
    let kind: DatasetKind = config.dataset.parse()?;
    let mut data = load(kind, data_dir, split)?;
    if limit > 0 {
        data.truncate(limit);
    }
    Ok(data)
}

/// Loads the training split and holds out `config.val_split` images of it as the validation set
/// (`snn_data::holdout`); `train_limit` then applies to what is left. Returns
/// `(training, validation)`; the validation set is empty when `val_split` is 0.
pub fn load_train_and_validation(
    config: &TrainConfig,
    data_dir: &Path,
) -> Result<(Dataset, Dataset), TrainError> {
    let full = load_split(config, data_dir, Split::Train, 0)?;
    if config.val_split >= full.len() {
        return Err(TrainError::Config(format!(
            "--val-split: {} leaves no training images ({} has {} training images)",
            config.val_split,
            config.dataset,
            full.len()
        )));
    }
    let (mut train, val) = full.split_holdout(config.val_split);
    if config.train_limit > 0 {
        train.truncate(config.train_limit);
    }
    Ok((train, val))
}

fn model_of(
    spec: &snn_core::NetworkSpec,
    weights: &[LayerWeights],
    config: &TrainConfig,
    epochs: u32,
    acc: Option<f64>,
) -> Model {
    Model {
        spec: spec.clone(),
        weights: weights.to_vec(),
        meta: ModelMeta {
            created_by: format!("snn-train {}", env!("CARGO_PKG_VERSION")),
            dataset: config.dataset.clone(),
            timesteps: config.timesteps,
            seed: config.seed,
            epochs,
            test_accuracy: acc,
        },
        training: None,
    }
}

/// Settings a resumed run may change: more epochs, a new learning rate from here on, or
/// milestones that keep the learning rate of every epoch already begun.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResumeOverrides {
    /// New total number of epochs.
    pub epochs: Option<u32>,
    /// New initial learning rate (the milestone schedule still applies).
    pub lr: Option<f64>,
    /// New milestones; refused when they would change the rate of an epoch already begun.
    pub lr_milestones: Option<Vec<u32>>,
}

/// Where a run starts: a fresh initialisation or a checkpoint.
struct RunStart {
    spec: snn_core::NetworkSpec,
    weights: Vec<LayerWeights>,
    /// 1-based epoch to run next.
    start_epoch: u32,
    /// Batch of that epoch to run next.
    start_batch: usize,
    /// Log records of the completed epochs.
    records: Vec<EpochRecord>,
    /// Best selection accuracy (validation, else test) so far and its epoch (0 = none).
    best: (f64, u32),
    /// Trainer state (configuration and partial-epoch counters).
    partial: TrainerState,
}

impl RunStart {
    fn fresh(config: TrainConfig) -> Result<Self, TrainError> {
        config.validate().map_err(TrainError::Config)?;
        let spec = preset::resolve(&config.arch)?;
        let net = CompiledNet::new(&spec)?;
        let weights = match &config.init_from {
            None => params::init(&net.plan, config.init_gain, config.seed),
            Some(path) => {
                let model = Model::load(Path::new(path))?;
                if model.spec != spec {
                    return Err(TrainError::Config(format!(
                        "--init-from {path}: its network '{}' is not --arch {}'s",
                        model.spec.name, config.arch
                    )));
                }
                model.weights
            }
        };
        Ok(RunStart {
            spec,
            weights,
            start_epoch: 1,
            start_batch: 0,
            records: Vec::new(),
            best: (0.0, 0),
            partial: TrainerState {
                config,
                epoch_loss_sum: 0.0,
                epoch_correct: 0,
                epoch_samples: 0,
                epoch_train_seconds: 0.0,
                epoch_seconds: 0.0,
            },
        })
    }

    fn resume(
        last_path: &Path,
        log_path: &Path,
        overrides: ResumeOverrides,
    ) -> Result<Self, TrainError> {
        let ckpt = Model::load(last_path)?;
        let mut partial = trainer_state(last_path, &ckpt)?;
        let state = ckpt.training.expect("trainer_state checked it");
        if let Some(e) = overrides.epochs {
            partial.config.epochs = e;
        }
        if let Some(lr) = overrides.lr {
            partial.config.lr = lr;
        }
        if let Some(milestones) = overrides.lr_milestones {
            let old = partial.config.clone();
            partial.config.lr_milestones = milestones;
            let begun = state.completed_epochs + u32::from(state.next_batch > 0);
            if !old.same_schedule_through(&partial.config, begun) {
                return Err(TrainError::Config(format!(
                    "--lr-milestones {}: would change the learning rate of epochs already run \
                     (1..={begun}); the checkpoint's are {}",
                    join(&partial.config.lr_milestones),
                    join(&old.lr_milestones)
                )));
            }
        }
        partial.config.validate().map_err(TrainError::Config)?;
        let mut records = if log_path.exists() {
            read_log(log_path).map_err(TrainError::io(log_path))?
        } else {
            Vec::new()
        };
        records.truncate(state.completed_epochs as usize);
        Ok(RunStart {
            spec: ckpt.spec,
            weights: ckpt.weights,
            start_epoch: state.completed_epochs + 1,
            start_batch: state.next_batch as usize,
            records,
            best: (state.best_selection_accuracy, state.best_epoch),
            partial,
        })
    }
}

fn join(values: &[u32]) -> String {
    values
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The configuration stored in the checkpoint `dir/last.snn` (what `--resume dir` continues).
pub fn checkpoint_config(dir: &Path) -> Result<TrainConfig, TrainError> {
    let last_path = dir.join("last.snn");
    let ckpt = Model::load(&last_path)?;
    Ok(trainer_state(&last_path, &ckpt)?.config)
}

/// The trainer's state inside a checkpoint.
fn trainer_state(last_path: &Path, ckpt: &Model) -> Result<TrainerState, TrainError> {
    let state = ckpt.training.as_ref().ok_or_else(|| {
        TrainError::Config(format!(
            "{}: not a checkpoint (no training state)",
            last_path.display()
        ))
    })?;
    serde_json::from_str(&state.trainer_state_json)
        .map_err(|e| TrainError::Config(format!("{}: bad trainer state: {e}", last_path.display())))
}

/// Trains from scratch (`config` given) or continues the checkpoint in `opts.out` (`None`,
/// with optional overrides).
pub fn train(
    config: Option<TrainConfig>,
    opts: &RunOptions,
    overrides: ResumeOverrides,
) -> Result<Summary, TrainError> {
    std::fs::create_dir_all(&opts.out).map_err(TrainError::io(&opts.out))?;
    let last_path = opts.out.join("last.snn");
    let best_path = opts.out.join("model.snn");
    let log_path = opts.out.join("log.jsonl");

    let resumed = config.is_none();
    let start = match config {
        Some(config) => RunStart::fresh(config)?,
        None => RunStart::resume(&last_path, &log_path, overrides)?,
    };
    let RunStart {
        spec,
        mut weights,
        start_epoch,
        start_batch,
        mut records,
        mut best,
        mut partial,
    } = start;
    // The checkpoint closure below borrows the configuration while `partial` keeps changing.
    let config = partial.config.clone();

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| TrainError::Config(format!("--threads: {e}")))?;
    let (train_data, val_data) = load_train_and_validation(&config, &opts.data_dir)?;
    let test_data = load_split(&config, &opts.data_dir, Split::Test, config.test_limit)?;
    let net = CompiledNet::new(&spec)?;
    for data in [&train_data, &test_data] {
        data.check_feeds(&net.plan.input, &spec.name)
            .map_err(TrainError::Config)?;
    }
    let sizes = SetSizes {
        train: train_data.len(),
        val: val_data.len(),
        test: test_data.len(),
    };
    let mut engine = BatchEngine::new(net.clone());
    let timesteps = config.timesteps as usize;
    let n_train = train_data.len();
    let batches = n_train.div_ceil(config.batch_size);
    let eval_encoder = RateEncoder::new(config.seed, spec.input_scale);
    let augment = config.augment.then(Augment::cifar10);
    let mut batches_run = 0u64;
    // A resumed run started from its checkpoint; a fresh one has none until its first epoch ends
    // (an older run's last.snn in the same directory is not this run's).
    let mut have_checkpoint = resumed;
    let plain_progress = opts.progress && !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let title = run_title(
        &spec.name,
        &config.dataset,
        &config.grad.to_string(),
        config.timesteps.into(),
    );

    let checkpoint = |weights: &[LayerWeights],
                      completed: u32,
                      next_batch: usize,
                      best: (f64, u32),
                      partial: &TrainerState|
     -> Result<(), TrainError> {
        let mut m = model_of(&spec, weights, &config, completed, None);
        m.training = Some(TrainingState {
            completed_epochs: completed,
            next_batch: next_batch as u32,
            trainer_state_json: serde_json::to_string(partial).expect("state serializes"),
            best_selection_accuracy: best.0,
            best_epoch: best.1,
        });
        m.save(&last_path)?;
        Ok(())
    };

    for epoch in start_epoch..=config.epochs {
        let epoch_start = Instant::now();
        let mut order: Vec<usize> = (0..n_train).collect();
        order.shuffle(&mut stream_rng(config.seed, &[0x5EF1, epoch as u64]));
        let encoder = RateEncoder::new(
            derive(config.seed, &[0xE9C0, epoch as u64]),
            spec.input_scale,
        );
        let lr = config.lr_at(epoch);
        let first_batch = if epoch == start_epoch { start_batch } else { 0 };
        if first_batch == 0 {
            partial.epoch_loss_sum = 0.0;
            partial.epoch_correct = 0;
            partial.epoch_samples = 0;
            partial.epoch_train_seconds = 0.0;
            partial.epoch_seconds = 0.0;
        }
        let bar = progress_bar(
            opts.progress,
            n_train,
            format!("epoch {epoch}/{}", config.epochs),
        );
        bar.set_position(partial.epoch_samples as u64);
        let train_start = Instant::now();
        let mut last_line = Instant::now();
        for b in first_batch..batches {
            let stop_now = opts.interrupt.load(Ordering::SeqCst)
                || opts.stop_after_batches.is_some_and(|n| batches_run >= n);
            if stop_now {
                bar.abandon();
                partial.epoch_train_seconds += train_start.elapsed().as_secs_f64();
                partial.epoch_seconds += epoch_start.elapsed().as_secs_f64();
                checkpoint(&weights, epoch - 1, b, best, &partial)?;
                return Err(TrainError::Interrupted {
                    epoch,
                    batch: b,
                    checkpoint: last_path.clone(),
                    dir: opts.out.clone(),
                });
            }
            let idx = &order[b * config.batch_size..((b + 1) * config.batch_size).min(n_train)];
            let ctx = BatchContext {
                data: &train_data,
                encoder: &encoder,
                timesteps,
                mode: config.grad,
                dropout: config.dropout,
                seed: config.seed,
                epoch,
                lr,
                weight_decay: config.weight_decay,
                augment: augment.as_ref(),
            };
            let outcome = pool.install(|| engine.train_batch(&mut weights, idx, &ctx));
            batches_run += 1;
            let per_sample = outcome.loss_sum / outcome.samples as f64;
            if !per_sample.is_finite() || per_sample > DIVERGED_LOSS {
                bar.abandon();
                return Err(TrainError::Diverged {
                    epoch,
                    batch: b,
                    loss: per_sample,
                    checkpoint: have_checkpoint.then(|| last_path.clone()),
                });
            }
            partial.epoch_loss_sum += outcome.loss_sum;
            partial.epoch_correct += outcome.correct;
            partial.epoch_samples += outcome.samples;
            bar.set_position(partial.epoch_samples as u64);
            let status = format!(
                "loss {:.4} acc {:.2}%",
                partial.epoch_loss_sum / partial.epoch_samples as f64,
                100.0 * partial.epoch_correct as f64 / partial.epoch_samples as f64
            );
            if plain_progress && last_line.elapsed().as_secs() >= 30 {
                // No terminal (nohup, CI): a plain line every 30 s instead of a bar.
                let done = partial.epoch_samples as f64;
                let rate = (done - (first_batch * config.batch_size) as f64)
                    / train_start.elapsed().as_secs_f64();
                eprintln!(
                    "epoch {epoch}/{} {}/{} samples  {:.0} samples/s  ETA {:.0} s  {status}",
                    config.epochs,
                    partial.epoch_samples,
                    n_train,
                    rate,
                    (n_train as f64 - done) / rate.max(1e-9)
                );
                last_line = Instant::now();
            }
            bar.set_message(status);
        }
        bar.finish_and_clear();
        let train_seconds = partial.epoch_train_seconds + train_start.elapsed().as_secs_f64();
        let evaluate_on = |data: &Dataset| {
            pool.install(|| evaluate(&net, &weights, data, &eval_encoder, timesteps, data.len()))
        };
        let val = (!val_data.is_empty()).then(|| evaluate_on(&val_data));
        let ev = evaluate_on(&test_data);
        let seconds = partial.epoch_seconds + epoch_start.elapsed().as_secs_f64();
        let record = EpochRecord {
            epoch,
            lr,
            loss: partial.epoch_loss_sum / partial.epoch_samples.max(1) as f64,
            train_accuracy: partial.epoch_correct as f64 / partial.epoch_samples.max(1) as f64,
            test_accuracy: ev.accuracy(),
            test_loss: ev.loss_sum / ev.samples.max(1) as f64,
            val_accuracy: val.as_ref().map(|v| v.accuracy()),
            val_loss: val.as_ref().map(|v| v.loss_sum / v.samples.max(1) as f64),
            spike_rate: layer_reports(&net, &ev, timesteps)
                .into_iter()
                .filter(|r| r.name != "readout")
                .map(|r| (r.name, r.spike_rate))
                .collect(),
            seconds,
            train_samples_per_second: partial.epoch_samples as f64 / train_seconds.max(1e-9),
        };
        if opts.progress {
            let val = record
                .val_accuracy
                .map_or(String::new(), |v| format!("  val {:.2}%", 100.0 * v));
            eprintln!(
                "epoch {epoch}: loss {:.4}  train {:.2}%{val}  test {:.2}%  ({:.0} samples/s, {:.0} s)",
                record.loss,
                100.0 * record.train_accuracy,
                100.0 * record.test_accuracy,
                record.train_samples_per_second,
                record.seconds
            );
        }
        let selection = record.selection_accuracy();
        records.push(record);
        if selection > best.0 || best.1 == 0 {
            best = (selection, epoch);
            model_of(&spec, &weights, &config, epoch, Some(ev.accuracy())).save(&best_path)?;
        }
        partial.epoch_loss_sum = 0.0;
        partial.epoch_correct = 0;
        partial.epoch_samples = 0;
        partial.epoch_train_seconds = 0.0;
        partial.epoch_seconds = 0.0;
        checkpoint(&weights, epoch, 0, best, &partial)?;
        have_checkpoint = true;
        write_log(&log_path, &records).map_err(TrainError::io(&log_path))?;
        draw_charts(&opts.out, &title, &records)?;
        let summary = summarize(&config, opts, &records, best.1, &sizes, &net);
        let summary_path = opts.out.join("summary.json");
        write_json(&summary_path, &summary).map_err(TrainError::io(&summary_path))?;
    }
    let summary = summarize(&config, opts, &records, best.1, &sizes, &net);
    Ok(summary)
}

/// Images in each set of a run.
struct SetSizes {
    train: usize,
    val: usize,
    test: usize,
}

fn summarize(
    config: &TrainConfig,
    opts: &RunOptions,
    records: &[EpochRecord],
    best_epoch: u32,
    sizes: &SetSizes,
    net: &CompiledNet,
) -> Summary {
    let seconds: f64 = records.iter().map(|r| r.seconds).sum();
    let train_seconds: f64 = records
        .iter()
        .map(|r| sizes.train as f64 / r.train_samples_per_second.max(1e-9))
        .sum();
    let selected = records.iter().find(|r| r.epoch == best_epoch);
    let best_test = first_best(records, |r| r.test_accuracy);
    Summary {
        arch: config.arch.clone(),
        dataset: config.dataset.clone(),
        grad: config.grad.to_string(),
        selection: config.selection().to_string(),
        test_accuracy_at_best_val: selected.map_or(0.0, |r| r.test_accuracy),
        val_accuracy: selected.and_then(|r| r.val_accuracy),
        best_epoch,
        best_test_accuracy: best_test.map_or(0.0, |r| r.test_accuracy),
        best_test_epoch: best_test.map_or(0, |r| r.epoch),
        final_test_accuracy: records.last().map_or(0.0, |r| r.test_accuracy),
        epochs: records.len() as u32,
        timesteps: config.timesteps,
        batch_size: config.batch_size,
        seed: config.seed,
        threads: opts.threads,
        train_samples: sizes.train,
        val_samples: sizes.val,
        test_samples: sizes.test,
        seconds,
        train_samples_per_second: if train_seconds > 0.0 {
            (sizes.train * records.len()) as f64 / train_seconds
        } else {
            0.0
        },
        params: net.plan.params(),
        dense_macs: net.plan.dense_macs(),
        config: Some(config.clone()),
    }
}

fn progress_bar(show: bool, len: usize, prefix: String) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar
}
