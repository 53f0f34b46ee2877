//! Reading a chip file: TOML syntax, then schema (unknown / missing / mistyped keys) with the
//! line of every key kept, then [`ChipModel::validate`] with its key mapped back to a line.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{
    Basis, ChipError, ChipModel, Constant, CoreSpec, EnergySpec, LatencySpec, MeshSpec, Problem,
};

const TOP_KEYS: &[&str] = &["name", "description", "mesh", "core", "energy", "latency"];
const MESH_KEYS: &[&str] = &["width", "height", "cores_per_tile"];
const CORE_KEYS: &[&str] = &[
    "max_neurons",
    "max_fan_in",
    "max_fan_out",
    "synaptic_memory_bits",
    "weight_bits",
    "state_bits",
    "shared_conv_weights",
];
const ENERGY_KEYS: &[&str] = &[
    "synop_pj",
    "neuron_active_pj",
    "neuron_idle_pj",
    "spike_local_pj",
    "hop_x_pj",
    "hop_y_pj",
    "static_mw_per_core",
    "mac_pj",
];
const LATENCY_KEYS: &[&str] = &[
    "synop_ns",
    "neuron_active_ns",
    "neuron_idle_ns",
    "spike_local_ns",
    "hop_x_ns",
    "hop_y_ns",
    "barrier_ns",
    "link_packet_ns",
];
const CONSTANT_KEYS: &[&str] = &["value", "source", "basis"];

pub(super) fn from_toml_str(text: &str, path: &Path) -> Result<ChipModel, ChipError> {
    let reader = Reader { text, path };
    // The parser may report a consequence (an unclosed table) before its cause (an unclosed
    // string on an earlier line); the earliest error in the file is the one to fix.
    let (doc, errors) = DeTable::parse_recoverable(text);
    if let Some(e) = errors
        .iter()
        .min_by_key(|e| e.span().map_or(0, |s| s.start))
    {
        return Err(ChipError::Syntax {
            path: path.to_path_buf(),
            line: reader.line(e.span().map_or(0, |s| s.start)),
            message: e.message().lines().collect::<Vec<_>>().join("; "),
        });
    }
    let top = reader.table_entries(doc.get_ref(), doc.span(), String::new(), TOP_KEYS)?;
    let mesh = top.table(&reader, "mesh", MESH_KEYS)?;
    let core = top.table(&reader, "core", CORE_KEYS)?;
    let energy = top.table(&reader, "energy", ENERGY_KEYS)?;
    let latency = top.table(&reader, "latency", LATENCY_KEYS)?;
    let model = ChipModel {
        name: top.string(&reader, "name")?,
        description: top.string(&reader, "description")?,
        mesh: MeshSpec {
            width: mesh.constant(&reader, "width")?,
            height: mesh.constant(&reader, "height")?,
            cores_per_tile: mesh.constant(&reader, "cores_per_tile")?,
        },
        core: CoreSpec {
            max_neurons: core.constant(&reader, "max_neurons")?,
            max_fan_in: core.constant(&reader, "max_fan_in")?,
            max_fan_out: core.constant(&reader, "max_fan_out")?,
            synaptic_memory_bits: core.constant(&reader, "synaptic_memory_bits")?,
            weight_bits: core.constant(&reader, "weight_bits")?,
            state_bits: core.constant(&reader, "state_bits")?,
            shared_conv_weights: core.constant(&reader, "shared_conv_weights")?,
        },
        energy: EnergySpec {
            synop_pj: energy.constant(&reader, "synop_pj")?,
            neuron_active_pj: energy.constant(&reader, "neuron_active_pj")?,
            neuron_idle_pj: energy.constant(&reader, "neuron_idle_pj")?,
            spike_local_pj: energy.constant(&reader, "spike_local_pj")?,
            hop_x_pj: energy.constant(&reader, "hop_x_pj")?,
            hop_y_pj: energy.constant(&reader, "hop_y_pj")?,
            static_mw_per_core: energy.constant(&reader, "static_mw_per_core")?,
            mac_pj: match energy.entries.get("mac_pj") {
                Some(_) => Some(energy.constant(&reader, "mac_pj")?),
                None => None,
            },
        },
        latency: LatencySpec {
            synop_ns: latency.constant(&reader, "synop_ns")?,
            neuron_active_ns: latency.constant(&reader, "neuron_active_ns")?,
            neuron_idle_ns: latency.constant(&reader, "neuron_idle_ns")?,
            spike_local_ns: latency.constant(&reader, "spike_local_ns")?,
            hop_x_ns: latency.constant(&reader, "hop_x_ns")?,
            hop_y_ns: latency.constant(&reader, "hop_y_ns")?,
            barrier_ns: latency.constant(&reader, "barrier_ns")?,
            link_packet_ns: match latency.entries.get("link_packet_ns") {
                Some(_) => Some(latency.constant(&reader, "link_packet_ns")?),
                None => None,
            },
        },
    };
    model.validate().map_err(|v| {
        let span = span_of(doc.get_ref(), doc.span(), &v.key);
        reader.error(span, v.key, v.problem)
    })?;
    Ok(model)
}

/// The span of the deepest existing value along a dotted key (the whole document if none).
fn span_of(doc: &DeTable<'_>, doc_span: Range<usize>, key: &str) -> Range<usize> {
    let mut table = Some(doc);
    let mut span = doc_span;
    for segment in key.split('.') {
        let Some(value) = table.and_then(|t| t.get(segment)) else {
            break;
        };
        span = value.span();
        table = value.get_ref().as_table();
    }
    span
}

/// The file being read, for line numbers and error construction.
struct Reader<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Reader<'_> {
    /// 1-based line holding byte `offset`.
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: Range<usize>, key: String, problem: Problem) -> ChipError {
        ChipError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line(span.start),
            key,
            problem,
        }
    }

    /// Checks that `value` is a table with only `allowed` keys.
    fn table<'t, 'i>(
        &self,
        value: &'t Spanned<DeValue<'i>>,
        key: String,
        allowed: &'static [&'static str],
        expected: &'static str,
    ) -> Result<Table<'t, 'i>, ChipError> {
        match value.get_ref() {
            DeValue::Table(entries) => self.table_entries(entries, value.span(), key, allowed),
            other => Err(self.error(
                value.span(),
                key,
                Problem::WrongType {
                    expected,
                    found: other.type_str(),
                },
            )),
        }
    }

    /// Checks that `entries` has only `allowed` keys; reports the first unknown one in file order.
    fn table_entries<'t, 'i>(
        &self,
        entries: &'t DeTable<'i>,
        span: Range<usize>,
        key: String,
        allowed: &'static [&'static str],
    ) -> Result<Table<'t, 'i>, ChipError> {
        let unknown = entries
            .keys()
            .filter(|k| !allowed.contains(&k.get_ref().as_ref()))
            .min_by_key(|k| k.span().start);
        if let Some(name) = unknown {
            let key = join(&key, name.get_ref());
            return Err(self.error(name.span(), key, Problem::UnknownKey { expected: allowed }));
        }
        Ok(Table { entries, span, key })
    }
}

/// A table of the file, already checked for unknown keys, with its dotted key.
struct Table<'t, 'i> {
    entries: &'t DeTable<'i>,
    span: Range<usize>,
    key: String,
}

impl<'t, 'i> Table<'t, 'i> {
    fn required(&self, r: &Reader<'_>, name: &str) -> Result<&'t Spanned<DeValue<'i>>, ChipError> {
        self.entries.get(name).ok_or_else(|| {
            r.error(
                self.span.clone(),
                join(&self.key, name),
                Problem::MissingKey,
            )
        })
    }

    fn table(
        &self,
        r: &Reader<'_>,
        name: &str,
        allowed: &'static [&'static str],
    ) -> Result<Table<'t, 'i>, ChipError> {
        let value = self.required(r, name)?;
        r.table(value, join(&self.key, name), allowed, "a table")
    }

    fn string(&self, r: &Reader<'_>, name: &str) -> Result<String, ChipError> {
        let value = self.required(r, name)?;
        match value.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(r.error(
                value.span(),
                join(&self.key, name),
                Problem::WrongType {
                    expected: "a string",
                    found: other.type_str(),
                },
            )),
        }
    }

    fn constant<T: Scalar>(&self, r: &Reader<'_>, name: &str) -> Result<Constant<T>, ChipError> {
        let value = self.required(r, name)?;
        let table = r.table(
            value,
            join(&self.key, name),
            CONSTANT_KEYS,
            "a table `{ value = ..., source = \"...\", basis = \"...\" }`",
        )?;
        let raw = table.required(r, "value")?;
        let value = T::from_toml(raw.get_ref())
            .map_err(|problem| r.error(raw.span(), join(&table.key, "value"), problem))?;
        let source = table.string(r, "source")?;
        let basis_text = table.string(r, "basis")?;
        let basis = Basis::parse(&basis_text).ok_or_else(|| {
            let span = table
                .entries
                .get("basis")
                .map_or(table.span.clone(), |b| b.span());
            r.error(
                span,
                join(&table.key, "basis"),
                Problem::UnknownBasis { found: basis_text },
            )
        })?;
        Ok(Constant {
            value,
            source,
            basis,
        })
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// A value type a [`Constant`] can hold in a chip file.
trait Scalar: Sized {
    fn from_toml(value: &DeValue<'_>) -> Result<Self, Problem>;
}

fn wrong_type(expected: &'static str, value: &DeValue<'_>) -> Problem {
    Problem::WrongType {
        expected,
        found: value.type_str(),
    }
}

/// Reads a TOML integer into any unsigned type, rejecting negatives and overflow.
fn unsigned<T: TryFrom<i128>>(value: &DeValue<'_>, allowed: &'static str) -> Result<T, Problem> {
    let DeValue::Integer(int) = value else {
        return Err(wrong_type("an integer", value));
    };
    let out_of_range = || Problem::OutOfRange {
        value: int.to_string(),
        allowed: allowed.into(),
    };
    let wide = i128::from_str_radix(int.as_str(), int.radix()).map_err(|_| out_of_range())?;
    T::try_from(wide).map_err(|_| out_of_range())
}

impl Scalar for u32 {
    fn from_toml(value: &DeValue<'_>) -> Result<Self, Problem> {
        unsigned(value, "between 0 and 4294967295")
    }
}

impl Scalar for u64 {
    fn from_toml(value: &DeValue<'_>) -> Result<Self, Problem> {
        unsigned(value, "between 0 and 18446744073709551615")
    }
}

impl Scalar for bool {
    fn from_toml(value: &DeValue<'_>) -> Result<Self, Problem> {
        value
            .as_bool()
            .ok_or_else(|| wrong_type("a boolean", value))
    }
}

impl Scalar for f64 {
    fn from_toml(value: &DeValue<'_>) -> Result<Self, Problem> {
        match value {
            // An integer is accepted where a number is expected: `hop_x_pj = { value = 0, ... }`.
            DeValue::Integer(int) => i64::from_str_radix(int.as_str(), int.radix())
                .map(|i| i as f64)
                .map_err(|_| Problem::OutOfRange {
                    value: int.to_string(),
                    allowed: "a 64-bit integer or a float".into(),
                }),
            DeValue::Float(float) => {
                let text = float.as_str();
                let text = text.strip_prefix('+').unwrap_or(text);
                text.parse::<f64>().or_else(|_| match text {
                    "nan" | "-nan" => Ok(f64::NAN),
                    _ => Err(wrong_type("a number", value)),
                })
            }
            other => Err(wrong_type("a number", other)),
        }
    }
}
