//! spawn_idle: the cost of spawning many processes that then sit idle, what each idle
//! process costs in memory, and the cost of waking each one to exit.
//!
//! Usage: `spawn_idle [N=1000000] [HIB=0] [SCHEDULERS=0] [STACK_KIB=0]` (STACK_KIB sets
//! the runtime's `stack_size`; 0: the default). The root process spawns N
//! processes; each bumps a shared counter and blocks in `receive` (HIB=1: calls
//! `hibernate`, giving its stack back, and receives in the continuation). Spawn time
//! runs until all N have started. After a short settling pause (so that schedulers go
//! idle and trim pooled stacks) the RSS increase over N gives the memory per process.
//! Then each process is sent one message, and exit time runs until the live process
//! count is back to the root alone.
//!
//! Keys: `spawn_us_per_proc`, `bytes_per_proc`, `exit_us_per_proc`,
//! `pte_bytes_per_proc` (the page-table increase over N: a touched stack page needs
//! its share of a page table, which grows with the spacing of the stacks, and is not
//! in the RSS); `rss_kib` is the RSS while all N are alive.
//!
//! Guards against regressions in spawn cost (slot and stack allocation, run-queue
//! pushes), per-process memory (process record, first stack page, mailbox) and the
//! wake/exit path (stack return, slot release), with and without hibernation.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use beamlet::{Pid, Runtime, hibernate, receive, self_pid, send, sleep, spawn, yield_now};
use beamlet_benches::{
    Param, Report, SCHEDULERS, args, expect_ok, fail, fixed, note, ns_per, pte_kib, rss_kib,
    runtime, shutdown, with_schedulers,
};

/// How long the root sleeps after all processes started, before reading the RSS.
const SETTLE: Duration = Duration::from_millis(200);

/// Processes that have started and are about to block.
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// What one run measured.
struct Measured {
    spawn: Duration,
    exit: Duration,
    rss_before_kib: u64,
    rss_alive_kib: u64,
    pte_before_kib: u64,
    pte_alive_kib: u64,
}

fn main() {
    let [n, hib, schedulers, stack_kib] = args(
        "spawn_idle",
        "spawn_idle: spawn N processes that block in receive; memory per idle process; wake them all.",
        [
            Param::new("N", 1_000_000, "processes"),
            Param::new(
                "HIB",
                0,
                "1: the processes hibernate and receive in the continuation",
            )
            .max(1),
            SCHEDULERS,
            Param::new(
                "STACK_KIB",
                0,
                "the runtime's stack_size in KiB (0: the default)",
            )
            .max(u32::MAX as u64),
        ],
    );
    let (hib, stack_kib) = (hib != 0, stack_kib as usize);
    let rt = Arc::new(match stack_kib {
        0 => runtime(schedulers),
        k => with_schedulers(Runtime::builder().stack_size(k * 1024), schedulers)
            .build()
            .unwrap_or_else(|e| fail(format_args!("building the runtime: {e}"))),
    });
    let handle = rt.clone();
    let m = expect_ok(rt.block_on(move || measure(&handle, n, hib)));
    let rt = Arc::try_unwrap(rt).unwrap_or_else(|_| fail("the runtime is still shared"));
    shutdown(rt);
    report(n, &m);
}

fn report(n: u64, m: &Measured) {
    let per = |kib: u64| {
        if n == 0 {
            0.0
        } else {
            kib as f64 * 1024.0 / n as f64
        }
    };
    let bytes_per_proc = per(m.rss_alive_kib.saturating_sub(m.rss_before_kib));
    Report::new("spawn_idle", n, m.spawn + m.exit)
        .rss_kib(m.rss_alive_kib)
        .key("spawn_us_per_proc", fixed(ns_per(m.spawn, n) / 1e3, 3))
        .key("bytes_per_proc", fixed(bytes_per_proc, 0))
        .key("exit_us_per_proc", fixed(ns_per(m.exit, n) / 1e3, 3))
        .key(
            "pte_bytes_per_proc",
            fixed(per(m.pte_alive_kib.saturating_sub(m.pte_before_kib)), 0),
        )
        .print();
}

/// The root process: spawn, settle, measure memory, wake all, wait for the exits.
fn measure(rt: &Runtime, n: u64, hib: bool) -> Measured {
    let n = usize::try_from(n).unwrap_or_else(|_| fail("N does not fit in memory"));
    let baseline = rt.process_count();
    // Filled up front so that the pid vector's pages are in the baseline RSS.
    let mut pids = vec![self_pid(); n];
    let rss_before_kib = rss_kib();
    let pte_before_kib = pte_kib();
    let t = Instant::now();
    spawn_all(&mut pids, hib);
    wait_until(|| STARTED.load(Ordering::Acquire) >= n);
    let spawn = t.elapsed();
    note(format_args!("spawn_idle: {n} processes started; settling"));
    sleep(SETTLE);
    let rss_alive_kib = rss_kib();
    let pte_alive_kib = pte_kib();
    let t = Instant::now();
    wake_all(&pids);
    wait_until(|| rt.process_count() <= baseline);
    Measured {
        spawn,
        exit: t.elapsed(),
        rss_before_kib,
        rss_alive_kib,
        pte_before_kib,
        pte_alive_kib,
    }
}

fn spawn_all(pids: &mut [Pid], hib: bool) {
    let body: fn() = if hib { idle_hibernated } else { idle_blocked };
    for slot in pids {
        *slot = spawn(body).unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    }
}

fn wake_all(pids: &[Pid]) {
    for &pid in pids {
        if send(pid, ()).is_err() {
            fail(format_args!("{pid:?} died before it was woken"));
        }
    }
}

/// Yields until `done` holds; the root thereby lets every queued process run first.
fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        yield_now();
    }
}

/// An idle process that keeps its stack: blocked in `receive`.
fn idle_blocked() {
    STARTED.fetch_add(1, Ordering::Release);
    receive::<()>();
}

/// An idle process without a stack: hibernated until its message arrives.
fn idle_hibernated() {
    STARTED.fetch_add(1, Ordering::Release);
    hibernate(receive::<()>)
}
