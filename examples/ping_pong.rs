//! Ping pong: two processes batting a ball back and forth, then a counter of how many
//! round trips a pair manages in a second.
//!
//! ```text
//! cargo run --release --example ping_pong
//! ```

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use beamlet::{Pid, receive, self_pid, send, spawn};

/// The ball, carrying who hit it and how many hits so far.
struct Ball {
    from: Pid,
    hits: u32,
}

/// Hits the ball back until it has been hit `max` times, printing each hit. The
/// player who receives the last hit hands the ball back once more (so the other
/// stops too) and leaves.
fn player(name: &'static str, max: u32, quiet: bool) {
    loop {
        let Ball { from, hits } = receive::<Ball>();
        let me = self_pid();
        if hits >= max {
            let _ = send(from, Ball { from: me, hits });
            return;
        }
        if !quiet {
            println!("   {name} hits the ball ({})", hits + 1);
        }
        let _ = send(
            from,
            Ball {
                from: me,
                hits: hits + 1,
            },
        );
    }
}

/// Plays one rally of `max` hits; returns when both players have left.
fn rally(max: u32, quiet: bool) -> u32 {
    let ping = spawn(move || player("ping", max, quiet)).expect("spawn");
    let pong = spawn(move || player("pong", max, quiet)).expect("spawn");
    let _ = send(
        ping,
        Ball {
            from: pong,
            hits: 0,
        },
    );
    while beamlet::is_alive(ping) || beamlet::is_alive(pong) {
        beamlet::sleep(Duration::from_millis(1));
    }
    max
}

fn main() -> ExitCode {
    common::no_args(
        "ping_pong",
        "ping_pong: two processes batting a ball, then how many round trips a pair makes in a second.\n\n\
         Environment: BEAMLET_CI=1 counts for 100 ms instead of 1 s.",
    );
    let ci = std::env::var_os("BEAMLET_CI").is_some();
    beamlet::run(move || {
        println!("-- a short rally");
        rally(6, false);
        println!("-- how many hits in {} ms?", if ci { 100 } else { 1000 });
        let window = Duration::from_millis(if ci { 100 } else { 1000 });
        let start = Instant::now();
        let mut hits = 0u64;
        while start.elapsed() < window {
            hits += u64::from(rally(10_000, true));
        }
        let rate = hits as f64 / start.elapsed().as_secs_f64();
        println!("   {hits} hits, {rate:.0} hits per second");
        println!("done");
    })
}
