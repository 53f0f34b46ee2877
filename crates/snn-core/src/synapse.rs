//! The synaptic half of one time step: event-driven scatter of incoming spikes into the
//! current of the next layer (SPEC §3). Inputs to every layer are spikes, so work is proportional
//! to the number of spikes: each spike adds one weight row (dense) or its kernel taps (conv).
//!
//! Every kernel has a naive dense reference ([`reference`]) used by tests.

use crate::plan::Synapses;
use crate::shape::Shape3;
use crate::simd;

/// Precomputed geometry of a convolution for scattering: for each input row `iy`, the list of
/// (kernel row, output row) pairs it reaches; same for columns.
#[derive(Clone, Debug)]
pub struct ConvGeometry {
    /// Kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding.
    pub padding: usize,
    /// Input shape.
    pub input: Shape3,
    /// Output shape.
    pub output: Shape3,
    row_start: Vec<u32>,
    rows: Vec<(u32, u32)>,
    col_start: Vec<u32>,
    cols: Vec<(u32, u32)>,
}

fn taps(
    in_len: usize,
    out_len: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> (Vec<u32>, Vec<(u32, u32)>) {
    let mut start = Vec::with_capacity(in_len + 1);
    let mut pairs = Vec::new();
    for i in 0..in_len {
        start.push(pairs.len() as u32);
        for k in 0..kernel {
            // output o reads input o*stride + k - padding == i
            let t = i as isize + padding as isize - k as isize;
            if t < 0 || t % stride as isize != 0 {
                continue;
            }
            let o = (t / stride as isize) as usize;
            if o < out_len {
                pairs.push((k as u32, o as u32));
            }
        }
    }
    start.push(pairs.len() as u32);
    (start, pairs)
}

impl ConvGeometry {
    /// Geometry of conv synapses; panics if `syn` is not a convolution.
    pub fn new(syn: &Synapses) -> Self {
        let Synapses::Conv {
            kernel,
            stride,
            padding,
            input,
            output,
        } = *syn
        else {
            panic!("ConvGeometry::new needs conv synapses, got {syn:?}");
        };
        let (row_start, rows) = taps(input.height, output.height, kernel, stride, padding);
        let (col_start, cols) = taps(input.width, output.width, kernel, stride, padding);
        ConvGeometry {
            kernel,
            stride,
            padding,
            input,
            output,
            row_start,
            rows,
            col_start,
            cols,
        }
    }

    /// (kernel row, output row) pairs reached from input row `iy`.
    #[inline]
    pub fn rows(&self, iy: usize) -> &[(u32, u32)] {
        &self.rows[self.row_start[iy] as usize..self.row_start[iy + 1] as usize]
    }

    /// (kernel column, output column) pairs reached from input column `ix`.
    #[inline]
    pub fn cols(&self, ix: usize) -> &[(u32, u32)] {
        &self.cols[self.col_start[ix] as usize..self.col_start[ix + 1] as usize]
    }

    /// Splits a channel-last input index into (y, x, c).
    #[inline]
    pub fn split_input(&self, idx: usize) -> (usize, usize, usize) {
        let c = idx % self.input.channels;
        let p = idx / self.input.channels;
        (p / self.input.width, p % self.input.width, c)
    }

    /// Output neurons (synapses) reached by one spike of input neuron `idx`.
    pub fn fan_out(&self, idx: usize) -> usize {
        let (y, x, _) = self.split_input(idx);
        self.rows(y).len() * self.cols(x).len() * self.output.channels
    }
}

/// Adds `value · W[ky][kx][ci][:]` to every output position reached by each spike in `spikes`
/// (channel-last input indices). `weights` is `[ky][kx][c_in][c_out]`.
pub fn conv_scatter(
    geo: &ConvGeometry,
    weights: &[f32],
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    simd::dispatch!(conv_scatter_body(geo, weights, spikes, value, current))
}

#[inline(always)]
fn conv_scatter_body(
    geo: &ConvGeometry,
    weights: &[f32],
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    let cout = geo.output.channels;
    let cin = geo.input.channels;
    let k = geo.kernel;
    let wout = geo.output.width;
    for &s in spikes {
        let (iy, ix, ci) = geo.split_input(s as usize);
        for &(ky, oy) in geo.rows(iy) {
            for &(kx, ox) in geo.cols(ix) {
                let w = ((ky as usize * k + kx as usize) * cin + ci) * cout;
                let o = (oy as usize * wout + ox as usize) * cout;
                axpy(&mut current[o..o + cout], &weights[w..w + cout], value);
            }
        }
    }
}

/// `y += a·x` over equal-length slices (vectorizes).
#[inline(always)]
pub fn axpy(y: &mut [f32], x: &[f32], a: f32) {
    for (yy, xx) in y.iter_mut().zip(x) {
        *yy += xx * a;
    }
}

/// Adds `value · W[i][:]` to `current` for each spiking input `i`. `weights` is `[in][out]`.
pub fn dense_scatter(
    weights: &[f32],
    outputs: usize,
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    simd::dispatch!(dense_scatter_body(weights, outputs, spikes, value, current))
}

#[inline(always)]
fn dense_scatter_body(
    weights: &[f32],
    outputs: usize,
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    let current = &mut current[..outputs];
    for &s in spikes {
        let w = s as usize * outputs;
        axpy(current, &weights[w..w + outputs], value);
    }
}

/// 2×2 average pooling of spikes: each spike adds `value/4` to its pooling neuron. Inputs in a
/// dropped odd last row or column reach nothing.
pub fn avgpool_scatter(
    input: Shape3,
    output: Shape3,
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    let q = 0.25 * value;
    for &s in spikes {
        let s = s as usize;
        let c = s % input.channels;
        let p = s / input.channels;
        let (y, x) = (p / input.width / 2, p % input.width / 2);
        if y < output.height && x < output.width {
            current[output.index(y, x, c)] += q;
        }
    }
}

/// Identity shortcut with subsampling: input (y, x, c) reaches output (y/stride, x/stride, c)
/// when both coordinates are multiples of the stride.
pub fn subsample_scatter(
    input: Shape3,
    output: Shape3,
    stride: usize,
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    for &s in spikes {
        let s = s as usize;
        let c = s % input.channels;
        let p = s / input.channels;
        let (y, x) = (p / input.width, p % input.width);
        if y % stride == 0 && x % stride == 0 {
            current[output.index(y / stride, x / stride, c)] += value;
        }
    }
}

/// Scatters spikes through any synapses. `conv` must be the geometry when `syn` is a convolution.
pub fn scatter(
    syn: &Synapses,
    conv: Option<&ConvGeometry>,
    weights: &[f32],
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    match *syn {
        Synapses::Conv { .. } => conv_scatter(
            conv.expect("conv geometry for conv synapses"),
            weights,
            spikes,
            value,
            current,
        ),
        Synapses::Dense { outputs, .. } => dense_scatter(weights, outputs, spikes, value, current),
        Synapses::AvgPool2 { input, output } => {
            avgpool_scatter(input, output, spikes, value, current)
        }
        Synapses::Subsample {
            stride,
            input,
            output,
        } => subsample_scatter(input, output, stride, spikes, value, current),
    }
}

/// Naive dense references for testing the scatter kernels.
pub mod reference {
    use crate::plan::Synapses;

    /// Dense forward of any synapses on a dense input vector (channel-last).
    pub fn forward(syn: &Synapses, weights: &[f32], x: &[f32]) -> Vec<f32> {
        match *syn {
            Synapses::Conv {
                kernel,
                stride,
                padding,
                input,
                output,
            } => {
                let mut y = vec![0.0f32; output.len()];
                for oy in 0..output.height {
                    for ox in 0..output.width {
                        for co in 0..output.channels {
                            let mut acc = 0.0f64;
                            for ky in 0..kernel {
                                for kx in 0..kernel {
                                    let iy = (oy * stride + ky) as isize - padding as isize;
                                    let ix = (ox * stride + kx) as isize - padding as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy >= input.height as isize
                                        || ix >= input.width as isize
                                    {
                                        continue;
                                    }
                                    for ci in 0..input.channels {
                                        let w = weights[((ky * kernel + kx) * input.channels + ci)
                                            * output.channels
                                            + co];
                                        acc += w as f64
                                            * x[input.index(iy as usize, ix as usize, ci)] as f64;
                                    }
                                }
                            }
                            y[output.index(oy, ox, co)] = acc as f32;
                        }
                    }
                }
                y
            }
            Synapses::Dense { inputs, outputs } => (0..outputs)
                .map(|j| {
                    (0..inputs)
                        .map(|i| weights[i * outputs + j] as f64 * x[i] as f64)
                        .sum::<f64>() as f32
                })
                .collect(),
            Synapses::AvgPool2 { input, output } => {
                let mut y = vec![0.0f32; output.len()];
                for oy in 0..output.height {
                    for ox in 0..output.width {
                        for c in 0..output.channels {
                            let mut acc = 0.0;
                            for dy in 0..2 {
                                for dx in 0..2 {
                                    acc += x[input.index(2 * oy + dy, 2 * ox + dx, c)];
                                }
                            }
                            y[output.index(oy, ox, c)] = acc / 4.0;
                        }
                    }
                }
                y
            }
            Synapses::Subsample {
                stride,
                input,
                output,
            } => {
                let mut y = vec![0.0f32; output.len()];
                for oy in 0..output.height {
                    for ox in 0..output.width {
                        for c in 0..output.channels {
                            y[output.index(oy, ox, c)] =
                                x[input.index(oy * stride, ox * stride, c)];
                        }
                    }
                }
                y
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    fn check(syn: Synapses) {
        let mut seed = 7;
        let w: Vec<f32> = (0..syn.weight_count()).map(|_| lcg(&mut seed)).collect();
        let spikes: Vec<u32> = (0..syn.input_len() as u32)
            .filter(|_| lcg(&mut seed) > 0.2)
            .collect();
        let mut x = vec![0.0f32; syn.input_len()];
        for &s in &spikes {
            x[s as usize] = 1.0;
        }
        let want = reference::forward(&syn, &w, &x);
        let geo = matches!(syn, Synapses::Conv { .. }).then(|| ConvGeometry::new(&syn));
        let mut got = vec![0.0f32; syn.output_len()];
        scatter(&syn, geo.as_ref(), &w, &spikes, 1.0, &mut got);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-4, "{syn:?}: {a} vs {b}");
        }
    }

    #[test]
    fn scatter_kernels_match_dense_reference() {
        let s = |c, h, w| Shape3::new(c, h, w);
        check(Synapses::Conv {
            kernel: 5,
            stride: 1,
            padding: 2,
            input: s(3, 9, 7),
            output: s(4, 9, 7),
        });
        check(Synapses::Conv {
            kernel: 3,
            stride: 2,
            padding: 1,
            input: s(2, 8, 8),
            output: s(5, 4, 4),
        });
        check(Synapses::Conv {
            kernel: 1,
            stride: 2,
            padding: 0,
            input: s(2, 8, 8),
            output: s(3, 4, 4),
        });
        check(Synapses::Conv {
            kernel: 3,
            stride: 1,
            padding: 0,
            input: s(2, 6, 6),
            output: s(3, 4, 4),
        });
        check(Synapses::Dense {
            inputs: 37,
            outputs: 11,
        });
        check(Synapses::AvgPool2 {
            input: s(3, 6, 4),
            output: s(3, 3, 2),
        });
        check(Synapses::Subsample {
            stride: 2,
            input: s(3, 6, 6),
            output: s(3, 3, 3),
        });
    }
}
