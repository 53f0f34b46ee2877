//! What each modeled core runs, built once from the mapping and the model: the atoms it holds
//! (a box of one layer each) with the synapse sets feeding them, and, for every neuron, the
//! cores its spikes must reach (the routing tables expanded to neurons).

use crate::links::MeshLinks;
use crate::quant::Weights;
use snn_core::plan::Source;
use snn_core::plan::{LayerKind, Synapses};
use snn_core::synapse::ConvGeometry;
use snn_map::mapping::Mapping;
use snn_map::network::NetGraph;
use snn_map::region::Region;

/// One synapse set feeding an atom.
#[derive(Clone, Debug)]
pub struct InputProgram {
    /// Index of the edge in [`NetGraph::edges`].
    pub edge: usize,
    /// Where its spikes come from.
    pub source: Source,
    /// Source indices `[lo, hi)` covering the rows of the atom's receptive field: spike lists
    /// are sorted, so only this slice of them can reach the atom.
    pub src_range: (u32, u32),
}

/// One atom on a core.
#[derive(Clone, Debug)]
pub struct AtomProgram {
    /// Plan layer.
    pub layer: usize,
    /// Kind of neurons.
    pub kind: LayerKind,
    /// The neurons.
    pub region: Region,
    /// Synapse sets, main first.
    pub inputs: Vec<InputProgram>,
    /// Global index of every local neuron.
    pub globals: Vec<u32>,
    /// On the first input-fed atom of a layer on its core: which input pixels reach that
    /// layer's atoms on the core (empty otherwise).
    pub input_reach: Vec<bool>,
    /// How each local neuron's spikes are routed: an index into `routes` (empty for the
    /// readout). The neurons of a box share a few routes, so routing a spike reads one small,
    /// cache-resident entry instead of the layer-wide tables.
    pub route_of: Vec<u32>,
    /// The distinct routes of the atom's neurons.
    pub routes: Vec<AtomRoute>,
}

/// One way an atom's spike is routed: whether its own core reads it, the other cores it goes to
/// and what that costs in deliveries, packets and hops.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AtomRoute {
    /// Its own core holds targets (local delivery).
    pub local: bool,
    /// Other cores it reaches, each by one packet.
    pub dests: Vec<u32>,
    /// Packets to cores of the same tile.
    pub tile: u64,
    /// Packets over the mesh.
    pub mesh: u64,
    /// Hops of those packets along x and y.
    pub hops: (u64, u64),
}

/// Everything one core runs.
#[derive(Clone, Debug)]
pub struct CoreProgram {
    /// Core id in the mapping.
    pub core: u32,
    /// Atoms, in layer order.
    pub atoms: Vec<AtomProgram>,
    /// (mesh x, mesh y) of the core's tile.
    pub tile: (u32, u32),
    /// Expected synaptic operations per step (from the mapping's activity), to balance workers.
    pub expected_synops: f64,
}

/// Destinations of every neuron of one layer (CSR): `dests[start[n]..start[n+1]]` are the other
/// cores its spikes go to; `local[n]` says whether its own core consumes them too.
#[derive(Clone, Debug, Default)]
pub struct LayerRoutes {
    /// CSR offsets.
    pub start: Vec<u32>,
    /// (destination core, hops x, hops y).
    pub dests: Vec<(u32, u16, u16)>,
    /// Own core also holds targets.
    pub local: Vec<bool>,
}

/// The whole program: per-core atoms, per-neuron routes, weights and geometry.
pub struct ChipProgram {
    /// The network graph (edges, shapes).
    pub net: NetGraph,
    /// Per core.
    pub cores: Vec<CoreProgram>,
    /// Per plan layer (empty for the readout).
    pub routes: Vec<LayerRoutes>,
    /// Distinct cores each input pixel's spikes reach (host packets).
    pub input_dests: Vec<u32>,
    /// Conv geometry per edge.
    pub geometry: Vec<Option<ConvGeometry>>,
    /// Weights per edge (float and fixed-point).
    pub weights: Weights,
    /// Last layer reading each layer's spikes (its own index when none does).
    pub last_consumer: Vec<usize>,
    /// The mesh links the routes use, and each core pair's route over them.
    pub links: MeshLinks,
}

impl ChipProgram {
    /// Builds the program of a mapping (already checked against the model).
    pub fn new(mapping: &Mapping, weights: Weights) -> Self {
        let net = NetGraph::new(&mapping.plan);
        let mut cores: Vec<CoreProgram> = mapping
            .cores
            .iter()
            .enumerate()
            .map(|(c, rec)| CoreProgram {
                core: c as u32,
                atoms: Vec::new(),
                tile: (rec.slot.x, rec.slot.y),
                expected_synops: rec.load,
            })
            .collect();
        // Boxes of each (core, layer), with boxes that form a larger box merged: a core works
        // per box, so fewer, larger boxes mean longer vector runs and less per-box overhead.
        let mut boxes: Vec<Vec<(usize, Region)>> = vec![Vec::new(); cores.len()];
        for (a, atom) in mapping.atoms.atoms.iter().enumerate() {
            boxes[mapping.core_of_atom[a] as usize].push((atom.layer as usize, atom.region));
        }
        for (c, list) in boxes.into_iter().enumerate() {
            for (l, region) in merge_boxes(list) {
                let layer = &mapping.plan.layers[l];
                let inputs = net
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.target == l)
                    .map(|(i, e)| {
                        let shape = net.source_shape(e.source);
                        let f = e.field(&region, shape);
                        let row = (shape.width * shape.channels) as u32;
                        let src_range = match e.synapses {
                            Synapses::Dense { .. } => (0, shape.len() as u32),
                            _ => (f.region.y0 * row, f.region.y1 * row),
                        };
                        InputProgram {
                            edge: i,
                            source: e.source,
                            src_range,
                        }
                    })
                    .collect();
                let mut globals = Vec::with_capacity(region.len());
                region.for_each_index(layer.output, |i| globals.push(i as u32));
                cores[c].atoms.push(AtomProgram {
                    globals,
                    input_reach: Vec::new(),
                    route_of: Vec::new(),
                    routes: Vec::new(),
                    layer: l,
                    kind: layer.kind,
                    region,
                    inputs,
                });
            }
        }
        for c in &mut cores {
            c.atoms.sort_by_key(|a| a.layer);
        }
        // The first atom of each input-fed layer on a core learns which input pixels reach any
        // atom of that layer there, to count the host spikes the core receives.
        for c in &mut cores {
            for i in 0..c.atoms.len() {
                let l = c.atoms[i].layer;
                let fed = c.atoms[i]
                    .inputs
                    .iter()
                    .any(|inp| inp.source == Source::Input);
                if !fed || c.atoms[..i].iter().any(|a| a.layer == l) {
                    continue;
                }
                let mut reach = vec![false; mapping.plan.input.len()];
                for a in c.atoms.iter().filter(|a| a.layer == l) {
                    for e in net.edges_into(l).filter(|e| e.source == Source::Input) {
                        for (n, r) in reach.iter_mut().enumerate() {
                            *r = *r
                                || e.targets(n)
                                    .is_some_and(|t| t.intersect(&a.region).is_some());
                        }
                    }
                }
                c.atoms[i].input_reach = reach;
            }
        }
        let core_of: Vec<Vec<u32>> = (0..net.layers())
            .map(|l| {
                (0..mapping.plan.layers[l].output.len())
                    .map(|n| mapping.core_of(l, n))
                    .collect()
            })
            .collect();
        let tile = |c: u32| {
            (
                mapping.cores[c as usize].slot.x,
                mapping.cores[c as usize].slot.y,
            )
        };
        let dests_of = |src: Source, n: usize, seen: &mut Vec<u32>| {
            seen.clear();
            for e in net.edges_from(src) {
                if let Some(reg) = e.targets(n) {
                    let cores_t = &core_of[e.target];
                    reg.for_each_index(e.output_shape(), |t| seen.push(cores_t[t]));
                }
            }
            seen.sort_unstable();
            seen.dedup();
        };
        let mut seen = Vec::new();
        let mut routes = Vec::new();
        for (l, layer_cores) in core_of.iter().enumerate() {
            let mut r = LayerRoutes::default();
            if mapping.plan.layers[l].spikes() {
                r.start.push(0);
                for (n, &own) in layer_cores.iter().enumerate() {
                    dests_of(Source::Layer(l), n, &mut seen);
                    r.local.push(seen.contains(&own));
                    let (ox, oy) = tile(own);
                    for &d in seen.iter().filter(|&&d| d != own) {
                        let (dx, dy) = tile(d);
                        r.dests
                            .push((d, ox.abs_diff(dx) as u16, oy.abs_diff(dy) as u16));
                    }
                    r.start.push(r.dests.len() as u32);
                }
            }
            routes.push(r);
        }
        let input_dests = (0..mapping.plan.input.len())
            .map(|n| {
                dests_of(Source::Input, n, &mut seen);
                seen.len() as u32
            })
            .collect();
        let geometry = net
            .edges
            .iter()
            .map(|e| {
                matches!(e.synapses, Synapses::Conv { .. }).then(|| ConvGeometry::new(&e.synapses))
            })
            .collect();
        let last_consumer = (0..net.layers())
            .map(|l| {
                net.edges_from(Source::Layer(l))
                    .map(|e| e.target)
                    .max()
                    .unwrap_or(l)
            })
            .collect();
        for core in &mut cores {
            for atom in &mut core.atoms {
                atom_routes(atom, &routes[atom.layer]);
            }
        }
        let mut dests: Vec<Vec<u32>> = vec![Vec::new(); cores.len()];
        for (r, layer_cores) in routes.iter().zip(&core_of) {
            if r.start.is_empty() {
                continue; // the readout sends nothing
            }
            for (j, &own) in layer_cores.iter().enumerate() {
                let d = &r.dests[r.start[j] as usize..r.start[j + 1] as usize];
                dests[own as usize].extend(d.iter().map(|&(c, _, _)| c));
            }
        }
        for d in &mut dests {
            d.sort_unstable();
            d.dedup();
        }
        let tiles: Vec<(u32, u32)> = cores.iter().map(|c| c.tile).collect();
        ChipProgram {
            links: MeshLinks::new(&tiles, &dests),
            last_consumer,
            net,
            cores,
            routes,
            input_dests,
            geometry,
            weights,
        }
    }
}

/// Fills in `atom`'s route classes from its layer's per-neuron routes.
fn atom_routes(atom: &mut AtomProgram, routes: &LayerRoutes) {
    if routes.start.is_empty() {
        return; // the readout sends nothing
    }
    let mut index: std::collections::HashMap<AtomRoute, u32> = Default::default();
    for &g in &atom.globals {
        let g = g as usize;
        let dests = &routes.dests[routes.start[g] as usize..routes.start[g + 1] as usize];
        let mut r = AtomRoute {
            local: routes.local[g],
            dests: dests.iter().map(|&(d, _, _)| d).collect(),
            ..AtomRoute::default()
        };
        for &(_, hx, hy) in dests {
            if hx == 0 && hy == 0 {
                r.tile += 1;
            } else {
                r.mesh += 1;
                r.hops.0 += u64::from(hx);
                r.hops.1 += u64::from(hy);
            }
        }
        let next = atom.routes.len() as u32;
        let k = *index.entry(r.clone()).or_insert_with(|| {
            atom.routes.push(r);
            next
        });
        atom.route_of.push(k);
    }
}

/// Merges boxes of the same layer whose union is a box (equal extent on two axes, touching on
/// the third), until no pair merges; the result covers exactly the same neurons.
fn merge_boxes(mut list: Vec<(usize, Region)>) -> Vec<(usize, Region)> {
    loop {
        let mut merged = false;
        'outer: for i in 0..list.len() {
            for j in i + 1..list.len() {
                let ((la, a), (lb, b)) = (list[i], list[j]);
                if la != lb {
                    continue;
                }
                let same_c = a.c0 == b.c0 && a.c1 == b.c1;
                let same_y = a.y0 == b.y0 && a.y1 == b.y1;
                let same_x = a.x0 == b.x0 && a.x1 == b.x1;
                let u = if same_c && same_x && (a.y1 == b.y0 || b.y1 == a.y0) {
                    Region {
                        y0: a.y0.min(b.y0),
                        y1: a.y1.max(b.y1),
                        ..a
                    }
                } else if same_c && same_y && (a.x1 == b.x0 || b.x1 == a.x0) {
                    Region {
                        x0: a.x0.min(b.x0),
                        x1: a.x1.max(b.x1),
                        ..a
                    }
                } else if same_x && same_y && (a.c1 == b.c0 || b.c1 == a.c0) {
                    Region {
                        c0: a.c0.min(b.c0),
                        c1: a.c1.max(b.c1),
                        ..a
                    }
                } else {
                    continue;
                };
                list[i] = (la, u);
                list.swap_remove(j);
                merged = true;
                break 'outer;
            }
        }
        if !merged {
            return list;
        }
    }
}
