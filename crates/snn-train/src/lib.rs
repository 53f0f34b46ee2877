//! snn-train: spike-based backpropagation (Lee et al. 2020) on a plain CPU.
//!
//! Data flow of one iteration: [`forward`] runs each sample for T steps through
//! `snn_core::runtime` and records its spikes ([`trace`]); [`grad`] turns the spikes into weight
//! gradients (code-faithful recurrence or aggregate counts); [`batch`] does this for a
//! mini-batch in parallel and applies [`optim`]'s SGD step; [`train`] loops over epochs, calls
//! [`eval`] and writes logs, charts and model files; [`compare`] sets finished runs side by side.

#![warn(missing_docs)]

pub mod batch;
pub mod charts;
pub mod compare;
pub mod config;
pub mod error;
pub mod eval;
pub mod forward;
pub mod grad;
pub mod layers;
pub mod log;
pub mod optim;
pub mod params;
mod run_start;
pub mod seed;
pub mod summary;
pub mod trace;
pub mod train;

pub use config::TrainConfig;
pub use error::TrainError;
pub use grad::GradMode;
