//! snn-sim: replays a data set as sparse spike events through a network mapped onto a modeled
//! chip, and reports accuracy, synaptic operations, sparsity, traffic, time and energy.
//!
//! * [`program`] turns a mapping and a model into what each core runs;
//! * [`quant`] holds the float weights and their fixed-point form in the chip's bits;
//! * [`layer`] (default for float) steps whole layers with `snn-core`'s kernels and charges
//!   every event to its core from tables; [`engine`] runs cores on worker threads exchanging
//!   spike packets through per-worker outboxes, one barrier per chip step; both count events in
//!   [`counters`] and agree exactly;
//! * [`ledger`] prices the counts with the chip's energy constants;
//! * [`report`] writes report.json, report.md and the charts.

#![recursion_limit = "256"]

pub mod counters;
pub mod engine;
pub mod error;
pub mod layer;
pub mod ledger;
pub mod links;
mod part;
pub mod program;
pub mod quant;
pub mod report;
pub mod run;
pub mod simulation;
mod timing;

pub use error::SimError;
