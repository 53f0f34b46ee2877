//! One chip step of one core: input spikes into each atom's current, neuron updates, and the
//! routing of the emitted spikes (local delivery or one batch per destination core).

use super::atom::AtomState;
use super::pending::{Buffers, PendingSet};
use super::scatter::{fixed_update, scatter};
use super::{Batch, Mode, Shared};
use crate::counters::Counts;
use crate::program::CoreProgram;
use snn_core::gather_box::BoxScratch;
use snn_core::neuron;
use snn_core::plan::LayerKind;
use snn_core::plan::Source;

/// Everything one core keeps between chip steps: its atoms' state, received spike lists,
/// counters, modeled busy time, readouts and the buffers of outgoing batches.
pub(super) struct CoreState {
    pub(super) atoms: Vec<AtomState>,
    pub(super) pending: PendingSet,
    pub(super) local: Vec<u32>,
    pub(super) counts: Vec<Counts>,
    /// Modeled busy time, femtoseconds.
    pub(super) busy: u128,
    /// Busy time at the steps that may overlap another replica's: (local step, fs).
    pub(super) edge: Vec<(u64, u64)>,
    pub(super) readouts: Vec<(u64, u32, Vec<f32>)>,
    pub(super) out: Vec<u32>,
    pub(super) outbox: Vec<Vec<u32>>,
    pub(super) dest_list: Vec<u32>,
    /// Scratch of the gathered conv kernel.
    pub(super) gather: BoxScratch,
    /// Scratch bitmap for ordering received spike lists.
    pub(super) order_bits: Vec<u64>,
    /// The batches taken from the inbox this step (kept for its allocation).
    pub(super) received: Vec<Batch>,
}

impl CoreState {
    /// The state of `core` before the first step, in a chip of `n_cores` cores running a
    /// network of `layers` layers.
    pub(super) fn new(
        core: &CoreProgram,
        cfg: &crate::run::RunConfig,
        n_cores: usize,
        layers: usize,
    ) -> Self {
        CoreState {
            atoms: core
                .atoms
                .iter()
                .map(|a| AtomState::new(a.region.len(), cfg.mode, cfg.profile))
                .collect(),
            pending: PendingSet::default(),
            local: Vec::new(),
            counts: vec![Counts::default(); layers],
            busy: 0,
            edge: Vec::new(),
            readouts: Vec::new(),
            out: Vec::new(),
            outbox: vec![Vec::new(); n_cores],
            dest_list: Vec::new(),
            gather: BoxScratch::default(),
            order_bits: Vec::new(),
            received: Vec::new(),
        }
    }
}

/// What the worker stepping a core lends it for the step.
pub(super) struct WorkerIo<'a> {
    /// Packets per mesh link sent at this step.
    pub(super) links: &'a mut [u32],
    /// Batches sent at this step, by destination core.
    pub(super) outbox: &'a mut [Vec<Batch>],
    /// Spare spike-list buffers.
    pub(super) buffers: &'a mut Buffers,
}

/// One chip step of one core; files its batches and packets per mesh link in `io` and returns
/// its modeled busy time (fs).
pub(super) fn step_core(
    sh: &Shared,
    core: &CoreProgram,
    st: &mut CoreState,
    io: &mut WorkerIo,
    tau: u64,
) -> u64 {
    let prog = sh.prog;
    let t = sh.cfg.timesteps as u64;
    let end = sh.samples * t;
    let tm = sh.timing;
    // What every worker sent to this core at the previous step (all are past the barrier; the
    // outboxes of this step's parity are the other ones).
    if tau > 0 {
        for outboxes in &sh.outboxes[((tau - 1) % 2) as usize] {
            let mut by_dest = super::lock(outboxes);
            st.received.append(&mut by_dest[core.core as usize]);
        }
        for b in st.received.drain(..) {
            st.pending.add_owned(b.layer, b.step, b.neurons, io.buffers);
        }
    }
    let mut busy = 0u64;
    for (ai, atom) in core.atoms.iter().enumerate() {
        let l = atom.layer;
        if tau < l as u64 || tau - (l as u64) >= end {
            continue;
        }
        let g = tau - l as u64;
        let (sample, step) = (g / t, g % t);
        let state = &mut st.atoms[ai];
        if step == 0 {
            state.v.fill(0.0);
            state.vq.fill(0);
        }
        let mut synops = 0u64;
        for (k, inp) in atom.inputs.iter().enumerate() {
            match inp.source {
                Source::Input => {
                    let ring = sh.inputs.len() as u64;
                    let slot = sh.inputs[(sample % ring) as usize]
                        .read()
                        .expect("input slot");
                    debug_assert_eq!(slot.sample, sample);
                    let (pos, neg) = &slot.steps[step as usize];
                    synops += scatter(sh, atom, inp, state, pos, 1, None);
                    synops += scatter(sh, atom, inp, state, neg, -1, None);
                    // Host spikes received: once per (core, layer), at its first atom.
                    if !atom.input_reach.is_empty() {
                        st.counts[l].input_spikes += pos
                            .iter()
                            .chain(neg.iter())
                            .filter(|&&p| atom.input_reach[p as usize])
                            .count() as u64;
                    }
                }
                Source::Layer(s) => {
                    if let Some(p) = st.pending.get_mut(s as u32, g) {
                        if !p.ready {
                            // Lists from several senders arrive in any order.
                            p.order(&mut st.order_bits);
                            p.ready = true;
                            st.counts[l].input_spikes += p.neurons.len() as u64;
                        }
                        // The first synapse set finds the current zeroed: it may be gathered.
                        let gather = (k == 0).then_some(&mut st.gather);
                        synops += scatter(sh, atom, inp, state, &p.neurons, 1, gather);
                    }
                }
            }
        }
        // Neuron update.
        st.out.clear();
        let n = atom.region.len();
        let np = &prog.weights.neuron;
        let active = match sh.cfg.mode {
            Mode::Float => state.i.iter().map(|&x| (x != 0.0) as u32).sum::<u32>(),
            Mode::Fixed => state.iq.iter().map(|&x| (x != 0) as u32).sum::<u32>(),
        } as u64;
        match (sh.cfg.mode, atom.kind) {
            (Mode::Float, LayerKind::Readout) => {
                neuron::readout_step(&mut state.v, &mut state.i, np.leak)
            }
            (Mode::Float, LayerKind::Pool) => {
                neuron::if_step(&mut state.v, &mut state.i, np.pool_threshold, &mut st.out)
            }
            (Mode::Float, _) => neuron::lif_step(
                &mut state.v,
                &mut state.i,
                np.leak,
                np.threshold,
                &mut st.out,
            ),
            (Mode::Fixed, kind) => fixed_update(sh, l, kind, state, &mut st.out),
        }
        let c = &mut st.counts[l];
        c.synaptic_ops += synops;
        c.active_updates += active;
        c.idle_updates += n as u64 - active;
        busy += synops * tm.synop + active * tm.active + (n as u64 - active) * tm.idle;
        if atom.kind == LayerKind::Readout {
            if step + 1 == t {
                let vals: Vec<f32> = match sh.cfg.mode {
                    Mode::Float => neuron::readout_output(&state.v, t as u32),
                    Mode::Fixed => {
                        let s = prog.weights.fixed.as_ref().expect("fixed weights").scale[l];
                        state.vq.iter().map(|&v| v as f32 * s / t as f32).collect()
                    }
                };
                st.readouts.push((sample, atom.region.c0, vals));
            }
            continue;
        }
        // Route the spikes: local delivery, or one packet per destination core.
        c.output_spikes += st.out.len() as u64;
        if !state.spikes.is_empty() {
            for &j in &st.out {
                state.spikes[j as usize] += 1;
            }
        }
        let mut local = std::mem::take(&mut st.local);
        local.clear();
        st.dest_list.clear();
        // Integer tallies in the loop; the modeled time is charged once per atom.
        let (mut n_local, mut n_tile, mut n_mesh, mut hops_x, mut hops_y) = (0u64, 0, 0, 0, 0);
        for &j in &st.out {
            let gidx = atom.globals[j as usize];
            let route = &atom.routes[atom.route_of[j as usize] as usize];
            if route.local {
                local.push(gidx);
                n_local += 1;
            }
            n_tile += route.tile;
            n_mesh += route.mesh;
            hops_x += route.hops.0;
            hops_y += route.hops.1;
            for &d in &route.dests {
                let ob = &mut st.outbox[d as usize];
                if ob.is_empty() {
                    st.dest_list.push(d);
                    if ob.capacity() == 0 {
                        *ob = io.buffers.take();
                    }
                }
                ob.push(gidx);
            }
        }
        c.local_deliveries += n_local;
        c.tile_packets += n_tile;
        c.mesh_packets += n_mesh;
        c.hops_x += hops_x;
        c.hops_y += hops_y;
        busy += (n_local + n_tile) * tm.local + hops_x * tm.hop_x + hops_y * tm.hop_y;
        if !local.is_empty() {
            st.pending.add(l as u32, g, &local, io.buffers);
        }
        st.local = local;
        for &d in &st.dest_list {
            let neurons = std::mem::take(&mut st.outbox[d as usize]);
            for &k in prog.links.route(core.core, d) {
                io.links[k as usize] += neurons.len() as u32;
            }
            let batch = Batch {
                layer: l as u32,
                step: g,
                neurons,
            };
            io.outbox[d as usize].push(batch);
        }
    }
    // Drop pending spike lists no layer on this core will read again.
    let last = &prog.last_consumer;
    st.pending
        .retain(|s, g| g + last[s as usize] as u64 > tau, io.buffers);
    st.busy += busy as u128;
    busy
}
