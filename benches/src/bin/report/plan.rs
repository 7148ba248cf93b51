//! What the report runs: each benchmark over a range of sizes.

use std::time::Duration;

/// A run longer than this is killed and recorded as failed.
pub(crate) const TIME_LIMIT: Duration = Duration::from_secs(120);

/// One benchmark with one set of arguments, run `reps` times.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// The bench target's name.
    pub(crate) bench: &'static str,
    /// Its positional arguments.
    pub(crate) args: Vec<String>,
    /// How many times to run it (the report keeps the median).
    pub(crate) reps: usize,
}

fn step(bench: &'static str, args: &[u64], reps: usize) -> Step {
    Step {
        bench,
        args: args.iter().map(u64::to_string).collect(),
        reps,
    }
}

/// The sizes N for the per-process charts: 10^3 up to 10^6 (10^5 when quick).
fn sizes(quick: bool) -> Vec<u64> {
    let top = if quick { 5 } else { 6 };
    (3..=top).map(|e| 10u64.pow(e)).collect()
}

/// The plan: 69 runs up to N = 10^6 (several minutes on 2 cores), or 19 quick ones
/// up to 10^5 (seconds).
pub(crate) fn plan(quick: bool) -> Vec<Step> {
    let reps = if quick { 1 } else { 3 };
    // Total ring hops per run: enough to dwarf the start-up, small enough for 10^6.
    let hops: u64 = if quick { 1_000_000 } else { 4_000_000 };
    let mut plan = Vec::new();
    for hib in [0, 1] {
        for &n in &sizes(quick) {
            plan.push(step("spawn_idle", &[n, hib], reps));
        }
    }
    for &n in &sizes(quick) {
        plan.push(step("ring", &[n, (hops / n).max(1)], reps));
    }
    for &n in &sizes(quick) {
        plan.push(step("skynet", &[n], reps));
    }
    for &n in &sizes(quick) {
        if n <= 100_000 {
            plan.push(step("timers", &[n, 10], reps));
        }
    }
    plan.push(step(
        "pingpong",
        &[if quick { 200_000 } else { 1_000_000 }],
        reps,
    ));
    plan.push(step("fanin", &[1000, if quick { 200 } else { 1000 }], reps));
    let ms = if quick { 1000 } else { 2000 };
    for pay in [1, 0] {
        plan.push(step("fairness", &[8, ms, 0, pay], reps));
    }
    plan
}
