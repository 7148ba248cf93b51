//! The system monitor (as the BEAM's sys monitor / Go's sysmon).
//!
//! A thread that wakes every [`SYSMON_TICK`] and looks at every core's switch counter
//! (odd while a process runs, see [`super::run`]). When a core has been inside the
//! same process for longer than the long-schedule threshold (default 10 ms) — a loop
//! that never reaches a reduction point, or a blocking syscall — it:
//!
//! 1. reports a [`LongSchedule`] event to the process subscribed with
//!    [`system_monitor`], and logs it (`beamlet::sysmon`);
//! 2. takes the core away from the stuck thread ([`crate::kernel::handoff`]) and hands it —
//!    run queue, next slot, timers — to a spare thread, starting one if none is
//!    waiting. The stuck thread finishes its process without a core and then waits
//!    as a spare, so the number of threads running processes returns to the number
//!    of cores as soon as the process reaches a switch. Spares are started up to
//!    `max_spare_threads` in all; at the cap the core stays with its stuck thread.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::context::{WorkerContext, with_runtime};
use super::worker;
use crate::kernel::shared::Shared;
use crate::kernel::stats::SystemEventKind;
use crate::mailbox::node::Node;
use crate::pid::Pid;

/// How often the monitor looks: fine enough that a stuck core is noticed within
/// a tick of the threshold, coarse enough to cost nothing measurable (500 wake-ups/s).
pub(crate) const SYSMON_TICK: Duration = Duration::from_millis(2);

/// A process ran for `duration` without a switch (as `{monitor, Pid, long_schedule,
/// Info}`), sent to the [`system_monitor`] subscriber.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet::{receive_timeout, self_pid, spawn, system_monitor, LongSchedule};
/// let rt = beamlet::Runtime::builder().schedulers(2).build().unwrap();
/// rt.block_on(|| {
///     system_monitor(Some(self_pid()));
///     let hog = spawn(|| std::thread::sleep(Duration::from_millis(50))).unwrap();
///     let ev = receive_timeout::<LongSchedule>(Duration::from_secs(5)).unwrap();
///     assert_eq!(ev.pid, hog);
///     assert!(ev.duration >= Duration::from_millis(10));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongSchedule {
    /// The process that held its scheduler.
    pub pid: Pid,
    /// How long it had run without a switch when it was noticed.
    pub duration: Duration,
}

/// What the monitor remembers about one core.
#[derive(Debug, Clone, Copy)]
struct Watch {
    switches: u64,
    since: Instant,
    reported: bool,
    handed_off: bool,
    /// The spare-thread cap kept this core from being handed off (logged once).
    at_cap: bool,
}

/// The monitor thread's body.
pub(crate) fn thread_main(shared: Arc<Shared>) {
    let now = Instant::now();
    let mut watches = vec![
        Watch {
            switches: 0,
            since: now,
            reported: false,
            handed_off: false,
            at_cap: false,
        };
        shared.slots.len()
    ];
    // Acquire pairs with the shutdown's SeqCst store: a thread that sees it stops.
    while !shared.stopping.load(Ordering::Acquire) {
        std::thread::sleep(SYSMON_TICK);
        let now = Instant::now();
        for (i, w) in watches.iter_mut().enumerate() {
            check_core(&shared, i, w, now);
        }
    }
}

fn check_core(shared: &Arc<Shared>, i: usize, w: &mut Watch, now: Instant) {
    let slot = &shared.slots[i];
    let s = slot.switches.load(Ordering::Relaxed);
    if s != w.switches || s % 2 == 0 {
        *w = Watch {
            switches: s,
            since: now,
            reported: false,
            handed_off: false,
            at_cap: false,
        };
        return;
    }
    let duration = now - w.since;
    if duration < shared.config.long_schedule {
        return;
    }
    if !w.reported {
        w.reported = true;
        let running = slot.running.load(Ordering::Relaxed);
        let serial = running as u32;
        let pid = Pid::new(shared.id, (running >> 32) as u32, serial);
        report(shared, pid, duration);
    }
    if w.handed_off {
        return;
    }
    // Decided before the core is taken: a core taken from its thread must go to
    // another, or its queue would have no thread at all.
    if !can_hand_off(shared) {
        if !w.at_cap {
            w.at_cap = true;
            log::warn!(
                target: "beamlet::sysmon",
                "core {i} stays with its stuck thread: {} spare threads run (max_spare_threads)",
                shared.config.max_spare_threads
            );
        }
    } else if slot.try_steal() {
        w.handed_off = true;
        let running = slot.running.load(Ordering::Relaxed);
        let pid = Pid::new(shared.id, (running >> 32) as u32, running as u32);
        shared.record_system_event(pid, SystemEventKind::CoreHandedOff { core: i });
        hand_off(shared, i);
    }
}

/// Whether a stuck core's queue can go to another thread now: a spare waits, or
/// one more may be started under [`Config::max_spare_threads`]. Only this thread
/// starts spares and hands cores out, and a waiting spare waits until it gets a
/// core, so the answer holds until [`hand_off`] acts on it.
///
/// [`Config::max_spare_threads`]: crate::kernel::shared::Config
fn can_hand_off(shared: &Shared) -> bool {
    let started = shared
        .extra_threads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .len();
    shared.spares.waiting() > 0 || started < shared.config.max_spare_threads
}

fn report(shared: &Shared, pid: Pid, duration: Duration) {
    warn_long_schedule(pid, duration);
    shared.record_system_event(pid, SystemEventKind::LongSchedule { duration });
    let subscriber = *shared.sys_monitor.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(to) = subscriber {
        let _ = shared.deliver(None, to, Node::new(LongSchedule { pid, duration }));
    }
}

/// Says that `pid` ran too long: as a `tracing` event with `pid` and `duration_ms`
/// when the feature is on and a subscriber wants it, else through `log`.
fn warn_long_schedule(pid: Pid, duration: Duration) {
    let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    #[cfg(feature = "tracing")]
    if tracing::enabled!(target: "beamlet::sysmon", tracing::Level::WARN) {
        tracing::warn!(
            target: "beamlet::sysmon",
            event = "long_schedule",
            pid = %pid,
            duration_ms = ms,
            "long_schedule: process {pid} ran {ms} ms without a switch"
        );
        return;
    }
    log::warn!(
        target: "beamlet::sysmon",
        "long_schedule: process {pid} ran {ms} ms without a switch"
    );
}

/// Gives core `i` (whose lease the monitor now holds) to a spare thread, starting
/// one if none is waiting.
fn hand_off(shared: &Arc<Shared>, i: usize) {
    if !shared.spares.offer_core(i)
        && let Err(e) = start_spare_thread(shared)
    {
        log::error!(target: "beamlet::sysmon", "cannot start a spare scheduler thread: {e}");
    }
}

/// Starts a scheduler thread without a core: it waits until one is handed to it
/// (the core offered just before is taken at once). Joined at shutdown.
fn start_spare_thread(shared: &Arc<Shared>) -> std::io::Result<()> {
    let cx_shared = shared.clone();
    let name = format!("{}-spare", shared.config.thread_name);
    let handle = std::thread::Builder::new()
        .name(name)
        .spawn(move || worker::thread_main(&WorkerContext::new(cx_shared), None))?;
    shared
        .extra_threads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(handle);
    Ok(())
}

/// Sets the process that receives [`LongSchedule`] events (`None` to stop); returns the
/// previous subscriber.
///
/// # Panics
///
/// Outside a process.
pub fn system_monitor(to: Option<Pid>) -> Option<Pid> {
    with_runtime(|shared| shared.set_system_monitor(to))
        .expect("beamlet: system_monitor() called outside a process")
}
