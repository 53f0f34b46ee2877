//! The event-driven engine. Every modeled core is a unit of work claimed by a worker thread each
//! step; spikes travel between cores as batches of packets, which the sending worker files by
//! destination core in its own outbox (two per worker, by chip step parity) and the destination
//! takes at the next step, when every sender is done; a barrier per step models the chip's time
//! step.
//!
//! Layers are pipelined the way a chip runs them: at chip step τ, layer `l` processes network
//! step `g = τ - l` of the global sample stream (sample `g / T`, step `g % T`), using the spikes
//! layer `l-1` emitted at chip step τ-1. Samples follow each other without a bubble, so a run of
//! N samples takes `N·T + L - 1` chip steps. Every neuron adds its inputs in ascending order of
//! the sending neuron (main synapses, then the shortcut), exactly as `snn_core::runtime` does, so
//! float mode reproduces the trainer's evaluation bit for bit, whatever the thread count or
//! message arrival order.

mod atom;
mod barrier;
mod pending;
mod scatter;
mod step;

use crate::links::LinkLoad;
use crate::part::{in_shares, join_all, merge, EdgeStep, Part};
use crate::program::ChipProgram;
pub use crate::run::{Mode, RunConfig, RunResult, Workers};
use crate::timing::Timing;
use barrier::SpinBarrier;
use crossbeam_utils::CachePadded;
use pending::Buffers;
use snn_core::neuron;
use snn_data::dataset::Dataset;
use snn_data::encode::RateEncoder;
use snn_map::chip::ChipModel;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use step::{step_core, CoreState};

/// A batch of spike packets from one core to another: all spikes of one layer at one network
/// step that the destination needs.
#[derive(Debug)]
pub struct Batch {
    /// Sending layer.
    pub layer: u32,
    /// Global network step (sample · T + step).
    pub step: u64,
    /// Neuron indices (channel-last, in the sending layer).
    pub neurons: Vec<u32>,
}

/// One worker's batches of one step, by destination core.
type Outbox = Vec<Vec<Batch>>;

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
    /// Per step parity and worker, the batches it sent at that step, by destination core.
    outboxes: [Vec<CachePadded<Mutex<Outbox>>>; 2],
    inputs: Vec<RwLock<InputSample>>,
    barrier: SpinBarrier,
    step_max: [Vec<CachePadded<AtomicU64>>; 2],
    /// Packets per mesh link of the step, per worker (by step parity, like `step_max`).
    link_rows: [Vec<CachePadded<Mutex<Vec<u32>>>>; 2],
    timing: Timing,
    input_packets: AtomicU64,
    input_spikes: AtomicU64,
    /// Input spikes per pixel (only when profiling; written by the one encoding worker).
    input_counts: Mutex<Vec<u64>>,
}

impl<'a> Shared<'a> {
    /// The state every worker shares for a part of `samples` samples starting at `first`.
    #[allow(clippy::too_many_arguments)]
    fn new(
        prog: &'a ChipProgram,
        chip: &ChipModel,
        cfg: RunConfig,
        data: &'a Dataset,
        encoder: &'a RateEncoder,
        first: usize,
        samples: u64,
        threads: usize,
    ) -> Self {
        // Input slots: enough samples ahead for the deepest layer still working on the first.
        let ring = prog.net.layers().div_ceil(cfg.timesteps as usize) + 3;
        Shared {
            prog,
            cfg,
            data,
            encoder,
            samples,
            first: first as u64,
            outboxes: [0, 1].map(|_| {
                (0..threads)
                    .map(|_| {
                        let by_dest = (0..prog.cores.len()).map(|_| Vec::new()).collect();
                        CachePadded::new(Mutex::new(by_dest))
                    })
                    .collect()
            }),
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
                (0..threads)
                    .map(|_| CachePadded::new(AtomicU64::new(0)))
                    .collect(),
                (0..threads)
                    .map(|_| CachePadded::new(AtomicU64::new(0)))
                    .collect(),
            ],
            link_rows: [0, 1].map(|_| {
                (0..threads)
                    .map(|_| CachePadded::new(Mutex::new(vec![0; prog.links.len()])))
                    .collect()
            }),
            timing: Timing::of(chip),
            input_packets: AtomicU64::new(0),
            input_spikes: AtomicU64::new(0),
            input_counts: Mutex::new(if cfg.profile {
                vec![0; prog.net.plan.input.len()]
            } else {
                Vec::new()
            }),
        }
    }

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
            let mut counts = lock(&self.input_counts);
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
    let parts = run_parts(prog, chip, data, encoder, 0..samples, cfg);
    let replicas = replicas_of(cfg, samples);
    merge(
        parts,
        chip,
        samples,
        cfg.timesteps,
        prog.net.layers(),
        replicas,
        start,
    )
}

/// The chip replicas a run of `samples` samples uses: as requested, at most one per worker
/// and one per sample.
pub(crate) fn replicas_of(cfg: RunConfig, samples: usize) -> usize {
    cfg.replicas
        .clamp(1, cfg.threads.max(1))
        .min(samples.max(1))
}

/// Samples `range` of `data` on the chip replicas of [`run`], as shares still to merge.
pub(crate) fn run_parts(
    prog: &ChipProgram,
    chip: &ChipModel,
    data: &Dataset,
    encoder: &RateEncoder,
    range: std::ops::Range<usize>,
    cfg: RunConfig,
) -> Vec<Part> {
    let threads = cfg.threads.max(1);
    let replicas = replicas_of(cfg, range.len());
    in_shares(range, replicas, |r, share| {
        // Workers left over after an even split go to the first replicas.
        let workers = threads / replicas + usize::from(r < threads % replicas);
        let cfg = if replicas == 1 {
            cfg
        } else {
            RunConfig {
                threads: workers,
                replicas: 1,
                ..cfg
            }
        };
        run_part(prog, chip, data, encoder, share.start, share.len(), cfg)
    })
}

/// One chip running samples `first .. first + samples` of `data` (see [`run`]): the cores'
/// states, the workers stepping them chip step by chip step, then the results collected.
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
    let samples = samples.min(data.len().saturating_sub(first)) as u64;
    let threads = cfg.threads.clamp(1, n_cores.max(1));
    let shared = Shared::new(prog, chip, cfg, data, encoder, first, samples, threads);
    let mut states: Vec<Option<CoreState>> = prog
        .cores
        .iter()
        .map(|core| Some(CoreState::new(core, &cfg, n_cores, layers)))
        .collect();
    // Workers claim cores dynamically every step, heaviest expected load first (a core's
    // results do not depend on which worker runs it).
    let order = heaviest_first(prog);
    let cells: Vec<Mutex<CoreState>> = order
        .iter()
        .map(|&c| Mutex::new(states[c].take().expect("core state")))
        .collect();
    let (interior_fs, links, edge_links) = drive(&shared, &cells, &order, threads);
    for (k, cell) in cells.into_iter().enumerate() {
        states[order[k]] = Some(cell.into_inner().unwrap_or_else(|e| e.into_inner()));
    }
    let states: Vec<CoreState> = states
        .into_iter()
        .map(|s| s.expect("every core returned"))
        .collect();
    let outputs = readouts(prog, &states, samples as usize);
    let neuron_spikes = cfg
        .profile
        .then(|| neuron_spikes(prog, &states, &shared.input_counts));
    let t = cfg.timesteps as u64;
    let mut edge: BTreeMap<u64, EdgeStep> = BTreeMap::new();
    for (c, st) in states.iter().enumerate() {
        for &(tau, b) in &st.edge {
            let step = edge.entry(first as u64 * t + tau).or_default();
            step.busy.resize(n_cores, 0);
            step.busy[c] += b;
        }
    }
    for (tau, row) in edge_links {
        edge.entry(first as u64 * t + tau).or_default().links = row;
    }
    Part {
        result: RunResult {
            predictions: outputs.iter().map(|o| neuron::argmax(o) as u8).collect(),
            neuron_spikes,
            outputs,
            per_core_layer: states.iter().map(|s| s.counts.clone()).collect(),
            input_packets: shared.input_packets.load(Ordering::Relaxed),
            input_spikes: shared.input_spikes.load(Ordering::Relaxed),
            chip_seconds: 0.0,
            links,
            core_busy_seconds: Vec::new(),
            chip_steps: 0,
            replicas: 1,
            wall_seconds: start.elapsed().as_secs_f64(),
        },
        interior_fs,
        edge,
        busy_fs: states.iter().map(|s| s.busy).collect(),
    }
}

/// Core indices by expected load (synaptic operations plus neuron updates), heaviest first.
fn heaviest_first(prog: &ChipProgram) -> Vec<usize> {
    let load: Vec<f64> = prog
        .cores
        .iter()
        .map(|c| {
            c.expected_synops + 2.0 * c.atoms.iter().map(|a| a.region.len() as f64).sum::<f64>()
        })
        .collect();
    let mut order: Vec<usize> = (0..prog.cores.len()).collect();
    order.sort_by(|&a, &b| load[b].total_cmp(&load[a]).then(a.cmp(&b)));
    order
}

/// Steps every core through every chip step on `threads` workers: each step, workers claim
/// cores (`cells`, in `order`) until none is left, then meet at the barrier. Worker 0 also
/// encodes the next sample's input and sums the chip time of the steps that no neighbouring
/// replica overlaps, with their link load (the pipeline's fill and drain are kept per core in
/// `edge`, and their packets per link returned by step); returns those three.
fn drive(
    sh: &Shared,
    cells: &[Mutex<CoreState>],
    order: &[usize],
    threads: usize,
) -> (u128, LinkLoad, BTreeMap<u64, Vec<u32>>) {
    let t = sh.cfg.timesteps as u64;
    let layers = sh.prog.net.layers() as u64;
    let total_steps = if sh.samples == 0 {
        0
    } else {
        sh.samples * t + layers - 1
    };
    if sh.samples > 0 {
        sh.encode(0);
    }
    let claims = [AtomicUsize::new(0), AtomicUsize::new(0)];
    // A progress line for people watching a long run (not when stderr is a file or pipe).
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr()) && sh.samples >= 500;
    // Steps that may overlap a neighbouring replica's: the pipeline fill and drain.
    let fill = layers - 1;
    let drain = sh.samples * t;
    type WorkerResult = (u128, LinkLoad, BTreeMap<u64, Vec<u32>>);
    let results: Vec<WorkerResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                let claims = &claims;
                scope.spawn(move || {
                    let mut chip_time: u128 = 0;
                    let n_links = sh.prog.links.len();
                    let mut links = LinkLoad::new(if w == 0 { n_links } else { 0 });
                    let mut edge_links = BTreeMap::new();
                    let mut step_links = vec![0u32; if w == 0 { n_links } else { 0 }];
                    let mut buffers = Buffers::default();
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
                        let mut link_row = lock(&sh.link_rows[parity][w]);
                        let mut outbox = lock(&sh.outboxes[parity][w]);
                        let mut io = step::WorkerIo {
                            links: &mut link_row,
                            outbox: &mut outbox,
                            buffers: &mut buffers,
                        };
                        loop {
                            let k = claims[parity].fetch_add(1, Ordering::AcqRel);
                            if k >= cells.len() {
                                break;
                            }
                            let mut st = lock(&cells[k]);
                            let core = &sh.prog.cores[order[k]];
                            let dt = step_core(sh, core, &mut st, &mut io, tau);
                            if edge {
                                st.edge.push((tau, dt));
                            }
                            max_dt = max_dt.max(dt);
                        }
                        drop((outbox, link_row));
                        sh.step_max[parity][w].store(max_dt, Ordering::Relaxed);
                        sh.barrier.wait();
                        if w == 0 {
                            // The other workers are on the next step (the other parity) now.
                            for row in &sh.link_rows[parity] {
                                let mut row = lock(row);
                                for (a, b) in step_links.iter_mut().zip(row.iter_mut()) {
                                    *a += std::mem::take(b);
                                }
                            }
                            if edge {
                                edge_links.insert(tau, step_links.clone());
                            } else {
                                let m = sh.step_max[parity]
                                    .iter()
                                    .map(|a| a.load(Ordering::Relaxed))
                                    .max()
                                    .unwrap_or(0);
                                let (tm, row) = (&sh.timing, &step_links);
                                chip_time += u128::from(links.step(row, m, tm.link, tm.barrier));
                            }
                            step_links.fill(0);
                        }
                    }
                    (chip_time, links, edge_links)
                })
            })
            .collect();
        join_all(handles)
    });
    if progress {
        eprint!("\r{:60}\r", "");
    }
    results.into_iter().next().expect("worker 0")
}

/// Locks a mutex, going on with the data of a worker that panicked (the run fails anyway).
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The readout values of every sample, assembled from the cores holding readout neurons.
fn readouts(prog: &ChipProgram, states: &[CoreState], samples: usize) -> Vec<Vec<f32>> {
    let n_out = prog.net.plan.layers[prog.net.layers() - 1].output.len();
    let mut outputs = vec![vec![0.0f32; n_out]; samples];
    for st in states {
        for (s, c0, vals) in &st.readouts {
            outputs[*s as usize][*c0 as usize..*c0 as usize + vals.len()].copy_from_slice(vals);
        }
    }
    outputs
}

/// Spikes per input pixel and per neuron of every layer (profiling), gathered from the atoms.
fn neuron_spikes(
    prog: &ChipProgram,
    states: &[CoreState],
    input_counts: &Mutex<Vec<u64>>,
) -> (Vec<u64>, Vec<Vec<u64>>) {
    let mut per_layer: Vec<Vec<u64>> = prog
        .net
        .plan
        .layers
        .iter()
        .map(|l| vec![0; l.output.len()])
        .collect();
    for (core, st) in prog.cores.iter().zip(states) {
        for (a, s) in core.atoms.iter().zip(&st.atoms) {
            for (j, &n) in s.spikes.iter().enumerate() {
                per_layer[a.layer][a.globals[j] as usize] += n;
            }
        }
    }
    let input = std::mem::take(&mut *lock(input_counts));
    (input, per_layer)
}
