//! Writes a [`Graph`] as a NIR HDF5 file, laid out as the Python `nir` package writes it:
//! `/version` (string), `/node` with `type = "NIRGraph"`, `nodes/<name>/…`, `edges` (N×2
//! strings) and `metadata/…`. Large arrays are gzip-compressed in chunks, as `nir.write` does.

use crate::graph::{Array, Graph, MetaValue, Metadata, Node, NodeKind};
use hdf5_pure::{FileBuilder, GroupBuilder};

/// The NIR version written in `/version` (the format of Python `nir` 1.0.8, against which the
/// files were checked).
pub const NIR_VERSION: &str = "1.0.8";

/// Arrays with more elements than this are written gzip-compressed in chunks.
const COMPRESS_ABOVE: usize = 64;
/// Target elements per chunk of a compressed array.
const CHUNK_ELEMENTS: usize = 1 << 18;

/// Serializes the graph to HDF5 bytes.
pub fn to_bytes(graph: &Graph) -> Result<Vec<u8>, String> {
    let mut fb = FileBuilder::new();
    fb.create_dataset("version")
        .with_vlen_strings(&[graph.version.as_str()])
        .with_shape(&[]);
    let mut node = fb.create_group("node");
    string(&mut node, "type", "NIRGraph");
    let mut nodes = node.create_group("nodes");
    for n in &graph.nodes {
        let g = write_node(&mut nodes, n);
        nodes.add_group(g);
    }
    node.add_group(nodes.finish());
    let flat: Vec<&str> = graph
        .edges
        .iter()
        .flat_map(|(a, b)| [a.as_str(), b.as_str()])
        .collect();
    node.create_dataset("edges")
        .with_vlen_strings(&flat)
        .with_shape(&[graph.edges.len() as u64, 2]);
    write_metadata(&mut node, &graph.metadata);
    fb.add_group(node.finish());
    fb.finish().map_err(|e| e.to_string())
}

fn write_node(parent: &mut GroupBuilder, n: &Node) -> hdf5_pure::FinishedGroup {
    let mut g = parent.create_group(&n.name);
    string(&mut g, "type", n.kind.type_name());
    match &n.kind {
        NodeKind::Input { shape } | NodeKind::Output { shape } => ints(&mut g, "shape", shape),
        NodeKind::Conv2d {
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
            input_shape,
        } => {
            f32s(&mut g, "weight", weight);
            let out = weight.shape.first().copied().unwrap_or(0);
            let zeros;
            let b = match bias {
                Some(b) => b,
                None => {
                    zeros = vec![0.0; out];
                    &zeros
                }
            };
            f32s(
                &mut g,
                "bias",
                &Array {
                    shape: vec![b.len()],
                    data: b.clone(),
                },
            );
            ints(&mut g, "stride", stride);
            ints(&mut g, "padding", padding);
            ints(&mut g, "dilation", dilation);
            scalar_int(&mut g, "groups", *groups as i64);
            if let Some(s) = input_shape {
                ints(&mut g, "input_shape", s);
            }
        }
        NodeKind::Affine { weight, bias } => {
            f32s(&mut g, "weight", weight);
            if let Some(b) = bias {
                f32s(
                    &mut g,
                    "bias",
                    &Array {
                        shape: vec![b.len()],
                        data: b.clone(),
                    },
                );
            }
        }
        NodeKind::Pool2d {
            kernel,
            stride,
            padding,
            ..
        } => {
            ints(&mut g, "kernel_size", kernel);
            ints(&mut g, "stride", stride);
            ints(&mut g, "padding", padding);
        }
        NodeKind::Flatten {
            start_dim,
            end_dim,
            input_type,
        } => {
            scalar_int(&mut g, "start_dim", *start_dim);
            scalar_int(&mut g, "end_dim", *end_dim);
            if let Some(t) = input_type {
                ints(&mut g, "input_type", t);
            }
        }
        NodeKind::Lif {
            tau,
            r,
            v_leak,
            v_threshold,
            v_reset,
        } => {
            f64s(&mut g, "tau", tau);
            f64s(&mut g, "r", r);
            f64s(&mut g, "v_leak", v_leak);
            f64s(&mut g, "v_threshold", v_threshold);
            f64s(&mut g, "v_reset", v_reset);
        }
        NodeKind::If {
            r,
            v_threshold,
            v_reset,
        } => {
            f64s(&mut g, "r", r);
            f64s(&mut g, "v_threshold", v_threshold);
            f64s(&mut g, "v_reset", v_reset);
        }
        NodeKind::Li { tau, r, v_leak } => {
            f64s(&mut g, "tau", tau);
            f64s(&mut g, "r", r);
            f64s(&mut g, "v_leak", v_leak);
        }
    }
    write_metadata(&mut g, &n.metadata);
    g.finish()
}

/// Writes a `metadata` group (omitted when empty, as `nir.write` does).
fn write_metadata(g: &mut GroupBuilder, meta: &Metadata) {
    if meta.is_empty() {
        return;
    }
    let mut m = g.create_group("metadata");
    for (k, v) in meta {
        match v {
            MetaValue::Str(s) => string(&mut m, k, s),
            MetaValue::Float(x) => {
                m.create_dataset(k).with_f64_data(&[*x]).with_shape(&[]);
            }
            MetaValue::Int(i) => scalar_int(&mut m, k, *i),
        }
    }
    g.add_group(m.finish());
}

fn string(g: &mut GroupBuilder, name: &str, value: &str) {
    g.create_dataset(name)
        .with_vlen_strings(&[value])
        .with_shape(&[]);
}

fn scalar_int(g: &mut GroupBuilder, name: &str, value: i64) {
    g.create_dataset(name)
        .with_i64_data(&[value])
        .with_shape(&[]);
}

fn ints(g: &mut GroupBuilder, name: &str, values: &[usize]) {
    let v: Vec<i64> = values.iter().map(|&x| x as i64).collect();
    g.create_dataset(name)
        .with_i64_data(&v)
        .with_shape(&[v.len() as u64]);
}

fn shape_u64(shape: &[usize]) -> Vec<u64> {
    shape.iter().map(|&d| d as u64).collect()
}

/// Chunk dimensions: whole trailing dimensions, as many leading rows as fit `CHUNK_ELEMENTS`.
fn chunks(shape: &[usize]) -> Vec<u64> {
    let row: usize = shape.iter().skip(1).product::<usize>().max(1);
    let rows = (CHUNK_ELEMENTS / row).clamp(1, shape[0].max(1));
    let mut c = shape_u64(shape);
    c[0] = rows as u64;
    c
}

fn f32s(g: &mut GroupBuilder, name: &str, a: &Array<f32>) {
    let ds = g.create_dataset(name);
    ds.with_f32_data(&a.data).with_shape(&shape_u64(&a.shape));
    if a.data.len() > COMPRESS_ABOVE && !a.shape.is_empty() {
        ds.with_chunks(&chunks(&a.shape)).with_deflate(4);
    }
}

fn f64s(g: &mut GroupBuilder, name: &str, a: &Array<f64>) {
    let ds = g.create_dataset(name);
    ds.with_f64_data(&a.data).with_shape(&shape_u64(&a.shape));
    if a.data.len() > COMPRESS_ABOVE && !a.shape.is_empty() {
        ds.with_chunks(&chunks(&a.shape)).with_deflate(4);
    }
}
