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
