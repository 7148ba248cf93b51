//! monitor_churn: monitor + demonitor pairs per second.
//!
//! Usage: `monitor_churn [N=1000000] [SCHEDULERS=0]`. The root monitors a live idle
//! process and demonitors it (with flush) N times.
//!
//! Keys: `secs`, `ns_per_pair`.
//!
//! Guards against regressions in the monitor protocol: the relation tables, the
//! monitor and demonitor signals, and the flush scan.

use std::time::Instant;

use beamlet::{ExitReason, demonitor, exit_pid, monitor, receive, spawn};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, ns_per, runtime, shutdown,
};

fn main() {
    let [n, schedulers] = args(
        "monitor_churn",
        "monitor_churn: N monitor + demonitor(flush) pairs on one live process.",
        [
            Param::new("N", 1_000_000, "monitor/demonitor pairs"),
            SCHEDULERS,
        ],
    );
    let rt = runtime(schedulers);
    let t = expect_ok(rt.block_on(move || run(n)));
    shutdown(rt);
    Report::new("monitor_churn", n, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("ns_per_pair", fixed(ns_per(t.elapsed, n), 1))
        .print();
}

fn run(n: u64) -> Timed {
    let target = spawn(|| {
        receive::<()>();
    })
    .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    let t = Instant::now();
    for _ in 0..n {
        let m = monitor(target);
        if !demonitor(m, true) {
            fail("the monitor was not active");
        }
    }
    let timed = Timed::since(t);
    exit_pid(target, ExitReason::Kill);
    timed
}
