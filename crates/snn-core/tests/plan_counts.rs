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
fn inferred_resnet7_and_resnet9_count_their_layers_by_hand() {
    // stem 3·3·3·64; block 1: 3·3·64·128 + 3·3·128·128 + 64·128; block 2 (stride 2):
    // 3·3·128·256 + 3·3·256·256 + 128·256; block 3: 3·3·256·512 + 3·3·512·512 + 256·512.
    let stem_and_blocks = [1_728, 229_376, 917_504, 3_670_016];
    let head = |flat: u64| flat * 1024 + 1024 * 10;
    let r7 = NetworkPlan::new(&preset::by_name("resnet7").unwrap()).unwrap();
    let want7: u64 = stem_and_blocks[..3].iter().sum::<u64>() + head(256 * 8 * 8);
    assert_eq!(r7.params() as u64, want7);
    let r9 = NetworkPlan::new(&preset::by_name("resnet9").unwrap()).unwrap();
    let want9: u64 = stem_and_blocks.iter().sum::<u64>() + head(512 * 8 * 8);
    assert_eq!(r9.params() as u64, want9);
    assert_eq!(r9.layers.last().unwrap().output.len(), 10);
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
