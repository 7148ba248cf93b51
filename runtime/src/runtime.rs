//! Embedding: building a runtime, running a root process, shutting down.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::scheduler::queue::RunQueue;
use crossbeam_utils::sync::Parker;

use crate::dirty::DirtyPool;
use crate::io::reactor::Reactor;
use crate::mailbox::node::Node;
use crate::process::table::ProcessTable;
use crate::process::{FLAG_KILL, ProcPtr};
use crate::scheduler::context::{self, WorkerContext};
use crate::scheduler::handoff::CoreSlot;
use crate::scheduler::{Config, Core, Handoff, Shared, idle::Idle, sim, slack, sysmon, worker};
use crate::stack::{DEFAULT_STACK_SIZE, MAX_STACK_SIZE, MIN_STACK_SIZE, StackPool};
use crate::timer::clock::VirtualClock;
use crate::{BuildError, ExitReason, Pid, SendError, SpawnError, registry};

/// Default reductions per slice, as the BEAM's `CONTEXT_REDS`.
pub const DEFAULT_REDUCTIONS: u32 = 4000;

/// Default process limit: 2^20, as the BEAM's `+P` default, enough for the
/// million-process demo plus the processes that drive it.
pub const DEFAULT_MAX_PROCESSES: usize = 1 << 20;

/// The largest `max_processes` accepted (2^27 slots).
pub const MAX_PROCESSES: usize = 1 << 27;

/// Default long-schedule threshold of the system monitor (as Go's 10 ms preemption).
pub const DEFAULT_LONG_SCHEDULE: Duration = Duration::from_millis(10);

/// Default number of dirty I/O threads, as the BEAM's.
pub const DEFAULT_DIRTY_IO: usize = 10;

/// How long `shutdown` waits for killed processes to finish unwinding.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings for a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder()
///     .schedulers(2)
///     .stack_size(32 * 1024)
///     .reductions(2000)
///     .thread_name("my-app-sched")
///     .build()
///     .unwrap();
/// assert_eq!(rt.schedulers(), 2);
/// rt.shutdown();
/// ```
#[derive(Debug, Clone)]
pub struct RuntimeBuilder {
    schedulers: Option<usize>,
    stack_size: usize,
    reductions: u32,
    thread_name: String,
    max_processes: usize,
    shutdown_timeout: Duration,
    long_schedule: Duration,
    dirty_cpu: Option<usize>,
    dirty_io: usize,
    simulation: Option<u64>,
}

impl RuntimeBuilder {
    /// Number of scheduler threads (default: available cores; at least 1).
    pub fn schedulers(mut self, n: usize) -> Self {
        self.schedulers = Some(n);
        self
    }

    /// Usable stack bytes per process (default [`DEFAULT_STACK_SIZE`], 64 KiB), between
    /// [`MIN_STACK_SIZE`] and [`MAX_STACK_SIZE`]; rounded up to whole pages.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }

    /// Reductions per slice (default [`DEFAULT_REDUCTIONS`], 4,000; between 1 and
    /// `i32::MAX`).
    pub fn reductions(mut self, n: u32) -> Self {
        self.reductions = n;
        self
    }

    /// Prefix of the scheduler threads' names (default `beamlet-sched`; no NUL byte).
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name = prefix.into();
        self
    }

    /// Maximum number of simultaneously live processes (default
    /// [`DEFAULT_MAX_PROCESSES`]); spawning beyond it fails with `SystemLimit`.
    pub fn max_processes(mut self, n: usize) -> Self {
        self.max_processes = n;
        self
    }

    /// How long a process may run without a switch before the system monitor reports
    /// a [`LongSchedule`](crate::LongSchedule) and hands its scheduler's queue to
    /// another thread (default [`DEFAULT_LONG_SCHEDULE`], 10 ms; at least 1 ms).
    pub fn long_schedule(mut self, t: Duration) -> Self {
        self.long_schedule = t;
        self
    }

    /// Threads of the dirty CPU pool (default: the number of schedulers, as the BEAM;
    /// at least 1).
    pub fn dirty_cpu_schedulers(mut self, n: usize) -> Self {
        self.dirty_cpu = Some(n);
        self
    }

    /// Threads of the dirty I/O pool (default [`DEFAULT_DIRTY_IO`], 10, as the BEAM; at
    /// least 1).
    pub fn dirty_io_schedulers(mut self, n: usize) -> Self {
        self.dirty_io = n;
        self
    }

    /// Deterministic simulation mode: the same program with the same `seed` runs the
    /// same schedule, so a failure found under one seed replays exactly.
    ///
    /// - **One scheduler thread** (asking for `schedulers(n)` with `n` other than 1
    ///   is a [`BuildError::SimulationSchedulers`]); no stealing, and no system
    ///   monitor, so no hand-off and no [`LongSchedule`](crate::LongSchedule) report
    ///   (a process that never yields holds the simulation, as it would hold a
    ///   scheduler).
    /// - **Seeded choice**: the next process is picked by a PRNG seeded with `seed`
    ///   among all runnable ones (highest priority first), not in FIFO order, and one
    ///   slice in four is cut to 1–32 reductions, so different seeds explore
    ///   different interleavings and preemption points.
    /// - **Virtual time**: receive timeouts, [`sleep`](crate::sleep),
    ///   [`send_after`](crate::send_after), [`read_timer`](crate::read_timer) and the
    ///   OTP library's timeouts and restart intensity run on a virtual clock read
    ///   with [`now`](crate::now) (or [`Runtime::now`]). It stands still while
    ///   processes run and, when none is runnable, jumps to the next timer deadline:
    ///   a 5 s call timeout or an hour's `sleep` takes no wall time.
    ///
    /// What it cannot make deterministic:
    ///
    /// - **Network I/O** is refused: socket calls fail with an `io::Error` of kind
    ///   `Unsupported` carrying [`Unsimulated::Network`](crate::Unsimulated).
    /// - **Dirty jobs** ([`dirty_cpu`](crate::dirty_cpu),
    ///   [`dirty_io`](crate::dirty_io)) run on a thread of their own while the
    ///   scheduler waits for them: nothing else runs meanwhile and they take no
    ///   virtual time (a dirty call cannot be raced or killed half-way).
    /// - **Other threads**: [`Runtime::spawn`], [`Runtime::send`] and
    ///   [`Runtime::send_named`] from a thread outside the runtime land whenever that
    ///   thread runs. Start the scenario with one [`Runtime::block_on`] and drive
    ///   everything from its root process; calls before the root starts are fine.
    /// - **`Instant::now()`** and `SystemTime` in user code read the OS clocks; use
    ///   [`now`](crate::now) for time that should replay. Busy-waiting on the clock
    ///   (`while now() < t { yield_now() }`) never ends, since time advances only
    ///   when no process is runnable: wait with `sleep` or a receive timeout.
    /// - Anything the program itself makes nondeterministic: `HashMap` iteration
    ///   with a random hasher, thread-locals, OS randomness.
    ///
    /// Pids print with the runtime number, which differs between runtimes of one OS
    /// process; compare traces by something else (a name, an index you assign).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet_runtime::{receive, self_pid, send, spawn, Runtime};
    /// fn order(seed: u64) -> Vec<u32> {
    ///     let rt = Runtime::builder().simulation(seed).build().unwrap();
    ///     let got = rt.block_on(|| {
    ///         let me = self_pid();
    ///         for i in 0..4u32 {
    ///             spawn(move || send(me, i).unwrap()).unwrap();
    ///         }
    ///         (0..4).map(|_| receive::<u32>()).collect::<Vec<_>>()
    ///     });
    ///     rt.shutdown();
    ///     got.unwrap()
    /// }
    /// assert_eq!(order(3), order(3)); // a seed replays exactly
    /// assert!((0..20).any(|s| order(s) != order(3)), "seeds explore other orders");
    /// ```
    pub fn simulation(mut self, seed: u64) -> Self {
        self.simulation = Some(seed);
        self
    }

    /// How long [`Runtime::shutdown`] waits for killed processes to exit (default
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`], 5 s; positive; `Duration::MAX` waits for ever).
    pub fn shutdown_timeout(mut self, t: Duration) -> Self {
        self.shutdown_timeout = t;
        self
    }

    fn validate(&self) -> Result<Config, BuildError> {
        if cfg!(panic = "abort") {
            return Err(BuildError::PanicAbort);
        }
        let schedulers = match (self.schedulers, self.simulation) {
            (Some(0), _) => return Err(BuildError::ZeroSchedulers),
            (Some(n), Some(_)) if n != 1 => return Err(BuildError::SimulationSchedulers(n)),
            (_, Some(_)) => 1,
            (Some(n), None) => n,
            (None, None) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        if self.reductions == 0 {
            return Err(BuildError::ZeroReductions);
        }
        if i32::try_from(self.reductions).is_err() {
            return Err(BuildError::Reductions(self.reductions));
        }
        if !(MIN_STACK_SIZE..=MAX_STACK_SIZE).contains(&self.stack_size) {
            return Err(BuildError::StackSize(self.stack_size));
        }
        if self.dirty_cpu == Some(0) || self.dirty_io == 0 {
            return Err(BuildError::ZeroDirtySchedulers);
        }
        if self.shutdown_timeout.is_zero() {
            return Err(BuildError::ZeroShutdownTimeout);
        }
        if self.thread_name.contains('\0') {
            return Err(BuildError::ThreadName(self.thread_name.clone()));
        }
        if self.long_schedule < Duration::from_millis(1) {
            return Err(BuildError::LongSchedule(self.long_schedule));
        }
        if self.max_processes == 0 || self.max_processes > MAX_PROCESSES {
            return Err(BuildError::MaxProcesses(self.max_processes));
        }
        Ok(Config {
            schedulers,
            stack_size: self.stack_size,
            reductions: self.reductions as i32,
            thread_name: self.thread_name.clone(),
            max_processes: self.max_processes,
            shutdown_timeout: self.shutdown_timeout,
            long_schedule: self.long_schedule,
            dirty_cpu: self.dirty_cpu.unwrap_or(schedulers),
            dirty_io: self.dirty_io,
            simulation: self.simulation,
        })
    }

    /// Starts the scheduler threads.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] for an invalid setting or when a thread cannot be started.
    pub fn build(self) -> Result<Runtime, BuildError> {
        let config = self.validate()?;
        crate::unwind::install_panic_hook();
        let n = config.schedulers;
        crate::scheduler::handoff::init_fences();
        let (reactor, poll) = Reactor::new().map_err(BuildError::Os)?;
        let (queues, stealers): (Vec<RunQueue>, Vec<_>) = (0..n).map(|_| RunQueue::new()).unzip();
        let stealers = stealers.into_boxed_slice();
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
        let simulated = config.simulation.is_some();
        // A simulated runtime runs dirty jobs on threads of their own (see `dirty`).
        let (dirty_cpu, dirty_io) = match simulated {
            true => (0, 0),
            false => (config.dirty_cpu, config.dirty_io),
        };
        let shared = Arc::new(Shared {
            id: registry::next_id(),
            injector: Default::default(),
            stealers,
            idle: Idle::new(unparkers),
            remote_timers: Mutex::new(Vec::new()),
            has_remote_timers: AtomicBool::new(false),
            table: ProcessTable::new(config.max_processes + slack(n)),
            stacks: StackPool::new(config.stack_size, config.max_processes + slack(n)),
            epoch,
            clock: simulated.then(|| VirtualClock::new(epoch)),
            live: AtomicUsize::new(0),
            exited: (Mutex::new(()), Condvar::new()),
            closing: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            names: Default::default(),
            reductions: AtomicU64::new(0),
            slots,
            handoff: Mutex::new(Handoff::default()),
            handoff_ready: Condvar::new(),
            extra_threads: Mutex::new(Vec::new()),
            sys_monitor: Mutex::new(None),
            dirty_cpu: DirtyPool::start(dirty_cpu, &format!("{}-dirty-cpu", config.thread_name))
                .map_err(BuildError::Os)?,
            dirty_io: DirtyPool::start(dirty_io, &format!("{}-dirty-io", config.thread_name))
                .map_err(BuildError::Os)?,
            reactor,
            config,
        });
        registry::insert(&shared);
        let mut rt = Runtime {
            shared: shared.clone(),
            threads: Vec::with_capacity(n),
        };
        if let Some(seed) = shared.config.simulation {
            // One scheduler, and no reactor or monitor thread: nothing outside the
            // seeded loop touches the schedule (see `scheduler::sim`).
            let shared = shared.clone();
            let name = format!("{}-sim", shared.config.thread_name);
            let handle = std::thread::Builder::new()
                .name(name)
                .spawn(move || sim::run(&WorkerContext::new(shared), seed))
                .map_err(BuildError::Os)?;
            rt.threads.push(handle);
            return Ok(rt);
        }
        for index in 0..n {
            let shared = shared.clone();
            let name = format!("{}-{index}", shared.config.thread_name);
            let handle = std::thread::Builder::new()
                .name(name)
                .spawn(move || worker::run(&WorkerContext::new(shared), Some(index)))
                .map_err(BuildError::Os)?;
            rt.threads.push(handle);
        }
        let io_name = format!("{}-io", shared.config.thread_name);
        shared
            .reactor
            .start(poll, shared.clone(), io_name)
            .map_err(BuildError::Os)?;
        let monitor = shared.clone();
        let handle = std::thread::Builder::new()
            .name(format!("{}-sysmon", shared.config.thread_name))
            .spawn(move || sysmon::run(monitor))
            .map_err(BuildError::Os)?;
        rt.threads.push(handle);
        Ok(rt)
    }
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            schedulers: None,
            stack_size: DEFAULT_STACK_SIZE,
            reductions: DEFAULT_REDUCTIONS,
            thread_name: "beamlet-sched".to_owned(),
            max_processes: DEFAULT_MAX_PROCESSES,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            long_schedule: DEFAULT_LONG_SCHEDULE,
            dirty_cpu: None,
            dirty_io: DEFAULT_DIRTY_IO,
            simulation: None,
        }
    }
}

/// A running beamlet runtime: scheduler threads, the process table, stacks, timers.
///
/// Several runtimes can live in one OS process; their pids carry the runtime number
/// and never mix. Dropping a runtime shuts it down.
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{receive, send, spawn, self_pid, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// let answer = rt.block_on(|| {
///     let me = self_pid();
///     spawn(move || send(me, 42u64).unwrap()).unwrap();
///     receive::<u64>()
/// });
/// assert_eq!(answer.unwrap(), 42);
/// let report = rt.shutdown();
/// assert_eq!(report.killed, 0);
/// ```
#[derive(Debug)]
pub struct Runtime {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// What [`Runtime::shutdown`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct ShutdownReport {
    /// Processes that were still alive when shutdown began (each was killed).
    pub killed: usize,
    /// Processes that did not finish exiting within the shutdown timeout (stuck in
    /// code that never calls the runtime). Their threads and memory are leaked.
    pub stuck: usize,
}

/// Runtime-wide counters (see [`Runtime::stats`]).
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
    /// Polls of the network reactor (`epoll_wait` calls that returned).
    pub io_polls: u64,
    /// Readiness events those polls returned: `io_events / io_polls` is how many
    /// events one reactor wake-up handles.
    pub io_events: u64,
}

impl Runtime {
    /// A builder with the default settings.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// This runtime's number (the first part of its pids).
    pub fn id(&self) -> u32 {
        self.shared.id
    }

    /// Number of scheduler threads.
    pub fn schedulers(&self) -> usize {
        self.shared.config.schedulers
    }

    /// The seed of a runtime built with
    /// [`simulation`](RuntimeBuilder::simulation), `None` for a normal one.
    ///
    /// ```
    /// let rt = beamlet_runtime::Runtime::builder().simulation(9).build().unwrap();
    /// assert_eq!(rt.simulation_seed(), Some(9));
    /// assert_eq!(rt.schedulers(), 1);
    /// rt.shutdown();
    /// ```
    pub fn simulation_seed(&self) -> Option<u64> {
        self.shared.config.simulation
    }

    /// This runtime's clock: its virtual clock if it is simulated (see
    /// [`now`](crate::now)), `Instant::now()` otherwise. Readable from any thread.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = beamlet_runtime::Runtime::builder().simulation(1).build().unwrap();
    /// let start = rt.now();
    /// rt.block_on(|| beamlet_runtime::sleep(Duration::from_secs(90))).unwrap();
    /// assert!(rt.now() - start >= Duration::from_secs(90));
    /// rt.shutdown();
    /// ```
    pub fn now(&self) -> Instant {
        self.shared.now()
    }

    /// Spawns a process from outside the runtime.
    ///
    /// # Errors
    ///
    /// As [`spawn`](crate::spawn).
    ///
    /// ```
    /// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
    /// let pid = rt.spawn(|| {}).unwrap();
    /// assert_eq!(pid.runtime_id(), rt.id());
    /// rt.shutdown();
    /// ```
    pub fn spawn<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Pid, SpawnError> {
        self.shared.spawn(None, Box::new(f), Vec::new(), None)
    }

    /// Sends a message to a process from outside the runtime.
    ///
    /// # Errors
    ///
    /// As [`send`](crate::send).
    pub fn send<M: Send + 'static>(&self, pid: Pid, msg: M) -> Result<(), SendError<M>> {
        let admission = crate::mailbox::limit::Admission::Limited { bound: None };
        self.shared
            .deliver_admitted(None, pid, Node::new(msg), admission)
            .map_err(|refused| {
                let full = matches!(refused, crate::scheduler::Refused::MailboxFull(_));
                let m = refused
                    .into_node()
                    .downcast::<M>()
                    .expect("node holds an M");
                if full {
                    SendError::MailboxFull(m)
                } else {
                    SendError::NoProc(m)
                }
            })
    }

    /// `true` if `pid` is a live process of this runtime.
    pub fn is_alive(&self, pid: Pid) -> bool {
        self.shared.is_alive(pid)
    }

    /// Every live process.
    pub fn processes(&self) -> Vec<Pid> {
        self.shared.processes()
    }

    /// A snapshot of a process (see [`process_info`](crate::process_info)).
    pub fn process_info(&self, pid: Pid) -> Option<crate::ProcessInfo> {
        self.shared.process_info(pid)
    }

    /// The pid registered under `name`.
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.shared.names.whereis(name)
    }

    /// Registers `pid` under `name` (see [`register`](crate::register)).
    ///
    /// # Errors
    ///
    /// As [`register`](crate::register).
    pub fn register(&self, name: &str, pid: Pid) -> Result<(), crate::RegisterError> {
        self.shared.names.register(&self.shared, name, pid)
    }

    /// Sends to the process registered as `name`.
    ///
    /// # Errors
    ///
    /// As [`send_named`](crate::send_named).
    pub fn send_named<M: Send + 'static>(
        &self,
        name: &str,
        msg: M,
    ) -> Result<(), crate::UnknownName<M>> {
        match self.whereis(name) {
            Some(pid) => self.send(pid, msg).or_else(|e| match e {
                // A message shed by a full mailbox is dropped, as a send would.
                SendError::MailboxFull(_) => Ok(()),
                SendError::NoProc(m) => Err(crate::UnknownName(m)),
            }),
            None => Err(crate::UnknownName(msg)),
        }
    }

    /// Number of live processes.
    pub fn process_count(&self) -> usize {
        self.shared.live.load(Ordering::Acquire)
    }

    /// Runtime-wide counters.
    ///
    /// ```
    /// let rt = beamlet_runtime::Runtime::builder().schedulers(2).build().unwrap();
    /// rt.block_on(|| ()).unwrap();
    /// let s = rt.stats();
    /// assert_eq!(s.run_queue_lengths.len(), 2);
    /// assert!(s.context_switches >= 1);
    /// rt.shutdown();
    /// ```
    pub fn stats(&self) -> RuntimeStats {
        let s = &self.shared;
        RuntimeStats {
            processes: s.live.load(Ordering::Acquire),
            reductions: s.reductions.load(Ordering::Relaxed),
            context_switches: s
                .slots
                .iter()
                .map(|c| c.switches.load(Ordering::Relaxed) / 2)
                .sum(),
            run_queue_lengths: s.stealers.iter().map(|q| q.len()).collect(),
            stacks_carved: s.stacks.carved(),
            io_polls: s.reactor.polls.load(Ordering::Relaxed),
            io_events: s.reactor.events.load(Ordering::Relaxed),
        }
    }

    /// Runs `f` as a process and blocks the calling thread until it exits; returns its
    /// value, or its exit reason if it did not return normally.
    ///
    /// # Panics
    ///
    /// When called from inside a process (it would block a scheduler thread).
    ///
    /// # Errors
    ///
    /// The process's exit reason if it panicked or was killed; `SystemLimit` if it
    /// could not be spawned.
    pub fn block_on<F, T>(&self, f: F) -> Result<T, ExitReason>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        assert!(
            context::current_process().is_none(),
            "beamlet: block_on called from inside a process"
        );
        let value: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
        let done = Arc::new(Outcome::<T> {
            result: Mutex::new(None),
            ready: Condvar::new(),
        });
        let v = value.clone();
        let entry = Box::new(move || {
            let r = f();
            *v.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        });
        let d = done.clone();
        let hook = Box::new(move |reason: &ExitReason| {
            let v = value.lock().unwrap_or_else(|e| e.into_inner()).take();
            let r = match v {
                Some(v) if reason.is_normal() => Ok(v),
                _ => Err(reason.clone()),
            };
            *d.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            d.ready.notify_all();
        });
        if let Err(e) = self.shared.spawn(None, entry, vec![hook], None) {
            return Err(match e {
                SpawnError::SystemLimit => ExitReason::SystemLimit,
                SpawnError::RuntimeGone => ExitReason::NoProc,
            });
        }
        let mut g = done.result.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = g.take() {
                return r;
            }
            g = done.ready.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Stops the runtime: kills every live process, waits (up to the shutdown
    /// timeout) for them to unwind, stops the scheduler threads and unmaps every
    /// stack.
    pub fn shutdown(mut self) -> ShutdownReport {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> ShutdownReport {
        let shared = self.shared.clone();
        shared.closing.store(true, Ordering::SeqCst);
        let killed = shared.live.load(Ordering::Acquire);
        let deadline = far_or(Instant::now(), shared.config.shutdown_timeout);
        while shared.live.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            kill_all(&shared);
            let g = shared.exited.0.lock().unwrap_or_else(|e| e.into_inner());
            let wait = deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(10));
            drop(shared.exited.1.wait_timeout(g, wait));
        }
        let stuck = shared.live.load(Ordering::Acquire);
        shared.stopping.store(true, Ordering::SeqCst);
        shared.idle.notify_all();
        {
            let _h = shared.handoff.lock().unwrap_or_else(|e| e.into_inner());
            shared.handoff_ready.notify_all();
        }
        let extra = std::mem::take(
            &mut *shared
                .extra_threads
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        let mut leaked = false;
        for t in self.threads.drain(..).chain(extra) {
            while !t.is_finished() && Instant::now() < far_or(deadline, Duration::from_millis(100))
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                leaked = true;
            }
        }
        let grace = Instant::now() + Duration::from_millis(100);
        shared.dirty_cpu.stop(grace);
        shared.dirty_io.stop(grace);
        shared.reactor.stop(grace);
        registry::remove(shared.id);
        if leaked {
            // A thread is still running a stuck process on one of our stacks: keep
            // the memory mapped for ever rather than unmapping it under that thread.
            std::mem::forget(shared);
        }
        ShutdownReport { killed, stuck }
    }
}

/// `from + t`, or a century from `from` when that overflows (`Duration::MAX` as
/// "for ever").
fn far_or(from: Instant, t: Duration) -> Instant {
    from.checked_add(t)
        .unwrap_or_else(|| from + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Where `block_on` waits for the root process's result.
struct Outcome<T> {
    result: Mutex<Option<Result<T, ExitReason>>>,
    ready: Condvar,
}

fn kill_all(shared: &Shared) {
    use crate::process::state::{EXITING, FREE};
    for p in shared.table.iter() {
        let s = p.state.load();
        if s != FREE && s != EXITING {
            p.flags.fetch_or(FLAG_KILL, Ordering::AcqRel);
            crate::api::wake_remote(shared, ProcPtr::new(p));
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            let _ = self.shutdown_inner();
        }
    }
}

impl Shared {
    /// `true` if `pid` names a live process of this runtime.
    pub(crate) fn is_alive(&self, pid: Pid) -> bool {
        use crate::process::state::{EXITING, FREE};
        pid.runtime == self.id
            && self.table.get(pid.index).is_some_and(|p| {
                let s = p.state.load();
                p.serial.load(Ordering::Acquire) == pid.serial && s != FREE && s != EXITING
            })
    }
}
