//! One time step of a whole network (SPEC §3): the single reference implementation used by the
//! trainer (forward and evaluation) and by the simulator.
//!
//! [`CompiledNet`] holds what is fixed for a network (plan, conv geometries, fan-out tables);
//! [`NetState`] holds one sample's membranes and the spikes of the current step. A step scatters
//! each layer's input spikes into its current (event-driven), adds the shortcut current, then
//! updates the neurons and lists the spikes they emit.

use crate::model_file::LayerWeights;
use crate::neuron;
use crate::ops::LayerFanOut;
use crate::plan::{LayerKind, NetworkPlan, Synapses};
use crate::spec::{NetworkSpec, NeuronParams};
use crate::synapse::{self, ConvGeometry};

/// A network prepared for stepping: plan plus precomputed geometry and fan-out tables.
#[derive(Clone, Debug)]
pub struct CompiledNet {
    /// Shapes and synapses of every layer.
    pub plan: NetworkPlan,
    /// Neuron parameters.
    pub neuron: NeuronParams,
    /// Input rate-coding scale.
    pub input_scale: f32,
    /// Conv geometry of each layer's main synapses (None if not a conv).
    pub geometry: Vec<Option<ConvGeometry>>,
    /// Conv geometry of each layer's shortcut (None if none or not a conv).
    pub shortcut_geometry: Vec<Option<ConvGeometry>>,
    /// Fan-out tables for synaptic-operation counting.
    pub fan_out: Vec<LayerFanOut>,
}

impl CompiledNet {
    /// Prepares a validated spec.
    pub fn new(spec: &NetworkSpec) -> Result<Self, crate::SpecError> {
        let plan = NetworkPlan::new(spec)?;
        let geo = |s: &Synapses| matches!(s, Synapses::Conv { .. }).then(|| ConvGeometry::new(s));
        let geometry = plan.layers.iter().map(|l| geo(&l.synapses)).collect();
        let shortcut_geometry = plan
            .layers
            .iter()
            .map(|l| l.shortcut.and_then(|s| geo(&s.synapses)))
            .collect();
        let fan_out = plan.layers.iter().map(LayerFanOut::new).collect();
        Ok(CompiledNet {
            plan,
            neuron: spec.neuron,
            input_scale: spec.input_scale,
            geometry,
            shortcut_geometry,
            fan_out,
        })
    }

    /// Number of layers (including the readout).
    pub fn layers(&self) -> usize {
        self.plan.layers.len()
    }
}

/// Where a layer's input spikes come from in the current step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The encoded input image.
    Input,
    /// The spikes emitted by plan layer `i` this step.
    Layer(usize),
}

impl Source {
    /// Source of the main synapses of layer `l`.
    pub fn main_of(l: usize) -> Self {
        if l == 0 {
            Source::Input
        } else {
            Source::Layer(l - 1)
        }
    }
}

/// Dropout applied to a layer's emitted spikes: neurons with `keep[j] == false` emit nothing and
/// kept neurons emit `value` (= 1/(1−p)). Fixed for all steps of a sample (SPEC §3).
#[derive(Clone, Debug)]
pub struct DropoutMask {
    /// Keep flag per neuron.
    pub keep: Vec<bool>,
    /// Value of a kept spike.
    pub value: f32,
}

/// One sample's dynamic state.
#[derive(Clone, Debug)]
pub struct NetState {
    /// Membrane (LIF/readout) or pooling state of every layer.
    pub membrane: Vec<Vec<f32>>,
    current: Vec<Vec<f32>>,
    /// Indices of the neurons of each layer that emitted a spike this step (after dropout).
    pub spikes: Vec<Vec<u32>>,
    /// Value carried by each layer's emitted spikes this sample (1, or the dropout scale).
    pub value: Vec<f32>,
    raw: Vec<u32>,
}

impl NetState {
    /// Zero state for a network.
    pub fn new(net: &CompiledNet) -> Self {
        let n = net.layers();
        NetState {
            membrane: net
                .plan
                .layers
                .iter()
                .map(|l| vec![0.0; l.output.len()])
                .collect(),
            current: net
                .plan
                .layers
                .iter()
                .map(|l| vec![0.0; l.output.len()])
                .collect(),
            spikes: vec![Vec::new(); n],
            value: vec![1.0; n],
            raw: Vec::new(),
        }
    }

    /// Resets membranes to zero for a new sample.
    pub fn reset(&mut self) {
        for m in &mut self.membrane {
            m.fill(0.0);
        }
        for s in &mut self.spikes {
            s.clear();
        }
        self.value.fill(1.0);
    }

    /// Advances the network by one step. `input_pos`/`input_neg` are the +1/−1 input spikes;
    /// `dropout[l]` (training only) masks LIF layer `l`'s emitted spikes.
    pub fn step(
        &mut self,
        net: &CompiledNet,
        weights: &[LayerWeights],
        input_pos: &[u32],
        input_neg: &[u32],
        dropout: Option<&[Option<DropoutMask>]>,
    ) {
        let np = net.neuron;
        for l in 0..net.layers() {
            let layer = &net.plan.layers[l];
            let mut current = std::mem::take(&mut self.current[l]);
            self.scatter(
                net,
                Source::main_of(l),
                &layer.synapses,
                net.geometry[l].as_ref(),
                &weights[l].main,
                input_pos,
                input_neg,
                &mut current,
            );
            if let Some(sc) = layer.shortcut {
                let src = sc.source.map_or(Source::Input, Source::Layer);
                self.scatter(
                    net,
                    src,
                    &sc.synapses,
                    net.shortcut_geometry[l].as_ref(),
                    &weights[l].shortcut,
                    input_pos,
                    input_neg,
                    &mut current,
                );
            }
            let membrane = &mut self.membrane[l];
            match layer.kind {
                LayerKind::Readout => neuron::readout_step(membrane, &mut current, np.leak),
                LayerKind::Pool => {
                    self.spikes[l].clear();
                    neuron::if_step(
                        membrane,
                        &mut current,
                        np.pool_threshold,
                        &mut self.spikes[l],
                    );
                }
                LayerKind::Conv | LayerKind::Linear => {
                    let mask = dropout.and_then(|d| d.get(l)).and_then(|m| m.as_ref());
                    match mask {
                        None => {
                            self.spikes[l].clear();
                            neuron::lif_step(
                                membrane,
                                &mut current,
                                np.leak,
                                np.threshold,
                                &mut self.spikes[l],
                            );
                        }
                        Some(mask) => {
                            self.raw.clear();
                            neuron::lif_step(
                                membrane,
                                &mut current,
                                np.leak,
                                np.threshold,
                                &mut self.raw,
                            );
                            self.spikes[l].clear();
                            self.spikes[l].extend(
                                self.raw.iter().copied().filter(|&j| mask.keep[j as usize]),
                            );
                            self.value[l] = mask.value;
                        }
                    }
                }
            }
            self.current[l] = current;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn scatter(
        &self,
        _net: &CompiledNet,
        src: Source,
        syn: &Synapses,
        geo: Option<&ConvGeometry>,
        w: &[f32],
        input_pos: &[u32],
        input_neg: &[u32],
        current: &mut [f32],
    ) {
        match src {
            Source::Input => {
                synapse::scatter(syn, geo, w, input_pos, 1.0, current);
                if !input_neg.is_empty() {
                    synapse::scatter(syn, geo, w, input_neg, -1.0, current);
                }
            }
            Source::Layer(i) => {
                synapse::scatter(syn, geo, w, &self.spikes[i], self.value[i], current)
            }
        }
    }

    /// The readout membrane (valid after the last step: output = membrane / T).
    pub fn readout(&self) -> &[f32] {
        self.membrane.last().map(Vec::as_slice).unwrap_or(&[])
    }
}
