//! The lower bound on inter-core packets: equal to the optimum where the optimum is known by
//! hand, equal to the same definition recomputed by enumerating every synapse, and never above
//! the fewest packets of any assignment that respects the neuron and memory limits (found by
//! trying every assignment of tiny networks).

mod common;

use common::*;
use proptest::prelude::*;
use snn_core::plan::Synapses;
use snn_core::{LayerSpec, NetworkPlan};
use snn_map::bound::PacketBound;
use snn_map::limits::CoreLimits;
use snn_map::network::NetGraph;
use snn_map::traffic::Activity;

fn linear(n: usize) -> LayerSpec {
    LayerSpec::Linear { out_features: n }
}

fn readout(n: usize) -> LayerSpec {
    LayerSpec::Readout { out_features: n }
}

fn limits(neurons: u64, memory_bits: u64, weight_bits: u64, shared: bool) -> CoreLimits {
    CoreLimits {
        max_neurons: neurons,
        max_fan_in: 1 << 30,
        max_fan_out: 1 << 30,
        memory_bits,
        weight_bits,
        shared_conv_weights: shared,
    }
}

fn per_spike(plan: &NetworkPlan, l: &CoreLimits) -> Vec<Vec<u32>> {
    PacketBound::per_spike(&NetGraph::new(plan), l)
}

/// The bound's definition, recomputed by enumerating every synapse of the plan (tests/common's
/// `presyn`), with none of the mapper's boxes, prefix sums or inclusion–exclusion.
fn brute_per_spike(plan: &NetworkPlan, l: &CoreLimits) -> Vec<Vec<u32>> {
    let nl = plan.layers.len();
    let src_len = |s: usize| {
        if s == 0 {
            plan.input.len()
        } else {
            plan.layers[s - 1].output.len()
        }
    };
    let mut own: Vec<Vec<u64>> = plan
        .layers
        .iter()
        .map(|x| vec![0; x.output.len()])
        .collect();
    let mut kernel = vec![0u64; nl];
    let mut targets: Vec<Vec<Vec<(usize, usize)>>> =
        (0..=nl).map(|s| vec![Vec::new(); src_len(s)]).collect();
    for li in 0..nl {
        for (s, syn) in sources(plan, li) {
            let shared = l.shared_conv_weights && matches!(syn, Synapses::Conv { .. });
            if shared {
                kernel[li] += syn.fan_in() as u64 * l.weight_bits;
            }
            for (t, bits) in own[li].iter_mut().enumerate() {
                let mut taps = 0u64;
                presyn(&syn, t, |i| {
                    taps += 1;
                    targets[s][i].push((li, t));
                });
                if !shared {
                    *bits += taps * l.weight_bits;
                }
            }
        }
    }
    let cap: Vec<u64> = (0..nl)
        .map(|li| {
            let mut m = own[li].clone();
            m.sort_unstable();
            let budget = l.memory_bits.saturating_sub(kernel[li]);
            let (mut used, mut k) = (0u64, 0u64);
            for x in m {
                if used + x > budget {
                    break;
                }
                used += x;
                k += 1;
            }
            k.min(l.max_neurons).max(1)
        })
        .collect();
    (0..nl)
        .map(|s| {
            let layer = &plan.layers[s];
            (0..layer.output.len())
                .map(|j| {
                    if !layer.spikes() {
                        return 0;
                    }
                    let mut ts = targets[s + 1][j].clone();
                    ts.sort_unstable();
                    ts.dedup();
                    let mut n_all = 1u64;
                    let mut bits_all = own[s][j] + kernel[s];
                    let mut cores = 1u64;
                    for li in 0..nl {
                        let mine: Vec<usize> =
                            ts.iter().filter(|x| x.0 == li).map(|x| x.1).collect();
                        if mine.is_empty() {
                            continue;
                        }
                        let ch = plan.layers[li].output.channels;
                        let mut per_channel = vec![0u64; ch];
                        for &t in &mine {
                            per_channel[t % ch] += 1;
                        }
                        let channels = per_channel.iter().filter(|&&c| c > 0).count() as u64;
                        let n = mine.len() as u64;
                        let bits: u64 =
                            mine.iter().map(|&t| own[li][t]).sum::<u64>() + channels * kernel[li];
                        let mut c = cap[li];
                        if let Some(d) = l.memory_bits.checked_div(kernel[li]) {
                            let most = per_channel.iter().copied().max().unwrap_or(0);
                            c = c.min(d.max(1) * most);
                        }
                        cores = cores
                            .max(n.div_ceil(c.max(1)))
                            .max(bits.div_ceil(l.memory_bits));
                        n_all += n;
                        bits_all += bits;
                    }
                    let cores = cores
                        .max(n_all.div_ceil(l.max_neurons))
                        .max(bits_all.div_ceil(l.memory_bits));
                    (cores - 1) as u32
                })
                .collect()
        })
        .collect()
}

/// fc16 → fc16 → readout16 on cores of 16 neurons (the optimum of
/// `dense_chain_reaches_the_packet_and_hop_optimum` in tests/partition.rs: 32 packets per step
/// at rate 1). Every fc neuron has 16 targets in one layer; with itself that is 17 neurons, more
/// than a core, so each spike costs at least one packet: 2 × 16 × 1 = 32. A bound that only
/// divides the 16 targets by the 16 neurons a core holds would give 0.
#[test]
fn dense_chain_bound_equals_the_known_optimum() {
    let s = spec((1, 4, 4), vec![linear(16), linear(16), readout(16)]);
    let plan = NetworkPlan::new(&s).unwrap();
    let c = chip(&Limits {
        neurons: 16,
        cores_per_tile: 4,
        ..Default::default()
    });
    let o = map(&model(s), &c, None, 9).unwrap();
    assert_eq!(o.bound.inter_core_packets, 32.0);
    assert_eq!(o.bound.by_layer, vec![16.0, 16.0, 0.0]);
    assert_eq!(o.ours.inter_core_packets, 32.0, "ours reaches the bound");
    let l = CoreLimits::of(&c);
    assert!(per_spike(&plan, &l)[..2].iter().flatten().all(|&k| k == 1));
}

/// Memory-bound: input 2x2 → fc 4 → readout 12 with 8-bit weights and 128 bits per core. Every
/// neuron has 4 inputs, 32 bits, so a core holds 4 neurons (the neuron limit is 1024). A fc
/// spike reaches the 12 readout neurons: with itself 13 × 32 = 416 bits > 3 × 128, so 4 cores
/// and 3 packets per spike; 4 fc neurons at rate 1 give 12 per step. The assignment "all fc on
/// core 0, readout 4 by 4 on cores 1–3" is valid and sends exactly 12: the bound is the optimum.
#[test]
fn memory_bound_dense_layer_bound_equals_a_hand_built_optimum() {
    let s = spec((1, 2, 2), vec![linear(4), readout(12)]);
    let plan = NetworkPlan::new(&s).unwrap();
    let l = limits(1024, 128, 8, false);
    let lb = per_spike(&plan, &l);
    assert_eq!(lb[0], vec![3; 4]);
    assert_eq!(lb[1], vec![0; 12]);
    let act = Activity::uniform(&NetGraph::new(&plan), 1.0);
    let b = PacketBound::new(&NetGraph::new(&plan), &l, &act);
    assert_eq!(b.inter_core_packets, 12.0);
    // the hand-built optimum, evaluated by brute force
    let cores = vec![vec![0; 4], (0..12).map(|t| 1 + t / 4).collect()];
    let e = brute(&plan, &cores, &[(0, 0); 4], &act, 8, false);
    assert!(
        e.memory_bits.iter().all(|&m| m <= 128),
        "{:?}",
        e.memory_bits
    );
    assert_eq!(e.inter_core_packets, 12.0);
    // and the mapper finds it
    let c = chip(&Limits {
        memory_bits: 128,
        ..Default::default()
    });
    let o = map(&model(s), &c, None, 1).unwrap();
    assert_eq!(o.bound.inter_core_packets, 12.0);
    assert_eq!(o.ours.inter_core_packets, 12.0);
}

/// conv1 (4@6x6, 3x3 pad 1) → conv2 (8@6x6) → pool → readout, 8-bit weights, 2000 bits and
/// 1024 neurons per core. By hand: a conv2 neuron stores 4 channels × (9, 6 or 4 taps) × 8 bit
/// = 288 / 192 / 128 bits (interior / edge / corner); the cheapest are the 4 × 8 corner
/// neurons, 15 of which fit 2000 bits, so cap = 15. An interior conv1 spike (pixel (2,2))
/// reaches 3 × 3 × 8 = 72 interior conv2 neurons, 72 × 288 = 20,736 bits, plus its own 9 × 8 =
/// 72 bits: ⌈20,808 / 2000⌉ = 11 cores (the count gives only ⌈72 / 15⌉ = 5): 10 packets. A
/// corner conv1 spike (pixel (0,0)) reaches conv2 pixels (0,0) corner, (0,1), (1,0) edges and
/// (1,1) interior: 8 × (128 + 192 + 192 + 288) = 6400 bits, plus its own 4 × 8 = 32: 4 cores,
/// 3 packets. A conv2 spike reaches one pooling neuron (32 bits): 0. Per layer, the whole table
/// agrees with the enumeration of every synapse, with and without shared kernels.
#[test]
fn conv_chain_per_layer_numbers_match_hand_and_enumeration() {
    let s = spec(
        (1, 6, 6),
        vec![
            conv(4, 3, 1, 1),
            conv(8, 3, 1, 1),
            LayerSpec::Pool,
            readout(2),
        ],
    );
    let plan = NetworkPlan::new(&s).unwrap();
    let l = limits(1024, 2000, 8, false);
    let lb = per_spike(&plan, &l);
    let at = |y: usize, x: usize, c: usize| (y * 6 + x) * 4 + c;
    for c in 0..4 {
        assert_eq!(lb[0][at(2, 2, c)], 10, "interior conv1 channel {c}");
        assert_eq!(lb[0][at(0, 0, c)], 3, "corner conv1 channel {c}");
    }
    assert!(lb[1].iter().all(|&k| k == 0));
    assert_eq!(lb, brute_per_spike(&plan, &l));
    // per layer with uneven rates: Σ rate × per-spike bound, summed independently here
    let act = random_activity(&plan, 4);
    let b = PacketBound::new(&NetGraph::new(&plan), &l, &act);
    for (layer, table) in lb.iter().enumerate() {
        let want: f64 = table
            .iter()
            .zip(&act.layers[layer])
            .map(|(&k, &a)| k as f64 * a)
            .sum();
        close(b.by_layer[layer], want, &format!("layer {layer}"));
    }
    close(b.inter_core_packets, b.by_layer.iter().sum(), "total");
    // shared kernels: conv2 keeps 4 × 9 × 8 = 288 bits per channel, so 6 channels fit 2000
    // bits; an interior conv1 spike reaches 8 channels: ⌈8 · 288 / 2000⌉ = 2 cores, 1 packet
    let shared = limits(1024, 2000, 8, true);
    let lbs = per_spike(&plan, &shared);
    assert_eq!(lbs[0][at(2, 2, 0)], 1);
    assert_eq!(lbs, brute_per_spike(&plan, &shared));
}

/// Residual blocks (a source reaching two layers, one through a shortcut), strided convs and
/// dense layers: the bound matches the enumeration for several chips.
#[test]
fn residual_and_strided_networks_match_the_enumeration() {
    let nets = [
        spec(
            (2, 8, 8),
            vec![
                conv(4, 3, 1, 1),
                LayerSpec::Residual {
                    out_channels: 4,
                    stride: 1,
                },
                LayerSpec::Residual {
                    out_channels: 6,
                    stride: 2,
                },
                linear(10),
                readout(3),
            ],
        ),
        spec(
            (1, 9, 7),
            vec![conv(3, 5, 2, 2), LayerSpec::Pool, linear(7), readout(2)],
        ),
    ];
    for s in nets {
        let plan = NetworkPlan::new(&s).unwrap();
        for l in [
            limits(1024, 1 << 20, 8, false),
            limits(20, 3000, 4, false),
            limits(50, 1500, 2, true),
            limits(7, 600, 1, true),
        ] {
            assert_eq!(per_spike(&plan, &l), brute_per_spike(&plan, &l), "{l:?}");
        }
    }
}

fn tiny_layer() -> impl Strategy<Value = LayerSpec> {
    prop_oneof![
        (1usize..4).prop_map(linear),
        (1usize..3, prop_oneof![Just(1usize), Just(3)], 0usize..2).prop_map(|(o, k, p)| conv(
            o,
            k,
            1,
            p.min(k / 2)
        )),
    ]
}

/// Networks of at most 8 neurons (every assignment can be tried).
fn tiny_network() -> impl Strategy<Value = snn_core::NetworkSpec> {
    (
        1usize..3,
        1usize..3,
        prop::collection::vec(tiny_layer(), 1..3),
        1usize..3,
    )
        .prop_map(|(h, w, mut layers, out)| {
            layers.push(readout(out));
            spec((1, h, w), layers)
        })
        .prop_filter("at most 8 neurons", |s| {
            NetworkPlan::new(s)
                .is_ok_and(|p| p.layers.iter().map(|l| l.output.len()).sum::<usize>() <= 8)
        })
}

/// Calls `f` with every partition of `0..n` into blocks, as block labels (restricted growth
/// strings: label i is at most one more than the largest label before it).
fn for_each_partition(n: usize, f: &mut impl FnMut(&[u32], usize)) {
    fn rec(a: &mut Vec<u32>, n: usize, max: u32, f: &mut impl FnMut(&[u32], usize)) {
        if a.len() == n {
            f(a, max as usize + 1);
            return;
        }
        for v in 0..=max + 1 {
            a.push(v);
            rec(a, n, max.max(v), f);
            a.pop();
        }
    }
    if n > 0 {
        let mut a = vec![0];
        rec(&mut a, n, 0, f);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// On tiny networks, the fewest packets of every assignment that respects the neuron and
    /// memory limits (all of them tried) is never below the bound, and the bound agrees with
    /// the enumeration of every synapse.
    #[test]
    fn no_valid_assignment_beats_the_bound(
        s in tiny_network(),
        neurons in 1u64..6,
        memory_bits in 8u64..300,
        weight_bits in 1u64..9,
        shared in any::<bool>(),
        seed in 0u64..4,
    ) {
        let plan = NetworkPlan::new(&s).unwrap();
        let l = limits(neurons, memory_bits, weight_bits, shared);
        let lb = per_spike(&plan, &l);
        prop_assert_eq!(&lb, &brute_per_spike(&plan, &l));
        let act = random_activity(&plan, seed);
        let bound = PacketBound::new(&NetGraph::new(&plan), &l, &act).inter_core_packets;
        let sizes: Vec<usize> = plan.layers.iter().map(|x| x.output.len()).collect();
        let total: usize = sizes.iter().sum();
        let mut best = f64::INFINITY;
        for_each_partition(total, &mut |labels, k| {
            let mut cores = Vec::new();
            let mut at = 0;
            for &n in &sizes {
                cores.push(labels[at..at + n].to_vec());
                at += n;
            }
            let e = brute(&plan, &cores, &vec![(0, 0); k], &act, weight_bits, shared);
            let valid = (0..k).all(|c| e.neurons[c] <= neurons && e.memory_bits[c] <= memory_bits);
            if valid {
                best = best.min(e.inter_core_packets);
            }
        });
        if best.is_finite() {
            prop_assert!(bound <= best + 1e-9 * (1.0 + best), "bound {} > optimum {}", bound, best);
        }
    }
}
