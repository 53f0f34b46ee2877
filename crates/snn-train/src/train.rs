//! The training loop: epochs of shuffled mini-batches, evaluation after every epoch, logs,
//! charts, best/last model files, atomic checkpoints, resume, interruption and divergence stop.

use crate::batch::{BatchContext, BatchEngine};
use crate::charts::{draw_charts, run_title};
use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::eval::{evaluate, evaluate_range, layer_reports, Evaluation};
use crate::log::{write_log, EpochRecord};
use crate::run_start::{checkpoint_model, model_of, RunStart, TrainerState};
use crate::seed::{derive, stream_rng};
use crate::summary::{summarize, SetSizes, Summary};
use rand::seq::SliceRandom;
use snn_core::atomic::write_json;
use snn_core::model_file::LayerWeights;
use snn_core::runtime::CompiledNet;
use snn_data::augment::Augment;
use snn_data::dataset::{Dataset, DatasetKind, Split};
use snn_data::encode::RateEncoder;
use snn_data::load;
use snn_mpi::World;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use crate::run_start::{checkpoint_config, ResumeOverrides};

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
    /// The processes training together (data-parallel over MPI ranks), or one alone. Every
    /// rank trains its shard of each batch and evaluates its share of the held-out sets; rank 0
    /// writes every file and shows progress.
    pub world: Arc<World>,
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

/// Trains from scratch (`config` given) or continues the checkpoint in `opts.out` (`None`,
/// with optional overrides).
pub fn train(
    config: Option<TrainConfig>,
    opts: &RunOptions,
    overrides: ResumeOverrides,
) -> Result<Summary, TrainError> {
    std::fs::create_dir_all(&opts.out).map_err(TrainError::io(&opts.out))?;
    let resumed = config.is_none();
    let start = match config {
        Some(config) => RunStart::fresh(config)?,
        None => RunStart::resume(
            &opts.out.join("last.snn"),
            &opts.out.join("log.jsonl"),
            overrides,
        )?,
    };
    let (start_epoch, start_batch) = (start.start_epoch, start.start_batch);
    let mut run = Run::open(start, opts, resumed)?;
    for epoch in start_epoch..=run.config.epochs {
        let first_batch = if epoch == start_epoch { start_batch } else { 0 };
        let record = run.epoch(epoch, first_batch)?;
        run.finish_epoch(record)?;
    }
    Ok(run.summary())
}

/// A run in progress: its data, network, worker pool and weights, the records of the epochs
/// done, and where it writes.
struct Run<'a> {
    opts: &'a RunOptions,
    /// The configuration (fixed for the whole invocation; also inside `partial`).
    config: TrainConfig,
    spec: snn_core::NetworkSpec,
    weights: Vec<LayerWeights>,
    records: Vec<EpochRecord>,
    /// Best selection accuracy so far and its epoch (0 = none).
    best: (f64, u32),
    /// Partial-epoch counters, saved in checkpoints.
    partial: TrainerState,
    pool: rayon::ThreadPool,
    train_data: Dataset,
    val_data: Dataset,
    test_data: Dataset,
    sizes: SetSizes,
    net: CompiledNet,
    engine: BatchEngine,
    eval_encoder: RateEncoder,
    augment: Option<Augment>,
    /// Batches run by this invocation (for `stop_after_batches`).
    batches_run: u64,
    /// Whether `last.snn` is this run's: a resumed run started from it; a fresh one has none
    /// until its first epoch ends (an older run's last.snn in the same directory is not this
    /// run's).
    have_checkpoint: bool,
    title: String,
}

impl<'a> Run<'a> {
    /// Loads the data and compiles the network of a run that starts at `start`.
    fn open(start: RunStart, opts: &'a RunOptions, resumed: bool) -> Result<Self, TrainError> {
        let RunStart {
            spec,
            weights,
            records,
            best,
            partial,
            ..
        } = start;
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
        let title = run_title(
            &spec.name,
            &config.dataset,
            &config.grad.to_string(),
            config.timesteps.into(),
        );
        Ok(Run {
            opts,
            engine: BatchEngine::new(net.clone()),
            eval_encoder: RateEncoder::new(config.seed, spec.input_scale),
            augment: config.augment.then(Augment::cifar10),
            config,
            spec,
            weights,
            records,
            best,
            partial,
            pool,
            train_data,
            val_data,
            test_data,
            sizes,
            net,
            batches_run: 0,
            have_checkpoint: resumed,
            title,
        })
    }

    fn last_path(&self) -> PathBuf {
        self.opts.out.join("last.snn")
    }

    /// Writes `last.snn`: `completed` epochs done, `next_batch` of the next one to run.
    fn checkpoint(&self, completed: u32, next_batch: usize) -> Result<(), TrainError> {
        checkpoint_model(
            &self.spec,
            &self.weights,
            completed,
            next_batch,
            self.best,
            &self.partial,
        )
        .save(&self.last_path())?;
        Ok(())
    }

    /// Trains epoch `epoch` from batch `first_batch` and evaluates it: its log record. Stops
    /// with a checkpoint when interrupted and with an error when the loss diverges.
    fn epoch(&mut self, epoch: u32, first_batch: usize) -> Result<EpochRecord, TrainError> {
        let epoch_start = Instant::now();
        let config = &self.config;
        let n_train = self.train_data.len();
        let mut order: Vec<usize> = (0..n_train).collect();
        order.shuffle(&mut stream_rng(config.seed, &[0x5EF1, epoch as u64]));
        let encoder = RateEncoder::new(
            derive(config.seed, &[0xE9C0, epoch as u64]),
            self.spec.input_scale,
        );
        let lr = config.lr_at(epoch);
        if first_batch == 0 {
            self.partial.clear_epoch();
        }
        let bar = progress_bar(
            self.opts.progress,
            n_train,
            format!("epoch {epoch}/{}", config.epochs),
        );
        bar.set_position(self.partial.epoch_samples as u64);
        let plain = self.opts.progress && !std::io::IsTerminal::is_terminal(&std::io::stderr());
        let train_start = Instant::now();
        let mut last_line = Instant::now();
        for b in first_batch..n_train.div_ceil(config.batch_size) {
            let world = &self.opts.world;
            let mut stop_now = self.opts.interrupt.load(Ordering::SeqCst)
                || self
                    .opts
                    .stop_after_batches
                    .is_some_and(|n| self.batches_run >= n);
            if world.size() > 1 {
                // Every rank stops at the same batch: when any rank was interrupted.
                let mut stops = [u64::from(stop_now)];
                world.all_reduce_sum(&mut stops);
                stop_now = stops[0] > 0;
            }
            if stop_now {
                bar.abandon();
                self.partial.epoch_train_seconds += train_start.elapsed().as_secs_f64();
                self.partial.epoch_seconds += epoch_start.elapsed().as_secs_f64();
                if world.is_root() {
                    self.checkpoint(epoch - 1, b)?;
                }
                return Err(TrainError::Interrupted {
                    epoch,
                    batch: b,
                    checkpoint: self.last_path(),
                    dir: self.opts.out.clone(),
                });
            }
            let size = config.batch_size;
            let idx = &order[b * size..((b + 1) * size).min(n_train)];
            let ctx = BatchContext {
                data: &self.train_data,
                encoder: &encoder,
                timesteps: config.timesteps as usize,
                mode: config.grad,
                dropout: config.dropout,
                seed: config.seed,
                epoch,
                lr,
                weight_decay: config.weight_decay,
                augment: self.augment.as_ref(),
            };
            let (engine, weights) = (&mut self.engine, &mut self.weights);
            let outcome = self
                .pool
                .install(|| engine.train_batch_on(weights, idx, &ctx, world));
            self.batches_run += 1;
            let per_sample = outcome.loss_sum / outcome.samples as f64;
            if !per_sample.is_finite() || per_sample > DIVERGED_LOSS {
                bar.abandon();
                return Err(TrainError::Diverged {
                    epoch,
                    batch: b,
                    loss: per_sample,
                    checkpoint: self.have_checkpoint.then(|| self.last_path()),
                });
            }
            let p = &mut self.partial;
            p.epoch_loss_sum += outcome.loss_sum;
            p.epoch_correct += outcome.correct;
            p.epoch_samples += outcome.samples;
            bar.set_position(p.epoch_samples as u64);
            let status = format!(
                "loss {:.4} acc {:.2}%",
                p.epoch_loss_sum / p.epoch_samples as f64,
                100.0 * p.epoch_correct as f64 / p.epoch_samples as f64
            );
            if plain && last_line.elapsed().as_secs() >= 30 {
                // No terminal (nohup, CI): a plain line every 30 s instead of a bar.
                let done = p.epoch_samples as f64;
                let rate =
                    (done - (first_batch * size) as f64) / train_start.elapsed().as_secs_f64();
                eprintln!(
                    "epoch {epoch}/{} {}/{n_train} samples  {rate:.0} samples/s  ETA {:.0} s  {status}",
                    config.epochs,
                    p.epoch_samples,
                    (n_train as f64 - done) / rate.max(1e-9)
                );
                last_line = Instant::now();
            }
            bar.set_message(status);
        }
        bar.finish_and_clear();
        let train_seconds = self.partial.epoch_train_seconds + train_start.elapsed().as_secs_f64();
        Ok(self.evaluate_epoch(epoch, lr, train_seconds, epoch_start))
    }

    /// Evaluates the weights after epoch `epoch` on the validation and test sets: its record.
    fn evaluate_epoch(
        &self,
        epoch: u32,
        lr: f64,
        train_seconds: f64,
        epoch_start: Instant,
    ) -> EpochRecord {
        let timesteps = self.config.timesteps as usize;
        // With several ranks each evaluates a contiguous share and the counts are summed (the
        // loss sums by the same ring as gradients).
        let world = &self.opts.world;
        let evaluate_on = |data: &Dataset| {
            let (r, size, n) = (world.rank(), world.size(), data.len());
            let (net, weights, encoder) = (&self.net, &self.weights, &self.eval_encoder);
            if size == 1 {
                return self
                    .pool
                    .install(|| evaluate(net, weights, data, encoder, timesteps, n));
            }
            let share = r * n / size..(r + 1) * n / size;
            let mut ev = self
                .pool
                .install(|| evaluate_range(net, weights, data, encoder, timesteps, share));
            sum_over_ranks(&mut ev, world);
            ev
        };
        let val = (!self.val_data.is_empty()).then(|| evaluate_on(&self.val_data));
        let ev = evaluate_on(&self.test_data);
        let p = &self.partial;
        let seconds = p.epoch_seconds + epoch_start.elapsed().as_secs_f64();
        EpochRecord {
            epoch,
            lr,
            loss: p.epoch_loss_sum / p.epoch_samples.max(1) as f64,
            train_accuracy: p.epoch_correct as f64 / p.epoch_samples.max(1) as f64,
            test_accuracy: ev.accuracy(),
            test_loss: ev.loss_sum / ev.samples.max(1) as f64,
            val_accuracy: val.as_ref().map(|v| v.accuracy()),
            val_loss: val.as_ref().map(|v| v.loss_sum / v.samples.max(1) as f64),
            spike_rate: layer_reports(&self.net, &ev, timesteps)
                .into_iter()
                .filter(|r| r.name != "readout")
                .map(|r| (r.name, r.spike_rate))
                .collect(),
            seconds,
            train_samples_per_second: p.epoch_samples as f64 / train_seconds.max(1e-9),
        }
    }

    /// Ends an epoch: prints it, keeps the model when it is the best so far, writes the
    /// checkpoint, the log, the charts and the summary.
    fn finish_epoch(&mut self, record: EpochRecord) -> Result<(), TrainError> {
        let epoch = record.epoch;
        if !self.opts.world.is_root() {
            // Rank 0 keeps the records and writes every file.
            self.records.push(record);
            self.partial.clear_epoch();
            return Ok(());
        }
        if self.opts.progress {
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
        let test_accuracy = record.test_accuracy;
        self.records.push(record);
        if selection > self.best.0 || self.best.1 == 0 {
            self.best = (selection, epoch);
            model_of(
                &self.spec,
                &self.weights,
                &self.config,
                epoch,
                Some(test_accuracy),
            )
            .save(&self.opts.out.join("model.snn"))?;
        }
        self.partial.clear_epoch();
        self.checkpoint(epoch, 0)?;
        self.have_checkpoint = true;
        let out = &self.opts.out;
        let log_path = out.join("log.jsonl");
        write_log(&log_path, &self.records).map_err(TrainError::io(&log_path))?;
        draw_charts(out, &self.title, &self.records)?;
        let summary_path = out.join("summary.json");
        write_json(&summary_path, &self.summary()).map_err(TrainError::io(&summary_path))?;
        Ok(())
    }

    fn summary(&self) -> Summary {
        summarize(
            &self.config,
            self.opts.threads,
            &self.records,
            self.best.1,
            &self.sizes,
            &self.net,
        )
    }
}

/// Sums a share's evaluation over the ranks of `world`: counts exactly, the loss sum in rank
/// order; the predictions stay this rank's.
fn sum_over_ranks(ev: &mut Evaluation, world: &World) {
    let st = &mut ev.stats;
    let layers = st.layer_spikes.len();
    let mut counts: Vec<u64> = [ev.samples as u64, ev.correct as u64, st.input_spikes]
        .into_iter()
        .chain(st.layer_spikes.iter().copied())
        .chain(st.layer_synops.iter().copied())
        .collect();
    world.all_reduce_sum(&mut counts);
    let mut loss = [ev.loss_sum];
    world.all_reduce_sum(&mut loss);
    (ev.samples, ev.correct, st.input_spikes) = (counts[0] as usize, counts[1] as usize, counts[2]);
    st.layer_spikes.copy_from_slice(&counts[3..3 + layers]);
    st.layer_synops.copy_from_slice(&counts[3 + layers..]);
    ev.loss_sum = loss[0];
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
