//! Model weights as `ndarray` views with their logical axes, for code at the boundaries
//! (file conversion such as NIR, analysis, tests). The hot kernels keep working on the plain
//! slices of [`crate::model_file::LayerWeights`]; a view borrows them without copying.

use crate::model_file::Model;
use crate::plan::Synapses;
use ndarray::{ArrayView2, ArrayView4};

/// One synapse block's weights with named axes.
#[derive(Clone, Debug, PartialEq)]
pub enum WeightView<'a> {
    /// Convolution, axes `[ky, kx, c_in, c_out]`.
    Conv(ArrayView4<'a, f32>),
    /// Fully connected, axes `[in, out]` (a spatial input flattened channel-last).
    Dense(ArrayView2<'a, f32>),
    /// No weights (pooling, identity shortcut).
    Empty,
}

/// The views of one plan layer: main synapses and, for a residual block's second layer, the
/// shortcut.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerView<'a> {
    /// Plan layer name.
    pub name: &'a str,
    /// Main synapses.
    pub main: WeightView<'a>,
    /// Shortcut synapses (`None` when the layer has no shortcut).
    pub shortcut: Option<WeightView<'a>>,
}

/// Views `w` with the axes of `syn`; fails when the length does not match.
pub fn view<'a>(syn: &Synapses, w: &'a [f32]) -> Result<WeightView<'a>, String> {
    let bad = |e: ndarray::ShapeError| format!("{} weights for {syn:?}: {e}", w.len());
    Ok(match *syn {
        Synapses::Conv {
            kernel,
            input,
            output,
            ..
        } => WeightView::Conv(
            ArrayView4::from_shape((kernel, kernel, input.channels, output.channels), w)
                .map_err(bad)?,
        ),
        Synapses::Dense { inputs, outputs } => {
            WeightView::Dense(ArrayView2::from_shape((inputs, outputs), w).map_err(bad)?)
        }
        Synapses::AvgPool2 { .. } | Synapses::Subsample { .. } => WeightView::Empty,
    })
}

impl Model {
    /// The weights of plan layer `layer` as views. Fails when the index is out of range or the
    /// weights do not match the spec (a model that passed [`Model::check`] always matches).
    pub fn weight_view(&self, layer: usize) -> Result<LayerView<'_>, String> {
        let plan = crate::plan::NetworkPlan::new(&self.spec).map_err(|e| e.to_string())?;
        let (l, w) = plan
            .layers
            .get(layer)
            .zip(self.weights.get(layer))
            .ok_or_else(|| format!("no layer {layer}: the model has {}", self.weights.len()))?;
        Ok(LayerView {
            name: &w.layer,
            main: view(&l.synapses, &w.main)?,
            shortcut: l
                .shortcut
                .map(|s| view(&s.synapses, &w.shortcut))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_file::{LayerWeights, ModelMeta};
    use crate::preset;

    #[test]
    fn views_index_weights_in_the_documented_layouts() {
        let spec = preset::lenet();
        let plan = crate::plan::NetworkPlan::new(&spec).unwrap();
        let weights = plan
            .layers
            .iter()
            .map(|l| LayerWeights {
                layer: l.name.clone(),
                main: (0..l.synapses.weight_count()).map(|i| i as f32).collect(),
                shortcut: Vec::new(),
            })
            .collect();
        let m = Model {
            spec,
            weights,
            meta: ModelMeta::default(),
            training: None,
        };
        // conv2: k 5, 20 -> 50 channels; [ky=1][kx=2][ci=3][co=4] is ((1*5 + 2)*20 + 3)*50 + 4.
        let v = m.weight_view(2).unwrap();
        assert_eq!(v.name, "conv2");
        let WeightView::Conv(c) = v.main else {
            panic!("conv2 is a conv")
        };
        assert_eq!(c.shape(), &[5, 5, 20, 50]);
        assert_eq!(c[[1, 2, 3, 4]], (((5 + 2) * 20 + 3) * 50 + 4) as f32);
        // fc1: 2450 -> 200; [in=7][out=9] is 7*200 + 9.
        let WeightView::Dense(d) = m.weight_view(4).unwrap().main else {
            panic!("fc1 is dense")
        };
        assert_eq!(d[[7, 9]], (7 * 200 + 9) as f32);
        assert_eq!(m.weight_view(1).unwrap().main, WeightView::Empty);
        assert!(m.weight_view(6).is_err());
    }
}
