//! Spike-activity profiles: per-neuron spike counts measured on sample data.
