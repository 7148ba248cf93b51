//! fairness: how late a 1 ms ticker wakes while hogs keep every scheduler busy.
//!
//! Usage: `fairness [H=8] [MS=2000] [Y=0] [PAY=1] [SCHEDULERS=0]`. H hog processes
//! loop on pure arithmetic; with `PAY=1` they call `reduce(1)` every iteration, with
//! `PAY=0` they never call into the runtime (only the system monitor's hand-off can
//! rescue the schedulers they hold). One ticker process sleeps 1 ms in a loop for MS
//! milliseconds and records how late each wake-up was; with `Y=1` it also yields once
//! after waking, so the wake-up passes through the run queue.
//!
//! Keys: `wakeups`, `p50_us`, `p99_us`, `max_us`, `pay`, and the rest of the lateness
//! distribution for charts (`benches/src/bin/report`): `p10_us`, `p25_us`, `p75_us`,
//! `p90_us`, `p999_us` (nearest-rank percentiles, see `beamlet_benches::latency`).
//!
//! Guards against regressions in preemption: the reduction budget (PAY=1), the
//! system monitor and core hand-off (PAY=0), and timer firing under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use beamlet::{receive, reduce, self_pid, send, sleep, spawn, yield_now};
use beamlet_benches::latency::{Latency, us};
use beamlet_benches::{Param, Report, SCHEDULERS, args, expect_ok, fail, runtime, shutdown};

/// The ticker's nap.
const NAP: Duration = Duration::from_millis(1);

fn main() {
    let [h, ms, y, pay, schedulers] = args(
        "fairness",
        "fairness: how late a 1 ms ticker wakes while H hogs keep every scheduler busy.",
        [
            Param::new("H", 8, "hog processes"),
            Param::new("MS", 2000, "how long the ticker runs, in ms"),
            Param::new("Y", 0, "1: the ticker yields once after each wake-up").max(1),
            Param::new("PAY", 1, "1: hogs call reduce(1) each iteration; 0: never").max(1),
            SCHEDULERS,
        ],
    );
    let (y, pay) = (y != 0, pay != 0);
    let rt = runtime(schedulers);
    let start = Instant::now();
    let late = Latency::from_ns(expect_ok(rt.block_on(move || run(h, ms, y, pay))));
    let elapsed = start.elapsed();
    shutdown(rt);
    let report = Report::new("fairness", h, elapsed).key("wakeups", late.count());
    late.keys_us(report, "", &["50", "99"])
        .key("pay", u8::from(pay))
        .key("p10_us", us(late.quantile_ns(0.10)))
        .key("p25_us", us(late.quantile_ns(0.25)))
        .key("p75_us", us(late.quantile_ns(0.75)))
        .key("p90_us", us(late.quantile_ns(0.90)))
        .key("p999_us", us(late.quantile_ns(0.999)))
        .print();
}

/// Runs the hogs and the ticker; returns the ticker's lateness samples (ns).
fn run(h: u64, ms: u64, y: bool, pay: bool) -> Vec<u64> {
    let stop = Arc::new(AtomicBool::new(false));
    for _ in 0..h {
        let stop = stop.clone();
        spawn(move || hog(&stop, pay)).unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    }
    let root = self_pid();
    spawn(move || {
        let samples = tick(Duration::from_millis(ms), y);
        send(root, samples).unwrap_or_else(|_| fail("root gone"));
    })
    .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    let samples = receive::<Vec<u64>>();
    stop.store(true, Ordering::Relaxed);
    samples
}

/// Pure arithmetic until told to stop; pays a reduction per iteration if `pay`.
fn hog(stop: &AtomicBool, pay: bool) {
    let mut x = 1u64;
    while !stop.load(Ordering::Relaxed) {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        if pay {
            reduce(1);
        }
    }
}

/// Sleeps 1 ms at a time for `total`, recording each wake-up's lateness.
fn tick(total: Duration, y: bool) -> Vec<u64> {
    let end = Instant::now() + total;
    let mut late = Vec::new();
    while Instant::now() < end {
        let t = Instant::now();
        sleep(NAP);
        if y {
            yield_now();
        }
        late.push(t.elapsed().saturating_sub(NAP).as_nanos() as u64);
    }
    late
}
