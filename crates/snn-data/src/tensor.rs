//! Data-set images as `ndarray` arrays, for code at the boundaries (analysis, conversion,
//! tests). The encoder and the kernels keep reading the plain slices of
//! [`Dataset::image`]; the views borrow them without copying.

use crate::dataset::Dataset;
use ndarray::{ArrayView3, ArrayView4};

impl Dataset {
    /// Image `i` as a `[height, width, channels]` view (the HWC order snn stores), or `None`
    /// when `i` is out of range.
    pub fn image_view(&self, i: usize) -> Option<ArrayView3<'_, f32>> {
        if i >= self.len() {
            return None;
        }
        ArrayView3::from_shape((self.rows, self.cols, self.channels), self.image(i)).ok()
    }

    /// All images as one `[sample, height, width, channels]` view, or `None` when the image
    /// buffer does not hold `len()` images of this shape.
    pub fn images_view(&self) -> Option<ArrayView4<'_, f32>> {
        ArrayView4::from_shape(
            (self.len(), self.rows, self.cols, self.channels),
            &self.images,
        )
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use crate::dataset::{Dataset, DatasetKind, Split};

    #[test]
    fn views_index_pixels_channel_last() {
        // Two 2x3 images with 2 channels; value = sample*100 + (y*3 + x)*2 + c.
        let images = (0..2)
            .flat_map(|s| (0..12).map(move |i| (s * 100 + i) as f32))
            .collect();
        let d = Dataset {
            kind: DatasetKind::Cifar10,
            split: Split::Test,
            channels: 2,
            rows: 2,
            cols: 3,
            images,
            labels: vec![0, 1],
        };
        let v = d.image_view(1).unwrap();
        assert_eq!(v.shape(), &[2, 3, 2]);
        assert_eq!(v[[1, 2, 1]], (100 + (3 + 2) * 2 + 1) as f32);
        assert!(d.image_view(2).is_none());
        assert_eq!(d.images_view().unwrap()[[0, 0, 1, 0]], 2.0);
    }
}
