//! pingpong: round trips between two processes.
//!
//! Usage: `pingpong [M=1000000] [SCHEDULERS=0]`. The root spawns a ponger that answers
//! every ping with a pong, plays [`WARMUP`] untimed round trips, then times M round
//! trips (send a ping, wait for the pong).
//!
//! Key: `ns_per_rt`.
//!
//! Guards against regressions in the message round trip between a pair of processes:
//! send, wake into the next slot, receive, coroutine switch — twice per round trip —
//! and against a pair being split across schedulers (which costs cross-core wake-ups).

use std::time::Instant;

use beamlet::{Pid, receive, self_pid, send, spawn};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, ns_per, runtime, shutdown,
};

/// Untimed round trips played first.
const WARMUP: u64 = 10_000;

/// What the ponger receives.
enum Ping {
    /// Answer with a [`Pong`].
    Ball,
    /// Exit.
    Stop,
}

/// The answer to [`Ping::Ball`].
struct Pong;

fn main() {
    let [m, schedulers] = args(
        "pingpong",
        "pingpong: M round trips between two processes (after 10,000 untimed ones).",
        [Param::new("M", 1_000_000, "round trips"), SCHEDULERS],
    );
    let rt = runtime(schedulers);
    let t = expect_ok(rt.block_on(move || run(m)));
    shutdown(rt);
    Report::new("pingpong", m, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("ns_per_rt", fixed(ns_per(t.elapsed, m), 1))
        .print();
}

/// The root process: the pinger.
fn run(m: u64) -> Timed {
    let root = self_pid();
    let ponger = spawn(move || pong(root)).unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    rounds(ponger, WARMUP);
    let t = Instant::now();
    rounds(ponger, m);
    let timed = Timed::since(t);
    post(ponger, Ping::Stop);
    timed
}

fn rounds(ponger: Pid, m: u64) {
    for _ in 0..m {
        post(ponger, Ping::Ball);
        receive::<Pong>();
    }
}

/// The ponger: answers pings until stopped.
fn pong(root: Pid) {
    while let Ping::Ball = receive::<Ping>() {
        post(root, Pong);
    }
}

/// Sends, treating a dead receiver as a benchmark failure.
fn post<M: Send + 'static>(to: Pid, msg: M) {
    if send(to, msg).is_err() {
        fail(format_args!("{to:?} is dead"));
    }
}
