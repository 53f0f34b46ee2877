//! Spike-activity profiles: per-neuron spike counts measured on sample data.
//!
//! The trainer's evaluation (`snn-train eval --profile-out P`) writes one; the mapper reads it to
//! weight traffic between cores by real spike rates instead of assuming every neuron fires
//! equally. Counts are integers summed over samples and steps, so a profile does not depend on the
//! thread count that measured it. Neuron indices are channel-last, `(y·W + x)·C + c`, as everywhere
//! in snn.
//!
//! The file is JSON (one object, the fields of [`ActivityProfile`]), written atomically.

use crate::plan::NetworkPlan;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Spike counts of one plan layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerActivity {
    /// Plan layer name (`conv1`, `pool1`, `res1a`, `readout`, ...).
    pub name: String,
    /// Neurons in the layer; `spikes.len()` equals it.
    pub neurons: usize,
    /// Spikes emitted per neuron over all samples and steps, channel-last index `(y·W + x)·C + c`
    /// (all zero for the non-spiking readout).
    pub spikes: Vec<u64>,
}

/// Per-neuron spike counts of a whole network, measured on `samples` samples of `timesteps` steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityProfile {
    /// Name of the network (the spec's `name`).
    pub network: String,
    /// Tool that measured the profile (`"snn-train 0.1.0 eval"`).
    pub created_by: String,
    /// Samples the counts are summed over.
    pub samples: u64,
    /// Time steps per sample.
    pub timesteps: u32,
    /// Input spikes (positive and negative) per input pixel/channel, channel-last.
    pub input: Vec<u64>,
    /// One entry per plan layer, in plan order; the readout's counts are zero.
    pub layers: Vec<LayerActivity>,
}

/// A profile that cannot be read, written or used with a given network. Every message is one
/// line that starts with `profile <file>:` and names the cause.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read (missing, unreadable).
    #[error("profile {path}: cannot read: {source}")]
    Read {
        /// The profile file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("profile {path}: cannot write: {source}")]
    Write {
        /// The profile file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON or not shaped like a profile (line and column are in `msg`).
    #[error("profile {path}: not a JSON activity profile: {msg}")]
    Json {
        /// The profile file.
        path: PathBuf,
        /// The parser's message.
        msg: String,
    },
    /// A layer lists a different number of counts than it claims neurons.
    #[error("profile {path}: layer {layer} has {neurons} neurons but {counts} spike counts")]
    Counts {
        /// The profile file.
        path: PathBuf,
        /// Layer name.
        layer: String,
        /// The layer's `neurons`.
        neurons: usize,
        /// Length of the layer's `spikes`.
        counts: usize,
    },
    /// The profile has a different number of layers than the network.
    #[error("profile {path}: the model has {model} layers but the profile has {profile}")]
    LayerCount {
        /// The profile file.
        path: PathBuf,
        /// Plan layers of the model.
        model: usize,
        /// Layers in the profile.
        profile: usize,
    },
    /// A layer has a different name than the network's layer at the same position.
    #[error("profile {path}: layer {index} is {model} in the model but {profile} in the profile")]
    LayerName {
        /// The profile file.
        path: PathBuf,
        /// 0-based plan layer index.
        index: usize,
        /// The model's layer name.
        model: String,
        /// The profile's layer name.
        profile: String,
    },
    /// A layer has a different number of neurons than the network's layer.
    #[error(
        "profile {path}: layer {layer} has {model} neurons in the model but {profile} in the profile"
    )]
    LayerSize {
        /// The profile file.
        path: PathBuf,
        /// Layer name.
        layer: String,
        /// Neurons in the model.
        model: usize,
        /// Neurons in the profile.
        profile: usize,
    },
    /// The input has a different size than the network's input.
    #[error("profile {path}: the model has {model} inputs but the profile has {profile}")]
    InputSize {
        /// The profile file.
        path: PathBuf,
        /// Input pixels × channels of the model.
        model: usize,
        /// Length of the profile's `input`.
        profile: usize,
    },
}

impl ActivityProfile {
    /// An empty profile (no samples, every count zero) shaped like `plan`.
    pub fn zeros(plan: &NetworkPlan, network: &str, created_by: &str) -> Self {
        ActivityProfile {
            network: network.to_string(),
            created_by: created_by.to_string(),
            samples: 0,
            timesteps: 0,
            input: vec![0; plan.input.len()],
            layers: plan
                .layers
                .iter()
                .map(|l| LayerActivity {
                    name: l.name.clone(),
                    neurons: l.output.len(),
                    spikes: vec![0; l.output.len()],
                })
                .collect(),
        }
    }

    /// Adds the counts and samples of `other`, which must have the same shape (panics otherwise:
    /// both come from [`zeros`](Self::zeros) of the same plan). Keeps `self`'s `timesteps` unless
    /// it is 0.
    pub fn add(&mut self, other: &ActivityProfile) {
        assert_eq!(self.input.len(), other.input.len(), "profile input size");
        assert_eq!(self.layers.len(), other.layers.len(), "profile layer count");
        self.samples += other.samples;
        if self.timesteps == 0 {
            self.timesteps = other.timesteps;
        }
        for (a, b) in self.input.iter_mut().zip(&other.input) {
            *a += b;
        }
        for (la, lb) in self.layers.iter_mut().zip(&other.layers) {
            assert_eq!(
                la.spikes.len(),
                lb.spikes.len(),
                "profile layer {}",
                la.name
            );
            for (a, b) in la.spikes.iter_mut().zip(&lb.spikes) {
                *a += b;
            }
        }
    }

    /// Sample-steps the counts are summed over (`samples × timesteps`).
    fn steps(&self) -> u64 {
        self.samples * self.timesteps as u64
    }

    /// Spikes per step of neuron `neuron` of plan layer `layer` (0 when nothing was measured).
    /// Panics if either index is out of range.
    pub fn rate(&self, layer: usize, neuron: usize) -> f64 {
        per_step(self.layers[layer].spikes[neuron], self.steps())
    }

    /// Spikes per step (either sign) of input `neuron` (0 when nothing was measured). Panics if
    /// the index is out of range.
    pub fn input_rate(&self, neuron: usize) -> f64 {
        per_step(self.input[neuron], self.steps())
    }

    /// All spikes of plan layer `layer` (the layer's `spikes` in an evaluation report).
    pub fn total_spikes(&self, layer: usize) -> u64 {
        self.layers[layer].spikes.iter().sum()
    }

    /// Checks that the profile fits `plan`: the same layers in the same order with the same
    /// neuron counts, and the same input size. `path` names the profile in the error.
    pub fn check_matches(&self, plan: &NetworkPlan, path: &Path) -> Result<(), ProfileError> {
        let path_buf = || path.to_path_buf();
        if self.layers.len() != plan.layers.len() {
            return Err(ProfileError::LayerCount {
                path: path_buf(),
                model: plan.layers.len(),
                profile: self.layers.len(),
            });
        }
        for (index, (m, p)) in plan.layers.iter().zip(&self.layers).enumerate() {
            if m.name != p.name {
                return Err(ProfileError::LayerName {
                    path: path_buf(),
                    index,
                    model: m.name.clone(),
                    profile: p.name.clone(),
                });
            }
            if m.output.len() != p.neurons || p.spikes.len() != p.neurons {
                return Err(ProfileError::LayerSize {
                    path: path_buf(),
                    layer: m.name.clone(),
                    model: m.output.len(),
                    profile: p.spikes.len(),
                });
            }
        }
        if self.input.len() != plan.input.len() {
            return Err(ProfileError::InputSize {
                path: path_buf(),
                model: plan.input.len(),
                profile: self.input.len(),
            });
        }
        Ok(())
    }

    /// Writes the profile as JSON to `path` atomically (temporary file + rename).
    pub fn save(&self, path: &Path) -> Result<(), ProfileError> {
        // Compact: a profile holds one number per neuron; pretty-printing would put each on a line.
        let mut bytes = serde_json::to_vec(self).map_err(|e| ProfileError::Json {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })?;
        bytes.push(b'\n');
        crate::atomic::write_atomic(path, &bytes).map_err(|source| ProfileError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a profile written by [`save`](Self::save) and checks that every layer lists one
    /// count per neuron.
    pub fn load(path: &Path) -> Result<ActivityProfile, ProfileError> {
        let bytes =
            crate::bounded::read_bounded(path, crate::bounded::MAX_JSON_BYTES, "activity profile")
                .map_err(|source| ProfileError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
        Self::from_slice(&bytes, path)
    }

    /// Parses profile JSON (what [`load`](Self::load) reads); `path` names it in errors.
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<ActivityProfile, ProfileError> {
        let profile: ActivityProfile =
            serde_json::from_slice(bytes).map_err(|e| ProfileError::Json {
                path: path.to_path_buf(),
                msg: e.to_string(),
            })?;
        for l in &profile.layers {
            if l.spikes.len() != l.neurons {
                return Err(ProfileError::Counts {
                    path: path.to_path_buf(),
                    layer: l.name.clone(),
                    neurons: l.neurons,
                    counts: l.spikes.len(),
                });
            }
        }
        Ok(profile)
    }
}

/// `count / steps`, 0 when `steps` is 0.
fn per_step(count: u64, steps: u64) -> f64 {
    if steps == 0 {
        0.0
    } else {
        count as f64 / steps as f64
    }
}
