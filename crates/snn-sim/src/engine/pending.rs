//! Spike lists waiting on a core, by (layer, network step), and a worker's spare spike-list
//! buffers.

/// Spike lists a core has received (or produced for itself), by (layer, network step).
/// A handful are alive at a time, so a vector beats a hash map; emptied buffers go back to the
/// worker's [`Buffers`].
#[derive(Default)]
pub(super) struct PendingSet {
    pub(super) entries: Vec<Pending>,
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

    pub(super) fn add(&mut self, layer: u32, step: u64, neurons: &[u32], buffers: &mut Buffers) {
        if let Some(e) = self.get_mut(layer, step) {
            e.append(neurons);
        } else {
            let mut buf = buffers.take();
            buf.extend_from_slice(neurons);
            self.entries.push(Pending::new(layer, step, buf));
        }
    }

    pub(super) fn retain(&mut self, keep: impl Fn(u32, u64) -> bool, buffers: &mut Buffers) {
        let mut i = 0;
        while i < self.entries.len() {
            if keep(self.entries[i].layer, self.entries[i].step) {
                i += 1;
            } else {
                let p = self.entries.swap_remove(i);
                buffers.give(p.neurons);
            }
        }
    }

    /// Takes a received batch's spike list: adopted as is when it opens a new (layer, step)
    /// entry, else appended and its buffer given back.
    pub(super) fn add_owned(
        &mut self,
        layer: u32,
        step: u64,
        neurons: Vec<u32>,
        buffers: &mut Buffers,
    ) {
        if let Some(e) = self.get_mut(layer, step) {
            e.append(&neurons);
            buffers.give(neurons);
        } else {
            self.entries.push(Pending::new(layer, step, neurons));
        }
    }
}

/// One worker's emptied spike-list buffers: the cores it steps take them for outgoing batches
/// and give back the ones they are done with, so batches rarely allocate. Cores move between
/// workers from step to step, which evens out senders and receivers.
#[derive(Default)]
pub(super) struct Buffers {
    free: Vec<Vec<u32>>,
}

impl Buffers {
    /// Most buffers kept; more are dropped.
    const KEEP: usize = 1 << 12;

    /// An empty buffer.
    pub(super) fn take(&mut self) -> Vec<u32> {
        self.free.pop().unwrap_or_else(|| Vec::with_capacity(64))
    }

    /// Keeps an emptied buffer for reuse.
    pub(super) fn give(&mut self, mut v: Vec<u32>) {
        if self.free.len() < Self::KEEP {
            v.clear();
            self.free.push(v);
        }
    }
}
