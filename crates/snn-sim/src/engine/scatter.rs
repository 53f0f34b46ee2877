//! The synaptic half of an atom's step: spikes of one source scattered (or, when dense,
//! gathered) into the atom's current, in float or fixed point.

use super::atom::AtomState;
use super::{Mode, Shared};
use crate::program::{AtomProgram, InputProgram};
use snn_core::gather_box::{conv_gather_box, BoxScratch};
use snn_core::plan::{LayerKind, Synapses};
use snn_core::scatter_box::{conv_rows, dense_rows, for_each_pool_target, FloatRows, RowSink};

/// Adds the spikes `spikes` of one source (value ±1) into the atom's current through edge
/// `edge`, restricted to the atom's neurons; returns the synaptic operations done. Per target
/// neuron, inputs are added in the order of `spikes` (ascending), as in `snn_core::runtime`.
/// `gather` is given when the atom's current is still all zero: a dense enough stride-1 conv
/// input is then gathered per output neuron instead (bit-identical, see
/// [`snn_core::gather_box`]).
pub(super) fn scatter(
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

/// The body of [`scatter`], compiled twice (baseline and AVX2).
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
    let syn = &prog.net.edges[edge].synapses;
    let b = atom.region.out_box();
    let vf = value as f32;
    let wf = &prog.weights.float[edge];
    let fixed = prog
        .weights
        .fixed
        .as_ref()
        .filter(|_| sh.cfg.mode == Mode::Fixed);
    match (*syn, fixed) {
        (Synapses::Conv { .. }, None) => {
            let geo = prog.geometry[edge].as_ref().expect("conv geometry");
            if let Some(scratch) =
                gather.filter(|_| geo.stride == 1 && snn_core::gather::worthwhile(geo, all_spikes))
            {
                return conv_gather_box(geo, wf, spikes, vf, b, &mut st.i, scratch);
            }
            let mut sink = FloatRows {
                current: &mut st.i,
                weights: wf,
                value: vf,
            };
            conv_rows(geo, spikes, b, &mut sink)
        }
        (Synapses::Conv { .. }, Some(f)) => {
            let geo = prog.geometry[edge].as_ref().expect("conv geometry");
            let mut sink = FixedRows {
                current: &mut st.iq,
                weights: &f.weights[edge],
                value,
            };
            conv_rows(geo, spikes, b, &mut sink)
        }
        (Synapses::Dense { outputs, .. }, None) => {
            let mut sink = FloatRows {
                current: &mut st.i,
                weights: wf,
                value: vf,
            };
            dense_rows(outputs, spikes, b, &mut sink)
        }
        (Synapses::Dense { outputs, .. }, Some(f)) => {
            let mut sink = FixedRows {
                current: &mut st.iq,
                weights: &f.weights[edge],
                value,
            };
            dense_rows(outputs, spikes, b, &mut sink)
        }
        (_, None) => {
            let add = if matches!(syn, Synapses::AvgPool2 { .. }) {
                0.25 * vf
            } else {
                vf
            };
            for_each_pool_target(syn, spikes, b, |o| st.i[o] += add);
            0
        }
        (_, Some(f)) => {
            let add = value as i64 * f.unit[edge] as i64;
            for_each_pool_target(syn, spikes, b, |o| st.iq[o] += add);
            0
        }
    }
}

/// The fixed-point sink: integer weights times the spike's integer value, summed exactly.
struct FixedRows<'a> {
    current: &'a mut [i64],
    weights: &'a [i32],
    value: i32,
}

impl RowSink for FixedRows<'_> {
    #[inline(always)]
    fn add(&mut self, o: usize, len: usize, offsets: &[usize]) {
        for &w0 in offsets {
            let w = &self.weights[w0..w0 + len];
            for (acc, &w) in self.current[o..o + len].iter_mut().zip(w) {
                *acc += (self.value * w) as i64;
            }
        }
    }
}

/// Integer neuron update of one atom.
pub(super) fn fixed_update(
    sh: &Shared,
    l: usize,
    kind: LayerKind,
    st: &mut AtomState,
    out: &mut Vec<u32>,
) {
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
