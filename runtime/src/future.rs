//! Futures inside a process: [`block_on_future`] polls a `Future` on the process's
//! own stack and, while it is pending, parks only the process — its scheduler runs
//! others — until the future's waker fires.
//!
//! # Protocol
//!
//! 1. The process makes one [`ProcessWaker`] for the whole wait (the only
//!    allocation; wakes allocate nothing): the runtime (weakly), the process record
//!    and its serial, and a `woken` flag.
//! 2. It clears `woken` and polls the future (inside a [`NoSwitch`] section, with the
//!    runtime's tokio handle entered under the `tokio` feature). `Ready` ends the wait.
//! 3. `Pending`: unless `woken` is set, it arms the deadline's wake-up, if any, and
//!    suspends as a waiting process, then acts on signals (a kill or an exit signal
//!    unwinds it here, dropping the future). It goes back to 2 only when `woken` is
//!    set, so messages arriving meanwhile do not cause needless polls; at the deadline
//!    it gives up.
//! 4. A wake, from any thread: if `woken` was clear, set it, and if the record still
//!    holds the same process, notify it (the run-state machine turns a notify that
//!    races with step 3's suspension into a reschedule, so no wake-up is lost). A
//!    stale wake reaches at most a later occupant of the slot, as a spurious wake-up,
//!    which every waiter tolerates.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::control::NoSwitch;
use crate::coroutine::Suspend;
use crate::error::Elapsed;
use crate::kernel::deliver::Placement;
use crate::kernel::shared::Shared;
use crate::limits::FUTURE_COST;
use crate::process::ProcPtr;
use crate::scheduler::context::with_context;
use crate::scheduler::current::{Current, charge};
use crate::time::{deadline_after, now};

/// Polls `fut` to completion on the calling process's stack; while it is pending the
/// process waits (its scheduler runs other processes) until the future's waker
/// fires, from any thread.
///
/// A kill or an exit signal ends the process during the wait as during a
/// `receive`, dropping the future. Messages that arrive meanwhile stay in the
/// mailbox. Under the `tokio` feature the runtime's tokio handle is entered while the
/// future is polled, so futures that need tokio's reactor or timers work
/// ([`RuntimeBuilder::tokio_handle`](crate::RuntimeBuilder)). Only while it is
/// polled: a tokio future that looks for its runtime when it is *made* (such as
/// `tokio::time::sleep(d)`) is made inside an `async` block,
/// `block_on_future(async { tokio::time::sleep(d).await })`.
///
/// The future's `poll` must not itself wait on the runtime (`receive`, `sleep`, a
/// call): it runs in a no-switch section, which debug builds check.
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// use beamlet::{block_on_future, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// let n = rt.block_on(|| block_on_future(async { 20 + 1 }) * 2).unwrap();
/// assert_eq!(n, 42);
/// rt.shutdown();
/// ```
pub fn block_on_future<F: Future>(fut: F) -> F::Output {
    match wait_for(fut, None) {
        Ok(v) => v,
        Err(Elapsed) => unreachable!("a wait without a deadline does not time out"),
    }
}

/// [`block_on_future`] with a timeout: the future is dropped, unfinished, when
/// `timeout` passes first.
///
/// # Errors
///
/// [`Elapsed`] when the timeout passed before the future was ready.
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet::{block_on_future_timeout, Elapsed, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| {
///     block_on_future_timeout(std::future::pending::<()>(), Duration::from_millis(5))
/// }).unwrap();
/// assert_eq!(r, Err(Elapsed));
/// rt.shutdown();
/// ```
pub fn block_on_future_timeout<F: Future>(fut: F, timeout: Duration) -> Result<F::Output, Elapsed> {
    wait_for(fut, Some(deadline_after(timeout)))
}

/// The loop of the module protocol (steps 2 and 3).
fn wait_for<F: Future>(fut: F, deadline: Option<Instant>) -> Result<F::Output, Elapsed> {
    let mut me = Current::expect("block_on_future");
    me.check_signals();
    charge(FUTURE_COST);
    let shared = with_context(|cx| cx.shared.clone()).expect("a process has a runtime");
    let wake = Arc::new(ProcessWaker::new(&shared, me.ptr()));
    let waker = Waker::from(wake.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        // AcqRel: the waker's Release store (with whatever the future's waker side
        // published before waking) is seen before this poll.
        wake.woken.swap(false, Ordering::AcqRel);
        if let Poll::Ready(v) = poll_once(&shared, fut.as_mut(), &mut cx) {
            return Ok(v);
        }
        while !wake.woken.load(Ordering::Acquire) {
            if let Some(d) = deadline {
                if now() >= d {
                    return Err(Elapsed);
                }
                me.arm_wake(d);
            }
            me.suspend(Suspend::Wait);
        }
        charge(FUTURE_COST);
    }
}

/// One poll, in a no-switch section (an `EnterGuard` of tokio is bound to this OS
/// thread and must not travel with the process).
fn poll_once<F: Future>(
    shared: &Shared,
    fut: std::pin::Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<F::Output> {
    let _no_switch = NoSwitch::enter();
    #[cfg(feature = "tokio")]
    let _tokio = shared.tokio.enter();
    #[cfg(not(feature = "tokio"))]
    let _ = shared;
    fut.poll(cx)
}

/// The waker of one process's wait (step 4 of the module protocol).
struct ProcessWaker {
    /// Weak, so that a waker kept by some other runtime's reactor does not keep this
    /// runtime's memory alive (nor make a cycle through a tokio runtime it owns).
    shared: Weak<Shared>,
    process: ProcPtr,
    serial: u32,
    woken: AtomicBool,
}

impl ProcessWaker {
    fn new(shared: &Arc<Shared>, process: ProcPtr) -> ProcessWaker {
        ProcessWaker {
            shared: Arc::downgrade(shared),
            process,
            serial: process.get().serial.load(Ordering::Relaxed),
            woken: AtomicBool::new(false),
        }
    }
}

impl Wake for ProcessWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // AcqRel: Release publishes the future's progress to the poll that sees the
        // flag; a flag already set means a notify is on its way, so none is needed.
        if self.woken.swap(true, Ordering::AcqRel) {
            return;
        }
        // The upgrade keeps the process table alive while `process` is used.
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        // Acquire pairs with the Release serial bump of an exit: a stale waker sees
        // the new serial and leaves the slot's next occupant alone (or, racing the
        // bump, gives it one spurious wake-up).
        if self.process.get().serial.load(Ordering::Acquire) == self.serial {
            shared.wake(None, self.process, Placement::Back);
        }
    }
}
