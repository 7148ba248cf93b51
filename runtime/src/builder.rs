//! [`RuntimeBuilder`]: a runtime's settings, validated into the kernel's `Config`.

use std::time::Duration;

use crate::error::BuildError;
use crate::kernel::shared::{Config, Shared};
use crate::kernel::{handoff, runtimes};
use crate::limits::{
    DEFAULT_DIRTY_IO, DEFAULT_LONG_SCHEDULE, DEFAULT_MAX_PROCESSES, DEFAULT_MAX_SPARE_THREADS,
    DEFAULT_REDUCTIONS, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_STACK_SIZE, MAX_PROCESSES,
    MAX_STACK_SIZE, MIN_STACK_SIZE,
};
use crate::report::ReportSink;
use crate::runtime::Runtime;
use crate::scheduler;

/// Settings for a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = beamlet::Runtime::builder()
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
    reports: ReportSink,
    max_spare_threads: usize,
    #[cfg(feature = "tokio")]
    tokio: Option<tokio::runtime::Handle>,
    #[cfg(feature = "tokio")]
    tokio_threads: usize,
    #[cfg(feature = "tracing")]
    process_spans: bool,
}

impl RuntimeBuilder {
    /// Number of scheduler threads (default: available cores; at least 1).
    pub fn schedulers(mut self, n: usize) -> Self {
        self.schedulers = Some(n);
        self
    }

    /// Usable stack bytes of a process spawned without a stack size of its own
    /// ([`SpawnOpts::stack_size`](crate::SpawnOpts::stack_size)); default
    /// [`DEFAULT_STACK_SIZE`], 256 KiB, between [`MIN_STACK_SIZE`] and
    /// [`MAX_STACK_SIZE`]; rounded up to whole pages.
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

    /// How many spare scheduler threads the system monitor may start, in all, to take
    /// over the run queues of threads stuck in one process (a loop that never calls
    /// the runtime, a blocking syscall): default [`DEFAULT_MAX_SPARE_THREADS`], 64.
    /// A spare is reused once its stuck thread's process switches, so this bounds
    /// the OS threads of the runtime at schedulers + spares (+ dirty pools, reactor,
    /// monitor). At the cap a stuck thread keeps its queue, and the processes in it
    /// wait (as on the BEAM, which hands off nothing) until it switches or a spare
    /// is free; the monitor logs that once per stuck slice. `0` turns hand-off off.
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().max_spare_threads(4).build().unwrap();
    /// rt.shutdown();
    /// ```
    pub fn max_spare_threads(mut self, n: usize) -> Self {
        self.max_spare_threads = n;
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
    /// use beamlet::{receive, self_pid, send, spawn, Runtime};
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

    /// Where crash and supervisor reports go (default [`ReportSink::Auto`]: through
    /// `log` when a logger is enabled for target `beamlet::crash`, else stderr).
    /// See [`Report`](crate::Report) for which reports there are.
    ///
    /// ```
    /// use beamlet::{ReportSink, Runtime};
    /// let rt = Runtime::builder().reports(ReportSink::Off).build().unwrap();
    /// let _ = rt.block_on(|| -> () { panic!("not reported") });
    /// rt.shutdown();
    /// ```
    pub fn reports(mut self, sink: ReportSink) -> Self {
        self.reports = sink;
        self
    }

    /// The tokio runtime whose handle is entered while a process polls a future
    /// ([`block_on_future`](crate::block_on_future)), so that futures needing tokio's
    /// reactor or timers work inside processes (feature `tokio`). Without this
    /// setting the runtime attaches to the tokio runtime `build` is called in, if
    /// any, and otherwise starts one of its own on the first poll
    /// ([`tokio_threads`](Self::tokio_threads) workers), shut down with it.
    ///
    /// ```
    /// let tokio_rt = tokio::runtime::Runtime::new().unwrap();
    /// let rt = beamlet::Runtime::builder()
    ///     .tokio_handle(tokio_rt.handle().clone())
    ///     .build()
    ///     .unwrap();
    /// let slept = rt.block_on(|| {
    ///     beamlet::block_on_future(async {
    ///         tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    ///         "slept"
    ///     })
    /// });
    /// assert_eq!(slept.unwrap(), "slept");
    /// rt.shutdown();
    /// ```
    #[cfg(feature = "tokio")]
    pub fn tokio_handle(mut self, handle: tokio::runtime::Handle) -> Self {
        self.tokio = Some(handle);
        self
    }

    /// Worker threads of the tokio runtime this runtime starts when it has none to
    /// attach to (default 1: it only drives the reactor and timers of futures that
    /// processes poll; zero is taken as one). Feature `tokio`.
    #[cfg(feature = "tokio")]
    pub fn tokio_threads(mut self, n: usize) -> Self {
        self.tokio_threads = n;
        self
    }

    /// Gives every process a `tracing` span, `process` with its `pid` (target
    /// `beamlet::process`; feature `tracing`), made when it is spawned — its parent
    /// is the spawner's span, so spans follow the process tree — and entered by the
    /// scheduler each time the process resumes, on whichever thread that is, so
    /// events the process emits carry it and a subscriber's per-thread state stays
    /// right across migrations. Off by default: it costs a span per spawn and an
    /// enter and exit per switch when a subscriber records spans.
    ///
    /// A span the process enters itself (`span.enter()`) must not be held across a
    /// call that can switch, like a `MutexGuard` (see the crate's rules): wrap the
    /// work in `span.in_scope(...)` between such calls instead.
    #[cfg(feature = "tracing")]
    pub fn process_spans(mut self, on: bool) -> Self {
        self.process_spans = on;
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
            reports: self.reports.clone(),
            max_spare_threads: self.max_spare_threads,
            #[cfg(feature = "tokio")]
            tokio: self
                .tokio
                .clone()
                .or_else(|| tokio::runtime::Handle::try_current().ok()),
            #[cfg(feature = "tokio")]
            tokio_threads: self.tokio_threads,
            #[cfg(feature = "tracing")]
            process_spans: self.process_spans,
        })
    }

    /// Starts the scheduler threads.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] for an invalid setting or when a thread cannot be started.
    pub fn build(self) -> Result<Runtime, BuildError> {
        let config = self.validate()?;
        scheduler::install_hooks();
        handoff::init_fences();
        let (shared, poll) = Shared::new(runtimes::next_id(), config)?;
        runtimes::insert(&shared);
        Runtime::start(shared, poll)
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
            reports: ReportSink::Auto,
            max_spare_threads: DEFAULT_MAX_SPARE_THREADS,
            #[cfg(feature = "tokio")]
            tokio: None,
            #[cfg(feature = "tokio")]
            tokio_threads: 1,
            #[cfg(feature = "tracing")]
            process_spans: false,
        }
    }
}

impl Runtime {
    /// A builder with the default settings.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }
}
