//! Soak and leak check: processes spawned and killed in waves, and messages streamed
//! from several producers to one consumer, checking that
//!
//! 1. every message is delivered exactly once, in per-sender order (sequence numbers
//!    and a checksum per producer);
//! 2. the process count returns to its baseline after every wave;
//! 3. the stack pool stays bounded by the largest wave (stacks are reused, not
//!    carved anew);
//! 4. resident memory (`VmRSS`) after the last wave comes back within a small margin
//!    of its value after the first (once idle schedulers have released pooled
//!    stacks' pages);
//! 5. no OS thread outlives the runtime (`/proc/self/task` before and after).
//!
//! The default run is short (200,000 processes and 2,000,000 messages). The long run:
//! `BEAMLET_SOAK=full cargo test --release --test soak -- --nocapture` (10,000,000
//! processes, 100,000,000 messages); it prints its figures.

use std::time::{Duration, Instant};

use beamlet::{
    Down, ExitReason, Pid, Runtime, exit_pid, receive, receive_match_timeout, self_pid, send,
    spawn, spawn_monitor,
};

mod common;
use common::{PATIENCE, watchdog};

/// Sizes of one soak run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    waves: usize,
    per_wave: usize,
    producers: usize,
    /// Messages per producer.
    messages: u64,
}

const SHORT: Sizes = Sizes {
    waves: 10,
    per_wave: 20_000,
    producers: 4,
    messages: 500_000,
};

const FULL: Sizes = Sizes {
    waves: 100,
    per_wave: 100_000,
    producers: 4,
    messages: 25_000_000,
};

/// Messages a producer sends before it waits for the consumer's credit: bounds the
/// consumer's mailbox whatever the relative speeds.
const BATCH: u64 = 10_000;

/// Extra resident memory tolerated after the last wave compared with the first
/// (allocator and per-thread caches settling), in KiB.
const RSS_MARGIN_KIB: u64 = 64 * 1024;

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// The lowest RSS over a short window: idle schedulers release pooled stacks' pages
/// soon after a wave, so one sample may still include them.
fn settled_rss_kib() -> u64 {
    (0..20)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(10));
            vm_rss_kib()
        })
        .min()
        .unwrap()
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// One wave: `n` processes blocked in `receive`; half are killed, half are told to
/// exit normally. Returns once every one of them is gone.
fn wave(n: usize) {
    let me = self_pid();
    let pids: Vec<Pid> = (0..n)
        .map(|_| {
            spawn(move || {
                let v = receive::<u64>();
                send(me, v).unwrap();
            })
            .expect("spawn within max_processes")
        })
        .collect();
    let mut expected = 0u64;
    for (i, &pid) in pids.iter().enumerate() {
        if i % 2 == 0 {
            exit_pid(pid, ExitReason::Kill);
        } else {
            send(pid, i as u64).unwrap();
            expected += i as u64;
        }
    }
    let mut sum = 0;
    for _ in 0..n / 2 {
        sum += beamlet::receive_timeout::<u64>(PATIENCE).expect("an answer");
    }
    assert_eq!(sum, expected, "each told process answered once");
}

/// A batch of a producer's messages: its index and sequence numbers.
struct Item {
    producer: usize,
    seq: u64,
}

/// Credit for the next batch.
struct Credit;

/// Streams `sizes.messages` from each of `sizes.producers` producers to this process;
/// checks order, count and checksum per producer.
fn stream(sizes: Sizes) {
    let me = self_pid();
    let producers: Vec<Pid> = (0..sizes.producers)
        .map(|p| {
            spawn(move || {
                for seq in 0..sizes.messages {
                    if seq > 0 && seq % BATCH == 0 {
                        receive::<Credit>();
                    }
                    send(me, Item { producer: p, seq }).unwrap();
                }
            })
            .unwrap()
        })
        .collect();
    let mut next = vec![0u64; sizes.producers];
    let mut sums = vec![0u64; sizes.producers];
    let total = sizes.messages * sizes.producers as u64;
    for _ in 0..total {
        let item = beamlet::receive_timeout::<Item>(PATIENCE).expect("a message");
        let p = item.producer;
        assert_eq!(item.seq, next[p], "producer {p}: in order, exactly once");
        next[p] += 1;
        sums[p] = sums[p].wrapping_add(item.seq);
        if next[p] % BATCH == 0 && next[p] < sizes.messages {
            send(producers[p], Credit).unwrap();
        }
    }
    let m = sizes.messages;
    for (p, &sum) in sums.iter().enumerate() {
        assert_eq!(sum, m * (m - 1) / 2, "checksum of producer {p}");
    }
    assert_eq!(
        beamlet::try_receive::<Item>().map(|i| (i.producer, i.seq)),
        None,
        "no message beyond the last"
    );
}

/// Waits (as a hang guard only) until the runtime is back to `baseline` processes.
fn await_processes(rt: &Runtime, baseline: usize) {
    let deadline = Instant::now() + PATIENCE;
    while rt.process_count() != baseline {
        assert!(
            Instant::now() < deadline,
            "{} processes, baseline {baseline}",
            rt.process_count()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn soak(sizes: Sizes) {
    let threads_before = thread_count();
    let started = Instant::now();
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let rt = std::sync::Arc::new(rt);
    let mut rss_after_first = 0;
    let mut max_carved = 0;
    for w in 0..sizes.waves {
        // One root process per wave, so the baseline between waves is zero.
        let messages = Sizes {
            messages: sizes.messages / sizes.waves as u64,
            ..sizes
        };
        rt.block_on(move || {
            wave(sizes.per_wave);
            let (pid, _) = spawn_monitor(move || stream(messages)).unwrap();
            let down = receive_match_timeout(|d: &Down| d.pid == pid, PATIENCE * 10)
                .expect("the stream ends");
            assert!(down.reason.is_normal(), "stream: {:?}", down.reason);
        })
        .unwrap();
        await_processes(&rt, 0);
        let stats = rt.stats();
        max_carved = max_carved.max(stats.stacks_carved);
        // The pool reuses stacks: a wave's worth, plus what the per-scheduler caches
        // and an idle scheduler's page-release batch hold meanwhile, never a new set
        // per wave.
        assert!(
            stats.stacks_carved <= sizes.per_wave + 4096,
            "wave {w}: {} stacks carved for waves of {}",
            stats.stacks_carved,
            sizes.per_wave
        );
        if sizes.waves >= 100 && w % 10 == 0 {
            println!(
                "soak: wave {w} stacks_carved={} rss_kib={}",
                stats.stacks_carved,
                vm_rss_kib()
            );
        }
        if w == 0 {
            rss_after_first = settled_rss_kib();
        }
    }
    // Idle schedulers release pooled stacks' pages beyond a resident reserve; a
    // leak would keep RSS up for good. Wait (hang guard only) for it to come down.
    let deadline = Instant::now() + PATIENCE;
    let mut rss_end = vm_rss_kib();
    while rss_end > rss_after_first + RSS_MARGIN_KIB && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        rss_end = vm_rss_kib();
    }
    let rt = std::sync::Arc::into_inner(rt).unwrap();
    let report = rt.shutdown();
    assert_eq!((report.killed, report.stuck), (0, 0));
    let deadline = Instant::now() + PATIENCE;
    while thread_count() != threads_before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(thread_count(), threads_before, "every runtime thread ended");
    println!(
        "soak: processes={} messages={} rss_after_first_wave_kib={rss_after_first} \
         rss_end_kib={rss_end} stacks_carved={max_carved} threads={threads_before} secs={:.1}",
        sizes.waves * sizes.per_wave + sizes.waves * (2 + sizes.producers),
        sizes.messages * sizes.producers as u64
            - sizes.messages * sizes.producers as u64 % sizes.waves as u64,
        started.elapsed().as_secs_f64()
    );
    assert!(
        rss_end <= rss_after_first + RSS_MARGIN_KIB,
        "RSS grew from {rss_after_first} KiB to {rss_end} KiB"
    );
}

#[test]
fn processes_and_messages_leave_nothing_behind() {
    let full = std::env::var("BEAMLET_SOAK").as_deref() == Ok("full");
    let sizes = if full { FULL } else { SHORT };
    let limit = if full { 3 * 3600 } else { 600 };
    watchdog(Duration::from_secs(limit), move || soak(sizes));
}
