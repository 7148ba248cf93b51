//! Network I/O through mio: a process blocks in `read`, `accept` or `recv_from`
//! while its scheduler runs other processes.
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
//! Active mode ([`active`]) is pumped by the reactor thread itself: it reads and
//! delivers under the registration lock, the only reader, so data arrives in order.

pub(crate) mod active;
pub(crate) mod listener;
pub(crate) mod reactor;
pub(crate) mod tcp;
pub(crate) mod udp;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::api;
use crate::coroutine::Suspend;
use crate::process::ProcPtr;
use crate::scheduler::context::with_context;
use reactor::{Dir, IoHandle, Waiter};

/// Reductions one socket operation costs (a system call or two).
const IO_COST: i32 = 5;

/// Identifies a socket in active-mode messages ([`TcpData`](crate::net::TcpData) and
/// the others), as a port does on the BEAM. Unique for the life of the OS process.
///
/// # Examples
///
/// ```
/// use beamlet_runtime::net::{TcpListener, TcpStream};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let a = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
///     let (b, _) = listener.accept().unwrap();
///     assert_ne!(a.id(), b.id());
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(u64);

impl SocketId {
    pub(crate) fn next() -> SocketId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SocketId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The error of a blocking socket call made where no process can wait.
pub(crate) fn outside_process() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "beamlet: socket calls must be made from a process of the socket's runtime \
         (a plain thread or a scheduler outside a process cannot wait without blocking)",
    )
}

/// The calling process, if it belongs to `runtime`.
pub(crate) fn current(runtime: u32) -> io::Result<ProcPtr> {
    match with_context(|cx| (cx.shared.id, cx.current.get())) {
        Some((id, Some(p))) if id == runtime => Ok(p),
        Some((_, Some(_))) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "beamlet: the socket belongs to another runtime",
        )),
        _ => Err(outside_process()),
    }
}

/// `Instant::now() + t`, or `None` for no timeout.
pub(crate) fn deadline(t: Option<Duration>) -> Option<Instant> {
    t.map(|t| Instant::now().checked_add(t).unwrap_or_else(far_future))
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}

pub(crate) fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "beamlet: socket operation timed out",
    )
}

/// Runs the non-blocking `op` on `handle`'s socket in direction `dir` until it does
/// not return `WouldBlock`, parking the calling process in between (steps 3–6 of the
/// protocol). `drained` says whether a result means the socket had no more (a short
/// read or write), which clears the readiness. Fails with `TimedOut` at `deadline`.
pub(crate) fn io_loop<R>(
    handle: &IoHandle,
    dir: Dir,
    deadline: Option<Instant>,
    mut op: impl FnMut() -> io::Result<R>,
    drained: impl Fn(&R) -> bool,
) -> io::Result<R> {
    let p = current(handle.runtime())?;
    api::check_signals();
    api::charge(IO_COST);
    let mut parked = Parked {
        handle,
        dir,
        p,
        deadline,
        seq: None,
    };
    loop {
        let (ready, tick) = handle.lock().poll(dir);
        if ready {
            match op() {
                Ok(v) => {
                    if drained(&v) {
                        handle.lock().clear(dir, tick);
                    }
                    return Ok(v);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                Err(_) => {}
            }
        }
        parked.wait(tick)?;
    }
}

/// A wait in progress. Dropping it (also when a kill unwinds the process) removes
/// the waiter entry and retires the timer wake-up.
struct Parked<'a> {
    handle: &'a IoHandle,
    dir: Dir,
    p: ProcPtr,
    deadline: Option<Instant>,
    seq: Option<u32>,
}

impl Parked<'_> {
    /// Steps 4 and 5: parks unless readiness came after `tick`.
    fn wait(&mut self, tick: u32) -> io::Result<()> {
        if let Some(d) = self.deadline {
            if Instant::now() >= d {
                return Err(timed_out());
            }
            api::arm_wake(self.p, d);
        }
        let parked = self.handle.lock().park(self.dir, tick, Waiter::new(self.p));
        match parked {
            Some(seq) => {
                self.seq = Some(seq);
                api::suspend(Suspend::Wait);
            }
            // Ready again: either a new event, or a sticky peer-closed bit with an
            // operation that still would block. Pay for the retry, so that in the
            // latter case the loop is preempted like any loop that pays reductions.
            None => api::charge(IO_COST),
        }
        Ok(())
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        if let Some(seq) = self.seq {
            self.handle.lock().unpark(self.dir, self.p, seq);
        }
    }
}

/// A per-operation timeout that can be changed through `&self` (nanoseconds, zero
/// for none).
#[derive(Debug, Default)]
pub(crate) struct Timeout(AtomicU64);

impl Timeout {
    pub(crate) fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    /// Sets the timeout; a zero duration is refused, as by `std::net`.
    pub(crate) fn set(&self, t: Option<Duration>) -> io::Result<()> {
        let nanos = match t {
            None => 0,
            Some(d) if d.is_zero() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ));
            }
            Some(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        };
        self.0.store(nanos, Ordering::Relaxed);
        Ok(())
    }
}
