//! The schedulers: one OS thread per scheduler, each running processes from its core.
//!
//! - [`worker`]: the scheduler loop: timers, picking, stealing, parking.
//! - [`sim`]: the deterministic simulation loop that replaces it in a simulated runtime.
//! - [`run`]: running one process, and what happens when it suspends or exits.
//! - [`core`]: the movable per-scheduler state (run queue, next slot, timers, caches).
//! - [`handoff`]: taking a core from a stuck thread and giving it to another.
//! - [`sysmon`]: the system monitor that notices stuck threads.
//! - [`idle`]: parking and waking threads without lost wake-ups.
//! - [`context`]: the thread-local context and its `#[inline(never)]` accessors.
//!
//! This file holds [`Shared`], the state every scheduler and every thread that talks
//! to the runtime can reach, and the operations on it: spawning, scheduling a woken
//! process, delivering a message, arming a timer.

pub(crate) mod context;
pub(crate) mod core;
pub(crate) mod handoff;
pub(crate) mod idle;
pub(crate) mod queue;
pub(crate) mod run;
pub(crate) mod sim;
pub(crate) mod sysmon;
pub(crate) mod worker;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

pub(crate) use self::core::Core;
use crate::mailbox::limit::{self, Admission, Admit};
use crate::mailbox::node::{Kind, Node};
use crate::names::Names;
use crate::process::FLAG_OVERFLOW;
use crate::process::state::Notify;
use crate::process::table::ProcessTable;
use crate::process::{ExitHook, ProcPtr};
use crate::signal::Signal;
use crate::stack::StackPool;
use crate::timer::clock::{self, VirtualClock};
use crate::timer::wheel::Entry;
use crate::timer::{self, TimerAction, TimerCell, TimerRef};
use crate::{MonitorRef, Pid, SpawnError};

/// Process slots (and stacks) beyond `max_processes`, so that the ones parked in
/// per-core caches never make a spawn fail below the limit: each core caches at most
/// `cache + batch` of either.
pub(crate) fn slack(schedulers: usize) -> usize {
    let per_core = core::SLOT_CACHE.max(core::STACK_CACHE) + 64;
    schedulers * per_core + 64
}

/// Reductions a spawn costs the spawner.
pub(crate) const SPAWN_COST: i32 = 10;
/// Reductions a send costs the sender.
pub(crate) const SEND_COST: i32 = 1;
/// Reductions to arm or cancel a timer.
pub(crate) const TIMER_COST: i32 = 2;

/// Validated runtime settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) schedulers: usize,
    pub(crate) stack_size: usize,
    pub(crate) reductions: i32,
    pub(crate) thread_name: String,
    pub(crate) max_processes: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) long_schedule: Duration,
    pub(crate) dirty_cpu: usize,
    pub(crate) dirty_io: usize,
    /// The seed of a simulated runtime (see [`sim`]).
    pub(crate) simulation: Option<u64>,
}

/// State shared by all schedulers of one runtime.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The runtime number (first part of every pid).
    pub(crate) id: u32,
    pub(crate) config: Config,
    /// Processes made runnable by threads that are not schedulers of this runtime.
    pub(crate) injector: queue::Injectors,
    pub(crate) stealers: Box<[queue::Remote]>,
    pub(crate) idle: idle::Idle,
    /// Timers armed from outside any scheduler, adopted by the next scheduler round.
    pub(crate) remote_timers: Mutex<Vec<Entry<TimerAction>>>,
    pub(crate) has_remote_timers: AtomicBool,
    pub(crate) table: ProcessTable,
    pub(crate) stacks: StackPool,
    /// Time zero of every timer wheel.
    pub(crate) epoch: Instant,
    /// The virtual clock of a simulated runtime; `None` runs on the OS clock.
    pub(crate) clock: Option<std::sync::Arc<VirtualClock>>,
    /// Live processes; `exited` is signalled when it reaches zero while closing.
    pub(crate) live: AtomicUsize,
    pub(crate) exited: (Mutex<()>, Condvar),
    /// Set when shutdown starts: spawns fail from then on.
    pub(crate) closing: AtomicBool,
    /// Set when the scheduler threads must leave their loops.
    pub(crate) stopping: AtomicBool,
    /// Registered names.
    pub(crate) names: Names,
    /// Reductions of exited processes (statistics; Relaxed).
    pub(crate) reductions: AtomicU64,
    /// One per core: its hand-over state and published switch counter.
    pub(crate) slots: Box<[handoff::CoreSlot]>,
    /// Cores waiting for a thread, and threads waiting for a core.
    pub(crate) handoff: Mutex<Handoff>,
    pub(crate) handoff_ready: Condvar,
    /// Threads started after `build` (spare schedulers), joined at shutdown.
    pub(crate) extra_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// The process that receives `LongSchedule` events.
    pub(crate) sys_monitor: Mutex<Option<Pid>>,
    /// Dirty scheduler pools.
    pub(crate) dirty_cpu: std::sync::Arc<crate::dirty::DirtyPool>,
    pub(crate) dirty_io: std::sync::Arc<crate::dirty::DirtyPool>,
    /// The network reactor (see [`crate::io`]).
    pub(crate) reactor: std::sync::Arc<crate::io::reactor::Reactor>,
}

/// The hand-off rendezvous (see [`sysmon`]).
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    pub(crate) cores: Vec<usize>,
    pub(crate) spares: usize,
}

impl Shared {
    /// Starts a scheduler thread with no core: it waits for one to be handed over.
    pub(crate) fn start_spare_thread(self: &std::sync::Arc<Self>) -> std::io::Result<()> {
        let shared = self.clone();
        let name = format!("{}-spare", self.config.thread_name);
        let handle = std::thread::Builder::new().name(name).spawn(move || {
            let cx = context::WorkerContext::new(shared);
            worker::run(&cx, None);
        })?;
        self.extra_threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle);
        Ok(())
    }

    /// Spawns a process running `entry`. `core` is the spawning scheduler's core,
    /// if the caller is one of this runtime's schedulers.
    pub(crate) fn spawn(
        &self,
        core: Option<&mut Core>,
        entry: Box<dyn FnOnce() + Send>,
        hooks: Vec<ExitHook>,
        relate: Option<Relate>,
    ) -> Result<Pid, SpawnError> {
        if self.closing.load(Ordering::Acquire) {
            return Err(SpawnError::RuntimeGone);
        }
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
                self.live.fetch_sub(1, Ordering::AcqRel);
                return Err(e);
            }
        };
        let p = self.table.get(index).expect("allocated slots have records");
        // SAFETY: the slot is Free and was just taken from the free list, so this
        // thread is its only holder.
        let owned = unsafe { p.owned() };
        owned.entry = Some(entry);
        owned.exit_hooks = hooks;
        owned.kill_reason = None;
        p.flags.store(0, Ordering::Relaxed);
        p.reductions.store(0, Ordering::Relaxed);
        p.trap_exit.store(false, Ordering::Relaxed);
        p.hibernated.store(false, Ordering::Relaxed);
        p.stack_used.store(0, Ordering::Relaxed);
        // The mailbox counters are the slot's and carry over (see `mailbox::limit`).
        p.inbound.reset_limit();
        p.priority.store(1, Ordering::Relaxed);
        p.armed_tick.store(0, Ordering::Relaxed);
        let pid = p.pid(self.id);
        if let Some(r) = relate {
            r.apply(p, pid);
        }
        p.inbound.reopen();
        p.state.transition_to_spawned();
        let ptr = ProcPtr::new(p);
        match core {
            Some(c) => c.run_queue.push(ptr),
            None => self.injector.push(ptr),
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

    /// Delivers `node` to `pid` and wakes it, past any mailbox limit (signals and
    /// runtime-made messages). Gives the node back if `pid` is dead.
    pub(crate) fn deliver(
        &self,
        core: Option<&mut Core>,
        pid: Pid,
        node: Node,
    ) -> Result<(), Node> {
        self.deliver_admitted(core, pid, node, Admission::Always)
            .map_err(Refused::into_node)
    }

    /// Delivers `node` to `pid` subject to its mailbox limit (and `admission`'s
    /// bound): the path of `send`. Refusing a `Kill`-limited send kills the process.
    pub(crate) fn deliver_admitted(
        &self,
        mut core: Option<&mut Core>,
        pid: Pid,
        mut node: Node,
        admission: Admission,
    ) -> Result<(), Refused> {
        if pid.runtime != self.id {
            // Another runtime's pid: its own runtime delivers it, never this one.
            return match crate::registry::lookup(pid.runtime) {
                Some(other) => other.deliver_admitted(None, pid, node, admission),
                None => Err(Refused::NoProc(node)),
            };
        }
        let Some(p) = self.table.get(pid.index) else {
            return Err(Refused::NoProc(node));
        };
        // Acquire pairs with the Release serial bump at exit: a stale pid is refused.
        // A send racing with the exit may still land; the next occupant of the slot
        // drops it because the node carries the old serial.
        if p.serial.load(Ordering::Acquire) != pid.serial
            || p.state.load() == crate::process::state::FREE
        {
            return Err(Refused::NoProc(node));
        }
        node.set_serial(pid.serial);
        if node.header().kind == Kind::Message {
            if admission != Admission::Always {
                node.set_sheddable();
            }
            match limit::admit(&p.inbound, &p.meter, &mut node, admission) {
                Admit::Accept => {}
                Admit::Refuse => return Err(Refused::MailboxFull(node)),
                Admit::RefuseAndKill => {
                    // The first sender to see the overflow sends the kill.
                    if p.flags.fetch_or(FLAG_OVERFLOW, Ordering::AcqRel) & FLAG_OVERFLOW == 0 {
                        let kill = Signal::MailboxOverflow.into_node();
                        let _ = self.deliver(core.as_deref_mut(), pid, kill);
                    }
                    return Err(Refused::MailboxFull(node));
                }
            }
        }
        if let Err(node) = p.inbound.push(node) {
            if node.is_counted_message() {
                limit::uncount(&p.inbound);
            }
            return Err(Refused::NoProc(node));
        }
        self.wake(core, ProcPtr::new(p), Placement::Next);
        Ok(())
    }

    /// Notifies a process and, if it was waiting, makes it runnable.
    pub(crate) fn wake(&self, core: Option<&mut Core>, p: ProcPtr, placement: Placement) {
        if p.get().state.notify() == Notify::Schedule {
            self.schedule(core, p, placement);
        }
    }

    /// Puts a process that this thread now owns (Scheduled) into a run queue.
    pub(crate) fn schedule(&self, core: Option<&mut Core>, p: ProcPtr, placement: Placement) {
        match core {
            Some(c) => match placement {
                Placement::Next => {
                    if let Some(prev) = c.next.replace(p) {
                        c.run_queue.push(prev);
                        self.idle.notify_one();
                    }
                }
                Placement::Back => {
                    c.run_queue.push(p);
                    self.idle.notify_one();
                }
            },
            None => {
                self.injector.push(p);
                self.idle.notify_one();
            }
        }
    }

    /// Arms a wheel entry on `core`, or through the remote list.
    pub(crate) fn arm_timer(
        &self,
        core: Option<&mut Core>,
        deadline: Instant,
        action: TimerAction,
    ) {
        let entry = Entry {
            when: timer::deadline_tick(self.epoch, deadline),
            item: action,
        };
        match core {
            Some(c) => {
                if let Err(e) = c.timers.insert(entry) {
                    self.fire_timer(Some(c), e.item);
                }
            }
            None => {
                self.remote_timers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(entry);
                self.has_remote_timers.store(true, Ordering::Release);
                // Any scheduler adopts it; wake one in case all are parked.
                self.idle.notify_one();
            }
        }
    }

    /// This runtime's current time (see [`clock`]).
    pub(crate) fn now(&self) -> Instant {
        clock::now_on(self.clock.as_deref())
    }

    /// `true` for a runtime built with `simulation(seed)`.
    pub(crate) fn is_simulated(&self) -> bool {
        self.clock.is_some()
    }

    /// Arms a `send_after` timer delivering `node` to `to` after `delay` on this
    /// runtime's clock.
    pub(crate) fn send_after(
        &self,
        core: Option<&mut Core>,
        delay: Duration,
        to: Pid,
        node: Node,
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

    /// Moves timers armed from outside onto `core`.
    pub(crate) fn adopt_remote_timers(&self, core: &mut Core) {
        if !self.has_remote_timers.load(Ordering::Acquire) {
            return;
        }
        let entries = {
            let mut r = self.remote_timers.lock().unwrap_or_else(|e| e.into_inner());
            self.has_remote_timers.store(false, Ordering::Release);
            std::mem::take(&mut *r)
        };
        for e in entries {
            if let Err(e) = core.timers.insert(e) {
                self.fire_timer(Some(core), e.item);
            }
        }
    }

    /// Called when a process has fully exited.
    pub(crate) fn process_exited(&self) {
        if self.live.fetch_sub(1, Ordering::AcqRel) == 1 && self.closing.load(Ordering::Acquire) {
            let _g = self.exited.0.lock().unwrap_or_else(|e| e.into_inner());
            self.exited.1.notify_all();
        }
    }
}

/// Links, monitors, priority and mailbox limit a new process has from birth
/// (`spawn_link`, `spawn_monitor`, `spawn_priority`, `spawn_limited`).
/// Applied before the child is runnable, so the child cannot exit unobserved.
#[derive(Debug)]
pub(crate) struct Relate {
    pub(crate) parent: ProcPtr,
    pub(crate) parent_pid: Pid,
    pub(crate) link: bool,
    pub(crate) monitor: Option<MonitorRef>,
    pub(crate) priority: Option<queue::Priority>,
    pub(crate) mailbox_limit: Option<crate::MailboxLimit>,
}

impl Relate {
    fn apply(self, child: &crate::process::Process, child_pid: Pid) {
        if let Some(prio) = self.priority {
            child.priority.store(prio as u8, Ordering::Relaxed);
        }
        // Before the pid is published (`reopen`): no send escapes the limit.
        let _ = child.inbound.set_limit(self.mailbox_limit);
        let parent = self.parent.get();
        let mut mine = parent.relations();
        let mut theirs = child.relations();
        if self.link {
            mine.links.insert(child_pid);
            theirs.links.insert(self.parent_pid);
        }
        if let Some(m) = self.monitor {
            mine.monitors.insert(m, child_pid);
            theirs.monitored_by.insert(m, self.parent_pid);
        }
    }
}

/// Why a delivery did not happen; the node comes back.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The process is dead (or its runtime is gone).
    NoProc(Node),
    /// Its mailbox limit (or the sender's bound) refused the message.
    MailboxFull(Node),
}

impl Refused {
    pub(crate) fn into_node(self) -> Node {
        match self {
            Refused::NoProc(n) | Refused::MailboxFull(n) => n,
        }
    }
}

/// Where a woken process goes on the waker's core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The next slot (a message from the running process).
    Next,
    /// The back of the run queue (timers, yields).
    Back,
}
