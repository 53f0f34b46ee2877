//! Shape inference and counts of the built-in presets against paper-method.md §6, §8.2.

use snn_core::preset;
use snn_core::NetworkPlan;

#[test]
fn lenet_has_517500_parameters_and_5_784m_macs() {
    let plan = NetworkPlan::new(&preset::lenet()).unwrap();
    assert_eq!(plan.params(), 517_500);
    assert_eq!(plan.dense_macs(), 5_784_000);
    let macs: Vec<u64> = plan.layers.iter().map(|l| l.dense_macs()).collect();
    assert_eq!(macs, vec![392_000, 0, 4_900_000, 0, 490_000, 2_000]);
    let shapes: Vec<String> = plan.layers.iter().map(|l| l.output.to_string()).collect();
    assert_eq!(
        shapes,
        vec!["20x28x28", "20x14x14", "50x14x14", "50x7x7", "200", "10"]
    );
}

#[test]
fn vgg9_and_resnet11_parameter_counts_match_the_paper() {
    assert_eq!(
        NetworkPlan::new(&preset::vgg9()).unwrap().params(),
        5_938_880
    );
    let r = NetworkPlan::new(&preset::resnet11()).unwrap();
    assert_eq!(r.params(), 17_936_064);
    // ResNet11 MACs 607.86 M (paper-method §8.2).
    assert!(
        (r.dense_macs() as f64 / 1e6 - 607.86).abs() < 0.01,
        "{}",
        r.dense_macs()
    );
    let v = NetworkPlan::new(&preset::vgg9()).unwrap();
    assert!(
        (v.dense_macs() as f64 / 1e6 - 194.72).abs() < 0.01,
        "{}",
        v.dense_macs()
    );
}
