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

/// Summary numbers of an assignment from its traffic and placement.
fn summary_of(st: &TrafficStats, cores: usize, mesh: &Mesh, slot_of: &[usize]) -> Summary {
    Summary {
        cores_used: cores,
        inter_core_packets: st.inter_core_packets,
        hop_weighted_traffic: hop_weighted(mesh, &st.matrix, slot_of),
        max_core_load: st.max_core_load(),
        local_deliveries: st.local_deliveries,
        input_packets: st.input_packets,
        max_fan_out: st.fan_out.iter().copied().max().unwrap_or(0),
        packets_by_layer: st.packets_by_layer.clone(),
    }
}

/// Evaluates an assignment's traffic and summarizes it.
fn summarize(
    net: &NetGraph,
    map: &NeuronMap,
    act: &Activity,
    mesh: &Mesh,
    slot_of: &[usize],
) -> Summary {
    summary_of(
        &TrafficStats::evaluate(net, map, act),
        map.count,
        mesh,
        slot_of,
    )
}

/// Atoms above which a network too large for the chips is refused from the neuron-count bound
/// alone, before partitioning (which grows with the atom count: a chip with `max_neurons = 1`
/// cut LeNet into 10,000 atoms and took over a minute). Below it, the partition runs and the
/// error names the exact core count and a chip count that suffices.
const EARLY_REFUSAL_ATOMS: usize = 2048;

/// What every strategy (ours and the baselines) maps: the network, the chip's per-core limits
/// and mesh, the traffic weights, and the request they came from.
struct Problem<'a> {
    req: &'a MapRequest<'a>,
    net: NetGraph,
    limits: CoreLimits,
    mesh: Mesh,
    act: Activity,
}

impl<'a> Problem<'a> {
    fn new(req: &'a MapRequest<'a>) -> Result<Self, MapError> {
        let plan = NetworkPlan::new(&req.model.spec).map_err(|e| MapError::Usage(e.to_string()))?;
        let net = NetGraph::new(&plan);
        let act = req
            .activity
            .clone()
            .unwrap_or_else(|| Activity::uniform(&net, 1.0));
        Ok(Problem {
            req,
            net,
            limits: CoreLimits::of(req.chip),
            mesh: Mesh {
                width: req.chip.mesh.width.value,
                height: req.chip.mesh.height.value,
                cores_per_tile: req.chip.mesh.cores_per_tile.value,
                chips: req.chips,
            },
            act,
        })
    }

    /// Refuses `needed` cores when the chips offer fewer slots (`at_least` prefixes the count
    /// when it is a lower bound rather than the exact need).
    fn check_cores(&self, needed: usize, at_least: &'static str) -> Result<(), MapError> {
        let per_chip = self.req.chip.cores_per_chip();
        if needed > self.mesh.slots() {
            return Err(MapError::TooManyCores {
                at_least,
                needed,
                available: self.mesh.slots(),
                chips: self.mesh.chips,
                per_chip,
                suggest: needed.div_ceil(per_chip),
                chip: self.req.chip_path.clone(),
            });
        }
        Ok(())
    }

    /// Feasibility first: when partitioning would be long, a lower bound on the cores needed
    /// (the neuron count alone) refuses chips that cannot hold the network at once.
    fn refuse_early(&self, atoms: &AtomSet) -> Result<(), MapError> {
        if atoms.atoms.len() <= EARLY_REFUSAL_ATOMS {
            return Ok(());
        }
        let neurons: u64 = self
            .net
            .plan
            .layers
            .iter()
            .map(|l| l.output.len() as u64)
            .sum();
        self.check_cores(
            neurons.div_ceil(self.limits.max_neurons) as usize,
            "at least ",
        )
    }

    /// Every limit holds on every core (the partitioner only adds atoms that fit; this guards
    /// against an atom too large for a core on its own).
    fn check_usage(&self, usage: &[CoreUsage]) -> Result<(), MapError> {
        let l = &self.limits;
        match usage.iter().enumerate().find(|(_, u)| {
            u.neurons > l.max_neurons || u.memory_bits > l.memory_bits || u.fan_in > l.max_fan_in
        }) {
            Some((c, u)) => Err(MapError::Usage(format!(
                "internal error: core {c} would hold {} neurons, {} bits, fan-in {} (limits {}, {}, {}) on {}; please report",
                u.neurons,
                u.memory_bits,
                u.fan_in,
                l.max_neurons,
                l.memory_bits,
                l.max_fan_in,
                self.req.chip_path
            ))),
            None => Ok(()),
        }
    }

    /// Routing tables fit: every core's destination count within the chip's fan-out. Checked
    /// before the core count: more chips do not shrink a routing table, so "try --chips N" would
    /// be wrong advice when fan-out is what fails.
    fn check_fan_out(
        &self,
        dests: &[Vec<u32>],
        usage: &[CoreUsage],
        atoms: &AtomSet,
    ) -> Result<(), MapError> {
        match dests
            .iter()
            .enumerate()
            .find(|(_, d)| d.len() as u64 > self.limits.max_fan_out)
        {
            Some((c, d)) => Err(MapError::FanOut {
                core: c,
                layers: layers_on(&usage[c], atoms, &self.net.plan).join("+"),
                needed: d.len() as u32,
                allowed: self.limits.max_fan_out,
                chip: self.req.chip_path.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// The two assignments ours is compared with. Each runs the same pipeline: assign neurons to
/// cores, join enough chips to hold them, place the cores, summarize on the same traffic model.
#[derive(Clone, Copy)]
enum Baseline {
    /// Layer by layer, neurons in index order, each core filled as far as the limits allow.
    Sequential,
    /// Atoms in random order onto random cores they fit, about as many cores as ours, placed
    /// on random slots.
    Random,
}

impl Baseline {
    fn summary(
        self,
        p: &Problem,
        atoms: &AtomSet,
        costs: &[AtomCost],
        our_cores: usize,
    ) -> Summary {
        let seed = p.req.seed;
        let map = match self {
            Baseline::Sequential => sequential_fill(&p.net, &p.limits).0,
            Baseline::Random => {
                let part = random_partition(&p.net, costs, &p.limits, our_cores, seed);
                NeuronMap::from_atoms(&p.net, atoms, &part.core_of)
            }
        };
        let mesh = p.mesh.holding(map.count);
        let slot_of = match self {
            Baseline::Sequential => place_sequential(map.count),
            Baseline::Random => place_random(&mesh, map.count, seed),
        };
        summarize(&p.net, &map, &p.act, &mesh, &slot_of)
    }
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
    let mesh = mesh.holding(map.count);
    let slot_of = place_optimized(&mesh, map.count, &st.matrix, seed);
    summary_of(&st, map.count, &mesh, &slot_of)
}

/// Maps a model onto a chip, minimizing inter-core packets.
pub fn map_model(req: &MapRequest) -> Result<MapOutcome, MapError> {
    map_model_with(req, Objective::Packets)
}

/// Maps a model onto a chip with the given objective: atoms, hypergraph, partition, the limit
/// checks, placement and routing; then the baselines and the packet bound for comparison.
pub fn map_model_with(req: &MapRequest, objective: Objective) -> Result<MapOutcome, MapError> {
    let t0 = Instant::now();
    let p = Problem::new(req)?;
    let atoms = AtomSet::build(&p.net, &p.limits, &req.chip_path, req.atoms_per_core)?;
    p.refuse_early(&atoms)?;
    let hg = Hypergraph::build(&p.net, &atoms, &p.act);
    let costs = AtomCost::all(&p.net, &atoms, &p.limits, &hg.load);
    let opts = PartitionOptions {
        objective,
        ..PartitionOptions::default()
    };
    let part = partition(
        &p.net,
        &hg,
        &costs,
        &p.limits,
        opts,
        &atoms.fill_order(&p.net),
    );
    let usage = usage_of(&p.net, &part, &costs);
    p.check_usage(&usage)?;
    let map = NeuronMap::from_atoms(&p.net, &atoms, &part.core_of);
    // Routing tables: every (source core → destination core) pair that carries spikes, by
    // structure (not only where the profile saw activity).
    let structural = structural_traffic(&p.net, &map);
    let dests = destinations(&structural, map.count);
    p.check_fan_out(&dests, &usage, &atoms)?;
    p.check_cores(part.cores, "")?;
    // Without a profile the activity is uniform: the traffic is the structural one.
    let traffic = match req.activity {
        None => structural,
        Some(_) => TrafficStats::evaluate(&p.net, &map, &p.act),
    };
    let slot_of = place_optimized(&p.mesh, part.cores, &traffic.matrix, req.seed);
    let routes = with_hops(&dests, &p.mesh, &slot_of);
    let ours = summary_of(&traffic, map.count, &p.mesh, &slot_of);
    let seconds = t0.elapsed().as_secs_f64();

    let [sequential, random] =
        [Baseline::Sequential, Baseline::Random].map(|b| b.summary(&p, &atoms, &costs, part.cores));
    let t_bound = Instant::now();
    let bound = PacketBound::new(&p.net, &p.limits, &p.act);
    let bound_seconds = t_bound.elapsed().as_secs_f64();

    let cores = core_summaries(&p, &usage, &atoms, &slot_of, &routes, &traffic);
    let records = usage
        .iter()
        .enumerate()
        .map(|(c, u)| CoreRecord {
            slot: p.mesh.slot(slot_of[c]),
            atoms: u.atoms.clone(),
            neurons: u.neurons,
            fan_in: u.fan_in,
            fan_out: routes[c].len() as u32,
            memory_bits: u.memory_bits,
            load: traffic.core_load[c],
            routes: routes[c].clone(),
        })
        .collect();
    let act = p.act;
    let mapping = Mapping {
        network: req.model.spec.name.clone(),
        plan: p.net.plan.clone(),
        weights_fingerprint: req.model.weights_fingerprint(),
        chip: req.chip.clone(),
        chip_path: req.chip_path.clone(),
        mesh: p.mesh,
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
        traffic,
        seconds,
        cores_available: p.mesh.slots(),
        activity: act.origin,
        atom_cores: part.core_of,
        hypergraph: hg,
        atom_costs: costs,
        activity_rates: req.activity.clone(),
        objective,
    })
}

/// Per-core numbers of our mapping, for the report.
fn core_summaries(
    p: &Problem,
    usage: &[CoreUsage],
    atoms: &AtomSet,
    slot_of: &[usize],
    routes: &[Vec<Route>],
    traffic: &TrafficStats,
) -> Vec<CoreSummary> {
    let l = &p.limits;
    usage
        .iter()
        .enumerate()
        .map(|(c, u)| {
            let s = p.mesh.slot(slot_of[c]);
            CoreSummary {
                core: c,
                slot: [s.chip, s.x, s.y, s.core],
                layers: layers_on(u, atoms, &p.net.plan),
                neuron_utilization: u.neurons as f64 / l.max_neurons as f64,
                memory_utilization: u.memory_bits as f64 / l.memory_bits as f64,
                fan_in_utilization: u.fan_in as f64 / l.max_fan_in as f64,
                fan_out_utilization: routes[c].len() as f64 / l.max_fan_out as f64,
                load: traffic.core_load[c],
            }
        })
        .collect()
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
    with_hops(
        &destinations(&structural_traffic(net, map), map.count),
        mesh,
        slot_of,
    )
}

/// The traffic of an assignment when every neuron fires once per step: every pair of cores
/// connected by a synapse carries some.
fn structural_traffic(net: &NetGraph, map: &NeuronMap) -> TrafficStats {
    TrafficStats::evaluate(net, map, &Activity::uniform(net, 1.0))
}

/// Destination cores of every one of `cores` cores: the pairs `structural` traffic connects.
fn destinations(structural: &TrafficStats, cores: usize) -> Vec<Vec<u32>> {
    let mut dests = vec![Vec::new(); cores];
    for &(p, q) in structural.matrix.keys() {
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
