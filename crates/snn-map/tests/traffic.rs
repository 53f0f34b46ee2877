//! Packet, hop, load and fan-out figures of a mapping, recomputed independently by enumerating
//! every synapse (tests/common), agree with what the mapper reports for its own mapping and for
//! the sequential-fill baseline.

mod common;

use common::*;
use snn_core::{preset, NetworkPlan};
use snn_map::limits::CoreLimits;
use snn_map::network::NetGraph;
use snn_map::partition::sequential_fill;
use snn_map::place::Mesh;

fn check_ours(o: &snn_map::pipeline::MapOutcome, act: &snn_map::traffic::Activity) {
    let m = &o.mapping;
    let b = brute(
        &m.plan,
        &neuron_cores(m),
        &core_xy(m),
        act,
        m.chip.core.weight_bits.value as u64,
        m.chip.core.shared_conv_weights.value,
    );
    close(
        b.inter_core_packets,
        o.ours.inter_core_packets,
        "inter-core packets",
    );
    close(b.hop_weighted, o.ours.hop_weighted_traffic, "hop-weighted");
    close(b.input_packets, o.ours.input_packets, "input packets");
    close(
        b.local_deliveries,
        o.ours.local_deliveries,
        "local deliveries",
    );
    let max_load = b.core_load.iter().cloned().fold(0.0, f64::max);
    close(max_load, o.ours.max_core_load, "busiest core load");
    for (l, (&x, &y)) in b
        .packets_by_layer
        .iter()
        .zip(&o.ours.packets_by_layer)
        .enumerate()
    {
        close(x, y, &format!("packets of layer {l}"));
    }
    assert_eq!(b.cores, o.ours.cores_used);
    for (c, rec) in m.cores.iter().enumerate() {
        assert_eq!(b.neurons[c], rec.neurons, "neurons of core {c}");
        assert_eq!(b.fan_in[c], rec.fan_in, "fan-in of core {c}");
        assert_eq!(b.memory_bits[c], rec.memory_bits, "memory of core {c}");
        assert_eq!(b.fan_out[c], rec.fan_out as u64, "fan-out of core {c}");
        close(b.core_load[c], rec.load, &format!("load of core {c}"));
        // routes carry the hop counts of the placement
        for r in &rec.routes {
            let (p, q) = (rec.slot, m.cores[r.dest as usize].slot);
            assert_eq!(r.hops_x, p.x.abs_diff(q.x));
            assert_eq!(r.hops_y, p.y.abs_diff(q.y));
        }
    }
    assert_eq!(
        b.fan_out.iter().copied().max().unwrap_or(0),
        o.ours.max_fan_out as u64
    );
}

fn check_sequential(o: &snn_map::pipeline::MapOutcome, act: &snn_map::traffic::Activity) {
    let m = &o.mapping;
    let net = NetGraph::new(&m.plan);
    let limits = CoreLimits::of(&m.chip);
    let (seq, _) = sequential_fill(&net, &limits);
    // sequential placement: core i in slot i, chip by chip, row-major tiles, cores in a tile
    let Mesh {
        width,
        height,
        cores_per_tile,
        ..
    } = m.mesh;
    let per_chip = width * height * cores_per_tile;
    let xy: Vec<(u32, u32)> = (0..seq.count as u32)
        .map(|i| {
            let (chip, r) = (i / per_chip, i % per_chip);
            let tile = r / cores_per_tile;
            (chip * width + tile % width, tile / width)
        })
        .collect();
    let b = brute(
        &m.plan,
        &seq.cores,
        &xy,
        act,
        limits.weight_bits,
        limits.shared_conv_weights,
    );
    assert_eq!(b.cores, o.sequential.cores_used);
    close(
        b.inter_core_packets,
        o.sequential.inter_core_packets,
        "sequential packets",
    );
    close(
        b.hop_weighted,
        o.sequential.hop_weighted_traffic,
        "sequential hop-weighted",
    );
    let max_load = b.core_load.iter().cloned().fold(0.0, f64::max);
    close(
        max_load,
        o.sequential.max_core_load,
        "sequential busiest core",
    );
    // sequential fill respects the limits too
    for c in 0..b.cores {
        assert!(b.neurons[c] <= limits.max_neurons);
        assert!(b.fan_in[c] <= limits.max_fan_in, "seq core {c} fan-in");
        assert!(
            b.memory_bits[c] <= limits.memory_bits,
            "seq core {c} memory"
        );
    }
}

#[test]
fn lenet_on_small_cores_counts_agree_with_brute_force() {
    let spec = preset::lenet();
    let plan = NetworkPlan::new(&spec).unwrap();
    let chip = chip(&Limits {
        neurons: 1024,
        fan_in: 4096,
        memory_bits: 1 << 20,
        width: 8,
        height: 4,
        cores_per_tile: 4,
        ..Default::default()
    });
    let act = random_activity(&plan, 7);
    let o = map(&model(spec), &chip, Some(act.clone()), 3).unwrap();
    assert!(o.ours.cores_used > 4, "LeNet should need several cores");
    check_ours(&o, &act);
    check_sequential(&o, &act);
    // the random baseline is a valid assignment of the same size class
    assert!(o.random.cores_used >= o.ours.cores_used / 2);
}

#[test]
fn shared_kernels_and_strided_convs_agree_with_brute_force() {
    let spec = spec(
        (2, 12, 12),
        vec![
            conv(6, 3, 1, 1),
            snn_core::LayerSpec::Pool,
            conv(8, 3, 2, 1),
            snn_core::LayerSpec::Residual {
                out_channels: 12,
                stride: 2,
            },
            snn_core::LayerSpec::Linear { out_features: 20 },
            snn_core::LayerSpec::Readout { out_features: 5 },
        ],
    );
    let plan = NetworkPlan::new(&spec).unwrap();
    for shared in [false, true] {
        let chip = chip(&Limits {
            neurons: 64,
            fan_in: 600,
            memory_bits: 40_000,
            weight_bits: 4,
            shared,
            ..Default::default()
        });
        let act = random_activity(&plan, 11);
        let o = map(&model(spec.clone()), &chip, Some(act.clone()), 5).unwrap();
        check_ours(&o, &act);
        check_sequential(&o, &act);
    }
}

#[test]
fn uniform_activity_is_one_spike_per_neuron() {
    let spec = spec(
        (1, 8, 8),
        vec![
            conv(4, 3, 1, 1),
            snn_core::LayerSpec::Pool,
            snn_core::LayerSpec::Linear { out_features: 10 },
            snn_core::LayerSpec::Readout { out_features: 3 },
        ],
    );
    let plan = NetworkPlan::new(&spec).unwrap();
    let chip = chip(&Limits {
        neurons: 40,
        ..Default::default()
    });
    let o = map(&model(spec), &chip, None, 1).unwrap();
    let ones = snn_map::traffic::Activity::uniform(&NetGraph::new(&plan), 1.0);
    check_ours(&o, &ones);
    check_sequential(&o, &ones);
}
