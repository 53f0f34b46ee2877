//! Reads a NIR HDF5 file into a [`Graph`], leniently as the exporters in the wild require
//! (see `shared/nir-notes.md`): optional fields may be missing (`bias`, `v_reset`,
//! `input_shape`, Flatten's `input_type`, `dilation`, `groups`), scalars and per-neuron arrays
//! are both accepted, integers and floats of any width are converted. Anything else — an
//! unknown node type, a missing required dataset, a malformed shape — is a one-line
//! [`NirError`].
//!
//! Hostile files: the file size is bounded before it is read, and every dataset's element
//! count is checked against [`MAX_ELEMENTS`] (and the running total against
//! [`MAX_TOTAL_ELEMENTS`]) from its shape before its data is decoded, so a forged shape or a
//! compression bomb cannot make us allocate gigabytes.

use crate::error::NirError;
use crate::graph::{Array, Graph, MetaValue, Metadata, Node, NodeKind};
use hdf5_pure::{Dataset, File, Group, VlenStringReadOptions};
use std::cell::Cell;
use std::path::{Path, PathBuf};

/// Largest NIR file read (bytes). snn's largest preset (ResNet11, 18 M weights) takes ~75 MB.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Largest dataset read (elements).
pub const MAX_ELEMENTS: u64 = 1 << 26;
/// Largest sum of all datasets' elements in one file.
pub const MAX_TOTAL_ELEMENTS: u64 = 1 << 28;
/// Largest string dataset (elements, bytes): node types, edges, metadata.
const MAX_STRINGS: usize = 1 << 16;
const MAX_STRING_BYTES: usize = 1 << 22;

/// Reads and parses the NIR file at `path`.
pub fn read_file(path: &Path) -> Result<Graph, NirError> {
    // Regular files only, size checked before reading (snn_core::bounded).
    let bytes =
        snn_core::bounded::read_bounded(path, MAX_FILE_BYTES, "NIR file").map_err(|source| {
            NirError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
    from_bytes(bytes, path)
}

/// Bounds on what one file may make the reader decode.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest dataset (elements).
    pub max_elements: u64,
    /// Largest sum of all datasets' elements.
    pub max_total_elements: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_elements: MAX_ELEMENTS,
            max_total_elements: MAX_TOTAL_ELEMENTS,
        }
    }
}

/// Parses NIR file bytes; `path` names the file in errors.
pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Graph, NirError> {
    from_bytes_limited(bytes, path, Limits::default())
}

/// [`from_bytes`] with explicit [`Limits`].
pub fn from_bytes_limited(bytes: Vec<u8>, path: &Path, limits: Limits) -> Result<Graph, NirError> {
    let file = File::from_bytes(bytes).map_err(|e| NirError::Hdf5 {
        path: path.to_path_buf(),
        msg: one_line(&e.to_string()),
    })?;
    let r = Reader {
        path: path.to_path_buf(),
        total: Cell::new(0),
        limits,
    };
    let root = file.root();
    let version = if has_dataset(&root, "version") {
        r.string(
            &root.dataset("version").map_err(|e| r.hdf(e))?,
            "/",
            "version",
        )?
    } else {
        String::new()
    };
    let node = root.group("node").map_err(|_| NirError::Missing {
        path: r.path.clone(),
        node: "/".into(),
        kind: "NIR file".into(),
        field: "node".into(),
    })?;
    let ctx = Ctx {
        r: &r,
        group: &node,
        name: "node",
        kind: "NIRGraph",
    };
    let ty = ctx.string("type")?;
    if ty != "NIRGraph" {
        return Err(NirError::Node {
            path: r.path.clone(),
            node: "node".into(),
            msg: format!("top-level node has type {ty}, expected NIRGraph"),
        });
    }
    let nodes_group = node.group("nodes").map_err(|_| ctx.missing("nodes"))?;
    let mut nodes = Vec::new();
    for name in nodes_group.groups().map_err(|e| r.hdf(e))? {
        let g = nodes_group.group(&name).map_err(|e| r.hdf(e))?;
        nodes.push(read_node(&r, &g, &name)?);
    }
    let edges = read_edges(&ctx)?;
    let metadata = read_metadata(&r, &node, "node")?;
    Ok(Graph {
        version,
        nodes,
        edges,
        metadata,
    })
}

struct Reader {
    path: PathBuf,
    total: Cell<u64>,
    limits: Limits,
}

impl Reader {
    fn hdf(&self, e: hdf5_pure::Error) -> NirError {
        NirError::Hdf5 {
            path: self.path.clone(),
            msg: one_line(&e.to_string()),
        }
    }

    fn node_err(&self, node: &str, msg: String) -> NirError {
        NirError::Node {
            path: self.path.clone(),
            node: node.to_string(),
            msg,
        }
    }

    /// Checks a dataset's size from its shape before any data is decoded.
    fn budget(&self, ds: &Dataset, node: &str, field: &str) -> Result<Vec<usize>, NirError> {
        let shape = ds.shape().map_err(|e| self.hdf(e))?;
        let count = shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .filter(|&c| c <= self.limits.max_elements)
            .ok_or_else(|| {
                self.node_err(
                    node,
                    format!(
                        "'{field}' has shape {shape:?}, more than {} elements",
                        self.limits.max_elements
                    ),
                )
            })?;
        let total = self.total.get() + count;
        if total > self.limits.max_total_elements {
            return Err(self.node_err(
                node,
                format!(
                    "the file's datasets hold more than {} elements",
                    self.limits.max_total_elements
                ),
            ));
        }
        self.total.set(total);
        Ok(shape.iter().map(|&d| d as usize).collect())
    }

    fn strings(&self, ds: &Dataset, node: &str, field: &str) -> Result<Vec<String>, NirError> {
        self.budget(ds, node, field)?;
        let dt = ds.dtype().map_err(|e| self.hdf(e))?;
        let out = match dt {
            hdf5_pure::DType::VariableLengthString => ds.read_vlen_strings(
                VlenStringReadOptions::new()
                    .with_max_elements(MAX_STRINGS)
                    .with_max_payload_bytes(MAX_STRING_BYTES),
            ),
            hdf5_pure::DType::String => ds.read_string(),
            other => {
                return Err(self.node_err(node, format!("'{field}' holds {other}, not strings")))
            }
        };
        out.map_err(|e| self.node_err(node, format!("'{field}': {}", one_line(&e.to_string()))))
    }

    fn string(&self, ds: &Dataset, node: &str, field: &str) -> Result<String, NirError> {
        let mut v = self.strings(ds, node, field)?;
        if v.len() != 1 {
            return Err(self.node_err(
                node,
                format!("'{field}' should be one string, holds {}", v.len()),
            ));
        }
        Ok(v.remove(0).trim_end_matches('\0').to_string())
    }
}

fn has_dataset(g: &Group, name: &str) -> bool {
    g.datasets().is_ok_and(|d| d.iter().any(|n| n == name))
}

fn has_group(g: &Group, name: &str) -> bool {
    g.groups().is_ok_and(|d| d.iter().any(|n| n == name))
}

/// One node's group, for reading its datasets with errors that name the node.
struct Ctx<'a> {
    r: &'a Reader,
    group: &'a Group,
    name: &'a str,
    kind: &'a str,
}

impl Ctx<'_> {
    fn missing(&self, field: &str) -> NirError {
        NirError::Missing {
            path: self.r.path.clone(),
            node: self.name.to_string(),
            kind: self.kind.to_string(),
            field: field.to_string(),
        }
    }

    fn err(&self, msg: String) -> NirError {
        self.r.node_err(self.name, msg)
    }

    fn has(&self, field: &str) -> bool {
        has_dataset(self.group, field)
    }

    fn dataset(&self, field: &str) -> Result<Dataset, NirError> {
        if !self.has(field) {
            return Err(self.missing(field));
        }
        self.group.dataset(field).map_err(|e| self.r.hdf(e))
    }

    fn string(&self, field: &str) -> Result<String, NirError> {
        let ds = self.dataset(field)?;
        self.r.string(&ds, self.name, field)
    }

    fn is_string(&self, field: &str) -> bool {
        self.group.dataset(field).is_ok_and(|ds| {
            matches!(
                ds.dtype(),
                Ok(hdf5_pure::DType::VariableLengthString | hdf5_pure::DType::String)
            )
        })
    }

    fn numeric(&self, ds: &Dataset, field: &str) -> Result<(), NirError> {
        match ds.dtype().map_err(|e| self.r.hdf(e))? {
            hdf5_pure::DType::F32
            | hdf5_pure::DType::F64
            | hdf5_pure::DType::I8
            | hdf5_pure::DType::I16
            | hdf5_pure::DType::I32
            | hdf5_pure::DType::I64
            | hdf5_pure::DType::U8
            | hdf5_pure::DType::U16
            | hdf5_pure::DType::U32
            | hdf5_pure::DType::U64 => Ok(()),
            other => Err(self.err(format!("'{field}' holds {other}, not numbers"))),
        }
    }

    fn f32s(&self, field: &str) -> Result<Array<f32>, NirError> {
        let ds = self.dataset(field)?;
        self.numeric(&ds, field)?;
        let shape = self.r.budget(&ds, self.name, field)?;
        let data = ds.read_f32().map_err(|e| self.r.hdf(e))?;
        self.check_len(field, &shape, data.len())?;
        Ok(Array { shape, data })
    }

    fn f64s(&self, field: &str) -> Result<Array<f64>, NirError> {
        let ds = self.dataset(field)?;
        self.numeric(&ds, field)?;
        let shape = self.r.budget(&ds, self.name, field)?;
        let data = ds.read_f64().map_err(|e| self.r.hdf(e))?;
        self.check_len(field, &shape, data.len())?;
        Ok(Array { shape, data })
    }

    fn check_len(&self, field: &str, shape: &[usize], len: usize) -> Result<(), NirError> {
        if shape.iter().product::<usize>() != len {
            return Err(self.err(format!("'{field}' has shape {shape:?} but {len} values")));
        }
        Ok(())
    }

    /// Integers (stored as any numeric type; floats must be whole numbers).
    fn ints(&self, field: &str) -> Result<Vec<i64>, NirError> {
        let a = self.f64s(field)?;
        a.data
            .iter()
            .map(|&x| {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    Ok(x as i64)
                } else {
                    Err(self.err(format!("'{field}' holds {x}, not an integer")))
                }
            })
            .collect()
    }

    fn int(&self, field: &str) -> Result<i64, NirError> {
        match self.ints(field)?.as_slice() {
            [x] => Ok(*x),
            other => Err(self.err(format!(
                "'{field}' should be one integer, holds {}",
                other.len()
            ))),
        }
    }

    /// A non-negative size.
    fn size(&self, field: &str, x: i64) -> Result<usize, NirError> {
        usize::try_from(x).map_err(|_| self.err(format!("'{field}' holds {x}, not a size")))
    }

    /// A shape (list of sizes).
    fn shape(&self, field: &str) -> Result<Vec<usize>, NirError> {
        self.ints(field)?
            .into_iter()
            .map(|x| self.size(field, x))
            .collect()
    }

    /// A pair (y, x) given as one number or two.
    fn pair(&self, field: &str) -> Result<[usize; 2], NirError> {
        match self.ints(field)?.as_slice() {
            [a] => Ok([self.size(field, *a)?; 2]),
            [a, b] => Ok([self.size(field, *a)?, self.size(field, *b)?]),
            other => Err(self.err(format!(
                "'{field}' should hold 1 or 2 integers, holds {}",
                other.len()
            ))),
        }
    }

    fn pair_or(&self, field: &str, default: [usize; 2]) -> Result<[usize; 2], NirError> {
        if self.has(field) {
            self.pair(field)
        } else {
            Ok(default)
        }
    }

    fn opt_f32s(&self, field: &str) -> Result<Option<Vec<f32>>, NirError> {
        if self.has(field) {
            Ok(Some(self.f32s(field)?.data))
        } else {
            Ok(None)
        }
    }

    /// `v_reset`: optional, zeros when absent (as `nir.read` does).
    fn reset(&self) -> Result<Array<f64>, NirError> {
        if self.has("v_reset") {
            self.f64s("v_reset")
        } else {
            Ok(Array::scalar(0.0))
        }
    }
}

fn read_node(r: &Reader, g: &Group, name: &str) -> Result<Node, NirError> {
    // A damaged object header shows here, not as a "missing" dataset later.
    g.datasets().map_err(|e| r.hdf(e))?;
    let pre = Ctx {
        r,
        group: g,
        name,
        kind: "node",
    };
    let ty = pre.string("type")?;
    let c = Ctx { kind: &ty, ..pre };
    let kind = match ty.as_str() {
        "Input" | "Output" => {
            // `nir` writes `shape`; some older writers used `input_type` / `output_type`.
            let field = ["shape", "input_type", "output_type"]
                .into_iter()
                .find(|f| c.has(f))
                .ok_or_else(|| c.missing("shape"))?;
            let shape = c.shape(field)?;
            if ty == "Input" {
                NodeKind::Input { shape }
            } else {
                NodeKind::Output { shape }
            }
        }
        "Conv2d" => {
            let padding = if c.is_string("padding") {
                // "valid" = 0; "same" is resolved by the importer from the kernel size.
                match c.string("padding")?.as_str() {
                    "valid" => [0, 0],
                    "same" => [usize::MAX, usize::MAX],
                    other => return Err(c.err(format!("unknown padding '{other}'"))),
                }
            } else {
                c.pair_or("padding", [0, 0])?
            };
            let input_shape = if c.has("input_shape") {
                Some(c.pair("input_shape")?)
            } else {
                None
            };
            NodeKind::Conv2d {
                weight: c.f32s("weight")?,
                bias: c.opt_f32s("bias")?,
                stride: c.pair_or("stride", [1, 1])?,
                padding,
                dilation: c.pair_or("dilation", [1, 1])?,
                groups: if c.has("groups") {
                    let g = c.int("groups")?;
                    c.size("groups", g)?
                } else {
                    1
                },
                input_shape,
            }
        }
        "Affine" | "Linear" => NodeKind::Affine {
            weight: c.f32s("weight")?,
            bias: if ty == "Affine" {
                Some(c.opt_f32s("bias")?.unwrap_or_default())
            } else {
                None
            },
        },
        "SumPool2d" | "AvgPool2d" => {
            let kernel = c.pair("kernel_size")?;
            NodeKind::Pool2d {
                average: ty == "AvgPool2d",
                kernel,
                stride: c.pair_or("stride", kernel)?,
                padding: c.pair_or("padding", [0, 0])?,
            }
        }
        "Flatten" => NodeKind::Flatten {
            start_dim: if c.has("start_dim") {
                c.int("start_dim")?
            } else {
                1
            },
            end_dim: if c.has("end_dim") {
                c.int("end_dim")?
            } else {
                -1
            },
            input_type: if c.has("input_type") {
                Some(c.shape("input_type")?)
            } else {
                None
            },
        },
        "LIF" => NodeKind::Lif {
            tau: c.f64s("tau")?,
            r: c.f64s("r")?,
            v_leak: if c.has("v_leak") {
                c.f64s("v_leak")?
            } else {
                Array::scalar(0.0)
            },
            v_threshold: c.f64s("v_threshold")?,
            v_reset: c.reset()?,
        },
        "IF" => NodeKind::If {
            r: c.f64s("r")?,
            v_threshold: c.f64s("v_threshold")?,
            v_reset: c.reset()?,
        },
        "LI" => NodeKind::Li {
            tau: c.f64s("tau")?,
            r: c.f64s("r")?,
            v_leak: if c.has("v_leak") {
                c.f64s("v_leak")?
            } else {
                Array::scalar(0.0)
            },
        },
        other => {
            return Err(NirError::Unsupported {
                path: r.path.clone(),
                kind: other.to_string(),
                node: name.to_string(),
            })
        }
    };
    Ok(Node {
        name: name.to_string(),
        kind,
        metadata: read_metadata(r, g, name)?,
    })
}

fn read_edges(c: &Ctx) -> Result<Vec<(String, String)>, NirError> {
    let ds = c.dataset("edges")?;
    let shape = ds.shape().map_err(|e| c.r.hdf(e))?;
    let flat = c.r.strings(&ds, c.name, "edges")?;
    let ok = match shape.as_slice() {
        [_, 2] => true,
        [0] | [] => flat.is_empty(),
        _ => false,
    };
    if !ok || flat.len() % 2 != 0 {
        return Err(c.err(format!("'edges' has shape {shape:?}, expected N x 2")));
    }
    Ok(flat
        .chunks(2)
        .map(|p| {
            (
                p[0].trim_end_matches('\0').to_string(),
                p[1].trim_end_matches('\0').to_string(),
            )
        })
        .collect())
}

/// Reads `group/metadata` (scalars: strings, numbers); other entries are skipped.
fn read_metadata(r: &Reader, g: &Group, node: &str) -> Result<Metadata, NirError> {
    let mut out = Metadata::new();
    if !has_group(g, "metadata") {
        return Ok(out);
    }
    let m = g.group("metadata").map_err(|e| r.hdf(e))?;
    let c = Ctx {
        r,
        group: &m,
        name: node,
        kind: "metadata",
    };
    for key in m.datasets().map_err(|e| r.hdf(e))? {
        let ds = m.dataset(&key).map_err(|e| r.hdf(e))?;
        let value = match ds.dtype().map_err(|e| r.hdf(e))? {
            hdf5_pure::DType::VariableLengthString | hdf5_pure::DType::String => {
                match r.strings(&ds, node, &key)?.as_slice() {
                    [s] => MetaValue::Str(s.trim_end_matches('\0').to_string()),
                    _ => continue,
                }
            }
            hdf5_pure::DType::F32 | hdf5_pure::DType::F64 => match c.f64s(&key)?.data.as_slice() {
                [x] => MetaValue::Float(*x),
                _ => continue,
            },
            hdf5_pure::DType::I8
            | hdf5_pure::DType::I16
            | hdf5_pure::DType::I32
            | hdf5_pure::DType::I64
            | hdf5_pure::DType::U8
            | hdf5_pure::DType::U16
            | hdf5_pure::DType::U32
            | hdf5_pure::DType::U64 => match c.ints(&key)?.as_slice() {
                [x] => MetaValue::Int(*x),
                _ => continue,
            },
            _ => continue,
        };
        out.push((key, value));
    }
    Ok(out)
}

/// Keeps an error message on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
