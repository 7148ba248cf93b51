//! task_await: starting a task and awaiting its result, over and over.
//!
//! Usage: `task_await [N=1000000] [B=1] [SCHEDULERS=0]`. The root runs N tasks in
//! rounds of B: each round spawns B tasks with `task::spawn` (Elixir's
//! `Task.async`: linked, monitored, replying to an alias), each returning its
//! number, then awaits them in order with `wait`. The sum of the results is
//! checked.
//!
//! Keys: `tasks_per_sec` (N over the elapsed time), `us_per_task`.
//!
//! Guards against regressions in the task path: mailbox mark, alias, spawn with a
//! link, monitor, the task's `catch_exit`, reply through the alias, unlink, exit and
//! `Down`, and the owner's selective receive, demonitor and unalias.

use std::time::Instant;

use beamlet::otp::task::{self, Task};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, ns_per, runtime, shutdown,
};

fn main() {
    let [n, b, schedulers] = args(
        "task_await",
        "task_await: N tasks spawned and awaited, in rounds of B.",
        [
            Param::new("N", 1_000_000, "tasks"),
            Param::new("B", 1, "tasks per round (1: one at a time)").min(1),
            SCHEDULERS,
        ],
    );
    let rt = runtime(schedulers);
    let t = expect_ok(rt.block_on(move || run(n, b)));
    shutdown(rt);
    let rate = n as f64 / t.elapsed.as_secs_f64().max(1e-9);
    Report::new("task_await", n, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("b", b)
        .key("tasks_per_sec", fixed(rate, 0))
        .key("us_per_task", fixed(ns_per(t.elapsed, n) / 1000.0, 2))
        .print();
}

/// The root process: N tasks in rounds of B, the sum checked.
fn run(n: u64, b: u64) -> Timed {
    let start = Instant::now();
    let mut sum = 0u64;
    let mut next = 0u64;
    while next < n {
        let round = b.min(n - next);
        let tasks: Vec<Task<u64>> = (next..next + round)
            .map(|i| task::spawn(move || i).unwrap_or_else(|e| fail(format_args!("spawn: {e}"))))
            .collect();
        for t in tasks {
            sum += t
                .wait()
                .unwrap_or_else(|e| fail(format_args!("await: {e}")));
        }
        next += round;
    }
    let timed = Timed::since(start);
    let expected = n * n.saturating_sub(1) / 2;
    if sum != expected {
        fail(format_args!(
            "the results sum to {sum}, expected {expected}"
        ));
    }
    timed
}
