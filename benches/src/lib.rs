//! Shared helpers for the benchmark binaries: argument parsing, RSS, the result line.
