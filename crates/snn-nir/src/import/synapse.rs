//! Synapse nodes → snn layers: a Conv2d, a pooling node or an [Flatten →] Affine node on a
//! given input shape becomes its layer spec and its weights in snn's layout, or a one-line
//! error naming the node.

use super::Importer;
use crate::error::NirError;
use crate::graph::NodeKind;
use crate::layout;
use snn_core::{LayerSpec, Shape3};

impl Importer<'_> {
    /// A Conv2d node on input `shape`: its spec, snn-layout weights and output shape.
    /// `expect`: (kernel, stride (0 = 1 or 2), padding) a residual block requires.
    pub(super) fn conv(
        &self,
        s: usize,
        shape: Shape3,
        expect: Option<(usize, usize, usize)>,
    ) -> Result<(LayerSpec, Vec<f32>, Shape3), NirError> {
        let NodeKind::Conv2d {
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
            input_shape,
        } = &self.node(s).kind
        else {
            unreachable!("conv is called on Conv2d nodes")
        };
        let err = |msg: String| self.node_err(s, msg);
        let [co, ci, kh, kw] = weight.shape[..] else {
            return Err(err(format!(
                "weight has shape {:?}, expected [out, in, kh, kw]",
                weight.shape
            )));
        };
        if ci != shape.channels {
            return Err(err(format!(
                "weight has shape {:?}: {ci} input channels, but its input has {} ({shape})",
                weight.shape, shape.channels
            )));
        }
        if kh != kw || stride[0] != stride[1] || padding[0] != padding[1] {
            return Err(err(format!(
                "kernel {kh}x{kw}, stride {stride:?}, padding {padding:?}: snn runs square kernels, strides and paddings"
            )));
        }
        if *dilation != [1, 1] || *groups != 1 {
            return Err(err(format!(
                "dilation {dilation:?} and groups {groups}: snn runs dilation 1, groups 1"
            )));
        }
        let pad = if padding[0] == usize::MAX {
            if kh % 2 == 1 && stride[0] == 1 {
                (kh - 1) / 2
            } else {
                return Err(err("padding 'same' needs an odd kernel and stride 1".into()));
            }
        } else {
            padding[0]
        };
        if let Some(b) = bias {
            if b.iter().any(|&x| x != 0.0) {
                return Err(err("non-zero bias: snn's synapses have no bias".into()));
            }
        }
        if let Some([h, w]) = input_shape {
            if (*h, *w) != (shape.height, shape.width) {
                return Err(err(format!(
                    "input_shape [{h}, {w}] does not match its input {shape}"
                )));
            }
        }
        if let Some((k, st, p)) = expect {
            if kh != k || pad != p || (st != 0 && stride[0] != st) {
                return Err(err(format!(
                    "a residual block needs kernel {k}, padding {p}{}; found kernel {kh}, stride {}, padding {pad}",
                    if st == 0 { String::new() } else { format!(", stride {st}") },
                    stride[0]
                )));
            }
        }
        let spec = LayerSpec::Conv {
            out_channels: co,
            kernel: kh,
            stride: stride[0],
            padding: pad,
        };
        let span = |d: usize| d + 2 * pad;
        if stride[0] == 0 || co == 0 || kh == 0 || span(shape.height) < kh || span(shape.width) < kh
        {
            return Err(err(format!(
                "kernel {kh}, stride {}, padding {pad} do not fit input {shape}",
                stride[0]
            )));
        }
        let out = Shape3::new(
            co,
            (span(shape.height) - kh) / stride[0] + 1,
            (span(shape.width) - kh) / stride[0] + 1,
        );
        let w = layout::conv_from_nir(&weight.data, kh, ci, co).map_err(err)?;
        Ok((spec, w, out))
    }

    pub(super) fn pool(&self, s: usize, shape: Shape3) -> Result<Shape3, NirError> {
        let NodeKind::Pool2d {
            kernel,
            stride,
            padding,
            ..
        } = &self.node(s).kind
        else {
            unreachable!("pool is called on pooling nodes")
        };
        if *kernel != [2, 2] || *stride != [2, 2] || *padding != [0, 0] {
            return Err(self.node_err(
                s,
                format!(
                    "kernel {kernel:?}, stride {stride:?}, padding {padding:?}: snn pools 2x2 windows with stride 2, no padding"
                ),
            ));
        }
        if shape.height < 2 || shape.width < 2 {
            return Err(self.node_err(s, format!("cannot 2x2-pool an input of shape {shape}")));
        }
        Ok(Shape3::new(
            shape.channels,
            shape.height / 2,
            shape.width / 2,
        ))
    }

    /// An Affine node (after an optional Flatten): snn-layout weights and output features.
    pub(super) fn dense(
        &mut self,
        s: usize,
        flatten: Option<usize>,
        shape: Shape3,
    ) -> Result<(Vec<f32>, usize), NirError> {
        if let Some(f) = flatten {
            self.visited[f] = true;
            let NodeKind::Flatten {
                start_dim,
                end_dim,
                input_type,
            } = &self.node(f).kind
            else {
                unreachable!("in_paths records Flatten nodes only")
            };
            // NIR counts dimensions without the batch (start 0); PyTorch-style exporters
            // count the batch (start 1). Both flatten the whole sample.
            if !matches!(start_dim, 0 | 1) || !matches!(end_dim, -1 | 2 | 3) {
                return Err(self.node_err(
                    f,
                    format!("flattens dims {start_dim}..{end_dim}; snn flattens a whole C x H x W sample"),
                ));
            }
            if let Some(t) = input_type {
                let n: usize = t.iter().product();
                if n != shape.len() {
                    return Err(self.node_err(
                        f,
                        format!("input_type {t:?} does not match its input {shape}"),
                    ));
                }
            }
        }
        let NodeKind::Affine { weight, bias } = &self.node(s).kind else {
            unreachable!("dense is called on Affine nodes")
        };
        let [outs, ins] = weight.shape[..] else {
            return Err(self.node_err(
                s,
                format!("weight has shape {:?}, expected [out, in]", weight.shape),
            ));
        };
        if ins != shape.len() {
            return Err(self.node_err(
                s,
                format!(
                    "weight has shape {:?}: {ins} inputs, but its input has {} ({shape})",
                    weight.shape,
                    shape.len()
                ),
            ));
        }
        if outs == 0 {
            return Err(self.node_err(s, "weight has no outputs".into()));
        }
        if let Some(b) = bias {
            if b.iter().any(|&x| x != 0.0) {
                return Err(self.node_err(s, "non-zero bias: snn's synapses have no bias".into()));
            }
        }
        let w =
            layout::dense_from_nir(&weight.data, shape, outs).map_err(|m| self.node_err(s, m))?;
        Ok((w, outs))
    }
}
