//! Built-in architectures of the paper (paper-method.md §6), by name.

use crate::error::SpecError;
use crate::shape::Shape3;
use crate::spec::{LayerSpec, NetworkSpec, NeuronParams};

/// Names accepted by [`by_name`].
pub const NAMES: [&str; 6] = ["lenet", "vgg7", "vgg9", "resnet7", "resnet9", "resnet11"];

/// Looks up a preset by name.
pub fn by_name(name: &str) -> Result<NetworkSpec, SpecError> {
    match name {
        "lenet" => Ok(lenet()),
        "vgg7" => Ok(vgg7()),
        "vgg9" => Ok(vgg9()),
        "resnet7" => Ok(resnet(7)),
        "resnet9" => Ok(resnet(9)),
        "resnet11" => Ok(resnet11()),
        other => Err(SpecError::UnknownPreset(other.to_string())),
    }
}

fn conv(out_channels: usize, kernel: usize, padding: usize) -> LayerSpec {
    LayerSpec::Conv {
        out_channels,
        kernel,
        stride: 1,
        padding,
    }
}

/// LeNet for 28×28×1 (MNIST): 20C5(pad 2) → AP2 → 50C5(pad 2) → AP2 → FC200 → FC10.
/// 517,500 parameters, 5.784 M dense MACs per step.
pub fn lenet() -> NetworkSpec {
    NetworkSpec {
        name: "lenet".into(),
        input: Shape3::new(1, 28, 28),
        input_scale: 0.5,
        neuron: NeuronParams::default(),
        layers: vec![
            conv(20, 5, 2),
            LayerSpec::Pool,
            conv(50, 5, 2),
            LayerSpec::Pool,
            LayerSpec::Linear { out_features: 200 },
            LayerSpec::Readout { out_features: 10 },
        ],
    }
}

/// VGG7 for 32×32×3 (inferred layout, paper-method §6.2): 64C3 → 64C3 → AP2 → 128C3 ×3 → AP2 → FC1024 → FC10.
pub fn vgg7() -> NetworkSpec {
    NetworkSpec {
        name: "vgg7".into(),
        input: Shape3::new(3, 32, 32),
        input_scale: 1.0,
        neuron: NeuronParams::default(),
        layers: vec![
            conv(64, 3, 1),
            conv(64, 3, 1),
            LayerSpec::Pool,
            conv(128, 3, 1),
            conv(128, 3, 1),
            conv(128, 3, 1),
            LayerSpec::Pool,
            LayerSpec::Linear { out_features: 1024 },
            LayerSpec::Readout { out_features: 10 },
        ],
    }
}

/// VGG9 for 32×32×3 (CIFAR-10): 64C3 ×2 → AP2 → 128C3 ×2 → AP2 → 256C3 ×3 → AP2 → FC1024 → FC10.
/// 5,938,880 parameters.
pub fn vgg9() -> NetworkSpec {
    NetworkSpec {
        name: "vgg9".into(),
        input: Shape3::new(3, 32, 32),
        input_scale: 1.0,
        neuron: NeuronParams::default(),
        layers: vec![
            conv(64, 3, 1),
            conv(64, 3, 1),
            LayerSpec::Pool,
            conv(128, 3, 1),
            conv(128, 3, 1),
            LayerSpec::Pool,
            conv(256, 3, 1),
            conv(256, 3, 1),
            conv(256, 3, 1),
            LayerSpec::Pool,
            LayerSpec::Linear { out_features: 1024 },
            LayerSpec::Readout { out_features: 10 },
        ],
    }
}

/// ResNet11 for 32×32×3 (CIFAR-10): 64C3 → AP2 → 4 residual blocks (128, 256/2, 512, 512/2) →
/// FC1024 → FC10. 17,936,064 parameters.
pub fn resnet11() -> NetworkSpec {
    resnet(11)
}

/// The residual family for 32×32×3 inputs: the ResNet11 stem (64C3 → AP2), its first
/// `(depth − 3) / 2` residual blocks (128, 256/2, 512, 512/2), FC1024 and the FC10 readout.
/// Only ResNet11 is verified from the authors' code; ResNet9 (CIFAR-10: blocks 1–3, flatten
/// 512×8×8) and ResNet7 (SVHN in the paper: blocks 1–2, flatten 256×8×8) are the inferred
/// layouts of paper-method.md §6.2, to be confirmed against the paper's table.
fn resnet(depth: usize) -> NetworkSpec {
    let blocks = [(128, 1), (256, 2), (512, 1), (512, 2)];
    let mut layers = vec![conv(64, 3, 1), LayerSpec::Pool];
    layers.extend(
        blocks[..(depth - 3) / 2]
            .iter()
            .map(|&(out_channels, stride)| LayerSpec::Residual {
                out_channels,
                stride,
            }),
    );
    layers.push(LayerSpec::Linear { out_features: 1024 });
    layers.push(LayerSpec::Readout { out_features: 10 });
    NetworkSpec {
        name: format!("resnet{depth}"),
        input: Shape3::new(3, 32, 32),
        input_scale: 1.0,
        neuron: NeuronParams::default(),
        layers,
    }
}

/// A preset name or a path to a TOML file.
pub fn resolve(arch: &str) -> Result<NetworkSpec, SpecError> {
    if arch.ends_with(".toml") || std::path::Path::new(arch).is_file() {
        NetworkSpec::from_toml_file(std::path::Path::new(arch))
    } else {
        by_name(arch)
    }
}
