//! The whole mapping flow: atoms → hypergraph → partition → placement → routing, plus the two
//! baselines evaluated on the same traffic model, the summary numbers of each, and the lower
//! bound on inter-core packets that no valid mapping can beat.

use crate::atoms::AtomSet;
use crate::bound::PacketBound;
use crate::chip::ChipModel;
use crate::error::MapError;
use crate::limits::CoreLimits;
use crate::mapping::{CoreRecord, Mapping, Route};
use crate::network::NetGraph;
use crate::partition::{
    partition, random_partition, sequential_fill, usage_of, Objective, PartitionOptions,
};
use crate::place::{hop_weighted, place_optimized, place_random, place_sequential, Mesh};
use crate::traffic::{Activity, Hypergraph, NeuronMap, TrafficStats};
use crate::usage::{AtomCost, CoreUsage};
use serde::Serialize;
use snn_core::plan::NetworkPlan;
use snn_core::Model;
use std::time::Instant;

/// What to map and how.
pub struct MapRequest<'a> {
    /// The trained model.
    pub model: &'a Model,
    /// The chip.
    pub chip: &'a ChipModel,
    /// Chip file name, for messages and the mapping.
    pub chip_path: String,
    /// Chips joined.
    pub chips: u32,
    /// Spike rates weighting the traffic.
    pub activity: Option<Activity>,
    /// Seed of the random baseline and of the placer.
    pub seed: u64,
    /// How many atoms should fit one core ([`crate::atoms::DEFAULT_ATOMS_PER_CORE`] unless the
    /// user trades mapper time for finer atoms).
    pub atoms_per_core: u32,
}

/// Per-core numbers of one assignment.
#[derive(Clone, Debug, Serialize)]
pub struct CoreSummary {
    /// Core id.
    pub core: usize,
    /// Chip, tile column and row, core within tile.
    pub slot: [u32; 4],
    /// Layers with neurons on the core.
    pub layers: Vec<String>,
    /// Neurons / max neurons.
    pub neuron_utilization: f64,
    /// Synaptic memory used / available.
    pub memory_utilization: f64,
    /// Fan-in used / allowed.
    pub fan_in_utilization: f64,
    /// Destination cores used / allowed.
    pub fan_out_utilization: f64,
    /// Expected synaptic operations per step.
    pub load: f64,
}

/// Summary of one assignment (ours or a baseline).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Cores used.
    pub cores_used: usize,
    /// Packets per step between different cores.
    pub inter_core_packets: f64,
    /// Σ packets × hops per step.
    pub hop_weighted_traffic: f64,
    /// Busiest core's expected synaptic operations per step.
    pub max_core_load: f64,
    /// Spikes per step delivered inside their own core.
    pub local_deliveries: f64,
    /// Host-injected input packets per step.
    pub input_packets: f64,
    /// Largest routing table.
    pub max_fan_out: u32,
    /// Inter-core packets per step by sending layer.
    pub packets_by_layer: Vec<f64>,
}

/// Result of a mapping run.
pub struct MapOutcome {
    /// The mapping (to be saved as mapping.bin).
    pub mapping: Mapping,
    /// Our numbers.
    pub ours: Summary,
    /// Sequential-fill baseline.
    pub sequential: Summary,
    /// Random valid baseline.
    pub random: Summary,
    /// Lower bound on the inter-core packets of any valid mapping (same traffic model).
    pub bound: PacketBound,
    /// Seconds spent computing the bound.
    pub bound_seconds: f64,
    /// Per-core details of our mapping.
    pub cores: Vec<CoreSummary>,
    /// The core-to-core traffic of our mapping (packets per step).
    pub traffic: TrafficStats,
    /// Seconds spent mapping (ours, without baselines).
    pub seconds: f64,
    /// Cores available.
    pub cores_available: usize,
    /// The activity used.
    pub activity: String,
    /// The atom partition (for exporting to external partitioners).
    pub atom_cores: Vec<u32>,
    /// The atom hypergraph (for exporting to external partitioners).
    pub hypergraph: Hypergraph,
    /// Atom costs.
    pub atom_costs: Vec<AtomCost>,
    /// The spike rates used (None = uniform).
    pub activity_rates: Option<Activity>,
    /// What the partitioner minimized first.
    pub objective: Objective,
}

fn summarize(
    net: &NetGraph,
    map: &NeuronMap,
    act: &Activity,
    mesh: &Mesh,
    slot_of: &[usize],
) -> (Summary, TrafficStats) {
    let st = TrafficStats::evaluate(net, map, act);
    let s = Summary {
        cores_used: map.count,
        inter_core_packets: st.inter_core_packets,
        hop_weighted_traffic: hop_weighted(mesh, &st.matrix, slot_of),
        max_core_load: st.max_core_load(),
        local_deliveries: st.local_deliveries,
        input_packets: st.input_packets,
        max_fan_out: st.fan_out.iter().copied().max().unwrap_or(0),
        packets_by_layer: st.packets_by_layer.clone(),
    };
    (s, st)
}

fn check_cores(needed: usize, mesh: &Mesh, chip: &ChipModel, path: &str) -> Result<(), MapError> {
    let per_chip = chip.cores_per_chip();
    if needed > mesh.slots() {
        return Err(MapError::TooManyCores {
            needed,
            available: mesh.slots(),
            chips: mesh.chips,
            per_chip,
            suggest: needed.div_ceil(per_chip),
            chip: path.to_string(),
        });
    }
    Ok(())
}

/// Evaluates an atom partition placed by `place` (used for the external-partition comparison).
pub fn evaluate_partition(
    net: &NetGraph,
    atoms: &AtomSet,
    core_of: &[u32],
    act: &Activity,
    mesh: &Mesh,
    seed: u64,
) -> Summary {
    let map = NeuronMap::from_atoms(net, atoms, core_of);
    let st = TrafficStats::evaluate(net, &map, act);
    // An external partition may use more cores than the chips offer: join enough chips.
    let per_chip = (mesh.width * mesh.height * mesh.cores_per_tile) as usize;
    let mesh = Mesh {
        chips: mesh.chips.max(map.count.div_ceil(per_chip.max(1)) as u32),
        ..*mesh
    };
    let slot_of = place_optimized(&mesh, map.count, &st.matrix, seed);
    summarize(net, &map, act, &mesh, &slot_of).0
}

/// Maps a model onto a chip, minimizing inter-core packets.
pub fn map_model(req: &MapRequest) -> Result<MapOutcome, MapError> {
    map_model_with(req, Objective::Packets)
}

/// Maps a model onto a chip with the given objective.
pub fn map_model_with(req: &MapRequest, objective: Objective) -> Result<MapOutcome, MapError> {
    let t0 = Instant::now();
    let plan = NetworkPlan::new(&req.model.spec).map_err(|e| MapError::Usage(e.to_string()))?;
    let net = NetGraph::new(&plan);
    let limits = CoreLimits::of(req.chip);
    let mesh = Mesh {
        width: req.chip.mesh.width.value,
        height: req.chip.mesh.height.value,
        cores_per_tile: req.chip.mesh.cores_per_tile.value,
        chips: req.chips,
    };
    // Feasibility first: a lower bound on the cores needed, from the neuron count alone, fails a
    // chip that cannot hold the network in microseconds instead of after a full partition.
    let neurons: u64 = plan.layers.iter().map(|l| l.output.len() as u64).sum();
    check_cores(
        neurons.div_ceil(limits.max_neurons) as usize,
        &mesh,
        req.chip,
        &req.chip_path,
    )?;
    let act = req
        .activity
        .clone()
        .unwrap_or_else(|| Activity::uniform(&net, 1.0));
    let atoms = AtomSet::build(&net, &limits, &req.chip_path, req.atoms_per_core)?;
    let hg = Hypergraph::build(&net, &atoms, &act);
    let costs = AtomCost::all(&net, &atoms, &limits, &hg.load);
    let opts = PartitionOptions {
        objective,
        ..PartitionOptions::default()
    };
    let part = partition(&net, &hg, &costs, &limits, opts, &atoms.fill_order(&net));
    let map = NeuronMap::from_atoms(&net, &atoms, &part.core_of);
    let usage = usage_of(&net, &part, &costs);
    // Every limit holds on every core (the partitioner only adds atoms that fit; this guards
    // against an atom too large for a core on its own).
    if let Some((c, u)) = usage.iter().enumerate().find(|(_, u)| {
        u.neurons > limits.max_neurons
            || u.memory_bits > limits.memory_bits
            || u.fan_in > limits.max_fan_in
    }) {
        return Err(MapError::Usage(format!(
            "internal error: core {c} would hold {} neurons, {} bits, fan-in {} (limits {}, {}, {}) on {}; please report",
            u.neurons,
            u.memory_bits,
            u.fan_in,
            limits.max_neurons,
            limits.memory_bits,
            limits.max_fan_in,
            req.chip_path
        )));
    }
    // Routing tables: every (source core → destination core) pair that carries spikes, by
    // structure (not only where the profile saw activity). The fan-out limit is checked
    // before the core count: more chips do not shrink a routing table, so "try --chips N"
    // would be wrong advice when fan-out is what fails.
    let dests = destinations(&net, &map);
    for (c, d) in dests.iter().enumerate() {
        if d.len() as u64 > limits.max_fan_out {
            return Err(MapError::FanOut {
                core: c,
                layers: layers_on(&usage[c], &atoms, &plan).join("+"),
                needed: d.len() as u32,
                allowed: limits.max_fan_out,
                chip: req.chip_path.clone(),
            });
        }
    }
    check_cores(part.cores, &mesh, req.chip, &req.chip_path)?;
    let st = TrafficStats::evaluate(&net, &map, &act);
    let slot_of = place_optimized(&mesh, part.cores, &st.matrix, req.seed);
    let routes = with_hops(&dests, &mesh, &slot_of);
    let (ours, _) = summarize(&net, &map, &act, &mesh, &slot_of);
    let seconds = t0.elapsed().as_secs_f64();

    let cores: Vec<CoreSummary> = usage
        .iter()
        .enumerate()
        .map(|(c, u)| {
            let s = mesh.slot(slot_of[c]);
            CoreSummary {
                core: c,
                slot: [s.chip, s.x, s.y, s.core],
                layers: layers_on(u, &atoms, &plan),
                neuron_utilization: u.neurons as f64 / limits.max_neurons as f64,
                memory_utilization: u.memory_bits as f64 / limits.memory_bits as f64,
                fan_in_utilization: u.fan_in as f64 / limits.max_fan_in as f64,
                fan_out_utilization: routes[c].len() as f64 / limits.max_fan_out as f64,
                load: st.core_load[c],
            }
        })
        .collect();
    let records = usage
        .iter()
        .enumerate()
        .map(|(c, u)| CoreRecord {
            slot: mesh.slot(slot_of[c]),
            atoms: u.atoms.clone(),
            neurons: u.neurons,
            fan_in: u.fan_in,
            fan_out: routes[c].len() as u32,
            memory_bits: u.memory_bits,
            load: st.core_load[c],
            routes: routes[c].clone(),
        })
        .collect();

    // Baselines on the same traffic model.
    let (seq_map, _) = sequential_fill(&net, &limits);
    let seq_slots = place_sequential(seq_map.count);
    let sequential = if seq_map.count <= mesh.slots() {
        summarize(&net, &seq_map, &act, &mesh, &seq_slots).0
    } else {
        let big = Mesh {
            chips: seq_map.count.div_ceil(req.chip.cores_per_chip()) as u32,
            ..mesh
        };
        summarize(&net, &seq_map, &act, &big, &seq_slots).0
    };
    let rnd = random_partition(&net, &costs, &limits, part.cores, req.seed);
    let rnd_map = NeuronMap::from_atoms(&net, &atoms, &rnd.core_of);
    let rnd_mesh = Mesh {
        chips: mesh
            .chips
            .max(rnd.cores.div_ceil(req.chip.cores_per_chip()) as u32),
        ..mesh
    };
    let rnd_slots = place_random(&rnd_mesh, rnd.cores, req.seed);
    let random = summarize(&net, &rnd_map, &act, &rnd_mesh, &rnd_slots).0;
    let t_bound = Instant::now();
    let bound = PacketBound::new(&net, &limits, &act);
    let bound_seconds = t_bound.elapsed().as_secs_f64();

    let mapping = Mapping {
        network: req.model.spec.name.clone(),
        plan: plan.clone(),
        weights_fingerprint: req.model.weights_fingerprint(),
        chip: req.chip.clone(),
        chip_path: req.chip_path.clone(),
        mesh,
        atoms,
        core_of_atom: part.core_of.clone(),
        cores: records,
        activity: act.origin.clone(),
        seed: req.seed,
    };
    Ok(MapOutcome {
        mapping,
        ours,
        sequential,
        random,
        bound,
        bound_seconds,
        cores,
        traffic: st,
        seconds,
        cores_available: mesh.slots(),
        activity: act.origin,
        atom_cores: part.core_of,
        hypergraph: hg,
        atom_costs: costs,
        activity_rates: req.activity.clone(),
        objective,
    })
}

fn layers_on(u: &CoreUsage, atoms: &AtomSet, plan: &NetworkPlan) -> Vec<String> {
    let mut ls: Vec<u32> = u
        .atoms
        .iter()
        .map(|&a| atoms.atoms[a as usize].layer)
        .collect();
    ls.sort_unstable();
    ls.dedup();
    ls.iter()
        .map(|&l| plan.layers[l as usize].name.clone())
        .collect()
}

/// Destinations of every core (structural: every pair connected by a synapse), with hop counts.
pub fn routing_tables(
    net: &NetGraph,
    map: &NeuronMap,
    mesh: &Mesh,
    slot_of: &[usize],
) -> Vec<Vec<Route>> {
    with_hops(&destinations(net, map), mesh, slot_of)
}

/// Destination cores of every core, by structure (every pair connected by a synapse).
fn destinations(net: &NetGraph, map: &NeuronMap) -> Vec<Vec<u32>> {
    let ones = Activity::uniform(net, 1.0);
    let st = TrafficStats::evaluate(net, map, &ones);
    let mut dests = vec![Vec::new(); map.count];
    for &(p, q) in st.matrix.keys() {
        dests[p as usize].push(q);
    }
    dests
}

/// Routing tables of a placement: each destination with its hop counts.
fn with_hops(dests: &[Vec<u32>], mesh: &Mesh, slot_of: &[usize]) -> Vec<Vec<Route>> {
    dests
        .iter()
        .enumerate()
        .map(|(p, d)| {
            d.iter()
                .map(|&q| {
                    let (hx, hy) = mesh.hops(slot_of[p], slot_of[q as usize]);
                    Route {
                        dest: q,
                        hops_x: hx,
                        hops_y: hy,
                    }
                })
                .collect()
        })
        .collect()
}
