//! The runtime's clock: the OS monotonic clock, or a virtual one in simulation mode.
//!
//! Every deadline the runtime computes (receive timeouts, `sleep`, `send_after`,
//! `read_timer`) reads `time::now`, and so does the OTP library (call timeouts, restart
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

/// Set (for good) when the first simulated runtime is built: from then on `time::now`
/// asks the calling thread's runtime which clock it runs on (see [`simulating`]).
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

/// `true` once any simulated runtime was built: from then on `time::now` asks the
/// calling thread's runtime for its clock.
#[inline]
pub(crate) fn simulating() -> bool {
    SIMULATING.load(Ordering::Relaxed)
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

/// Nanoseconds of the OS monotonic clock (`CLOCK_MONOTONIC`, the clock `Instant`
/// reads on Linux), as one integer: what the schedulers compare timer ticks with on
/// every round, without `Instant`'s `Duration` arithmetic (the subtraction and the
/// 128-bit division cost several times the clock read itself).
#[inline]
pub(crate) fn monotonic_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on
    // Linux, so the call cannot fail (and a failure would leave `ts` at zero, which
    // only delays timers to the next check).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}
