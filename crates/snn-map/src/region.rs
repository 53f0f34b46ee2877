//! Boxes of neurons: a channel range × a row range × a column range of one layer, and the
//! receptive fields (the presynaptic neurons) of such a box.

use serde::{Deserialize, Serialize};
use snn_core::plan::Source;
use snn_core::Shape3;

/// A box of neurons `[c0, c1) × [y0, y1) × [x0, x1)` of a channel-last layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Region {
    /// First channel.
    pub c0: u32,
    /// One past the last channel.
    pub c1: u32,
    /// First row.
    pub y0: u32,
    /// One past the last row.
    pub y1: u32,
    /// First column.
    pub x0: u32,
    /// One past the last column.
    pub x1: u32,
}

impl Region {
    /// The same box as snn-core's kernels take it (the simulator scatters into it).
    pub fn out_box(&self) -> snn_core::shape::OutBox {
        snn_core::shape::OutBox {
            y0: self.y0 as usize,
            y1: self.y1 as usize,
            x0: self.x0 as usize,
            x1: self.x1 as usize,
            c0: self.c0 as usize,
            c1: self.c1 as usize,
        }
    }

    /// The whole of a layer.
    pub fn whole(shape: Shape3) -> Self {
        Region {
            c0: 0,
            c1: shape.channels as u32,
            y0: 0,
            y1: shape.height as u32,
            x0: 0,
            x1: shape.width as u32,
        }
    }

    /// Number of neurons in the box.
    pub fn len(&self) -> usize {
        (self.c1 - self.c0) as usize * (self.y1 - self.y0) as usize * (self.x1 - self.x0) as usize
    }

    /// True when the box holds no neuron.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when (y, x, c) lies in the box.
    pub fn contains(&self, y: u32, x: u32, c: u32) -> bool {
        (self.y0..self.y1).contains(&y)
            && (self.x0..self.x1).contains(&x)
            && (self.c0..self.c1).contains(&c)
    }

    /// The common part of two boxes, if any.
    pub fn intersect(&self, o: &Region) -> Option<Region> {
        let r = Region {
            c0: self.c0.max(o.c0),
            c1: self.c1.min(o.c1),
            y0: self.y0.max(o.y0),
            y1: self.y1.min(o.y1),
            x0: self.x0.max(o.x0),
            x1: self.x1.min(o.x1),
        };
        (r.c0 < r.c1 && r.y0 < r.y1 && r.x0 < r.x1).then_some(r)
    }

    /// Calls `f` with the channel-last index of every neuron in the box, in ascending order.
    pub fn for_each_index(&self, shape: Shape3, mut f: impl FnMut(usize)) {
        for y in self.y0..self.y1 {
            for x in self.x0..self.x1 {
                let base = shape.index(y as usize, x as usize, 0);
                for c in self.c0..self.c1 {
                    f(base + c as usize);
                }
            }
        }
    }
}

/// The presynaptic neurons of a box through one set of synapses: every `stride`-th row and
/// column of `region` in the source layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Source of the spikes.
    pub source: Source,
    /// Bounding box in the source layer.
    pub region: Region,
    /// Row/column step inside the box (1 except for subsampling shortcuts).
    pub stride: u32,
}

impl Field {
    /// Number of distinct presynaptic neurons.
    pub fn len(&self) -> usize {
        let s = self.stride;
        let n = |a: u32, b: u32| (b - a).div_ceil(s) as usize;
        (self.region.c1 - self.region.c0) as usize
            * n(self.region.y0, self.region.y1)
            * n(self.region.x0, self.region.x1)
    }

    /// True when the field is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with the channel-last index (in the source shape) of every neuron of the field.
    pub fn for_each_index(&self, shape: Shape3, mut f: impl FnMut(usize)) {
        let r = &self.region;
        for y in (r.y0..r.y1).step_by(self.stride as usize) {
            for x in (r.x0..r.x1).step_by(self.stride as usize) {
                let base = shape.index(y as usize, x as usize, 0);
                for c in r.c0..r.c1 {
                    f(base + c as usize);
                }
            }
        }
    }
}
