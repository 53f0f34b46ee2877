//! A share of the samples run on one chip copy (by either engine), the merge of shares into
//! the result of one chip streaming all samples: counters add up, and the chip steps where one
//! share's pipeline drains while the next one's fills are charged as one chip runs them (per
//! core the work of both, then the busiest core), in exact integer femtoseconds; and
//! [`join_all`], which joins the threads that ran the shares.

use crate::run::RunResult;
use crate::timing::{Timing, FS};
use snn_map::chip::ChipModel;
use std::collections::BTreeMap;

/// What one share returns: its result without modeled times, and the pieces of them to merge.
pub(crate) struct Part {
    /// Everything but `chip_seconds`, `core_busy_seconds`, `chip_steps`.
    pub(crate) result: RunResult,
    /// Σ over the steps no other share can touch of (busiest core + barrier), fs.
    pub(crate) interior_fs: u128,
    /// Per global chip step that another share may touch (its pipeline fill and drain): busy
    /// time of every core, fs.
    pub(crate) edge: BTreeMap<u64, Vec<u64>>,
    /// Busy time per core, fs.
    pub(crate) busy_fs: Vec<u128>,
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
