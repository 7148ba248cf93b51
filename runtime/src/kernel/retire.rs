//! Retiring an exited process, and the per-core caches of slots and stacks that
//! spawning and retiring share.
//!
//! # Protocol of an exit ([`Shared::retire`])
//!
//! 1. `Running → Exiting`: notifies are ignored from now on. Write the exit's
//!    report, if it gets one ([`super::exit_report`]): before anyone learns of it.
//! 2. Drop the private queue, the entry, the kill reason and the aliases; cancel
//!    the timers the process set to itself ([`crate::timer::owned`]).
//! 3. Close the mailbox and tell the process's links and monitors
//!    ([`super::signals::on_exit`]); release its name.
//! 4. Publish the mailbox count (the next occupant starts from an empty mailbox),
//!    add its reductions to the runtime's, bump the slot serial (Release: a sender
//!    that reads the new serial refuses the old pid), `Exiting → Free`.
//! 5. Free the slot, count the exit, then run
//!    the exit hooks (`block_on`'s result hand-over) — last, so that `block_on`
//!    returns only once the process is entirely gone.

use std::sync::atomic::Ordering;

use super::core::{Core, DEEP_CACHED, SLOT_CACHE, STACK_CACHE};
use super::shared::Shared;
use super::{exit_report, signals};
use crate::exit::ExitReason;
use crate::process::Held;
use crate::stack::{DEEP_MARK, PooledStack};

/// Tag on a cached slot whose process went below the deep mark: its low pages are
/// still resident. Slots are page-aligned, so bit 0 is free.
const DEEP_TAG: usize = 1;

impl Shared {
    /// Retires an exited process that the caller (its scheduler) holds.
    pub(crate) fn retire(
        &self,
        mut core: Option<&mut Core>,
        mut held: Held<'_>,
        reason: ExitReason,
    ) {
        let proc = held.process();
        proc.state.transition_to_exiting();
        let pid = proc.pid(self.id);
        let owned = held.owned();
        if !self.config.reports.is_off()
            && let Some(report) = exit_report::for_exit(proc, owned, pid, &reason)
        {
            self.config.reports.write(&report);
        }
        owned.initial_call = None;
        #[cfg(feature = "tracing")]
        {
            owned.span = None;
        }
        owned.queue.clear();
        owned.entry = None;
        owned.kill_reason = None;
        owned.aliases.clear();
        let cancelled = owned.timers.cancel_all();
        if cancelled > 0 {
            self.forget_timers(core.as_deref_mut(), cancelled);
        }
        let hooks = std::mem::take(&mut owned.exit_hooks);
        let notice = signals::on_exit(self, core.as_deref_mut(), proc, pid, &reason);
        // The cleared queue and the closed inbound leave the count; the next occupant
        // starts from an empty mailbox (before the slot is freed for it).
        let owned = held.owned();
        owned.drained = owned.drained.wrapping_add(notice.drained);
        proc.publish_mailbox(owned);
        self.reductions
            .fetch_add(proc.reductions.load(Ordering::Relaxed), Ordering::Relaxed);
        // Release pairs with the Acquire serial check in `Shared::deliver_admitted`.
        proc.serial
            .store(pid.serial.wrapping_add(1), Ordering::Release);
        proc.state.transition_to_free();
        self.release_slot(core, proc.index);
        self.process_exited();
        for hook in hooks {
            hook(&reason);
        }
    }

    fn release_slot(&self, core: Option<&mut Core>, index: u32) {
        match core {
            Some(core) => {
                core.free_slots.push(index);
                if core.free_slots.len() > SLOT_CACHE {
                    let at = core.free_slots.len() / 2;
                    self.table.release_batch(core.free_slots.drain(at..));
                }
            }
            None => self.table.release_batch([index]),
        }
    }

    /// A free stack of size class `class` for a process's first run: a default-class
    /// one from the core's cache (refilled in batches), any other straight from the
    /// pool (as without a core). `None` at the limit.
    pub(crate) fn take_stack(&self, core: Option<&mut Core>, class: u8) -> Option<usize> {
        match core {
            Some(core) if class == self.stacks.default_class() => {
                if core.free_stacks.is_empty() {
                    self.stacks.acquire_batch(class, &mut core.free_stacks, 32);
                }
                let slot = core.free_stacks.pop()?;
                if slot & DEEP_TAG != 0 {
                    core.deep_stacks -= 1;
                }
                Some(slot & !DEEP_TAG)
            }
            _ => {
                let mut one = Vec::with_capacity(1);
                self.stacks.acquire_batch(class, &mut one, 1);
                one.pop()
            }
        }
    }

    /// Gives back the stack of a process that exited or hibernated. `deep`: the
    /// process went below [`DEEP_MARK`] of it. Such a stack keeps its low pages only
    /// in the core's cache, tagged, and only [`DEEP_CACHED`] of them: the cache is
    /// LIFO, so a deep process spawned after a deep one reuses its pages without a
    /// `madvise` and without faulting them in again. Any other has the pages below
    /// the mark released (one `madvise`) before it is pooled, and so does a tagged
    /// one when it leaves the cache: the pool never keeps a deep process's pages, and
    /// reuse does not creep RSS.
    pub(crate) fn give_back_stack(&self, core: Option<&mut Core>, stack: PooledStack, deep: bool) {
        let (class, slot) = stack.into_slot();
        match core {
            Some(core) if class == self.stacks.default_class() => {
                let slot = match deep {
                    true if core.deep_stacks < DEEP_CACHED => {
                        core.deep_stacks += 1;
                        slot | DEEP_TAG
                    }
                    true => {
                        self.stacks.release_below(class, slot, DEEP_MARK);
                        slot
                    }
                    false => slot,
                };
                core.free_stacks.push(slot);
                if core.free_stacks.len() > STACK_CACHE {
                    self.uncache_stacks(core, core.free_stacks.len() / 2);
                }
            }
            _ => {
                if deep {
                    self.stacks.release_below(class, slot, DEEP_MARK);
                }
                self.stacks.release_batch(class, [slot]);
            }
        }
    }

    /// Returns the core's cached stacks from index `at` on to the pool, releasing
    /// the low pages of the tagged ones first.
    fn uncache_stacks(&self, core: &mut Core, at: usize) {
        let class = self.stacks.default_class();
        for slot in &mut core.free_stacks[at..] {
            if *slot & DEEP_TAG != 0 {
                *slot &= !DEEP_TAG;
                core.deep_stacks -= 1;
                self.stacks.release_below(class, *slot, DEEP_MARK);
            }
        }
        self.stacks
            .release_batch(class, core.free_stacks.drain(at..));
    }

    /// Returns a core's cached slots and stacks to the shared pools, so memory can be
    /// trimmed and other cores can use them.
    pub(crate) fn release_caches(&self, core: &mut Core) {
        if !core.free_stacks.is_empty() {
            self.uncache_stacks(core, 0);
        }
        if !core.free_slots.is_empty() {
            self.table.release_batch(core.free_slots.drain(..));
        }
    }
}
