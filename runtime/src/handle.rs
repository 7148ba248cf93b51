//! [`RuntimeHandle`]: a runtime reached from anywhere — a plain thread, a tokio task,
//! another runtime's process — and [`ProcessJoin`], a process's result awaited as a
//! future.
//!
//! # Protocol of a join
//!
//! 1. [`RuntimeHandle::run`] spawns the closure with an exit hook; the closure leaves
//!    its value in the join's slot when it returns.
//! 2. The exit hook, run by the scheduler once the process has exited, turns the
//!    slot into the result (the value for a `normal` exit, else the exit reason) and
//!    wakes the waker the future left there, if any.
//! 3. The future takes the result if it is there; else it leaves (or replaces) its
//!    waker under the same lock, so a result set in between is never missed.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::error::{SendError, SpawnError};
use crate::exit::ExitReason;
use crate::kernel::runtimes;
use crate::kernel::shared::Shared;
use crate::kernel::spawn::Birth;
use crate::mailbox::limit::Admission;
use crate::mailbox::node::Node;
use crate::pid::Pid;
use crate::scheduler::context::with_context;
use crate::scheduler::current::Current;

/// A cheap, cloneable handle on a running [`Runtime`](crate::Runtime), usable from
/// any thread and from async code: spawn processes, send to them, and await a
/// process's result as a future ([`run`](Self::run)).
///
/// A handle does not keep the runtime running: after `Runtime::shutdown` its spawns
/// fail with [`SpawnError::RuntimeGone`].
///
/// # Examples
///
/// ```
/// use beamlet::Runtime;
/// let rt = Runtime::builder().build().unwrap();
/// let handle = rt.handle();
/// let answer = std::thread::spawn(move || {
///     // Any executor drives the future; a tokio task would `.await` it.
///     let join = handle.run(|| 6 * 7).unwrap();
///     beamlet::RuntimeHandle::wait(join)
/// });
/// assert_eq!(answer.join().unwrap(), Ok(42));
/// rt.shutdown();
/// ```
#[derive(Clone, Debug)]
pub struct RuntimeHandle {
    shared: Arc<Shared>,
}

// Checked at compile time: a handle crosses threads and tasks.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuntimeHandle>();
};

impl RuntimeHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> RuntimeHandle {
        RuntimeHandle { shared }
    }

    /// The handle of the runtime `pid` belongs to, if it is running.
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// let pid = rt.spawn(|| {}).unwrap();
    /// assert_eq!(beamlet::RuntimeHandle::of(pid).unwrap().id(), rt.id());
    /// rt.shutdown();
    /// ```
    pub fn of(pid: Pid) -> Option<RuntimeHandle> {
        runtimes::lookup(pid.runtime).map(RuntimeHandle::new)
    }

    /// The handle of the runtime this thread belongs to (a process's, or a
    /// scheduler's); `None` on other threads.
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// let id = rt.block_on(|| beamlet::RuntimeHandle::current().unwrap().id());
    /// assert_eq!(id.unwrap(), rt.id());
    /// assert!(beamlet::RuntimeHandle::current().is_none());
    /// rt.shutdown();
    /// ```
    pub fn current() -> Option<RuntimeHandle> {
        with_context(|cx| RuntimeHandle::new(cx.shared.clone()))
    }

    /// The runtime's number (as [`Runtime::id`](crate::Runtime::id)).
    pub fn id(&self) -> u32 {
        self.shared.id
    }

    /// Spawns a process (as [`Runtime::spawn`](crate::Runtime::spawn)).
    ///
    /// # Errors
    ///
    /// As [`spawn`](fn@crate::spawn); [`SpawnError::RuntimeGone`] after shutdown.
    #[track_caller]
    pub fn spawn<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Pid, SpawnError> {
        spawn_on(&self.shared, Box::new(f))
    }

    /// Sends a message to a process (as [`send`](fn@crate::send)).
    ///
    /// # Errors
    ///
    /// As [`send`](fn@crate::send).
    pub fn send<M: Send + 'static>(&self, pid: Pid, msg: M) -> Result<(), SendError<M>> {
        send_on(&self.shared, pid, msg)
    }

    /// Runs `f` as a process; the returned future resolves to its value, or to its
    /// exit reason if it did not return normally (a panic, a kill). Dropping the
    /// future leaves the process running.
    ///
    /// # Errors
    ///
    /// As [`spawn`](fn@crate::spawn).
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// let join = rt.handle().run(|| -> u32 { panic!("no") }).unwrap();
    /// let r = beamlet::RuntimeHandle::wait(join);
    /// assert!(r.unwrap_err().is_panic());
    /// rt.shutdown();
    /// ```
    #[track_caller]
    pub fn run<F, T>(&self, f: F) -> Result<ProcessJoin<T>, SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::new(Mutex::new(JoinSlot::default()));
        let s = slot.clone();
        let entry = Box::new(move || {
            let v = f();
            lock(&s).value = Some(v);
        });
        let s = slot.clone();
        let hook = Box::new(move |reason: &ExitReason| finish(&s, reason));
        let birth = Birth {
            exit_hook: Some(hook),
            ..Birth::at(std::panic::Location::caller())
        };
        let pid = self.shared.spawn(None, None, entry, birth)?;
        Ok(ProcessJoin { pid, slot })
    }

    /// Blocks the calling thread until `join` resolves: for plain threads, where no
    /// executor runs. Inside a process, wait with `block_on_future` instead, which
    /// parks only the process.
    ///
    /// # Panics
    ///
    /// From inside a process (it would block a scheduler thread).
    pub fn wait<T>(join: ProcessJoin<T>) -> Result<T, ExitReason> {
        assert!(
            Current::get().is_none(),
            "beamlet: RuntimeHandle::wait called from inside a process"
        );
        let thread = std::thread::current();
        let mut g = lock(&join.slot);
        loop {
            if let Some(r) = g.result.take() {
                return r;
            }
            g.waker = Some(Waker::from(Arc::new(ThreadWaker(thread.clone()))));
            drop(g);
            std::thread::park();
            g = lock(&join.slot);
        }
    }
}

/// Spawns `entry` on `shared` from outside its schedulers, at the caller's site
/// (`Runtime::spawn` and `RuntimeHandle::spawn`).
#[track_caller]
pub(crate) fn spawn_on(
    shared: &Shared,
    entry: Box<dyn FnOnce() + Send>,
) -> Result<Pid, SpawnError> {
    shared.spawn(None, None, entry, Birth::at(std::panic::Location::caller()))
}

/// Sends `msg` to `pid` of `shared` from outside its schedulers, subject to the
/// receiver's mailbox limit (`Runtime::send` and `RuntimeHandle::send`).
pub(crate) fn send_on<M: Send + 'static>(
    shared: &Shared,
    pid: Pid,
    msg: M,
) -> Result<(), SendError<M>> {
    let admission = Admission::Limited { bound: None };
    shared
        .deliver_admitted(None, pid, Node::new(msg), admission)
        .map_err(|refused| refused.into_send_error())
}

/// A process's result, as a future (made by [`RuntimeHandle::run`]).
#[derive(Debug)]
#[must_use = "a join does nothing unless awaited; dropping it leaves the process running"]
pub struct ProcessJoin<T> {
    pid: Pid,
    slot: Arc<Mutex<JoinSlot<T>>>,
}

impl<T> ProcessJoin<T> {
    /// The process's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }
}

impl<T> Future for ProcessJoin<T> {
    type Output = Result<T, ExitReason>;

    /// Step 3 of the module protocol.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut g = lock(&self.slot);
        if let Some(r) = g.result.take() {
            return Poll::Ready(r);
        }
        match &mut g.waker {
            Some(w) => w.clone_from(cx.waker()),
            None => g.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// What a join's process left, behind the join's lock.
#[derive(Debug)]
struct JoinSlot<T> {
    /// The closure's value, until the process has exited.
    value: Option<T>,
    result: Option<Result<T, ExitReason>>,
    waker: Option<Waker>,
}

impl<T> Default for JoinSlot<T> {
    fn default() -> Self {
        JoinSlot {
            value: None,
            result: None,
            waker: None,
        }
    }
}

fn lock<T>(slot: &Mutex<JoinSlot<T>>) -> MutexGuard<'_, JoinSlot<T>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

/// Step 2 of the module protocol: the exit hook.
fn finish<T>(slot: &Mutex<JoinSlot<T>>, reason: &ExitReason) {
    let waker = {
        let mut g = lock(slot);
        let r = match g.value.take() {
            Some(v) if reason.is_normal() => Ok(v),
            _ => Err(reason.clone()),
        };
        g.result = Some(r);
        g.waker.take()
    };
    // Woken after the lock is released: the waker may run the task at once.
    if let Some(w) = waker {
        w.wake();
    }
}

/// Unparks the thread blocked in [`RuntimeHandle::wait`].
struct ThreadWaker(std::thread::Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}
