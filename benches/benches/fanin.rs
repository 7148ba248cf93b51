//! fanin: many senders flooding one receiver.
//!
//! Usage: `fanin [K=1000] [L=1000] [SCHEDULERS=0]`. The root (the receiver) spawns K
//! senders; each sends L messages (`u64`) to the root and exits. Time runs from before
//! the first spawn until the root has received all K×L messages; their sum is checked.
//!
//! Key: `msgs_per_sec` (K×L over the elapsed time).
//!
//! Guards against regressions in the multi-producer mailbox under contention (the
//! inbound push from several schedulers, the receiver's batch take), in waking a
//! receiver from other schedulers, and in spawning the senders.

use std::time::Instant;

use beamlet::{Pid, receive, self_pid, send, spawn};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, runtime, shutdown,
};

fn main() {
    let [k, l, schedulers] = args(
        "fanin",
        "fanin: K senders each sending L messages to one receiver.",
        [
            Param::new("K", 1_000, "sender processes"),
            Param::new("L", 1_000, "messages per sender"),
            SCHEDULERS,
        ],
    );
    let rt = runtime(schedulers);
    let t = expect_ok(rt.block_on(move || run(k, l)));
    shutdown(rt);
    let rate = (k * l) as f64 / t.elapsed.as_secs_f64().max(1e-9);
    Report::new("fanin", k, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("msgs_per_sec", fixed(rate, 0))
        .print();
}

/// The root process: spawns the senders and receives everything.
fn run(k: u64, l: u64) -> Timed {
    let root = self_pid();
    let t = Instant::now();
    for _ in 0..k {
        spawn(move || flood(root, l)).unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    }
    let mut sum = 0u64;
    for _ in 0..k * l {
        sum += receive::<u64>();
    }
    let timed = Timed::since(t);
    let want = k * (l * l.saturating_sub(1) / 2);
    if sum != want {
        fail(format_args!("received sum {sum}, expected {want}"));
    }
    timed
}

/// A sender: sends `0..l` to `to`.
fn flood(to: Pid, l: u64) {
    for i in 0..l {
        if send(to, i).is_err() {
            fail("the receiver is dead");
        }
    }
}
