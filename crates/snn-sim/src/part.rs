//! A share of the samples run on one chip copy (by either engine), the merge of shares into
//! the result of one chip streaming all samples: counters add up, and the chip steps where one
//! share's pipeline drains while the next one's fills are charged as one chip runs them (per
//! core the work of both, then the busiest core), in exact integer femtoseconds; and
//! [`join_all`], which joins the threads that ran the shares.

use crate::links::LinkLoad;
use crate::run::RunResult;
use crate::timing::{Timing, FS};
use snn_map::chip::ChipModel;
use std::collections::BTreeMap;

/// What one share returns: its result without modeled times, and the pieces of them to merge.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Part {
    /// Everything but `chip_seconds`, `core_busy_seconds`, `chip_steps`.
    pub(crate) result: RunResult,
    /// Σ over the steps no other share can touch of (busiest core or link + barrier), fs; the
    /// link load of those steps is in `result.links`.
    pub(crate) interior_fs: u128,
    /// Per global chip step that another share may touch (its pipeline fill and drain): what
    /// every core and link did.
    pub(crate) edge: BTreeMap<u64, EdgeStep>,
    /// Busy time per core, fs.
    pub(crate) busy_fs: Vec<u128>,
}

/// One chip step at the edge of a share: busy time per core (fs) and packets per mesh link.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct EdgeStep {
    pub(crate) busy: Vec<u64>,
    pub(crate) links: Vec<u32>,
}

impl EdgeStep {
    /// Adds another share's work at the same step.
    fn add(&mut self, other: &EdgeStep) {
        self.busy.resize(self.busy.len().max(other.busy.len()), 0);
        for (a, b) in self.busy.iter_mut().zip(&other.busy) {
            *a += b;
        }
        self.links
            .resize(self.links.len().max(other.links.len()), 0);
        for (a, b) in self.links.iter_mut().zip(&other.links) {
            *a += b;
        }
    }
}

/// Merges the shares (in sample order) of a run of `samples` samples into one result.
pub(crate) fn merge(
    parts: Vec<Part>,
    chip: &ChipModel,
    samples: usize,
    timesteps: u32,
    layers: usize,
    replicas: usize,
    start: std::time::Instant,
) -> RunResult {
    let tm = Timing::of(chip);
    let mut chip_fs: u128 = parts.iter().map(|p| p.interior_fs).sum();
    let mut edge: BTreeMap<u64, EdgeStep> = BTreeMap::new();
    for p in &parts {
        for (&g, step) in &p.edge {
            edge.entry(g).or_default().add(step);
        }
    }
    let n_links = parts.first().map_or(0, |p| p.result.links.per_link.len());
    let mut links = LinkLoad::new(n_links);
    for p in &parts {
        links.add(&p.result.links);
    }
    for step in edge.values() {
        let core = step.busy.iter().copied().max().unwrap_or(0);
        chip_fs += u128::from(links.step(&step.links, core, tm.link, tm.barrier));
    }
    let n_cores = parts.first().map_or(0, |p| p.busy_fs.len());
    let mut busy_fs = vec![0u128; n_cores];
    for p in &parts {
        for (a, b) in busy_fs.iter_mut().zip(&p.busy_fs) {
            *a += b;
        }
    }
    let mut all = parts.into_iter().map(|p| p.result);
    let mut out = all.next().expect("at least one share");
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
    out.links = links;
    out.chip_seconds = chip_fs as f64 / FS;
    out.core_busy_seconds = busy_fs.iter().map(|&b| b as f64 / FS).collect();
    out.chip_steps = if samples == 0 {
        0
    } else {
        samples as u64 * timesteps as u64 + layers as u64 - 1
    };
    out.replicas = replicas;
    out.wall_seconds = start.elapsed().as_secs_f64();
    out
}

/// Framing of a rank's shares sent to rank 0 in a distributed run (see [`snn_core::container`]).
const SHARES: snn_core::container::FileKind = snn_core::container::FileKind {
    magic: b"SNNSHARE",
    version: 1,
    oldest: 1,
    remedy: "",
    name: "simulation share",
    max_bytes: u64::MAX,
};

/// A rank's shares as bytes.
pub(crate) fn to_bytes(parts: &[Part]) -> Vec<u8> {
    SHARES.to_bytes(&parts)
}

/// Shares received from rank `rank`.
pub(crate) fn from_bytes(bytes: &[u8], rank: usize) -> Result<Vec<Part>, snn_core::FileError> {
    SHARES.from_bytes(
        bytes,
        std::path::Path::new(&format!("(shares of MPI rank {rank})")),
    )
}

/// Runs `range` cut into `shares` contiguous shares in order, each on a thread of its own
/// (inline when there is one): `run(share, samples)` returns its part.
pub(crate) fn in_shares(
    range: std::ops::Range<usize>,
    shares: usize,
    run: impl Fn(usize, std::ops::Range<usize>) -> Part + Sync,
) -> Vec<Part> {
    let (first, n) = (range.start, range.len());
    let cut = |r: usize| first + r * n / shares;
    if shares <= 1 {
        return vec![run(0, range)];
    }
    std::thread::scope(|scope| {
        let run = &run;
        let handles: Vec<_> = (0..shares)
            .map(|r| scope.spawn(move || run(r, cut(r)..cut(r + 1))))
            .collect();
        join_all(handles)
    })
}

/// Joins scoped threads in order, re-raising a worker's panic.
pub(crate) fn join_all<T>(handles: Vec<std::thread::ScopedJoinHandle<'_, T>>) -> Vec<T> {
    handles
        .into_iter()
        .map(|h| match h.join() {
            Ok(v) => v,
            Err(e) => std::panic::resume_unwind(e),
        })
        .collect()
}
