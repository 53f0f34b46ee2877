//! Facade package of the snn workspace. It owns the end-to-end tests in `tests/` and the
//! benchmarks in `benches/`, and re-exports the library crates for them.
pub use snn_core as core;
pub use snn_data as data;
pub use snn_train as train;
