//! Files from other tools import as the same network where the semantics allow, and say what
//! they assumed: Flatten with or without the batch, scalar parameters, AvgPool2d for
//! SumPool2d, per-layer thresholds folded into the weights, a spiking last layer run as the
//! readout.

mod common;

use snn_core::{Model, NetworkSpec};
use snn_nir::graph::{Array, Graph, NodeKind};
use snn_nir::import::{from_graph, Imported};
use std::path::Path;

fn small() -> Model {
    common::model(
        NetworkSpec::from_toml_str(
            r#"
name = "small"
input = { channels = 1, height = 4, width = 4 }
[[layer]]
type = "conv"
out_channels = 2
kernel = 3
padding = 1
[[layer]]
type = "pool"
[[layer]]
type = "linear"
out_features = 3
[[layer]]
type = "readout"
out_features = 2
"#,
            Path::new("small.toml"),
        )
        .unwrap(),
    )
}

/// The model's graph without snn's metadata (what a foreign tool would write), edited, then
/// written, read and imported.
fn import_edited(model: &Model, edit: impl FnOnce(&mut Graph)) -> Imported {
    let mut g = snn_nir::export::to_graph(model, 1e-4).unwrap();
    g.metadata.clear();
    edit(&mut g);
    let path = Path::new("edited.nir");
    let bytes = snn_nir::write::to_bytes(&g).unwrap();
    let g = snn_nir::read::from_bytes(bytes, path).unwrap();
    from_graph(&g, path, None).unwrap()
}

fn kind<'a>(g: &'a mut Graph, name: &str) -> &'a mut NodeKind {
    &mut g.nodes.iter_mut().find(|n| n.name == name).unwrap().kind
}

#[test]
fn flatten_counting_the_batch_and_scalar_parameters_are_accepted() {
    let m = small();
    let im = import_edited(&m, |g| {
        if let NodeKind::Flatten {
            start_dim,
            input_type,
            ..
        } = kind(g, "fc1_flatten")
        {
            *start_dim = 1;
            *input_type = None;
        }
        if let NodeKind::Lif {
            tau,
            r,
            v_threshold,
            ..
        } = kind(g, "conv1_lif")
        {
            *tau = Array::scalar(tau.data[0]);
            *r = Array::scalar(r.data[0]);
            *v_threshold = Array::scalar(v_threshold.data[0]);
        }
    });
    assert_eq!(im.model.spec.layers, m.spec.layers);
    assert_eq!(im.model.weights, m.weights);
}

#[test]
fn avg_pool_with_the_average_threshold_equals_sum_pool_with_four_times_it() {
    let m = small();
    let im = import_edited(&m, |g| {
        if let NodeKind::Pool2d { average, .. } = kind(g, "pool1") {
            *average = true;
        }
        if let NodeKind::If { v_threshold, .. } = kind(g, "pool1_if") {
            *v_threshold = Array::filled(&v_threshold.shape.clone(), 0.75);
        }
    });
    assert_eq!(im.model.spec.neuron.pool_threshold, 0.75);
    assert_eq!(im.model.weights, m.weights);
}

#[test]
fn a_layer_with_its_own_threshold_gets_its_weights_scaled() {
    // fc1 fires at 2.0 where conv1 fires at 1.0: halving fc1's weights gives the same spikes.
    let m = small();
    let im = import_edited(&m, |g| {
        if let NodeKind::Lif { v_threshold, .. } = kind(g, "fc1_lif") {
            *v_threshold = Array::filled(&v_threshold.shape.clone(), 2.0);
        }
    });
    assert_eq!(im.model.spec.neuron.threshold, 1.0);
    let want: Vec<f32> = m.weights[2].main.iter().map(|w| w * 0.5).collect();
    assert_eq!(im.model.weights[2].main, want);
    assert_eq!(im.model.weights[0].main, m.weights[0].main);
    assert!(
        im.notes
            .iter()
            .any(|n| n.contains("'fc1_lif' scaled by 0.5")),
        "{:?}",
        im.notes
    );
}

#[test]
fn a_spiking_last_layer_runs_as_the_readout_with_a_note() {
    let m = small();
    let im = import_edited(&m, |g| {
        let tau = match kind(g, "readout_li") {
            NodeKind::Li { tau, .. } => tau.clone(),
            _ => unreachable!(),
        };
        *kind(g, "readout_li") = NodeKind::Lif {
            r: Array::filled(&tau.shape, tau.data[0] / 1e-4),
            v_leak: Array::filled(&tau.shape, 0.0),
            v_threshold: Array::filled(&tau.shape, 1.0),
            v_reset: Array::filled(&tau.shape, 0.0),
            tau,
        };
    });
    assert_eq!(im.model.spec.layers, m.spec.layers);
    assert!(
        im.notes
            .iter()
            .any(|n| n.starts_with("approximation: the last LIF node 'readout_li'")),
        "{:?}",
        im.notes
    );
}

#[test]
fn different_leaks_in_one_network_are_refused() {
    let m = small();
    let mut g = snn_nir::export::to_graph(&m, 1e-4).unwrap();
    if let NodeKind::Lif { tau, .. } = kind(&mut g, "fc1_lif") {
        *tau = Array::filled(&tau.shape.clone(), 5e-3);
    }
    let err = from_graph(&g, Path::new("leaks.nir"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("one leak (tau) per network"), "{err}");
}
