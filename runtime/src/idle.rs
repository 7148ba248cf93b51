//! Parking and waking scheduler threads without lost wake-ups.
//!
//! # Protocol
//!
//! A worker that found no work after spinning:
//!
//! 1. registers itself as idle (`num_idle += 1`, SeqCst, and its index in the list);
//! 2. issues a SeqCst fence and looks at every queue once more;
//! 3. if it sees work, unregisters and runs it; otherwise parks (until its next timer
//!    deadline, if any).
//!
//! A thread that makes work available (pushes to a run queue or the injector):
//!
//! 1. pushes;
//! 2. issues a SeqCst fence and reads `num_idle`;
//! 3. if it is non-zero, pops one idle worker and unparks it.
//!
//! The two fences order "register, then look" against "push, then read": either the
//! parking worker sees the push, or the pusher sees the registration and unparks it.
//! `Unparker::unpark` before `park` makes that `park` return at once, so an unpark
//! racing with the park is not lost either.

use crossbeam_utils::sync::Unparker;

// Loom's types under `cfg(loom)`: `tests::loom_park` checks this protocol.
use crate::loom::Unpark;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering, fence};

/// The set of parked (or about to park) workers.
#[derive(Debug)]
pub(crate) struct Idle<U: Unpark = Unparker> {
    num_idle: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    unparkers: Box<[U]>,
}

impl<U: Unpark> Idle<U> {
    pub(crate) fn new(unparkers: Vec<U>) -> Idle<U> {
        Idle {
            num_idle: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(unparkers.len())),
            unparkers: unparkers.into_boxed_slice(),
        }
    }

    /// Step 1 of parking. The caller must re-check for work afterwards.
    pub(crate) fn register(&self, worker: usize) {
        let mut s = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        s.push(worker);
        // SeqCst, and the fence below, pair with the fence in `notify_one`.
        self.num_idle.fetch_add(1, Ordering::SeqCst);
        drop(s);
        fence(Ordering::SeqCst);
    }

    /// Removes `worker` from the idle set if a notifier has not already done so.
    pub(crate) fn unregister(&self, worker: usize) {
        let mut s = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = s.iter().position(|&w| w == worker) {
            s.swap_remove(pos);
            // SeqCst: as every update of `num_idle` (see `register`).
            self.num_idle.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Wakes one idle worker, if any. Called after making work available.
    pub(crate) fn notify_one(&self) {
        // Pairs with the fence in `register` (see the module protocol).
        fence(Ordering::SeqCst);
        if self.num_idle.load(Ordering::Relaxed) == 0 {
            return;
        }
        let worker = {
            let mut s = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
            let w = s.pop();
            if w.is_some() {
                // SeqCst: as every update of `num_idle` (see `register`).
                self.num_idle.fetch_sub(1, Ordering::SeqCst);
            }
            w
        };
        if let Some(w) = worker {
            self.unparkers[w].unpark();
        }
    }

    /// Wakes every worker (shutdown).
    pub(crate) fn notify_all(&self) {
        let mut s = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        s.clear();
        self.num_idle.store(0, Ordering::SeqCst);
        drop(s);
        for u in self.unparkers.iter() {
            u.unpark();
        }
    }
}
