//! How snn's discrete-time neurons are written as NIR's continuous-time nodes, and the
//! metadata keys that carry what NIR cannot express (see the crate docs for the whole mapping).
//!
//! NIR stores no time step. snnTorch's convention, used here: a leak factor β per step is the
//! forward-Euler discretization of `tau dv/dt = −v + r I` with step `dt`, so
//! `β = 1 − dt/tau`, `tau = dt/(1 − β)`, and `r = tau/dt` makes the per-step input gain 1.

/// snnTorch's default time step (seconds) for NIR export and import.
pub const DEFAULT_DT: f64 = 1e-4;

/// The membrane time constant (seconds) of leak factor `beta` at step `dt`.
pub fn tau_of_beta(beta: f64, dt: f64) -> f64 {
    dt / (1.0 - beta)
}

/// The leak factor per step of time constant `tau` at step `dt` (`tau = ∞` gives 1).
pub fn beta_of_tau(tau: f64, dt: f64) -> f64 {
    1.0 - dt / tau
}

/// The per-step input gain of a leaky node: `r · dt / tau` (1 under snnTorch's convention).
pub fn gain(r: f64, tau: f64, dt: f64) -> f64 {
    r * dt / tau
}

/// Graph metadata: marks a file written by snn (value [`FORMAT`]).
pub const KEY_FORMAT: &str = "snn_format";
/// The value of [`KEY_FORMAT`] this build writes.
pub const FORMAT: &str = "snn-nir/1";
/// Graph metadata: network name.
pub const KEY_NAME: &str = "snn_name";
/// Graph metadata: input rate-coding scale (Bernoulli `p = scale·|x|` per step, value sign x).
pub const KEY_INPUT_SCALE: &str = "snn_input_scale";
/// Graph metadata: a sentence describing the input encoding (for humans and other tools).
pub const KEY_INPUT_ENCODING: &str = "snn_input_encoding";
/// Graph metadata: the exact f32 leak factor λ (NIR's tau only approximates it in f32).
pub const KEY_LEAK: &str = "snn_leak";
/// Graph metadata: the exact LIF threshold.
pub const KEY_THRESHOLD: &str = "snn_threshold";
/// Graph metadata: the exact pooling-IF threshold (on the 2×2 *average*; the IF node carries
/// 4× it because it follows a SumPool2d).
pub const KEY_POOL_THRESHOLD: &str = "snn_pool_threshold";
/// Graph metadata: the dt (seconds) used to write tau and r.
pub const KEY_DT: &str = "snn_dt";
/// Graph metadata: a sentence stating the neuron order (integrate, fire, reset, leak).
pub const KEY_NEURON_ORDER: &str = "snn_neuron_order";
/// Graph metadata: a sentence stating how the readout is decoded (`argmax V(T)/T`).
pub const KEY_READOUT: &str = "snn_readout";
/// Graph metadata: the dataset the model was trained on.
pub const KEY_DATASET: &str = "snn_dataset";
/// Graph metadata: time steps per sample used in training.
pub const KEY_TIMESTEPS: &str = "snn_timesteps";
/// Graph metadata: the run seed, as a decimal string (u64 does not fit NIR's i64).
pub const KEY_SEED: &str = "snn_seed";
/// Graph metadata: epochs trained.
pub const KEY_EPOCHS: &str = "snn_epochs";
/// Graph metadata: test accuracy (fraction) when the model was written.
pub const KEY_TEST_ACCURACY: &str = "snn_test_accuracy";
/// Graph metadata: the tool that trained the model.
pub const KEY_CREATED_BY: &str = "snn_created_by";
/// Node metadata: the snn plan layer a node belongs to.
pub const KEY_LAYER: &str = "snn_layer";
/// Node metadata: the role of a node (`lif`, `pool_if`, `readout`, `shortcut_identity`).
pub const KEY_ROLE: &str = "snn_role";
