//! What the examples share: the command-line parser of the benchmarks
//! (`benches/src/cli.rs`), included here by path so that there is one copy of it and
//! it stays out of the library (it is no part of beamlet's API).
//!
//! Each example declares `mod common;` and uses the part it needs.

// Each example uses a part of these modules, and the included files' `pub` items are
// the benchmark crate's public API, unreachable from an example's binary.
#![allow(dead_code, unreachable_pub)]

#[path = "../../benches/src/cli.rs"]
pub mod cli;

/// Parses the command line of an example that takes no arguments: `--help` prints
/// `about`, anything else is an error (status 2).
pub fn no_args(name: &str, about: &str) {
    cli::ints(name, about, [], false);
}
