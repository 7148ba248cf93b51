//! timers: many processes sleeping 1 ms at a time, and how late they wake.
//!
//! Usage: `timers [N=100000] [K=10] [SCHEDULERS=0]`. The root spawns N processes; each
//! sleeps 1 ms K times, recording for each sleep its lateness (elapsed time minus
//! 1 ms), and finally sends its K samples to the root. Time runs from before the
//! first spawn until the root has every process's samples.
//!
//! Keys: `total_ms`, `late_mean_us`, `late_p99_us`, `late_max_us` (over all N×K
//! sleeps; nearest-rank percentiles, see `beamlet_benches::latency`).
//!
//! Guards against regressions in the per-core timer wheels (insert, poll, cascade),
//! in parking until the next deadline (timer slack, oversleeping), and in the run
//! queue under a burst of simultaneous wake-ups.

use std::time::{Duration, Instant};

use beamlet::{Pid, receive, self_pid, send, sleep, spawn};
use beamlet_benches::latency::Latency;
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, runtime, shutdown,
};

/// The sleep each process repeats.
const NAP: Duration = Duration::from_millis(1);

/// One process's lateness samples, in nanoseconds.
struct Samples(Vec<u64>);

fn main() {
    let [n, k, schedulers] = args(
        "timers",
        "timers: N processes each sleeping 1 ms K times; how late they wake.",
        [
            Param::new("N", 100_000, "sleeping processes"),
            Param::new("K", 10, "sleeps per process"),
            SCHEDULERS,
        ],
    );
    let rt = runtime(schedulers);
    let (late, t) = expect_ok(rt.block_on(move || run(n, k)));
    shutdown(rt);
    let late = Latency::from_ns(late);
    let report = Report::new("timers", n, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("total_ms", fixed(t.elapsed.as_secs_f64() * 1e3, 1))
        .key("late_mean_us", fixed(late.mean_ns() / 1e3, 1));
    late.keys_us(report, "late_", &["99"]).print();
}

/// The root process: spawns the sleepers and gathers their samples.
fn run(n: u64, k: u64) -> (Vec<u64>, Timed) {
    let root = self_pid();
    let t = Instant::now();
    for _ in 0..n {
        spawn(move || sleeper(root, k)).unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    }
    let mut late = Vec::new();
    for _ in 0..n {
        late.extend(receive::<Samples>().0);
    }
    (late, Timed::since(t))
}

/// Sleeps [`NAP`] `k` times and reports how late each wake-up was.
fn sleeper(root: Pid, k: u64) {
    let samples = (0..k).map(|_| nap_lateness()).collect();
    if send(root, Samples(samples)).is_err() {
        fail("the collector is dead");
    }
}

fn nap_lateness() -> u64 {
    let t = Instant::now();
    sleep(NAP);
    let late = t.elapsed().saturating_sub(NAP);
    u64::try_from(late.as_nanos()).unwrap_or(u64::MAX)
}
