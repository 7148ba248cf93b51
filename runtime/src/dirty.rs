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
//! 4. A caller that dies while its job is still queued (its wait unwinds) marks the
//!    job abandoned, and the pool thread drops it unrun: killed callers do not delay
//!    later jobs. A job already running cannot be stopped (a thread cannot be
//!    killed); its result is dropped as in step 3.
//!
//! The pools and their park protocol are in `crate::dirty_pool`.
//!
//! In a simulated runtime (see
//! [`RuntimeBuilder::simulation`](crate::RuntimeBuilder::simulation)) step 1 runs the
//! job on a thread of its own and the scheduler waits for it to finish before the
//! caller's receive: the result is then already in the mailbox, so a dirty call
//! changes nothing in the schedule and takes no virtual time. (It runs on a thread,
//! not on the process's small stack, for the stack a dirty job may need.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::alias::{Alias, alias, unalias};
use crate::dirty_pool::Job;
use crate::error::DirtyError;
use crate::pid::Ref;
use crate::process::{FLAG_DIRTY, ProcPtr};
use crate::receive::receive_match;
use crate::scheduler::context::with_runtime;
use crate::unwind::payload_message;

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
    let what = match kind {
        Kind::Cpu => "dirty_cpu",
        Kind::Io => "dirty_io",
    };
    // Named here: the alias below would otherwise be what the panic names.
    let me = crate::scheduler::current::Current::expect(what).ptr();
    // Cleared when the wait ends, however it ends (the guard drops on unwinding).
    let _dirty = DirtyStatus::mark(me);
    let reply: Alias = alias();
    let tag = Ref::new();
    let abandoned = Arc::new(AtomicBool::new(false));
    let _on_unwind = AbandonOnDrop(abandoned.clone());
    let job: Job = Box::new(move || {
        // Acquire pairs with the Release in `AbandonOnDrop::drop`.
        if abandoned.load(Ordering::Acquire) {
            return;
        }
        let result = catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
            let msg = payload_message(&*p).unwrap_or("Box<dyn Any>");
            DirtyError::Panicked(msg.to_owned())
        });
        let _ = reply.send(Done { tag, result });
    });
    let mut job_slot = Some(job);
    let simulated = with_runtime(|shared| {
        let simulated = shared.is_simulated();
        match kind {
            _ if simulated => {}
            Kind::Cpu => shared.dirty_cpu.submit(job_slot.take().expect("once")),
            Kind::Io => shared.dirty_io.submit(job_slot.take().expect("once")),
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

/// Shows the calling process as [`Dirty`](crate::ProcessStatus::Dirty) in
/// `process_info` while it waits for its job. Holds the process's own record, which
/// stays the same across switches (unlike the thread it runs on).
struct DirtyStatus(ProcPtr);

impl DirtyStatus {
    fn mark(p: ProcPtr) -> DirtyStatus {
        // Relaxed: a status for observers; other flag bits are kept by the RMW.
        p.get().flags.fetch_or(FLAG_DIRTY, Ordering::Relaxed);
        DirtyStatus(p)
    }
}

impl Drop for DirtyStatus {
    fn drop(&mut self) {
        self.0.get().flags.fetch_and(!FLAG_DIRTY, Ordering::Relaxed);
    }
}

/// Marks its job abandoned when dropped: by the caller's unwinding if it dies while
/// waiting, or after the result arrived (when the flag no longer matters).
struct AbandonOnDrop(Arc<AtomicBool>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
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
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let n = rt.block_on(|| beamlet::dirty_cpu(|| (1..=20u64).product::<u64>())).unwrap();
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
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| beamlet::dirty_io(|| std::fs::metadata("/").is_ok())).unwrap();
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
