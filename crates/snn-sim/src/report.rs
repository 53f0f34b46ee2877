//! The simulation report: `report.json` (machine-readable), `report.md` (for people) and the
//! charts: spike rate per layer, effective ACs vs ANN MACs per layer, energy per layer and
//! component, accuracy vs time steps (when swept) and NoC traffic over the mesh.

use crate::engine::Mode;
use crate::simulation::SimOutcome;
use crate::SimError;
use serde_json::{json, Value};
use snn_map::mapping::Mapping;
use std::fmt::Write as _;
use std::path::Path;

/// One point of an accuracy-vs-time-steps sweep.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SweepPoint {
    /// Steps per sample.
    pub timesteps: u32,
    /// Accuracy.
    pub accuracy: f64,
    /// Energy per inference, joules.
    pub energy_joules: f64,
    /// Synaptic operations per inference.
    pub synaptic_ops_per_inference: f64,
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Output {
        path: path.to_path_buf(),
        msg: e.to_string(),
    }
}

/// Context of a run for the report.
pub struct RunInfo<'a> {
    /// Model file.
    pub model: &'a str,
    /// Mapping file.
    pub mapping_path: &'a str,
    /// Data set name.
    pub dataset: &'a str,
    /// Seed.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// Command line.
    pub command: &'a str,
    /// Float accuracy when the main run is fixed point.
    pub float_accuracy: Option<f64>,
    /// Sweep points.
    pub sweep: &'a [SweepPoint],
    /// Connection sparsity, parameter count and footprint (bytes).
    pub static_metrics: (f64, usize, u64),
}

/// The report as JSON.
pub fn report_json(o: &SimOutcome, m: &Mapping, info: &RunInfo) -> Value {
    let per = o.samples.max(1) as f64;
    let spiking: Vec<_> = o
        .layers
        .iter()
        .filter(|l| l.activity.name != "readout")
        .collect();
    let neuron_steps: f64 = spiking
        .iter()
        .map(|l| l.activity.neurons as f64)
        .sum::<f64>()
        * o.timesteps as f64
        * per;
    let spikes: f64 = spiking.iter().map(|l| l.activity.spikes as f64).sum();
    let syn_per_s = o.total.synaptic_ops as f64 / o.run.wall_seconds.max(1e-12);
    let e = o.energy;
    json!({
        "model": info.model,
        "mapping": info.mapping_path,
        "chip": m.chip.name,
        "chips": m.mesh.chips,
        "cores_used": m.cores.len(),
        "dataset": info.dataset,
        "mode": match o.mode { Mode::Float => "float", Mode::Fixed => "fixed" },
        "weight_bits": m.chip.core.weight_bits.value,
        "state_bits": m.chip.core.state_bits.value,
        "samples": o.samples,
        "timesteps": o.timesteps,
        "seed": info.seed,
        "threads": info.threads,
        "engine": o.engine.name(),
        "replicas": o.run.replicas,
        "accuracy": o.accuracy(),
        "correct": o.correct,
        "float_accuracy": info.float_accuracy,
        "accuracy_change_vs_float": info.float_accuracy.map(|f| o.accuracy() - f),
        "input_spikes": o.run.input_spikes,
        "input_packets": o.run.input_packets,
        "synaptic_ops": o.total.synaptic_ops,
        "synaptic_ops_per_inference": o.total.synaptic_ops as f64 / per,
        "spikes_per_layer": o.layers.iter().map(|l| (l.activity.name.clone(), json!(l.activity.spikes))).collect::<serde_json::Map<_, _>>(),
        "packets": o.total.packets(),
        "hops": o.total.hops(),
        "neuron_updates": { "active": o.total.active_updates, "idle": o.total.idle_updates },
        "energy_joules": { "synaptic": e.synaptic, "neuron": e.neuron, "routing": e.routing, "static": e.r#static, "total": e.total() },
        "energy_note": "per inference; static = static power x cores used x modeled chip time (per step the busiest core, or the busiest mesh link when it needs longer, + barrier), pipelined",
        "energy_constants": o.constants,
        "ann_macs": o.ann_macs,
        "ann_energy_joules": o.ann_energy,
        "snn_energy_45nm_joules": o.snn_energy_45nm,
        "ann_baseline_constants": { "e_mac_pj": o.e_mac_pj, "e_ac_pj": o.e_ac_pj, "source": "hardware-models/generic-45nm.toml (Horowitz ISSCC 2014)" },
        "snn_over_ann": {
            "ops": o.total.synaptic_ops as f64 / per / o.ann_macs.max(1.0),
            "energy_45nm": o.snn_energy_45nm / o.ann_energy.max(1e-30),
            "energy_chip_vs_ann_45nm": e.total() / o.ann_energy.max(1e-30),
        },
        "neurobench": {
            "dense_synaptic_ops_per_inference": o.ann_macs * o.timesteps as f64,
            "effective_acs_per_inference": o.total.synaptic_ops as f64 / per,
            "effective_macs_per_inference": 0,
            "activation_sparsity": 1.0 - spikes / neuron_steps.max(1.0),
            "connection_sparsity": info.static_metrics.0,
            "parameter_count": info.static_metrics.1,
            "footprint_bytes": info.static_metrics.2,
            "definitions": "hardware-notes.md §3: dense ops count every input x weight pair per step; effective ACs only pairs with a spike (binary input) and a weight; activation sparsity = zero outputs / all outputs over spiking layers, steps and samples; connection sparsity = zero weights / all weights; footprint = weights at the simulated precision + neuron state",
        },
        "links": links_json(o, m),
        "chip_seconds_per_inference": o.run.chip_seconds / per,
        "latency_seconds_per_inference": o.run.chip_seconds / o.run.chip_steps.max(1) as f64 * (o.timesteps as f64 + o.layers.len() as f64 - 1.0),
        "sim_seconds": o.run.wall_seconds,
        "samples_per_second": per / o.run.wall_seconds.max(1e-12),
        "synaptic_events_per_second": syn_per_s,
        "synaptic_events_per_second_per_worker": syn_per_s / info.threads.max(1) as f64,
        "layers": o.layers,
        "cores": o.cores,
        "sweep": info.sweep,
        "command": info.command,
    })
}

/// Link load: the chip's time per packet and link, packets per link, the busiest link per step,
/// its utilization and the stretch it caused.
fn links_json(o: &SimOutcome, m: &Mapping) -> Value {
    let per = o.samples.max(1) as f64;
    let steps = o.run.chip_steps.max(1) as f64;
    let l = &o.run.links;
    let total: u64 = l.per_link.iter().sum();
    let chip_fs = o.run.chip_seconds.max(1e-30);
    json!({
        "link_packet_ns": m.chip.latency.link_packet_ns.as_ref().map(|c| c.value),
        "links_used": l.per_link.len(),
        "packets_over_links": total,
        "mean_packets_per_used_link_per_step": total as f64 / (l.per_link.len().max(1) as f64 * steps),
        "busiest_link_mean_packets_per_step": l.busiest_sum as f64 / steps,
        "busiest_link_max_packets_in_a_step": l.busiest_max,
        "busiest_link_mean_utilization": l.busiest_seconds() / chip_fs,
        "busiest_link_peak_utilization": l.peak_utilization,
        "stretched_steps": l.stretched_steps,
        "stretch_seconds_per_inference": l.stretch_seconds() / per,
        "per_link": o.links.iter().zip(&l.per_link).map(|(k, &n)| json!({
            "from": [k.from.0, k.from.1],
            "to": [k.to.0, k.to.1],
            "packets_per_inference": n as f64 / per,
        })).collect::<Vec<_>>(),
        "note": "directed links between neighbouring tiles that some route uses (dimension-order, x then y); a packet crosses one link per hop, so packets_over_links = hops. Utilization = busiest link's packets x link_packet_ns / step time; a step lasts max(busiest core, busiest link) + barrier. Host input packets use no link; links between joined chips are modeled like links inside a chip",
    })
}

/// The Markdown summary.
pub fn markdown(o: &SimOutcome, m: &Mapping, info: &RunInfo) -> String {
    let per = o.samples.max(1) as f64;
    let mut s = String::new();
    let mode = match o.mode {
        Mode::Float => "float",
        Mode::Fixed => "fixed",
    };
    let _ = writeln!(
        s,
        "# snn-sim: {} on {} ({} cores, {} mode)\n",
        m.network,
        m.chip.name,
        m.cores.len(),
        mode
    );
    let _ = writeln!(s, "Command: `{}`\n", info.command);
    let _ = writeln!(
        s,
        "- accuracy **{:.2} %** ({} / {} {} test images, T = {}, seed {})",
        100.0 * o.accuracy(),
        o.correct,
        o.samples,
        info.dataset,
        o.timesteps,
        info.seed
    );
    if let Some(f) = info.float_accuracy {
        let _ = writeln!(s, "- float accuracy {:.2} %: fixed point ({} weight bits, {} state bits) changes it by {:+.2} points", 100.0 * f, m.chip.core.weight_bits.value, m.chip.core.state_bits.value, 100.0 * (o.accuracy() - f));
    }
    let e = o.energy;
    let _ = writeln!(s, "- energy per inference **{:.3} µJ** = synaptic {:.3} + neuron {:.3} + routing {:.3} + static {:.3} µJ", e.total() * 1e6, e.synaptic * 1e6, e.neuron * 1e6, e.routing * 1e6, e.r#static * 1e6);
    let _ = writeln!(s, "- synaptic ops per inference {:.3e} (ANN: {:.3e} MACs); 45 nm: SNN {:.3} µJ vs ANN {:.3} µJ (E_AC {} pJ, E_MAC {} pJ)", o.total.synaptic_ops as f64 / per, o.ann_macs, o.snn_energy_45nm * 1e6, o.ann_energy * 1e6, o.e_ac_pj, o.e_mac_pj);
    let _ = writeln!(
        s,
        "- modeled chip time per inference {:.2} µs (pipelined), packets {}, hops {}",
        o.run.chip_seconds / per * 1e6,
        o.total.packets(),
        o.total.hops()
    );
    let l = &o.run.links;
    let steps = o.run.chip_steps.max(1) as f64;
    let link_ns = m
        .chip
        .latency
        .link_packet_ns
        .as_ref()
        .map_or(0.0, |c| c.value);
    if l.per_link.is_empty() {
        let _ = writeln!(s, "- mesh links: no packet crosses a link");
    } else if link_ns > 0.0 {
        let _ = writeln!(
            s,
            "- mesh links: {} used; busiest link {:.1} packets per step on average, {} at most ({} ns per packet): {:.1} % of chip time on average, {:.1} % at peak; {} of {} steps stretched by it ({:.3} µs per inference)",
            l.per_link.len(),
            l.busiest_sum as f64 / steps,
            l.busiest_max,
            link_ns,
            100.0 * l.busiest_seconds() / o.run.chip_seconds.max(1e-30),
            100.0 * l.peak_utilization,
            l.stretched_steps,
            o.run.chip_steps,
            l.stretch_seconds() / per * 1e6
        );
    } else {
        let _ = writeln!(
            s,
            "- mesh links: {} used; busiest link {:.1} packets per step on average, {} at most (link bandwidth not modeled for this chip)",
            l.per_link.len(),
            l.busiest_sum as f64 / steps,
            l.busiest_max
        );
    }
    let _ = writeln!(
        s,
        "- simulated by the {} engine in {:.2} s on {} worker(s), {} chip replica(s): {:.1} samples/s, {:.3e} synaptic events/s\n",
        o.engine.name(),
        o.run.wall_seconds,
        info.threads,
        o.run.replicas,
        per / o.run.wall_seconds.max(1e-12),
        o.total.synaptic_ops as f64 / o.run.wall_seconds.max(1e-12)
    );
    let k = &o.constants;
    let _ = writeln!(s, "Constants ({}): synop {} pJ, neuron active {} / idle {} pJ, local spike {} pJ, hop x {} / y {} pJ, static {} mW per core.\n", k.chip, k.synop_pj, k.neuron_active_pj, k.neuron_idle_pj, k.spike_local_pj, k.hop_x_pj, k.hop_y_pj, k.static_mw_per_core);
    let _ = writeln!(s, "| layer | neurons | spike rate | ACs / inference | ANN MACs | ACs/MACs | 45 nm energy SNN/ANN | chip energy / inference (µJ) |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for l in &o.layers {
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {:.3e} | {:.3e} | {:.3} | {:.3} | {:.4} |",
            l.activity.name,
            l.activity.neurons,
            l.activity.spike_rate,
            l.activity.synaptic_ops as f64 / per,
            l.activity.ann_macs as f64 / per,
            l.ops_ratio_snn_over_ann,
            l.energy_ratio_snn_over_ann_45nm,
            l.energy_per_inference.total() * 1e6
        );
    }
    if !info.sweep.is_empty() {
        let _ = writeln!(
            s,
            "\n| T | accuracy | energy / inference (µJ) | ACs / inference |\n|---:|---:|---:|---:|"
        );
        for p in info.sweep {
            let _ = writeln!(
                s,
                "| {} | {:.2} % | {:.3} | {:.3e} |",
                p.timesteps,
                100.0 * p.accuracy,
                p.energy_joules * 1e6,
                p.synaptic_ops_per_inference
            );
        }
    }
    s
}

/// Writes report.json, report.md and the charts into `dir`.
pub fn write_all(o: &SimOutcome, m: &Mapping, info: &RunInfo, dir: &Path) -> Result<(), SimError> {
    std::fs::create_dir_all(dir).map_err(|e| out_err(dir, e))?;
    let j = dir.join("report.json");
    snn_core::atomic::write_json(&j, &report_json(o, m, info)).map_err(|e| out_err(&j, e))?;
    let md = dir.join("report.md");
    snn_core::atomic::write_atomic(&md, markdown(o, m, info).as_bytes())
        .map_err(|e| out_err(&md, e))?;
    let per = o.samples.max(1) as f64;
    let names: Vec<String> = o.layers.iter().map(|l| l.activity.name.clone()).collect();
    let title = |what: &str| {
        format!(
            "{} on {} ({}): {what}",
            m.network,
            m.chip.name,
            match o.mode {
                Mode::Float => "float",
                Mode::Fixed => "fixed",
            }
        )
    };
    let p = dir.join("spike_rate.png");
    let spiking: Vec<usize> = (0..o.layers.len())
        .filter(|&i| o.layers[i].activity.name != "readout")
        .collect();
    snn_plot::bar_chart(
        &p,
        &title("spike rate per layer"),
        "layer",
        "spikes per neuron per step",
        &spiking
            .iter()
            .map(|&i| names[i].clone())
            .collect::<Vec<_>>(),
        &spiking
            .iter()
            .map(|&i| o.layers[i].activity.spike_rate)
            .collect::<Vec<_>>(),
        false,
    )
    .map_err(|e| out_err(&p, e))?;
    let weighted: Vec<usize> = (0..o.layers.len())
        .filter(|&i| o.layers[i].activity.ann_macs > 0)
        .collect();
    let p = dir.join("ops_vs_ann.png");
    snn_plot::grouped_bar_chart(
        &p,
        &title(&format!(
            "effective ACs (T = {}) vs ANN MACs per inference",
            o.timesteps
        )),
        "layer",
        "operations per inference (log)",
        &weighted
            .iter()
            .map(|&i| names[i].clone())
            .collect::<Vec<_>>(),
        &[
            (
                "SNN effective ACs".to_string(),
                weighted
                    .iter()
                    .map(|&i| o.layers[i].activity.synaptic_ops as f64 / per)
                    .collect(),
            ),
            (
                "ANN MACs".to_string(),
                weighted
                    .iter()
                    .map(|&i| o.layers[i].activity.ann_macs as f64 / per)
                    .collect(),
            ),
        ],
        true,
    )
    .map_err(|e| out_err(&p, e))?;
    let p = dir.join("energy_breakdown.png");
    let uj = |f: &dyn Fn(&crate::ledger::Energy) -> f64| {
        o.layers
            .iter()
            .map(|l| f(&l.energy_per_inference) * 1e6)
            .collect::<Vec<_>>()
    };
    let mut cats = names.clone();
    cats.push("static (chip)".into());
    let mut series = vec![
        ("synaptic".to_string(), uj(&|e| e.synaptic)),
        ("neuron update".to_string(), uj(&|e| e.neuron)),
        ("routing".to_string(), uj(&|e| e.routing)),
        ("static".to_string(), vec![0.0; names.len()]),
    ];
    for (k, s) in series.iter_mut().enumerate() {
        s.1.push(if k == 3 { o.energy.r#static * 1e6 } else { 0.0 });
    }
    snn_plot::stacked_bar_chart(
        &p,
        &title("energy per inference by layer and component"),
        "layer",
        "µJ per inference",
        &cats,
        &series,
    )
    .map_err(|e| out_err(&p, e))?;
    if info.sweep.len() > 1 {
        let p = dir.join("accuracy_vs_timesteps.png");
        let pts = info
            .sweep
            .iter()
            .map(|s| (s.timesteps as f64, 100.0 * s.accuracy))
            .collect();
        snn_plot::line_chart(
            &p,
            &title("accuracy vs inference time steps"),
            "time steps T",
            "test accuracy (%)",
            &[snn_plot::Series::new("accuracy", pts)],
        )
        .map_err(|e| out_err(&p, e))?;
    }
    // NoC traffic: packets per inference sent by the cores of each tile.
    let mesh = m.mesh;
    let (gw, gh) = ((mesh.width * mesh.chips) as usize, mesh.height as usize);
    let mut cells: Vec<Vec<Option<f64>>> = vec![vec![None; gw]; gh];
    for c in &o.cores {
        let (x, y) = (c.tile.0 as usize, c.tile.1 as usize);
        let v = cells[y][x].unwrap_or(0.0) + c.counts.packets() as f64 / per;
        cells[y][x] = Some(v);
    }
    let p = dir.join("noc_traffic.png");
    snn_plot::heat_map(
        &p,
        &title("NoC packets sent per inference by tile"),
        "tile x",
        "tile y",
        "packets per inference (empty = no core used)",
        &cells,
        if mesh.chips > 1 {
            mesh.width as usize
        } else {
            0
        },
    )
    .map_err(|e| out_err(&p, e))?;
    link_chart(o, m, dir, &title("packets per mesh link per chip step"))
}

/// The link-load map: every used link coloured by its packets per chip step, on the mesh.
fn link_chart(o: &SimOutcome, m: &Mapping, dir: &Path, title: &str) -> Result<(), SimError> {
    let mesh = m.mesh;
    let tiles = ((mesh.width * mesh.chips) as usize, mesh.height as usize);
    let steps = o.run.chip_steps.max(1) as f64;
    let mut used: Vec<(u32, u32)> = o.cores.iter().map(|c| c.tile).collect();
    used.sort_unstable();
    used.dedup();
    let links: Vec<snn_plot::LinkValue> = o
        .links
        .iter()
        .zip(&o.run.links.per_link)
        .map(|(k, &n)| snn_plot::LinkValue {
            from: k.from,
            to: k.to,
            value: n as f64 / steps,
        })
        .collect();
    let p = dir.join("link_load.png");
    let every = if mesh.chips > 1 {
        mesh.width as usize
    } else {
        0
    };
    snn_plot::link_map(
        &p,
        title,
        "packets per chip step (mean over the run)",
        tiles,
        &used,
        &links,
        every,
    )
    .map_err(|e| out_err(&p, e))
}
