//! The mapping report: `mapping.json` (machine-readable summary), `mapping.md` (for people),
//! `mesh_utilization.png` (core utilization over the mesh) and `traffic_vs_baselines.png`.

use crate::error::MapError;
use crate::pipeline::{MapOutcome, Summary};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

fn out_err(path: &Path, e: impl std::fmt::Display) -> MapError {
    MapError::Output {
        path: path.to_path_buf(),
        msg: e.to_string(),
    }
}

fn ratio(ours: f64, base: f64) -> f64 {
    if base > 0.0 {
        ours / base
    } else {
        1.0
    }
}

/// Packets as a multiple of the lower bound (`None` when the bound is zero).
fn over_bound(packets: f64, bound: f64) -> Option<f64> {
    (bound > 0.0).then(|| packets / bound)
}

/// The summary as JSON.
pub fn summary_json(o: &MapOutcome, model: &str, command: &str) -> serde_json::Value {
    let m = &o.mapping;
    let fig = |s: &Summary| {
        json!({
            "cores_used": s.cores_used,
            "inter_core_packets": s.inter_core_packets,
            "hop_weighted_traffic": s.hop_weighted_traffic,
            "max_core_load": s.max_core_load,
            "local_deliveries": s.local_deliveries,
            "input_packets": s.input_packets,
            "max_fan_out": s.max_fan_out,
            "packets_by_layer": s.packets_by_layer,
        })
    };
    let mut v = fig(&o.ours);
    let obj = v.as_object_mut().expect("object");
    let lb = o.bound.inter_core_packets;
    obj.insert("inter_core_packets_lower_bound".into(), json!(lb));
    obj.insert(
        "inter_core_packets_lower_bound_by_layer".into(),
        json!(o.bound.by_layer),
    );
    obj.insert(
        "inter_core_packets_lower_bound_seconds".into(),
        json!(o.bound_seconds),
    );
    obj.insert(
        "inter_core_packets_vs_lower_bound".into(),
        json!({
            "ours": over_bound(o.ours.inter_core_packets, lb),
            "sequential": over_bound(o.sequential.inter_core_packets, lb),
            "random": over_bound(o.random.inter_core_packets, lb),
        }),
    );
    obj.insert("network".into(), json!(m.network));
    obj.insert("model".into(), json!(model));
    obj.insert("chip".into(), json!(m.chip.name));
    obj.insert("chip_file".into(), json!(m.chip_path));
    obj.insert("chips".into(), json!(m.mesh.chips));
    obj.insert("cores_available".into(), json!(o.cores_available));
    obj.insert("activity".into(), json!(o.activity));
    obj.insert("units".into(), json!("packets, hops and loads are per time step (spikes/step weighted by the activity); load = expected synaptic operations per step"));
    obj.insert("seconds".into(), json!(o.seconds));
    obj.insert("seed".into(), json!(m.seed));
    obj.insert("objective".into(), json!(o.objective));
    obj.insert("command".into(), json!(command));
    obj.insert("atoms".into(), json!(m.atoms.atoms.len()));
    obj.insert(
        "layers".into(),
        json!(m
            .atoms
            .tilings
            .iter()
            .map(|t| json!({
                "name": t.name,
                "shape": t.shape,
                "atom": [t.channel_block, t.tile_rows, t.tile_cols],
                "atoms": t.atoms(),
            }))
            .collect::<Vec<_>>()),
    );
    obj.insert("per_core".into(), json!(o.cores));
    obj.insert(
        "baselines".into(),
        json!({ "sequential": fig(&o.sequential), "random": fig(&o.random) }),
    );
    obj.insert(
        "reduction_vs_sequential".into(),
        json!({
            "inter_core_packets": 1.0 - ratio(o.ours.inter_core_packets, o.sequential.inter_core_packets),
            "hop_weighted_traffic": 1.0 - ratio(o.ours.hop_weighted_traffic, o.sequential.hop_weighted_traffic),
            "max_core_load": 1.0 - ratio(o.ours.max_core_load, o.sequential.max_core_load),
        }),
    );
    obj.insert(
        "max_packet_reduction_vs_sequential".into(),
        json!(1.0 - ratio(lb, o.sequential.inter_core_packets)),
    );
    v
}

/// The Markdown report.
pub fn markdown(o: &MapOutcome, model: &str, command: &str) -> String {
    let m = &o.mapping;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Mapping of `{}` onto {} ({} chip(s))\n",
        m.network, m.chip.name, m.mesh.chips
    );
    let _ = writeln!(s, "Command: `{command}`  ");
    let _ = writeln!(
        s,
        "Model: `{model}`; chip file: `{}`; activity: {}; seed {}; mapped in {:.3} s.\n",
        m.chip_path, o.activity, m.seed, o.seconds
    );
    let _ = writeln!(
        s,
        "Cores used: **{} of {}**; atoms: {}.\n",
        o.ours.cores_used,
        o.cores_available,
        m.atoms.atoms.len()
    );
    let _ = writeln!(s, "| per time step | traffic-aware (ours) | sequential fill | random valid | ours vs sequential |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    let row = |s: &mut String, name: &str, f: &dyn Fn(&Summary) -> f64| {
        let (a, b, c) = (f(&o.ours), f(&o.sequential), f(&o.random));
        let change = if b > 0.0 {
            format!("{:+.1} %", (a / b - 1.0) * 100.0)
        } else {
            "–".to_string()
        };
        let _ = writeln!(s, "| {name} | {a:.1} | {b:.1} | {c:.1} | {change} |");
    };
    row(&mut s, "cores used", &|x| x.cores_used as f64);
    row(&mut s, "inter-core packets", &|x| x.inter_core_packets);
    let lb = o.bound.inter_core_packets;
    let times = |x: &Summary| match over_bound(x.inter_core_packets, lb) {
        Some(r) => format!("{r:.2}x"),
        None => "–".to_string(),
    };
    let _ = writeln!(
        s,
        "| inter-core packets ÷ lower bound on inter-core packets for any valid mapping ({lb:.1}) | {} | {} | {} | – |",
        times(&o.ours),
        times(&o.sequential),
        times(&o.random)
    );
    row(&mut s, "hop-weighted traffic (packets x hops)", &|x| {
        x.hop_weighted_traffic
    });
    row(&mut s, "busiest core load (synaptic ops)", &|x| {
        x.max_core_load
    });
    row(&mut s, "spikes delivered within their core", &|x| {
        x.local_deliveries
    });
    row(&mut s, "host input packets", &|x| x.input_packets);
    row(&mut s, "largest routing table (cores)", &|x| {
        x.max_fan_out as f64
    });
    let seq = o.sequential.inter_core_packets;
    let _ = writeln!(
        s,
        "\nLower bound on inter-core packets for any valid mapping: **{lb:.1}** per step (ours {}, sequential fill {} the bound), so no mapping that respects the per-core neuron and memory limits sends fewer than {:.1} % of sequential fill's packets ({:.1} % below it at best).",
        times(&o.ours),
        times(&o.sequential),
        100.0 * ratio(lb, seq),
        100.0 * (1.0 - ratio(lb, seq))
    );
    let _ = writeln!(s, "\nSequential fill = every layer starts a new core and fills cores in neuron-index order (PACMAN / nengo-loihi style), placed in slot order; random = atoms on random cores they fit, random placement. Packets count one per distinct destination core per spike (multicast). Lower bound = per spike, the fewest cores that can hold its targets and itself under the per-core neuron and synaptic-memory limits, minus one (its own core), weighted by the same spike rates (host input spikes excluded, as in the packet count).\n");
    let _ = writeln!(s, "## Layers\n\n| layer | shape (CxHxW) | atom (channels x rows x cols) | atoms |\n|---|---|---|---:|");
    for t in &m.atoms.tilings {
        let _ = writeln!(
            s,
            "| {} | {}x{}x{} | {}x{}x{} | {} |",
            t.name,
            t.shape[0],
            t.shape[1],
            t.shape[2],
            t.channel_block,
            t.tile_rows,
            t.tile_cols,
            t.atoms()
        );
    }
    let _ = writeln!(s, "\n## Cores\n\n| core | chip | tile (x,y) | layers | neurons | memory | fan-in | fan-out | load/step |\n|---:|---:|---|---|---:|---:|---:|---:|---:|");
    for c in &o.cores {
        let _ = writeln!(
            s,
            "| {} | {} | ({},{}) | {} | {:.0} % | {:.0} % | {:.0} % | {:.1} % | {:.1} |",
            c.core,
            c.slot[0],
            c.slot[1],
            c.slot[2],
            c.layers.join("+"),
            100.0 * c.neuron_utilization,
            100.0 * c.memory_utilization,
            100.0 * c.fan_in_utilization,
            100.0 * c.fan_out_utilization,
            c.load
        );
    }
    s
}

/// Writes mapping.json, mapping.md and the two charts into `dir`.
pub fn write_all(o: &MapOutcome, dir: &Path, model: &str, command: &str) -> Result<(), MapError> {
    let j = dir.join("mapping.json");
    snn_core::atomic::write_json(&j, &summary_json(o, model, command))
        .map_err(|e| out_err(&j, e))?;
    let md = dir.join("mapping.md");
    snn_core::atomic::write_atomic(&md, markdown(o, model, command).as_bytes())
        .map_err(|e| out_err(&md, e))?;
    // Utilization heat map: per tile, the mean neuron utilization of its cores (None = unused tile).
    let mesh = o.mapping.mesh;
    let (gw, gh) = ((mesh.width * mesh.chips) as usize, mesh.height as usize);
    let mut sum = vec![vec![0.0; gw]; gh];
    let mut used = vec![vec![0usize; gw]; gh];
    for c in &o.cores {
        let (x, y) = (c.slot[1] as usize, c.slot[2] as usize);
        sum[y][x] += c.neuron_utilization.max(c.memory_utilization) * 100.0;
        used[y][x] += 1;
    }
    let cells: Vec<Vec<Option<f64>>> = (0..gh)
        .map(|y| {
            (0..gw)
                .map(|x| (used[y][x] > 0).then(|| sum[y][x] / mesh.cores_per_tile as f64))
                .collect()
        })
        .collect();
    let hp = dir.join("mesh_utilization.png");
    snn_plot::heat_map(
        &hp,
        &format!(
            "{} on {}: tile utilization ({} cores used)",
            o.mapping.network, o.mapping.chip.name, o.ours.cores_used
        ),
        "tile x",
        "tile y",
        "% of tile capacity (max of neurons, memory per core; mean over the tile's cores)",
        &cells,
        if mesh.chips > 1 {
            mesh.width as usize
        } else {
            0
        },
    )
    .map_err(|e| out_err(&hp, e))?;
    let bp = dir.join("traffic_vs_baselines.png");
    let cats = vec![
        "inter-core packets".to_string(),
        "hop-weighted traffic".to_string(),
        "busiest-core load".to_string(),
        "cores used".to_string(),
    ];
    let norm = |f: &dyn Fn(&Summary) -> f64| {
        let b = f(&o.sequential).max(1e-12);
        [f(&o.ours) / b, 1.0, f(&o.random) / b]
    };
    let figs = [
        norm(&|x| x.inter_core_packets),
        norm(&|x| x.hop_weighted_traffic),
        norm(&|x| x.max_core_load),
        norm(&|x| x.cores_used as f64),
    ];
    let series: Vec<(String, Vec<f64>)> =
        ["traffic-aware (ours)", "sequential fill", "random valid"]
            .iter()
            .enumerate()
            .map(|(k, n)| (n.to_string(), figs.iter().map(|f| f[k]).collect()))
            .collect();
    snn_plot::grouped_bar_chart(
        &bp,
        &format!(
            "{} on {}: mapper vs baselines (sequential fill = 1)",
            o.mapping.network, o.mapping.chip.name
        ),
        "",
        "relative to sequential fill",
        &cats,
        &series,
        false,
    )
    .map_err(|e| out_err(&bp, e))?;
    Ok(())
}
