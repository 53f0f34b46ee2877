//! snn-train
