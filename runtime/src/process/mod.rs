//! Processes: the per-process record, its lifecycle, and the process table.
//!
//! # Lifecycle
//!
//! 1. **Spawn**: a free table slot is taken, its owned part filled in (the entry
//!    closure, an empty queue), and it goes `Free → Scheduled` into a run queue. No
//!    stack is taken yet.
//! 2. **First run**: the scheduler takes a stack from its cache and builds the
//!    coroutine around the entry closure.
//! 3. **Running / waiting**: the process suspends when its slice is spent (`Yield`) or
//!    when it waits (`Wait`); see [`state`] for who moves it between states.
//! 4. **Hibernate**: the coroutine finishes early with a continuation; the stack goes
//!    back to the pool and the continuation becomes the next entry closure.
//! 5. **Exit**: the coroutine finishes with a reason; the scheduler drops the queue,
//!    runs exit hooks, bumps the slot serial (so stale pids stop matching) and frees
//!    the slot.
//!
//! # Ownership
//!
//! A record's fields are split by who may touch them (see [`record`]): remote fields
//! are atomics (or behind a lock) and any thread reads them; the *owned* fields are
//! reached only through a [`Held`], the proof that the caller holds the process
//! exclusively ([`held`]).
//!
//! - [`record`]: [`Process`], its [`Owned`](record::Owned) fields, [`ProcPtr`].
//! - [`state`]: the run-state machine, which decides who holds a process.
//! - [`held`]: [`Held`], the one way to the owned fields.
//! - [`table`]: the slots, allocated in chunks and reused.

pub(crate) mod held;
pub(crate) mod record;
pub(crate) mod small_map;
pub(crate) mod state;
pub(crate) mod table;

pub(crate) use held::Held;
pub(crate) use record::{ExitHook, FLAG_DIRTY, FLAG_KILL, FLAG_OVERFLOW, Owned, ProcPtr, Process};
