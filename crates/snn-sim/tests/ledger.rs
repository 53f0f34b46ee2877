//! The energy ledger and the time model worked out by hand for a two-core toy network.
//!
//! Network: 2 input pixels → fc1 (2 LIF neurons) → readout (2 neurons), on a chip whose cores
//! hold 2 neurons, so fc1 and the readout sit on two cores. Pixel 0 is 1.0 with input scale 1,
//! so it fires at every step; pixel 1 is 0 and never fires. fc1 weights from pixel 0 are
//! (1.5, 0.6): fc1 neuron 0 gets 1.5 > 1 and fires at every step; neuron 1 integrates 0.6,
//! leaks to 0.594, then 0.594 + 0.6 = 1.194 > 1 fires at steps 2 and 4 (of T = 4). The readout
//! weights are the identity. Per sample therefore:
//!
//! | | fc1 core (A) | readout core (B) |
//! |---|---|---|
//! | spikes received | 4 input (host) | 6 (k = 1, 2, 1, 2 per step) |
//! | synaptic ops | 4 × 2 = 8 | 6 × 2 = 12 |
//! | active / idle updates | 8 / 0 | 1+2+1+2 = 6 / 2 |
//! | spikes sent | 6, one packet each to B | — |
//!
//! Constants of the chip (pJ; mW): synop 2, active 3, idle 5, local 7, hop x 11, hop y 13,
//! static 0.5 per core; latencies (ns): synop 1, active 2, idle 3, local 4, hop x 5, hop y 6,
//! barrier 10. Busy time per step s: A(s) = 2·1 + 2·2 + k_s·r (r = latency of one packet's route);
//! B(s) = 2·k_s·1 + active·2 + idle·3 = 7, 8, 7, 8. Layers are pipelined: at chip step τ core A
//! runs global step τ and B runs τ − 1, so 2 samples take 2·4 + 1 = 9 chip steps, each lasting
//! its busier core plus the barrier.

mod common;

use common::*;
use snn_core::Model;
use snn_data::dataset::{Dataset, DatasetKind, Split};
use snn_map::mapping::{Mapping, Route};
use snn_sim::counters::Counts;
use snn_sim::engine::Mode;

const PJ: f64 = 1e-12;
const T: u32 = 4;
const SAMPLES: usize = 2;

fn toy_model() -> Model {
    two_neuron_toy("toy", [1.5, 0.6, 5.0, 5.0], [1.0, 0.0, 0.0, 1.0])
}

fn toy_data() -> Dataset {
    Dataset {
        kind: DatasetKind::Mnist,
        split: Split::Test,
        channels: 1,
        rows: 1,
        cols: 2,
        images: [1.0, 0.0].repeat(SAMPLES),
        labels: vec![0; SAMPLES],
    }
}

fn toy_chip(width: u32, height: u32, cores_per_tile: u32) -> snn_map::chip::ChipModel {
    chip(&ChipSpec {
        neurons: 2,
        width,
        height,
        cores_per_tile,
        energy: [2.0, 3.0, 5.0, 7.0, 11.0, 13.0, 0.5],
        latency: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 10.0],
        ..ChipSpec::default()
    })
}

/// What the hand computation predicts for one placement of the two cores.
struct Expected {
    /// Route from A to B: (hops x, hops y).
    hops: (u32, u32),
    /// Routing energy per inference, pJ.
    routing_pj: f64,
    /// Modeled chip time of the whole run (2 samples), ns.
    chip_ns: f64,
    /// Latency of one packet from A to B, ns.
    packet_ns: f64,
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-30),
        "{what}: got {a:e}, expected {b:e}"
    );
}

fn check(width: u32, height: u32, cores_per_tile: u32, want: Expected) {
    check_placed(width, height, cores_per_tile, |_, _, _| {}, want)
}

/// [`check`] after `place(mapping, a, b)` has moved the cores of fc1 (`a`) and readout (`b`).
fn check_placed(
    width: u32,
    height: u32,
    cores_per_tile: u32,
    place: impl Fn(&mut Mapping, usize, usize),
    want: Expected,
) {
    let model = toy_model();
    let chip = toy_chip(width, height, cores_per_tile);
    let mut mapping = map(&model, &chip, 1);
    assert_eq!(mapping.cores.len(), 2, "fc1 and readout need one core each");
    let (a, b) = (
        mapping.core_of(0, 0) as usize,
        mapping.core_of(1, 0) as usize,
    );
    place(&mut mapping, a, b);
    assert_ne!(a, b);
    assert_eq!(
        (mapping.core_of(0, 1), mapping.core_of(1, 1)),
        (a as u32, b as u32)
    );
    assert_eq!(
        mapping.cores[a].routes,
        vec![Route {
            dest: b as u32,
            hops_x: want.hops.0,
            hops_y: want.hops.1,
        }]
    );

    let data = toy_data();
    let o = sim(&model, &mapping, &data, 3, T, SAMPLES, 2, Mode::Float);
    let n = SAMPLES as u64;

    // Spikes and predictions.
    assert_eq!(o.predictions, vec![0; SAMPLES]);
    let l = 0.99f32;
    let o0 = (l + l * l + l * l * l + l * l * l * l) / 4.0;
    let o1 = (l * l * l + l) / 4.0;
    for out in &o.run.outputs {
        assert!(
            (out[0] - o0).abs() < 1e-6 && (out[1] - o1).abs() < 1e-6,
            "{out:?}"
        );
    }
    assert_eq!((o.run.input_spikes, o.run.input_packets), (4 * n, 4 * n));

    // Counters per layer (2 samples).
    let packets = 6 * n;
    let same_tile = want.hops == (0, 0);
    let fc1 = Counts {
        // every host input spike reaches core A once
        input_spikes: 4 * n,
        synaptic_ops: 8 * n,
        active_updates: 8 * n,
        idle_updates: 0,
        output_spikes: 6 * n,
        local_deliveries: 0,
        tile_packets: if same_tile { packets } else { 0 },
        mesh_packets: if same_tile { 0 } else { packets },
        hops_x: packets * want.hops.0 as u64,
        hops_y: packets * want.hops.1 as u64,
    };
    let readout = Counts {
        input_spikes: 6 * n,
        synaptic_ops: 12 * n,
        active_updates: 6 * n,
        idle_updates: 2 * n,
        ..Counts::default()
    };
    assert_eq!(o.layers[0].counts, fc1, "fc1 counters");
    assert_eq!(o.layers[1].counts, readout, "readout counters");
    assert_eq!(o.run.per_core_layer[a][0], fc1);
    assert_eq!(o.run.per_core_layer[b][1], readout);
    assert_eq!(o.total.hops(), packets * (want.hops.0 + want.hops.1) as u64);

    // Time: Σ over 9 chip steps of (busier core + 10 ns barrier).
    assert_eq!(o.run.chip_steps, 9);
    close(o.run.chip_seconds, want.chip_ns * 1e-9, "chip time");
    // Busy time per sample: A = Σ_s (6 + k_s·r) = 24 + 6r; B = 7 + 8 + 7 + 8 = 30.
    let busy_a = SAMPLES as f64 * (24.0 + 6.0 * want.packet_ns);
    close(o.run.core_busy_seconds[a], busy_a * 1e-9, "core A busy");
    close(o.run.core_busy_seconds[b], 60.0e-9, "core B busy");
    close(o.cores[a].busy_seconds, busy_a * 1e-9, "core A report busy");

    // Energy per inference.
    let e = &o.energy;
    close(e.synaptic, (8.0 + 12.0) * 2.0 * PJ, "synaptic");
    close(e.neuron, ((8.0 + 6.0) * 3.0 + 2.0 * 5.0) * PJ, "neuron");
    close(e.routing, want.routing_pj * PJ, "routing");
    let static_j = 0.5e-3 * 2.0 * want.chip_ns * 1e-9 / SAMPLES as f64;
    close(e.r#static, static_j, "static");
    close(
        e.total(),
        40.0 * PJ + 52.0 * PJ + want.routing_pj * PJ + static_j,
        "total",
    );

    // Per layer (dynamic only) and per core (with half of the static energy each).
    let la = &o.layers[0].energy_per_inference;
    close(la.synaptic, 16.0 * PJ, "fc1 synaptic");
    close(la.neuron, 24.0 * PJ, "fc1 neuron");
    close(la.routing, want.routing_pj * PJ, "fc1 routing");
    assert_eq!(la.r#static, 0.0);
    let lb = &o.layers[1].energy_per_inference;
    close(lb.synaptic, 24.0 * PJ, "readout synaptic");
    close(lb.neuron, (18.0 + 10.0) * PJ, "readout neuron");
    assert_eq!(lb.routing, 0.0);
    let (ca, cb) = (&o.cores[a], &o.cores[b]);
    close(
        ca.energy_per_inference.synaptic,
        16.0 * PJ,
        "core A synaptic",
    );
    close(cb.energy_per_inference.neuron, 28.0 * PJ, "core B neuron");
    close(
        ca.energy_per_inference.r#static,
        static_j / 2.0,
        "core A static",
    );
    close(
        cb.energy_per_inference.r#static,
        static_j / 2.0,
        "core B static",
    );
    let tile = |c: usize| (mapping.cores[c].slot.x, mapping.cores[c].slot.y);
    assert_eq!((ca.tile, cb.tile), (tile(a), tile(b)));

    // ANN baseline on the 45 nm reference: 2·2 + 2·2 dense MACs per inference.
    let g = generic_45nm();
    let e_mac = g.energy.mac_pj.as_ref().expect("45 nm MAC energy").value;
    close(o.ann_macs, 8.0, "ANN MACs");
    close(o.ann_energy, 8.0 * e_mac * PJ, "ANN energy");
    close(
        o.snn_energy_45nm,
        20.0 * g.energy.synop_pj.value * PJ,
        "SNN energy at 45 nm",
    );
}

#[test]
fn two_cores_one_hop_east_west() {
    // r = hop x = 5 ns: A = 11, 16, 11, 16; chip steps: 11, 16, 11, 16, 11, 16, 11, 16, then
    // B's last step 8 → 116 ns + 9 barriers = 206 ns. Routing 6 packets × 1 hop × 11 pJ.
    check(
        2,
        1,
        1,
        Expected {
            hops: (1, 0),
            routing_pj: 66.0,
            packet_ns: 5.0,
            chip_ns: 206.0,
        },
    );
}

#[test]
fn two_cores_one_hop_north_south() {
    // r = hop y = 6 ns: A = 12, 18, 12, 18 → 4·12 + 4·18 + 8 + 90 = 218 ns; 6 × 13 pJ.
    check(
        1,
        2,
        1,
        Expected {
            hops: (0, 1),
            routing_pj: 78.0,
            packet_ns: 6.0,
            chip_ns: 218.0,
        },
    );
}

#[test]
fn two_cores_in_one_tile_pay_the_local_spike_cost() {
    // r = local = 4 ns: A = 10, 14, 10, 14 → 4·10 + 4·14 + 8 + 90 = 194 ns; 6 × 7 pJ.
    check(
        1,
        1,
        2,
        Expected {
            hops: (0, 0),
            routing_pj: 42.0,
            packet_ns: 4.0,
            chip_ns: 194.0,
        },
    );
}

#[test]
fn two_hops_cost_twice_one_hop() {
    // The cores moved to both ends of a 3×1 mesh (a placer would put them side by side).
    // r = 2 hops × 5 ns: A = 16, 26, 16, 26 → 4·16 + 4·26 + 8 + 90 = 266 ns; 6 × 2 × 11 pJ.
    check_placed(
        3,
        1,
        1,
        |m, a, b| {
            m.cores[a].slot.x = 0;
            m.cores[b].slot.x = 2;
            m.cores[a].routes[0].hops_x = 2;
        },
        Expected {
            hops: (2, 0),
            routing_pj: 132.0,
            packet_ns: 10.0,
            chip_ns: 266.0,
        },
    );
}
