//! Spike lists waiting on a core, by (layer, network step), and the pool of spike-list buffers
//! the cores share.

use crossbeam_channel::{Receiver, Sender};

/// Spike lists a core has received (or produced for itself), by (layer, network step).
/// A handful are alive at a time, so a vector beats a hash map; emptied buffers are kept for
/// reuse.
#[derive(Default)]
pub(super) struct PendingSet {
    pub(super) entries: Vec<Pending>,
    pub(super) spare: Vec<Vec<u32>>,
}

/// One received (or locally produced) spike list.
pub(super) struct Pending {
    pub(super) layer: u32,
    pub(super) step: u64,
    pub(super) neurons: Vec<u32>,
    /// `neurons` is ascending (every append kept the order), so no sort is needed.
    pub(super) ascending: bool,
    /// Sorted and counted by its first reader.
    pub(super) ready: bool,
}

// Every list handed to `new` or `append` is ascending: a core emits one atom's spikes in
// ascending local index, and local indices of a box ascend with the global index; only the
// concatenation of lists from several atoms or senders can break the order.
impl Pending {
    pub(super) fn new(layer: u32, step: u64, neurons: Vec<u32>) -> Self {
        debug_assert!(neurons.is_sorted(), "one atom's spikes ascend");
        Pending {
            layer,
            step,
            ascending: true,
            neurons,
            ready: false,
        }
    }

    pub(super) fn append(&mut self, more: &[u32]) {
        debug_assert!(more.is_sorted(), "one atom's spikes ascend");
        self.ascending &= self
            .neurons
            .last()
            .is_none_or(|&a| more.first().is_none_or(|&b| a < b));
        self.neurons.extend_from_slice(more);
        self.ready = false;
    }

    /// Puts `neurons` in ascending order (lists from several senders arrive in any order):
    /// through a bitmap of their span when it is short, else by sorting. A neuron spikes at
    /// most once per step, so the entries are distinct.
    pub(super) fn order(&mut self, bits: &mut Vec<u64>) {
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
    pub(super) fn get_mut(&mut self, layer: u32, step: u64) -> Option<&mut Pending> {
        self.entries
            .iter_mut()
            .find(|p| p.layer == layer && p.step == step)
    }

    pub(super) fn add(&mut self, layer: u32, step: u64, neurons: &[u32]) {
        if let Some(e) = self.get_mut(layer, step) {
            e.append(neurons);
        } else {
            let mut buf = self.spare.pop().unwrap_or_default();
            buf.extend_from_slice(neurons);
            self.entries.push(Pending::new(layer, step, buf));
        }
    }

    pub(super) fn retain(&mut self, keep: impl Fn(u32, u64) -> bool, pool: &BufferPool) {
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
    pub(super) fn add_owned(
        &mut self,
        layer: u32,
        step: u64,
        neurons: Vec<u32>,
        pool: &BufferPool,
    ) {
        if let Some(e) = self.get_mut(layer, step) {
            e.append(&neurons);
            self.recycle(neurons, pool);
        } else {
            self.entries.push(Pending::new(layer, step, neurons));
        }
    }

    /// A buffer for an outgoing batch: a spare one of this core, else one from the pool.
    pub(super) fn buffer(&mut self, pool: &BufferPool) -> Vec<u32> {
        self.spare
            .pop()
            .or_else(|| pool.rx.try_recv().ok())
            .unwrap_or_else(|| Vec::with_capacity(64))
    }

    /// Keeps an emptied buffer for reuse: here, or in the pool when this core has enough.
    pub(super) fn recycle(&mut self, mut v: Vec<u32>, pool: &BufferPool) {
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
pub(super) struct BufferPool {
    pub(super) tx: Sender<Vec<u32>>,
    pub(super) rx: Receiver<Vec<u32>>,
}

impl BufferPool {
    pub(super) fn new() -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1 << 14);
        BufferPool { tx, rx }
    }
}
