//! beamlet: Erlang's BEAM and OTP as a Rust library.
//!
//! Embed a [`Runtime`] in a program and run Erlang-style processes in it: closures
//! on small pooled stacks, each with a mailbox, scheduled by one work-stealing
//! scheduler per core; failure travels through links, monitors and exit signals;
//! the OTP behaviours are ordinary processes on top.
//!
//! # What is where
//!
//! - **The top level is the runtime** (the crate `beamlet-runtime`, re-exported
//!   whole): [`Runtime`] and its [`builder`](Runtime::builder), processes
//!   ([`spawn`], [`spawn_link`], [`spawn_opt`], [`self_pid`], [`exit`]), messages
//!   ([`send`], [`receive`](fn@receive), [`receive_match`], [`receive_timeout`],
//!   and [`receive!`](macro@receive) for one of several types), links and
//!   monitors ([`link`], [`monitor`], [`trap_exit`], [`Exit`], [`Down`]), names
//!   ([`register`], [`whereis`]), timers ([`sleep`], [`send_after`]), mailbox
//!   limits ([`backpressure`]), sockets ([`net`]) and crash reports ([`report`]).
//!   The runtime's own documentation starts at [`beamlet_runtime`].
//! - **[`otp`] holds the behaviours** (the crate `beamlet-stdlib`):
//!   [`otp::gen_server`], [`otp::gen_statem`], [`otp::gen_event`],
//!   [`otp::supervisor`], [`otp::dynamic_supervisor`], [`otp::task`],
//!   [`otp::agent`], [`otp::registry`], [`otp::application`], [`otp::sys`], and
//!   the call protocol they share, [`otp::behaviour`].
//!
//! Every example in the documentation of both parts uses these paths
//! (`beamlet::...`, `beamlet::otp::...`), so it can be copied into a program that
//! depends on `beamlet` alone.
//!
//! # Adding the dependency
//!
//! beamlet is not on crates.io; depend on it by path or by git:
//!
//! ```toml
//! [dependencies]
//! beamlet = { path = "../beamlet" }
//! # beamlet = { git = "<the repository's URL>", branch = "main" }
//! ```
//!
//! Keep `panic = "unwind"` (the default): a process's panic becomes its exit
//! reason, and [`RuntimeBuilder::build`] refuses a `panic = "abort"` build.
//!
//! # Example
//!
//! A process, a message, and a server:
//!
//! ```
//! use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init};
//! use beamlet::{receive, self_pid, send, spawn, Runtime};
//!
//! struct Counter(u64);
//!
//! impl GenServer for Counter {
//!     type Args = u64;
//!     type Call = u64;
//!     type Reply = u64;
//!     type Cast = ();
//!     type Continue = ();
//!     fn init(start: u64) -> Init<Self, ()> {
//!         Init::Ok(Counter(start))
//!     }
//!     fn handle_call(&mut self, add: u64, _: Caller<u64>) -> CallReply<u64, ()> {
//!         self.0 += add;
//!         CallReply::Reply(self.0)
//!     }
//! }
//!
//! let rt = Runtime::builder().build().unwrap();
//! let (n, total) = rt.block_on(|| {
//!     let me = self_pid();
//!     spawn(move || send(me, 7u32).unwrap()).unwrap();
//!     let n = receive::<u32>();
//!     let counter = gen_server::start_link::<Counter>(40).unwrap();
//!     (n, gen_server::call(counter, 2).unwrap())
//! }).unwrap();
//! assert_eq!((n, total), (7, 42));
//! rt.shutdown();
//! ```

pub use beamlet_runtime::*;

/// The OTP behaviours, built on the runtime (the crate `beamlet-stdlib`): generic
/// servers, state machines, event managers, supervisors, tasks, agents,
/// registries and applications.
pub mod otp {
    pub use beamlet_stdlib::*;
}

/// The README's example, compiled and run as a doctest so that it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
