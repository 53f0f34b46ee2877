//! The model file (`.snn`): the contract between trainer, mapper and simulator.
//!
//! Layout (all integers little-endian; the framing is [`crate::container`]):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `SNNMODEL` |
//! | 8 | 4 | format version (`FORMAT_VERSION`) |
//! | 12 | 4 | flags (0) |
//! | 16 | 8 | payload length in bytes |
//! | 24 | 4 | CRC-32 (IEEE) of the payload |
//! | 28 | n | payload: [`Model`] serialized by the payload module (bincode 2, standard config) |
//!
//! Weights use the layouts of [`crate::plan::Synapses`]: conv `[ky][kx][c_in][c_out]`, dense
//! `[in][out]`; neurons are indexed channel-last. Files are written atomically.

use crate::container::FileKind;
use crate::error::ModelFileError;
use crate::plan::NetworkPlan;
use crate::spec::NetworkSpec;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Magic bytes at the start of every model file.
pub const MAGIC: &[u8; 8] = b"SNNMODEL";
/// Format version written by this build; files with a higher version are refused.
pub const FORMAT_VERSION: u32 = 1;
/// Most time steps per sample any tool runs (training, evaluation, simulation) and a model file
/// may record.
pub const MAX_TIMESTEPS: u32 = 100_000;

/// The framing of model files (see [`crate::container`]).
pub const MODEL_FILE: FileKind = FileKind {
    magic: MAGIC,
    version: FORMAT_VERSION,
    oldest: 1,
    remedy: "",
    name: "model",
    max_bytes: crate::bounded::MAX_MODEL_BYTES,
};

/// Weights of one plan layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerWeights {
    /// Plan layer name (`conv1`, `fc1`, …); must match the spec's plan.
    pub layer: String,
    /// Main synapse weights (empty for pooling).
    pub main: Vec<f32>,
    /// Shortcut weights (empty unless the layer has a 1×1-conv shortcut).
    pub shortcut: Vec<f32>,
}

/// Where training stands, so an interrupted run can resume exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    /// Epochs fully completed.
    pub completed_epochs: u32,
    /// Index of the next mini-batch within the current epoch (0 at an epoch boundary).
    pub next_batch: u32,
    /// The trainer's own state (configuration, partial-epoch counters) as JSON; opaque here.
    pub trainer_state_json: String,
    /// Best accuracy so far (fraction) on the set that selects the model: the validation set
    /// when the run holds one out, else the test set (the trainer's configuration says which).
    pub best_selection_accuracy: f64,
    /// Epoch of that best accuracy (0 = none yet).
    pub best_epoch: u32,
}

/// Facts about how a model was made, shown by tools and reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Producing tool and version, e.g. "snn-train 0.1.0".
    pub created_by: String,
    /// Dataset trained on ("mnist").
    pub dataset: String,
    /// Time steps used in training.
    pub timesteps: u32,
    /// Seed of the run.
    pub seed: u64,
    /// Epochs trained when this file was written.
    pub epochs: u32,
    /// Test accuracy (fraction) measured when this file was written, if any.
    pub test_accuracy: Option<f64>,
}

/// A trained (or training) network: description, weights, metadata, optional training state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The network description (stored as its TOML text, so a model file is self-describing).
    #[serde(with = "spec_as_toml")]
    pub spec: NetworkSpec,
    /// Weights per plan layer, in plan order.
    pub weights: Vec<LayerWeights>,
    /// Provenance.
    pub meta: ModelMeta,
    /// Present in checkpoints; absent in a finished model.
    pub training: Option<TrainingState>,
}

impl Model {
    /// Checks that the weights match the spec's plan (names and sizes, finite values).
    pub fn check(&self) -> Result<NetworkPlan, String> {
        self.spec.validate().map_err(|e| e.to_string())?;
        // 0 = never trained (an untrained model made by the mapper or a test).
        if self.meta.timesteps > MAX_TIMESTEPS {
            return Err(format!(
                "records T = {} time steps; at most {MAX_TIMESTEPS}",
                self.meta.timesteps
            ));
        }
        let plan = NetworkPlan::new(&self.spec).map_err(|e| e.to_string())?;
        if plan.layers.len() != self.weights.len() {
            return Err(format!(
                "plan has {} layers but {} weight blocks",
                plan.layers.len(),
                self.weights.len()
            ));
        }
        for (l, w) in plan.layers.iter().zip(&self.weights) {
            if l.name != w.layer {
                return Err(format!(
                    "weights for {:?} found where '{}' was expected",
                    w.layer, l.name
                ));
            }
            let sc = l.shortcut.map_or(0, |s| s.synapses.weight_count());
            if w.main.len() != l.synapses.weight_count() || w.shortcut.len() != sc {
                return Err(format!(
                    "layer {} needs {}+{} weights, file has {}+{}",
                    l.name,
                    l.synapses.weight_count(),
                    sc,
                    w.main.len(),
                    w.shortcut.len()
                ));
            }
            if w.main.iter().chain(&w.shortcut).any(|x| !x.is_finite()) {
                return Err(format!("layer {} has non-finite weights", l.name));
            }
        }
        Ok(plan)
    }

    /// Serializes to the file bytes (header + payload).
    pub fn to_bytes(&self) -> Vec<u8> {
        MODEL_FILE.to_bytes(self)
    }

    /// Parses file bytes; `path` is used in error messages.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, ModelFileError> {
        let model: Model = MODEL_FILE.from_bytes(bytes, path)?;
        model.check().map_err(|msg| ModelFileError::Inconsistent {
            path: path.to_path_buf(),
            kind: MODEL_FILE.name,
            msg,
        })?;
        Ok(model)
    }

    /// Writes the model atomically.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        MODEL_FILE.save(self, path)
    }

    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        let model: Model = MODEL_FILE.load(path)?;
        model.check().map_err(|msg| ModelFileError::Inconsistent {
            path: path.to_path_buf(),
            kind: MODEL_FILE.name,
            msg,
        })?;
        Ok(model)
    }

    /// A fingerprint of the weights (CRC-32 of their little-endian bytes, layer by layer), so a
    /// mapping can tell whether it was made for this very model.
    pub fn weights_fingerprint(&self) -> u32 {
        let mut h = crc32fast::Hasher::new();
        for w in &self.weights {
            h.update(w.layer.as_bytes());
            for x in w.main.iter().chain(&w.shortcut) {
                h.update(&x.to_le_bytes());
            }
        }
        h.finalize()
    }
}

/// Serde adapter: the spec travels as TOML text (the binary payload format cannot carry
/// internally tagged enums, and TOML keeps the description readable with `strings`).
mod spec_as_toml {
    use crate::spec::NetworkSpec;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(spec: &NetworkSpec, s: S) -> Result<S::Ok, S::Error> {
        let text = toml::to_string(spec).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NetworkSpec, D::Error> {
        let text = String::deserialize(d)?;
        NetworkSpec::from_toml_str(&text, std::path::Path::new("embedded network"))
            .map_err(serde::de::Error::custom)
    }
}
