//! Weight layouts: snn stores conv weights `[ky][kx][c_in][c_out]` and dense weights
//! `[in][out]` with a spatial input flattened channel-last (HWC); NIR (PyTorch) stores conv
//! weights `[out][in][ky][kx]` and affine weights `[out][in]` with the input flattened
//! channel-first (CHW). These are pure axis permutations (done with `ndarray` views, the
//! tensor boundary of the crate), so the round trip is bit-exact. A length that does not
//! match the shape is an error, not a panic.

use ndarray::{ArrayView, Ix4};
use snn_core::Shape3;

/// Views `w` as a 4-D array of `shape`, permutes its axes by `axes` and returns the values
/// in the permuted array's row-major order.
fn permute(w: &[f32], shape: [usize; 4], axes: [usize; 4]) -> Result<Vec<f32>, String> {
    let view = ArrayView::<f32, Ix4>::from_shape(shape, w).map_err(|_| {
        format!(
            "{} weights do not fill shape {shape:?} ({} values)",
            w.len(),
            shape.iter().product::<usize>()
        )
    })?;
    Ok(view.permuted_axes(axes).iter().copied().collect())
}

/// snn conv `[ky][kx][c_in][c_out]` → NIR `[c_out][c_in][ky][kx]`.
pub fn conv_to_nir(w: &[f32], k: usize, c_in: usize, c_out: usize) -> Result<Vec<f32>, String> {
    permute(w, [k, k, c_in, c_out], [3, 2, 0, 1])
}

/// NIR conv `[c_out][c_in][ky][kx]` → snn `[ky][kx][c_in][c_out]`.
pub fn conv_from_nir(w: &[f32], k: usize, c_in: usize, c_out: usize) -> Result<Vec<f32>, String> {
    permute(w, [c_out, c_in, k, k], [2, 3, 1, 0])
}

/// snn dense `[in (HWC)][out]` → NIR `[out][in (CHW)]`.
pub fn dense_to_nir(w: &[f32], input: Shape3, outputs: usize) -> Result<Vec<f32>, String> {
    let (c, h, x) = (input.channels, input.height, input.width);
    permute(w, [h, x, c, outputs], [3, 2, 0, 1])
}

/// NIR dense `[out][in (CHW)]` → snn `[in (HWC)][out]`.
pub fn dense_from_nir(w: &[f32], input: Shape3, outputs: usize) -> Result<Vec<f32>, String> {
    let (c, h, x) = (input.channels, input.height, input.width);
    permute(w, [outputs, c, h, x], [2, 3, 1, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive reference: snn conv index → NIR conv index, written out.
    fn conv_to_nir_naive(w: &[f32], k: usize, c_in: usize, c_out: usize) -> Vec<f32> {
        let mut out = vec![0.0; w.len()];
        for ky in 0..k {
            for kx in 0..k {
                for ci in 0..c_in {
                    for co in 0..c_out {
                        out[((co * c_in + ci) * k + ky) * k + kx] =
                            w[((ky * k + kx) * c_in + ci) * c_out + co];
                    }
                }
            }
        }
        out
    }

    /// Naive reference: snn dense (HWC rows) → NIR dense (CHW columns).
    fn dense_to_nir_naive(w: &[f32], input: Shape3, outputs: usize) -> Vec<f32> {
        let n = input.len();
        let mut out = vec![0.0; w.len()];
        for i in 0..n {
            let (c, yx) = (i % input.channels, i / input.channels);
            let j = c * input.height * input.width + yx;
            for o in 0..outputs {
                out[o * n + j] = w[i * outputs + o];
            }
        }
        out
    }

    fn values(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32).collect()
    }

    #[test]
    fn conv_layout_moves_each_tap_to_its_pytorch_position() {
        let (k, ci, co) = (3, 2, 5);
        let w = values(k * k * ci * co);
        let n = conv_to_nir(&w, k, ci, co).unwrap();
        assert_eq!(n, conv_to_nir_naive(&w, k, ci, co));
        // PyTorch [co=4][ci=1][ky=2][kx=0] is snn [ky=2][kx=0][ci=1][co=4].
        assert_eq!(
            n[((4 * ci + 1) * k + 2) * k],
            (((2 * k) * ci + 1) * co + 4) as f32
        );
        assert_eq!(conv_from_nir(&n, k, ci, co).unwrap(), w);
    }

    #[test]
    fn dense_layout_flattens_channel_first() {
        // 2 channels x 1 x 2 pixels, one output: HWC index (x*2 + c), CHW index (c*2 + x).
        let input = Shape3::new(2, 1, 2);
        let w = values(4);
        assert_eq!(
            dense_to_nir(&w, input, 1).unwrap(),
            vec![0.0, 2.0, 1.0, 3.0]
        );
        let input = Shape3::new(3, 4, 5);
        let w = values(input.len() * 7);
        let n = dense_to_nir(&w, input, 7).unwrap();
        assert_eq!(n, dense_to_nir_naive(&w, input, 7));
        assert_eq!(dense_from_nir(&n, input, 7).unwrap(), w);
    }

    #[test]
    fn a_length_that_does_not_fill_the_shape_is_an_error() {
        assert!(conv_to_nir(&values(5), 2, 1, 2).is_err());
        assert!(dense_from_nir(&values(5), Shape3::flat(3), 2).is_err());
    }
}
