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
use crate::program::{AtomProgram, ChipProgram, CoreProgram, InputProgram};
use crossbeam_channel::{unbounded, Receiver, Sender};
use snn_core::gather_box::{conv_gather_box, BoxScratch, OutBox};
use snn_core::neuron;
use snn_core::plan::{LayerKind, Synapses};
use snn_core::simd;
use snn_data::dataset::Dataset;
use snn_data::encode::RateEncoder;
use snn_map::chip::ChipModel;
use snn_map::region::Src;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

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
    /// Independent chip replicas, each running a contiguous share of the samples on
    /// `threads / replicas` workers (1: one chip, its cores spread over all workers).
    pub replicas: usize,
    /// Arithmetic.
    pub mode: Mode,
    /// Count spikes per neuron (for an activity profile).
    pub profile: bool,
}

/// How a run uses the machine's threads: `threads` workers in all, over `replicas` independent
/// chip copies (see [`run`]). A plain thread count means one chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workers {
    /// Worker threads in all.
    pub threads: usize,
    /// Chip replicas sharing them (at most `threads`).
    pub replicas: usize,
}

impl From<usize> for Workers {
    fn from(threads: usize) -> Self {
        Workers {
            threads,
            replicas: 1,
        }
    }
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
    /// Spikes per neuron of every layer (channel-last) and per input pixel, when profiling.
    pub neuron_spikes: Option<(Vec<u64>, Vec<Vec<u64>>)>,
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

/// Spike lists a core has received (or produced for itself), by (layer, network step).
/// A handful are alive at a time, so a vector beats a hash map; emptied buffers are kept for
/// reuse.
#[derive(Default)]
struct PendingSet {
    entries: Vec<Pending>,
    spare: Vec<Vec<u32>>,
}

struct Pending {
    layer: u32,
    step: u64,
    neurons: Vec<u32>,
    /// `neurons` is ascending (every append kept the order), so no sort is needed.
    ascending: bool,
    /// Sorted and counted by its first reader.
    ready: bool,
}

impl Pending {
    fn new(layer: u32, step: u64, neurons: Vec<u32>) -> Self {
        Pending {
            layer,
            step,
            ascending: neurons.is_sorted(),
            neurons,
            ready: false,
        }
    }

    fn append(&mut self, more: &[u32]) {
        self.ascending &= self
            .neurons
            .last()
            .is_none_or(|&a| more.first().is_none_or(|&b| a < b))
            && more.is_sorted();
        self.neurons.extend_from_slice(more);
        self.ready = false;
    }

    /// Puts `neurons` in ascending order (lists from several senders arrive in any order):
    /// through a bitmap of their span when it is short, else by sorting. A neuron spikes at
    /// most once per step, so the entries are distinct.
    fn order(&mut self, bits: &mut Vec<u64>) {
        if self.ascending {
            return;
        }
        self.ascending = true;
        let v = &mut self.neurons;
        let (lo, hi) = v
            .iter()
            .fold((u32::MAX, 0), |(a, b), &x| (a.min(x), b.max(x)));
        let words = ((hi - lo) / 64 + 1) as usize;
        if words > 2 * v.len() {
            v.sort_unstable();
            return;
        }
        bits.clear();
        bits.resize(words, 0);
        for &x in v.iter() {
            let d = x - lo;
            bits[(d / 64) as usize] |= 1 << (d % 64);
        }
        v.clear();
        for (w, &word) in bits.iter().enumerate() {
            let mut m = word;
            while m != 0 {
                v.push(lo + (w * 64) as u32 + m.trailing_zeros());
                m &= m - 1;
            }
        }
    }
}

impl PendingSet {
    fn get_mut(&mut self, layer: u32, step: u64) -> Option<&mut Pending> {
        self.entries
            .iter_mut()
            .find(|p| p.layer == layer && p.step == step)
    }

    fn add(&mut self, layer: u32, step: u64, neurons: &[u32]) {
        if let Some(e) = self.get_mut(layer, step) {
            e.append(neurons);
        } else {
            let mut buf = self.spare.pop().unwrap_or_default();
            buf.extend_from_slice(neurons);
            self.entries.push(Pending::new(layer, step, buf));
        }
    }

    fn retain(&mut self, keep: impl Fn(u32, u64) -> bool, pool: &BufferPool) {
        let mut i = 0;
        while i < self.entries.len() {
            if keep(self.entries[i].layer, self.entries[i].step) {
                i += 1;
            } else {
                let p = self.entries.swap_remove(i);
                self.recycle(p.neurons, pool);
            }
        }
    }

    /// Takes a received batch's spike list: adopted as is when it opens a new (layer, step)
    /// entry, else appended and its buffer recycled.
    fn add_owned(&mut self, layer: u32, step: u64, neurons: Vec<u32>, pool: &BufferPool) {
        if let Some(e) = self.get_mut(layer, step) {
            e.append(&neurons);
            self.recycle(neurons, pool);
        } else {
            self.entries.push(Pending::new(layer, step, neurons));
        }
    }

    /// A buffer for an outgoing batch: a spare one of this core, else one from the pool.
    fn buffer(&mut self, pool: &BufferPool) -> Vec<u32> {
        self.spare
            .pop()
            .or_else(|| pool.rx.try_recv().ok())
            .unwrap_or_else(|| Vec::with_capacity(64))
    }

    /// Keeps an emptied buffer for reuse: here, or in the pool when this core has enough.
    fn recycle(&mut self, mut v: Vec<u32>, pool: &BufferPool) {
        v.clear();
        if self.spare.len() < 16 {
            self.spare.push(v);
        } else {
            // A full pool drops the buffer.
            let _ = pool.tx.try_send(v);
        }
    }
}

/// Emptied spike-list buffers shared by all cores: cores that mostly send take them, cores
/// that mostly receive give them back, so batches rarely allocate.
struct BufferPool {
    tx: Sender<Vec<u32>>,
    rx: Receiver<Vec<u32>>,
}

impl BufferPool {
    fn new() -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1 << 14);
        BufferPool { tx, rx }
    }
}

struct AtomState {
    v: Vec<f32>,
    i: Vec<f32>,
    vq: Vec<i64>,
    iq: Vec<i64>,
    /// Spikes per local neuron (only when profiling).
    spikes: Vec<u64>,
}

struct CoreState {
    atoms: Vec<AtomState>,
    pending: PendingSet,
    local: Vec<u32>,
    counts: Vec<Counts>,
    /// Modeled busy time, femtoseconds.
    busy: u128,
    /// Busy time at the steps that may overlap another replica's: (local step, fs).
    edge: Vec<(u64, u64)>,
    readouts: Vec<(u64, u32, Vec<f32>)>,
    out: Vec<u32>,
    outbox: Vec<Vec<u32>>,
    dest_list: Vec<u32>,
    /// Scratch of the gathered conv kernel.
    gather: BoxScratch,
    /// Scratch bitmap for ordering received spike lists.
    order_bits: Vec<u64>,
    rx: Receiver<Batch>,
}

/// Per-event times of the chip model in integer femtoseconds: modeled times are sums and
/// maxima of integers, exact in any grouping, so they cannot depend on how the work is split
/// between workers or chip replicas.
#[derive(Clone, Copy)]
struct Timing {
    synop: u64,
    active: u64,
    idle: u64,
    local: u64,
    hop_x: u64,
    hop_y: u64,
    barrier: u64,
}

/// Femtoseconds per second.
const FS: f64 = 1e15;

impl Timing {
    fn of(chip: &ChipModel) -> Self {
        let fs = |ns: f64| (ns * 1e6).round() as u64;
        let l = &chip.latency;
        Timing {
            synop: fs(l.synop_ns.value),
            active: fs(l.neuron_active_ns.value),
            idle: fs(l.neuron_idle_ns.value),
            local: fs(l.spike_local_ns.value),
            hop_x: fs(l.hop_x_ns.value),
            hop_y: fs(l.hop_y_ns.value),
            barrier: fs(l.barrier_ns.value),
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
    /// Data-set index of local sample 0 (this replica's share starts there).
    first: u64,
    senders: Vec<Sender<Batch>>,
    pool: BufferPool,
    inputs: Vec<RwLock<InputSample>>,
    barrier: SpinBarrier,
    step_max: [Vec<AtomicU64>; 2],
    timing: Timing,
    input_packets: AtomicU64,
    input_spikes: AtomicU64,
    /// Input spikes per pixel (only when profiling; written by the one encoding worker).
    input_counts: Mutex<Vec<u64>>,
}

impl Shared<'_> {
    fn encode(&self, sample: u64) {
        let ring = self.inputs.len() as u64;
        let mut slot = self.inputs[(sample % ring) as usize]
            .write()
            .expect("input slot");
        slot.sample = sample;
        let index = self.first + sample;
        let image = self.encoder.prepare(self.data.image(index as usize));
        let t = self.cfg.timesteps as usize;
        slot.steps.resize_with(t, Default::default);
        let (mut n_spk, mut n_pk) = (0u64, 0u64);
        for (s, (pos, neg)) in slot.steps.iter_mut().enumerate() {
            self.encoder.encode_step(&image, index, s as u32, pos, neg);
            n_spk += (pos.len() + neg.len()) as u64;
            n_pk += pos
                .iter()
                .chain(neg.iter())
                .map(|&p| self.prog.input_dests[p as usize] as u64)
                .sum::<u64>();
        }
        self.input_spikes.fetch_add(n_spk, Ordering::Relaxed);
        self.input_packets.fetch_add(n_pk, Ordering::Relaxed);
        if self.cfg.profile {
            let mut counts = self.input_counts.lock().unwrap_or_else(|e| e.into_inner());
            for (pos, neg) in &slot.steps {
                for &p in pos.iter().chain(neg.iter()) {
                    counts[p as usize] += 1;
                }
            }
        }
    }
}

/// Runs the first `samples` images of `data` through the chip program: on one chip whose
/// cores are spread over `cfg.threads` workers, or, with `cfg.replicas` > 1, on that many
/// copies of the chip, each running a contiguous share of the samples on its own workers. The
/// copies are a way to use the workers, not a different chip: every result, the modeled chip
/// time included, is that of one chip streaming all samples (the steps where one copy's
/// pipeline drains while the next one's fills are merged core by core, in exact integer
/// time), whatever `threads` and `replicas` are.
pub fn run(
    prog: &ChipProgram,
    chip: &ChipModel,
    data: &Dataset,
    encoder: &RateEncoder,
    samples: usize,
    cfg: RunConfig,
) -> RunResult {
    let start = std::time::Instant::now();
    let samples = samples.min(data.len());
    let threads = cfg.threads.max(1);
    let replicas = cfg.replicas.clamp(1, threads).min(samples.max(1));
    let parts: Vec<Part> = if replicas == 1 {
        vec![run_part(prog, chip, data, encoder, 0, samples, cfg)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..replicas)
                .map(|r| {
                    let (lo, hi) = (r * samples / replicas, (r + 1) * samples / replicas);
                    // Workers left over after an even split go to the first replicas.
                    let workers = threads / replicas + usize::from(r < threads % replicas);
                    let part = RunConfig {
                        threads: workers,
                        replicas: 1,
                        ..cfg
                    };
                    scope.spawn(move || run_part(prog, chip, data, encoder, lo, hi - lo, part))
                })
                .collect();
            join_all(handles)
        })
    };
    // The chip steps where replicas meet (one's pipeline drain, the next one's fill) are
    // charged as one chip runs them: per core the work of both, then the busiest core.
    let barrier = Timing::of(chip).barrier as u128;
    let mut chip_fs: u128 = parts.iter().map(|p| p.interior_fs).sum();
    let mut edge: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for p in &parts {
        for (&g, busy) in &p.edge {
            let e = edge.entry(g).or_insert_with(|| vec![0; busy.len()]);
            for (a, b) in e.iter_mut().zip(busy) {
                *a += b;
            }
        }
    }
    chip_fs += edge
        .values()
        .map(|busy| busy.iter().copied().max().unwrap_or(0) as u128 + barrier)
        .sum::<u128>();
    let mut busy_fs = vec![0u128; prog.cores.len()];
    for p in &parts {
        for (a, b) in busy_fs.iter_mut().zip(&p.busy_fs) {
            *a += b;
        }
    }
    let mut all = parts.into_iter().map(|p| p.result);
    let mut out = all.next().expect("at least one replica");
    for p in all {
        out.predictions.extend(p.predictions);
        out.outputs.extend(p.outputs);
        if let (Some((ai, al)), Some((bi, bl))) = (&mut out.neuron_spikes, p.neuron_spikes) {
            for (a, b) in ai.iter_mut().zip(bi) {
                *a += b;
            }
            for (a, b) in al.iter_mut().flatten().zip(bl.into_iter().flatten()) {
                *a += b;
            }
        }
        for (a, b) in out.per_core_layer.iter_mut().zip(&p.per_core_layer) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        out.input_packets += p.input_packets;
        out.input_spikes += p.input_spikes;
    }
    out.chip_seconds = chip_fs as f64 / FS;
    out.core_busy_seconds = busy_fs.iter().map(|&b| b as f64 / FS).collect();
    out.chip_steps = if samples == 0 {
        0
    } else {
        samples as u64 * cfg.timesteps as u64 + prog.net.layers() as u64 - 1
    };
    out.wall_seconds = start.elapsed().as_secs_f64();
    out
}

/// What one chip (replica) returns: its result without modeled times, and the pieces of
/// them to merge.
struct Part {
    /// Everything but `chip_seconds`, `core_busy_seconds`, `chip_steps`.
    result: RunResult,
    /// Σ over the steps no other replica can share of (busiest core + barrier), fs.
    interior_fs: u128,
    /// Per global chip step that another replica may share: busy time of every core, fs.
    edge: BTreeMap<u64, Vec<u64>>,
    /// Busy time per core, fs.
    busy_fs: Vec<u128>,
}

/// Joins scoped threads in order, re-raising a worker's panic.
fn join_all<T>(handles: Vec<std::thread::ScopedJoinHandle<'_, T>>) -> Vec<T> {
    handles
        .into_iter()
        .map(|h| match h.join() {
            Ok(v) => v,
            Err(e) => std::panic::resume_unwind(e),
        })
        .collect()
}

/// One chip running samples `first .. first + samples` of `data` (see [`run`]).
fn run_part(
    prog: &ChipProgram,
    chip: &ChipModel,
    data: &Dataset,
    encoder: &RateEncoder,
    first: usize,
    samples: usize,
    cfg: RunConfig,
) -> Part {
    let start = std::time::Instant::now();
    let n_cores = prog.cores.len();
    let layers = prog.net.layers();
    let t = cfg.timesteps as u64;
    let samples = samples.min(data.len().saturating_sub(first)) as u64;
    let threads = cfg.threads.clamp(1, n_cores.max(1));
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..n_cores).map(|_| unbounded::<Batch>()).unzip();
    let ring = layers.div_ceil(t as usize) + 3;
    let shared = Shared {
        prog,
        cfg,
        data,
        encoder,
        samples,
        first: first as u64,
        senders,
        pool: BufferPool::new(),
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
        input_counts: Mutex::new(if cfg.profile {
            vec![0; prog.net.plan.input.len()]
        } else {
            Vec::new()
        }),
    };
    // Workers claim cores dynamically every step, heaviest expected load first (a core's
    // results do not depend on which worker runs it).
    let mut order: Vec<usize> = (0..n_cores).collect();
    let load: Vec<f64> = prog
        .cores
        .iter()
        .map(|c| {
            c.expected_synops + 2.0 * c.atoms.iter().map(|a| a.region.len() as f64).sum::<f64>()
        })
        .collect();
    order.sort_by(|&a, &b| load[b].total_cmp(&load[a]).then(a.cmp(&b)));
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
                                spikes: if cfg.profile { vec![0; n] } else { Vec::new() },
                            },
                            Mode::Fixed => AtomState {
                                v: Vec::new(),
                                i: Vec::new(),
                                vq: vec![0; n],
                                iq: vec![0; n],
                                spikes: if cfg.profile { vec![0; n] } else { Vec::new() },
                            },
                        }
                    })
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
    let cells: Vec<Mutex<CoreState>> = order
        .iter()
        .map(|&c| Mutex::new(states[c].take().expect("core state")))
        .collect();
    let claims = [AtomicUsize::new(0), AtomicUsize::new(0)];
    // A progress line for people watching a long run (not when stderr is a file or pipe).
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr()) && samples >= 500;
    // Steps that may overlap a neighbouring replica's: the pipeline fill and drain.
    let fill = layers as u64 - 1;
    let drain = samples * t;
    let times: Vec<u128> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                let (sh, cells, order, claims) = (&shared, &cells, &order, &claims);
                scope.spawn(move || {
                    let mut chip_time: u128 = 0;
                    for tau in 0..total_steps {
                        let parity = (tau % 2) as usize;
                        if w == 0 {
                            // Nobody touches the other counter before the barrier of this step.
                            claims[1 - parity].store(0, Ordering::Relaxed);
                            if tau % t == 0 {
                                let next = tau / t + 1;
                                if next < sh.samples {
                                    sh.encode(next);
                                }
                                if progress && (tau / t).is_multiple_of(100) {
                                    eprint!("\rsnn-sim: sample {} / {}", tau / t, sh.samples);
                                }
                            }
                        }
                        let edge = tau < fill || tau >= drain;
                        let mut max_dt = 0u64;
                        loop {
                            let k = claims[parity].fetch_add(1, Ordering::AcqRel);
                            if k >= cells.len() {
                                break;
                            }
                            let mut st = cells[k].lock().unwrap_or_else(|e| e.into_inner());
                            let dt = step_core(sh, &sh.prog.cores[order[k]], &mut st, tau);
                            if edge {
                                st.edge.push((tau, dt));
                            }
                            max_dt = max_dt.max(dt);
                        }
                        sh.step_max[parity][w].store(max_dt, Ordering::Relaxed);
                        sh.barrier.wait();
                        if w == 0 && !edge {
                            let m = sh.step_max[parity]
                                .iter()
                                .map(|a| a.load(Ordering::Relaxed))
                                .max()
                                .unwrap_or(0);
                            chip_time += m as u128 + sh.timing.barrier as u128;
                        }
                    }
                    chip_time
                })
            })
            .collect();
        join_all(handles)
    });
    if progress {
        eprint!("\r{:60}\r", "");
    }
    let interior_fs = times[0];
    for (k, cell) in cells.into_iter().enumerate() {
        states[order[k]] = Some(cell.into_inner().unwrap_or_else(|e| e.into_inner()));
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
    let neuron_spikes = cfg.profile.then(|| {
        let mut per_layer: Vec<Vec<u64>> = prog
            .net
            .plan
            .layers
            .iter()
            .map(|l| vec![0; l.output.len()])
            .collect();
        for (core, st) in prog.cores.iter().zip(&states) {
            for (a, s) in core.atoms.iter().zip(&st.atoms) {
                for (j, &n) in s.spikes.iter().enumerate() {
                    per_layer[a.layer][a.globals[j] as usize] += n;
                }
            }
        }
        let input = std::mem::take(
            &mut *shared
                .input_counts
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        (input, per_layer)
    });
    let mut edge: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (c, st) in states.iter().enumerate() {
        for &(tau, b) in &st.edge {
            edge.entry(first as u64 * t + tau)
                .or_insert_with(|| vec![0; n_cores])[c] += b;
        }
    }
    Part {
        result: RunResult {
            predictions,
            neuron_spikes,
            outputs,
            per_core_layer: states.iter().map(|s| s.counts.clone()).collect(),
            input_packets: shared.input_packets.load(Ordering::Relaxed),
            input_spikes: shared.input_spikes.load(Ordering::Relaxed),
            chip_seconds: 0.0,
            core_busy_seconds: Vec::new(),
            chip_steps: 0,
            wall_seconds: start.elapsed().as_secs_f64(),
        },
        interior_fs,
        edge,
        busy_fs: states.iter().map(|s| s.busy).collect(),
    }
}

/// One chip step of one core; returns its modeled busy time (fs).
fn step_core(sh: &Shared, core: &CoreProgram, st: &mut CoreState, tau: u64) -> u64 {
    let prog = sh.prog;
    let t = sh.cfg.timesteps as u64;
    let end = sh.samples * t;
    let tm = sh.timing;
    while let Ok(b) = st.rx.try_recv() {
        st.pending.add_owned(b.layer, b.step, b.neurons, &sh.pool);
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
                Src::Input => {
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
                Src::Layer(s) => {
                    if let Some(p) = st.pending.get_mut(s, g) {
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
        let routes = &prog.routes[l];
        let mut local = std::mem::take(&mut st.local);
        local.clear();
        st.dest_list.clear();
        // Integer tallies in the loop; the modeled time is charged once per atom.
        let (mut n_local, mut n_tile, mut n_mesh, mut hops_x, mut hops_y) = (0u64, 0, 0, 0, 0);
        for &j in &st.out {
            let gidx = atom.globals[j as usize] as usize;
            if routes.local[gidx] {
                local.push(gidx as u32);
                n_local += 1;
            }
            for &(d, hx, hy) in
                &routes.dests[routes.start[gidx] as usize..routes.start[gidx + 1] as usize]
            {
                if hx == 0 && hy == 0 {
                    n_tile += 1;
                } else {
                    n_mesh += 1;
                    hops_x += hx as u64;
                    hops_y += hy as u64;
                }
                let ob = &mut st.outbox[d as usize];
                if ob.is_empty() {
                    st.dest_list.push(d);
                    if ob.capacity() == 0 {
                        *ob = st.pending.buffer(&sh.pool);
                    }
                }
                ob.push(gidx as u32);
            }
        }
        c.local_deliveries += n_local;
        c.tile_packets += n_tile;
        c.mesh_packets += n_mesh;
        c.hops_x += hops_x;
        c.hops_y += hops_y;
        busy += (n_local + n_tile) * tm.local + hops_x * tm.hop_x + hops_y * tm.hop_y;
        if !local.is_empty() {
            st.pending.add(l as u32, g, &local);
        }
        st.local = local;
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
    let last = &prog.last_consumer;
    st.pending
        .retain(|s, g| g + last[s as usize] as u64 > tau, &sh.pool);
    st.busy += busy as u128;
    busy
}

/// Adds the spikes `spikes` of one source (value ±1) into the atom's current through edge
/// `edge`, restricted to the atom's neurons; returns the synaptic operations done. Per target
/// neuron, inputs are added in the order of `spikes` (ascending), as in `snn_core::step`.
/// `gather` is given when the atom's current is still all zero: a dense enough stride-1 conv
/// input is then gathered per output neuron instead (bit-identical, see
/// [`snn_core::gather_box`]).
fn scatter(
    sh: &Shared,
    atom: &AtomProgram,
    inp: &InputProgram,
    st: &mut AtomState,
    spikes: &[u32],
    value: i32,
    gather: Option<&mut BoxScratch>,
) -> u64 {
    // Compiled for AVX2 when the CPU has it, so the row kernels inline and the fixed-point
    // loops vectorize.
    snn_core::dispatch_avx2!(scatter_body(sh, atom, inp, st, spikes, value, gather))
}

#[inline(always)]
fn scatter_body(
    sh: &Shared,
    atom: &AtomProgram,
    inp: &InputProgram,
    st: &mut AtomState,
    spikes: &[u32],
    value: i32,
    gather: Option<&mut BoxScratch>,
) -> u64 {
    let (lo, hi) = inp.src_range;
    let all_spikes = spikes.len();
    let spikes = &spikes[spikes.partition_point(|&s| s < lo)..spikes.partition_point(|&s| s < hi)];
    if spikes.is_empty() {
        return 0;
    }
    let edge = inp.edge;
    let prog = sh.prog;
    let e = &prog.net.edges[edge];
    let r = atom.region;
    let cb = (r.c1 - r.c0) as usize;
    let rw = (r.x1 - r.x0) as usize;
    let fixed = sh.cfg.mode == Mode::Fixed;
    let vf = value as f32;
    let mut ops = 0u64;
    let coords = &prog.coords[match e.source {
        Src::Input => 0,
        Src::Layer(l) => l as usize + 1,
    }];
    match e.synapses {
        Synapses::Conv { kernel, output, .. } => {
            let geo = prog.geometry[edge].as_ref().expect("conv geometry");
            if let Some(scratch) = gather.filter(|_| {
                !fixed && geo.stride == 1 && snn_core::gather::worthwhile(geo, all_spikes)
            }) {
                let b = OutBox {
                    y0: r.y0 as usize,
                    y1: r.y1 as usize,
                    x0: r.x0 as usize,
                    x1: r.x1 as usize,
                    c0: r.c0 as usize,
                    c1: r.c1 as usize,
                };
                let wf = &prog.weights.float[edge];
                return conv_gather_box(geo, wf, spikes, vf, b, &mut st.i, scratch);
            }
            let cout = output.channels;
            let full = cb == cout;
            let wf = &prog.weights.float[edge];
            let mut offs = [0usize; simd::MAX_ROWS];
            let mut i = 0;
            while i < spikes.len() {
                // Spikes of one pixel (consecutive, ascending channel) share their targets.
                let [py, px, _] = coords[spikes[i] as usize];
                let mut g = 1;
                while g < simd::MAX_ROWS && i + g < spikes.len() && {
                    let [y, x, _] = coords[spikes[i + g] as usize];
                    y == py && x == px
                } {
                    g += 1;
                }
                let group = &spikes[i..i + g];
                i += g;
                let (iy, ix) = (py as usize, px as usize);
                let (ox_lo, pos_lo, n) = geo.col_run(ix);
                let (a, b) = (ox_lo.max(r.x0), (ox_lo + n).min(r.x1));
                if a >= b {
                    continue;
                }
                let cols = (b - a) as usize;
                for &(ky, oy) in geo.rows(iy) {
                    if oy < r.y0 || oy >= r.y1 {
                        continue;
                    }
                    let w0 = (ky as usize * kernel + (pos_lo + a - ox_lo) as usize) * cout;
                    let o0 = ((oy - r.y0) as usize * rw + (a - r.x0) as usize) * cb;
                    ops += (cols * cb * g) as u64;
                    if fixed {
                        for &s in group {
                            let ci = coords[s as usize][2] as usize;
                            let base = ci * kernel * kernel * cout + w0;
                            add_fixed(sh, edge, st, o0, base, cols, cb, cout, r.c0 as usize, value);
                        }
                        continue;
                    }
                    for (o, &s) in offs.iter_mut().zip(group) {
                        *o = coords[s as usize][2] as usize * kernel * kernel * cout + w0;
                    }
                    if full {
                        simd::accumulate_rows(&mut st.i[o0..o0 + cols * cout], wf, &offs[..g], vf);
                    } else {
                        for j in 0..cols {
                            let mut o2 = offs;
                            for x in &mut o2[..g] {
                                *x += j * cout + r.c0 as usize;
                            }
                            let o = o0 + j * cb;
                            simd::accumulate_rows(&mut st.i[o..o + cb], wf, &o2[..g], vf);
                        }
                    }
                }
            }
        }
        Synapses::Dense { outputs, .. } => {
            let wf = &prog.weights.float[edge];
            for group in spikes.chunks(simd::MAX_ROWS) {
                ops += (cb * group.len()) as u64;
                if fixed {
                    for &s in group {
                        add_fixed(
                            sh,
                            edge,
                            st,
                            0,
                            s as usize * outputs,
                            1,
                            cb,
                            0,
                            r.c0 as usize,
                            value,
                        );
                    }
                    continue;
                }
                let mut offs = [0usize; simd::MAX_ROWS];
                for (o, &s) in offs.iter_mut().zip(group) {
                    *o = s as usize * outputs + r.c0 as usize;
                }
                simd::accumulate_rows(&mut st.i[..cb], wf, &offs[..group.len()], vf);
            }
        }
        Synapses::AvgPool2 { input, .. } | Synapses::Subsample { input, .. } => {
            let stride = match e.synapses {
                Synapses::Subsample { stride, .. } => stride,
                _ => 2,
            };
            let pool = matches!(e.synapses, Synapses::AvgPool2 { .. });
            let unit = prog.weights.fixed.as_ref().map_or(0, |f| f.unit[edge]) as i64;
            let q = 0.25 * vf;
            // Only the spikes of the box's field: per input row, one run of the (channel-last,
            // ascending) list covering the box's input columns.
            let (w_in, cin) = (input.width, input.channels);
            let rows_per_out = if pool { 2 } else { 1 };
            let (ix0, ix1) = (
                r.x0 as usize * stride,
                ((r.x1 as usize - 1) * stride + rows_per_out).min(w_in),
            );
            let mut from = 0;
            for oy in r.y0 as usize..r.y1 as usize {
                for iy in oy * stride..(oy * stride + rows_per_out).min(input.height) {
                    let lo = ((iy * w_in + ix0) * cin) as u32;
                    let hi = ((iy * w_in + ix1) * cin) as u32;
                    let a = from + spikes[from..].partition_point(|&s| s < lo);
                    let b = a + spikes[a..].partition_point(|&s| s < hi);
                    from = b;
                    for &s in &spikes[a..b] {
                        let [_, ix, c] = coords[s as usize];
                        let (ix, c) = (ix as usize, c as u32);
                        if c < r.c0 || c >= r.c1 || (!pool && ix % stride != 0) {
                            continue;
                        }
                        let ox = ix / stride;
                        let o = ((oy - r.y0 as usize) * rw + (ox - r.x0 as usize)) * cb
                            + (c - r.c0) as usize;
                        if fixed {
                            st.iq[o] += value as i64 * unit;
                        } else if pool {
                            st.i[o] += q;
                        } else {
                            st.i[o] += vf;
                        }
                    }
                }
            }
        }
    }
    ops
}

/// Integer accumulate of `cols` runs of `cb` weights (run `j` of output column `j`, weights of
/// column `j` at `base + j·stride + c0`; `stride = 0` for a single run).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn add_fixed(
    sh: &Shared,
    edge: usize,
    st: &mut AtomState,
    o0: usize,
    base: usize,
    cols: usize,
    cb: usize,
    stride: usize,
    c0: usize,
    value: i32,
) {
    let wq = &sh
        .prog
        .weights
        .fixed
        .as_ref()
        .expect("fixed weights")
        .weights[edge];
    for j in 0..cols {
        let w = &wq[base + j * stride + c0..base + j * stride + c0 + cb];
        for (acc, &w) in st.iq[o0 + j * cb..o0 + (j + 1) * cb].iter_mut().zip(w) {
            *acc += (value * w) as i64;
        }
    }
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
