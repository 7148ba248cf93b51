//! beamlet: Erlang's BEAM and OTP as a Rust library.
//!
//! This facade re-exports the runtime ([`beamlet_runtime`]) at the top level and the
//! OTP behaviours ([`beamlet_stdlib`]) under [`otp`].
//!
//! ```
//! use beamlet::{receive, self_pid, send, spawn, Runtime};
//! let rt = Runtime::builder().build().unwrap();
//! let n = rt.block_on(|| {
//!     let me = self_pid();
//!     spawn(move || send(me, 7u32).unwrap()).unwrap();
//!     receive::<u32>()
//! }).unwrap();
//! assert_eq!(n, 7);
//! rt.shutdown();
//! ```

pub use beamlet_runtime::*;

/// OTP behaviours built on the runtime.
pub mod otp {
    pub use beamlet_stdlib::*;
}

/// The README's example, compiled and run as a doctest so that it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
