//! future_wake: the cost of a future polled inside a process (`block_on_future`).
//!
//! Usage: `future_wake [M=1000000] [W=100000] [SCHEDULERS=0]`.
//!
//! 1. M times, the root process waits for a future that is ready at once: the floor
//!    of a `block_on_future` (the waker's allocation, one poll, no switch).
//! 2. W round trips with a plain OS thread: the thread completes a future the
//!    process waits for (and wakes it), then spins until the process acknowledges;
//!    the process then waits for the next one. Each round trip is a wake from
//!    another thread into the runtime's injector, a switch in, a poll and a switch
//!    out — including an OS wake-up of the scheduler thread when it had parked.
//!
//! Keys: `ready_ns` (per ready future), `wake_rt_ns` (per round trip), `w`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use beamlet::block_on_future;
use beamlet_benches::{
    Param, Report, SCHEDULERS, args, expect_ok, fixed, ns_per, runtime, shutdown,
};

fn main() {
    let [m, w, schedulers] = args(
        "future_wake",
        "future_wake: M futures ready at once, then W wake round trips with a plain thread.",
        [
            Param::new("M", 1_000_000, "futures that are ready at once"),
            Param::new("W", 100_000, "wake round trips with a plain thread"),
            SCHEDULERS,
        ],
    );
    let rt = runtime(schedulers);
    let (ready, wake) = expect_ok(rt.block_on(move || (ready_loop(m), wake_loop(w))));
    shutdown(rt);
    Report::new("future_wake", m, ready + wake)
        .rss_kib(beamlet_benches::memory::rss_kib())
        .key("ready_ns", fixed(ns_per(ready, m), 1))
        .key("w", w)
        .key("wake_rt_ns", fixed(ns_per(wake, w), 1))
        .print();
}

fn ready_loop(m: u64) -> Duration {
    let t = Instant::now();
    let mut sum = 0u64;
    for i in 0..m {
        sum = sum.wrapping_add(block_on_future(std::future::ready(i)));
    }
    std::hint::black_box(sum);
    t.elapsed()
}

/// The turn the thread has given and the waker of the process waiting for it.
#[derive(Default)]
struct Turns {
    given: AtomicU64,
    acked: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

/// Ready once turn `want` is given.
struct Turn<'a>(&'a Turns, u64);

impl Future for Turn<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // The waker is left before the turn is read, so a turn given in between
        // finds it and wakes.
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        match self.0.given.load(Ordering::Acquire) >= self.1 {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }
}

fn wake_loop(w: u64) -> Duration {
    let turns = Arc::new(Turns::default());
    let t2 = turns.clone();
    let start = Instant::now();
    let thread = std::thread::spawn(move || {
        for i in 1..=w {
            t2.given.store(i, Ordering::Release);
            if let Some(waker) = t2.waker.lock().unwrap().take() {
                waker.wake();
            }
            while t2.acked.load(Ordering::Acquire) < i {
                std::hint::spin_loop();
            }
        }
    });
    for i in 1..=w {
        block_on_future(Turn(&turns, i));
        turns.acked.store(i, Ordering::Release);
    }
    let elapsed = start.elapsed();
    thread.join().expect("the waking thread");
    elapsed
}
