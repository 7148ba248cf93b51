//! The waiting side of the reactor protocol (steps 3–6 in `crate::io`): a process
//! tries a non-blocking call and, on `WouldBlock`, parks until the reactor wakes it
//! ([`io_loop`]); plus per-operation timeouts and the registration of a socket with
//! this thread's runtime.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mio::Interest;
use mio::event::Source;

use crate::coroutine::Suspend;
use crate::error::Unsimulated;
use crate::io::reactor::{Dir, IoHandle, Waiter};
use crate::limits::IO_COST;
use crate::scheduler::context::with_runtime;
use crate::scheduler::current::{Current, charge};

/// The error of a blocking socket call made where no process can wait.
pub(crate) fn outside_process() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "beamlet: socket calls must be made from a process of the socket's runtime \
         (a plain thread or a scheduler outside a process cannot wait without blocking)",
    )
}

/// The calling process, if it belongs to `runtime`.
pub(crate) fn current(runtime: u32) -> io::Result<Current> {
    match Current::get() {
        Some(me) if me.pid().runtime == runtime => Ok(me),
        Some(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "beamlet: the socket belongs to another runtime",
        )),
        None => Err(outside_process()),
    }
}

/// Registers `source` with the reactor of the runtime this thread belongs to.
///
/// # Errors
///
/// `Unsupported` outside a runtime's threads or in a simulated runtime (with
/// [`Unsimulated::Network`] inside); the OS error of the registration.
pub(crate) fn register(source: &mut impl Source, interest: Interest) -> io::Result<IoHandle> {
    let (reactor, runtime, simulated) =
        with_runtime(|s| (s.reactor.clone(), s.id, s.is_simulated()))
            .ok_or_else(outside_process)?;
    if simulated {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            Unsimulated::Network,
        ));
    }
    IoHandle::register(reactor, runtime, source, interest)
}

/// The id of the runtime this thread belongs to.
pub(crate) fn this_runtime() -> io::Result<u32> {
    with_runtime(|s| s.id).ok_or_else(outside_process)
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
    let mut me = current(handle.runtime())?;
    me.check_signals();
    charge(IO_COST);
    let mut parked = Parked {
        handle,
        dir,
        me,
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
    me: Current,
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
            self.me.arm_wake(d);
        }
        let parked = self
            .handle
            .lock()
            .park(self.dir, tick, Waiter::new(self.me.ptr()));
        match parked {
            Some(seq) => {
                self.seq = Some(seq);
                self.me.suspend(Suspend::Wait);
            }
            // Ready again: either a new event, or a sticky peer-closed bit with an
            // operation that still would block. Pay for the retry, so that in the
            // latter case the loop is preempted like any loop that pays reductions.
            None => charge(IO_COST),
        }
        Ok(())
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        if let Some(seq) = self.seq {
            self.handle.lock().unpark(self.dir, self.me.ptr(), seq);
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
