//! Chip models: what a modeled neuromorphic chip can hold (per-core limits, mesh) and what its
//! operations cost (energy, latency), each constant carrying its source and basis.
//!
//! The file format, every key, its unit and how the mapper and simulator use it are documented in
//! `hardware-models/README.md`; the numbers and their provenance come from
//! `shared/hardware-notes.md` §4. [`ChipModel::load`] reads a file, [`ChipModel::validate`] is the
//! one place where value ranges are checked, and [`ChipModel::to_toml_string`] writes a file that
//! reads back to an equal model.

mod read;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};

/// How a constant was obtained. Numbers of different bases are not interchangeable
/// (hardware-notes.md §4): a pre-silicon minimum is not a measured all-in average.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// A measurement of, or a published property of, fabricated silicon.
    Measured,
    /// A design-time estimate (circuit simulation, synthesis) rather than a measurement.
    PreSilicon,
    /// Computed by us from published numbers (e.g. chip power divided by core count).
    Derived,
    /// Our modeling choice where no published number exists or applies.
    Model,
}

impl Basis {
    /// Every basis, in declaration order.
    pub const ALL: [Basis; 4] = [
        Basis::Measured,
        Basis::PreSilicon,
        Basis::Derived,
        Basis::Model,
    ];

    /// The spelling used in chip files (`"pre-silicon"` etc.).
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Measured => "measured",
            Basis::PreSilicon => "pre-silicon",
            Basis::Derived => "derived",
            Basis::Model => "model",
        }
    }

    /// Parses the chip-file spelling; `None` for anything else.
    pub fn parse(text: &str) -> Option<Basis> {
        Basis::ALL.into_iter().find(|b| b.as_str() == text)
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A constant with provenance: `{ value = ..., source = "...", basis = "..." }` in a chip file.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant<T> {
    /// The number, in the unit named by the key that holds it.
    pub value: T,
    /// Where it comes from (paper, URL, or why we chose it); never empty.
    pub source: String,
    /// What kind of number it is.
    pub basis: Basis,
}

/// The chip's 2-D mesh of tiles; each tile holds `cores_per_tile` cores. Spikes between tiles
/// travel hop by hop, X first then Y (dimension-order routing).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshSpec {
    /// Tiles along X (east-west).
    pub width: Constant<u32>,
    /// Tiles along Y (north-south).
    pub height: Constant<u32>,
    /// Cores sharing one tile (spikes between them cost `spike_local_*`, no hop).
    pub cores_per_tile: Constant<u32>,
}

/// Per-core capacity limits the mapper must respect.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreSpec {
    /// Neurons (compartments) per core.
    pub max_neurons: Constant<u32>,
    /// Distinct input axons (presynaptic neurons) feeding one core.
    pub max_fan_in: Constant<u32>,
    /// Distinct destination cores (routing entries) one core's neurons send to.
    pub max_fan_out: Constant<u32>,
    /// Synapse memory per core, in bits; a core needs synapses stored × `weight_bits`.
    pub synaptic_memory_bits: Constant<u64>,
    /// Bits per stored weight (1..=32).
    pub weight_bits: Constant<u32>,
    /// Membrane / neuron-state bits (1..=64).
    pub state_bits: Constant<u32>,
    /// True: a conv layer's kernel is stored once per core, not once per synapse.
    pub shared_conv_weights: Constant<bool>,
}

/// Energy per operation (pJ) and static power (mW per core).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergySpec {
    /// Per synaptic operation (one spike arriving at one synapse).
    pub synop_pj: Constant<f64>,
    /// Per update of a neuron that received input or fired this step.
    pub neuron_active_pj: Constant<f64>,
    /// Per update of a neuron that was idle this step.
    pub neuron_idle_pj: Constant<f64>,
    /// Per spike delivered to a core within the sending core's tile.
    pub spike_local_pj: Constant<f64>,
    /// Per east-west mesh hop of one spike packet.
    pub hop_x_pj: Constant<f64>,
    /// Per north-south mesh hop of one spike packet.
    pub hop_y_pj: Constant<f64>,
    /// Static (leakage) power per core, charged over simulated time.
    pub static_mw_per_core: Constant<f64>,
    /// Per multiply-accumulate, for layers whose input is not binary (ANN reference); `None`
    /// where the chip has no published MAC cost.
    pub mac_pj: Option<Constant<f64>>,
}

/// Time per operation (ns) and the per-step barrier.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySpec {
    /// Per synaptic operation.
    pub synop_ns: Constant<f64>,
    /// Per active neuron update.
    pub neuron_active_ns: Constant<f64>,
    /// Per idle neuron update.
    pub neuron_idle_ns: Constant<f64>,
    /// Per spike delivered within a tile.
    pub spike_local_ns: Constant<f64>,
    /// Per east-west hop.
    pub hop_x_ns: Constant<f64>,
    /// Per north-south hop.
    pub hop_y_ns: Constant<f64>,
    /// Global synchronisation at the end of every time step.
    pub barrier_ns: Constant<f64>,
    /// *Optional.* Time one spike packet occupies one direction of one mesh link: a step whose
    /// busiest link carries `n` packets lasts at least `n` × this. Absent or 0: link bandwidth is
    /// not modeled (links never stretch a step).
    #[serde(default)]
    pub link_packet_ns: Option<Constant<f64>>,
}

/// One modeled chip, as read from `hardware-models/<name>.toml`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChipModel {
    /// Short identifier (e.g. `loihi`).
    pub name: String,
    /// One or two sentences: what chip this is and what the model leaves out.
    pub description: String,
    /// Tile mesh.
    pub mesh: MeshSpec,
    /// Per-core limits.
    pub core: CoreSpec,
    /// Energy costs.
    pub energy: EnergySpec,
    /// Latency costs.
    pub latency: LatencySpec,
}

/// What is wrong with one key of a chip file (the "cause" part of a [`ChipError`] line).
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// The key is not part of the schema; `expected` lists the keys allowed at that place.
    UnknownKey {
        /// Keys allowed in the enclosing table.
        expected: &'static [&'static str],
    },
    /// A required key is absent.
    MissingKey,
    /// The value has the wrong TOML type.
    WrongType {
        /// What the schema wants (e.g. "an integer").
        expected: &'static str,
        /// The TOML type found (e.g. "string").
        found: &'static str,
    },
    /// `basis` is none of measured / pre-silicon / derived / model.
    UnknownBasis {
        /// The string found.
        found: String,
    },
    /// The value has the right type but is outside the allowed range.
    OutOfRange {
        /// The value as written.
        value: String,
        /// The allowed range, in words.
        allowed: String,
    },
    /// A string that must say something is empty.
    EmptyText,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownKey { expected } => {
                write!(f, "unknown key; expected one of ")?;
                for (i, key) in expected.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}`{key}`")?;
                }
                Ok(())
            }
            Problem::MissingKey => write!(f, "required key is missing"),
            Problem::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            Problem::UnknownBasis { found } => write!(
                f,
                "unknown basis {found:?}; expected \"measured\", \"pre-silicon\", \"derived\" or \"model\""
            ),
            Problem::OutOfRange { value, allowed } => {
                write!(f, "value {value} out of range; must be {allowed}")
            }
            Problem::EmptyText => write!(f, "must not be empty"),
        }
    }
}

/// A value-range failure found by [`ChipModel::validate`]: the dotted key and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// Dotted key, e.g. `core.max_neurons.value`.
    pub key: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key `{}`: {}", self.key, self.problem)
    }
}

/// Why a chip file could not be loaded. Every variant displays as one line that names the file
/// and, where there is one, the line number and dotted key.
#[derive(Debug, thiserror::Error)]
pub enum ChipError {
    /// The file could not be read.
    #[error("{}: cannot read chip file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The text is not valid TOML.
    #[error("{}:{line}: TOML syntax: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// The parser's message, on one line.
        message: String,
    },
    /// Valid TOML that does not describe a chip: unknown, missing or mistyped key, or a value
    /// out of range.
    #[error("{}:{line}: key `{key}`: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending key or value (of the enclosing table for a missing key).
        line: usize,
        /// Dotted key, e.g. `core.max_neurons` or `energy.synop_pj.value`.
        key: String,
        /// What is wrong.
        problem: Problem,
    },
}

impl ChipError {
    /// The dotted key the error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            ChipError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The 1-based line the error points at, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            ChipError::Syntax { line, .. } | ChipError::Invalid { line, .. } => Some(*line),
            ChipError::Read { .. } => None,
        }
    }

    /// The problem with the key, for [`ChipError::Invalid`].
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ChipError::Invalid { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// Most tiles along one side of a chip's mesh.
pub const MAX_MESH_SIDE: u64 = 4096;
/// Most cores on one chip (TrueNorth, the largest modeled, has 4,096).
pub const MAX_CORES_PER_CHIP: u64 = 1 << 20;
/// Most neurons, fan-in or fan-out entries per core (about 1e9: room for the "any network fits"
/// limits of `generic-45nm.toml`, far below where sums of them could overflow).
pub const MAX_PER_CORE: u64 = 1 << 30;
/// Most synaptic memory per core, in bits (about 1.1e15, i.e. 128 TiB; same reasoning).
pub const MAX_MEMORY_BITS: u64 = 1 << 50;
/// Largest energy per operation, pJ (1 µJ; real chips spend 1–100 pJ).
pub const MAX_ENERGY_PJ: f64 = 1e6;
/// Largest static power per core, mW (10 W; real cores draw well under 1 mW to a few mW).
pub const MAX_STATIC_MW_PER_CORE: f64 = 1e4;
/// Largest latency per operation or barrier, ns (1 s; real ones are ns to µs).
pub const MAX_LATENCY_NS: f64 = 1e9;

impl ChipModel {
    /// Reads and validates a chip file.
    pub fn load(path: &Path) -> Result<ChipModel, ChipError> {
        let text = snn_core::bounded::read_text_bounded(
            path,
            snn_core::bounded::MAX_TEXT_BYTES,
            "chip file",
        )
        .map_err(|source| ChipError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ChipModel::from_toml_str(&text, path)
    }

    /// Parses and validates chip-file text; `path` is used only in error messages.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<ChipModel, ChipError> {
        read::from_toml_str(text, path)
    }

    /// Cores on one chip: mesh width × height × cores per tile.
    pub fn cores_per_chip(&self) -> usize {
        (self.mesh.width.value as usize)
            .saturating_mul(self.mesh.height.value as usize)
            .saturating_mul(self.mesh.cores_per_tile.value as usize)
    }

    /// Tiles on one chip: mesh width × height.
    pub fn tiles_per_chip(&self) -> usize {
        (self.mesh.width.value as usize).saturating_mul(self.mesh.height.value as usize)
    }

    /// Writes the model in the chip-file format (inline `{ value, source, basis }` tables);
    /// [`ChipModel::from_toml_str`] reads it back to an equal model.
    pub fn to_toml_string(&self) -> String {
        write::to_toml_string(self)
    }

    /// Checks every value range; the only place chip limits are validated. Loading calls it;
    /// call it yourself for models built in code. Returns the first violation in schema order.
    pub fn validate(&self) -> Result<(), Violation> {
        fn fail(key: &str, problem: Problem) -> Result<(), Violation> {
            Err(Violation {
                key: key.to_string(),
                problem,
            })
        }
        if self.name.trim().is_empty() {
            return fail("name", Problem::EmptyText);
        }
        let m = &self.mesh;
        check_count("mesh.width", &m.width, 1, MAX_MESH_SIDE)?;
        check_count("mesh.height", &m.height, 1, MAX_MESH_SIDE)?;
        check_count(
            "mesh.cores_per_tile",
            &m.cores_per_tile,
            1,
            MAX_CORES_PER_CHIP,
        )?;
        let cores = u64::from(m.width.value) * u64::from(m.height.value);
        let cores = cores.saturating_mul(m.cores_per_tile.value.into());
        if cores > MAX_CORES_PER_CHIP {
            return fail(
                "mesh",
                Problem::OutOfRange {
                    value: cores.to_string(),
                    allowed: format!(
                        "width × height × cores_per_tile at most {MAX_CORES_PER_CHIP}"
                    ),
                },
            );
        }
        let c = &self.core;
        check_count("core.max_neurons", &c.max_neurons, 1, MAX_PER_CORE)?;
        check_count("core.max_fan_in", &c.max_fan_in, 1, MAX_PER_CORE)?;
        check_count("core.max_fan_out", &c.max_fan_out, 1, MAX_PER_CORE)?;
        check_count(
            "core.synaptic_memory_bits",
            &c.synaptic_memory_bits,
            1,
            MAX_MEMORY_BITS,
        )?;
        check_count("core.weight_bits", &c.weight_bits, 1, 32)?;
        check_count("core.state_bits", &c.state_bits, 1, 64)?;
        check_source("core.shared_conv_weights", &c.shared_conv_weights)?;
        let e = &self.energy;
        for (key, constant) in [
            ("energy.synop_pj", &e.synop_pj),
            ("energy.neuron_active_pj", &e.neuron_active_pj),
            ("energy.neuron_idle_pj", &e.neuron_idle_pj),
            ("energy.spike_local_pj", &e.spike_local_pj),
            ("energy.hop_x_pj", &e.hop_x_pj),
            ("energy.hop_y_pj", &e.hop_y_pj),
        ] {
            check_cost(key, constant, MAX_ENERGY_PJ)?;
        }
        check_cost(
            "energy.static_mw_per_core",
            &e.static_mw_per_core,
            MAX_STATIC_MW_PER_CORE,
        )?;
        if let Some(mac) = &e.mac_pj {
            check_cost("energy.mac_pj", mac, MAX_ENERGY_PJ)?;
        }
        let l = &self.latency;
        for (key, constant) in [
            ("latency.synop_ns", &l.synop_ns),
            ("latency.neuron_active_ns", &l.neuron_active_ns),
            ("latency.neuron_idle_ns", &l.neuron_idle_ns),
            ("latency.spike_local_ns", &l.spike_local_ns),
            ("latency.hop_x_ns", &l.hop_x_ns),
            ("latency.hop_y_ns", &l.hop_y_ns),
            ("latency.barrier_ns", &l.barrier_ns),
        ] {
            check_cost(key, constant, MAX_LATENCY_NS)?;
        }
        if let Some(link) = &l.link_packet_ns {
            check_cost("latency.link_packet_ns", link, MAX_LATENCY_NS)?;
        }
        Ok(())
    }
}

fn check_source<T>(key: &str, constant: &Constant<T>) -> Result<(), Violation> {
    if constant.source.trim().is_empty() {
        return Err(Violation {
            key: format!("{key}.source"),
            problem: Problem::EmptyText,
        });
    }
    Ok(())
}

/// A count or width: an integer in `min..=max`.
fn check_count<T: Copy + Into<u64>>(
    key: &str,
    constant: &Constant<T>,
    min: u64,
    max: u64,
) -> Result<(), Violation> {
    let value: u64 = constant.value.into();
    if value < min || value > max {
        return Err(Violation {
            key: format!("{key}.value"),
            problem: Problem::OutOfRange {
                value: value.to_string(),
                allowed: format!("between {min} and {max}"),
            },
        });
    }
    check_source(key, constant)
}

/// An energy, power or latency: finite, not negative and at most `max` (a physical bound far
/// above any real chip, so that a typo such as 1e18 ns cannot silently saturate chip time or
/// overflow an energy sum).
fn check_cost(key: &str, constant: &Constant<f64>, max: f64) -> Result<(), Violation> {
    let value = constant.value;
    if !value.is_finite() || !(0.0..=max).contains(&value) {
        return Err(Violation {
            key: format!("{key}.value"),
            problem: Problem::OutOfRange {
                value: write::float(value),
                allowed: format!("finite, between 0 and {}", write::float(max)),
            },
        });
    }
    check_source(key, constant)
}
