//! Bridges to the outside: mapping an untrained network, exporting the atom hypergraph for
//! external partitioners (METIS, KaHyPar) and scoring their partitions with our traffic model.

use crate::error::MapError;
use crate::limits::CoreLimits;
use crate::network::NetGraph;
use crate::pipeline::{evaluate_partition, MapOutcome};
use crate::traffic::Activity;
use crate::usage::CoreUsage;
use serde_json::json;
use snn_core::model_file::{LayerWeights, ModelMeta};
use snn_core::{Model, NetworkPlan, NetworkSpec};
use std::path::Path;

/// A model with all-zero weights, so an architecture can be mapped before it is trained.
pub fn untrained(spec: NetworkSpec) -> Result<Model, MapError> {
    let plan = NetworkPlan::new(&spec).map_err(|e| MapError::Usage(e.to_string()))?;
    let weights = plan
        .layers
        .iter()
        .map(|l| LayerWeights {
            layer: l.name.clone(),
            main: vec![0.0; l.synapses.weight_count()],
            shortcut: vec![0.0; l.shortcut.map_or(0, |s| s.synapses.weight_count())],
        })
        .collect();
    Ok(Model {
        spec,
        weights,
        meta: ModelMeta::default(),
        training: None,
    })
}

/// Writes the activity-weighted atom hypergraph: vertices with their neurons, memory, load and
/// stand-alone fan-in; hyperedges (pins, spikes per step); our partition; the core count to aim
/// for; the chip's per-core limits.
pub fn export_graph(o: &MapOutcome, path: &Path) -> Result<(), MapError> {
    let hg = &o.hypergraph;
    let v = json!({
        "atoms": o.atom_costs.len(),
        "cores": o.ours.cores_used,
        "vertex_neurons": o.atom_costs.iter().map(|c| c.neurons).collect::<Vec<_>>(),
        "vertex_memory_bits": o.atom_costs.iter().map(|c| c.memory.iter().map(|m| m.1).sum::<u64>()).collect::<Vec<_>>(),
        "vertex_load": o.atom_costs.iter().map(|c| c.load).collect::<Vec<_>>(),
        "vertex_fan_in": o.atom_costs.iter().map(|c| c.fields.iter().map(|f| f.len() as u64).sum::<u64>()).collect::<Vec<_>>(),
        "limits": CoreLimits::of(&o.mapping.chip),
        "hyperedges": hg.pins,
        "hyperedge_weight": hg.weight,
        "ours": o.atom_cores,
    });
    let text = serde_json::to_string(&v).map_err(|e| MapError::Output {
        path: path.into(),
        msg: e.to_string(),
    })?;
    snn_core::atomic::write_atomic(path, text.as_bytes()).map_err(|e| MapError::Output {
        path: path.into(),
        msg: e.to_string(),
    })
}

/// Scores an external partition (JSON list with the core of every atom) and adds the result
/// under `"external"` in the mapping.json at `report`.
pub fn evaluate_into_report(
    o: &MapOutcome,
    model: &Model,
    part: &Path,
    report: &Path,
    seed: u64,
) -> Result<(), MapError> {
    let text = snn_core::bounded::read_text_bounded(
        part,
        snn_core::bounded::MAX_JSON_BYTES,
        "partition file",
    )
    .map_err(|e| MapError::Usage(format!("{}: {e}", part.display())))?;
    let core_of: Vec<u32> = serde_json::from_str(&text).map_err(|e| {
        MapError::Usage(format!(
            "{}: not a JSON list of core ids: {e}",
            part.display()
        ))
    })?;
    let m = &o.mapping;
    if core_of.len() != m.atoms.atoms.len() {
        return Err(MapError::Usage(format!(
            "{}: {} entries but the mapping has {} atoms",
            part.display(),
            core_of.len(),
            m.atoms.atoms.len()
        )));
    }
    // A partition never needs more cores than there are atoms: a larger id is a bad file (and
    // would size the per-core tables below).
    if let Some(&c) = core_of.iter().find(|&&c| c as usize >= core_of.len()) {
        return Err(MapError::Usage(format!(
            "{}: core id {c} is not below the number of atoms ({})",
            part.display(),
            core_of.len()
        )));
    }
    let plan = NetworkPlan::new(&model.spec).map_err(|e| MapError::Usage(e.to_string()))?;
    let net = NetGraph::new(&plan);
    // Limit violations of the external partition, counted with the same accounting.
    let limits = CoreLimits::of(&m.chip);
    let cores = core_of.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut usage = vec![CoreUsage::default(); cores];
    for (a, &c) in core_of.iter().enumerate() {
        usage[c as usize].add(a as u32, &o.atom_costs[a], &net);
    }
    let over = usage
        .iter()
        .filter(|u| {
            u.neurons > limits.max_neurons
                || u.memory_bits > limits.memory_bits
                || u.fan_in > limits.max_fan_in
        })
        .count();
    let mut ids = core_of.clone();
    let mut remap = std::collections::HashMap::new();
    for c in ids.iter_mut() {
        let n = remap.len() as u32;
        *c = *remap.entry(*c).or_insert(n);
    }
    let act = activity_of(o, &net);
    let s = evaluate_partition(&net, &m.atoms, &ids, &act, &m.mesh, seed);
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report).map_err(
        |e| MapError::Output {
            path: report.into(),
            msg: e.to_string(),
        },
    )?)
    .map_err(|e| MapError::Output {
        path: report.into(),
        msg: e.to_string(),
    })?;
    v["external"] = json!({
        "partition": part.display().to_string(),
        "cores_used": s.cores_used,
        "cores_over_limits": over,
        "inter_core_packets": s.inter_core_packets,
        "hop_weighted_traffic": s.hop_weighted_traffic,
        "max_core_load": s.max_core_load,
        "ours_over_external": {
            "inter_core_packets": o.ours.inter_core_packets / s.inter_core_packets.max(1e-12),
            "hop_weighted_traffic": o.ours.hop_weighted_traffic / s.hop_weighted_traffic.max(1e-12),
        },
    });
    snn_core::atomic::write_json(report, &v).map_err(|e| MapError::Output {
        path: report.into(),
        msg: e.to_string(),
    })?;
    println!(
        "external partition {}: {} cores ({} over limits), {:.1} inter-core packets/step, {:.1} hop-weighted; ours/external = {:.3} / {:.3}",
        part.display(),
        s.cores_used,
        over,
        s.inter_core_packets,
        s.hop_weighted_traffic,
        o.ours.inter_core_packets / s.inter_core_packets.max(1e-12),
        o.ours.hop_weighted_traffic / s.hop_weighted_traffic.max(1e-12)
    );
    Ok(())
}

fn activity_of(o: &MapOutcome, net: &NetGraph) -> Activity {
    o.activity_rates
        .clone()
        .unwrap_or_else(|| Activity::uniform(net, 1.0))
}
