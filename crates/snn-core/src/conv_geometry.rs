//! The geometry of a convolution, precomputed once per layer: which kernel taps and output
//! positions each input row and column reaches, and the prepared weight layout in which one
//! input spike's taps along a kernel row are one contiguous run. Every conv kernel (scatter,
//! box scatter, gather) walks a layer through it.

use crate::plan::Synapses;
use crate::shape::Shape3;

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
    /// Position of kernel column `kx` in the prepared layout (see [`ConvGeometry::prepare`]).
    kx_pos: Vec<u32>,
    /// Per input column `ix`: (first output column, prepared position of its tap, tap count).
    col_run: Vec<(u32, u32, u32)>,
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
        // Prepared column order: kernel columns grouped by residue mod stride, each group in
        // descending kx. The taps one input column reaches all share a residue and have output
        // columns that rise as kx falls, so they form one contiguous run in this order.
        let mut kx_pos = vec![0u32; kernel];
        let mut pos = 0u32;
        for r in 0..stride.min(kernel) {
            for kx in (r..kernel).step_by(stride).rev() {
                kx_pos[kx] = pos;
                pos += 1;
            }
        }
        let col_run = (0..input.width)
            .map(|ix| {
                let c = &cols[col_start[ix] as usize..col_start[ix + 1] as usize];
                match c.last() {
                    Some(&(kx, ox)) => (ox, kx_pos[kx as usize], c.len() as u32),
                    None => (0, 0, 0),
                }
            })
            .collect();
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
            kx_pos,
            col_run,
        }
    }

    /// Reorders canonical weights `[ky][kx][c_in][c_out]` into the scatter layout
    /// `[c_in][ky][kx'][c_out]`, where kx' is the column order of [`ConvGeometry::new`]: for a
    /// fixed input spike and kernel row, the weights of all taps it reaches are one contiguous
    /// run that lines up with one contiguous run of (channel-last) output neurons.
    pub fn prepare(&self, weights: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.resize(weights.len(), 0.0);
        self.prepare_into(weights, out);
    }

    /// [`ConvGeometry::prepare`] into a slice of the weights' length (e.g. an aligned buffer).
    pub fn prepare_into(&self, weights: &[f32], out: &mut [f32]) {
        let (k, cin, cout) = (self.kernel, self.input.channels, self.output.channels);
        assert_eq!(weights.len(), k * k * cin * cout, "conv weight count");
        assert_eq!(out.len(), weights.len(), "prepared weight count");
        for ky in 0..k {
            for kx in 0..k {
                for ci in 0..cin {
                    let src = ((ky * k + kx) * cin + ci) * cout;
                    let dst = ((ci * k + ky) * k + self.kx_pos[kx] as usize) * cout;
                    out[dst..dst + cout].copy_from_slice(&weights[src..src + cout]);
                }
            }
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

    /// The taps input column `ix` reaches, as one run in the prepared layout: (first output
    /// column, prepared position of its tap, number of taps); output columns rise with the
    /// prepared position.
    #[inline]
    pub fn col_run(&self, ix: usize) -> (u32, u32, u32) {
        self.col_run[ix]
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
