//! stack_reuse: whether the stacks of processes that went deep give their memory back
//! when they return to the pool, so that reusing them does not creep RSS.
//!
//! Usage: `stack_reuse [N=10000] [C=1000] [KIB=200] [SCHEDULERS=0] [STACK_KIB=0]`. The
//! root runs N processes, C at a time (each wave reuses the stacks of the one
//! before); each recurses KIB levels with a 1 KiB frame, calling `reduce(1)` at every
//! level as ordinary process code calls the runtime, so it touches about KIB KiB of
//! its stack, and waits there until the whole wave is that deep; then all exit. STACK_KIB sets the runtime's `stack_size` (0: the default).
//! After the last exit the root sleeps 200 ms (schedulers go idle and trim the pool)
//! and reads the RSS.
//!
//! Keys: `retained_kib` (RSS after minus RSS before), `hwm_kib` (peak RSS of the whole
//! run), `us_per_proc` (wall time per process, recursion included).
//!
//! Guards against deep processes leaving their pages on pooled stacks (the RSS a
//! program keeps after a burst of deep work) and against the give-back's cost.

use std::time::{Duration, Instant};

use beamlet::{Down, Pid, Runtime, receive, reduce, self_pid, send, sleep, spawn_monitor};
use beamlet_benches::{
    Param, Report, SCHEDULERS, args, expect_ok, fail, fixed, hwm_kib, note, ns_per, rss_kib,
    shutdown, with_schedulers,
};

/// How long the root sleeps after the last exit, before reading the RSS.
const SETTLE: Duration = Duration::from_millis(200);

fn main() {
    let [n, c, kib, schedulers, stack_kib] = args(
        "stack_reuse",
        "stack_reuse: N processes, C at a time, each KIB deep in 1 KiB frames; the RSS kept after.",
        [
            Param::new("N", 10_000, "processes in all"),
            Param::new("C", 1_000, "processes alive at a time (a wave)").min(1),
            Param::new("KIB", 200, "stack depth of each, in 1 KiB frames"),
            SCHEDULERS,
            Param::new(
                "STACK_KIB",
                0,
                "the runtime's stack_size in KiB (0: the default)",
            )
            .max(u32::MAX as u64),
        ],
    );
    let mut builder = with_schedulers(Runtime::builder(), schedulers);
    if stack_kib > 0 {
        builder = builder.stack_size(stack_kib as usize * 1024);
    }
    let rt = builder
        .build()
        .unwrap_or_else(|e| fail(format_args!("building the runtime: {e}")));
    let (before, after, elapsed) = expect_ok(rt.block_on(move || run(n, c, kib)));
    shutdown(rt);
    Report::new("stack_reuse", n, elapsed)
        .rss_kib(after)
        .key("retained_kib", after.saturating_sub(before))
        .key("hwm_kib", hwm_kib())
        .key("us_per_proc", fixed(ns_per(elapsed, n) / 1e3, 3))
        .print();
}

/// The root: N deep processes in waves of C; returns RSS before, RSS after, time.
fn run(n: u64, c: u64, kib: u64) -> (u64, u64, Duration) {
    let before = rss_kib();
    let t = Instant::now();
    let mut left = n;
    while left > 0 {
        let wave = left.min(c);
        let root = self_pid();
        let pids: Vec<Pid> = (0..wave)
            .map(|_| {
                let (pid, _) = spawn_monitor(move || {
                    std::hint::black_box(deep(kib, root));
                })
                .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
                pid
            })
            .collect();
        for _ in 0..wave {
            receive::<Deep>();
        }
        for &pid in &pids {
            send(pid, ()).unwrap_or_else(|e| fail(format_args!("send: {e}")));
        }
        for _ in 0..wave {
            let down = receive::<Down>();
            if !down.reason.is_normal() {
                fail(format_args!("a deep process died: {:?}", down.reason));
            }
        }
        left -= wave;
    }
    let elapsed = t.elapsed();
    note(format_args!("stack_reuse: {n} processes done; settling"));
    sleep(SETTLE);
    (before, rss_kib(), elapsed)
}

/// A process of the wave is at its deepest.
struct Deep;

/// Recurses `levels` times with a 1 KiB frame, calling the runtime at each level;
/// at the bottom, tells `root` and waits for its go.
fn deep(levels: u64, root: Pid) -> u64 {
    let mut frame = [levels as u8; 1024];
    std::hint::black_box(&mut frame);
    reduce(1);
    if levels == 0 {
        send(root, Deep).unwrap_or_else(|e| fail(format_args!("send: {e}")));
        receive::<()>();
        return 0;
    }
    deep(levels - 1, root) + u64::from(frame[0])
}
