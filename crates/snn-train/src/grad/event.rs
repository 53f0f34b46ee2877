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

/// The receptive field of one conv output position, clipped to the input: kernel rows
/// `ky_lo..ky_hi`, kernel columns from `kx_lo`, `len` floats per kernel row (channel-last).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// First kernel row inside the input.
    pub ky_lo: usize,
    /// One past the last kernel row inside the input.
    pub ky_hi: usize,
    /// First kernel column inside the input.
    pub kx_lo: usize,
    /// One past the last kernel column inside the input.
    pub kx_hi: usize,
    /// Floats per kernel row inside the input: `(kx_hi − kx_lo) · c_in`.
    pub len: usize,
    y0: isize,
    x0: isize,
    width: usize,
    cin: usize,
}

impl Window {
    /// The window of output position `p` (row-major `oy·W + ox`) of conv `syn`.
    #[inline(always)]
    pub fn of(syn: &Synapses, p: usize) -> Self {
        let Synapses::Conv {
            kernel,
            stride,
            padding,
            input,
            output,
        } = *syn
        else {
            panic!("a receptive window needs conv synapses");
        };
        let (oy, ox) = (p / output.width, p % output.width);
        let y0 = (oy * stride) as isize - padding as isize;
        let x0 = (ox * stride) as isize - padding as isize;
        let ky_lo = (-y0).max(0) as usize;
        let ky_hi = ((input.height as isize - y0).min(kernel as isize)).max(0) as usize;
        let kx_lo = (-x0).max(0) as usize;
        let kx_hi = ((input.width as isize - x0).min(kernel as isize)).max(0) as usize;
        let len = kx_hi.saturating_sub(kx_lo) * input.channels;
        Window {
            ky_lo,
            ky_hi,
            kx_lo,
            kx_hi,
            len,
            y0,
            x0,
            width: input.width,
            cin: input.channels,
        }
    }

    /// Offset in the channel-last input of kernel row `ky`'s first float inside the input.
    #[inline(always)]
    pub fn input_offset(&self, ky: usize) -> usize {
        let iy = (self.y0 + ky as isize) as usize;
        let ix = (self.x0 + self.kx_lo as isize) as usize;
        (iy * self.width + ix) * self.cin
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
            input,
            output,
            ..
        } => {
            let co = j % output.channels;
            let win = Window::of(syn, j / output.channels);
            let (cin, len, kx_lo) = (input.channels, win.len, win.kx_lo);
            let mut g_in = g_in;
            for ky in win.ky_lo..win.ky_hi {
                let w = ((co * kernel + ky) * kernel + kx_lo) * cin;
                let xi = win.input_offset(ky);
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
