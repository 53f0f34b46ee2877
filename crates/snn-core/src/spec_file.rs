//! Reading and checking network descriptions: TOML parsing with one-line errors that name the
//! file, line and key; value ranges of every field; and the sizes of the derived
//! [`crate::plan`] (shape inference must succeed, neurons and weights are bounded). Kept apart
//! from [`crate::spec`], the plain data, so that the plan can be derived from a description
//! without the description depending on the plan.

use crate::error::SpecError;
use crate::spec::{
    LayerSpec, NetworkSpec, MAX_CHANNELS, MAX_EXTENT, MAX_KERNEL, MAX_NEURONS, MAX_WEIGHTS,
};
use std::path::Path;

impl NetworkSpec {
    /// Parses a TOML description. `origin` names the source in error messages (a file path).
    ///
    /// ```toml
    /// name = "tiny"
    /// input = { channels = 1, height = 28, width = 28 }
    /// [[layer]]
    /// type = "conv"
    /// out_channels = 8
    /// kernel = 5
    /// padding = 2
    /// [[layer]]
    /// type = "pool"
    /// [[layer]]
    /// type = "readout"
    /// out_features = 10
    /// ```
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Self, SpecError> {
        let spec: NetworkSpec = toml::from_str(text).map_err(|e| SpecError::Toml {
            path: origin.to_path_buf(),
            msg: one_line_toml_error(text, &e),
        })?;
        spec.validate().map_err(|e| match e {
            SpecError::Invalid { context, msg } => SpecError::Invalid {
                context: format!("{}: {context}", origin.display()),
                msg,
            },
            other => other,
        })?;
        Ok(spec)
    }

    /// Reads and validates a TOML network file.
    pub fn from_toml_file(path: &Path) -> Result<Self, SpecError> {
        let text =
            crate::bounded::read_text_bounded(path, crate::bounded::MAX_TEXT_BYTES, "network file")
                .map_err(|source| SpecError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
        Self::from_toml_str(&text, path)
    }

    /// Checks values and that the layers fit together (shape inference succeeds).
    pub fn validate(&self) -> Result<(), SpecError> {
        let bad = |msg: String| {
            Err(SpecError::Invalid {
                context: format!("network '{}'", self.name),
                msg,
            })
        };
        if self.name.is_empty() || self.name.len() > 256 || self.name.chars().any(char::is_control)
        {
            return Err(SpecError::Invalid {
                context: "network".into(),
                msg: format!(
                    "name {:?} must be 1 to 256 characters without control characters",
                    self.name
                ),
            });
        }
        let n = &self.neuron;
        if !(n.leak > 0.0 && n.leak <= 1.0) {
            return bad(format!("neuron.leak must be in (0, 1], got {}", n.leak));
        }
        if !(n.threshold > 0.0 && n.threshold.is_finite()) {
            return bad(format!(
                "neuron.threshold must be positive, got {}",
                n.threshold
            ));
        }
        if !(n.pool_threshold > 0.0 && n.pool_threshold.is_finite()) {
            return bad(format!(
                "neuron.pool_threshold must be positive, got {}",
                n.pool_threshold
            ));
        }
        if !(self.input_scale > 0.0 && self.input_scale.is_finite()) {
            return bad(format!(
                "input_scale must be positive, got {}",
                self.input_scale
            ));
        }
        if self.input.is_empty() {
            return bad(format!("input shape {} has no pixels", self.input));
        }
        let i = &self.input;
        if i.channels > MAX_CHANNELS || i.height > MAX_EXTENT || i.width > MAX_EXTENT {
            return bad(format!(
                "input shape {} is too large (at most {MAX_CHANNELS} channels and {MAX_EXTENT}×{MAX_EXTENT} pixels)",
                self.input
            ));
        }
        for (k, layer) in self.layers.iter().enumerate() {
            let at = |msg: String| bad(format!("layer {}: {msg}", k + 1));
            let (width, kernel, stride, padding) = match *layer {
                LayerSpec::Conv {
                    out_channels,
                    kernel,
                    stride,
                    padding,
                } => (out_channels, kernel, stride, padding),
                LayerSpec::Residual {
                    out_channels,
                    stride,
                } => (out_channels, 3, stride, 1),
                LayerSpec::Linear { out_features } | LayerSpec::Readout { out_features } => {
                    (out_features, 1, 1, 0)
                }
                LayerSpec::Pool => continue,
            };
            if !(1..=MAX_CHANNELS).contains(&width) {
                return at(format!(
                    "{width} output channels or features; must be 1..={MAX_CHANNELS}"
                ));
            }
            if !(1..=MAX_KERNEL).contains(&kernel)
                || !(1..=MAX_KERNEL).contains(&stride)
                || padding >= kernel.max(1)
            {
                return at(format!(
                    "kernel {kernel}, stride {stride}, padding {padding}: kernel and stride must be 1..={MAX_KERNEL} and padding below the kernel"
                ));
            }
        }
        let plan = crate::plan::NetworkPlan::new(self)?;
        let neurons: usize = plan.layers.iter().map(|l| l.output.len()).sum();
        let weights = plan.params();
        if neurons > MAX_NEURONS || weights > MAX_WEIGHTS {
            return bad(format!(
                "{neurons} neurons and {weights} weights; at most {MAX_NEURONS} and {MAX_WEIGHTS} are supported"
            ));
        }
        Ok(())
    }
}

/// Turns a toml error into one line: "line L, column C: message". For an unknown field the
/// line of that key is given (toml reports the span of the whole enclosing table).
fn one_line_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().replace('\n', " ");
    let Some(span) = e.span() else { return msg };
    let mut start = span.start.min(text.len());
    if let Some(key) = msg
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        let mut offset = start;
        for (i, line) in text[start..].split_inclusive('\n').enumerate() {
            let trimmed = line.trim_start();
            if i > 0 && trimmed.starts_with('[') {
                break; // the next table: the key was not found in this one
            }
            if trimmed
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                start = offset + (line.len() - trimmed.len());
                break;
            }
            offset += line.len();
        }
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|p| p + 1).unwrap_or(0) + 1;
    format!("line {line}, column {col}: {msg}")
}
