//! snn-plot
