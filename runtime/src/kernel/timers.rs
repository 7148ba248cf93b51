//! Timers on the kernel side: arming wheel entries, firing them, and adopting the
//! ones armed from outside any scheduler.
//!
//! A timer armed by a process goes into the wheel of the core its scheduler holds,
//! with no lock. One armed from a thread without a core goes on `remote_timers`
//! (under its mutex) and `has_remote_timers` is set; the next scheduler round moves
//! it into its core's wheel ([`Shared::adopt_remote_timers`]). A wheel entry is a
//! [`TimerAction`]: wake a process at a deadline (receive timeouts, `sleep`), or
//! deliver a `send_after` message through its [`TimerCell`].

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::core::Core;
use super::deliver::Placement;
use super::shared::Shared;
pub(crate) use super::timer_action::TimerAction;
use crate::pid::Pid;
use crate::timer::clock;
use crate::timer::wheel::{self, Entry};
use crate::timer::{TimerCell, TimerPayload, TimerRef};

/// Cancelled timers on a core below which its wheel is never swept.
const SWEEP_FLOOR: usize = 256;

impl Shared {
    /// Arms a wheel entry on `core`, or through the remote list.
    pub(crate) fn arm_timer(
        &self,
        core: Option<&mut Core>,
        deadline: Instant,
        action: TimerAction,
    ) {
        let entry = Entry {
            when: wheel::deadline_tick(self.epoch, deadline),
            item: action,
        };
        match core {
            Some(c) => {
                if let Err(e) = c.timers.insert(entry) {
                    self.fire_timer(Some(c), e.item);
                }
                self.slots[c.index].publish_timers(c.timers.len());
            }
            None => {
                self.remote_timers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(entry);
                // Release pairs with the Acquire in `adopt_remote_timers`/`has_work`.
                self.has_remote_timers.store(true, Ordering::Release);
                // Any scheduler adopts it; wake one in case all are parked.
                self.idle.notify_one();
            }
        }
    }

    /// Arms a `send_after` (or `start_timer`) timer delivering `node` to `to` after
    /// `delay` on this runtime's clock.
    pub(crate) fn send_after(
        &self,
        core: Option<&mut Core>,
        delay: Duration,
        to: Pid,
        node: TimerPayload,
    ) -> TimerRef {
        let deadline = clock::deadline_after(self.now(), delay);
        let cell = TimerCell::new(deadline, node, self.clock.clone());
        let action = TimerAction::Send {
            to,
            cell: cell.clone(),
        };
        self.arm_timer(core, deadline, action);
        TimerRef { cell }
    }

    /// Runs a due timer.
    pub(crate) fn fire_timer(&self, core: Option<&mut Core>, action: TimerAction) {
        match action {
            TimerAction::Wake {
                process,
                serial,
                tick,
            } => {
                let p = process.get();
                // Disarming with a CAS pairs with `arm_wake`'s: an entry superseded
                // by an earlier one (or by the next occupant of the slot) does nothing.
                if p.serial.load(Ordering::Acquire) == serial
                    && p.armed_tick
                        .compare_exchange(tick, 0, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                {
                    // As a message would: run next, sharing what is left of the slice.
                    self.wake(core, process, Placement::Next);
                }
            }
            TimerAction::Send { to, cell } => {
                if let Some(node) = cell.fire() {
                    let _ = self.deliver(core, to, node);
                }
            }
        }
    }

    /// Counts `n` timers cancelled by an exit on `core`; once cancelled entries may
    /// be the majority of its wheel, sweeps them out, so the memory of a mass exit's
    /// timers comes back at once rather than when their deadlines come round.
    /// Amortised O(1) per cancelled timer: a sweep of `len` entries follows at least
    /// `len / 2` cancellations. Entries on other cores' wheels wait for their slot.
    pub(crate) fn forget_timers(&self, core: Option<&mut Core>, n: usize) {
        let Some(core) = core else { return };
        core.dead_timers += n;
        if core.dead_timers < SWEEP_FLOOR || core.dead_timers * 2 < core.timers.len() {
            return;
        }
        core.dead_timers = 0;
        core.timers.retain(|action| match action {
            TimerAction::Send { cell, .. } => cell.is_pending(),
            TimerAction::Wake { .. } => true,
        });
        self.slots[core.index].publish_timers(core.timers.len());
    }

    /// Moves timers armed from outside onto `core`.
    #[inline]
    pub(crate) fn adopt_remote_timers(&self, core: &mut Core) {
        // Acquire pairs with the Release in `arm_timer`.
        if self.has_remote_timers.load(Ordering::Acquire) {
            self.adopt_remote_timers_now(core);
        }
    }

    #[cold]
    #[inline(never)]
    fn adopt_remote_timers_now(&self, core: &mut Core) {
        let entries = {
            let mut r = self.remote_timers.lock().unwrap_or_else(|e| e.into_inner());
            // Cleared under the lock: a push after it sets the flag again.
            self.has_remote_timers.store(false, Ordering::Release);
            std::mem::take(&mut *r)
        };
        for e in entries {
            if let Err(e) = core.timers.insert(e) {
                self.fire_timer(Some(core), e.item);
            }
        }
        self.slots[core.index].publish_timers(core.timers.len());
    }

    /// Fires every timer of `core` due at the tick `now_tick` returns (after adopting
    /// remote ones). The clock is read only when the wheel holds a timer: a
    /// scheduling round without timers pays no clock read. Inlined into the
    /// scheduler's round, which runs it at every switch: it costs a few loads and
    /// compares unless a timer is due.
    #[inline]
    pub(crate) fn fire_due(&self, core: &mut Core, now_tick: impl FnOnce() -> u64) {
        self.adopt_remote_timers(core);
        if core.timers.is_empty() {
            return;
        }
        let now = now_tick();
        if core.timers.may_fire(now) {
            self.fire_due_at(core, now);
        }
    }

    #[inline(never)]
    fn fire_due_at(&self, core: &mut Core, now: u64) {
        let mut due = Vec::new();
        core.timers.poll(now, |action| due.push(action));
        for action in due {
            self.fire_timer(Some(core), action);
        }
        self.slots[core.index].publish_timers(core.timers.len());
    }
}
