//! Spike trains recorded during a training forward pass: the only thing the code-mode backward
//! needs from the forward (paper-method §4.4: gates depend on spike bits only).

/// Spikes of one population over T steps, stored as index lists per step (CSR).
#[derive(Clone, Debug, Default)]
pub struct SpikeTrain {
    offsets: Vec<u32>,
    idx: Vec<u32>,
}

impl SpikeTrain {
    /// Empties the train for a new sample.
    pub fn clear(&mut self) {
        self.offsets.clear();
        self.offsets.push(0);
        self.idx.clear();
    }

    /// Appends the spikes of the next step.
    pub fn push_step(&mut self, spikes: &[u32]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.idx.extend_from_slice(spikes);
        self.offsets.push(self.idx.len() as u32);
    }

    /// Spikes at step `t` (0-based).
    #[inline]
    pub fn step(&self, t: usize) -> &[u32] {
        &self.idx[self.offsets[t] as usize..self.offsets[t + 1] as usize]
    }

    /// Number of recorded steps.
    pub fn steps(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Total spikes over all steps.
    pub fn total(&self) -> usize {
        self.idx.len()
    }

    /// All spikes of all steps, step by step.
    pub fn all(&self) -> &[u32] {
        &self.idx
    }
}

/// Everything recorded for one sample: input spikes, each layer's emitted spikes, spike values
/// and the network output.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// Number of steps T.
    pub timesteps: usize,
    /// +1 input spikes.
    pub input_pos: SpikeTrain,
    /// −1 input spikes.
    pub input_neg: SpikeTrain,
    /// Emitted spikes per plan layer (the readout's stays empty).
    pub layers: Vec<SpikeTrain>,
    /// Value of each layer's emitted spikes (1 or the dropout scale).
    pub values: Vec<f32>,
    /// Network output `o = V(T)/T`.
    pub output: Vec<f32>,
}

impl Trace {
    /// Empties the trace for a network with `layers` layers.
    pub fn clear(&mut self, layers: usize) {
        self.input_pos.clear();
        self.input_neg.clear();
        self.layers.resize_with(layers, SpikeTrain::default);
        for l in &mut self.layers {
            l.clear();
        }
        self.values.clear();
        self.values.resize(layers, 1.0);
        self.output.clear();
        self.timesteps = 0;
    }
}
