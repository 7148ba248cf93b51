//! Erlang distribution: a runtime as a node of an Erlang/Elixir cluster.
