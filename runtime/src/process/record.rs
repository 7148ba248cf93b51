//! The process record: one slot of the process table, its fields split by who may
//! touch them.
//!
//! A [`Process`] record lives in the table for the whole life of the runtime and is
//! reused. Its fields are split by who may touch them:
//!
//! - *Remote* (any thread): `serial`, `state`, `inbound`, `flags`, `armed_tick`, `meter`.
//! - *Owned* ([`Owned`], behind an `UnsafeCell`): only the party that holds the process
//!   in a state that grants exclusive access (the spawner while `Free`, the scheduler
//!   while `Running`/`Exiting`, the process itself while it runs).

use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::small_map::{IdBuild, SmallMap, SmallSet};
use super::state::{EXITING, FREE, RunState};
use crate::coroutine::{ProcessCoroutine, ProcessYielder};
use crate::exit::ExitReason;
use crate::mailbox::inbound::Inbound;
use crate::mailbox::limit::Meter;
use crate::mailbox::queue::Queue;
use crate::pid::{MonitorRef, Pid, Ref};
use crate::timer::owned::OwnTimers;

/// Flag: an untrappable kill is pending; the process dies at its next runtime call.
pub(crate) const FLAG_KILL: u32 = 1;
/// Flag: a send found the mailbox full under a `Kill` limit and sent the kill; later
/// ones need not.
pub(crate) const FLAG_OVERFLOW: u32 = 2;
/// Flag: the process waits for a job it gave a dirty scheduler (`dirty_cpu`,
/// `dirty_io`), for `process_info`'s `Dirty` status. Set and cleared by the process
/// itself around the wait.
pub(crate) const FLAG_DIRTY: u32 = 4;

/// What `Process::parent` holds when the spawner was not a process of the runtime.
pub(crate) const NO_PARENT: u64 = u64::MAX;

/// An exit hook, run by the scheduler after the process has exited.
pub(crate) type ExitHook = Box<dyn FnOnce(&ExitReason) + Send>;

/// Fields touched only by the holder of the process (see the module docs).
pub(crate) struct Owned {
    /// The coroutine, while the process has a stack.
    pub(crate) coroutine: Option<ProcessCoroutine>,
    /// What to run when the process next gets a stack: the spawn closure or a
    /// hibernation continuation.
    pub(crate) entry: Option<Box<dyn FnOnce() + Send>>,
    /// Messages taken from `inbound`, in arrival order.
    pub(crate) queue: Queue,
    /// The coroutine's yielder, valid while `coroutine` is `Some` and running.
    pub(crate) yielder: *const ProcessYielder,
    /// Run by the scheduler when the process exits.
    pub(crate) exit_hooks: Vec<ExitHook>,
    /// The reason a pending kill ends the process with.
    pub(crate) kill_reason: Option<ExitReason>,
    /// The top of the current stack, to publish how much of it is in use.
    pub(crate) stack_top: usize,
    /// Active aliases: messages sent to any other alias of this process are dropped.
    pub(crate) aliases: SmallSet<Ref>,
    /// Counted messages ever taken off the inbound (see [`crate::mailbox::limit`]).
    /// Never reset: it belongs to the slot, as the inbound's `arrivals` does.
    pub(crate) drained: u64,
    /// The `send_after` timers the process set to itself, cancelled at its exit.
    pub(crate) timers: OwnTimers,
    /// Set by a behaviour's start ([`crate::report`]): its abnormal exit gets a
    /// crash report naming this, instead of the plain process error report.
    pub(crate) initial_call: Option<&'static str>,
    /// The process's `tracing` span (`RuntimeBuilder::process_spans`), entered by
    /// the scheduler on each resume and closed when the process exits.
    #[cfg(feature = "tracing")]
    pub(crate) span: Option<tracing::Span>,
}

impl Owned {
    fn new() -> Owned {
        Owned {
            coroutine: None,
            entry: None,
            queue: Queue::default(),
            yielder: std::ptr::null(),
            exit_hooks: Vec::new(),
            kill_reason: None,
            stack_top: 0,
            aliases: SmallSet::default(),
            drained: 0,
            timers: OwnTimers::default(),
            initial_call: None,
            #[cfg(feature = "tracing")]
            span: None,
        }
    }
}

/// One slot of the process table.
pub(crate) struct Process {
    /// The slot index (fixed).
    pub(crate) index: u32,
    /// The serial of the current (or next) occupant. Bumped when a process exits.
    pub(crate) serial: AtomicU32,
    pub(crate) state: RunState,
    pub(crate) inbound: Inbound,
    /// `FLAG_*` bits set by other processes.
    pub(crate) flags: AtomicU32,
    /// The deadline tick of this process's pending wake-up timer (0: none). One
    /// entry serves every deadline wait that ends no earlier; a wait with an earlier
    /// deadline arms a new one, and an entry whose tick is no longer this value is
    /// ignored when it fires.
    pub(crate) armed_tick: AtomicU64,
    /// Reductions, published at the end of each slice for introspection.
    pub(crate) reductions: AtomicU64,
    /// Links, monitors and the registered name. Behind a lock because other threads
    /// read them (`process_info`) and the exit path takes them; the owner changes them
    /// only on link/monitor/register calls. Never held across a switch.
    pub(crate) relations: Mutex<Relations>,
    /// Published by the owner for introspection (Relaxed stores, plain reads).
    pub(crate) trap_exit: AtomicBool,
    pub(crate) hibernated: AtomicBool,
    pub(crate) last_scheduler: AtomicU32,
    pub(crate) stack_used: AtomicU32,
    /// The mailbox's length and limit, readable from any thread.
    pub(crate) meter: Meter,
    /// `Priority as u8`; set by the process itself, read when it is queued.
    pub(crate) priority: std::sync::atomic::AtomicU8,
    /// The size class of its stack, set at spawn (Relaxed: read by its scheduler
    /// after the spawn's queue push, and by `process_info`).
    pub(crate) stack_class: std::sync::atomic::AtomicU8,
    /// How far below the stack's top its red zone begins, and the stack check to arm
    /// at the next resume (see `scheduler::context::spend`), in KiB (a stack is at
    /// most 8 MiB, and both are whole KiB). Touched only by the process's holder
    /// (Relaxed); here and this small because they fit the record's padding: two
    /// words in `Owned` grew every record by 32 bytes.
    pub(crate) stack_red: std::sync::atomic::AtomicU16,
    pub(crate) stack_check: std::sync::atomic::AtomicU16,
    /// Where the process was spawned (`#[track_caller]`), null if unknown: set by
    /// the spawner before the pid is published, read by `process_info` (Relaxed,
    /// best-effort as the other published fields). A pointer to a `'static`
    /// location, so that a spawn pays one store.
    pub(crate) spawn_site: AtomicPtr<Location<'static>>,
    /// The process that spawned the current occupant, packed as `index << 32 |
    /// serial` (its runtime is this one), or [`NO_PARENT`]: set by the spawner before
    /// the pid is published, read by `process_info` (Relaxed, as `spawn_site`).
    pub(crate) parent: AtomicU64,
    owned: UnsafeCell<Owned>,
}

/// A process's links, monitors and name (see `Process::relations`).
#[derive(Debug, Default)]
pub(crate) struct Relations {
    pub(crate) links: SmallSet<Pid>,
    /// Monitors this process holds: reference → monitored pid.
    pub(crate) monitors: SmallMap<MonitorRef, Pid>,
    /// Monitors on this process: reference → watcher.
    pub(crate) monitored_by: SmallMap<MonitorRef, Pid>,
    /// What few processes have (monitors by name, a label). Boxed: a process that
    /// has none pays a word, and the record stays within its 512 bytes (so that
    /// the exit path's move of the relations stays inline, not a `memcpy` call).
    pub(crate) rare: Option<Box<Rare>>,
    pub(crate) name: Option<Arc<str>>,
}

/// The rarely used relations of a process (see `Relations::rare`).
#[derive(Debug, Default)]
pub(crate) struct Rare {
    /// The names of the monitors in `monitors` that were set by name, for their
    /// `Down`.
    pub(crate) monitor_names: HashMap<MonitorRef, Arc<str>, IdBuild>,
    /// The label the process gave itself (`set_label`, as OTP 27's
    /// `proc_lib:set_label/1`), for `process_info` and reports.
    pub(crate) label: Option<Box<str>>,
    /// The behaviour the process runs and its callback module, as it announced them
    /// (`set_behaviour`), for `process_info` and the observer.
    pub(crate) behaviour: Option<(&'static str, &'static str)>,
}

impl Relations {
    /// Forgets a monitor this process holds; its name, if it was set by name.
    pub(crate) fn forget_monitor(&mut self, m: &MonitorRef) -> Option<Option<Arc<str>>> {
        let _pid = self.monitors.remove(m)?;
        Some(self.rare.as_mut().and_then(|r| r.monitor_names.remove(m)))
    }

    /// The rare relations, made on first use.
    pub(crate) fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// The label, if the process set one.
    pub(crate) fn label(&self) -> Option<&str> {
        self.rare.as_ref()?.label.as_deref()
    }
}

// SAFETY: the remote fields are atomics or lock-free structures; `owned` is only
// touched by the party that holds the process in an exclusive state (module docs).
unsafe impl Sync for Process {}
// SAFETY: as above; everything in `Owned` is `Send` apart from the yielder pointer,
// which is only dereferenced by the running process on its own coroutine stack.
unsafe impl Send for Process {}

impl Process {
    pub(crate) fn new(index: u32) -> Process {
        Process {
            index,
            serial: AtomicU32::new(0),
            state: RunState::new(),
            inbound: Inbound::new(),
            flags: AtomicU32::new(0),
            armed_tick: AtomicU64::new(0),
            reductions: AtomicU64::new(0),
            relations: Mutex::new(Relations::default()),
            trap_exit: AtomicBool::new(false),
            hibernated: AtomicBool::new(false),
            last_scheduler: AtomicU32::new(0),
            stack_used: AtomicU32::new(0),
            meter: Meter::new(),
            priority: std::sync::atomic::AtomicU8::new(1),
            stack_class: std::sync::atomic::AtomicU8::new(0),
            stack_red: std::sync::atomic::AtomicU16::new(0),
            stack_check: std::sync::atomic::AtomicU16::new(0),
            spawn_site: AtomicPtr::new(std::ptr::null_mut()),
            parent: AtomicU64::new(NO_PARENT),
            owned: UnsafeCell::new(Owned::new()),
        }
    }

    /// Where the current occupant was spawned, if known.
    pub(crate) fn spawn_site(&self) -> Option<&'static Location<'static>> {
        // SAFETY: the pointer is null or was made from a `&'static Location` in
        // `set_spawn_site`, so it is valid for ever.
        unsafe { self.spawn_site.load(Ordering::Relaxed).as_ref() }
    }

    /// Records where the process being spawned was spawned (the spawner, before
    /// the pid is published).
    pub(crate) fn set_spawn_site(&self, site: Option<&'static Location<'static>>) {
        let ptr = site.map_or(std::ptr::null_mut(), |l| std::ptr::from_ref(l).cast_mut());
        self.spawn_site.store(ptr, Ordering::Relaxed);
    }

    /// Records the spawner of the process being spawned (the spawner, before the
    /// pid is published); `None` when it is not a process of this runtime.
    pub(crate) fn set_parent(&self, parent: Option<Pid>) {
        let packed = parent.map_or(NO_PARENT, |p| {
            u64::from(p.index) << 32 | u64::from(p.serial)
        });
        self.parent.store(packed, Ordering::Relaxed);
    }

    /// The spawner of the current occupant, if it was a process of runtime `runtime`
    /// (it may have exited since).
    pub(crate) fn parent(&self, runtime: u32) -> Option<Pid> {
        let packed = self.parent.load(Ordering::Relaxed);
        (packed != NO_PARENT).then(|| Pid::new(runtime, (packed >> 32) as u32, packed as u32))
    }

    /// The pid of the current occupant.
    pub(crate) fn pid(&self, runtime: u32) -> Pid {
        Pid::new(runtime, self.index, self.serial.load(Ordering::Relaxed))
    }

    /// The owned fields; only [`Held`](super::Held) dereferences the pointer.
    pub(super) fn owned_ptr(&self) -> *mut Owned {
        self.owned.get()
    }

    /// The owned fields through exclusive access to the record itself (the table's
    /// teardown).
    pub(crate) fn owned_mut(&mut self) -> &mut Owned {
        self.owned.get_mut()
    }

    /// Locks the relations (never across a switch).
    pub(crate) fn relations(&self) -> MutexGuard<'_, Relations> {
        self.relations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the mailbox length after the holder changed its queue or drained.
    pub(crate) fn publish_mailbox(&self, owned: &Owned) {
        self.meter.publish(owned.drained, owned.queue.len());
    }

    /// Messages in the mailbox, undrained ones included (any thread).
    pub(crate) fn mailbox_len(&self) -> usize {
        self.meter.len(&self.inbound)
    }

    /// `true` if `pid` names this record's live occupant: the serial matches and the
    /// process is neither free nor exiting. Acquire pairs with the Release serial
    /// bump at exit: a stale pid is refused.
    pub(crate) fn is_live(&self, pid: Pid) -> bool {
        let s = self.state.load();
        self.serial.load(Ordering::Acquire) == pid.serial && s != FREE && s != EXITING
    }

    /// `true` once an untrappable kill (or a fatal signal) is pending. Acquire pairs
    /// with the AcqRel `fetch_or` of whoever set `FLAG_KILL` (a signal's intake,
    /// `kill_all` at shutdown): the kill reason written before it is visible.
    pub(crate) fn kill_pending(&self) -> bool {
        self.flags.load(Ordering::Acquire) & FLAG_KILL != 0
    }
}

/// A pointer to a process record, as stored in run queues and timers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcPtr(NonNull<Process>);

// SAFETY: records live in the table until the runtime's shared state is dropped, which
// happens after every run queue and timer wheel holding a ProcPtr is gone; `Process`
// itself is `Sync`.
unsafe impl Send for ProcPtr {}
// SAFETY: as above.
unsafe impl Sync for ProcPtr {}

impl ProcPtr {
    pub(crate) fn new(p: &Process) -> ProcPtr {
        ProcPtr(NonNull::from(p))
    }

    pub(crate) fn get(&self) -> &Process {
        // SAFETY: see the `Send` impl: the record outlives every ProcPtr.
        unsafe { self.0.as_ref() }
    }
}

impl std::fmt::Debug for ProcPtr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProcPtr({})", self.get().index)
    }
}
