//! The mapping file (`mapping.bin`): the contract between mapper and simulator. Framed like the
//! model file ([`snn_core::container`]: magic `SNNMAPNG`, version, length, CRC-32) and carrying
//! the chip model, the atom grid, the core and slot of every atom and per-core routing tables.

use crate::atoms::AtomSet;
use crate::chip::ChipModel;
use crate::error::MapError;
use crate::place::{Mesh, Slot};
use serde::{Deserialize, Serialize};
use snn_core::container::FileKind;
use snn_core::plan::NetworkPlan;
use snn_core::Model;
use std::path::Path;

mod validate;

/// Framing of mapping files.
pub const MAPPING_FILE: FileKind = FileKind {
    magic: b"SNNMAPNG",
    // Version 2 added the chip's optional `latency.link_packet_ns`.
    version: 2,
    oldest: 2,
    remedy: "run snn-map again to write it in the current format",
    name: "mapping",
    max_bytes: snn_core::bounded::MAX_MAPPING_BYTES,
};

/// One routing-table entry: spikes of this core go to `dest`, `hops_x` + `hops_y` mesh hops away
/// (dimension-order routing; 0 + 0 = same tile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Destination core.
    pub dest: u32,
    /// Hops along x.
    pub hops_x: u32,
    /// Hops along y.
    pub hops_y: u32,
}

/// One used core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoreRecord {
    /// Where it sits.
    pub slot: Slot,
    /// Atoms it holds.
    pub atoms: Vec<u32>,
    /// Neurons.
    pub neurons: u64,
    /// Distinct presynaptic neurons.
    pub fan_in: u64,
    /// Distinct destination cores.
    pub fan_out: u32,
    /// Synaptic memory used, bits.
    pub memory_bits: u64,
    /// Expected synaptic operations per step.
    pub load: f64,
    /// Routing table.
    pub routes: Vec<Route>,
}

/// A network mapped onto a chip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// Network name.
    pub network: String,
    /// The plan the mapping was made for.
    pub plan: NetworkPlan,
    /// [`Model::weights_fingerprint`] of the model mapped.
    pub weights_fingerprint: u32,
    /// The chip.
    pub chip: ChipModel,
    /// Chip file it came from.
    pub chip_path: String,
    /// Mesh (with the number of joined chips).
    pub mesh: Mesh,
    /// Atom grid of every layer.
    pub atoms: AtomSet,
    /// Core of every atom.
    pub core_of_atom: Vec<u32>,
    /// Used cores.
    pub cores: Vec<CoreRecord>,
    /// Where the activity weights came from.
    pub activity: String,
    /// Seed of the mapper.
    pub seed: u64,
}

impl Mapping {
    /// Writes the mapping atomically.
    pub fn save(&self, path: &Path) -> Result<(), MapError> {
        Ok(MAPPING_FILE.save(self, path)?)
    }

    /// Reads a mapping and checks that it describes something runnable (embedded chip, mesh,
    /// atom grid, cores, slots and routes; see `mapping/validate.rs`); the plan is compared with the model's
    /// by [`Mapping::check_model`].
    pub fn load(path: &Path) -> Result<Mapping, MapError> {
        let m: Mapping = MAPPING_FILE.load(path)?;
        Self::checked(m, path)
    }

    /// Decodes and checks mapping file bytes like [`Mapping::load`]; `path` names them in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Mapping, MapError> {
        let m: Mapping = MAPPING_FILE.from_bytes(bytes, path)?;
        Self::checked(m, path)
    }

    fn checked(m: Mapping, path: &Path) -> Result<Mapping, MapError> {
        validate::validate(&m).map_err(|msg| {
            MapError::File(snn_core::FileError::Inconsistent {
                path: path.to_path_buf(),
                kind: "mapping",
                msg,
            })
        })?;
        Ok(m)
    }

    /// Fails unless this mapping was made for `model` (same layers and shapes, same weights).
    pub fn check_model(
        &self,
        model: &Model,
        model_path: &Path,
        path: &Path,
    ) -> Result<(), MapError> {
        let plan = NetworkPlan::new(&model.spec).map_err(|e| MapError::Usage(e.to_string()))?;
        let mismatch = |msg: String| MapError::Mismatch {
            path: path.to_path_buf(),
            msg,
        };
        if plan != self.plan {
            // Names from the file are escaped: a newline in one must not break the error line.
            let ours: Vec<String> = self
                .plan
                .layers
                .iter()
                .map(|l| format!("{}:{}", l.name.escape_debug(), l.output))
                .collect();
            let theirs: Vec<String> = plan
                .layers
                .iter()
                .map(|l| format!("{}:{}", l.name, l.output))
                .collect();
            return Err(mismatch(format!(
                "it maps network '{}' [{}] but {} is '{}' [{}]; run snn-map on this model",
                self.network.escape_debug(),
                ours.join(" "),
                model_path.display(),
                model.spec.name,
                theirs.join(" ")
            )));
        }
        if model.weights_fingerprint() != self.weights_fingerprint {
            return Err(mismatch(format!(
                "same architecture but different weights than {} (fingerprint {:08x}, mapping has {:08x}); run snn-map on this model",
                model_path.display(),
                model.weights_fingerprint(),
                self.weights_fingerprint
            )));
        }
        Ok(())
    }

    /// Core of neuron `idx` (channel-last) of plan layer `layer`.
    pub fn core_of(&self, layer: usize, idx: usize) -> u32 {
        self.core_of_atom[self.atoms.atom_of(layer, idx) as usize]
    }
}
