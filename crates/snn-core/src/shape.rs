//! Activation shapes. Activations are stored channel-last (HWC): neuron index
//! `(y * width + x) * channels + c`. A fully connected layer has shape `channels × 1 × 1`.

use serde::{Deserialize, Serialize};

/// Shape of a layer's input or output: channels, height, width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape3 {
    /// Number of channels (features for a flat layer).
    pub channels: usize,
    /// Height in pixels (1 for a flat layer).
    pub height: usize,
    /// Width in pixels (1 for a flat layer).
    pub width: usize,
}

impl Shape3 {
    /// A shape from channels, height and width.
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        Shape3 {
            channels,
            height,
            width,
        }
    }

    /// A flat (fully connected) shape with `n` features.
    pub const fn flat(n: usize) -> Self {
        Shape3 {
            channels: n,
            height: 1,
            width: 1,
        }
    }

    /// Number of neurons (elements).
    pub const fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True when the shape holds no neurons.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Channel-last index of (y, x, c).
    #[inline]
    pub const fn index(&self, y: usize, x: usize, c: usize) -> usize {
        (y * self.width + x) * self.channels + c
    }
}

impl std::fmt::Display for Shape3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.height == 1 && self.width == 1 {
            write!(f, "{}", self.channels)
        } else {
            write!(f, "{}x{}x{}", self.channels, self.height, self.width)
        }
    }
}

/// An output box: rows `y0..y1`, columns `x0..x1`, channels `c0..c1` of a layer's output.
/// The current it fills is box-local and channel-last: `((y − y0)·(x1 − x0) + x − x0)·(c1 − c0)
/// + c − c0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutBox {
    /// First output row.
    pub y0: usize,
    /// One past the last output row.
    pub y1: usize,
    /// First output column.
    pub x0: usize,
    /// One past the last output column.
    pub x1: usize,
    /// First output channel.
    pub c0: usize,
    /// One past the last output channel.
    pub c1: usize,
}

impl OutBox {
    /// The whole of a layer's output `shape`.
    pub fn full(shape: Shape3) -> Self {
        OutBox {
            y0: 0,
            y1: shape.height,
            x0: 0,
            x1: shape.width,
            c0: 0,
            c1: shape.channels,
        }
    }

    /// Neurons in the box.
    pub fn len(&self) -> usize {
        (self.y1 - self.y0) * (self.x1 - self.x0) * (self.c1 - self.c0)
    }

    /// True when the box holds no neuron.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
