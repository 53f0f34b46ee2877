//! The synaptic half of one time step: event-driven scatter of incoming spikes into the
//! current of the next layer (SPEC §3). Inputs to every layer are spikes, so work is proportional
//! to the number of spikes: each spike adds one weight row (dense) or its kernel taps (conv).
//!
//! Every kernel has a naive dense reference ([`mod@reference`]) used by tests.

use crate::plan::Synapses;
use crate::scatter_box::{self, FloatRows};
use crate::shape::{OutBox, Shape3};
use crate::simd;

pub use crate::conv_geometry::ConvGeometry;

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

/// Like [`conv_scatter`] but with weights in the layout of [`ConvGeometry::prepare`]: per
/// spike and kernel row one contiguous run is added, and consecutive spikes at the same pixel
/// (different channels) share one pass over the output. Each output element still receives
/// `+ w·value` once per spike, in spike order, so the result is bit-identical to
/// [`conv_scatter`].
pub fn conv_scatter_prepared(
    geo: &ConvGeometry,
    prepared: &[f32],
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    simd::dispatch!(conv_scatter_prepared_body(
        geo, prepared, spikes, value, current
    ))
}

#[inline(always)]
fn conv_scatter_prepared_body(
    geo: &ConvGeometry,
    prepared: &[f32],
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    let (k, cin, cout) = (geo.kernel, geo.input.channels, geo.output.channels);
    assert_eq!(prepared.len(), k * k * cin * cout, "conv weight count");
    assert_eq!(current.len(), geo.output.len(), "conv output length");
    let mut sink = FloatRows {
        current,
        weights: prepared,
        value,
    };
    scatter_box::conv_rows(geo, spikes, OutBox::full(geo.output), &mut sink);
}

/// Like [`dense_scatter`], processing up to [`simd::MAX_ROWS`] spikes per pass over the output
/// (same per-element order, bit-identical).
pub fn dense_scatter_grouped(
    weights: &[f32],
    outputs: usize,
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    simd::dispatch!(dense_grouped_body(weights, outputs, spikes, value, current))
}

#[inline(always)]
fn dense_grouped_body(
    weights: &[f32],
    outputs: usize,
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
) {
    let mut sink = FloatRows {
        current: &mut current[..outputs],
        weights,
        value,
    };
    scatter_box::dense_rows(
        outputs,
        spikes,
        OutBox::full(Shape3::flat(outputs)),
        &mut sink,
    );
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

/// Calls `f(o)` with the pooling neuron `o` reached by each spike (2×2 windows, stride 2);
/// inputs in a dropped odd last row or column reach nothing.
#[inline(always)]
fn for_each_pool_target(input: Shape3, output: Shape3, spikes: &[u32], f: impl FnMut(usize)) {
    let syn = Synapses::AvgPool2 { input, output };
    scatter_box::for_each_pool_target(&syn, spikes, OutBox::full(output), f);
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
    for_each_pool_target(input, output, spikes, |o| current[o] += q);
}

/// [`avgpool_scatter`] that also sets `flags[o] = 1` for every output neuron `o` it adds to
/// (plain byte stores: no read-modify-write chain through a shared bitmap word).
pub fn avgpool_scatter_flag(
    input: Shape3,
    output: Shape3,
    spikes: &[u32],
    value: f32,
    current: &mut [f32],
    flags: &mut [u8],
) {
    let q = 0.25 * value;
    for_each_pool_target(input, output, spikes, |o| {
        current[o] += q;
        flags[o] = 1;
    });
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
    let syn = Synapses::Subsample {
        stride,
        input,
        output,
    };
    scatter_box::for_each_pool_target(&syn, spikes, OutBox::full(output), |o| current[o] += value);
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
    use crate::test_rng::lcg;

    fn check(syn: Synapses) {
        for (density, value) in [(0.2, 1.0f32), (-0.3, -1.0), (0.0, 1.25), (-0.5, 0.7)] {
            check_one(syn, density, value);
        }
    }

    /// Spikes where a uniform(−0.5, 0.5) draw exceeds `density`, each carrying `value`.
    fn check_one(syn: Synapses, density: f32, value: f32) {
        let mut seed = 7;
        let w: Vec<f32> = (0..syn.weight_count()).map(|_| lcg(&mut seed)).collect();
        let spikes: Vec<u32> = (0..syn.input_len() as u32)
            .filter(|_| lcg(&mut seed) > density)
            .collect();
        let mut x = vec![0.0f32; syn.input_len()];
        for &s in &spikes {
            x[s as usize] = value;
        }
        let want = reference::forward(&syn, &w, &x);
        let geo = matches!(syn, Synapses::Conv { .. }).then(|| ConvGeometry::new(&syn));
        // Start from a nonzero current so accumulation onto existing values is covered.
        let init: Vec<f32> = (0..syn.output_len()).map(|_| lcg(&mut seed)).collect();
        let mut got = init.clone();
        scatter(&syn, geo.as_ref(), &w, &spikes, value, &mut got);
        for ((a, b), c) in got.iter().zip(&want).zip(&init) {
            assert!((a - c - b).abs() < 1e-4, "{syn:?}: {a} - {c} vs {b}");
        }
        // The fast kernels must be bit-identical to the plain ones.
        let mut fast = init.clone();
        match syn {
            Synapses::Conv { .. } => {
                let g = geo.as_ref().unwrap();
                let mut prepared = Vec::new();
                g.prepare(&w, &mut prepared);
                conv_scatter_prepared(g, &prepared, &spikes, value, &mut fast);
            }
            Synapses::Dense { outputs, .. } => {
                dense_scatter_grouped(&w, outputs, &spikes, value, &mut fast)
            }
            Synapses::AvgPool2 { input, output } => {
                let mut flags = vec![0u8; output.len()];
                avgpool_scatter_flag(input, output, &spikes, value, &mut fast, &mut flags);
                for (o, (a, c)) in fast.iter().zip(&init).enumerate() {
                    assert!(flags[o] == 1 || a == c, "unflagged output {o} changed");
                }
            }
            Synapses::Subsample { .. } => return,
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast), bits(&got), "{syn:?} value {value}");
    }

    #[test]
    fn scatter_kernels_match_dense_reference() {
        let s = |c, h, w| Shape3::new(c, h, w);
        // One input channel (LeNet's first layer), 20 outputs; then one of odd width.
        check(Synapses::Conv {
            kernel: 5,
            stride: 1,
            padding: 2,
            input: s(1, 10, 9),
            output: s(20, 10, 9),
        });
        check(Synapses::Conv {
            kernel: 3,
            stride: 2,
            padding: 1,
            input: s(1, 9, 9),
            output: s(7, 5, 5),
        });
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
        // Wide channels (32-float blocks, 8-float and 4-float tails) and same-pixel groups
        // longer than simd::MAX_ROWS.
        check(Synapses::Conv {
            kernel: 5,
            stride: 1,
            padding: 2,
            input: s(12, 7, 6),
            output: s(50, 7, 6),
        });
        check(Synapses::Conv {
            kernel: 3,
            stride: 2,
            padding: 1,
            input: s(11, 9, 9),
            output: s(37, 5, 5),
        });
        check(Synapses::Conv {
            kernel: 4,
            stride: 3,
            padding: 2,
            input: s(3, 10, 11),
            output: s(9, 4, 4),
        });
        check(Synapses::Conv {
            kernel: 1,
            stride: 1,
            padding: 0,
            input: s(9, 3, 3),
            output: s(13, 3, 3),
        });
        check(Synapses::Dense {
            inputs: 37,
            outputs: 11,
        });
        check(Synapses::Dense {
            inputs: 50,
            outputs: 203,
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
