//! The whole network: one leak, threshold and pooling threshold (exact from snn's metadata
//! when it agrees with the nodes), per-layer gains and thresholds folded into the weights,
//! the spec, the weights in plan order, and the provenance.

use super::{close, Block, BlockKind, Imported, Importer, MAX_NEURONS};
use crate::convention as conv;
use crate::error::NirError;
use crate::graph::{meta_get, MetaValue};
use snn_core::model_file::{LayerWeights, ModelMeta};
use snn_core::{Model, NetworkPlan, NetworkSpec, NeuronParams};

impl Importer<'_> {
    /// A graph metadata number, if present.
    pub(super) fn meta_f64(&self, key: &str) -> Option<f64> {
        match meta_get(&self.g.metadata, key)? {
            MetaValue::Float(x) => Some(*x),
            MetaValue::Int(i) => Some(*i as f64),
            MetaValue::Str(s) => s.parse().ok(),
        }
    }

    pub(super) fn meta_str(&self, key: &str) -> Option<String> {
        match meta_get(&self.g.metadata, key)? {
            MetaValue::Str(s) => Some(s.clone()),
            MetaValue::Int(i) => Some(i.to_string()),
            MetaValue::Float(x) => Some(x.to_string()),
        }
    }

    /// The f32 value of a network parameter: the metadata's exact value when it agrees with
    /// the graph, else the graph's.
    pub(super) fn exact(&self, key: &str, from_graph: f64) -> f32 {
        match self.meta_f64(key) {
            Some(m) if (m - from_graph).abs() <= 1e-5 * from_graph.abs().max(1e-30) => m as f32,
            _ => from_graph as f32,
        }
    }

    pub(super) fn finish(mut self) -> Result<Imported, NirError> {
        let path = self.path.clone();
        // One leak for every leaky layer.
        let leaky: Vec<&Block> = self
            .blocks
            .iter()
            .filter(|b| !matches!(b.kind, BlockKind::Pool { .. }))
            .collect();
        let beta = leaky.first().map_or(1.0, |b| b.neuron.beta);
        if let Some(b) = leaky.iter().find(|b| !close(b.neuron.beta, beta)) {
            return Err(self.graph_err(format!(
                "node '{}' has leak factor {} but '{}' has {beta}; snn uses one leak (tau) per network",
                b.node, b.neuron.beta, leaky[0].node
            )));
        }
        let leak = self.exact(conv::KEY_LEAK, beta);
        // The reference LIF threshold: the first LIF layer's.
        let lif_threshold = self
            .blocks
            .iter()
            .find(|b| b.kind == BlockKind::Lif)
            .map_or(1.0, |b| b.neuron.threshold);
        let threshold = self.exact(conv::KEY_THRESHOLD, lif_threshold);
        // The pooling threshold on the 2x2 average, one for all pooling layers.
        let pool: Vec<(f64, &str)> = self
            .blocks
            .iter()
            .filter_map(|b| match b.kind {
                BlockKind::Pool { sum } => Some((
                    b.neuron.threshold / b.neuron.gain / if sum { 4.0 } else { 1.0 },
                    b.node.as_str(),
                )),
                _ => None,
            })
            .collect();
        let pool_thr = pool.first().map_or(0.75, |p| p.0);
        if let Some((t, node)) = pool.iter().find(|p| !close(p.0, pool_thr)) {
            return Err(self.graph_err(format!(
                "pooling node '{node}' has threshold {t} (per 2x2 average) but '{}' has {pool_thr}; snn uses one pooling threshold",
                pool[0].1
            )));
        }
        let pool_threshold = self.exact(conv::KEY_POOL_THRESHOLD, pool_thr);
        // Fold per-layer gains and thresholds into the incoming weights.
        let mut notes = Vec::new();
        for b in &mut self.blocks {
            let m = match b.kind {
                BlockKind::Pool { .. } => 1.0,
                BlockKind::Lif => b.neuron.gain * f64::from(threshold) / b.neuron.threshold,
                // snn's readout integrates V = λ(V + I): the file's gain over λ (its
                // threshold, if any, plays no part in a non-spiking readout).
                BlockKind::Readout { .. } => b.neuron.gain / f64::from(leak),
            };
            if close(m, 1.0) {
                continue;
            }
            if b.identity_shortcut {
                return Err(NirError::Graph {
                    path: path.clone(),
                    msg: format!(
                        "node '{}' has input gain/threshold scale {m} and an identity shortcut, which snn cannot rescale",
                        b.node
                    ),
                });
            }
            for w in b.main.iter_mut().chain(b.shortcut.iter_mut()) {
                *w = (f64::from(*w) * m) as f32;
            }
            let why = match b.kind {
                BlockKind::Readout { .. } => format!(
                    "its input gain r*dt/tau = {:.6} where snn's readout integrates V = leak*(V + I), leak = {leak}",
                    b.neuron.gain
                ),
                _ => format!(
                    "its input gain r*dt/tau = {:.6} and threshold {} against snn's one threshold {threshold}",
                    b.neuron.gain, b.neuron.threshold
                ),
            };
            notes.push(format!("weights into '{}' scaled by {m:.6}: {why}", b.node));
        }
        let input_scale = match self.meta_f64(conv::KEY_INPUT_SCALE) {
            Some(s) => s as f32,
            None => {
                notes.push("no snn_input_scale metadata: inputs are rate-coded with p = |x| per step (snnTorch spikegen.rate)".into());
                1.0
            }
        };
        let name = self.meta_str(conv::KEY_NAME).unwrap_or_else(|| {
            path.file_stem()
                .map_or("nir".into(), |s| s.to_string_lossy().into_owned())
        });
        let spec = NetworkSpec {
            name,
            input: self.input,
            input_scale,
            neuron: NeuronParams {
                leak,
                threshold,
                pool_threshold,
            },
            layers: std::mem::take(&mut self.layers),
        };
        spec.validate().map_err(|e| NirError::Model {
            path: path.clone(),
            msg: format!("the imported network is not valid: {e}"),
        })?;
        let plan = NetworkPlan::new(&spec).map_err(|e| NirError::Model {
            path: path.clone(),
            msg: e.to_string(),
        })?;
        let neurons: usize = plan.layers.iter().map(|l| l.output.len()).sum();
        if neurons > MAX_NEURONS {
            return Err(NirError::Model {
                path,
                msg: format!(
                    "the network has {neurons} neurons, more than snn runs ({MAX_NEURONS})"
                ),
            });
        }
        let weights = plan
            .layers
            .iter()
            .zip(std::mem::take(&mut self.blocks))
            .map(|(l, b)| LayerWeights {
                layer: l.name.clone(),
                main: b.main,
                shortcut: b.shortcut,
            })
            .collect();
        let meta = self.model_meta(&mut notes);
        let model = Model {
            spec,
            weights,
            meta,
            training: None,
        };
        model.check().map_err(|msg| NirError::Model {
            path: path.clone(),
            msg,
        })?;
        notes.splice(0..0, self.notes.drain(..));
        Ok(Imported { model, notes })
    }

    pub(super) fn model_meta(&self, notes: &mut Vec<String>) -> ModelMeta {
        let dataset = self.meta_str(conv::KEY_DATASET).unwrap_or_else(|| {
            let guess = match (self.input.channels, self.input.height, self.input.width) {
                (1, 28, 28) => "mnist",
                (3, 32, 32) => "cifar10",
                _ => "",
            };
            notes.push(format!(
                "no snn_dataset metadata: assuming '{guess}' from the input shape (--dataset overrides)"
            ));
            guess.to_string()
        });
        let timesteps = match self.meta_f64(conv::KEY_TIMESTEPS) {
            Some(t) if t >= 1.0 && t <= f64::from(u32::MAX) => t as u32,
            _ => {
                notes.push(
                    "no snn_timesteps metadata: 100 time steps (--timesteps overrides)".into(),
                );
                100
            }
        };
        ModelMeta {
            created_by: self
                .meta_str(conv::KEY_CREATED_BY)
                .unwrap_or_else(|| format!("NIR import of {}", self.path.display())),
            dataset,
            timesteps,
            seed: self
                .meta_str(conv::KEY_SEED)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1),
            epochs: self
                .meta_f64(conv::KEY_EPOCHS)
                .map_or(0, |e| e.max(0.0) as u32),
            test_accuracy: self.meta_f64(conv::KEY_TEST_ACCURACY),
        }
    }
}
