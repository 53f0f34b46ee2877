//! Chip models: see hardware-models/README.md.
