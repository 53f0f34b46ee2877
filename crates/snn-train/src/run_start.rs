//! Where a run starts: a fresh initialisation (or `--init-from` weights), or a checkpoint
//! (`last.snn`) with the settings a resumed run may change; and the checkpoint's contents.

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::log::{read_log, EpochRecord};
use crate::params;
use serde::{Deserialize, Serialize};
use snn_core::model_file::{LayerWeights, ModelMeta, TrainingState};
use snn_core::runtime::CompiledNet;
use snn_core::{preset, Model};
use std::path::Path;

/// The trainer's state stored in checkpoints (`TrainingState::trainer_state_json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TrainerState {
    pub(crate) config: TrainConfig,
    pub(crate) epoch_loss_sum: f64,
    pub(crate) epoch_correct: usize,
    pub(crate) epoch_samples: usize,
    pub(crate) epoch_train_seconds: f64,
    pub(crate) epoch_seconds: f64,
}

/// The model file of `weights` after `epochs` epochs (best or checkpoint).
pub(crate) fn model_of(
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
pub(crate) struct RunStart {
    pub(crate) spec: snn_core::NetworkSpec,
    pub(crate) weights: Vec<LayerWeights>,
    /// 1-based epoch to run next.
    pub(crate) start_epoch: u32,
    /// Batch of that epoch to run next.
    pub(crate) start_batch: usize,
    /// Log records of the completed epochs.
    pub(crate) records: Vec<EpochRecord>,
    /// Best selection accuracy (validation, else test) so far and its epoch (0 = none).
    pub(crate) best: (f64, u32),
    /// Trainer state (configuration and partial-epoch counters).
    pub(crate) partial: TrainerState,
}

impl RunStart {
    pub(crate) fn fresh(config: TrainConfig) -> Result<Self, TrainError> {
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
            partial: TrainerState::new(config),
        })
    }

    pub(crate) fn resume(
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

impl TrainerState {
    /// A run's state before its first batch.
    pub(crate) fn new(config: TrainConfig) -> Self {
        TrainerState {
            config,
            epoch_loss_sum: 0.0,
            epoch_correct: 0,
            epoch_samples: 0,
            epoch_train_seconds: 0.0,
            epoch_seconds: 0.0,
        }
    }

    /// Clears the partial-epoch counters (at the start of an epoch and after it ends).
    pub(crate) fn clear_epoch(&mut self) {
        *self = TrainerState::new(self.config.clone());
    }
}

/// The checkpoint `last.snn`: the weights, the epochs completed, the next batch, the best
/// selection accuracy and its epoch, and the trainer's partial-epoch state.
pub(crate) fn checkpoint_model(
    spec: &snn_core::NetworkSpec,
    weights: &[LayerWeights],
    completed: u32,
    next_batch: usize,
    best: (f64, u32),
    partial: &TrainerState,
) -> Model {
    let mut m = model_of(spec, weights, &partial.config, completed, None);
    m.training = Some(TrainingState {
        completed_epochs: completed,
        next_batch: next_batch as u32,
        trainer_state_json: serde_json::to_string(partial).expect("state serializes"),
        best_selection_accuracy: best.0,
        best_epoch: best.1,
    });
    m
}
