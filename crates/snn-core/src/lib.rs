//! snn-core
