//! [`Shared`]: the state every scheduler and every thread that talks to a runtime can
//! reach, and how it is built from a validated [`Config`].
//!
//! The operations on it live by concept beside this file: spawning
//! ([`super::spawn`]), delivering and waking ([`super::deliver`]), timers
//! ([`super::timers`]), retiring an exited process ([`super::retire`]), signals
//! ([`super::signals`]), introspection ([`super::info`]). None of them reads a
//! thread-local: a caller that holds a core passes it in (`Option<&mut Core>`).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crossbeam_utils::sync::Parker;

use super::core::{self, Core};
use super::handoff::{CoreSlot, Spares};
use super::name_table::NameTable;
use super::queue::{self, RunQueue};
use super::timer_action::TimerAction;
use crate::dirty_pool::DirtyPool;
use crate::error::{BuildError, RegisterError};
use crate::idle::Idle;
use crate::io::reactor::Reactor;
use crate::pid::Pid;
use crate::process::table::ProcessTable;
use crate::report::ReportSink;
use crate::stack::StackPool;
use crate::timer::clock::{self, VirtualClock};
use crate::timer::wheel::Entry;

/// Process slots (and stacks) beyond `max_processes`, so that the ones parked in
/// per-core caches never make a spawn fail below the limit: each core caches at most
/// `cache + batch` of either.
pub(crate) fn slack(schedulers: usize) -> usize {
    let per_core = core::SLOT_CACHE.max(core::STACK_CACHE) + 64;
    schedulers * per_core + 64
}

/// Validated runtime settings (made by `RuntimeBuilder::build`).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Scheduler threads (cores), at least 1; exactly 1 in a simulation.
    pub(crate) schedulers: usize,
    /// Usable bytes of each process stack.
    pub(crate) stack_size: usize,
    /// Reductions per slice.
    pub(crate) reductions: i32,
    /// Prefix of every thread's name.
    pub(crate) thread_name: String,
    /// Live processes at most.
    pub(crate) max_processes: usize,
    /// How long `shutdown` waits for killed processes.
    pub(crate) shutdown_timeout: Duration,
    /// The system monitor's threshold.
    pub(crate) long_schedule: Duration,
    /// Threads of the dirty CPU pool.
    pub(crate) dirty_cpu: usize,
    /// Threads of the dirty I/O pool.
    pub(crate) dirty_io: usize,
    /// The seed of a simulated runtime (see `scheduler::sim`).
    pub(crate) simulation: Option<u64>,
    /// Where crash and supervisor reports go.
    pub(crate) reports: ReportSink,
    /// Spare scheduler threads the system monitor may start, in all.
    pub(crate) max_spare_threads: usize,
    /// The tokio runtime to attach to (see `kernel::tokio_link`).
    #[cfg(feature = "tokio")]
    pub(crate) tokio: Option<tokio::runtime::Handle>,
    /// Worker threads of a tokio runtime started by this one.
    #[cfg(feature = "tokio")]
    pub(crate) tokio_threads: usize,
    /// Whether each process gets a `tracing` span, entered while it runs.
    #[cfg(feature = "tracing")]
    pub(crate) process_spans: bool,
}

/// State shared by all schedulers of one runtime.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The runtime number (first part of every pid).
    pub(crate) id: u32,
    /// The settings it was built with.
    pub(crate) config: Config,
    /// Processes made runnable by threads that are not schedulers of this runtime.
    pub(crate) injector: queue::Injectors,
    /// The stealing side of every core's run queue, by core index.
    pub(crate) stealers: Box<[queue::Remote]>,
    /// Parked scheduler threads, woken when work appears (see `crate::idle`).
    pub(crate) idle: Idle,
    /// Timers armed from outside any scheduler, adopted by the next scheduler round.
    pub(crate) remote_timers: Mutex<Vec<Entry<TimerAction>>>,
    /// Set (Release) after a push to `remote_timers`, cleared under its lock: lets a
    /// scheduler round skip the lock when nothing is there (Acquire).
    pub(crate) has_remote_timers: AtomicBool,
    /// Every process record, by slot index.
    pub(crate) table: ProcessTable,
    /// The stacks of the runtime's processes.
    pub(crate) stacks: StackPool,
    /// Time zero of every timer wheel.
    pub(crate) epoch: Instant,
    /// [`clock::monotonic_nanos`] read just after `epoch`, for the schedulers'
    /// cheap tick of every round (`wheel::raw_now_tick`).
    pub(crate) epoch_nanos: u64,
    /// The virtual clock of a simulated runtime; `None` runs on the OS clock.
    pub(crate) clock: Option<Arc<VirtualClock>>,
    /// Live processes (AcqRel updates at spawn and exit; the spawn's add is the
    /// reservation against `max_processes`).
    pub(crate) live: AtomicUsize,
    /// Signalled when `live` reaches zero while closing (shutdown waits on it).
    pub(crate) exited: (Mutex<()>, Condvar),
    /// Set when shutdown starts: spawns fail from then on.
    pub(crate) closing: AtomicBool,
    /// Set when the scheduler threads must leave their loops.
    pub(crate) stopping: AtomicBool,
    /// Registered names.
    pub(crate) names: NameTable,
    /// The connection process of each connected node (see `super::remote`).
    pub(crate) routes: super::routes::Routes,
    /// Reductions of exited processes (statistics; Relaxed).
    pub(crate) reductions: AtomicU64,
    /// One per core: its hand-over state and published switch counter.
    pub(crate) slots: Box<[CoreSlot]>,
    /// Cores waiting for a thread, and threads waiting for a core (see `handoff`).
    pub(crate) spares: Spares,
    /// Threads started after `build` (spare schedulers), joined at shutdown.
    pub(crate) extra_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// The process that receives `LongSchedule` events.
    pub(crate) sys_monitor: Mutex<Option<Pid>>,
    /// The system monitor's recent events, kept whether or not anyone subscribed.
    pub(crate) system_events: Mutex<super::system_events::SystemEvents>,
    /// Processes spawned from outside any scheduler (statistics; Relaxed). Spawns on
    /// a scheduler count on its core's slot.
    pub(crate) spawned_outside: AtomicU64,
    /// The dirty CPU scheduler pool (see `crate::dirty`).
    pub(crate) dirty_cpu: Arc<DirtyPool>,
    /// The dirty I/O scheduler pool.
    pub(crate) dirty_io: Arc<DirtyPool>,
    /// The network reactor (see [`crate::io`]).
    pub(crate) reactor: Arc<Reactor>,
    /// The tokio runtime futures are polled in (see [`super::tokio_link`]).
    #[cfg(feature = "tokio")]
    pub(crate) tokio: super::tokio_link::TokioLink,
}

impl Shared {
    /// Builds the shared state of runtime number `id` (its cores, queues, pools and
    /// reactor). Returns the `Poll` the reactor thread will own. Starts the dirty
    /// pools' threads; the caller starts the schedulers and lists the runtime
    /// (`runtimes::insert`).
    pub(crate) fn new(id: u32, config: Config) -> Result<(Arc<Shared>, mio::Poll), BuildError> {
        let n = config.schedulers;
        let (reactor, poll) = Reactor::new().map_err(BuildError::Os)?;
        let (queues, stealers): (Vec<RunQueue>, Vec<_>) = (0..n).map(|_| RunQueue::new()).unzip();
        let cores: Vec<Core> = queues
            .into_iter()
            .enumerate()
            .map(|(i, q)| Core::new(i, q, Parker::new()))
            .collect();
        let unparkers = cores.iter().map(|c| c.parker.unparker().clone()).collect();
        let slots = cores
            .into_iter()
            .map(|c| CoreSlot::new(Box::new(c)))
            .collect();
        let epoch = Instant::now();
        // After `epoch`: a raw tick is then never ahead of the `Instant` one.
        let epoch_nanos = clock::monotonic_nanos();
        let simulated = config.simulation.is_some();
        // A simulated runtime runs dirty jobs on threads of their own (see `dirty`).
        let (dirty_cpu, dirty_io) = match simulated {
            true => (0, 0),
            false => (config.dirty_cpu, config.dirty_io),
        };
        let pool = |n, kind: &str| {
            DirtyPool::start(n, &format!("{}-dirty-{kind}", config.thread_name))
                .map_err(BuildError::Os)
        };
        let shared = Arc::new(Shared {
            id,
            injector: Default::default(),
            stealers: stealers.into_boxed_slice(),
            idle: Idle::new(unparkers),
            remote_timers: Mutex::new(Vec::new()),
            has_remote_timers: AtomicBool::new(false),
            table: ProcessTable::new(config.max_processes + slack(n)),
            stacks: StackPool::new(config.stack_size, config.max_processes + slack(n)),
            epoch,
            epoch_nanos,
            clock: simulated.then(|| VirtualClock::new(epoch)),
            live: AtomicUsize::new(0),
            exited: (Mutex::new(()), Condvar::new()),
            closing: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            names: NameTable::default(),
            reductions: AtomicU64::new(0),
            slots,
            spares: Spares::default(),
            extra_threads: Mutex::new(Vec::new()),
            sys_monitor: Mutex::new(None),
            routes: Default::default(),
            system_events: Mutex::default(),
            spawned_outside: AtomicU64::new(0),
            dirty_cpu: pool(dirty_cpu, "cpu")?,
            dirty_io: pool(dirty_io, "io")?,
            reactor,
            #[cfg(feature = "tokio")]
            tokio: super::tokio_link::TokioLink::new(
                config.tokio.clone(),
                config.tokio_threads,
                config.thread_name.clone(),
            ),
            config,
        });
        Ok((shared, poll))
    }

    /// This runtime's current time (see [`clock`]).
    pub(crate) fn now(&self) -> Instant {
        clock::now_on(self.clock.as_deref())
    }

    /// `true` for a runtime built with `simulation(seed)`.
    pub(crate) fn is_simulated(&self) -> bool {
        self.clock.is_some()
    }

    /// Called when a process has fully exited.
    pub(crate) fn process_exited(&self) {
        // AcqRel: the shutdown path reads `live` (Acquire) and must see every exit
        // that happened before it; `closing` (Acquire) pairs with its SeqCst store.
        if self.live.fetch_sub(1, Ordering::AcqRel) == 1 && self.closing.load(Ordering::Acquire) {
            let _g = self.exited.0.lock().unwrap_or_else(|e| e.into_inner());
            self.exited.1.notify_all();
        }
    }

    /// Sets the process that receives `LongSchedule` events; returns the previous.
    pub(crate) fn set_system_monitor(&self, to: Option<Pid>) -> Option<Pid> {
        std::mem::replace(
            &mut *self.sys_monitor.lock().unwrap_or_else(|e| e.into_inner()),
            to,
        )
    }

    /// Registers `name` for `pid`, a process of this runtime.
    pub(crate) fn register_name(&self, name: &str, pid: Pid) -> Result<(), RegisterError> {
        if pid.runtime != self.id {
            return Err(RegisterError::NoProc);
        }
        let proc = self.table.get(pid.index).ok_or(RegisterError::NoProc)?;
        self.names.register(name, pid, proc)
    }

    /// The name `pid` is registered under, if it is alive and has one: one lock of
    /// its relations, whatever it is linked to.
    pub(crate) fn registered_name(&self, pid: Pid) -> Option<Arc<str>> {
        if pid.runtime != self.id {
            return None;
        }
        let p = self.table.get(pid.index)?;
        let rel = p.relations();
        // Acquire pairs with the Release serial bump at exit: a stale pid has no name.
        (p.serial.load(Ordering::Acquire) == pid.serial)
            .then(|| rel.name.clone())
            .flatten()
    }

    /// Removes a registered name; returns the pid it named.
    pub(crate) fn unregister_name(&self, name: &str) -> Option<Pid> {
        self.names.unregister(&self.table, name)
    }
}
