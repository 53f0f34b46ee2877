//! snn-nir: NIR stub
pub mod convention;
pub mod error;
pub mod export;
pub mod graph;
pub mod layout;
pub mod read;
pub mod write;
pub use error::NirError;
