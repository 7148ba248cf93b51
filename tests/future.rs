//! Futures polled inside processes (`block_on_future`): wakes from other threads,
//! messages and signals during the wait, timeouts, and tokio's timers and TCP.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use beamlet::{
    Down, Elapsed, ExitReason, block_on_future, block_on_future_timeout, exit_pid, link, monitor,
    receive, receive_timeout, self_pid, send, spawn, spawn_monitor, trap_exit,
};
use common::{PATIENCE, run};

/// A one-shot value set from any thread, counting its polls and noting its drop.
#[derive(Default)]
struct Slot {
    value: Mutex<(Option<u64>, Option<Waker>)>,
    polls: AtomicUsize,
    dropped: AtomicBool,
}

impl Slot {
    fn set(&self, v: u64) {
        let waker = {
            let mut g = self.value.lock().unwrap();
            g.0 = Some(v);
            g.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

struct SlotFuture(Arc<Slot>);

impl Future for SlotFuture {
    type Output = u64;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        self.0.polls.fetch_add(1, Ordering::SeqCst);
        let mut g = self.0.value.lock().unwrap();
        match g.0.take() {
            Some(v) => Poll::Ready(v),
            None => {
                g.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for SlotFuture {
    fn drop(&mut self) {
        self.0.dropped.store(true, Ordering::SeqCst);
    }
}

/// Waits until the slot's future has been polled once (it is then parked).
fn until_polled(slot: &Slot) {
    let start = std::time::Instant::now();
    while slot.polls.load(Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < PATIENCE, "the future was never polled");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_ready_future_returns_its_value() {
    assert_eq!(run(|| block_on_future(async { 6 * 7 })), 42);
}

#[test]
fn a_wake_from_a_plain_thread_resumes_the_process() {
    let got = run(|| {
        let slot = Arc::new(Slot::default());
        let s = slot.clone();
        let t = std::thread::spawn(move || {
            until_polled(&s);
            s.set(9);
        });
        let v = block_on_future(SlotFuture(slot.clone()));
        t.join().unwrap();
        (v, slot.polls.load(Ordering::SeqCst))
    });
    assert_eq!(got, (9, 2), "one poll before the wake, one after");
}

#[test]
fn messages_during_the_wait_stay_in_the_mailbox_and_cause_no_polls() {
    let (v, polls, msgs) = run(|| {
        let slot = Arc::new(Slot::default());
        let me = self_pid();
        let s = slot.clone();
        spawn(move || {
            until_polled(&s);
            for i in 0..100u32 {
                send(me, i).unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
            s.set(5);
        })
        .unwrap();
        let v = block_on_future(SlotFuture(slot.clone()));
        let msgs: Vec<u32> = (0..100).map(|_| receive::<u32>()).collect();
        (v, slot.polls.load(Ordering::SeqCst), msgs)
    });
    assert_eq!(v, 5);
    assert_eq!(polls, 2, "messages do not re-poll the future");
    assert_eq!(msgs, (0..100).collect::<Vec<_>>());
}

#[test]
fn a_timeout_drops_the_unfinished_future() {
    let (r, dropped) = run(|| {
        let slot = Arc::new(Slot::default());
        let r = block_on_future_timeout(SlotFuture(slot.clone()), Duration::from_millis(20));
        (r, slot.dropped.load(Ordering::SeqCst))
    });
    assert_eq!(r, Err(Elapsed));
    assert!(dropped);
}

#[test]
fn a_future_ready_before_the_timeout_is_not_timed_out() {
    let r = run(|| {
        let slot = Arc::new(Slot::default());
        let s = slot.clone();
        std::thread::spawn(move || {
            until_polled(&s);
            s.set(1);
        });
        block_on_future_timeout(SlotFuture(slot), PATIENCE)
    });
    assert_eq!(r, Ok(1));
}

/// Spawns a process waiting for a future that never completes; returns its pid, a
/// monitor on it and the slot.
fn waiting_process() -> (beamlet::Pid, beamlet::MonitorRef, Arc<Slot>) {
    let slot = Arc::new(Slot::default());
    let s = slot.clone();
    let pid = spawn(move || {
        block_on_future(SlotFuture(s));
    })
    .unwrap();
    let mref = monitor(pid);
    until_polled(&slot);
    (pid, mref, slot)
}

#[test]
fn a_kill_ends_a_process_waiting_for_a_future_and_drops_it() {
    let (reason, dropped) = run(|| {
        let (pid, _mref, slot) = waiting_process();
        exit_pid(pid, ExitReason::Kill);
        let down = receive::<Down>();
        (down.reason, slot.dropped.load(Ordering::SeqCst))
    });
    assert_eq!(reason, ExitReason::Killed);
    assert!(dropped);
}

#[test]
fn an_exit_signal_from_a_link_ends_a_waiting_process() {
    let reason = run(|| {
        let slot = Arc::new(Slot::default());
        let s = slot.clone();
        let me = self_pid();
        let waiter = spawn(move || {
            let linked = spawn(move || {
                receive::<()>();
                beamlet::exit(ExitReason::custom("boom"));
            })
            .unwrap();
            link(linked).unwrap();
            send(me, linked).unwrap();
            block_on_future(SlotFuture(s));
        })
        .unwrap();
        let mref = monitor(waiter);
        let linked = receive::<beamlet::Pid>();
        until_polled(&slot);
        send(linked, ()).unwrap();
        let down = receive::<Down>();
        assert_eq!(down.monitor, mref);
        down.reason
    });
    assert_eq!(reason, ExitReason::custom("boom"));
}

#[test]
fn a_trapping_process_keeps_waiting_and_gets_the_exit_as_a_message() {
    let (v, exit) = run(|| {
        trap_exit(true);
        let slot = Arc::new(Slot::default());
        let s = slot.clone();
        let linked = spawn(|| beamlet::exit(ExitReason::custom("bye"))).unwrap();
        link(linked).ok();
        std::thread::spawn(move || {
            until_polled(&s);
            std::thread::sleep(Duration::from_millis(20));
            s.set(3);
        });
        let v = block_on_future(SlotFuture(slot));
        (v, receive_timeout::<beamlet::Exit>(PATIENCE))
    });
    assert_eq!(v, 3);
    assert!(exit.is_some());
}

#[test]
fn many_processes_are_woken_from_other_threads() {
    const N: usize = 2_000;
    let total = run(|| {
        let me = self_pid();
        let slots: Vec<Arc<Slot>> = (0..N).map(|_| Arc::new(Slot::default())).collect();
        for (i, slot) in slots.iter().enumerate() {
            let s = slot.clone();
            spawn(move || {
                let v = block_on_future(SlotFuture(s));
                send(me, v + i as u64).unwrap();
            })
            .unwrap();
        }
        let wakers: Vec<_> = slots
            .chunks(N / 4)
            .map(|chunk| {
                let chunk = chunk.to_vec();
                std::thread::spawn(move || {
                    for s in chunk {
                        until_polled(&s);
                        s.set(1);
                    }
                })
            })
            .collect();
        let total: u64 = (0..N).map(|_| receive::<u64>()).sum();
        for w in wakers {
            w.join().unwrap();
        }
        total
    });
    assert_eq!(total, (0..N as u64).map(|i| i + 1).sum::<u64>());
}

#[test]
#[cfg(debug_assertions)]
fn a_future_that_switches_inside_its_poll_is_caught_in_debug_builds() {
    let reason = run(|| {
        // Monitored from birth: a child that dies before a later `monitor` would be
        // reported as `NoProc`, not with its panic.
        let _ = spawn_monitor(|| {
            block_on_future(async {
                beamlet::sleep(Duration::from_millis(1));
            })
        })
        .unwrap();
        receive::<Down>().reason
    });
    match reason {
        ExitReason::Panic(p) => assert!(p.message().contains("NoSwitch"), "{}", p.message()),
        other => panic!("expected a panic, got {other:?}"),
    }
}

#[test]
#[should_panic(expected = "block_on_future called outside a process")]
fn block_on_future_outside_a_process_panics() {
    block_on_future(async {});
}
