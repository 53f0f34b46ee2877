//! Weight layouts: snn stores conv weights `[ky][kx][c_in][c_out]` and dense weights
//! `[in][out]` with a spatial input flattened channel-last (HWC); NIR (PyTorch) stores conv
//! weights `[out][in][ky][kx]` and affine weights `[out][in]` with the input flattened
//! channel-first (CHW). These are pure permutations, so the round trip is bit-exact.

use snn_core::Shape3;

/// snn conv `[ky][kx][c_in][c_out]` → NIR `[c_out][c_in][ky][kx]`.
pub fn conv_to_nir(w: &[f32], k: usize, c_in: usize, c_out: usize) -> Vec<f32> {
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

/// NIR conv `[c_out][c_in][ky][kx]` → snn `[ky][kx][c_in][c_out]`.
pub fn conv_from_nir(w: &[f32], k: usize, c_in: usize, c_out: usize) -> Vec<f32> {
    let mut out = vec![0.0; w.len()];
    for ky in 0..k {
        for kx in 0..k {
            for ci in 0..c_in {
                for co in 0..c_out {
                    out[((ky * k + kx) * c_in + ci) * c_out + co] =
                        w[((co * c_in + ci) * k + ky) * k + kx];
                }
            }
        }
    }
    out
}

/// Position in channel-first (CHW) order of the channel-last (HWC) neuron `i` of `shape`.
fn chw_of_hwc(shape: Shape3, i: usize) -> usize {
    let c = i % shape.channels;
    let yx = i / shape.channels;
    c * shape.height * shape.width + yx
}

/// snn dense `[in (HWC)][out]` → NIR `[out][in (CHW)]`.
pub fn dense_to_nir(w: &[f32], input: Shape3, outputs: usize) -> Vec<f32> {
    let inputs = input.len();
    let mut out = vec![0.0; w.len()];
    for i in 0..inputs {
        let j = chw_of_hwc(input, i);
        for o in 0..outputs {
            out[o * inputs + j] = w[i * outputs + o];
        }
    }
    out
}

/// NIR dense `[out][in (CHW)]` → snn `[in (HWC)][out]`.
pub fn dense_from_nir(w: &[f32], input: Shape3, outputs: usize) -> Vec<f32> {
    let inputs = input.len();
    let mut out = vec![0.0; w.len()];
    for i in 0..inputs {
        let j = chw_of_hwc(input, i);
        for o in 0..outputs {
            out[i * outputs + o] = w[o * inputs + j];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_layout_moves_each_tap_to_its_pytorch_position() {
        // k=2, c_in=2, c_out=3; weight value encodes (ky, kx, ci, co).
        let (k, ci_n, co_n) = (2, 2, 3);
        let mut w = Vec::new();
        for ky in 0..k {
            for kx in 0..k {
                for ci in 0..ci_n {
                    for co in 0..co_n {
                        w.push((ky * 1000 + kx * 100 + ci * 10 + co) as f32);
                    }
                }
            }
        }
        let n = conv_to_nir(&w, k, ci_n, co_n);
        // PyTorch index [co=2][ci=1][ky=0][kx=1]
        assert_eq!(n[((2 * ci_n + 1) * k) * k + 1], 112.0);
        assert_eq!(conv_from_nir(&n, k, ci_n, co_n), w);
    }

    #[test]
    fn dense_layout_flattens_channel_first() {
        // input 2 channels x 1 x 2 pixels; HWC index (x*2 + c); CHW index (c*2 + x).
        let input = Shape3::new(2, 1, 2);
        let w: Vec<f32> = (0..4).map(|i| i as f32).collect(); // one output
        let n = dense_to_nir(&w, input, 1);
        // HWC i=1 is (x=0, c=1) → CHW 2; HWC i=2 is (x=1, c=0) → CHW 1.
        assert_eq!(n, vec![0.0, 2.0, 1.0, 3.0]);
        assert_eq!(dense_from_nir(&n, input, 1), w);
    }
}
