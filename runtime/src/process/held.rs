//! [`Held`]: the proof that the caller holds a process exclusively, and so may use
//! its owned fields.
//!
//! # Who holds a process
//!
//! Exactly one party at a time, as the run-state machine ([`super::state`]) decides:
//!
//! 1. the **spawner**, for a `Free` slot it took from the free list;
//! 2. the **scheduler** that moved it to `Running` (or on to `Exiting`), while the
//!    process is not being resumed;
//! 3. the **process itself**, while it runs (between a resume and its next switch).
//!
//! Each of the three makes its `Held` with [`Held::assume`], once, where it comes to
//! hold the process; everything else receives a `&mut Held` and needs no `unsafe`.
//! Parties 2 and 3 take turns: the scheduler drops its `Held` before it resumes the
//! process and makes a new one after the process switched out, and a process keeps
//! no borrow of its owned fields across a switch (the borrow checker enforces it:
//! switching takes the process's `Held` by `&mut`).

use std::marker::PhantomData;

use super::record::{Owned, ProcPtr, Process};

/// Exclusive access to one process's owned fields (see the module docs).
///
/// Not `Send`: a `Held` belongs to the thread that holds the process (a process that
/// migrates takes its own with it only inside its coroutine, which never runs on two
/// threads at once).
pub(crate) struct Held<'a> {
    process: &'a Process,
    _not_send: PhantomData<*const ()>,
}

impl<'a> Held<'a> {
    /// Takes the proof of holding `process`.
    ///
    /// # Safety
    ///
    /// The caller is one of the three holders of the module docs for `process`, and
    /// no other `Held` of `process` is alive.
    pub(crate) unsafe fn assume(process: &'a Process) -> Held<'a> {
        Held {
            process,
            _not_send: PhantomData,
        }
    }

    /// The record (its remote fields, any thread may read them).
    pub(crate) fn process(&self) -> &'a Process {
        self.process
    }

    /// A pointer to the record, for run queues and timers.
    pub(crate) fn ptr(&self) -> ProcPtr {
        ProcPtr::new(self.process)
    }

    /// The owned fields.
    pub(crate) fn owned(&mut self) -> &mut Owned {
        // SAFETY: a `Held` exists only for the one holder of the process (`assume`'s
        // contract), and `&mut self` makes this the only live borrow of the fields
        // through it.
        unsafe { &mut *self.process.owned_ptr() }
    }

    /// Publishes the mailbox length after the holder changed its queue.
    pub(crate) fn publish_mailbox(&mut self) {
        let p = self.process;
        p.publish_mailbox(self.owned());
    }
}

impl std::fmt::Debug for Held<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Held({})", self.process.index)
    }
}
