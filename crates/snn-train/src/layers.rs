//! Per-layer sparsity of evaluated networks side by side (`snn-train layers`): from the JSON of
//! `snn-train eval`, each layer's spike rate, SNN accumulates (synaptic operations, input
//! spikes included) and the equivalent ANN's multiply-accumulates per inference, their ratio,
//! and the 45 nm energy ratio under the FP and INT constants of paper-method §8.1 (Horowitz,
//! ISSCC 2014: MAC 4.6 / AC 0.9 pJ in 32-bit float, 3.2 / 0.1 pJ in 32-bit integer). Writes
//! layers.json, layers.md and one chart per network (ACs vs MACs per layer, log scale).

use crate::TrainError;
use serde::Serialize;
use serde_json::Value;
use snn_core::atomic::write_json;
use std::path::{Path, PathBuf};

/// 45 nm energies per operation, pJ: (FP MAC, FP AC, INT MAC, INT AC).
pub const ENERGY_45NM_PJ: (f64, f64, f64, f64) = (4.6, 0.9, 3.2, 0.1);

/// One layer of one evaluated network, per inference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerRow {
    /// Layer name.
    pub layer: String,
    /// Neurons.
    pub neurons: u64,
    /// Spikes per neuron per step.
    pub spike_rate: f64,
    /// SNN accumulates (synaptic operations) into the layer per inference.
    pub snn_acs: f64,
    /// ANN multiply-accumulates of the layer per inference.
    pub ann_macs: f64,
    /// `snn_acs / ann_macs` (absent for layers without MACs: pooling, whose ACs are not counted).
    pub acs_over_macs: Option<f64>,
}

/// One evaluated network.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkRows {
    /// Label: the eval JSON's file name without extension.
    pub network: String,
    /// The eval JSON it came from.
    pub source: String,
    /// Data set, images evaluated, time steps and accuracy of that evaluation.
    pub dataset: String,
    /// Images evaluated.
    pub samples: u64,
    /// Time steps.
    pub timesteps: u64,
    /// Accuracy on those images.
    pub accuracy: f64,
    /// Per layer.
    pub layers: Vec<LayerRow>,
    /// Totals per inference: SNN ACs, ANN MACs, their ratio.
    pub total_snn_acs: f64,
    /// ANN MACs per inference.
    pub total_ann_macs: f64,
    /// `total_snn_acs / total_ann_macs`.
    pub acs_over_macs: f64,
    /// `ACs × 0.9 pJ / (MACs × 4.6 pJ)`.
    pub energy_ratio_fp_45nm: f64,
    /// `ACs × 0.1 pJ / (MACs × 3.2 pJ)`.
    pub energy_ratio_int_45nm: f64,
}

fn bad(path: &Path, what: &str) -> TrainError {
    TrainError::Config(format!(
        "{}: not an snn-train eval JSON ({what})",
        path.display()
    ))
}

/// Reads one eval JSON into its rows.
pub fn read_eval(path: &Path) -> Result<NetworkRows, TrainError> {
    let text =
        snn_core::bounded::read_text_bounded(path, snn_core::bounded::MAX_JSON_BYTES, "eval JSON")
            .map_err(TrainError::io(path))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(path, &e.to_string()))?;
    let num = |v: &Value, key: &str| v[key].as_f64().ok_or_else(|| bad(path, key));
    let samples = num(&v, "samples")?;
    if samples < 1.0 {
        return Err(bad(path, "no samples"));
    }
    let mut layers = Vec::new();
    for l in v["layers"].as_array().ok_or_else(|| bad(path, "layers"))? {
        let (acs, macs) = (
            num(l, "synaptic_ops")? / samples,
            num(l, "ann_macs")? / samples,
        );
        layers.push(LayerRow {
            layer: l["name"]
                .as_str()
                .ok_or_else(|| bad(path, "name"))?
                .escape_debug()
                .to_string(),
            neurons: num(l, "neurons")? as u64,
            spike_rate: num(l, "spike_rate")?,
            snn_acs: acs,
            ann_macs: macs,
            acs_over_macs: (macs > 0.0).then(|| acs / macs),
        });
    }
    let acs: f64 = layers.iter().map(|l| l.snn_acs).sum();
    let macs: f64 = layers.iter().map(|l| l.ann_macs).sum();
    let (fp_mac, fp_ac, int_mac, int_ac) = ENERGY_45NM_PJ;
    let ratio = |num: f64, den: f64| if den > 0.0 { num / den } else { 0.0 };
    Ok(NetworkRows {
        network: path
            .file_stem()
            .map_or("network".into(), |s| s.to_string_lossy().into_owned()),
        source: path.display().to_string(),
        dataset: v["dataset"]
            .as_str()
            .unwrap_or("")
            .escape_debug()
            .to_string(),
        samples: samples as u64,
        timesteps: num(&v, "timesteps")? as u64,
        accuracy: num(&v, "accuracy")?,
        layers,
        total_snn_acs: acs,
        total_ann_macs: macs,
        acs_over_macs: ratio(acs, macs),
        energy_ratio_fp_45nm: ratio(acs * fp_ac, macs * fp_mac),
        energy_ratio_int_45nm: ratio(acs * int_ac, macs * int_mac),
    })
}

/// Reads every eval JSON and writes `out/layers.json`, `out/layers.md` and
/// `out/<network>_acs_vs_macs.png`; returns the rows.
pub fn layers(evals: &[PathBuf], out: &Path, title: &str) -> Result<Vec<NetworkRows>, TrainError> {
    let nets = evals
        .iter()
        .map(|p| read_eval(p))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(out).map_err(TrainError::io(out))?;
    write_json(&out.join("layers.json"), &nets).map_err(TrainError::io(out))?;
    let md = markdown(&nets, title);
    let md_path = out.join("layers.md");
    snn_core::atomic::write_atomic(&md_path, md.as_bytes()).map_err(TrainError::io(&md_path))?;
    for n in &nets {
        let weighted: Vec<&LayerRow> = n.layers.iter().filter(|l| l.ann_macs > 0.0).collect();
        let names: Vec<String> = weighted.iter().map(|l| l.layer.clone()).collect();
        snn_plot::grouped_bar_chart(
            &out.join(format!("{}_acs_vs_macs.png", n.network)),
            &format!(
                "{title}: {} (T = {}, {} images)",
                n.network, n.timesteps, n.samples
            ),
            "layer",
            "operations per inference",
            &names,
            &[
                (
                    "SNN accumulates".to_string(),
                    weighted.iter().map(|l| l.snn_acs).collect(),
                ),
                (
                    "ANN multiply-accumulates".to_string(),
                    weighted.iter().map(|l| l.ann_macs).collect(),
                ),
            ],
            true,
        )?;
    }
    Ok(nets)
}

fn markdown(nets: &[NetworkRows], title: &str) -> String {
    use std::fmt::Write;
    let mut s = format!("# {title}\n\n");
    let _ = writeln!(
        s,
        "Per inference. SNN accumulates are synaptic operations (each input spike, ±, costs one); \
         pooling layers' accumulates are not counted (no weights). Energy ratios on 45 nm: \
         ACs × 0.9 pJ / (MACs × 4.6 pJ) in 32-bit float, ACs × 0.1 / (MACs × 3.2) in 32-bit \
         integer (paper-method §8.1). The paper's own per-layer figures were not available to \
         compare with (paper-method §8.1: unverified).\n"
    );
    for n in nets {
        let _ = writeln!(
            s,
            "## {}\n\n`{}`: {} test images of {}, T = {}, accuracy {:.2} %.\n",
            n.network,
            n.source,
            n.samples,
            n.dataset,
            n.timesteps,
            100.0 * n.accuracy
        );
        let _ = writeln!(
            s,
            "| layer | neurons | spike rate | SNN ACs | ANN MACs | ACs / MACs |\n|---|---:|---:|---:|---:|---:|"
        );
        for l in &n.layers {
            let _ = writeln!(
                s,
                "| {} | {} | {:.4} | {:.3e} | {:.3e} | {} |",
                l.layer,
                l.neurons,
                l.spike_rate,
                l.snn_acs,
                l.ann_macs,
                l.acs_over_macs.map_or("–".into(), |r| format!("{r:.4}"))
            );
        }
        let _ = writeln!(
            s,
            "| **total** | | | **{:.3e}** | **{:.3e}** | **{:.4}** |\n\n45 nm energy SNN / ANN: \
             **{:.3}** (FP), **{:.4}** (INT).\n",
            n.total_snn_acs,
            n.total_ann_macs,
            n.acs_over_macs,
            n.energy_ratio_fp_45nm,
            n.energy_ratio_int_45nm
        );
    }
    s
}
