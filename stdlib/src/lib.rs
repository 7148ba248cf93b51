//! OTP behaviours for beamlet, built as ordinary processes on `beamlet-runtime`.
//!
//! - [`behaviour`]: the call protocol ([`Caller`](behaviour::Caller), OTP's `From`) and the
//!   synchronous start shared by the behaviours (OTP's `gen` and `proc_lib`).
//! - [`gen_server`]: generic servers ([`GenServer`]).
//! - [`gen_statem`]: generic state machines ([`GenStateMachine`]): postponing,
//!   inserted events, event / state / generic timeouts, state enter calls.
//! - [`sys`]: system messages every server answers (state, suspension, statistics).
//! - [`supervisor`]: supervisors with static children and restart strategies.
//! - [`application`](mod@crate::application): applications (named trees with versions and dependencies)
//!   started and stopped as a whole by a controller, with OTP's restart types.
//! - [`dynamic_supervisor`]: supervisors of children started on demand.
//! - [`gen_event`]: event managers running each event through their installed
//!   handlers ([`EventHandler`](gen_event::EventHandler)).
//! - [`task`]: one-off functions run in their own process and awaited (Elixir's
//!   `Task`), task supervisors, and bounded-concurrency streams.
//! - [`agent`]: a process holding a state, read and changed with functions
//!   (Elixir's `Agent`).
//! - `dist` (feature `dist`): Erlang distribution, the runtime as a node of an
//!   Erlang/Elixir cluster (terms, the handshake, remote pids, calls across nodes).
//! - `observer` (feature `observer`): the live observer, a web page and JSON API
//!   on the runtime's own processes showing processes, supervision trees and load.
//! - [`registry`]: key-value process registries (Elixir's `Registry`), read without
//!   going through a process; unique keys also name servers ([`name`]).
//!
//! - [`etop`]: a terminal view of the busiest processes (Erlang's `etop`).
//!
//! The facade crate `beamlet` re-exports this crate as `beamlet::otp`.

pub mod agent;
pub mod application;
pub mod behaviour;
#[cfg(feature = "dist")]
pub mod dist;
pub mod etop;
pub mod gen_event;
pub mod gen_server;
pub mod gen_statem;
pub mod name;
#[cfg(feature = "observer")]
pub mod observer;
pub mod registry;
pub mod supervisor;
pub mod sys;
pub mod task;

// The dynamic supervisor lives with the supervisor (`supervisor::dynamic`); its
// public path stays `dynamic_supervisor`.
#[doc(inline)]
pub use supervisor::dynamic as dynamic_supervisor;

pub use beamlet_runtime as runtime;
pub use behaviour::{CallError, StartError};
pub use gen_server::{GenServer, ServerRef};
pub use gen_statem::{GenStateMachine, MachineRef};
