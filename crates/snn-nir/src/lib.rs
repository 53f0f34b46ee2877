//! snn-nir: models in and out as NIR, the Neuromorphic Intermediate Representation
//! (Pedersen et al., Nature Communications 2024), so networks trained in snnTorch, Norse,
//! sinabs or SpikingJelly can be mapped and simulated, and ours can be run elsewhere.
//!
//! * [`graph`] is the NIR graph in memory; [`read`](mod@read) and [`write`](mod@write) move it from and to HDF5
//!   (the pure-Rust `hdf5-pure` crate: no C libhdf5, which `nir-rs` would need);
//! * [`export`] turns a [`snn_core::Model`] into a graph, [`import`] a graph into a model;
//! * [`load`] is the one loader the tools use: `.snn` or NIR by the magic bytes;
//! * [`layout`] converts weight layouts, [`convention`] the neuron parameters.
//!
//! # The mapping (snn ↔ NIR)
//!
//! | snn (SPEC §3) | NIR nodes |
//! |---|---|
//! | input (C×H×W) | `Input` `shape = [C, H, W]` |
//! | conv layer | `Conv2d` (`weight [out, in, k, k]`, zero `bias`, `stride`, `padding`, `dilation 1`, `groups 1`, `input_shape [H, W]`) → `LIF` |
//! | 2×2 average pool + IF at θₚ | `SumPool2d` (2×2, stride 2) → `IF` (`r = 1`, `v_threshold = 4θₚ`, `v_reset = 0`) |
//! | linear layer | (`Flatten` `start_dim 0` after a conv or pooling layer, whose neurons are `[C, H, W]` even at 1×1) → `Affine` (`weight [out, in]`, zero `bias`) → `LIF` |
//! | readout | `Affine` → `LI` (`r = λ·tau/dt`) → `Output` |
//! | residual block | two `Conv2d → LIF`; the block input reaches the second `LIF` through a 1×1 `Conv2d` (a 1×1 identity-weight `Conv2d` for the stride-2 identity, a direct edge for the stride-1 identity) |
//!
//! LIF parameters: `tau = dt/(1 − λ)`, `r = tau/dt`, `v_leak = 0`, `v_threshold = θ`,
//! `v_reset = 0` (snnTorch's convention; `dt` is `--dt`, default 1e-4 s), written per neuron
//! (C×H×W arrays, gzip) as snnTorch writes them.
//!
//! Exact where NIR can say it:
//! * **LIF order** (paper-method.md §3.1). snn integrates `u = v + I`, fires on `u > θ`,
//!   resets to 0, then leaks `v = λu`. The forward-Euler NIR LIF with `β = 1 − dt/tau`, `r = tau/dt` is
//!   `v ← βv + I`, fire on `v > θ`, reset: the same spikes and the same `u`, only the state
//!   is observed before instead of after the leak.
//! * **Pooling neurons** (§3.2). A SumPool2d adds 1 per spike where snn's average adds 1/4, so the
//!   IF threshold is 4θₚ (3.0 for 0.75); the scale is a power of two, so this is exact.
//! * **Weight layout.** snn's HWC layouts are permuted to NIR's CHW ones ([`layout`]).
//!
//! Metadata, because NIR cannot say it (graph `metadata`, keys in [`convention`]):
//! `snn_input_scale` and `snn_input_encoding` (the Bernoulli rate code: NIR has no encoder),
//! `snn_readout` (the non-spiking readout of §3.3, `V = λ(V + I)`, written as an LI node
//! with `r = λ·tau/dt`; its output is `V(T)/T`, prediction `argmax`),
//! `snn_neuron_order`, the exact f32 `snn_leak` / `snn_threshold` / `snn_pool_threshold`
//! (tau only approximates λ after the f64 round trip), `snn_dt`, and provenance
//! (`snn_name`, `snn_dataset`, `snn_timesteps`, `snn_seed`, `snn_epochs`,
//! `snn_test_accuracy`, `snn_created_by`). Nodes carry `snn_layer` and `snn_role`.
//!
//! Import is lenient in what files from other tools contain and strict in what snn can run;
//! see [`import`] for the rules and the approximations it reports. NIR's IF node is
//! `dv/dt = r·I`; like snnTorch, snn reads its `r` as the input gain per step (`r = 1`).
//!
//! Why `hdf5-pure`: NIR files are HDF5, and the only Rust NIR crate (`nir-rs`) needs the C
//! libhdf5 and a newer rustc than this workspace's; `hdf5-pure` is pure Rust (flate2 for
//! gzip), reads what h5py writes (variable-length strings, chunked gzip datasets) and writes
//! files Python `nir.read` accepts (both checked by this crate's tests).

pub mod convention;
pub mod error;
pub mod export;
pub mod graph;
pub mod import;
pub mod layout;
pub mod load;
pub mod read;
pub mod write;

pub use convention::DEFAULT_DT;
pub use error::NirError;
pub use export::export_file;
pub use import::Imported;
pub use load::{load_any, load_nir};
