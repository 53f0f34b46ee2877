//! Spike traffic: the activity-weighted hypergraph the partitioner minimizes (one hyperedge per
//! group of neurons that send to the same atoms) and the exact evaluation of any neuron-to-core
//! assignment (packets with multicast, per-core load and fan-out, the core-to-core matrix).
//!
//! Multicast: one spike costs one packet per distinct destination core other than its own.

use crate::atoms::AtomSet;
use crate::network::NetGraph;
use serde::{Deserialize, Serialize};
use snn_core::plan::Source;
use snn_core::profile::ActivityProfile;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Spikes per neuron per step for the input and every layer.
#[derive(Clone, Debug)]
pub struct Activity {
    /// Input pixels (both signs).
    pub input: Vec<f64>,
    /// Per plan layer, per neuron (zeros for the readout).
    pub layers: Vec<Vec<f64>>,
    /// Where the rates come from, for reports.
    pub origin: String,
}

impl Activity {
    /// Every spiking neuron fires with the same rate `rate` (used without a profile).
    pub fn uniform(net: &NetGraph, rate: f64) -> Self {
        Activity {
            input: vec![rate; net.plan.input.len()],
            layers: net
                .plan
                .layers
                .iter()
                .map(|l| vec![if l.spikes() { rate } else { 0.0 }; l.output.len()])
                .collect(),
            origin: format!("uniform ({rate} spikes per neuron per step)"),
        }
    }

    /// Rates measured in a profile (already checked against the plan).
    pub fn from_profile(p: &ActivityProfile, origin: &str) -> Self {
        Activity {
            input: (0..p.input.len()).map(|i| p.input_rate(i)).collect(),
            layers: p
                .layers
                .iter()
                .enumerate()
                .map(|(l, la)| (0..la.spikes.len()).map(|n| p.rate(l, n)).collect())
                .collect(),
            origin: format!(
                "profile {origin} ({} samples x {} steps)",
                p.samples, p.timesteps
            ),
        }
    }

    /// Rates of a source.
    pub fn of(&self, src: Source) -> &[f64] {
        match src {
            Source::Input => &self.input,
            Source::Layer(l) => &self.layers[l],
        }
    }
}

/// Activity-weighted hypergraph over atoms.
#[derive(Clone, Debug, Default)]
pub struct Hypergraph {
    /// Pins of each hyperedge (sorted atom ids, the sender's atom included).
    pub pins: Vec<Vec<u32>>,
    /// Spikes per step carried by each hyperedge.
    pub weight: Vec<f64>,
    /// Hyperedges incident to each atom.
    pub incident: Vec<Vec<u32>>,
    /// Expected synaptic operations per step into each atom.
    pub load: Vec<f64>,
}

impl Hypergraph {
    /// Builds the hypergraph: neurons of one atom that reach the same set of atoms form one
    /// hyperedge whose weight is their summed rate. Input spikes (injected from the host) only
    /// add load.
    pub fn build(net: &NetGraph, atoms: &AtomSet, act: &Activity) -> Self {
        let mut load = vec![0.0; atoms.len()];
        let mut edges: HashMap<Vec<u32>, f64> = HashMap::new();
        let mut pins = Vec::new();
        for src in net.sources() {
            let rates = act.of(src);
            let outs: Vec<_> = net.edges_from(src).collect();
            if outs.is_empty() {
                continue;
            }
            for (n, &r) in rates.iter().enumerate() {
                if r <= 0.0 {
                    continue;
                }
                pins.clear();
                for e in &outs {
                    if let Some(reg) = e.targets(n) {
                        atoms.tilings[e.target].for_each_atom_in(&reg, |a, part| {
                            load[a as usize] += r * part.len() as f64;
                            pins.push(a);
                        });
                    }
                }
                if let Source::Layer(l) = src {
                    pins.push(atoms.atom_of(l, n));
                    pins.sort_unstable();
                    pins.dedup();
                    if pins.len() > 1 {
                        *edges.entry(pins.clone()).or_insert(0.0) += r;
                    }
                }
            }
        }
        let mut list: Vec<(Vec<u32>, f64)> = edges.into_iter().collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        let mut incident = vec![Vec::new(); atoms.len()];
        for (e, (p, _)) in list.iter().enumerate() {
            for &a in p {
                incident[a as usize].push(e as u32);
            }
        }
        let (pins, weight) = list.into_iter().unzip();
        Hypergraph {
            pins,
            weight,
            incident,
            load,
        }
    }

    /// Connectivity-minus-one cost (= inter-core packets per step) of an atom-to-core map.
    pub fn cut(&self, core_of: &[u32]) -> f64 {
        let mut seen = Vec::new();
        self.pins
            .iter()
            .zip(&self.weight)
            .map(|(p, &w)| {
                seen.clear();
                seen.extend(p.iter().map(|&a| core_of[a as usize]));
                seen.sort_unstable();
                seen.dedup();
                w * (seen.len() - 1) as f64
            })
            .sum()
    }
}

/// Core of every neuron, per plan layer.
#[derive(Clone, Debug)]
pub struct NeuronMap {
    /// `cores[l][n]`: core of neuron `n` of layer `l`.
    pub cores: Vec<Vec<u32>>,
    /// Number of cores used (ids are `0..count`).
    pub count: usize,
}

impl NeuronMap {
    /// The neuron map of an atom-to-core assignment.
    pub fn from_atoms(net: &NetGraph, atoms: &AtomSet, core_of: &[u32]) -> Self {
        let cores = (0..net.layers())
            .map(|l| {
                let len = net.plan.layers[l].output.len();
                (0..len)
                    .map(|n| core_of[atoms.atom_of(l, n) as usize])
                    .collect()
            })
            .collect();
        let count = core_of.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        NeuronMap { cores, count }
    }
}

/// Traffic and load of an assignment, per step.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrafficStats {
    /// Packets per step between distinct cores.
    pub inter_core_packets: f64,
    /// Spikes per step delivered inside their own core.
    pub local_deliveries: f64,
    /// Packets per step injected from the host (input spikes, one per destination core).
    pub input_packets: f64,
    /// Inter-core packets per step by sending layer.
    pub packets_by_layer: Vec<f64>,
    /// Expected synaptic operations per step on each core.
    pub core_load: Vec<f64>,
    /// Distinct destination cores of each core (routing entries).
    pub fan_out: Vec<u32>,
    /// Packets per step from core `p` to core `q` (p ≠ q).
    pub matrix: BTreeMap<(u32, u32), f64>,
}

impl TrafficStats {
    /// Evaluates an assignment exactly, neuron by neuron (no atom structure assumed, so it
    /// serves the mapper and both baselines alike).
    pub fn evaluate(net: &NetGraph, map: &NeuronMap, act: &Activity) -> Self {
        let mut st = TrafficStats {
            core_load: vec![0.0; map.count],
            packets_by_layer: vec![0.0; net.layers()],
            ..Default::default()
        };
        let mut fan_out: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); map.count];
        // count of targets per destination core for the current source neuron
        let mut count = vec![0u64; map.count];
        let mut touched: Vec<u32> = Vec::new();
        for src in net.sources() {
            let rates = act.of(src);
            let outs: Vec<_> = net.edges_from(src).collect();
            if outs.is_empty() {
                continue;
            }
            for (n, &r) in rates.iter().enumerate() {
                touched.clear();
                for e in &outs {
                    if let Some(reg) = e.targets(n) {
                        let dest = &map.cores[e.target];
                        reg.for_each_index(e.output_shape(), |t| {
                            let d = dest[t];
                            if count[d as usize] == 0 {
                                touched.push(d);
                            }
                            count[d as usize] += 1;
                        });
                    }
                }
                let own = match src {
                    Source::Input => None,
                    Source::Layer(l) => Some(map.cores[l][n]),
                };
                for &d in &touched {
                    st.core_load[d as usize] += r * count[d as usize] as f64;
                    count[d as usize] = 0;
                    match own {
                        None => st.input_packets += r,
                        Some(o) if o == d => st.local_deliveries += r,
                        Some(o) => {
                            st.inter_core_packets += r;
                            if let Source::Layer(l) = src {
                                st.packets_by_layer[l] += r;
                            }
                            fan_out[o as usize].insert(d);
                            if r > 0.0 {
                                *st.matrix.entry((o, d)).or_insert(0.0) += r;
                            }
                        }
                    }
                }
            }
        }
        st.fan_out = fan_out.iter().map(|s| s.len() as u32).collect();
        st
    }

    /// The busiest core's expected synaptic operations per step.
    pub fn max_core_load(&self) -> f64 {
        self.core_load.iter().cloned().fold(0.0, f64::max)
    }
}
