//! One time step of a whole network (SPEC §3): the single reference implementation used by the
//! trainer (forward and evaluation) and by the simulator.
//!
//! [`CompiledNet`] holds what is fixed for a network (plan, conv geometries, fan-out tables);
//! [`NetState`] holds one sample's membranes and the spikes of the current step. A step scatters
//! each layer's input spikes into its current (event-driven), adds the shortcut current, then
//! updates the neurons and lists the spikes they emit.

use crate::active;
use crate::aligned::AlignedVec;
use crate::gather::{self, GatherScratch, GatherWeights};
use crate::lif_pool::{self, PoolScratch, PoolStep};
use crate::model_file::LayerWeights;
use crate::neuron;
use crate::ops::LayerFanOut;
use crate::plan::{LayerKind, NetworkPlan, Source, Synapses};
use crate::shape::Shape3;
use crate::simd;
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
    /// Per layer: the output shape of the 2×2 average pooling after it, when the fast step
    /// updates that pooling layer in the same pass (see [`crate::lif_pool`]).
    pub pool_after: Vec<Option<Shape3>>,
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
        let pool_after = (0..plan.layers.len())
            .map(|l| fused_pool(&plan, l))
            .collect();
        Ok(CompiledNet {
            plan,
            neuron: spec.neuron,
            input_scale: spec.input_scale,
            geometry,
            shortcut_geometry,
            fan_out,
            pool_after,
        })
    }

    /// Number of layers (including the readout).
    pub fn layers(&self) -> usize {
        self.plan.layers.len()
    }
}

/// Weights laid out for the forward scatter kernels, built once per weight update from the
/// canonical [`LayerWeights`]: conv weights reordered by [`ConvGeometry::prepare`], all others
/// copied as they are; every tensor 64-byte aligned (a dense layer's rows then never start
/// mid-line for 8-wide loads when the row length is a multiple of 8). Pass to
/// [`NetState::step_prepared`].
#[derive(Clone, Debug)]
pub struct PreparedWeights {
    /// Per layer: (main, shortcut).
    layers: Vec<(AlignedVec, AlignedVec)>,
    /// Per layer: padded main conv weights for the gathered conv+LIF step (stride-1 conv
    /// layers fed by another layer, without shortcut), see [`crate::gather`].
    gather: Vec<Option<GatherWeights>>,
}

impl PreparedWeights {
    /// Prepares `weights` (one entry per plan layer) for `net`.
    pub fn new(net: &CompiledNet, weights: &[LayerWeights]) -> Self {
        assert_eq!(
            weights.len(),
            net.layers(),
            "one LayerWeights per plan layer"
        );
        let prep = |geo: Option<&ConvGeometry>, w: &[f32]| -> AlignedVec {
            match geo {
                Some(g) => {
                    let mut out = AlignedVec::zeros(w.len());
                    g.prepare_into(w, &mut out);
                    out
                }
                None => AlignedVec::from_slice(w),
            }
        };
        let layers = (0..net.layers())
            .map(|l| {
                (
                    prep(net.geometry[l].as_ref(), &weights[l].main),
                    prep(net.shortcut_geometry[l].as_ref(), &weights[l].shortcut),
                )
            })
            .collect();
        let gather = (0..net.layers())
            .map(|l| {
                let layer = &net.plan.layers[l];
                let geo = net.geometry[l].as_ref()?;
                if layer.kind != LayerKind::Conv {
                    return None;
                }
                GatherWeights::new(geo, &weights[l].main)
            })
            .collect();
        PreparedWeights { layers, gather }
    }

    /// Whether [`NetState::step_prepared_lockstep`] is expected to beat stepping the samples one
    /// after the other: some conv layer holds at least [`LOCKSTEP_MIN_CONV_BYTES`] of weights.
    pub fn lockstep_pays(&self, net: &CompiledNet) -> bool {
        net.plan
            .layers
            .iter()
            .zip(&self.layers)
            .any(|(layer, (m, _))| {
                matches!(layer.synapses, Synapses::Conv { .. })
                    && m.len() * 4 >= LOCKSTEP_MIN_CONV_BYTES
            })
    }

    /// Rewrites the prepared copy in place from new `weights` of the same network (what
    /// [`PreparedWeights::new`] would build, without allocating: a trainer calls this after
    /// every update).
    pub fn update(&mut self, net: &CompiledNet, weights: &[LayerWeights]) {
        assert_eq!(
            weights.len(),
            net.layers(),
            "one LayerWeights per plan layer"
        );
        let prep = |geo: Option<&ConvGeometry>, w: &[f32], out: &mut AlignedVec| {
            assert_eq!(out.len(), w.len(), "weights of another network");
            match geo {
                Some(g) => g.prepare_into(w, out),
                None => out.copy_from_slice(w),
            }
        };
        for (l, (main, short)) in self.layers.iter_mut().enumerate() {
            prep(net.geometry[l].as_ref(), &weights[l].main, main);
            prep(
                net.shortcut_geometry[l].as_ref(),
                &weights[l].shortcut,
                short,
            );
        }
        for (gw, w) in self.gather.iter_mut().zip(weights) {
            if let Some(gw) = gw {
                gw.update(&w.main);
            }
        }
    }
}

/// The weights a step reads: canonical (reference kernels) or prepared (fast kernels).
#[derive(Clone, Copy)]
enum StepWeights<'w> {
    Canonical(&'w [LayerWeights]),
    Prepared(&'w PreparedWeights),
}

impl StepWeights<'_> {
    fn main(&self, l: usize) -> &[f32] {
        match self {
            StepWeights::Canonical(w) => &w[l].main,
            StepWeights::Prepared(p) => &p.layers[l].0,
        }
    }

    fn shortcut(&self, l: usize) -> &[f32] {
        match self {
            StepWeights::Canonical(w) => &w[l].shortcut,
            StepWeights::Prepared(p) => &p.layers[l].1,
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

/// Weight bytes above which [`NetState::step_prepared_lockstep`] steps a layer across all its
/// samples before the next layer (about the L2 cache of one core here).
pub const LOCKSTEP_MIN_WEIGHT_BYTES: usize = 1 << 20;

/// Conv weight bytes from which stepping samples in lockstep pays at all
/// ([`PreparedWeights::lockstep_pays`]): ResNet11's 512-channel convs (9.4 MB) gain from it,
/// while for VGG9 (largest conv 2.4 MB) cycling 4 samples' membranes through the cache every
/// step cost more than it saved (2-thread benchmark 20-25 % slower).
pub const LOCKSTEP_MIN_CONV_BYTES: usize = 4 << 20;

/// One sample's dynamic state.
#[derive(Clone, Debug)]
pub struct NetState {
    /// Membrane (LIF/readout) or pooling state of every layer.
    pub membrane: Vec<AlignedVec>,
    current: Vec<AlignedVec>,
    /// Indices of the neurons of each layer that emitted a spike this step (after dropout).
    pub spikes: Vec<Vec<u32>>,
    /// Value carried by each layer's emitted spikes this sample (1, or the dropout scale).
    pub value: Vec<f32>,
    raw: Vec<u32>,
    /// Bitmap of pooling neurons that received current this step (prepared path only).
    touched: Vec<u64>,
    /// Byte flags of touched pooling neurons (64 per `touched` word; all zero between steps).
    flags: Vec<u8>,
    /// Scratch of the gathered conv+LIF step.
    gather: GatherScratch,
    /// Scratch of the LIF step fused with the pooling layer after it.
    pool: PoolScratch,
    /// When set ([`NetState::time_layers`]), nanoseconds spent stepping each layer, summed over
    /// steps (a LIF layer stepped together with the pooling layer after it counts both).
    pub layer_nanos: Option<Vec<u64>>,
    /// When set ([`NetState::record_active`]), per layer the bitmap ([`crate::active`]) of the
    /// neurons whose input current was non-zero in the last step: the "active" neuron updates
    /// a neuromorphic core charges. Recorded beside the kernels; no arithmetic changes.
    pub active: Option<Vec<Vec<u64>>>,
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
                .map(|l| AlignedVec::zeros(l.output.len()))
                .collect(),
            current: net
                .plan
                .layers
                .iter()
                .map(|l| AlignedVec::zeros(l.output.len()))
                .collect(),
            spikes: vec![Vec::new(); n],
            value: vec![1.0; n],
            raw: Vec::new(),
            touched: vec![
                0;
                net.plan
                    .layers
                    .iter()
                    .map(|l| l.output.len().div_ceil(64))
                    .max()
                    .unwrap_or(0)
            ],
            gather: GatherScratch::default(),
            pool: PoolScratch::default(),
            flags: Vec::new(),
            layer_nanos: None,
            active: None,
        }
    }

    /// Starts recording every step's active neurons into [`NetState::active`].
    pub fn record_active(&mut self) {
        self.active = Some(
            self.membrane
                .iter()
                .map(|m| vec![0; active::words(m.len())])
                .collect(),
        );
    }

    /// Starts (or restarts from zero) timing every layer's steps into
    /// [`NetState::layer_nanos`], for benchmarks that show where the time goes.
    pub fn time_layers(&mut self) {
        self.layer_nanos = Some(vec![0; self.membrane.len()]);
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

    /// Advances the network by one step with canonical weights and the plain (reference)
    /// kernels. `input_pos`/`input_neg` are the +1/−1 input spikes; `dropout[l]` (training
    /// only) masks LIF layer `l`'s emitted spikes. [`NetState::step_prepared`] gives
    /// bit-identical results faster.
    pub fn step(
        &mut self,
        net: &CompiledNet,
        weights: &[LayerWeights],
        input_pos: &[u32],
        input_neg: &[u32],
        dropout: Option<&[Option<DropoutMask>]>,
    ) {
        self.step_with(
            net,
            StepWeights::Canonical(weights),
            input_pos,
            input_neg,
            dropout,
        )
    }

    /// [`NetState::step`] with prepared weights and the fast kernels (bit-identical).
    pub fn step_prepared(
        &mut self,
        net: &CompiledNet,
        weights: &PreparedWeights,
        input_pos: &[u32],
        input_neg: &[u32],
        dropout: Option<&[Option<DropoutMask>]>,
    ) {
        self.step_with(
            net,
            StepWeights::Prepared(weights),
            input_pos,
            input_neg,
            dropout,
        )
    }

    fn step_with(
        &mut self,
        net: &CompiledNet,
        weights: StepWeights<'_>,
        input_pos: &[u32],
        input_neg: &[u32],
        dropout: Option<&[Option<DropoutMask>]>,
    ) {
        // A pooling layer already stepped together with the LIF layer before it.
        let mut done = None;
        let mut clock = self.layer_nanos.is_some().then(std::time::Instant::now);
        for l in 0..net.layers() {
            if let (Some(c), Some(t)) = (clock.as_mut(), self.layer_nanos.as_mut()) {
                // The previous layer's time (and its fused pooling layer's) ends here.
                if l > 0 {
                    t[l - 1] += c.elapsed().as_nanos() as u64;
                    *c = std::time::Instant::now();
                }
            }
            if done == Some(l) {
                continue;
            }
            if self.step_layer(net, weights, l, input_pos, input_neg, dropout) {
                done = Some(l + 1);
            }
        }
        if let (Some(c), Some(t)) = (clock, self.layer_nanos.as_mut()) {
            if let Some(last) = t.last_mut() {
                *last += c.elapsed().as_nanos() as u64;
            }
        }
    }

    /// Steps layer `l` (the body of [`NetState::step_with`]'s loop). Returns true when it also
    /// stepped layer `l + 1` (a pooling layer fused with the LIF layer before it).
    fn step_layer(
        &mut self,
        net: &CompiledNet,
        weights: StepWeights<'_>,
        l: usize,
        input_pos: &[u32],
        input_neg: &[u32],
        dropout: Option<&[Option<DropoutMask>]>,
    ) -> bool {
        let np = net.neuron;
        let fast = matches!(weights, StepWeights::Prepared(_));
        let mut fused = false;
        let layer = &net.plan.layers[l];
        let mut current = std::mem::take(&mut self.current[l]);
        // Pooling IF neurons without current cannot change or fire (no leak, P ≤ θ ≥ 0):
        // the fast path updates only the ones the pooling scatter touched.
        let sparse_pool = fast
            && layer.kind == LayerKind::Pool
            && layer.shortcut.is_none()
            && np.pool_threshold >= 0.0
            && matches!(layer.synapses, Synapses::AvgPool2 { .. });
        if sparse_pool {
            let Synapses::AvgPool2 { input, output } = layer.synapses else {
                unreachable!()
            };
            let words = output.len().div_ceil(64);
            let touched = &mut self.touched[..words];
            if self.flags.len() < words * 64 {
                self.flags.resize(words * 64, 0);
            }
            let flags = &mut self.flags[..words * 64];
            let mut mark = |spikes: &[u32], value: f32| {
                synapse::avgpool_scatter_flag(input, output, spikes, value, &mut current, flags)
            };
            match Source::main_of(l) {
                Source::Input => {
                    mark(input_pos, 1.0);
                    if !input_neg.is_empty() {
                        mark(input_neg, -1.0);
                    }
                }
                Source::Layer(i) => mark(&self.spikes[i], self.value[i]),
            }
            simd::flags_to_bits(flags, touched);
            if let Some(a) = self.active.as_mut() {
                active::mark_nonzero_in(&current, touched, &mut a[l]);
            }
            self.spikes[l].clear();
            neuron::if_step_touched(
                &mut self.membrane[l],
                &mut current,
                np.pool_threshold,
                touched,
                &mut self.spikes[l],
            );
            self.current[l] = current;
            return false;
        }
        if let Some(pooled) = self.try_gather(net, weights, l, dropout, input_pos, input_neg) {
            // `current` is untouched (still zero).
            self.current[l] = current;
            return pooled;
        }
        self.scatter(
            Source::main_of(l),
            &layer.synapses,
            net.geometry[l].as_ref(),
            weights.main(l),
            fast,
            input_pos,
            input_neg,
            &mut current,
        );
        if let Some(sc) = layer.shortcut {
            let src = Source::of_shortcut(sc.source);
            self.scatter(
                src,
                &sc.synapses,
                net.shortcut_geometry[l].as_ref(),
                weights.shortcut(l),
                fast,
                input_pos,
                input_neg,
                &mut current,
            );
        }
        if let Some(a) = self.active.as_mut() {
            active::mark_nonzero(&current, &mut a[l]);
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
                let pooled = if fast { net.pool_after[l] } else { None };
                match (mask, pooled) {
                    (None, Some(output)) => {
                        // The pooling layer after this one is stepped here too.
                        let active = self.active.as_mut().map(|a| &mut a[l + 1][..]);
                        let (spikes, v, pool) = with_pool(
                            &mut self.spikes[l..],
                            &mut self.membrane[l..],
                            output,
                            np.pool_threshold,
                            active,
                        );
                        lif_pool::lif_pool_step(
                            layer.output,
                            v,
                            &mut current,
                            np.leak,
                            np.threshold,
                            spikes,
                            pool,
                            &mut self.pool,
                        );
                        fused = true;
                    }
                    (None, None) => {
                        self.spikes[l].clear();
                        neuron::lif_step(
                            membrane,
                            &mut current,
                            np.leak,
                            np.threshold,
                            &mut self.spikes[l],
                        );
                    }
                    (Some(mask), _) => {
                        self.raw.clear();
                        neuron::lif_step(
                            membrane,
                            &mut current,
                            np.leak,
                            np.threshold,
                            &mut self.raw,
                        );
                        self.spikes[l].clear();
                        self.spikes[l]
                            .extend(self.raw.iter().copied().filter(|&j| mask.keep[j as usize]));
                        self.value[l] = mask.value;
                    }
                }
            }
        }
        self.current[l] = current;
        fused
    }

    /// Steps several samples one time step each. Layers whose weights exceed
    /// [`LOCKSTEP_MIN_WEIGHT_BYTES`] (more than the L2 cache holds) are stepped layer by layer
    /// across the samples, so their weights are read once for all of them instead of being
    /// streamed again for every sample (ResNet11's 512-channel convs hold 9.4 MB each); runs of
    /// smaller layers are stepped sample by sample, so that one sample's membranes stay in cache
    /// (stepping VGG9's 64-channel layers across 4 samples was ~10 % slower). `inputs[s]` are
    /// sample `s`'s (+1, −1) input spikes, `dropout[s]` its masks. Every state evolves exactly
    /// as with [`NetState::step_prepared`].
    pub fn step_prepared_lockstep(
        states: &mut [&mut NetState],
        net: &CompiledNet,
        weights: &PreparedWeights,
        inputs: &[(&[u32], &[u32])],
        dropout: &[Option<&[Option<DropoutMask>]>],
    ) {
        assert_eq!(states.len(), inputs.len());
        assert_eq!(states.len(), dropout.len());
        let big = |l: usize| {
            let (m, s) = &weights.layers[l];
            (m.len() + s.len()) * 4 > LOCKSTEP_MIN_WEIGHT_BYTES
        };
        let w = StepWeights::Prepared(weights);
        // Per sample: the next layer it has to step (a fused pooling layer is skipped).
        let mut next = vec![0usize; states.len()];
        let layers = net.layers();
        let mut l = 0;
        while l < layers {
            // The run of layers [l, end): one big layer, or consecutive small ones.
            let end = if big(l) {
                l + 1
            } else {
                (l..layers).find(|&m| big(m)).unwrap_or(layers)
            };
            for (s, state) in states.iter_mut().enumerate() {
                let (pos, neg) = inputs[s];
                while next[s] < end {
                    let k = next[s];
                    next[s] = k + if state.step_layer(net, w, k, pos, neg, dropout[s]) {
                        2
                    } else {
                        1
                    };
                }
            }
            l = end;
        }
    }

    /// The gathered conv+LIF step of layer `l` (see [`crate::gather`]) when it applies and
    /// is expected to be faster than scatter + LIF. Returns None when it did not run, else
    /// whether it also stepped the pooling layer after `l`. Bit-identical.
    fn try_gather(
        &mut self,
        net: &CompiledNet,
        weights: StepWeights<'_>,
        l: usize,
        dropout: Option<&[Option<DropoutMask>]>,
        input_pos: &[u32],
        input_neg: &[u32],
    ) -> Option<bool> {
        let StepWeights::Prepared(p) = weights else {
            return None;
        };
        let (Some(gw), Some(geo)) = (p.gather[l].as_ref(), net.geometry[l].as_ref()) else {
            return None;
        };
        let np = net.neuron;
        let (before, rest) = self.spikes.split_at_mut(l);
        // The image's spikes come as a +1 and a −1 list (the scatter adds them in that order).
        let (src, neg, value): (&[u32], &[u32], f32) = match Source::main_of(l) {
            Source::Input => (input_pos, input_neg, 1.0),
            Source::Layer(i) => (&before[i], &[], self.value[i]),
        };
        let n = geo.input.len();
        if !gather::worthwhile(geo, src.len() + neg.len())
            || !gather::applicable(src, n, np.leak)
            || !gather::applicable(neg, n, np.leak)
        {
            return None;
        }
        let mask = dropout.and_then(|d| d.get(l)).and_then(|m| m.as_ref());
        let (active_l, active_pool) = match self.active.as_mut() {
            Some(a) => {
                let (upto, after) = a.split_at_mut(l + 1);
                (Some(&mut upto[l]), after.first_mut().map(|b| &mut b[..]))
            }
            None => (None, None),
        };
        // With its spikes undropped, the pooling layer after `l` is stepped in the same pass.
        let (dst, v, pool) = match (mask, net.pool_after[l]) {
            (None, Some(output)) => {
                let membranes = &mut self.membrane[l..];
                let (dst, v, pool) =
                    with_pool(rest, membranes, output, np.pool_threshold, active_pool);
                (dst, v, Some((pool, &mut self.pool)))
            }
            (None, None) => (&mut rest[0], &mut self.membrane[l][..], None),
            (Some(_), _) => (&mut self.raw, &mut self.membrane[l][..], None),
        };
        dst.clear();
        let pooled = pool.is_some();
        // A residual block's shortcut current is added after the main synapses', as the
        // scatter path adds it.
        let shortcut = net.plan.layers[l].shortcut;
        let (sc_geo, sc_w) = (net.shortcut_geometry[l].as_ref(), weights.shortcut(l));
        let values = &self.value;
        let then = |current: &mut [f32]| {
            if let Some(sc) = shortcut {
                let go = |spikes: &[u32], value: f32, current: &mut [f32]| {
                    scatter_prepared(&sc.synapses, sc_geo, sc_w, spikes, value, current)
                };
                match sc.source {
                    None => {
                        go(input_pos, 1.0, current);
                        if !input_neg.is_empty() {
                            go(input_neg, -1.0, current);
                        }
                    }
                    Some(i) => go(&before[i], values[i], current),
                }
            }
            if let Some(bits) = active_l {
                active::mark_nonzero(current, bits);
            }
        };
        gather::conv_lif_gather(
            geo,
            gw,
            src,
            neg,
            value,
            v,
            np.leak,
            np.threshold,
            &mut self.gather,
            dst,
            pool,
            then,
        );
        if let Some(mask) = mask {
            rest[0].clear();
            rest[0].extend(self.raw.iter().copied().filter(|&j| mask.keep[j as usize]));
            self.value[l] = mask.value;
        }
        Some(pooled)
    }

    #[allow(clippy::too_many_arguments)]
    fn scatter(
        &self,
        src: Source,
        syn: &Synapses,
        geo: Option<&ConvGeometry>,
        w: &[f32],
        fast: bool,
        input_pos: &[u32],
        input_neg: &[u32],
        current: &mut [f32],
    ) {
        let go = |spikes: &[u32], value: f32, current: &mut [f32]| {
            if !fast {
                return synapse::scatter(syn, geo, w, spikes, value, current);
            }
            scatter_prepared(syn, geo, w, spikes, value, current)
        };
        match src {
            Source::Input => {
                go(input_pos, 1.0, current);
                if !input_neg.is_empty() {
                    go(input_neg, -1.0, current);
                }
            }
            Source::Layer(i) => go(&self.spikes[i], self.value[i], current),
        }
    }

    /// The readout membrane (valid after the last step: output = membrane / T).
    pub fn readout(&self) -> &[f32] {
        self.membrane.last().map(|m| &m[..]).unwrap_or(&[])
    }
}

/// The fast path's scatter of `spikes` carrying `value` through `syn` with prepared weights `w`.
fn scatter_prepared(
    syn: &Synapses,
    geo: Option<&ConvGeometry>,
    w: &[f32],
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    match *syn {
        Synapses::Conv { .. } => synapse::conv_scatter_prepared(
            geo.expect("conv geometry for conv synapses"),
            w,
            spikes,
            value,
            current,
        ),
        Synapses::Dense { outputs, .. } => {
            synapse::dense_scatter_grouped(w, outputs, spikes, value, current)
        }
        _ => synapse::scatter(syn, geo, w, spikes, value, current),
    }
}

/// From the spike lists and membranes of layers `l..`: layer `l`'s spike list (cleared) and
/// membranes, and the pooling layer `l + 1` with output shape `output` as a [`PoolStep`] (its
/// spike list cleared).
fn with_pool<'a>(
    spikes: &'a mut [Vec<u32>],
    membranes: &'a mut [AlignedVec],
    output: Shape3,
    threshold: f32,
    active: Option<&'a mut [u64]>,
) -> (&'a mut Vec<u32>, &'a mut [f32], PoolStep<'a>) {
    let ([own, next, ..], [v, state, ..]) = (spikes, membranes) else {
        panic!("a fused pooling layer follows its LIF layer");
    };
    own.clear();
    next.clear();
    let pool = PoolStep {
        output,
        state,
        threshold,
        spikes: next,
        active,
    };
    (own, v, pool)
}

/// The output shape of layer `l + 1` when it is a 2×2 average pooling of exactly layer `l`'s
/// spikes that can be stepped by [`lif_pool::lif_pool_step`] together with layer `l`.
fn fused_pool(plan: &NetworkPlan, l: usize) -> Option<Shape3> {
    let (layer, next) = (&plan.layers[l], plan.layers.get(l + 1)?);
    match next.synapses {
        Synapses::AvgPool2 { input, output }
            if layer.kind == LayerKind::Conv
                && next.kind == LayerKind::Pool
                && next.shortcut.is_none()
                && input == layer.output =>
        {
            Some(output)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::lcg;

    const NET: &str = r#"
name = "mixed"
input = { channels = 2, height = 12, width = 12 }
input_scale = 1.0
[[layer]]
type = "conv"
out_channels = 20
kernel = 5
padding = 2
[[layer]]
type = "pool"
[[layer]]
type = "residual"
out_channels = 11
stride = 2
[[layer]]
type = "residual"
out_channels = 11
[[layer]]
type = "conv"
out_channels = 9
kernel = 3
stride = 2
padding = 1
[[layer]]
type = "linear"
out_features = 40
[[layer]]
type = "readout"
out_features = 5
"#;

    /// The fast step (prepared weights, sparse pooling) is bit-identical to the reference step,
    /// with and without dropout, over many steps.
    #[test]
    fn prepared_step_matches_reference_step() {
        let spec = NetworkSpec::from_toml_str(NET, std::path::Path::new("test")).unwrap();
        let net = CompiledNet::new(&spec).unwrap();
        let mut seed = 11;
        let weights: Vec<LayerWeights> = net
            .plan
            .layers
            .iter()
            .map(|l| {
                let mut draw = |n: usize| (0..n).map(|_| 0.9 * lcg(&mut seed)).collect();
                LayerWeights {
                    layer: l.name.clone(),
                    main: draw(l.synapses.weight_count()),
                    shortcut: draw(l.shortcut.map_or(0, |s| s.synapses.weight_count())),
                }
            })
            .collect();
        let prepared = PreparedWeights::new(&net, &weights);
        let masks: Vec<Option<DropoutMask>> = net
            .plan
            .layers
            .iter()
            .map(|l| {
                matches!(l.kind, LayerKind::Conv | LayerKind::Linear).then(|| DropoutMask {
                    keep: (0..l.output.len()).map(|_| lcg(&mut seed) > -0.3).collect(),
                    value: 1.25,
                })
            })
            .collect();
        let n_in = net.plan.input.len();
        for dropout in [None, Some(masks.as_slice())] {
            let (mut a, mut b) = (NetState::new(&net), NetState::new(&net));
            // The reference step materializes every current; the fast one records active
            // neurons inside gathered, fused and sparse-pooling kernels.
            a.record_active();
            b.record_active();
            let mut fired = vec![0usize; net.layers()];
            let (mut active, mut idle) = (vec![0u64; net.layers()], vec![0u64; net.layers()]);
            for _ in 0..30 {
                let pos: Vec<u32> = (0..n_in as u32).filter(|_| lcg(&mut seed) > 0.1).collect();
                let neg: Vec<u32> = (0..n_in as u32).filter(|_| lcg(&mut seed) > 0.4).collect();
                a.step(&net, &weights, &pos, &neg, dropout);
                b.step_prepared(&net, &prepared, &pos, &neg, dropout);
                assert_eq!(a.spikes, b.spikes);
                assert_eq!(a.active, b.active);
                for (l, bits) in a.active.as_ref().unwrap().iter().enumerate() {
                    let n = net.plan.layers[l].output.len();
                    let on = active::count_range(bits, 0, n);
                    active[l] += on;
                    idle[l] += n as u64 - on;
                }
                for (l, s) in a.spikes.iter().enumerate() {
                    fired[l] += s.len();
                }
                for (ma, mb) in a.membrane.iter().zip(&b.membrane) {
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(ma), bits(mb));
                }
            }
            // (The first conv sees dense input: all its neurons are active.)
            assert!(
                active.iter().all(|&a| a > 0) && idle[1..].iter().all(|&i| i > 0),
                "layers have active and idle neurons: {active:?} {idle:?}"
            );
            let last = net.layers() - 1;
            assert!(
                fired[..last].iter().all(|&n| n > 0),
                "every spiking layer must fire for a meaningful test: {fired:?}"
            );
        }
    }
}
