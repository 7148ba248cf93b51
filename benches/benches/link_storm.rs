//! link_storm: how fast an exit travels through a crowd of linked processes.
//!
//! Usage: `link_storm [N=100000] [SCHEDULERS=0]`. The root spawns a head process that
//! spawns N processes all linked to it (a star: the head links to every one), each
//! blocked in `receive`. The root then kills the head and times until every process
//! is dead (`process_count` back to the root alone).
//!
//! Key: `secs`.
//!
//! Guards against regressions in exit propagation: the exit path signalling every
//! link, and many processes dying at once (mailbox close, slot and stack release).

use std::time::{Duration, Instant};

use beamlet::{ExitReason, Pid, exit_pid, receive, self_pid, send, spawn, spawn_link};
use beamlet_benches::{Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, runtime, shutdown};

fn main() {
    let [n, schedulers] = args(
        "link_storm",
        "link_storm: N processes linked to one head; kill the head, time until all are dead.",
        [Param::new("N", 100_000, "linked processes"), SCHEDULERS],
    );
    let rt = runtime(schedulers);
    let head = expect_ok(rt.block_on(move || build(n)));
    let t = Instant::now();
    expect_ok(rt.block_on(move || exit_pid(head, ExitReason::Kill)));
    while rt.process_count() > 0 {
        std::thread::sleep(Duration::from_micros(200));
    }
    let timed = Timed::since(t);
    shutdown(rt);
    Report::new("link_storm", n, timed.elapsed)
        .rss_kib(timed.rss_kib)
        .print();
}

/// Spawns the head and its N linked processes; returns the head once all are up.
fn build(n: u64) -> Pid {
    let root = self_pid();
    let head = spawn(move || {
        for _ in 0..n {
            spawn_link(|| {
                receive::<()>();
            })
            .unwrap_or_else(|e| fail(format_args!("spawn_link: {e}")));
        }
        send(root, ()).unwrap_or_else(|_| fail("root gone"));
        receive::<()>();
    })
    .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    receive::<()>();
    head
}
