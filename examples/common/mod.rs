//! What the examples share with the benchmarks: the command-line parser
//! (`benches/src/cli.rs`) and the memory readers (`benches/src/memory.rs`: RSS, peak
//! RSS, available memory), included here by path so that there is one copy of each
//! and they stay out of the library (they are no part of beamlet's API).
//!
//! Each example declares `mod common;` and uses the part it needs.

// Each example uses a part of these modules, and the included files' `pub` items are
// the benchmark crate's public API, unreachable from an example's binary.
#![allow(dead_code, unreachable_pub)]

#[path = "../../benches/src/cli.rs"]
pub mod cli;

#[path = "../../benches/src/memory.rs"]
pub mod memory;

/// Parses the command line of an example that takes no arguments: `--help` prints
/// `about`, anything else is an error (status 2).
pub fn no_args(name: &str, about: &str) {
    cli::ints(name, about, [], false);
}

/// The examples' `OBSERVER` argument: the live observer's port (see [`observer`]).
pub const OBSERVER: cli::Param = cli::Param::new(
    "OBSERVER",
    0,
    "port of the live observer on 127.0.0.1 (0: none)",
)
.max(u16::MAX as u64);

/// Starts the live observer on `127.0.0.1:port` with its actions on, and prints its
/// address; `None` for port 0 (the examples' "no observer").
pub fn observer(rt: &beamlet::Runtime, port: u16) -> Option<beamlet::otp::observer::Observer> {
    use beamlet::otp::observer::{self, Config};
    (port > 0).then(|| {
        let config = Config::new(([127, 0, 0, 1], port)).actions(true);
        let obs = observer::start_in(rt, config).expect("the observer");
        println!("observer: http://{}/", obs.local_addr());
        obs
    })
}
