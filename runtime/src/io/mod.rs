//! The reactor (layer 1): readiness of mio sockets for processes that block in
//! `read`, `accept` or `recv_from` while their scheduler runs other processes. The
//! sockets themselves, and the waiting side of this protocol (`io_loop`), are in
//! `crate::net`; the reactor reaches its runtime only through the [`reactor::Wake`]
//! trait and active mode only through [`reactor::Pump`].
//!
//! # The reactor protocol
//!
//! Each runtime has one `mio::Poll`, polled by a dedicated reactor thread
//! ([`reactor`]), and a table of registrations: one per socket, each with readiness
//! bits, a tick (bumped at every event), and the processes waiting to read and to
//! write, behind a small mutex. Sockets are registered edge-triggered.
//!
//! 1. **Register.** Opening a socket takes a free slot and registers the fd with a
//!    token made of the slot index and the slot's *generation*. The slot starts ready
//!    both ways, so the first operation is simply tried.
//! 2. **Readiness.** For each event the reactor locks the slot, ignores the event if
//!    its token's generation is not the slot's (a closed socket's stale event), sets
//!    the readiness bits and bumps the tick.
//! 3. **WouldBlock.** A process that wants to read (or write) notes the readiness and
//!    the tick under the lock, releases it, and if the direction looks ready tries the
//!    non-blocking system call. Success returns at once (a short transfer also clears
//!    the readiness, as below, to save the next call's `WouldBlock`).
//! 4. **Re-check.** On `WouldBlock` (or if the direction did not look ready) it locks
//!    the slot again: if the tick moved, an event arrived after it looked, and it
//!    retries (step 3). Otherwise it clears the readiness and installs itself as the
//!    direction's waiter (process pointer, serial, wait sequence) in the same critical
//!    section. Peer-closed bits are sticky and never cleared: after a FIN no further
//!    edge comes, so a read must keep finding EOF.
//! 5. **Wait.** It suspends (`Suspend::Wait`), as `receive` does, optionally with a
//!    timer-wheel wake-up at its deadline (the per-operation timeout). Spurious
//!    wake-ups (a message, a timer) just lead back to step 3. A kill unwinds it out of
//!    the wait; a guard removes its waiter entry on the way.
//! 6. **Wake.** In step 2 the reactor takes every waiter of each direction that is now
//!    ready, releases the lock, and wakes each whose serial still matches with
//!    `Shared::wake` (the run-state machine turns a wake that lands before the process
//!    has finished suspending into a reschedule, so none is lost).
//! 7. **Deregister.** Dropping a socket deregisters the fd, bumps the slot's generation
//!    and frees the slot; an event already fetched for the old token is ignored in
//!    step 2, and the slot's next socket gets a different token.
//!
//! # Ordering and locks
//!
//! Readiness, tick and waiters of one socket live under that socket's mutex, so the
//! reactor's "set readiness, take waiters" and the process's "check tick, clear,
//! install waiter" are each atomic with respect to the other: either the reactor's
//! update comes first (the process sees the new tick and retries) or the process's
//! (the reactor finds and wakes the waiter). The mutex's acquire/release makes the
//! bits visible; `RunState::notify` (AcqRel) publishes the wake to whichever
//! scheduler resumes the process. A short read may clear readiness only when the tick
//! is unchanged since before the read: an edge for data that arrived after the read
//! is either already counted in the tick (no clear) or not yet dispatched (it will set
//! the bit again). Lock order: a registration's lock is taken alone, except that the
//! reactor delivers active-mode messages (which take mailbox and run-queue locks)
//! while holding it; nothing takes a registration lock while holding those.
//!
//! Active mode (`net::active`) is pumped by the reactor thread itself: it reads and
//! delivers under the registration lock, the only reader, so data arrives in order.

pub(crate) mod reactor;
