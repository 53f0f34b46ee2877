//! The committed snnTorch fixture (`tests/data/snntorch_mnist.nir`, written by
//! `benches/peers/snntorch_nir_fixture.py` with the Python `nir` package) imports as the network
//! snnTorch trained, with its assumptions stated.

use snn_core::LayerSpec;
use std::path::Path;

#[test]
fn snntorch_fixture_imports_as_its_network() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/snntorch_mnist.nir");
    let im = snn_nir::load_any(&path, None).unwrap();
    let s = &im.model.spec;
    let conv = |out_channels| LayerSpec::Conv {
        out_channels,
        kernel: 5,
        stride: 1,
        padding: 2,
    };
    assert_eq!(
        s.layers,
        vec![
            conv(8),
            LayerSpec::Pool,
            conv(16),
            LayerSpec::Pool,
            LayerSpec::Readout { out_features: 10 }
        ]
    );
    assert_eq!(s.input, snn_core::Shape3::new(1, 28, 28));
    // beta 0.95 written as tau = 1e-4 / 0.05 = 2e-3 s.
    assert!(
        (s.neuron.leak - 0.95).abs() < 1e-6,
        "leak {}",
        s.neuron.leak
    );
    assert_eq!(s.neuron.threshold, 1.0);
    assert_eq!(s.neuron.pool_threshold, 0.75);
    assert_eq!(s.input_scale, 1.0);
    assert_eq!(im.model.meta.dataset, "mnist");
    let joined = im.notes.join("\n");
    assert!(joined.contains("'readout' scaled by 1.052632"), "{joined}");
    assert!(joined.contains("snn_input_scale"), "{joined}");
}
