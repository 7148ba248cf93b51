//! The process run-state machine.
//!
//! ```text
//!            spawn                 picked by a scheduler
//!   Free ───────────► Scheduled ─────────────────────────► Running
//!                        ▲   ▲                               │ │ │
//!              notify    │   └──── slice spent (yield) ──────┘ │ │
//!   Waiting ─────────────┘                                     │ │
//!      ▲  └─ wait, nothing arrived ────────────────────────────┘ │
//!      │                                                         │
//!      └── (a notify while Running sets Notified: the wait       │
//!           turns into a reschedule, so no wake-up is lost)      │
//!                                                 exit           │
//!   Free ◄─────────────────────── Exiting ◄──────────────────────┘
//! ```
//!
//! Who may move a process:
//!
//! 1. **Any thread** may call [`RunState::notify`] after pushing a signal or message:
//!    `Waiting → Scheduled` (the caller must then put the process in a run queue),
//!    `Running → Notified`; every other state is left alone.
//! 2. **The scheduler that popped the process** moves `Scheduled → Running`.
//! 3. **The scheduler running it** moves `Running/Notified → Scheduled` (yield),
//!    `Running → Waiting` or `Notified → Scheduled` (wait), and `→ Exiting → Free`.
//!
//! Exactly one party holds a process that is Scheduled or Running, so it is never in
//! two run queues and never resumed twice.

use crate::loom::sync::atomic::{AtomicU32, Ordering};

pub(crate) const FREE: u32 = 0;
pub(crate) const WAITING: u32 = 1;
pub(crate) const SCHEDULED: u32 = 2;
pub(crate) const RUNNING: u32 = 3;
pub(crate) const NOTIFIED: u32 = 4;
pub(crate) const EXITING: u32 = 5;

/// Outcome of [`RunState::notify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Notify {
    /// The process was waiting: the caller now owns it and must schedule it.
    Schedule,
    /// Nothing to do (already scheduled, running, exiting or free).
    Done,
}

/// Outcome of [`RunState::transition_to_waiting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Wait {
    /// The process now waits for a notify.
    Parked,
    /// A notify arrived while it ran: it is Scheduled again and must be queued.
    Reschedule,
}

#[derive(Debug)]
pub(crate) struct RunState(AtomicU32);

impl RunState {
    pub(crate) fn new() -> RunState {
        RunState(AtomicU32::new(FREE))
    }

    pub(crate) fn load(&self) -> u32 {
        // Acquire: a reader that sees a state sees what the transition into it published.
        self.0.load(Ordering::Acquire)
    }

    /// `Free → Scheduled`, by the spawner that owns the free slot.
    pub(crate) fn transition_to_spawned(&self) {
        // Release pairs with the Acquire in `transition_to_running`: the scheduler
        // that pops the process sees its initialised fields.
        // Release: the notifier's delivery (before its AcqRel CAS to NOTIFIED) and this
        // process's suspension are published to whichever scheduler picks it up.
        self.0.store(SCHEDULED, Ordering::Release);
    }

    /// Wakes the process after a push into its mailbox (or a timer).
    pub(crate) fn notify(&self) -> Notify {
        // AcqRel: the Release half publishes the caller's mailbox push to whoever
        // runs the process next; the Acquire half orders us after its last transition.
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let next = match cur {
                WAITING => SCHEDULED,
                RUNNING => NOTIFIED,
                _ => return Notify::Done,
            };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if cur == WAITING => return Notify::Schedule,
                Ok(_) => return Notify::Done,
                Err(actual) => cur = actual,
            }
        }
    }

    /// `Scheduled → Running`, by the scheduler that popped the process.
    pub(crate) fn transition_to_running(&self) {
        // Acquire pairs with the Release of whoever scheduled the process.
        let prev = self.0.swap(RUNNING, Ordering::AcqRel);
        debug_assert_eq!(prev, SCHEDULED, "a process was resumed twice");
    }

    /// `Running/Notified → Scheduled` at the end of a slice.
    pub(crate) fn transition_to_yielded(&self) {
        // Release: as at the end of a slice; the notify seen above is published with it.
        self.0.store(SCHEDULED, Ordering::Release);
    }

    /// `Running → Waiting`, or `Notified → Scheduled` if a notify came in meanwhile.
    pub(crate) fn transition_to_waiting(&self) -> Wait {
        match self
            .0
            .compare_exchange(RUNNING, WAITING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Wait::Parked,
            Err(actual) => {
                debug_assert_eq!(actual, NOTIFIED);
                self.0.store(SCHEDULED, Ordering::Release);
                Wait::Reschedule
            }
        }
    }

    /// `Running/Notified → Exiting`: notifies are ignored from now on.
    pub(crate) fn transition_to_exiting(&self) {
        self.0.store(EXITING, Ordering::Release);
    }

    /// `Exiting → Free`.
    pub(crate) fn transition_to_free(&self) {
        self.0.store(FREE, Ordering::Release);
    }
}
