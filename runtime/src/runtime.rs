//! [`Runtime`]: a running runtime — its threads, the root process of
//! [`Runtime::block_on`], talking to processes from plain threads, and shutdown.
//!
//! # Shutdown ([`Runtime::shutdown`])
//!
//! 1. Set `closing` (spawns fail from now on) and kill every live process, again
//!    every 10 ms, until none is left or the shutdown timeout passes.
//! 2. Set `stopping` and wake every scheduler and spare thread; join them (a thread
//!    stuck in a process is left running, and its runtime's memory is leaked).
//! 3. Stop the dirty pools and the reactor, and leave the list of runtimes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{BuildError, RegisterError, SendError, SpawnError, UnknownName};
use crate::exit::ExitReason;
use crate::handle::{self, RuntimeHandle};
use crate::kernel::info::{ProcessInfo, ProcessSummary};
use crate::kernel::runtimes;
use crate::kernel::shared::Shared;
use crate::kernel::stats::RuntimeStats;
use crate::pid::Pid;
use crate::scheduler::context::{self, WorkerContext};
use crate::scheduler::{sim, sysmon, worker};

/// A running beamlet runtime: scheduler threads, the process table, stacks, timers.
///
/// Several runtimes can live in one OS process; their pids carry the runtime number
/// and never mix. Dropping a runtime shuts it down.
///
/// # Examples
///
/// ```
/// use beamlet::{receive, send, spawn, self_pid, Runtime};
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

impl Runtime {
    /// Starts the threads of a runtime built by [`RuntimeBuilder::build`](crate::RuntimeBuilder::build): the
    /// schedulers, the reactor (which takes `poll`) and the system monitor — or, for a
    /// simulation, its one scheduler alone (nothing outside the seeded loop touches
    /// the schedule; see `scheduler::sim`).
    pub(crate) fn start(shared: Arc<Shared>, poll: mio::Poll) -> Result<Runtime, BuildError> {
        let mut rt = Runtime {
            threads: Vec::with_capacity(shared.config.schedulers + 1),
            shared,
        };
        let shared = rt.shared.clone();
        let prefix = shared.config.thread_name.clone();
        if let Some(seed) = shared.config.simulation {
            let s = shared.clone();
            rt.start_thread(format!("{prefix}-sim"), move || {
                sim::thread_main(&WorkerContext::new(s), seed)
            })?;
            return Ok(rt);
        }
        for index in 0..shared.config.schedulers {
            let s = shared.clone();
            rt.start_thread(format!("{prefix}-{index}"), move || {
                worker::thread_main(&WorkerContext::new(s), Some(index))
            })?;
        }
        let reactor = shared.reactor.clone();
        reactor
            .start(poll, shared.clone(), format!("{prefix}-io"))
            .map_err(BuildError::Os)?;
        rt.start_thread(format!("{prefix}-sysmon"), move || {
            sysmon::thread_main(shared)
        })?;
        Ok(rt)
    }

    fn start_thread(
        &mut self,
        name: String,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), BuildError> {
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(f)
            .map_err(BuildError::Os)?;
        self.threads.push(handle);
        Ok(())
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
    /// [`simulation`](crate::RuntimeBuilder::simulation), `None` for a normal one.
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().simulation(9).build().unwrap();
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
    /// let rt = beamlet::Runtime::builder().simulation(1).build().unwrap();
    /// let start = rt.now();
    /// rt.block_on(|| beamlet::sleep(Duration::from_secs(90))).unwrap();
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
    /// As [`spawn`](fn@crate::spawn).
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// let pid = rt.spawn(|| {}).unwrap();
    /// assert_eq!(pid.runtime_id(), rt.id());
    /// rt.shutdown();
    /// ```
    #[track_caller]
    pub fn spawn<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Pid, SpawnError> {
        handle::spawn_on(&self.shared, Box::new(f))
    }

    /// Sends a message to a process from outside the runtime.
    ///
    /// # Errors
    ///
    /// As [`send`](fn@crate::send).
    pub fn send<M: Send + 'static>(&self, pid: Pid, msg: M) -> Result<(), SendError<M>> {
        handle::send_on(&self.shared, pid, msg)
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
    pub fn process_info(&self, pid: Pid) -> Option<ProcessInfo> {
        self.shared.process_info(pid)
    }

    /// Calls `f` with a summary of every live process (see
    /// [`for_each_process`](crate::for_each_process)); from the calling thread,
    /// which is not a scheduler, so nothing is held up.
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// let pid = rt.spawn(|| { beamlet::receive::<()>(); }).unwrap();
    /// let mut seen = Vec::new();
    /// rt.for_each_process(|p| seen.push(p.pid));
    /// assert_eq!(seen, [pid]);
    /// rt.send(pid, ()).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn for_each_process(&self, mut f: impl FnMut(&ProcessSummary)) {
        crate::info::visit_processes(&self.shared, &mut f, false);
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
    pub fn register(&self, name: &str, pid: Pid) -> Result<(), RegisterError> {
        self.shared.register_name(name, pid)
    }

    /// Sends to the process registered as `name`.
    ///
    /// # Errors
    ///
    /// As [`send_named`](crate::send_named).
    pub fn send_named<M: Send + 'static>(&self, name: &str, msg: M) -> Result<(), UnknownName<M>> {
        match self.whereis(name) {
            Some(pid) => self.send(pid, msg).or_else(|e| match e {
                // A message shed by a full mailbox is dropped, as a send would.
                SendError::MailboxFull(_) => Ok(()),
                SendError::NoProc(m) => Err(UnknownName(m)),
            }),
            None => Err(UnknownName(msg)),
        }
    }

    /// Number of live processes.
    pub fn process_count(&self) -> usize {
        self.shared.process_count()
    }

    /// Runtime-wide counters.
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().schedulers(2).build().unwrap();
    /// rt.block_on(|| ()).unwrap();
    /// let s = rt.stats();
    /// assert_eq!(s.run_queue_lengths.len(), 2);
    /// assert!(s.context_switches >= 1);
    /// rt.shutdown();
    /// ```
    pub fn stats(&self) -> RuntimeStats {
        self.shared.stats()
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
    #[track_caller]
    pub fn block_on<F, T>(&self, f: F) -> Result<T, ExitReason>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        assert!(
            context::current_process().is_none(),
            "beamlet: block_on called from inside a process"
        );
        match self.handle().run(f) {
            Ok(join) => RuntimeHandle::wait(join),
            Err(SpawnError::SystemLimit | SpawnError::StackSize(_)) => Err(ExitReason::SystemLimit),
            Err(SpawnError::RuntimeGone | SpawnError::NotInProcess) => Err(ExitReason::NoProc),
        }
    }

    /// A handle on this runtime for other threads and async code (see
    /// [`RuntimeHandle`]).
    pub fn handle(&self) -> RuntimeHandle {
        RuntimeHandle::new(self.shared.clone())
    }

    /// Stops the runtime: kills every live process, waits (up to the shutdown
    /// timeout) for them to unwind, stops the scheduler threads and unmaps every
    /// stack.
    pub fn shutdown(mut self) -> ShutdownReport {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> ShutdownReport {
        let shared = self.shared.clone();
        // SeqCst: ordered before the reads of `live` below, and paired with the
        // Acquire loads in `Shared::spawn` and `process_exited` (no spawn after it counts).
        shared.closing.store(true, Ordering::SeqCst);
        // Acquire pairs with the AcqRel updates of `live` at spawn and exit.
        let killed = shared.live.load(Ordering::Acquire);
        let deadline = far_or(Instant::now(), shared.config.shutdown_timeout);
        // Acquire: as above; the exit that brings it to zero is seen with its effects.
        while shared.live.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            shared.kill_all();
            let g = shared.exited.0.lock().unwrap_or_else(|e| e.into_inner());
            let wait = deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(10));
            drop(shared.exited.1.wait_timeout(g, wait));
        }
        // Acquire: as above.
        let stuck = shared.live.load(Ordering::Acquire);
        // SeqCst: every loop reads it with Acquire before it parks or waits, and the
        // wake-ups below come after it.
        shared.stopping.store(true, Ordering::SeqCst);
        shared.idle.notify_all();
        shared.spares.wake_all();
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
        #[cfg(feature = "tokio")]
        shared.tokio.shutdown();
        runtimes::remove(shared.id);
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

impl Drop for Runtime {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            let _ = self.shutdown_inner();
        }
    }
}
