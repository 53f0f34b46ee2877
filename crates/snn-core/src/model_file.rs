//! The model file (`.snn`): the contract between trainer, mapper and simulator.
//!
//! Layout (all integers little-endian):
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

use crate::atomic::write_atomic;
use crate::error::ModelFileError;
use crate::plan::NetworkPlan;
use crate::spec::NetworkSpec;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Magic bytes at the start of every model file.
pub const MAGIC: &[u8; 8] = b"SNNMODEL";
/// Format version written by this build; files with a higher version are refused.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 28;

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
    /// Best test accuracy so far (fraction) and its epoch (0 = none yet).
    pub best_test_accuracy: f64,
    /// Epoch of the best test accuracy.
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
                    "weights for '{}' found where '{}' was expected",
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
        let payload = crate::payload::encode(self).expect("a Model always serializes");
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Parses file bytes; `path` is used in error messages.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, ModelFileError> {
        let p = || path.to_path_buf();
        if bytes.len() < MAGIC.len() || &bytes[..8] != MAGIC {
            return Err(ModelFileError::BadMagic { path: p() });
        }
        if bytes.len() < HEADER_LEN {
            return Err(ModelFileError::Length {
                path: p(),
                expected: HEADER_LEN as u64,
                found: bytes.len() as u64,
            });
        }
        let u32_at =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let version = u32_at(8);
        if version > FORMAT_VERSION {
            return Err(ModelFileError::NewerVersion {
                path: p(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(&bytes[16..24]);
        let expected = u64::from_le_bytes(len8);
        let payload = &bytes[HEADER_LEN..];
        if payload.len() as u64 != expected {
            return Err(ModelFileError::Length {
                path: p(),
                expected,
                found: payload.len() as u64,
            });
        }
        let crc = crc32fast::hash(payload);
        if crc != u32_at(24) {
            return Err(ModelFileError::Checksum {
                path: p(),
                expected: u32_at(24),
                found: crc,
            });
        }
        let model: Model = crate::payload::decode(payload)
            .map_err(|msg| ModelFileError::Decode { path: p(), msg })?;
        model
            .check()
            .map_err(|msg| ModelFileError::Inconsistent { path: p(), msg })?;
        Ok(model)
    }

    /// Writes the model atomically.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        write_atomic(path, &self.to_bytes()).map_err(|source| ModelFileError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        let bytes = std::fs::read(path).map_err(|source| ModelFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
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
