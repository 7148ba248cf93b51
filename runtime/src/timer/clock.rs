//! The runtime's clock: the OS monotonic clock, or a virtual one in simulation mode.
//!
//! Every deadline the runtime computes (receive timeouts, `sleep`, `send_after`,
//! `read_timer`) reads [`now`], and so does the OTP library (call timeouts, restart
//! intensity, shutdown timeouts). Normally that is `Instant::now()`. In a runtime
//! built with [`RuntimeBuilder::simulation`](crate::RuntimeBuilder::simulation) it
//! is the runtime's [`VirtualClock`]: the runtime's start instant plus a count of
//! virtual nanoseconds that only the simulation scheduler advances, jumping to the
//! next timer deadline when no process is runnable.
//!
//! The check costs one relaxed load of a flag that is set only once a simulated
//! runtime has been built, so a program without one pays nothing else.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::scheduler::context::with_context;

/// Set (for good) when the first simulated runtime is built: from then on [`now`]
/// asks the calling thread's runtime which clock it runs on.
static SIMULATING: AtomicBool = AtomicBool::new(false);

/// A simulated runtime's clock: `epoch` plus virtual nanoseconds.
#[derive(Debug)]
pub(crate) struct VirtualClock {
    epoch: Instant,
    /// Written only by the simulation scheduler thread; read by any thread.
    nanos: AtomicU64,
}

impl VirtualClock {
    /// A clock standing at `epoch`; marks the process as simulating.
    pub(crate) fn new(epoch: Instant) -> Arc<VirtualClock> {
        SIMULATING.store(true, Ordering::Relaxed);
        Arc::new(VirtualClock {
            epoch,
            nanos: AtomicU64::new(0),
        })
    }

    /// The virtual now.
    pub(crate) fn now(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }

    /// Virtual nanoseconds since the epoch.
    pub(crate) fn nanos(&self) -> u64 {
        self.nanos.load(Ordering::Acquire)
    }

    /// Moves the clock forward to `nanos` since the epoch (never back).
    pub(crate) fn advance_to(&self, nanos: u64) {
        if nanos > self.nanos() {
            self.nanos.store(nanos, Ordering::Release);
        }
    }
}

/// The runtime's current time (as `erlang:monotonic_time/0`).
///
/// In a process of a runtime built with
/// [`simulation`](crate::RuntimeBuilder::simulation) this is the runtime's virtual
/// clock, which stands still while processes run and jumps to the next timer
/// deadline when none is runnable; everywhere else it is `Instant::now()`. Measure
/// time with it, not with `Instant::now()`, in code that should replay exactly in a
/// simulation. A virtual instant is only comparable with instants from the same
/// clock: it starts at the runtime's start and does not follow the OS clock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{now, sleep, Runtime};
/// let rt = Runtime::builder().simulation(7).build().unwrap();
/// let slept = rt.block_on(|| {
///     let t0 = now();
///     sleep(Duration::from_secs(3600)); // an hour of virtual time, no wall time
///     now() - t0
/// }).unwrap();
/// assert!(slept >= Duration::from_secs(3600));
/// assert!(slept < Duration::from_secs(3601));
/// rt.shutdown();
/// ```
#[inline]
pub fn now() -> Instant {
    if SIMULATING.load(Ordering::Relaxed) {
        return simulated_now();
    }
    Instant::now()
}

#[cold]
#[inline(never)]
fn simulated_now() -> Instant {
    with_context(|cx| cx.shared.now()).unwrap_or_else(Instant::now)
}

/// `now` on `clock` (a virtual clock) or the OS clock.
pub(crate) fn now_on(clock: Option<&VirtualClock>) -> Instant {
    clock.map_or_else(Instant::now, VirtualClock::now)
}

/// `now() + timeout`, saturating at a century from now.
pub(crate) fn deadline_after(now: Instant, timeout: Duration) -> Instant {
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}
