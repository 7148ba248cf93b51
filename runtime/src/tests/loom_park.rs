//! Parking and waking scheduler threads, on the real [`Idle`] set: a push plus
//! `notify_one` racing with a worker going to park never leaves the work unrun with
//! the worker parked, under every interleaving.
//!
//! `Idle` (register, unregister, notify_one, notify_all) is the real code, with
//! loom's mutex, atomics and fences. Two pieces are stand-ins, modelled on the real
//! ones: the worker's `park` below repeats `scheduler::worker::park` line for line
//! (register, re-check for work, park, unregister), and the run queue is one counter
//! whose push is a `Release` increment and whose emptiness check is an `Acquire`
//! load — no stronger than crossbeam's deque and injector, whose push publishes with
//! a release store. The parker has crossbeam's semantics: an `unpark` before `park`
//! makes that `park` return at once.
//!
//! A lost wake-up shows up as a worker parked for ever: loom reports the deadlock.

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use crate::idle::Idle;
use crate::loom::Unpark;

/// crossbeam's `Parker`, on loom's mutex and condition variable.
#[derive(Default)]
struct Parker {
    token: Mutex<bool>,
    woken: Condvar,
}

impl Parker {
    fn park(&self) {
        let mut token = self.token.lock().unwrap();
        while !*token {
            token = self.woken.wait(token).unwrap();
        }
        *token = false;
    }
}

#[derive(Clone)]
struct Unparker(Arc<Parker>);

impl Unpark for Unparker {
    fn unpark(&self) {
        *self.0.token.lock().unwrap() = true;
        self.0.woken.notify_one();
    }
}

/// A run queue reduced to its length.
#[derive(Default)]
struct Queue(AtomicUsize);

impl Queue {
    fn push(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    fn has_work(&self) -> bool {
        self.0.load(Ordering::Acquire) != 0
    }

    fn try_take(&self) -> bool {
        let mut n = self.0.load(Ordering::Acquire);
        while n != 0 {
            match self
                .0
                .compare_exchange(n, n - 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }
}

struct World {
    idle: Idle<Unparker>,
    parkers: Vec<Arc<Parker>>,
    queue: Queue,
    stopping: AtomicBool,
    /// Work items run so far, and a condition variable to wait for all of them.
    done: Mutex<usize>,
    all_done: Condvar,
}

impl World {
    fn new(workers: usize) -> Arc<World> {
        let parkers: Vec<Arc<Parker>> = (0..workers).map(|_| Arc::default()).collect();
        let unparkers = parkers.iter().map(|p| Unparker(p.clone())).collect();
        Arc::new(World {
            idle: Idle::new(unparkers),
            parkers,
            queue: Queue::default(),
            stopping: AtomicBool::new(false),
            done: Mutex::new(0),
            all_done: Condvar::new(),
        })
    }

    /// `scheduler::worker::park`: steps 1–3 of the idle protocol, then the park.
    fn park(&self, worker: usize) {
        self.idle.register(worker);
        if !self.queue.has_work() && !self.stopping.load(Ordering::Acquire) {
            self.parkers[worker].park();
        }
        self.idle.unregister(worker);
    }

    /// A scheduler thread: run work while there is some, park when there is none.
    fn worker(&self, worker: usize) {
        while !self.stopping.load(Ordering::Acquire) {
            if self.queue.try_take() {
                *self.done.lock().unwrap() += 1;
                self.all_done.notify_all();
            } else {
                self.park(worker);
            }
        }
    }

    /// `Shared::schedule` from another thread: push, then wake one idle worker.
    fn make_work(&self) {
        self.queue.push();
        self.idle.notify_one();
    }

    /// Waits until `n` work items ran: blocks for ever (a deadlock loom reports) if
    /// every worker is parked with work left in the queue.
    fn await_done(&self, n: usize) {
        let mut done = self.done.lock().unwrap();
        while *done < n {
            done = self.all_done.wait(done).unwrap();
        }
    }

    /// Shutdown, as `Runtime::shutdown`: set the flag, wake everyone.
    fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.idle.notify_all();
    }
}

/// Checks `workers` schedulers against `pushers` threads making one item of work each,
/// exploring interleavings with at most `preemptions` preemptions (the
/// `LOOM_MAX_PREEMPTIONS` of `.ci/loom.sh` when `None`).
fn run_model(workers: usize, pushers: usize, preemptions: Option<usize>) {
    let mut builder = loom::model::Builder::new();
    if preemptions.is_some() {
        builder.preemption_bound = preemptions;
    }
    builder.check(move || {
        let world = World::new(workers);
        let threads: Vec<_> = (0..workers)
            .map(|w| {
                let world = world.clone();
                thread::spawn(move || world.worker(w))
            })
            .collect();
        let pushing: Vec<_> = (0..pushers)
            .map(|_| {
                let world = world.clone();
                thread::spawn(move || world.make_work())
            })
            .collect();
        for t in pushing {
            t.join().unwrap();
        }
        world.await_done(pushers);
        world.stop();
        for t in threads {
            t.join().unwrap();
        }
        assert!(!world.queue.has_work(), "every item ran");
        assert_eq!(*world.done.lock().unwrap(), pushers, "each ran once");
    });
}

#[test]
fn loom_park_one_worker_no_lost_wakeup() {
    run_model(1, 1, None);
}

#[test]
fn loom_park_two_workers_no_lost_wakeup() {
    // Two workers racing for the idle list explode the state space: two preemptions
    // keep it to a minute or two.
    run_model(2, 1, Some(2));
}
