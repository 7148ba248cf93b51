//! OTP behaviours for beamlet, built as ordinary processes on `beamlet-runtime`.
//!
//! This crate is being built: the runtime core lands first. It currently re-exports
//! nothing beyond the runtime's own API.

pub use beamlet_runtime as runtime;
