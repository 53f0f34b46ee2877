//! Neuron nodes → one layer's parameters: LIF, IF and LI parameters must be uniform over the
//! layer (scalars or per-neuron arrays), leaks and resets zero; tau becomes a leak factor per
//! step with [`crate::convention`].

use super::{close, Importer, Neuron};
use crate::convention::{beta_of_tau, gain};
use crate::error::NirError;
use crate::graph::{Array, NodeKind};

impl Importer<'_> {
    /// The one value of a parameter array that must be uniform over `neurons` neurons.
    pub(super) fn uniform(
        &self,
        n: usize,
        field: &str,
        a: &Array<f64>,
        neurons: usize,
    ) -> Result<f64, NirError> {
        if a.data.len() != 1 && a.data.len() != neurons {
            return Err(self.node_err(
                n,
                format!(
                    "'{field}' has shape {:?} but the layer has {neurons} neurons",
                    a.shape
                ),
            ));
        }
        let x = a.data[0];
        if let Some(y) = a.data.iter().find(|&&y| !close(x, y)) {
            return Err(self.node_err(
                n,
                format!("'{field}' is not uniform ({x} and {y}); snn needs one value per layer"),
            ));
        }
        if x.is_nan() {
            return Err(self.node_err(n, format!("'{field}' is NaN")));
        }
        Ok(x)
    }

    pub(super) fn zero(
        &self,
        n: usize,
        field: &str,
        a: &Array<f64>,
        neurons: usize,
    ) -> Result<(), NirError> {
        let x = self.uniform(n, field, a, neurons)?;
        if x != 0.0 {
            return Err(self.node_err(n, format!("'{field}' is {x}; snn's neurons need 0")));
        }
        Ok(())
    }

    pub(super) fn beta(&self, n: usize, tau: f64) -> Result<f64, NirError> {
        let beta = if tau.is_infinite() {
            1.0
        } else {
            beta_of_tau(tau, self.dt)
        };
        if !(beta > 0.0 && beta <= 1.0) {
            return Err(self.node_err(
                n,
                format!(
                    "tau {tau} s at dt {} s gives a leak factor {beta}, outside (0, 1]; pass the --dt the file was written with",
                    self.dt
                ),
            ));
        }
        Ok(beta)
    }

    pub(super) fn lif_gain(&self, n: usize, r: f64, tau: f64) -> Result<f64, NirError> {
        let g = if tau.is_infinite() && r.is_infinite() {
            1.0
        } else {
            gain(r, tau, self.dt)
        };
        if !(g > 0.0 && g.is_finite()) {
            return Err(self.node_err(n, format!("input gain r*dt/tau = {g} must be positive")));
        }
        Ok(g)
    }

    pub(super) fn neuron(&self, n: usize, neurons: usize) -> Result<Neuron, NirError> {
        match &self.node(n).kind {
            NodeKind::Lif {
                tau,
                r,
                v_leak,
                v_threshold,
                v_reset,
            } => {
                self.zero(n, "v_leak", v_leak, neurons)?;
                self.zero(n, "v_reset", v_reset, neurons)?;
                let tau = self.uniform(n, "tau", tau, neurons)?;
                let r = self.uniform(n, "r", r, neurons)?;
                let threshold = self.uniform(n, "v_threshold", v_threshold, neurons)?;
                if !(threshold > 0.0 && threshold.is_finite()) {
                    return Err(
                        self.node_err(n, format!("v_threshold {threshold} must be positive"))
                    );
                }
                Ok(Neuron {
                    beta: self.beta(n, tau)?,
                    gain: self.lif_gain(n, r, tau)?,
                    threshold,
                })
            }
            NodeKind::If {
                r,
                v_threshold,
                v_reset,
            } => {
                self.zero(n, "v_reset", v_reset, neurons)?;
                let r = self.uniform(n, "r", r, neurons)?;
                let threshold = self.uniform(n, "v_threshold", v_threshold, neurons)?;
                if !(r > 0.0 && r.is_finite() && threshold > 0.0 && threshold.is_finite()) {
                    return Err(self.node_err(
                        n,
                        format!("r {r} and v_threshold {threshold} must be positive"),
                    ));
                }
                Ok(Neuron {
                    beta: 1.0,
                    gain: r,
                    threshold,
                })
            }
            NodeKind::Li { tau, r, v_leak } => {
                self.zero(n, "v_leak", v_leak, neurons)?;
                let tau = self.uniform(n, "tau", tau, neurons)?;
                let r = self.uniform(n, "r", r, neurons)?;
                Ok(Neuron {
                    beta: self.beta(n, tau)?,
                    gain: self.lif_gain(n, r, tau)?,
                    threshold: f64::INFINITY,
                })
            }
            _ => unreachable!("neuron is called on neuron nodes"),
        }
    }
}
