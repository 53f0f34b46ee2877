//! What a core holds and how much of each limit it uses, updated atom by atom. Fan-in is the
//! number of *distinct* presynaptic neurons, so every core keeps a count per source neuron it
//! listens to; shared conv kernels are stored once per core and channel block.

use crate::atoms::AtomSet;
use crate::limits::CoreLimits;
use crate::network::NetGraph;
use crate::region::Field;
use snn_core::plan::Source;
use std::collections::HashMap;

/// Identifies a shared conv kernel block: (edge index, first channel, one past the last).
pub type KernelKey = (u32, u32, u32);

/// The fixed cost of one atom, computed once.
#[derive(Clone, Debug)]
pub struct AtomCost {
    /// Neurons.
    pub neurons: u64,
    /// Presynaptic fields, one per synapse set into the layer.
    pub fields: Vec<Field>,
    /// Memory items: (shared-kernel key or None, bits). Items with the same key on one core
    /// are stored once.
    pub memory: Vec<(Option<KernelKey>, u64)>,
    /// Expected synaptic operations per step into the atom (from the activity profile).
    pub load: f64,
}

impl AtomCost {
    /// Costs of every atom; `load[a]` comes from the traffic model.
    pub fn all(
        net: &NetGraph,
        atoms: &AtomSet,
        limits: &CoreLimits,
        load: &[f64],
    ) -> Vec<AtomCost> {
        let edge_ids: Vec<Vec<usize>> = (0..net.layers())
            .map(|l| {
                net.edges
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.target == l)
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        atoms
            .atoms
            .iter()
            .enumerate()
            .map(|(a, atom)| {
                let l = atom.layer as usize;
                let r = atom.region;
                let mut fields = Vec::new();
                let mut memory = Vec::new();
                for &ei in &edge_ids[l] {
                    let e = &net.edges[ei];
                    fields.push(e.field(&r, net.source_shape(e.source)));
                    let shared =
                        limits.shared_conv_weights && e.shared_kernel_weights(r.c0, r.c1).is_some();
                    let key = shared.then_some((ei as u32, r.c0, r.c1));
                    memory.push((key, limits.memory_bits(e, &r)));
                }
                AtomCost {
                    neurons: r.len() as u64,
                    fields,
                    memory,
                    load: load[a],
                }
            })
            .collect()
    }
}

/// Usage of one core.
#[derive(Clone, Debug, Default)]
pub struct CoreUsage {
    /// Atoms on the core, in the order they were added.
    pub atoms: Vec<u32>,
    /// Neurons.
    pub neurons: u64,
    /// Synaptic memory in bits.
    pub memory_bits: u64,
    /// Distinct presynaptic neurons.
    pub fan_in: u64,
    /// Expected synaptic operations per step.
    pub load: f64,
    kernels: HashMap<KernelKey, u32>,
    grids: HashMap<Source, Vec<u16>>,
}

impl CoreUsage {
    /// True when `cost` fits next to what the core holds.
    pub fn can_add(&self, cost: &AtomCost, limits: &CoreLimits, net: &NetGraph) -> bool {
        if self.neurons + cost.neurons > limits.max_neurons {
            return false;
        }
        let extra_mem: u64 = cost
            .memory
            .iter()
            .filter(|(k, _)| k.is_none_or(|k| !self.kernels.contains_key(&k)))
            .map(|&(_, b)| b)
            .sum();
        if self.memory_bits + extra_mem > limits.memory_bits {
            return false;
        }
        let mut new_axons = 0u64;
        for f in &cost.fields {
            let shape = net.source_shape(f.source);
            match self.grids.get(&f.source) {
                None => new_axons += f.len() as u64,
                Some(g) => f.for_each_index(shape, |i| new_axons += (g[i] == 0) as u64),
            }
        }
        self.fan_in + new_axons <= limits.max_fan_in
    }

    /// Adds an atom (the caller has checked [`CoreUsage::can_add`] or accepts an overfull core).
    pub fn add(&mut self, atom: u32, cost: &AtomCost, net: &NetGraph) {
        self.atoms.push(atom);
        self.neurons += cost.neurons;
        self.load += cost.load;
        for &(k, b) in &cost.memory {
            match k {
                None => self.memory_bits += b,
                Some(k) => {
                    let n = self.kernels.entry(k).or_insert(0);
                    if *n == 0 {
                        self.memory_bits += b;
                    }
                    *n += 1;
                }
            }
        }
        for f in &cost.fields {
            let shape = net.source_shape(f.source);
            let g = self
                .grids
                .entry(f.source)
                .or_insert_with(|| vec![0; shape.len()]);
            let mut fresh = 0u64;
            f.for_each_index(shape, |i| {
                fresh += (g[i] == 0) as u64;
                g[i] += 1;
            });
            self.fan_in += fresh;
        }
    }

    /// Removes an atom previously added.
    pub fn remove(&mut self, atom: u32, cost: &AtomCost, net: &NetGraph) {
        let pos = self
            .atoms
            .iter()
            .position(|&a| a == atom)
            .expect("atom on this core");
        self.atoms.remove(pos);
        self.neurons -= cost.neurons;
        self.load -= cost.load;
        for &(k, b) in &cost.memory {
            match k {
                None => self.memory_bits -= b,
                Some(k) => {
                    let n = self.kernels.get_mut(&k).expect("kernel on this core");
                    *n -= 1;
                    if *n == 0 {
                        self.kernels.remove(&k);
                        self.memory_bits -= b;
                    }
                }
            }
        }
        for f in &cost.fields {
            let shape = net.source_shape(f.source);
            let g = self
                .grids
                .get_mut(&f.source)
                .expect("grid of a held source");
            let mut freed = 0u64;
            f.for_each_index(shape, |i| {
                g[i] -= 1;
                freed += (g[i] == 0) as u64;
            });
            self.fan_in -= freed;
        }
        if self.atoms.is_empty() {
            self.grids.clear();
            self.load = 0.0;
        }
    }
}
