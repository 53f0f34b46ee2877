//! One mini-batch: forward + backward of every sample in parallel, then one SGD step.
//!
//! The batch is cut into fixed chunks of [`CHUNK`] samples, independent of the thread count;
//! each chunk sums its samples' gradients in order and chunks are summed in order, so the
//! result is bit-identical for any `--threads`.

use crate::forward::Runner;
use crate::grad::{backward_sample, BackwardScratch, GradMode, Grads};
use crate::optim::sgd_step;
use crate::params::TransposedWeights;
use crate::seed::{derive, stream_rng};
use crate::trace::Trace;
use rand::Rng;
use rayon::prelude::*;
use snn_core::model_file::LayerWeights;
use snn_core::neuron::argmax;
use snn_core::plan::LayerKind;
use snn_core::runtime::{CompiledNet, DropoutMask, PreparedWeights};
use snn_data::augment::Augment;
use snn_data::dataset::Dataset;
use snn_data::encode::RateEncoder;
use snn_mpi::World;

/// Samples per chunk of work (fixed so results do not depend on the thread count).
pub const CHUNK: usize = 4;

/// What a batch needs besides the weights.
#[derive(Clone, Debug)]
pub struct BatchContext<'a> {
    /// Training data.
    pub data: &'a Dataset,
    /// Input encoder for this epoch.
    pub encoder: &'a RateEncoder,
    /// Time steps.
    pub timesteps: usize,
    /// Gradient mode.
    pub mode: GradMode,
    /// Dropout probability (0 = none).
    pub dropout: f64,
    /// Run seed and 1-based epoch (key dropout masks).
    pub seed: u64,
    /// Epoch (1-based).
    pub epoch: u32,
    /// Learning rate of this batch.
    pub lr: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Training-image augmentation, keyed by (seed, epoch, sample); None = images as they are.
    pub augment: Option<&'a Augment>,
}

impl<'a> BatchContext<'a> {
    /// A context for measuring gradients and speed: no dropout, no augmentation, no update
    /// (learning rate and weight decay 0), seed 1, epoch 1. Override fields as needed.
    pub fn plain(
        data: &'a Dataset,
        encoder: &'a RateEncoder,
        timesteps: usize,
        mode: GradMode,
    ) -> Self {
        BatchContext {
            data,
            encoder,
            timesteps,
            mode,
            dropout: 0.0,
            seed: 1,
            epoch: 1,
            lr: 0.0,
            weight_decay: 0.0,
            augment: None,
        }
    }
}

/// Loss and accuracy of one batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BatchOutcome {
    /// Sum over samples of `Σ_j (o_j − y_j)²`.
    pub loss_sum: f64,
    /// Correct predictions (in the training forward).
    pub correct: usize,
    /// Samples in the batch.
    pub samples: usize,
}

struct ChunkWork {
    grads: Grads,
    /// One runner and one spike record per sample of the chunk: the chunk's forwards run in
    /// lockstep ([`Runner::run_lockstep`]), then each sample's backward.
    runners: Vec<Runner>,
    traces: Vec<Trace>,
    scratch: BackwardScratch,
    outcome: BatchOutcome,
    /// The current sample's augmented pixels.
    augmented: Vec<f32>,
}

/// Reusable trainer state for mini-batches of one network.
pub struct BatchEngine {
    /// The compiled network.
    pub net: CompiledNet,
    wt: TransposedWeights,
    /// The forward kernels' copy of the weights, rewritten in place every batch.
    prepared: Option<PreparedWeights>,
    work: Vec<ChunkWork>,
    /// The gradient as one vector, for the all-reduce of a distributed run.
    flat: Vec<f32>,
}

/// Dropout masks of one sample: fixed over its T steps, keyed by (seed, epoch, sample, layer).
pub fn dropout_masks(
    net: &CompiledNet,
    p: f64,
    seed: u64,
    epoch: u32,
    sample: u64,
) -> Option<Vec<Option<DropoutMask>>> {
    if p <= 0.0 {
        return None;
    }
    let threshold = (p * 4_294_967_296.0) as u64;
    let value = (1.0 / (1.0 - p)) as f32;
    Some(
        net.plan
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                matches!(layer.kind, LayerKind::Conv | LayerKind::Linear).then(|| {
                    let mut rng = stream_rng(seed, &[0xD809, epoch as u64, sample, l as u64]);
                    let keep = (0..layer.output.len())
                        .map(|_| (rng.next_u32() as u64) >= threshold)
                        .collect();
                    DropoutMask { keep, value }
                })
            })
            .collect(),
    )
}

impl BatchEngine {
    /// An engine for `net`.
    pub fn new(net: CompiledNet) -> Self {
        BatchEngine {
            net,
            wt: TransposedWeights::default(),
            prepared: None,
            work: Vec::new(),
            flat: Vec::new(),
        }
    }

    /// Computes the summed gradient of the samples `indices` (no update). Returns the outcome;
    /// the gradient is left in [`BatchEngine::gradient`].
    pub fn gradient_of(
        &mut self,
        weights: &[LayerWeights],
        indices: &[usize],
        ctx: &BatchContext,
    ) -> BatchOutcome {
        self.wt.update(&self.net.plan, weights);
        match self.prepared.as_mut() {
            Some(p) => p.update(&self.net, weights),
            None => self.prepared = Some(PreparedWeights::new(&self.net, weights)),
        }
        let chunks = indices.len().div_ceil(CHUNK);
        self.ensure_work(chunks);
        let runners = Runner::lockstep_runners(
            &self.net,
            self.prepared.as_ref().expect("prepared above"),
            CHUNK,
        );
        for w in &mut self.work {
            w.runners.resize_with(runners, || Runner::new(&self.net));
        }
        let net = &self.net;
        let wt = &self.wt;
        let prepared = self.prepared.as_ref().expect("prepared above");
        self.work[..chunks]
            .par_iter_mut()
            .zip(indices.par_chunks(CHUNK))
            .for_each(|(w, idx)| {
                w.grads.zero();
                w.outcome = BatchOutcome::default();
                let images: Vec<_> = idx
                    .iter()
                    .map(|&i| {
                        let pixels = match ctx.augment {
                            None => ctx.data.image(i),
                            Some(aug) => {
                                let key = derive(ctx.seed, &[0xA06, ctx.epoch as u64, i as u64]);
                                let d = ctx.data;
                                aug.apply(d.rows, d.cols, key, d.image(i), &mut w.augmented);
                                &w.augmented
                            }
                        };
                        ctx.encoder.prepare(pixels)
                    })
                    .collect();
                let masks: Vec<_> = idx
                    .iter()
                    .map(|&i| dropout_masks(net, ctx.dropout, ctx.seed, ctx.epoch, i as u64))
                    .collect();
                let mask_refs: Vec<_> = masks.iter().map(|m| m.as_deref()).collect();
                let samples: Vec<u64> = idx.iter().map(|&i| i as u64).collect();
                let k = idx.len();
                Runner::run_lockstep(
                    &mut w.runners,
                    net,
                    prepared,
                    ctx.encoder,
                    &images,
                    &samples,
                    ctx.timesteps,
                    &mask_refs,
                    Some(&mut w.traces[..k]),
                    None,
                );
                for (&i, trace) in idx.iter().zip(&w.traces) {
                    let label = ctx.data.labels[i] as usize;
                    let loss = backward_sample(
                        net,
                        wt,
                        trace,
                        label,
                        ctx.mode,
                        &mut w.grads,
                        &mut w.scratch,
                    );
                    w.outcome.loss_sum += loss;
                    w.outcome.correct += (argmax(&trace.output) == label) as usize;
                    w.outcome.samples += 1;
                }
            });
        let (first, rest) = self.work[..chunks]
            .split_first_mut()
            .expect("a batch has at least one sample");
        let mut outcome = first.outcome;
        first
            .grads
            .add_all(&rest.iter().map(|w| &w.grads).collect::<Vec<_>>());
        for w in rest.iter() {
            outcome.loss_sum += w.outcome.loss_sum;
            outcome.correct += w.outcome.correct;
            outcome.samples += w.outcome.samples;
        }
        outcome
    }

    /// Work space for `chunks` chunks.
    fn ensure_work(&mut self, chunks: usize) {
        while self.work.len() < chunks.max(1) {
            self.work.push(ChunkWork {
                grads: Grads::zeros(&self.net),
                runners: Vec::new(),
                traces: (0..CHUNK).map(|_| Trace::default()).collect(),
                scratch: BackwardScratch::default(),
                outcome: BatchOutcome::default(),
                augmented: Vec::new(),
            });
        }
    }

    /// One training step of a data-parallel run over the ranks of `world`: every rank passes
    /// the same `indices` and takes its shard (whole chunks, contiguous, in rank order), the
    /// shards' gradients and outcomes are summed over ranks
    /// ([`World::all_reduce_sum`]), and every rank applies the same SGD step, so the weights
    /// stay identical on all ranks. One rank is exactly [`BatchEngine::train_batch`]; with R
    /// ranks the gradient is the same sum grouped by shard, reproducible for that R.
    pub fn train_batch_on(
        &mut self,
        weights: &mut [LayerWeights],
        indices: &[usize],
        ctx: &BatchContext,
        world: &World,
    ) -> BatchOutcome {
        if world.size() == 1 {
            return self.train_batch(weights, indices, ctx);
        }
        let chunks = indices.len().div_ceil(CHUNK);
        let (r, n) = (world.rank(), world.size());
        let cut = |k: usize| (k * chunks / n * CHUNK).min(indices.len());
        let shard = &indices[cut(r)..cut(r + 1)];
        let mut outcome = if shard.is_empty() {
            self.ensure_work(1);
            self.work[0].grads.zero();
            BatchOutcome::default()
        } else {
            self.gradient_of(weights, shard, ctx)
        };
        let grads = &mut self.work[0].grads;
        self.flat.clear();
        for (m, s) in &grads.layers {
            self.flat.extend_from_slice(m);
            self.flat.extend_from_slice(s);
        }
        world.all_reduce_sum(&mut self.flat);
        let mut rest = &self.flat[..];
        for (m, s) in &mut grads.layers {
            for v in [m, s] {
                let (head, tail) = rest.split_at(v.len());
                v.copy_from_slice(head);
                rest = tail;
            }
        }
        let mut loss = [outcome.loss_sum];
        world.all_reduce_sum(&mut loss);
        let mut counts = [outcome.correct as u64, outcome.samples as u64];
        world.all_reduce_sum(&mut counts);
        outcome = BatchOutcome {
            loss_sum: loss[0],
            correct: counts[0] as usize,
            samples: counts[1] as usize,
        };
        if outcome.loss_sum.is_finite() {
            sgd_step(&self.net.plan, weights, grads, ctx.lr, ctx.weight_decay);
        }
        outcome
    }

    /// The gradient summed by the last [`BatchEngine::gradient_of`] (transposed layout).
    pub fn gradient(&self) -> &Grads {
        &self.work[0].grads
    }

    /// One training step on `indices`: gradient, then SGD unless the loss is not finite.
    pub fn train_batch(
        &mut self,
        weights: &mut [LayerWeights],
        indices: &[usize],
        ctx: &BatchContext,
    ) -> BatchOutcome {
        let outcome = self.gradient_of(weights, indices, ctx);
        if outcome.loss_sum.is_finite() {
            sgd_step(
                &self.net.plan,
                weights,
                &self.work[0].grads,
                ctx.lr,
                ctx.weight_decay,
            );
        }
        outcome
    }
}
