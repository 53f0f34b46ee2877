//! The synaptic half of an atom's step: spikes of one source scattered (or, when dense,
//! gathered) into the atom's current, in float or fixed point.

use super::atom::AtomState;
use super::{Mode, Shared};
use crate::program::{AtomProgram, InputProgram};
use snn_core::gather_box::{conv_gather_box, BoxScratch, OutBox};
use snn_core::plan::Source;
use snn_core::plan::{LayerKind, Synapses};
use snn_core::simd;

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
    let e = &prog.net.edges[edge];
    let r = atom.region;
    let cb = (r.c1 - r.c0) as usize;
    let rw = (r.x1 - r.x0) as usize;
    let fixed = sh.cfg.mode == Mode::Fixed;
    let vf = value as f32;
    let mut ops = 0u64;
    let coords = &prog.coords[match e.source {
        Source::Input => 0,
        Source::Layer(l) => l + 1,
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
