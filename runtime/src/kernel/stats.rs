//! Runtime-wide figures ([`RuntimeStats`]) and the system monitor's recent events
//! ([`SystemEvent`]), read from counters the runtime keeps anyway or publishes
//! without a locked operation on its hot paths:
//!
//! - scheduler utilisation: each core adds the time its thread spent idle (spinning
//!   for work or parked) to its slot when it finds work again; busy time is wall
//!   time minus that, as `erlang:statistics(scheduler_wall_time)` counts it. The
//!   dirty pools add the time each thread spent in jobs.
//! - spawns: counted on the spawning core's slot (a load and a store by the lease
//!   holder) or, from outside any scheduler, on one shared counter; exits are
//!   spawns minus live processes.
//! - timers: each core publishes its wheel's length when it arms or fires.
//! - memory: the OS process's resident set, read from `/proc/self/statm`.
//!
//! Nothing here stops a scheduler: a reader takes two short locks (the stack pools'
//! and the reactor's free lists) and reads atomics.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::shared::Shared;
pub use super::system_events::{SystemEvent, SystemEventKind};
use crate::pid::Pid;
use crate::timer::clock;

/// Runtime-wide counters (see [`Runtime::stats`](crate::Runtime::stats) and
/// [`runtime_stats`](crate::runtime_stats)).
///
/// Counters are cumulative since the runtime started: rates and utilisation over an
/// interval are the differences between two readings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeStats {
    /// Live processes.
    pub processes: usize,
    /// Reductions spent by processes that have exited.
    pub reductions: u64,
    /// Process resumes, all schedulers together.
    pub context_switches: u64,
    /// Length of each scheduler's run queue.
    pub run_queue_lengths: Vec<usize>,
    /// Stacks carved from the slab so far (live and pooled).
    pub stacks_carved: usize,
    /// Carved stacks that are free in the shared pools now (schedulers' own caches
    /// of a few stacks each are not counted).
    pub stacks_pooled: usize,
    /// Polls of the network reactor (`epoll_wait` calls that returned).
    pub io_polls: u64,
    /// Readiness events those polls returned: `io_events / io_polls` is how many
    /// events one reactor wake-up handles.
    pub io_events: u64,
    /// Time since the runtime was built.
    pub uptime: Duration,
    /// Busy and wall time of each scheduler, by core index.
    pub schedulers: Vec<SchedulerTime>,
    /// Busy and wall time of each dirty CPU scheduler thread.
    pub dirty_cpu_schedulers: Vec<SchedulerTime>,
    /// Busy and wall time of each dirty I/O scheduler thread.
    pub dirty_io_schedulers: Vec<SchedulerTime>,
    /// Processes spawned so far.
    pub spawned: u64,
    /// Processes that have exited so far (`spawned` minus live ones).
    pub exited: u64,
    /// Resident memory of the whole OS process, in bytes (0 where `/proc` is not
    /// available).
    pub rss_bytes: usize,
    /// Timers armed and not yet fired, on every scheduler (a cancelled timer counts
    /// until its wheel sweeps it or its deadline comes).
    pub timers_pending: usize,
    /// Sockets open on the runtime's reactor (listeners, streams, datagram sockets).
    pub sockets_open: usize,
}

/// How long one scheduler has been busy, out of how long it has existed (as one
/// element of `erlang:statistics(scheduler_wall_time)`).
///
/// ```
/// use beamlet::SchedulerTime;
/// use std::time::Duration;
/// // Utilisation over an interval: the busy time gained over the wall time passed.
/// fn utilisation(before: SchedulerTime, after: SchedulerTime) -> f64 {
///     let wall = after.total.saturating_sub(before.total).as_secs_f64();
///     let busy = after.active.saturating_sub(before.active).as_secs_f64();
///     if wall > 0.0 { busy / wall } else { 0.0 }
/// }
/// let a = SchedulerTime { active: Duration::from_millis(10), total: Duration::from_millis(100) };
/// let b = SchedulerTime { active: Duration::from_millis(60), total: Duration::from_millis(200) };
/// assert_eq!(utilisation(a, b), 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedulerTime {
    /// Time spent running processes (a dirty thread: running jobs), including the
    /// scheduler's own bookkeeping between them.
    pub active: Duration,
    /// Wall time since the runtime started.
    pub total: Duration,
}

impl Shared {
    /// The figures of [`RuntimeStats`], read now.
    pub(crate) fn stats(&self) -> RuntimeStats {
        let uptime = self.epoch.elapsed();
        let processes = self.live.load(Ordering::Acquire);
        let spawned = self.spawned();
        RuntimeStats {
            processes,
            reductions: self.reductions.load(Ordering::Relaxed),
            context_switches: self
                .slots
                .iter()
                .map(|c| c.switches.load(Ordering::Relaxed) / 2)
                .sum(),
            run_queue_lengths: self.stealers.iter().map(|q| q.len()).collect(),
            stacks_carved: self.stacks.carved(),
            stacks_pooled: self.stacks.pooled(),
            io_polls: self.reactor.polls.load(Ordering::Relaxed),
            io_events: self.reactor.events.load(Ordering::Relaxed),
            uptime,
            schedulers: self.scheduler_times(uptime),
            dirty_cpu_schedulers: busy_times(self.dirty_cpu.busy_nanos(), uptime),
            dirty_io_schedulers: busy_times(self.dirty_io.busy_nanos(), uptime),
            spawned,
            exited: spawned.saturating_sub(processes as u64),
            rss_bytes: resident_bytes(),
            timers_pending: self.timers_pending(),
            sockets_open: self.reactor.open_sockets(),
        }
    }

    fn spawned(&self) -> u64 {
        let on_cores: u64 = self
            .slots
            .iter()
            .map(|s| s.counters.spawned.load(Ordering::Relaxed))
            .sum();
        on_cores + self.spawned_outside.load(Ordering::Relaxed)
    }

    fn scheduler_times(&self, uptime: Duration) -> Vec<SchedulerTime> {
        let now = clock::monotonic_nanos().saturating_sub(self.epoch_nanos);
        self.slots
            .iter()
            .map(|s| {
                let idle = Duration::from_nanos(s.idle_nanos(now));
                SchedulerTime {
                    active: uptime.saturating_sub(idle),
                    total: uptime,
                }
            })
            .collect()
    }

    fn timers_pending(&self) -> usize {
        let on_cores: u64 = self
            .slots
            .iter()
            .map(|s| s.counters.timers.load(Ordering::Relaxed))
            .sum();
        let remote = self
            .remote_timers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len();
        usize::try_from(on_cores).unwrap_or(usize::MAX) + remote
    }

    /// Keeps an event of the system monitor.
    pub(crate) fn record_system_event(&self, pid: Pid, kind: SystemEventKind) {
        let at = self.epoch.elapsed();
        let mut events = self.system_events.lock().unwrap_or_else(|e| e.into_inner());
        events.record(at, pid, kind);
    }

    /// The kept events, oldest first.
    pub(crate) fn system_events(&self) -> Vec<SystemEvent> {
        let events = self.system_events.lock().unwrap_or_else(|e| e.into_inner());
        events.to_vec()
    }
}

/// Busy times of dirty threads, from their busy nanoseconds.
fn busy_times(busy: Vec<u64>, uptime: Duration) -> Vec<SchedulerTime> {
    busy.into_iter()
        .map(|b| SchedulerTime {
            active: Duration::from_nanos(b).min(uptime),
            total: uptime,
        })
        .collect()
}

/// The resident set of this OS process: the second field of `/proc/self/statm`, in
/// pages.
fn resident_bytes() -> usize {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse::<usize>().ok())
        .unwrap_or(0);
    pages * crate::stack::page_size()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirty_busy_time_never_exceeds_wall_time() {
        let t = busy_times(vec![5_000_000_000, 1_000], Duration::from_secs(2));
        assert_eq!(t[0].active, Duration::from_secs(2));
        assert_eq!(t[1].active, Duration::from_nanos(1_000));
        assert!(t.iter().all(|s| s.total == Duration::from_secs(2)));
    }

    #[test]
    fn resident_set_is_read() {
        // This test process has touched at least one page.
        assert!(resident_bytes() >= crate::stack::page_size());
    }
}
