//! snn [`Model`] → NIR [`Graph`] (and the file): every plan layer becomes its synapse node
//! (Conv2d, Affine, SumPool2d, with a Flatten before the first dense layer on a spatial input)
//! followed by its neuron node (LIF, IF for pooling, LI for the readout); residual shortcuts
//! become a second edge into the block's second LIF (a 1×1 Conv2d, or a direct edge for the
//! stride-1 identity). What NIR cannot express is written as metadata (crate docs).

use crate::convention::{self as conv, tau_of_beta};
use crate::error::NirError;
use crate::graph::{Array, Graph, MetaValue, Metadata, Node, NodeKind};
use crate::layout;
use crate::write::{to_bytes, NIR_VERSION};
use snn_core::plan::Synapses;
use snn_core::{LayerKind, Model, Shape3};
use std::path::Path;

/// Writes `model` to `path` as a NIR file, atomically (temporary file, then rename).
pub fn export_file(model: &Model, path: &Path, dt: f64) -> Result<(), NirError> {
    let graph = to_graph(model, dt).map_err(|msg| NirError::Model {
        path: path.to_path_buf(),
        msg,
    })?;
    let bytes = to_bytes(&graph).map_err(|msg| NirError::Model {
        path: path.to_path_buf(),
        msg: format!("cannot encode NIR: {msg}"),
    })?;
    snn_core::atomic::write_atomic(path, &bytes).map_err(|source| NirError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// NIR's shape of neurons: `[C, H, W]` where they are an image (the input of a network that
/// starts with a convolution or pooling, conv and pooling layers, even at 1×1), `[N]` where
/// they are a vector (the output of fully connected layers), as NIR's type inference wants.
fn nir_shape(s: Shape3, image: bool) -> Vec<usize> {
    if image {
        vec![s.channels, s.height, s.width]
    } else {
        vec![s.len()]
    }
}

/// True for plan layers whose neurons form an image.
fn is_image(kind: LayerKind) -> bool {
    matches!(kind, LayerKind::Conv | LayerKind::Pool)
}

fn text(s: &str) -> MetaValue {
    MetaValue::Str(s.to_string())
}

/// Converts a model to a NIR graph with time step `dt` (seconds).
pub fn to_graph(model: &Model, dt: f64) -> Result<Graph, String> {
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(format!(
            "--dt must be a positive number of seconds, got {dt}"
        ));
    }
    let plan = model.check()?;
    let n = model.spec.neuron;
    let leak = f64::from(n.leak);
    let tau = tau_of_beta(leak, dt);
    // A network that starts with a dense layer reads a vector (unless its input is an image).
    let input_is_image = !(plan.input.height == 1
        && plan.input.width == 1
        && plan.layers.first().is_some_and(|l| !is_image(l.kind)));
    let mut nodes = vec![Node {
        name: "input".into(),
        kind: NodeKind::Input {
            shape: nir_shape(plan.input, input_is_image),
        },
        metadata: Metadata::new(),
    }];
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut neuron_of: Vec<String> = Vec::new();
    let mut edge = |a: &str, b: &str| edges.push((a.to_string(), b.to_string()));
    for (i, (l, w)) in plan.layers.iter().zip(&model.weights).enumerate() {
        let prev = if i == 0 {
            "input".to_string()
        } else {
            neuron_of[i - 1].clone()
        };
        let role_meta = |role: &str| -> Metadata {
            vec![
                ("snn_layer".into(), text(&l.name)),
                ("snn_role".into(), text(role)),
            ]
        };
        let syn_name = l.name.clone();
        let mut source = prev.clone();
        match l.synapses {
            Synapses::Conv { .. } => nodes.push(conv_node(
                &syn_name,
                &l.synapses,
                &w.main,
                role_meta("synapse"),
            )?),
            Synapses::Dense { inputs, outputs } => {
                let source_is_image = match i {
                    0 => input_is_image,
                    _ => is_image(plan.layers[i - 1].kind),
                };
                if source_is_image {
                    let flat = format!("{}_flatten", l.name);
                    nodes.push(Node {
                        name: flat.clone(),
                        kind: NodeKind::Flatten {
                            start_dim: 0,
                            end_dim: -1,
                            input_type: Some(nir_shape(l.input, true)),
                        },
                        metadata: role_meta("flatten"),
                    });
                    edge(&prev, &flat);
                    source = flat;
                }
                nodes.push(Node {
                    name: syn_name.clone(),
                    kind: NodeKind::Affine {
                        weight: Array {
                            shape: vec![outputs, inputs],
                            data: layout::dense_to_nir(&w.main, l.input, outputs)?,
                        },
                        bias: Some(vec![0.0; outputs]),
                    },
                    metadata: role_meta("synapse"),
                });
            }
            Synapses::AvgPool2 { .. } => nodes.push(Node {
                name: syn_name.clone(),
                kind: NodeKind::Pool2d {
                    average: false,
                    kernel: [2, 2],
                    stride: [2, 2],
                    padding: [0, 0],
                },
                metadata: role_meta("synapse"),
            }),
            Synapses::Subsample { .. } => {
                return Err(format!("layer {}: identity main synapses", l.name))
            }
        }
        edge(&source, &syn_name);
        let shape = nir_shape(l.output, is_image(l.kind));
        let (suffix, kind, role) = match l.kind {
            LayerKind::Conv | LayerKind::Linear => (
                "lif",
                NodeKind::Lif {
                    tau: Array::filled(&shape, tau),
                    r: Array::filled(&shape, tau / dt),
                    v_leak: Array::filled(&shape, 0.0),
                    v_threshold: Array::filled(&shape, f64::from(n.threshold)),
                    v_reset: Array::filled(&shape, 0.0),
                },
                "lif",
            ),
            LayerKind::Pool => (
                "if",
                NodeKind::If {
                    r: Array::filled(&shape, 1.0),
                    // SumPool2d adds each spike with weight 1, snn's average with 1/4.
                    v_threshold: Array::filled(&shape, 4.0 * f64::from(n.pool_threshold)),
                    v_reset: Array::filled(&shape, 0.0),
                },
                "pool_if",
            ),
            LayerKind::Readout => (
                "li",
                NodeKind::Li {
                    tau: Array::filled(&shape, tau),
                    // snn's readout integrates V = λ(V + I): input gain λ per step.
                    r: Array::filled(&shape, leak * tau / dt),
                    v_leak: Array::filled(&shape, 0.0),
                },
                "readout",
            ),
        };
        let neuron = format!("{}_{suffix}", l.name);
        nodes.push(Node {
            name: neuron.clone(),
            kind,
            metadata: role_meta(role),
        });
        edge(&syn_name, &neuron);
        if let Some(sc) = l.shortcut {
            let from = match sc.source {
                Some(j) => neuron_of[j].clone(),
                None => "input".to_string(),
            };
            match sc.synapses {
                Synapses::Subsample { stride: 1, .. } => edge(&from, &neuron),
                Synapses::Subsample { stride, input, .. } => {
                    let c = input.channels;
                    let mut eye = vec![0.0f32; c * c];
                    for k in 0..c {
                        eye[k * c + k] = 1.0;
                    }
                    let name = format!("{}_shortcut", l.name);
                    let syn = Synapses::Conv {
                        kernel: 1,
                        stride,
                        padding: 0,
                        input,
                        output: l.output,
                    };
                    nodes.push(conv_node(
                        &name,
                        &syn,
                        &eye,
                        role_meta("shortcut_identity"),
                    )?);
                    edge(&from, &name);
                    edge(&name, &neuron);
                }
                Synapses::Conv { .. } => {
                    let name = format!("{}_shortcut", l.name);
                    nodes.push(conv_node(
                        &name,
                        &sc.synapses,
                        &w.shortcut,
                        role_meta("shortcut"),
                    )?);
                    edge(&from, &name);
                    edge(&name, &neuron);
                }
                _ => return Err(format!("layer {}: unexpected shortcut synapses", l.name)),
            }
        }
        neuron_of.push(neuron);
    }
    let last = neuron_of.last().cloned().ok_or("the model has no layers")?;
    nodes.push(Node {
        name: "output".into(),
        kind: NodeKind::Output {
            shape: vec![plan.classes()],
        },
        metadata: Metadata::new(),
    });
    edge(&last, "output");
    Ok(Graph {
        version: NIR_VERSION.into(),
        nodes,
        edges,
        metadata: graph_metadata(model, dt),
    })
}

/// A Conv2d node from snn conv synapses and weights `[ky][kx][c_in][c_out]`.
fn conv_node(name: &str, syn: &Synapses, w: &[f32], metadata: Metadata) -> Result<Node, String> {
    let Synapses::Conv {
        kernel,
        stride,
        padding,
        input,
        output,
    } = *syn
    else {
        unreachable!("conv_node is called with conv synapses")
    };
    let (ci, co) = (input.channels, output.channels);
    Ok(Node {
        name: name.to_string(),
        kind: NodeKind::Conv2d {
            weight: Array {
                shape: vec![co, ci, kernel, kernel],
                data: layout::conv_to_nir(w, kernel, ci, co)?,
            },
            bias: Some(vec![0.0; co]),
            stride: [stride; 2],
            padding: [padding; 2],
            dilation: [1, 1],
            groups: 1,
            input_shape: Some([input.height, input.width]),
        },
        metadata,
    })
}

fn graph_metadata(model: &Model, dt: f64) -> Metadata {
    let n = model.spec.neuron;
    let m = &model.meta;
    let mut meta: Metadata = vec![
        (conv::KEY_FORMAT.into(), text(conv::FORMAT)),
        (conv::KEY_NAME.into(), text(&model.spec.name)),
        (conv::KEY_INPUT_SCALE.into(), MetaValue::Float(f64::from(model.spec.input_scale))),
        (
            conv::KEY_INPUT_ENCODING.into(),
            text("Bernoulli rate code: each step each input fires with p = snn_input_scale * |x|, value sign(x)"),
        ),
        (conv::KEY_LEAK.into(), MetaValue::Float(f64::from(n.leak))),
        (conv::KEY_THRESHOLD.into(), MetaValue::Float(f64::from(n.threshold))),
        (conv::KEY_POOL_THRESHOLD.into(), MetaValue::Float(f64::from(n.pool_threshold))),
        (conv::KEY_DT.into(), MetaValue::Float(dt)),
        (
            conv::KEY_NEURON_ORDER.into(),
            text("per step: u = v + I; spike if u > v_threshold; u = 0 on a spike; v = beta * u (beta = 1 - dt/tau): NIR forward-Euler LIF with r = tau/dt"),
        ),
        (
            conv::KEY_READOUT.into(),
            text("last LI node: V = beta * (V + I) (r = beta*tau/dt), output V(T)/T, prediction argmax"),
        ),
        (conv::KEY_DATASET.into(), text(&m.dataset)),
        (conv::KEY_TIMESTEPS.into(), MetaValue::Int(i64::from(m.timesteps))),
        (conv::KEY_SEED.into(), text(&m.seed.to_string())),
        (conv::KEY_EPOCHS.into(), MetaValue::Int(i64::from(m.epochs))),
        (conv::KEY_CREATED_BY.into(), text(&m.created_by)),
    ];
    if let Some(a) = m.test_accuracy {
        meta.push((conv::KEY_TEST_ACCURACY.into(), MetaValue::Float(a)));
    }
    meta
}
