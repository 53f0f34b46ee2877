//! Backward work caused by one output neuron's gradient change (an "event"): the change `Δ` of
//! the membrane gradient `δu` of output neuron `j` adds `Δ · X` to the weight gradient of j's
//! synapses (X = the inputs' cumulative spike values) and `Δ · W` to the gradient arriving at
//! the inputs. Work is proportional to fan-in and happens only where a neuron spiked.
//!
//! Weight tensors are in the transposed (output-major) layout of `crate::params`: conv
//! `[c_out][ky][kx][c_in]`, dense `[out][in]`.

use snn_core::plan::Synapses;
use snn_core::synapse::axpy;

/// `y1 += x1·a` and `y2 += x2·a` in one pass (equal lengths; each element as in [`axpy`]).
#[inline(always)]
fn axpy_pair(y1: &mut [f32], x1: &[f32], y2: &mut [f32], x2: &[f32], a: f32) {
    let n = y1.len();
    let (x1, y2, x2) = (&x1[..n], &mut y2[..n], &x2[..n]);
    for i in 0..n {
        y1[i] += x1[i] * a;
        y2[i] += x2[i] * a;
    }
}

/// Applies one event of output neuron `j` with change `delta` through `syn`.
/// `x`: cumulative input values; `wt`: transposed weights; `dwt`: transposed weight gradient;
/// `g_in`: gradient at the inputs (None when the inputs are the image).
#[inline(always)]
pub fn apply(
    syn: &Synapses,
    j: usize,
    delta: f32,
    x: &[f32],
    wt: &[f32],
    dwt: &mut [f32],
    g_in: Option<&mut [f32]>,
) {
    match *syn {
        Synapses::Dense { inputs, .. } => {
            let row = j * inputs..(j + 1) * inputs;
            axpy(&mut dwt[row.clone()], x, delta);
            if let Some(g) = g_in {
                axpy(g, &wt[row], delta);
            }
        }
        Synapses::Conv {
            kernel,
            stride,
            padding,
            input,
            output,
        } => {
            let co = j % output.channels;
            let p = j / output.channels;
            let (oy, ox) = (p / output.width, p % output.width);
            let cin = input.channels;
            let y0 = (oy * stride) as isize - padding as isize;
            let x0 = (ox * stride) as isize - padding as isize;
            let ky_lo = (-y0).max(0) as usize;
            let ky_hi = ((input.height as isize - y0).min(kernel as isize)).max(0) as usize;
            let kx_lo = (-x0).max(0) as usize;
            let kx_hi = ((input.width as isize - x0).min(kernel as isize)).max(0) as usize;
            let len = (kx_hi.saturating_sub(kx_lo)) * cin;
            let mut g_in = g_in;
            for ky in ky_lo..ky_hi {
                let iy = (y0 + ky as isize) as usize;
                let ix = (x0 + kx_lo as isize) as usize;
                let w = ((co * kernel + ky) * kernel + kx_lo) * cin;
                let xi = (iy * input.width + ix) * cin;
                match g_in.as_deref_mut() {
                    Some(g) => axpy_pair(
                        &mut dwt[w..w + len],
                        &x[xi..xi + len],
                        &mut g[xi..xi + len],
                        &wt[w..w + len],
                        delta,
                    ),
                    None => axpy(&mut dwt[w..w + len], &x[xi..xi + len], delta),
                }
            }
        }
        Synapses::AvgPool2 { input, output } => {
            if let Some(g) = g_in {
                let c = j % output.channels;
                let p = j / output.channels;
                let (oy, ox) = (p / output.width, p % output.width);
                let q = 0.25 * delta;
                for dy in 0..2 {
                    for dx in 0..2 {
                        g[input.index(2 * oy + dy, 2 * ox + dx, c)] += q;
                    }
                }
            }
        }
        Synapses::Subsample {
            stride,
            input,
            output,
        } => {
            if let Some(g) = g_in {
                let c = j % output.channels;
                let p = j / output.channels;
                let (oy, ox) = (p / output.width, p % output.width);
                g[input.index(oy * stride, ox * stride, c)] += delta;
            }
        }
    }
}
