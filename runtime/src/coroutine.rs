//! The one `Send` wrapper around a process's coroutine.
//!
//! # Invariant
//!
//! A [`ProcessCoroutine`] may move between scheduler threads because:
//!
//! 1. It is resumed by at most one thread at a time: only the scheduler that moved the
//!    process to `Running` (see [`crate::process::state`]) touches it, and it is never
//!    resumed while a previous resume is in progress.
//! 2. Runtime code never holds a `!Send` value, a `MutexGuard`, or a borrow of a
//!    thread-local across a suspension point. Thread-locals are read only through the
//!    `#[inline(never)]` accessors of [`crate::scheduler::context`], after each resume.
//! 3. User code running in a process must obey the same rule: a value bound to its OS
//!    thread (`Rc`, `MutexGuard`, a `RefCell` borrow of a thread-local, a pointer to a
//!    thread-local) must not be held across a runtime call that can switch (`receive`,
//!    `sleep`, `yield_now`, `reduce`, `send`, `spawn`). The public docs say so, and
//!    [`crate::NoSwitch`] lets code declare such a section: a switch inside it panics.
//! 4. A coroutine never switches out while its thread is unwinding (the per-thread
//!    panic count would leak to the next process); the runtime refuses such a switch.

use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::exit::ExitReason;
use crate::stack::PooledStack;

/// Why a process suspended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suspend {
    /// Its slice is spent: back of the run queue.
    Yield,
    /// It waits for a message, a timer or a signal.
    Wait,
}

/// How a process's coroutine finished.
pub(crate) enum Outcome {
    /// The process exited.
    Exit(ExitReason),
    /// The process hibernated: run this when it is next woken.
    Hibernate(Box<dyn FnOnce() + Send>),
}

pub(crate) type ProcessYielder = Yielder<(), Suspend>;

type Inner = Coroutine<(), Suspend, Outcome, PooledStack>;

/// A process's coroutine, movable between scheduler threads (see the module invariant).
pub(crate) struct ProcessCoroutine(Inner);

// SAFETY: see the module-level invariant: single resumer at a time, and nothing
// thread-bound is alive on the coroutine stack across a suspension.
unsafe impl Send for ProcessCoroutine {}

/// Result of one resume.
pub(crate) enum Step {
    Suspended(Suspend),
    Finished(Outcome, PooledStack),
}

impl ProcessCoroutine {
    /// A coroutine that will run `body` on `stack`.
    pub(crate) fn new(
        stack: PooledStack,
        body: impl FnOnce(&ProcessYielder) -> Outcome + 'static,
    ) -> ProcessCoroutine {
        ProcessCoroutine(Coroutine::with_stack(
            stack,
            move |y: &ProcessYielder, ()| body(y),
        ))
    }

    /// Runs the process until it suspends or finishes; on finish the stack comes back.
    pub(crate) fn resume(mut self) -> (Option<Self>, Step) {
        match self.0.resume(()) {
            CoroutineResult::Yield(s) => (Some(self), Step::Suspended(s)),
            CoroutineResult::Return(outcome) => {
                let stack = self.0.into_stack();
                (None, Step::Finished(outcome, stack))
            }
        }
    }

    /// Leaks a suspended coroutine without unwinding it (used only at runtime
    /// teardown for processes that never reached an exit). Its stack slot is lost to
    /// the pool, which is about to be unmapped.
    pub(crate) fn abandon(self) {
        std::mem::forget(self);
    }
}

impl std::fmt::Debug for ProcessCoroutine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessCoroutine")
            .field("started", &self.0.started())
            .finish()
    }
}
