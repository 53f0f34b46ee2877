//! The event-driven engine. Every modeled core is a unit of work owned by one worker thread;
//! spikes travel between cores as batches of packets over crossbeam channels (one receiver per
//! core), and a barrier per step models the chip's time step.
//!
//! Layers are pipelined the way a chip runs them: at chip step τ, layer `l` processes network
//! step `g = τ - l` of the global sample stream (sample `g / T`, step `g % T`), using the spikes
//! layer `l-1` emitted at chip step τ-1. Samples follow each other without a bubble, so a run of
//! N samples takes `N·T + L - 1` chip steps. Every neuron adds its inputs in ascending order of
//! the sending neuron (main synapses, then the shortcut), exactly as `snn_core::step` does, so
//! float mode reproduces the trainer's evaluation bit for bit, whatever the thread count or
//! message arrival order.

use crate::counters::Counts;
use crate::program::{AtomProgram, ChipProgram, CoreProgram};
use crossbeam_channel::{unbounded, Receiver, Sender};
use snn_core::neuron;
use snn_core::plan::{LayerKind, Synapses};
use snn_data::dataset::Dataset;
use snn_data::encode::RateEncoder;
use snn_map::chip::ChipModel;
use snn_map::region::Src;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::RwLock;

/// Arithmetic of the cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// f32, identical to the trainer.
    Float,
    /// Integers in the chip's weight and state bits.
    Fixed,
}

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct RunConfig {
    /// Steps per sample.
    pub timesteps: u32,
    /// Worker threads.
    pub threads: usize,
    /// Arithmetic.
    pub mode: Mode,
}

/// A batch of spike packets from one core to another: all spikes of one layer at one network
/// step that the destination needs.
#[derive(Debug)]
pub struct Batch {
    /// Sending layer.
    pub layer: u32,
    /// Global network step (sample · T + step).
    pub step: u64,
    /// Sending core.
    pub from: u32,
    /// Route length (x, y hops).
    pub hops: (u16, u16),
    /// Neuron indices (channel-last, in the sending layer).
    pub neurons: Vec<u32>,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Predicted class per sample.
    pub predictions: Vec<u8>,
    /// Readout output per sample (`V(T)/T` in model units).
    pub outputs: Vec<Vec<f32>>,
    /// Counters per core, per layer: `per_core_layer[core][layer]`.
    pub per_core_layer: Vec<Vec<Counts>>,
    /// Host-injected input packets (one per destination core per input spike).
    pub input_packets: u64,
    /// Input spikes presented.
    pub input_spikes: u64,
    /// Modeled chip time, seconds: Σ over chip steps of (busiest core + barrier).
    pub chip_seconds: f64,
    /// Modeled busy time of each core, seconds.
    pub core_busy_seconds: Vec<f64>,
    /// Chip steps run.
    pub chip_steps: u64,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
}

struct Pending {
    neurons: Vec<u32>,
    sorted: bool,
}

struct AtomState {
    v: Vec<f32>,
    i: Vec<f32>,
    vq: Vec<i64>,
    iq: Vec<i64>,
}

struct CoreState {
    atoms: Vec<AtomState>,
    pending: HashMap<(u32, u64), Pending>,
    counts: Vec<Counts>,
    busy: f64,
    readouts: Vec<(u64, u32, Vec<f32>)>,
    out: Vec<u32>,
    outbox: Vec<Vec<u32>>,
    dest_list: Vec<u32>,
    rx: Receiver<Batch>,
}

/// Per-step times of the chip model (seconds).
#[derive(Clone, Copy)]
struct Timing {
    synop: f64,
    active: f64,
    idle: f64,
    local: f64,
    hop_x: f64,
    hop_y: f64,
    barrier: f64,
}

impl Timing {
    fn of(chip: &ChipModel) -> Self {
        let ns = 1e-9;
        Timing {
            synop: chip.latency.synop_ns.value * ns,
            active: chip.latency.neuron_active_ns.value * ns,
            idle: chip.latency.neuron_idle_ns.value * ns,
            local: chip.latency.spike_local_ns.value * ns,
            hop_x: chip.latency.hop_x_ns.value * ns,
            hop_y: chip.latency.hop_y_ns.value * ns,
            barrier: chip.latency.barrier_ns.value * ns,
        }
    }
}

/// A reusable spinning barrier (sense-reversing), cheaper than a mutex barrier for the ~µs
/// steps of the simulation.
struct SpinBarrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
}

impl SpinBarrier {
    fn new(n: usize) -> Self {
        SpinBarrier {
            n,
            count: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
        }
    }

    fn wait(&self) {
        let gen = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
        } else {
            let mut spins = 0u32;
            while self.generation.load(Ordering::Acquire) == gen {
                spins += 1;
                if spins < 2000 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// Input spikes of one sample for all steps: (+1 list, -1 list) per step.
struct InputSample {
    sample: u64,
    steps: Vec<(Vec<u32>, Vec<u32>)>,
}

struct Shared<'a> {
    prog: &'a ChipProgram,
    cfg: RunConfig,
    data: &'a Dataset,
    encoder: &'a RateEncoder,
    samples: u64,
    senders: Vec<Sender<Batch>>,
    inputs: Vec<RwLock<InputSample>>,
    barrier: SpinBarrier,
    step_max: [Vec<AtomicU64>; 2],
    timing: Timing,
    input_packets: AtomicU64,
    input_spikes: AtomicU64,
    failed: AtomicBool,
}

impl Shared<'_> {
    fn encode(&self, sample: u64) {
        let ring = self.inputs.len() as u64;
        let mut slot = self.inputs[(sample % ring) as usize]
            .write()
            .expect("input slot");
        slot.sample = sample;
        let image = self.encoder.prepare(self.data.image(sample as usize));
        let t = self.cfg.timesteps as usize;
        slot.steps.resize_with(t, Default::default);
        let (mut n_spk, mut n_pk) = (0u64, 0u64);
        for (s, (pos, neg)) in slot.steps.iter_mut().enumerate() {
            self.encoder.encode_step(&image, sample, s as u32, pos, neg);
            n_spk += (pos.len() + neg.len()) as u64;
            n_pk += pos
                .iter()
                .chain(neg.iter())
                .map(|&p| self.prog.input_dests[p as usize] as u64)
                .sum::<u64>();
        }
        self.input_spikes.fetch_add(n_spk, Ordering::Relaxed);
        self.input_packets.fetch_add(n_pk, Ordering::Relaxed);
    }
}

/// Runs the first `samples` images of `data` through the chip program.
pub fn run(
    prog: &ChipProgram,
    chip: &ChipModel,
    data: &Dataset,
    encoder: &RateEncoder,
    samples: usize,
    cfg: RunConfig,
) -> RunResult {
    let start = std::time::Instant::now();
    let n_cores = prog.cores.len();
    let layers = prog.net.layers();
    let t = cfg.timesteps as u64;
    let samples = samples.min(data.len()) as u64;
    let threads = cfg.threads.clamp(1, n_cores.max(1));
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..n_cores).map(|_| unbounded::<Batch>()).unzip();
    let ring = layers.div_ceil(t as usize) + 3;
    let shared = Shared {
        prog,
        cfg,
        data,
        encoder,
        samples,
        senders,
        inputs: (0..ring)
            .map(|_| {
                RwLock::new(InputSample {
                    sample: u64::MAX,
                    steps: Vec::new(),
                })
            })
            .collect(),
        barrier: SpinBarrier::new(threads),
        step_max: [
            (0..threads).map(|_| AtomicU64::new(0)).collect(),
            (0..threads).map(|_| AtomicU64::new(0)).collect(),
        ],
        timing: Timing::of(chip),
        input_packets: AtomicU64::new(0),
        input_spikes: AtomicU64::new(0),
        failed: AtomicBool::new(false),
    };
    // Static assignment of cores to workers: longest expected load first.
    let mut order: Vec<usize> = (0..n_cores).collect();
    let load: Vec<f64> = prog
        .cores
        .iter()
        .map(|c| c.atoms.iter().map(|a| a.region.len() as f64).sum())
        .collect();
    order.sort_by(|&a, &b| load[b].total_cmp(&load[a]).then(a.cmp(&b)));
    let mut owner_load = vec![0.0f64; threads];
    let mut owned: Vec<Vec<usize>> = vec![Vec::new(); threads];
    for c in order {
        let w = (0..threads)
            .min_by(|&a, &b| owner_load[a].total_cmp(&owner_load[b]))
            .unwrap_or(0);
        owner_load[w] += load[c];
        owned[w].push(c);
    }
    let mut states: Vec<Option<CoreState>> = receivers
        .into_iter()
        .enumerate()
        .map(|(c, rx)| {
            let p = &prog.cores[c];
            Some(CoreState {
                atoms: p
                    .atoms
                    .iter()
                    .map(|a| {
                        let n = a.region.len();
                        match cfg.mode {
                            Mode::Float => AtomState {
                                v: vec![0.0; n],
                                i: vec![0.0; n],
                                vq: Vec::new(),
                                iq: Vec::new(),
                            },
                            Mode::Fixed => AtomState {
                                v: Vec::new(),
                                i: Vec::new(),
                                vq: vec![0; n],
                                iq: vec![0; n],
                            },
                        }
                    })
                    .collect(),
                pending: HashMap::new(),
                counts: vec![Counts::default(); layers],
                busy: 0.0,
                readouts: Vec::new(),
                out: Vec::new(),
                outbox: vec![Vec::new(); n_cores],
                dest_list: Vec::new(),
                rx,
            })
        })
        .collect();
    let total_steps = if samples == 0 {
        0
    } else {
        samples * t + layers as u64 - 1
    };
    if samples > 0 {
        shared.encode(0);
    }
    let mut chip_seconds = 0.0;
    let worker_states: Vec<Vec<(usize, CoreState)>> = owned
        .iter()
        .map(|cs| {
            cs.iter()
                .map(|&c| (c, states[c].take().expect("core state")))
                .collect()
        })
        .collect();
    let finished: Vec<(Vec<(usize, CoreState)>, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = worker_states
            .into_iter()
            .enumerate()
            .map(|(w, mut mine)| {
                let sh = &shared;
                scope.spawn(move || {
                    let mut chip_time = 0.0;
                    for tau in 0..total_steps {
                        if w == 0 && tau % t == 0 {
                            let next = tau / t + 1;
                            if next < sh.samples {
                                sh.encode(next);
                            }
                        }
                        let mut max_dt = 0.0f64;
                        for (c, st) in mine.iter_mut() {
                            let dt = step_core(sh, &sh.prog.cores[*c], st, tau);
                            max_dt = max_dt.max(dt);
                        }
                        sh.step_max[(tau % 2) as usize][w]
                            .store(max_dt.to_bits(), Ordering::Relaxed);
                        sh.barrier.wait();
                        if w == 0 {
                            let m = sh.step_max[(tau % 2) as usize]
                                .iter()
                                .map(|a| f64::from_bits(a.load(Ordering::Relaxed)))
                                .fold(0.0, f64::max);
                            chip_time += m + sh.timing.barrier;
                        }
                    }
                    (mine, chip_time)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(v) => v,
                Err(e) => {
                    shared.failed.store(true, Ordering::Relaxed);
                    std::panic::resume_unwind(e)
                }
            })
            .collect()
    });
    for (mine, ct) in finished {
        chip_seconds += ct;
        for (c, st) in mine {
            states[c] = Some(st);
        }
    }
    let states: Vec<CoreState> = states
        .into_iter()
        .map(|s| s.expect("every core returned"))
        .collect();
    // Assemble readouts.
    let readout_layer = layers - 1;
    let n_out = prog.net.plan.layers[readout_layer].output.len();
    let mut outputs = vec![vec![0.0f32; n_out]; samples as usize];
    for st in &states {
        for (s, c0, vals) in &st.readouts {
            outputs[*s as usize][*c0 as usize..*c0 as usize + vals.len()].copy_from_slice(vals);
        }
    }
    let predictions = outputs.iter().map(|o| neuron::argmax(o) as u8).collect();
    RunResult {
        predictions,
        outputs,
        per_core_layer: states.iter().map(|s| s.counts.clone()).collect(),
        input_packets: shared.input_packets.load(Ordering::Relaxed),
        input_spikes: shared.input_spikes.load(Ordering::Relaxed),
        chip_seconds,
        core_busy_seconds: states.iter().map(|s| s.busy).collect(),
        chip_steps: total_steps,
        wall_seconds: start.elapsed().as_secs_f64(),
    }
}

/// One chip step of one core; returns its modeled busy time.
fn step_core(sh: &Shared, core: &CoreProgram, st: &mut CoreState, tau: u64) -> f64 {
    let prog = sh.prog;
    let t = sh.cfg.timesteps as u64;
    let end = sh.samples * t;
    let tm = sh.timing;
    for b in st.rx.try_iter() {
        let e = st
            .pending
            .entry((b.layer, b.step))
            .or_insert_with(|| Pending {
                neurons: Vec::new(),
                sorted: false,
            });
        e.neurons.extend_from_slice(&b.neurons);
        e.sorted = false;
        let _ = (b.from, b.hops);
    }
    let mut busy = 0.0;
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
        for inp in &atom.inputs {
            match inp.source {
                Src::Input => {
                    let ring = sh.inputs.len() as u64;
                    let slot = sh.inputs[(sample % ring) as usize]
                        .read()
                        .expect("input slot");
                    debug_assert_eq!(slot.sample, sample);
                    let (pos, neg) = &slot.steps[step as usize];
                    synops += scatter(sh, atom, inp.edge, state, pos, 1);
                    synops += scatter(sh, atom, inp.edge, state, neg, -1);
                }
                Src::Layer(s) => {
                    if let Some(p) = st.pending.get_mut(&(s, g)) {
                        if !p.sorted {
                            p.neurons.sort_unstable();
                            p.sorted = true;
                            st.counts[l].input_spikes += p.neurons.len() as u64;
                        }
                        synops += scatter(sh, atom, inp.edge, state, &p.neurons, 1);
                    }
                }
            }
        }
        // Neuron update.
        st.out.clear();
        let n = atom.region.len();
        let np = &prog.weights.neuron;
        let active = match sh.cfg.mode {
            Mode::Float => state.i.iter().filter(|&&x| x != 0.0).count(),
            Mode::Fixed => state.iq.iter().filter(|&&x| x != 0).count(),
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
        busy += synops as f64 * tm.synop
            + active as f64 * tm.active
            + (n as u64 - active) as f64 * tm.idle;
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
        let routes = &prog.routes[l];
        let mut local: Vec<u32> = Vec::new();
        st.dest_list.clear();
        for &j in &st.out {
            let gidx = atom.global(j as usize) as usize;
            if routes.local[gidx] {
                local.push(gidx as u32);
                c.local_deliveries += 1;
                busy += tm.local;
            }
            for &(d, hx, hy) in
                &routes.dests[routes.start[gidx] as usize..routes.start[gidx + 1] as usize]
            {
                if hx == 0 && hy == 0 {
                    c.tile_packets += 1;
                    busy += tm.local;
                } else {
                    c.mesh_packets += 1;
                    c.hops_x += hx as u64;
                    c.hops_y += hy as u64;
                    busy += hx as f64 * tm.hop_x + hy as f64 * tm.hop_y;
                }
                let ob = &mut st.outbox[d as usize];
                if ob.is_empty() {
                    st.dest_list.push(d);
                }
                ob.push(gidx as u32);
            }
        }
        if !local.is_empty() {
            let e = st.pending.entry((l as u32, g)).or_insert_with(|| Pending {
                neurons: Vec::new(),
                sorted: false,
            });
            e.neurons.extend_from_slice(&local);
            e.sorted = false;
        }
        for &d in &st.dest_list {
            let neurons = std::mem::take(&mut st.outbox[d as usize]);
            let (dx, dy) = prog.cores[d as usize].tile;
            let hops = (
                dx.abs_diff(core.tile.0) as u16,
                dy.abs_diff(core.tile.1) as u16,
            );
            // A receiver only disappears when its worker panicked; the run is failing anyway.
            let _ = sh.senders[d as usize].send(Batch {
                layer: l as u32,
                step: g,
                from: core.core,
                hops,
                neurons,
            });
        }
    }
    // Drop pending spike lists no layer on this core will read again.
    let max_consumer = &prog.net;
    st.pending.retain(|&(s, g), _| {
        let last = max_consumer
            .edges_from(Src::Layer(s))
            .map(|e| e.target as u64)
            .max()
            .unwrap_or(0);
        g + last > tau
    });
    st.busy += busy;
    busy
}

/// Adds the spikes `spikes` of one source (value ±1) into the atom's current through edge
/// `edge`, restricted to the atom's neurons; returns the synaptic operations done.
fn scatter(
    sh: &Shared,
    atom: &AtomProgram,
    edge: usize,
    st: &mut AtomState,
    spikes: &[u32],
    value: i32,
) -> u64 {
    if spikes.is_empty() {
        return 0;
    }
    let prog = sh.prog;
    let e = &prog.net.edges[edge];
    let r = atom.region;
    let cb = (r.c1 - r.c0) as usize;
    let rw = (r.x1 - r.x0) as usize;
    let fixed = sh.cfg.mode == Mode::Fixed;
    let wf = &prog.weights.float[edge];
    let fx = prog.weights.fixed.as_ref();
    let vf = value as f32;
    let mut ops = 0u64;
    let add_row = |st: &mut AtomState, o: usize, w_off: usize| {
        if fixed {
            let wq = &fx.expect("fixed weights").weights[edge][w_off..w_off + cb];
            for (acc, &w) in st.iq[o..o + cb].iter_mut().zip(wq) {
                *acc += (value * w) as i64;
            }
        } else {
            let w = &wf[w_off..w_off + cb];
            if value == 1 {
                for (acc, &w) in st.i[o..o + cb].iter_mut().zip(w) {
                    *acc += w;
                }
            } else {
                for (acc, &w) in st.i[o..o + cb].iter_mut().zip(w) {
                    *acc += vf * w;
                }
            }
        }
    };
    match e.synapses {
        Synapses::Conv {
            kernel,
            input,
            output,
            ..
        } => {
            let geo = prog.geometry[edge].as_ref().expect("conv geometry");
            let (cin, cout) = (input.channels, output.channels);
            for &s in spikes {
                let s = s as usize;
                let (ci, pix) = (s % cin, s / cin);
                let (iy, ix) = (pix / input.width, pix % input.width);
                let cols = geo.cols(ix);
                for &(ky, oy) in geo.rows(iy) {
                    if oy < r.y0 || oy >= r.y1 {
                        continue;
                    }
                    let row = (oy - r.y0) as usize * rw;
                    for &(kx, ox) in cols {
                        if ox < r.x0 || ox >= r.x1 {
                            continue;
                        }
                        let o = (row + (ox - r.x0) as usize) * cb;
                        let w_off = ((ky as usize * kernel + kx as usize) * cin + ci) * cout
                            + r.c0 as usize;
                        add_row(st, o, w_off);
                        ops += cb as u64;
                    }
                }
            }
        }
        Synapses::Dense { outputs, .. } => {
            for &s in spikes {
                add_row(st, 0, s as usize * outputs + r.c0 as usize);
                ops += cb as u64;
            }
        }
        Synapses::AvgPool2 { input, .. } | Synapses::Subsample { input, .. } => {
            let stride = match e.synapses {
                Synapses::Subsample { stride, .. } => stride,
                _ => 2,
            };
            let pool = matches!(e.synapses, Synapses::AvgPool2 { .. });
            let unit = fx.map_or(0, |f| f.unit[edge]) as i64;
            for &s in spikes {
                let s = s as usize;
                let c = (s % input.channels) as u32;
                let pix = s / input.channels;
                let (iy, ix) = (pix / input.width, pix % input.width);
                if !pool && (iy % stride != 0 || ix % stride != 0) {
                    continue;
                }
                let (oy, ox) = ((iy / stride) as u32, (ix / stride) as u32);
                if !r.contains(oy, ox, c) {
                    continue;
                }
                let o =
                    ((oy - r.y0) as usize * rw + (ox - r.x0) as usize) * cb + (c - r.c0) as usize;
                if fixed {
                    st.iq[o] += value as i64 * unit;
                } else if pool {
                    st.i[o] += 0.25 * vf;
                } else {
                    st.i[o] += vf;
                }
            }
        }
    }
    ops
}

/// Integer neuron update of one atom.
fn fixed_update(sh: &Shared, l: usize, kind: LayerKind, st: &mut AtomState, out: &mut Vec<u32>) {
    let f = sh.prog.weights.fixed.as_ref().expect("fixed weights");
    let (th, leak, vmax) = (f.threshold[l], f.leak_q15, f.vmax);
    for (j, (v, i)) in st.vq.iter_mut().zip(st.iq.iter_mut()).enumerate() {
        let u = (*v + *i).clamp(-vmax, vmax);
        *i = 0;
        match kind {
            LayerKind::Readout => *v = ((u * leak) >> 15).clamp(-vmax, vmax),
            LayerKind::Pool => {
                if u > th {
                    *v = 0;
                    out.push(j as u32);
                } else {
                    *v = u;
                }
            }
            _ => {
                if u > th {
                    *v = 0;
                    out.push(j as u32);
                } else {
                    *v = (u * leak) >> 15;
                }
            }
        }
    }
}
