//! Hibernation: the process continues in its closure when a message arrives, its
//! stack frames are dropped when it hibernates, a queued message wakes it at once, and
//! stacks are reused (the slab does not grow) across many hibernate/wake cycles.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use beamlet::{
    Pid, Runtime, hibernate, is_alive, receive, receive_timeout, self_pid, send, sleep, spawn,
    try_receive,
};

mod common;
use common::{PATIENCE, run, watchdog};

/// Increments its counter when dropped.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits (inside a process) until `counter` reaches `n`.
fn await_count(counter: &AtomicUsize, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    while counter.load(Ordering::SeqCst) < n {
        assert!(
            Instant::now() < deadline,
            "counter stuck at {counter:?}, want {n}"
        );
        sleep(Duration::from_millis(1));
    }
}

#[test]
fn hibernated_process_continues_in_its_closure() {
    let (reply, same_pid, alive_while_hibernating) = run(|| {
        let me = self_pid();
        let state: Vec<u32> = (1..=3).collect();
        let pid = spawn(move || {
            let before = self_pid();
            send(me, "hibernating").unwrap();
            hibernate(move || {
                let n = receive::<u32>();
                let sum: u32 = state.iter().sum::<u32>() + n;
                send(me, (sum, self_pid() == before)).unwrap();
            })
        })
        .unwrap();
        assert_eq!(receive_timeout::<&str>(PATIENCE), Some("hibernating"));
        sleep(Duration::from_millis(10));
        let alive = is_alive(pid);
        send(pid, 10u32).unwrap();
        let (sum, same) = receive_timeout::<(u32, bool)>(PATIENCE).expect("continuation replies");
        (sum, same, alive)
    });
    assert_eq!(reply, 16);
    assert!(same_pid, "the process keeps its pid across hibernation");
    assert!(alive_while_hibernating);
}

#[test]
fn hibernation_runs_the_destructors_of_the_stack_frames() {
    let (dropped_at_hibernation, dropped_at_end, reply) = run(|| {
        let me = self_pid();
        let frames = Arc::new(AtomicUsize::new(0));
        let captured = Arc::new(AtomicUsize::new(0));
        let (f, c) = (frames.clone(), captured.clone());
        let pid = spawn(move || {
            let _outer = DropGuard(f.clone());
            let inner = || {
                let _inner = DropGuard(f.clone());
                let kept = DropGuard(c);
                hibernate(move || {
                    let n = receive::<u32>();
                    drop(kept);
                    send(me, n).unwrap();
                })
            };
            inner();
        })
        .unwrap();
        // Both frames' guards drop while the process hibernates, before any message.
        await_count(&frames, 2);
        sleep(Duration::from_millis(10));
        let at_hibernation = (
            frames.load(Ordering::SeqCst),
            captured.load(Ordering::SeqCst),
        );
        send(pid, 3u32).unwrap();
        let reply = receive_timeout::<u32>(PATIENCE);
        await_count(&captured, 1);
        let at_end = (
            frames.load(Ordering::SeqCst),
            captured.load(Ordering::SeqCst),
        );
        (at_hibernation, at_end, reply)
    });
    assert_eq!(
        dropped_at_hibernation,
        (2, 0),
        "frame guards drop at hibernation; the continuation's captures do not"
    );
    assert_eq!(reply, Some(3));
    assert_eq!(dropped_at_end, (2, 1), "each guard drops exactly once");
}

#[test]
fn a_queued_message_wakes_a_hibernating_process_at_once() {
    let got = run(|| {
        let me = self_pid();
        let pid = spawn(move || {
            receive::<&str>(); // "go": by now 7 is already queued
            hibernate(move || {
                // Continues although nothing new arrives after hibernating.
                let n = try_receive::<u32>();
                send(me, n).unwrap();
            })
        })
        .unwrap();
        send(pid, 7u32).unwrap();
        send(pid, "go").unwrap();
        receive_timeout::<Option<u32>>(PATIENCE)
    });
    assert_eq!(
        got,
        Some(Some(7)),
        "the continuation ran and found the queued message"
    );
}

#[test]
fn repeated_hibernation_keeps_state_in_the_continuation() {
    fn counter(me: Pid, count: u32) -> ! {
        hibernate(move || {
            let step = receive::<u32>();
            let count = count + step;
            send(me, count).unwrap();
            counter(me, count)
        })
    }
    let got = run(|| {
        let me = self_pid();
        let pid = spawn(move || counter(me, 0)).unwrap();
        let mut last = None;
        for i in 1..=100u32 {
            send(pid, i).unwrap();
            last = Some(receive_timeout::<u32>(PATIENCE).expect("reply"));
        }
        last
    });
    assert_eq!(got, Some(5050));
}

/// Spawns `N` processes that hibernate, then wakes each of them `ROUNDS + 1` times
/// (each wake-up ends in a new hibernation); returns `stacks_carved` after each round.
fn carved_per_round(schedulers: usize) -> Vec<usize> {
    const N: usize = 10_000;
    const ROUNDS: usize = 5;
    watchdog(Duration::from_secs(120), move || {
        let rt = Arc::new(
            Runtime::builder()
                .schedulers(schedulers)
                .build()
                .expect("runtime builds"),
        );
        let rt2 = rt.clone();
        let carved = rt
            .block_on(move || {
                fn sleeper(me: Pid) -> ! {
                    hibernate(move || {
                        let n = receive::<u64>();
                        send(me, n).unwrap();
                        sleeper(me)
                    })
                }
                let me = self_pid();
                let pids: Vec<Pid> = (0..N)
                    .map(|_| spawn(move || sleeper(me)).unwrap())
                    .collect();
                let mut carved = Vec::new();
                for round in 0..=ROUNDS {
                    for (i, &p) in pids.iter().enumerate() {
                        send(p, (round * N + i) as u64).unwrap();
                    }
                    let mut sum = 0u64;
                    for _ in 0..N {
                        sum += receive_timeout::<u64>(PATIENCE).expect("every sleeper replies");
                    }
                    let base = (round * N) as u64;
                    assert_eq!(sum, base * N as u64 + (N as u64 * (N as u64 - 1)) / 2);
                    carved.push(rt2.stats().stacks_carved);
                }
                carved
            })
            .expect("root returns");
        assert!(
            carved.iter().all(|&c| c < N),
            "{carved:?} stacks carved for {N} hibernating processes: stacks are not reused"
        );
        let rt = Arc::try_unwrap(rt).expect("the only handle");
        assert_eq!(rt.shutdown().killed, N, "the sleepers are still alive");
        carved
    })
}

#[test]
fn stacks_are_reused_when_ten_thousand_processes_hibernate_and_wake() {
    // One scheduler: stacks cannot pile up in another scheduler's cache, so after the
    // first round not a single new stack may be carved.
    let carved = carved_per_round(1);
    assert!(
        carved.iter().all(|&c| c == carved[0]),
        "stacks carved per round: {carved:?}"
    );
}

#[test]
fn stacks_are_reused_across_two_schedulers() {
    // Two schedulers: a stack freed on one scheduler goes to that scheduler's cache
    // (at most 256 stacks each before half go back to the shared pool), so the other
    // may carve a few more; the total must stay bounded by those caches, far below
    // one stack per hibernation.
    let carved = carved_per_round(2);
    let growth = carved.last().unwrap() - carved[0];
    assert!(growth <= 2 * 256, "stacks carved per round: {carved:?}");
}
