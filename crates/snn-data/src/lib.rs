//! snn-data
