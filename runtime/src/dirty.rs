//! Dirty schedulers (as the BEAM's): separate thread pools for work that would hold a
//! normal scheduler too long — CPU-heavy computations ([`dirty_cpu`]) and blocking
//! calls ([`dirty_io`]).
//!
//! # Protocol
//!
//! 1. The calling process boxes the closure with a reply address (an [`Alias`]) and
//!    pushes it on the pool's queue, waking a parked pool thread if there is one.
//! 2. It then waits in `receive` for the result, so it stays killable and its
//!    scheduler runs other processes meanwhile.
//! 3. A pool thread runs the closure under `catch_unwind` and sends the result (or
//!    the panic message) through the alias. If the caller died or gave up, the alias
//!    is gone and the result is dropped.
//!
//! Pool threads spin briefly before parking, so that back-to-back dirty calls do not
//! each pay a thread wake-up.
//!
//! In a simulated runtime (see
//! [`RuntimeBuilder::simulation`](crate::RuntimeBuilder::simulation)) step 1 runs the
//! job on a thread of its own and the scheduler waits for it to finish before the
//! caller's receive: the result is then already in the mailbox, so a dirty call
//! changes nothing in the schedule and takes no virtual time. (It runs on a thread,
//! not on the process's small stack, for the stack a dirty job may need.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_deque::{Injector, Steal};
use crossbeam_utils::Backoff;
use crossbeam_utils::sync::{Parker, Unparker};

use crate::scheduler::context::with_context;
use crate::{Alias, Ref, alias, receive_match, unalias};

type Job = Box<dyn FnOnce() + Send>;

/// How long an idle pool thread looks for work before it parks (see the scheduler's
/// `IDLE_SPIN`): back-to-back dirty calls then pay no thread wake-up.
const IDLE_SPIN: std::time::Duration = std::time::Duration::from_micros(50);

/// One pool of dirty scheduler threads.
#[derive(Debug)]
pub(crate) struct DirtyPool {
    queue: Injector<JobBox>,
    sleepers: Mutex<Vec<Unparker>>,
    parked: AtomicUsize,
    stopping: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
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
        let pool = Arc::new(DirtyPool {
            queue: Injector::new(),
            sleepers: Mutex::new(Vec::new()),
            parked: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
        });
        for i in 0..n {
            let p = pool.clone();
            let t = std::thread::Builder::new()
                .name(format!("{prefix}-{i}"))
                .spawn(move || p.thread_main())?;
            pool.threads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(t);
        }
        Ok(pool)
    }

    fn submit(&self, job: Job) {
        self.queue.push(JobBox(job));
        // SeqCst pairs with the one in `thread_main` before parking (no lost wake-up).
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.parked.load(Ordering::Relaxed) > 0 {
            let u = self
                .sleepers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            if let Some(u) = u {
                u.unpark();
            }
        }
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

    fn thread_main(&self) {
        let parker = Parker::new();
        while !self.stopping.load(Ordering::Acquire) {
            if let Some(job) = self.take() {
                job();
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
            self.sleepers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(parker.unparker().clone());
            self.parked.fetch_add(1, Ordering::SeqCst);
            std::sync::atomic::fence(Ordering::SeqCst);
            if self.queue.is_empty() && !self.stopping.load(Ordering::Acquire) {
                parker.park();
            }
            self.parked.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Stops the threads (pending jobs are dropped) and joins those that finish by
    /// `deadline`; a thread stuck in a job is left to finish on its own.
    pub(crate) fn stop(&self, deadline: std::time::Instant) {
        self.stopping.store(true, Ordering::Release);
        for u in self
            .sleepers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            u.unpark();
        }
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

/// Why a dirty call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirtyError {
    /// The closure panicked (with this message); the pool thread lives on.
    Panicked(String),
}

impl std::fmt::Display for DirtyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirtyError::Panicked(m) => write!(f, "dirty job panicked: {m}"),
        }
    }
}

impl std::error::Error for DirtyError {}

/// The result message of a dirty job.
struct Done<R> {
    tag: Ref,
    result: Result<R, DirtyError>,
}

#[derive(Clone, Copy)]
enum Kind {
    Cpu,
    Io,
}

fn run_dirty<F, R>(kind: Kind, f: F) -> Result<R, DirtyError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let reply: Alias = alias();
    let tag = Ref::new();
    let job: Job = Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Box<dyn Any>".to_owned());
            DirtyError::Panicked(msg)
        });
        let _ = reply.send(Done { tag, result });
    });
    let mut job_slot = Some(job);
    let simulated = with_context(|cx| {
        let simulated = cx.shared.is_simulated();
        match kind {
            _ if simulated => {}
            Kind::Cpu => cx.shared.dirty_cpu.submit(job_slot.take().expect("once")),
            Kind::Io => cx.shared.dirty_io.submit(job_slot.take().expect("once")),
        }
        simulated
    })
    .expect("beamlet: dirty_cpu/dirty_io called outside a process");
    if simulated {
        run_while_waiting(job_slot.take().expect("once"));
    }
    let done = receive_match(|d: &Done<R>| d.tag == tag);
    unalias(reply);
    done.result
}

/// Runs a dirty job of a simulated runtime on a thread of its own and waits for it
/// here, on the scheduler thread, so nothing else runs meanwhile.
fn run_while_waiting(job: Job) {
    let shared_job = Arc::new(Mutex::new(Some(job)));
    let theirs = shared_job.clone();
    let take = |slot: &Mutex<Option<Job>>| slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    let started = std::thread::Builder::new()
        .name("beamlet-sim-dirty".to_owned())
        .spawn(move || {
            if let Some(job) = take(&theirs) {
                job();
            }
        });
    match started {
        // The job catches its own panic, so the thread ends normally.
        Ok(t) => drop(t.join()),
        Err(e) => {
            let why = "no thread for a dirty job; running it inline";
            log::warn!(target: "beamlet::dirty", "{why}: {e}");
            if let Some(job) = take(&shared_job) {
                job();
            }
        }
    }
}

/// Runs `f` on a dirty CPU scheduler while the calling process waits (killable, its
/// scheduler free for others), and returns its result. Use it for computations that
/// would run long without reaching a reduction point.
///
/// # Errors
///
/// [`DirtyError::Panicked`] if `f` panicked.
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let n = rt.block_on(|| beamlet_runtime::dirty_cpu(|| (1..=20u64).product::<u64>())).unwrap();
/// assert_eq!(n, Ok(2_432_902_008_176_640_000));
/// rt.shutdown();
/// ```
pub fn dirty_cpu<F, R>(f: F) -> Result<R, DirtyError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    run_dirty(Kind::Cpu, f)
}

/// Runs `f` on a dirty I/O scheduler (for blocking calls: files, DNS, foreign
/// libraries), as [`dirty_cpu`].
///
/// # Errors
///
/// [`DirtyError::Panicked`] if `f` panicked.
///
/// # Examples
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| beamlet_runtime::dirty_io(|| std::fs::metadata("/").is_ok())).unwrap();
/// assert_eq!(r, Ok(true));
/// rt.shutdown();
/// ```
pub fn dirty_io<F, R>(f: F) -> Result<R, DirtyError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    run_dirty(Kind::Io, f)
}
