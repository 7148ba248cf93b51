//! Erlang distribution: a runtime as a node of an Erlang/Elixir cluster.

pub mod epmd;
pub mod flags;
pub mod handshake;
