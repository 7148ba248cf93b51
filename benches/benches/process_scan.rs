//! process_scan: what a whole-runtime scan (`for_each_process`, the observer's
//! process table) costs, and how long it holds up everyone else.
//!
//! Usage: `process_scan [N=1000000] [SCANS=5] [SCHEDULERS=0]`. The root spawns N
//! processes that block in `receive`, then starts a probe: a process that sleeps
//! 1 ms in a loop and records how late each wake-up is. The probe first runs alone
//! for a baseline (as many wake-ups as the scans will take), then alongside a scanner
//! process that runs SCANS scans back to back; each scan keeps the top 50 processes
//! by reductions, as the observer's table does. With one scheduler the scanner and
//! the probe share it, so the probe's lateness is how long the scan held its
//! scheduler at a time (the scan is preempted by reductions, as any long loop).
//!
//! Keys: `scan_ms` (the mean time of one scan of N + 2 processes),
//! `ns_per_proc`, `probe_max_late_ms` / `probe_p99_late_ms` during the scans, and
//! `baseline_max_late_ms` without them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use beamlet::{Pid, for_each_process, receive, self_pid, send, sleep, spawn};
use beamlet_benches::latency::Latency;
use beamlet_benches::{
    Param, Report, SCHEDULERS, args, expect_ok, fail, fixed, note, runtime, shutdown,
};

/// Rows a scan keeps (the observer's default page is 50).
const TOP: usize = 50;
/// The probe's sleep.
const TICK: Duration = Duration::from_millis(1);

/// What the probe is told, and what it answers.
enum Probe {
    /// Record lateness until `Stop`.
    Start,
    /// Stop and answer with the lateness samples.
    Stop(Pid),
    /// Exit.
    Quit,
}

struct Samples(Latency);

/// One measured run.
struct Measured {
    scan: Duration,
    during: Latency,
    baseline: Latency,
}

fn main() {
    let [n, scans, schedulers] = args(
        "process_scan",
        "process_scan: scan N idle processes with for_each_process while a 1 ms probe measures how late it wakes.",
        [
            Param::new("N", 1_000_000, "idle processes"),
            Param::new("SCANS", 5, "scans timed back to back"),
            SCHEDULERS,
        ],
    );
    let scans = scans.max(1);
    let rt = runtime(schedulers);
    let m = expect_ok(rt.block_on(move || run(n, scans)));
    shutdown(rt);
    let per_scan = m.scan / scans as u32;
    Report::new("process_scan", n, m.scan)
        .key("scan_ms", fixed(per_scan.as_secs_f64() * 1e3, 1))
        .key(
            "ns_per_proc",
            fixed(per_scan.as_nanos() as f64 / (n + 2) as f64, 1),
        )
        .key("probe_max_late_ms", fixed(ms(m.during.max_ns()), 2))
        .key(
            "probe_p99_late_ms",
            fixed(ms(m.during.quantile_ns(0.99)), 2),
        )
        .key("baseline_max_late_ms", fixed(ms(m.baseline.max_ns()), 2))
        .print();
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn run(n: u64, scans: u64) -> Measured {
    note(format_args!("spawning {n} idle processes"));
    let idle: Vec<Pid> = (0..n)
        .map(|_| {
            spawn(|| {
                receive::<()>();
            })
            .unwrap_or_else(|e| fail(format_args!("spawn: {e}")))
        })
        .collect();
    let probe = spawn(probe).unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    // Baseline: the probe alone, for about as long as one scan takes.
    let t = Instant::now();
    let one = scan();
    let single = t.elapsed().max(Duration::from_millis(100));
    let baseline = probe_for(probe, || sleep(single * scans as u32));
    note(format_args!("one scan saw {one} processes in {single:?}"));
    let mut scan_time = Duration::ZERO;
    let during = probe_for(probe, || {
        let t = Instant::now();
        for _ in 0..scans {
            scan();
        }
        scan_time = t.elapsed();
    });
    for p in idle {
        let _ = send(p, ());
    }
    let _ = send(probe, Probe::Quit);
    Measured {
        scan: scan_time,
        during,
        baseline,
    }
}

/// Runs `f` while the probe records, and returns its samples.
fn probe_for(probe: Pid, f: impl FnOnce()) -> Latency {
    let _ = send(probe, Probe::Start);
    f();
    let _ = send(probe, Probe::Stop(self_pid()));
    receive::<Samples>().0
}

/// One scan: every process's summary, the top [`TOP`] by reductions kept. Returns
/// how many processes it saw.
fn scan() -> usize {
    let mut top: BinaryHeap<Reverse<(u64, Pid)>> = BinaryHeap::with_capacity(TOP + 1);
    let mut seen = 0;
    for_each_process(|p| {
        seen += 1;
        top.push(Reverse((p.reductions, p.pid)));
        if top.len() > TOP {
            top.pop();
        }
    });
    seen
}

/// The probe: between `Start` and `Stop`, sleeps 1 ms in a loop and records how late
/// each wake-up is.
fn probe() {
    loop {
        match receive::<Probe>() {
            Probe::Start => {}
            Probe::Stop(_) => fail("probe stopped before it started"),
            Probe::Quit => return,
        }
        let mut samples = Latency::new();
        loop {
            let t = Instant::now();
            sleep(TICK);
            let late = t.elapsed().saturating_sub(TICK);
            samples.record_ns(u64::try_from(late.as_nanos()).unwrap_or(u64::MAX));
            if let Some(Probe::Stop(to)) = beamlet::receive_timeout::<Probe>(Duration::ZERO) {
                let _ = send(to, Samples(samples));
                break;
            }
        }
    }
}
