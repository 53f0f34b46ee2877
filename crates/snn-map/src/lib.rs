//! snn-map: decides which core of a modeled neuromorphic chip holds every neuron of a trained
//! network, where each core sits on the chip's mesh and how spikes are routed.
//!
//! Flow ([`pipeline::map_model`]): the plan becomes a [`network::NetGraph`]; every layer is cut into
//! [`atoms`] (channel block × spatial tile) that fit a core; spike activity (a profile or
//! uniform) turns into an atom [`traffic::Hypergraph`]; [`partition`] packs atoms into cores
//! under the [`limits`] tracked by [`usage`]; [`place`] puts cores on the mesh; the result is a
//! [`mapping::Mapping`] file and a [`report`]. [`chip`] reads `hardware-models/*.toml`.
//! [`bound`] gives the fewest inter-core packets any valid mapping can send, reported beside
//! ours and the baselines.

pub mod atoms;
pub mod bound;
pub mod chip;
pub mod error;
pub mod external;
pub mod limits;
pub mod mapping;
pub mod network;
pub mod partition;
pub mod pipeline;
pub mod place;
pub mod region;
pub mod report;
pub mod traffic;
pub mod usage;

pub use error::MapError;
