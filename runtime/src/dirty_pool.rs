//! The dirty scheduler pools (layer 1): threads that run boxed jobs taken from a
//! shared queue, parking on the same [`Idle`] protocol as the schedulers (see
//! [`crate::idle`], checked by `tests::loom_park`). The process side — boxing a
//! job with a reply alias and waiting for its result — is `crate::dirty`.
//!
//! # Protocol
//!
//! 1. `submit` pushes the job, then notifies one idle thread (`Idle::notify_one`:
//!    fence, read the idle count, unpark one registered thread).
//! 2. A pool thread runs jobs while there are any; with none it spins briefly (so
//!    back-to-back dirty calls pay no wake-up), then registers as idle
//!    (`Idle::register`: count, fence), looks at the queue once more, parks if it
//!    is still empty, and unregisters when it wakes — so no unparker of a running
//!    thread stays in the idle set, and a notify is never spent on one.
//! 3. `stop` sets `stopping` and wakes every thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_deque::{Injector, Steal};
use crossbeam_utils::Backoff;
use crossbeam_utils::sync::Parker;

use crate::idle::Idle;

/// A dirty job: runs on a pool thread, reports through what it captured.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// How long an idle pool thread looks for work before it parks (see the scheduler's
/// `IDLE_SPIN`): back-to-back dirty calls then pay no thread wake-up.
const IDLE_SPIN: std::time::Duration = std::time::Duration::from_micros(50);

/// One pool of dirty scheduler threads.
#[derive(Debug)]
pub(crate) struct DirtyPool {
    queue: Injector<JobBox>,
    /// The pool's parked threads, by thread index (step 2).
    idle: Idle,
    /// Set once by `stop` (Release); threads read it (Acquire) between jobs.
    stopping: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Nanoseconds each thread has spent running jobs (written by that thread
    /// alone, read by `Runtime::stats`; Relaxed: a statistic).
    busy_nanos: Box<[AtomicU64]>,
}

struct JobBox(Job);

impl std::fmt::Debug for JobBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl DirtyPool {
    /// Starts a pool of `n` threads named `{prefix}-{i}`.
    pub(crate) fn start(n: usize, prefix: &str) -> std::io::Result<Arc<DirtyPool>> {
        let parkers: Vec<Parker> = (0..n).map(|_| Parker::new()).collect();
        let unparkers = parkers.iter().map(|p| p.unparker().clone()).collect();
        let pool = Arc::new(DirtyPool {
            queue: Injector::new(),
            idle: Idle::new(unparkers),
            stopping: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            busy_nanos: (0..n).map(|_| AtomicU64::new(0)).collect(),
        });
        for (i, parker) in parkers.into_iter().enumerate() {
            let p = pool.clone();
            let t = std::thread::Builder::new()
                .name(format!("{prefix}-{i}"))
                .spawn(move || p.thread_main(i, parker))?;
            pool.threads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(t);
        }
        Ok(pool)
    }

    /// Step 1.
    pub(crate) fn submit(&self, job: Job) {
        self.queue.push(JobBox(job));
        self.idle.notify_one();
    }

    fn take(&self) -> Option<Job> {
        loop {
            match self.queue.steal() {
                Steal::Success(j) => return Some(j.0),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }

    /// Step 2, on pool thread `index`.
    fn thread_main(&self, index: usize, parker: Parker) {
        while !self.stopping.load(Ordering::Acquire) {
            if let Some(job) = self.take() {
                self.run(index, job);
                continue;
            }
            let backoff = Backoff::new();
            let until = std::time::Instant::now() + IDLE_SPIN;
            while self.queue.is_empty()
                && !(backoff.is_completed() && std::time::Instant::now() >= until)
            {
                backoff.snooze();
            }
            if !self.queue.is_empty() {
                continue;
            }
            self.idle.register(index);
            // Acquire pairs with the Release store in `stop` (which then wakes every thread).
            if self.queue.is_empty() && !self.stopping.load(Ordering::Acquire) {
                parker.park();
            }
            self.idle.unregister(index);
        }
    }

    /// Runs one job on thread `index`, counting its time.
    fn run(&self, index: usize, job: Job) {
        let start = std::time::Instant::now();
        job();
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let c = &self.busy_nanos[index];
        // Only this thread writes its counter: a load and a store suffice.
        c.store(c.load(Ordering::Relaxed) + nanos, Ordering::Relaxed);
    }

    /// Nanoseconds each thread has spent running jobs so far.
    pub(crate) fn busy_nanos(&self) -> Vec<u64> {
        self.busy_nanos
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }

    /// Stops the threads (pending jobs are dropped) and joins those that finish by
    /// `deadline`; a thread stuck in a job is left to finish on its own.
    pub(crate) fn stop(&self, deadline: std::time::Instant) {
        self.stopping.store(true, Ordering::Release);
        self.idle.notify_all();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
        while self.take().is_some() {}
    }
}
