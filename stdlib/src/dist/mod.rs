//! Erlang distribution: a runtime as a node of an Erlang/Elixir cluster.
//!
//! - [`term`]: Erlang terms and the external term format (the codec of every message).

pub mod epmd;
pub mod flags;
pub mod handshake;
pub mod term;
