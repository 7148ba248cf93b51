//! ring: a token passed M times round a ring of N processes.
//!
//! Usage: `ring [N=10000] [M=100] [SCHEDULERS=0]`. The root spawns N members, tells
//! each its successor (the last one's is the first), then sends the first a token
//! carrying the number of hops left, N×M. Each member passes it on with one hop less;
//! the member that receives it at zero tells the root. Only the N×M member-to-member
//! hops are timed (set-up and tear-down are not).
//!
//! Key: `ns_per_hop`.
//!
//! Guards against regressions in the send → wake → switch path of a process woken by
//! the one running before it (the scheduler's next slot, the mailbox push and pop,
//! the coroutine switch).

use std::time::Instant;

use beamlet::{Pid, receive, self_pid, send, spawn};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, ns_per, runtime, shutdown,
};

/// What ring members receive once they know their successor.
enum Msg {
    /// The token, with the number of hops still to go.
    Token(u64),
    /// Tear-down, with the number of members still to stop.
    Stop(u64),
}

/// The token has gone all the way round.
struct Done;

fn main() {
    let [n, m, schedulers] = args(
        "ring",
        "ring: a token passed M times round a ring of N processes.",
        [
            Param::new("N", 10_000, "processes in the ring").min(1),
            Param::new("M", 100, "times the token goes round"),
            SCHEDULERS,
        ],
    );
    let rt = runtime(schedulers);
    let hops = n * m;
    let t = expect_ok(rt.block_on(move || run(n, hops)));
    shutdown(rt);
    Report::new("ring", n, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("ns_per_hop", fixed(ns_per(t.elapsed, hops), 1))
        .print();
}

/// The root process: builds the ring, times the token, stops the ring.
fn run(n: u64, hops: u64) -> Timed {
    let members = build(n);
    let t = Instant::now();
    post(members[0], Msg::Token(hops));
    receive::<Done>();
    let timed = Timed::since(t);
    post(members[0], Msg::Stop(n));
    receive::<Done>();
    timed
}

/// Spawns `n` members and links each to its successor.
fn build(n: u64) -> Vec<Pid> {
    let root = self_pid();
    let members: Vec<Pid> = (0..n)
        .map(|_| spawn(move || member(root)).unwrap_or_else(|e| fail(format_args!("spawn: {e}"))))
        .collect();
    for (i, &pid) in members.iter().enumerate() {
        let next = members[(i + 1) % members.len()];
        post(pid, next);
    }
    members
}

/// A ring member: learns its successor, then forwards the token until stopped.
fn member(root: Pid) {
    let next = receive::<Pid>();
    loop {
        match receive::<Msg>() {
            Msg::Token(0) => post(root, Done),
            Msg::Token(left) => post(next, Msg::Token(left - 1)),
            Msg::Stop(1) => return post(root, Done),
            Msg::Stop(left) => return post(next, Msg::Stop(left - 1)),
        }
    }
}

/// Sends, treating a dead receiver as a benchmark failure.
fn post<M: Send + 'static>(to: Pid, msg: M) {
    if send(to, msg).is_err() {
        fail(format_args!("{to:?} is dead"));
    }
}
