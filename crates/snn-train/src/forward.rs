//! Forward pass of one sample over T steps, built on the one time-step implementation in
//! `snn_core::runtime`. Records spikes for the backward (training) or counts them (evaluation).

use crate::trace::Trace;
use snn_core::neuron;
use snn_core::ops::synops;
use snn_core::plan::Source;
use snn_core::profile::ActivityProfile;
use snn_core::runtime::{CompiledNet, DropoutMask, NetState, PreparedWeights};
use snn_data::encode::{PreparedImage, RateEncoder};

/// Per-layer counters accumulated by evaluation (integers, so sums never depend on order), and
/// optionally per-neuron counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpikeStats {
    /// Input spikes (both signs) presented to the first layer.
    pub input_spikes: u64,
    /// Spikes emitted by each layer (0 for the readout).
    pub layer_spikes: Vec<u64>,
    /// Synaptic operations (effective accumulates) into each layer, main + shortcut.
    pub layer_synops: Vec<u64>,
    /// Per-neuron spike counts and samples run, when requested ([`SpikeStats::with_profile`]);
    /// `None` keeps the plain evaluation free of per-neuron work.
    pub profile: Option<ActivityProfile>,
}

impl SpikeStats {
    /// Zeroed counters for a network with `layers` layers.
    pub fn new(layers: usize) -> Self {
        SpikeStats {
            input_spikes: 0,
            layer_spikes: vec![0; layers],
            layer_synops: vec![0; layers],
            profile: None,
        }
    }

    /// Zeroed counters that also count spikes per neuron into `profile` (normally
    /// [`ActivityProfile::zeros`] of the network's plan).
    pub fn with_profile(layers: usize, profile: ActivityProfile) -> Self {
        SpikeStats {
            profile: Some(profile),
            ..SpikeStats::new(layers)
        }
    }

    /// Adds another set of counters, per-neuron counts included (taken over when `self` has
    /// none).
    pub fn add(&mut self, other: &SpikeStats) {
        self.input_spikes += other.input_spikes;
        for (a, b) in self.layer_spikes.iter_mut().zip(&other.layer_spikes) {
            *a += b;
        }
        for (a, b) in self.layer_synops.iter_mut().zip(&other.layer_synops) {
            *a += b;
        }
        match (self.profile.as_mut(), other.profile.as_ref()) {
            (Some(a), Some(b)) => a.add(b),
            (None, Some(b)) => self.profile = Some(b.clone()),
            _ => {}
        }
    }
}

/// Reusable buffers for running samples.
#[derive(Clone, Debug)]
pub struct Runner {
    /// Network state (membranes, current spikes).
    pub state: NetState,
    pos: Vec<u32>,
    neg: Vec<u32>,
}

impl Runner {
    /// Buffers for `net`.
    pub fn new(net: &CompiledNet) -> Self {
        Runner {
            state: NetState::new(net),
            pos: Vec::new(),
            neg: Vec::new(),
        }
    }

    /// Runs one sample for `timesteps` steps and returns the output `V(T)/T`. When `trace` is
    /// given every step's spikes are recorded; when `stats` is given spikes and synaptic
    /// operations are counted (per neuron too, and the sample, when `stats` holds a profile).
    /// `weights` are prepared once per weight update
    /// ([`PreparedWeights::new`]).
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        net: &CompiledNet,
        weights: &PreparedWeights,
        encoder: &RateEncoder,
        image: &PreparedImage,
        sample_index: u64,
        timesteps: usize,
        dropout: Option<&[Option<DropoutMask>]>,
        mut trace: Option<&mut Trace>,
        mut stats: Option<&mut SpikeStats>,
    ) -> Vec<f32> {
        self.state.reset();
        if let Some(tr) = trace.as_deref_mut() {
            tr.clear(net.layers());
            tr.timesteps = timesteps;
        }
        for t in 0..timesteps {
            encoder.encode_step(image, sample_index, t as u32, &mut self.pos, &mut self.neg);
            self.state
                .step_prepared(net, weights, &self.pos, &self.neg, dropout);
            if let Some(tr) = trace.as_deref_mut() {
                tr.input_pos.push_step(&self.pos);
                tr.input_neg.push_step(&self.neg);
                for (l, train) in tr.layers.iter_mut().enumerate() {
                    train.push_step(&self.state.spikes[l]);
                }
            }
            if let Some(st) = stats.as_deref_mut() {
                self.count(net, st);
            }
        }
        if let Some(p) = stats.and_then(|st| st.profile.as_mut()) {
            p.samples += 1;
            p.timesteps = timesteps as u32;
        }
        let out = neuron::readout_output(self.state.readout(), timesteps as u32);
        if let Some(tr) = trace {
            tr.values.copy_from_slice(&self.state.value);
            tr.output = out.clone();
        }
        out
    }

    /// How many runners [`Runner::run_lockstep`] needs for groups of up to `group` samples.
    pub fn lockstep_runners(net: &CompiledNet, weights: &PreparedWeights, group: usize) -> usize {
        if weights.lockstep_pays(net) {
            group
        } else {
            1
        }
    }

    /// [`Runner::run`] for several samples at once, stepped in lockstep layer by layer
    /// ([`NetState::step_prepared_lockstep`]) so that each large layer's weights are read once
    /// per step for all of them, when that pays ([`PreparedWeights::lockstep_pays`]), else one
    /// after the other (then only the first runner is used: [`Runner::lockstep_runners`] says
    /// how many to keep). Sample `s` (`runners[s]`, `images[s]`, `samples[s]`, `dropout[s]`,
    /// `traces[s]`) gets exactly what [`Runner::run`] gives it; the counters of all of them are
    /// added to `stats`. Returns the outputs.
    #[allow(clippy::too_many_arguments)]
    pub fn run_lockstep(
        runners: &mut [Runner],
        net: &CompiledNet,
        weights: &PreparedWeights,
        encoder: &RateEncoder,
        images: &[PreparedImage],
        samples: &[u64],
        timesteps: usize,
        dropout: &[Option<&[Option<DropoutMask>]>],
        mut traces: Option<&mut [Trace]>,
        mut stats: Option<&mut SpikeStats>,
    ) -> Vec<Vec<f32>> {
        let n = images.len();
        assert!(samples.len() == n && dropout.len() == n);
        if !weights.lockstep_pays(net) {
            // One sample after the other, all through the first runner (its state stays in
            // cache over the samples' T steps).
            return (0..n)
                .map(|s| {
                    let trace = traces.as_deref_mut().map(|t| &mut t[s]);
                    runners[0].run(
                        net,
                        weights,
                        encoder,
                        &images[s],
                        samples[s],
                        timesteps,
                        dropout[s],
                        trace,
                        stats.as_deref_mut(),
                    )
                })
                .collect();
        }
        let runners = &mut runners[..n];
        for r in runners.iter_mut() {
            r.state.reset();
        }
        if let Some(trs) = traces.as_deref_mut() {
            for tr in trs.iter_mut() {
                tr.clear(net.layers());
                tr.timesteps = timesteps;
            }
        }
        for t in 0..timesteps {
            for (s, r) in runners.iter_mut().enumerate() {
                encoder.encode_step(&images[s], samples[s], t as u32, &mut r.pos, &mut r.neg);
            }
            let mut states = Vec::with_capacity(n);
            let mut inputs: Vec<(&[u32], &[u32])> = Vec::with_capacity(n);
            for Runner { state, pos, neg } in runners.iter_mut() {
                states.push(state);
                inputs.push((&pos[..], &neg[..]));
            }
            NetState::step_prepared_lockstep(&mut states, net, weights, &inputs, dropout);
            for (s, r) in runners.iter().enumerate() {
                if let Some(trs) = traces.as_deref_mut() {
                    let tr = &mut trs[s];
                    tr.input_pos.push_step(&r.pos);
                    tr.input_neg.push_step(&r.neg);
                    for (l, train) in tr.layers.iter_mut().enumerate() {
                        train.push_step(&r.state.spikes[l]);
                    }
                }
                if let Some(st) = stats.as_deref_mut() {
                    r.count(net, st);
                }
            }
        }
        let mut outs = Vec::with_capacity(n);
        for (s, r) in runners.iter().enumerate() {
            if let Some(p) = stats.as_deref_mut().and_then(|st| st.profile.as_mut()) {
                p.samples += 1;
                p.timesteps = timesteps as u32;
            }
            let out = neuron::readout_output(r.state.readout(), timesteps as u32);
            if let Some(trs) = traces.as_deref_mut() {
                trs[s].values.copy_from_slice(&r.state.value);
                trs[s].output = out.clone();
            }
            outs.push(out);
        }
        outs
    }

    fn count(&self, net: &CompiledNet, st: &mut SpikeStats) {
        st.input_spikes += (self.pos.len() + self.neg.len()) as u64;
        for (l, layer) in net.plan.layers.iter().enumerate() {
            if layer.spikes() {
                st.layer_spikes[l] += self.state.spikes[l].len() as u64;
            }
            let fo = &net.fan_out[l];
            let mut ops = match Source::main_of(l) {
                Source::Input => synops(&fo.main, &self.pos) + synops(&fo.main, &self.neg),
                Source::Layer(i) => synops(&fo.main, &self.state.spikes[i]),
            };
            if let Some(sc) = layer.shortcut {
                ops += match sc.source {
                    None => synops(&fo.shortcut, &self.pos) + synops(&fo.shortcut, &self.neg),
                    Some(i) => synops(&fo.shortcut, &self.state.spikes[i]),
                };
            }
            st.layer_synops[l] += ops;
        }
        if let Some(p) = st.profile.as_mut() {
            self.count_neurons(net, p);
        }
    }

    /// Adds this step's spikes to the per-neuron counts of `p`.
    fn count_neurons(&self, net: &CompiledNet, p: &mut ActivityProfile) {
        for &i in self.pos.iter().chain(&self.neg) {
            p.input[i as usize] += 1;
        }
        for (l, layer) in net.plan.layers.iter().enumerate() {
            if layer.spikes() {
                let counts = &mut p.layers[l].spikes;
                for &n in &self.state.spikes[l] {
                    counts[n as usize] += 1;
                }
            }
        }
    }
}
