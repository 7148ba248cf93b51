//! Spawning: a free slot becomes a runnable process.
//!
//! # Protocol
//!
//! 1. Refuse if the runtime is closing, or if `live` is at `max_processes` (the add
//!    is the reservation: concurrent spawns never exceed the limit).
//! 2. Take a free slot: from the spawning core's cache when there is a core, else
//!    from the table's free list. A taken slot is held by the spawner alone.
//! 3. Fill in its owned fields and reset its remote ones (the mailbox counters carry
//!    over: they belong to the slot, see `mailbox::limit`).
//! 4. Apply what the process has from [`Birth`]: priority, mailbox limit, links and
//!    monitors — all before step 5, so no send escapes the limit and the child can
//!    never exit unobserved.
//! 5. Reopen the mailbox (the pid is now reachable), move it `Free → Scheduled` and
//!    queue it: on the spawning core's run queue, or on the injector.
//!
//! No stack is taken here: a process gets one when it first runs (`scheduler::run`),
//! of the size class chosen here (the spawn options' stack size, else the default).

use std::num::NonZeroUsize;
use std::panic::Location;
use std::sync::atomic::Ordering;

use super::core::Core;
use super::shared::Shared;
use crate::error::SpawnError;
use crate::mailbox::limit::MailboxLimit;
use crate::pid::{MonitorRef, Pid};
use crate::priority::Priority;
use crate::process::{ExitHook, Held, ProcPtr, Process};

/// What a new process has from birth (`spawn_opt`'s options, resolved).
#[derive(Default)]
pub(crate) struct Birth {
    /// The spawning process, which the link and the monitor connect to.
    pub(crate) parent: Option<(ProcPtr, Pid)>,
    pub(crate) link: bool,
    pub(crate) monitor: Option<MonitorRef>,
    pub(crate) priority: Option<Priority>,
    pub(crate) mailbox_limit: Option<MailboxLimit>,
    /// Usable stack bytes at least (`None`: the runtime's default). Non-zero so
    /// that the option is one word: `Birth` is moved by value down the spawn path.
    pub(crate) stack_size: Option<NonZeroUsize>,
    /// Run by the scheduler after the process has exited (`Runtime::block_on`).
    /// One at most: `Birth` stays 96 bytes, moved without a `memcpy` call.
    pub(crate) exit_hook: Option<ExitHook>,
    /// Where the spawn was called (`#[track_caller]`), for `process_info`.
    pub(crate) site: Option<&'static Location<'static>>,
}

impl Birth {
    /// A birth with no options, spawned at `site`.
    pub(crate) fn at(site: &'static Location<'static>) -> Birth {
        Birth {
            site: Some(site),
            ..Birth::default()
        }
    }
}

impl std::fmt::Debug for Birth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Birth")
            .field("parent", &self.parent.map(|(_, pid)| pid))
            .field("link", &self.link)
            .field("monitor", &self.monitor)
            .field("priority", &self.priority)
            .field("mailbox_limit", &self.mailbox_limit)
            .field("stack_size", &self.stack_size)
            .field("exit_hook", &self.exit_hook.is_some())
            .field("site", &self.site)
            .finish()
    }
}

impl Shared {
    /// Spawns a process running `entry` (steps 1–5). `core` is the spawning
    /// scheduler's core, if the caller is one of this runtime's schedulers;
    /// `spawner` the spawning process, if it is one of this runtime's (its parent in
    /// `process_info`).
    pub(crate) fn spawn(
        &self,
        core: Option<&mut Core>,
        spawner: Option<Pid>,
        entry: Box<dyn FnOnce() + Send>,
        birth: Birth,
    ) -> Result<Pid, SpawnError> {
        // Acquire pairs with the shutdown's SeqCst store: no spawn after shutdown began.
        if self.closing.load(Ordering::Acquire) {
            return Err(SpawnError::RuntimeGone);
        }
        let class = match birth.stack_size {
            None => self.stacks.default_class(),
            Some(b) => (self.stacks.class_for(b.get())).ok_or(SpawnError::StackSize(b.get()))?,
        };
        // The limit is on live processes; slots and stacks have slack for the
        // per-core caches (see `slack`), so they never run out first.
        if self.live.fetch_add(1, Ordering::AcqRel) >= self.config.max_processes {
            self.live.fetch_sub(1, Ordering::AcqRel);
            return Err(SpawnError::SystemLimit);
        }
        let taken = match core {
            Some(c) => self.take_slot_cached(c).map(|i| (i, Some(c))),
            None => self.take_slot().map(|i| (i, None)),
        };
        let (index, core) = match taken {
            Ok(t) => t,
            Err(e) => {
                // AcqRel: as every update of `live` (see the reservation above).
                self.live.fetch_sub(1, Ordering::AcqRel);
                return Err(e);
            }
        };
        let p = self.table.get(index).expect("allocated slots have records");
        // SAFETY: the slot is Free and was just taken from the free list (or this
        // core's cache of it), so this thread is its only holder (step 2).
        let mut held = unsafe { Held::assume(p) };
        held.process().set_parent(spawner);
        let pid = prepare(&mut held, self.id, entry, birth);
        #[cfg(feature = "tracing")]
        if self.config.process_spans {
            // Made on the spawner's thread, so its parent is the span entered there:
            // the spawning process's own, when a process spawns.
            held.owned().span =
                Some(tracing::info_span!(target: "beamlet::process", "process", pid = %pid));
        }
        p.stack_class.store(class, Ordering::Relaxed);
        p.inbound.reopen();
        p.state.transition_to_spawned();
        let ptr = ProcPtr::new(p);
        match core {
            Some(c) => {
                self.slots[c.index].count_spawn();
                c.run_queue.push(ptr);
            }
            None => {
                // Relaxed: a statistic. Spawns from outside are rare; those from
                // schedulers count on their core's slot without a locked operation.
                self.spawned_outside.fetch_add(1, Ordering::Relaxed);
                self.injector.push(ptr);
            }
        }
        self.idle.notify_one();
        Ok(pid)
    }

    fn take_slot_cached(&self, core: &mut Core) -> Result<u32, SpawnError> {
        if core.free_slots.is_empty() {
            self.table.alloc_batch(&mut core.free_slots, 64);
        }
        core.free_slots.pop().ok_or(SpawnError::SystemLimit)
    }

    fn take_slot(&self) -> Result<u32, SpawnError> {
        let mut v = Vec::with_capacity(1);
        self.table.alloc_batch(&mut v, 1);
        v.pop().ok_or(SpawnError::SystemLimit)
    }
}

/// Steps 3 and 4 on a slot the spawner holds; returns the new pid.
fn prepare(
    held: &mut Held<'_>,
    runtime: u32,
    entry: Box<dyn FnOnce() + Send>,
    birth: Birth,
) -> Pid {
    let owned = held.owned();
    owned.entry = Some(entry);
    // The hooks of the slot's previous occupant were taken when it retired.
    owned.exit_hooks.extend(birth.exit_hook);
    owned.kill_reason = None;
    let p = held.process();
    p.flags.store(0, Ordering::Relaxed);
    p.reductions.store(0, Ordering::Relaxed);
    p.trap_exit.store(false, Ordering::Relaxed);
    p.hibernated.store(false, Ordering::Relaxed);
    p.stack_used.store(0, Ordering::Relaxed);
    // The mailbox counters are the slot's and carry over (see `mailbox::limit`).
    p.inbound.reset_limit();
    let priority = birth.priority.unwrap_or(Priority::Normal);
    p.priority.store(priority as u8, Ordering::Relaxed);
    p.armed_tick.store(0, Ordering::Relaxed);
    p.set_spawn_site(birth.site);
    // Before the pid is published (`reopen`): no send escapes the limit.
    let _ = p.inbound.set_limit(birth.mailbox_limit);
    let pid = p.pid(runtime);
    if let Some((parent, parent_pid)) = birth.parent {
        relate(parent.get(), parent_pid, p, pid, birth.link, birth.monitor);
    }
    pid
}

/// Links and monitors between a parent and a child that is not runnable yet.
fn relate(
    parent: &Process,
    parent_pid: Pid,
    child: &Process,
    child_pid: Pid,
    link: bool,
    monitor: Option<MonitorRef>,
) {
    let mut mine = parent.relations();
    let mut theirs = child.relations();
    if link {
        mine.links.insert(child_pid);
        theirs.links.insert(parent_pid);
    }
    if let Some(m) = monitor {
        mine.monitors.insert(m, child_pid);
        theirs.monitored_by.insert(m, parent_pid);
    }
}
