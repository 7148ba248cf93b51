//! Tasks (as Elixir's `Task`): run one function in its own process and collect its
//! result later.
//!
//! # The protocol
//!
//! 1. [`spawn`] (Elixir's `Task.async`) takes a mailbox mark, creates an [`Alias`]
//!    (the reply address), spawns the task **linked** to the caller (the link exists
//!    before the task runs) and monitors it. The caller is the task's *owner*. (A
//!    task [`Supervisor`] spawns the task instead, and the task waits for its
//!    owner's go-ahead until the owner has linked to and monitored it.)
//! 2. The task runs the function through the runtime's `catch_exit` and sends its
//!    outcome to the alias: the value, or the exit reason of a panic or `exit`
//!    inside the function (it then exits with that reason). After a value it
//!    unlinks from its owner and exits normally.
//! 3. The owner collects the outcome with
//!    [`Task::wait`] (default 5000 ms),
//!    [`Task::try_wait`] (a bounded look that
//!    leaves the task running), [`Task::shutdown`] (stop it, but keep a result
//!    that came meanwhile), [`Task::ignore`] (detach it), [`wait_many`] or
//!    [`try_wait_many`]. Each takes whichever comes first of the outcome message and
//!    the monitor's `Down`; once settled, the monitor is gone (its `Down`
//!    flushed), the alias is off (a late message is dropped by the runtime), and
//!    an `Exit` message the link left in a trapping owner's mailbox for a crash
//!    that was reported is removed.
//! 4. Only the owner can collect: any other process gets [`TaskError::NotOwner`].
//!
//! # What a Rust caller should expect (crashes)
//!
//! As in Elixir, `spawn` links the task to its owner, so **a task that crashes
//! kills an owner that does not trap exits**, with the task's exit reason, before
//! `wait` can return: a crash is not silently turned into a value. To get a crash
//! as an `Err(TaskError::Exit(reason))` instead:
//!
//! - trap exits in the owner (`trap_exit(true)`): the crash then arrives as a
//!   message and `wait` reports it (and removes that `Exit` message); or
//! - start the task unlinked under a task [`Supervisor`] with
//!   [`Supervisor::spawn_nolink`]: the natural way to run work that may fail.
//!
//! # Departures from Elixir, for Rust
//!
//! - The names: `await` and `yield` are Rust keywords, and `async` too, so
//!   Elixir's `Task.await` is [`Task::wait`], `Task.yield` is [`Task::try_wait`]
//!   (it may come back empty-handed and keeps the task), `Task.await_many` and
//!   `Task.yield_many` are [`wait_many`] and [`try_wait_many`], `Task.async` is
//!   [`spawn`], and `Task.Supervisor.async` / `async_nolink` are
//!   [`Supervisor::spawn`] / [`Supervisor::spawn_nolink`].
//! - Collecting returns typed errors instead of exiting the caller. On a timeout,
//!   `wait` (and `wait_many`, and a stream with [`OnTimeout::Exit`]) **kills the
//!   task** and returns [`TaskError::Timeout`]: in Elixir the caller exits and takes
//!   the linked task with it; here the caller lives on, so the task is stopped
//!   instead and nothing is left computing a result nobody can receive. Use
//!   `try_wait` to wait without giving up.
//! - A task that completed unlinks itself from its owner before exiting, so a
//!   trapping owner gets no `Exit` message with reason `Normal` for it.
//! - `wait`, `try_wait` and `shutdown` are methods. `wait`, `shutdown` and
//!   `ignore` consume the task. After `try_wait` has returned a result the task
//!   is finished, and any later collection returns [`TaskError::Taken`].
//! - Dropping a [`Task`] does not stop it (as in Elixir): it runs on, still linked,
//!   and its outcome and `Down` are left in the owner's mailbox. Call
//!   [`Task::ignore`] to detach it cleanly or [`Task::shutdown`] to stop it.
//! - `$callers` and distribution are not provided.
//!
//! # Example
//!
//! ```
//! use beamlet::otp::task;
//! use beamlet::Runtime;
//!
//! let rt = Runtime::builder().build().unwrap();
//! let sum = rt.block_on(|| {
//!     let a = task::spawn(|| 20).unwrap();
//!     let b = task::spawn(|| 22).unwrap();
//!     a.wait().unwrap() + b.wait().unwrap()
//! }).unwrap();
//! assert_eq!(sum, 42);
//! rt.shutdown();
//! ```

mod many;
mod stream;
mod supervisor;

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use beamlet_runtime::{
    Alias, Down, ExitReason, MailboxMark, Message, MonitorRef, Pid, SpawnError, alias, catch_exit,
    demonitor, exit, exit_pid, mailbox_mark, monitor, receive_select, self_pid, spawn_link,
    unalias, unlink,
};

use crate::behaviour::{self, bounded};
use crate::supervisor::{ChildSpec, Restart, Shutdown, SupervisorError};
pub use many::{try_wait_many, wait_many};
pub use stream::{AsyncStream, OnTimeout, StreamOptions, async_stream};
pub use supervisor::Supervisor;

/// How long [`Task::wait`], [`Task::try_wait`] and [`wait_many`] wait by default
/// (Elixir's 5000 ms).
///
/// ```
/// assert_eq!(beamlet::otp::task::DEFAULT_TIMEOUT.as_millis(), 5000);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);

/// Why a task gave no result.
///
/// ```
/// use beamlet::otp::task::TaskError;
/// assert_eq!(TaskError::Timeout.to_string(), "timeout: no result in time; the task was killed");
/// ```
#[must_use]
#[derive(Debug, Clone, PartialEq)]
pub enum TaskError {
    /// The task exited before giving a result (it panicked, called `exit`, or was
    /// killed), with its exit reason.
    Exit(ExitReason),
    /// No result came in time; the task was killed.
    Timeout,
    /// The caller is not the task's owner (only the process that started a task
    /// can collect its result).
    NotOwner {
        /// The task's owner.
        owner: Pid,
        /// The process that tried to collect.
        caller: Pid,
    },
    /// The result was already taken by an earlier [`Task::try_wait`].
    Taken,
    /// The task could not be spawned (only from [`async_stream`], whose items are
    /// spawned as it is consumed).
    Spawn(SpawnError),
    /// The task supervisor did not start the task (only from
    /// [`Supervisor::async_stream_nolink`]).
    Supervisor(SupervisorError),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Exit(r) => write!(f, "the task exited: {r}"),
            TaskError::Timeout => f.write_str("timeout: no result in time; the task was killed"),
            TaskError::NotOwner { owner, caller } => {
                write!(f, "not_owner: the task is owned by {owner}, not {caller}")
            }
            TaskError::Taken => f.write_str("taken: the result was already yielded"),
            TaskError::Spawn(e) => write!(f, "the task could not be spawned: {e}"),
            TaskError::Supervisor(e) => write!(f, "the task supervisor did not start it: {e}"),
        }
    }
}

impl std::error::Error for TaskError {}

/// What a task sends its owner when its function returns or fails, tagged with
/// the reply alias (unique to the task).
struct TaskReply<T> {
    to: Alias,
    outcome: Result<T, ExitReason>,
}

/// How a task process starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Spawned by its owner with `spawn_link`: linked before it runs.
    Spawned,
    /// Spawned by a task supervisor: it waits for its owner's [`Go`], sent once
    /// the owner has linked to it (if `linked`) and monitored it, so that neither
    /// can miss the task (Elixir's handshake).
    Supervised {
        /// Whether the owner links to it (`spawn`, not `spawn_nolink`).
        linked: bool,
    },
}

/// The owner's go-ahead to a supervised task.
struct Go;

/// The body of a task process (step 2 of the protocol).
fn body<T, F>(f: F, reply_to: Alias, start: Start) -> impl FnOnce() + Send + 'static
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    move || {
        beamlet_runtime::set_behaviour("task", std::any::type_name::<F>());
        let owner = reply_to.pid();
        let linked = match start {
            Start::Spawned => true,
            Start::Supervised { linked } => {
                await_go(owner);
                linked
            }
        };
        match catch_exit(f) {
            Ok(value) => {
                let _ = reply_to.send(TaskReply {
                    to: reply_to,
                    outcome: Ok(value),
                });
                if linked {
                    unlink(owner);
                }
            }
            Err(reason) => {
                let _ = reply_to.send(TaskReply::<T> {
                    to: reply_to,
                    outcome: Err(reason.clone()),
                });
                exit(reason)
            }
        }
    }
}

/// Waits for the owner's [`Go`]; an owner that dies first leaves the task with
/// nobody to work for, and it exits with `Shutdown` (quietly, as Elixir's).
fn await_go(owner: Pid) {
    let watch = monitor(owner);
    let go_or_down =
        |m: &Message| m.is::<Go>() || m.downcast_ref::<Down>().is_some_and(|d| d.monitor == watch);
    match receive_select(None, go_or_down, None).map(|m| m.is::<Go>()) {
        Some(true) => {
            demonitor(watch, true);
        }
        _ => exit(ExitReason::Shutdown),
    }
}

/// A running task: the handle its owner collects the result with. `Send`, so it
/// can be moved, but only its owner can collect (see the [module](self)).
///
/// ```
/// use beamlet::otp::task;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let t = task::spawn(|| "done").unwrap();
///     assert_eq!(t.owner(), beamlet::self_pid());
///     assert_ne!(t.pid(), t.owner());
///     assert_eq!(t.wait(), Ok("done"));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[must_use = "a task's result is lost unless it is waited for, shut down or ignored"]
pub struct Task<T> {
    /// The process that started the task; the only one that may collect.
    owner: Pid,
    /// The task process.
    pid: Pid,
    /// The owner's monitor of the task.
    monitor: MonitorRef,
    /// Where the task sends its outcome; also the outcome's tag.
    reply_to: Alias,
    /// Whether the task is linked to its owner (a crash `Exit` may need flushing).
    linked: bool,
    /// The owner's mailbox before the task was spawned: its messages come after.
    mark: MailboxMark,
    /// `try_wait` has returned the result; nothing is left to collect.
    taken: bool,
    _result: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("owner", &self.owner)
            .field("pid", &self.pid)
            .field("monitor", &self.monitor)
            .field("linked", &self.linked)
            .field("taken", &self.taken)
            .finish_non_exhaustive()
    }
}

/// Starts a task linked to and monitored by the caller (Elixir's `Task.async`);
/// collect its result with [`Task::wait`]. See the [module](self) for what a
/// crash does.
///
/// # Errors
///
/// [`SpawnError`] if the process could not be spawned.
///
/// See the [module](self) for an example.
#[track_caller]
pub fn spawn<T, F>(f: F) -> Result<Task<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let mark = mailbox_mark();
    let reply_to = alias();
    match spawn_link(body(f, reply_to, Start::Spawned)) {
        Ok(pid) => Ok(Task::watch(pid, reply_to, true, mark)),
        Err(e) => {
            unalias(reply_to);
            Err(e)
        }
    }
}

/// Starts a fire-and-forget task linked to the caller (Elixir's
/// `Task.start_link`): nothing is sent back; a crash reaches the caller through
/// the link. Returns its pid, so it can be a supervisor's child (see
/// [`child_spec`]).
///
/// # Errors
///
/// [`SpawnError`] if the process could not be spawned.
///
/// ```
/// use beamlet::{receive, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let me = self_pid();
///     beamlet::otp::task::start_link(move || { send(me, "hello").unwrap(); }).unwrap();
///     assert_eq!(receive::<&str>(), "hello");
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start_link<F>(f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    spawn_link(f)
}

/// Starts a fire-and-forget task not linked to anything (Elixir's `Task.start`).
///
/// # Errors
///
/// [`SpawnError`] if the process could not be spawned.
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| { beamlet::otp::task::start(|| ()).unwrap(); }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start<F>(f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    beamlet_runtime::spawn(f)
}

/// A child spec running `f` as a temporary fire-and-forget task under a
/// supervisor (what Elixir's `use Task` gives): it is started with
/// [`start_link`] and never restarted.
///
/// ```
/// use beamlet::otp::supervisor::{self, Restart, SupervisorFlags};
/// use beamlet::{receive, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let me = self_pid();
///     let spec = beamlet::otp::task::child_spec("greeter", move || { send(me, "hi").unwrap(); });
///     assert_eq!(spec.restart, Restart::Temporary);
///     supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
///     assert_eq!(receive::<&str>(), "hi");
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn child_spec<F>(id: impl Into<String>, f: F) -> ChildSpec
where
    F: Fn() + Clone + Send + Sync + 'static,
{
    ChildSpec::worker(id, move || start_link(f.clone())).restart(Restart::Temporary)
}

impl<T: Send + 'static> Task<T> {
    /// A handle on the task `pid` just spawned, which replies to `reply_to`.
    fn watch(pid: Pid, reply_to: Alias, linked: bool, mark: MailboxMark) -> Task<T> {
        Task {
            owner: reply_to.pid(),
            pid,
            monitor: monitor(pid),
            reply_to,
            linked,
            mark,
            taken: false,
            _result: PhantomData,
        }
    }

    /// The task process.
    ///
    /// See [`Task`] for an example.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The process that started the task, the only one that may collect it.
    ///
    /// See [`Task`] for an example.
    pub fn owner(&self) -> Pid {
        self.owner
    }

    /// Waits up to [`DEFAULT_TIMEOUT`] for the result (Elixir's `Task.await`;
    /// `await` is a Rust keyword). On a timeout the task is killed.
    ///
    /// # Errors
    ///
    /// [`TaskError::Exit`] if the task exited first (see the [module](self): a
    /// linked task's crash reaches this only in an owner that traps exits),
    /// `Timeout` (the task is killed), `NotOwner`, `Taken`.
    ///
    /// See the [module](self) for an example.
    pub fn wait(self) -> Result<T, TaskError> {
        self.wait_timeout(DEFAULT_TIMEOUT)
    }

    /// [`wait`](Task::wait) with a timeout (`Duration::MAX` waits for ever).
    ///
    /// # Errors
    ///
    /// As [`wait`](Task::wait).
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::otp::task::{self, TaskError};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let slow = task::spawn(|| beamlet::sleep(Duration::from_secs(60))).unwrap();
    ///     let pid = slow.pid();
    ///     assert_eq!(slow.wait_timeout(Duration::from_millis(10)), Err(TaskError::Timeout));
    ///     assert!(!beamlet::is_alive(pid));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn wait_timeout(self, timeout: Duration) -> Result<T, TaskError> {
        self.collectable()?;
        match self.next_event(bounded(Some(timeout))) {
            Some(msg) => self.settle(msg),
            None => {
                kill(&[&self]);
                Err(TaskError::Timeout)
            }
        }
    }

    /// Waits up to [`DEFAULT_TIMEOUT`] for the result without giving up on the
    /// task (Elixir's `Task.yield`; `yield` is a Rust keyword): `None` if it is
    /// still running (it keeps running, ask again later), `Some` with its result
    /// or error otherwise. [`try_wait_timeout`](Task::try_wait_timeout) with
    /// `Duration::ZERO` only looks.
    ///
    /// See [`try_wait_timeout`](Task::try_wait_timeout) for an example.
    pub fn try_wait(&mut self) -> Option<Result<T, TaskError>> {
        self.try_wait_timeout(DEFAULT_TIMEOUT)
    }

    /// [`try_wait`](Task::try_wait) with a timeout (`Duration::MAX` waits for ever).
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::otp::task::{self, TaskError};
    /// use beamlet::{receive, send};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let mut t = task::spawn(|| receive::<u32>() * 2).unwrap();
    ///     assert_eq!(t.try_wait_timeout(Duration::from_millis(5)), None);
    ///     send(t.pid(), 21u32).unwrap();
    ///     assert_eq!(t.try_wait_timeout(Duration::MAX), Some(Ok(42)));
    ///     assert_eq!(t.wait(), Err(TaskError::Taken));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn try_wait_timeout(&mut self, timeout: Duration) -> Option<Result<T, TaskError>> {
        if let Err(e) = self.collectable() {
            return Some(Err(e));
        }
        let msg = self.next_event(bounded(Some(timeout)))?;
        self.taken = true;
        Some(self.settle(msg))
    }

    /// Stops the task (Elixir's `Task.shutdown`): unlinks it, then `BrutalKill`
    /// kills it at once, `Timeout(d)` sends it a `Shutdown` exit signal and kills
    /// it if it has not exited within `d`, `Infinity` waits for it to exit.
    /// Returns `Some(Ok(value))` if the result arrived meanwhile (it is not lost),
    /// `None` if the task was stopped before giving one, `Some(Err(..))` if it had
    /// exited for another reason (or the caller may not collect it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::otp::supervisor::Shutdown;
    /// use beamlet::otp::task;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let stuck = task::spawn(|| beamlet::receive::<()>()).unwrap();
    ///     assert_eq!(stuck.shutdown(Shutdown::BrutalKill), None);
    ///     let quick = task::spawn(|| 7).unwrap();
    ///     // Give it time to finish; the result is then kept by the shutdown.
    ///     while beamlet::process_info(quick.pid()).is_some() {
    ///         beamlet::sleep(Duration::from_millis(1));
    ///     }
    ///     assert_eq!(quick.shutdown(Shutdown::default()), Some(Ok(7)));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn shutdown(self, how: Shutdown) -> Option<Result<T, TaskError>> {
        if let Err(e) = self.collectable() {
            return Some(Err(e));
        }
        // Unlinked first (as Elixir), so that the stop does not reach the owner.
        if self.linked {
            unlink(self.pid);
        }
        let (signal, wait) = match how {
            Shutdown::BrutalKill => (ExitReason::Kill, None),
            Shutdown::Timeout(d) => (ExitReason::Shutdown, Some(d)),
            Shutdown::Infinity => (ExitReason::Shutdown, None),
        };
        let mut caused = match signal {
            ExitReason::Kill => ExitReason::Killed,
            _ => ExitReason::Shutdown,
        };
        exit_pid(self.pid, signal);
        let down = match behaviour::wait_down_for(self.mark, self.monitor, wait) {
            Some(reason) => reason,
            None => {
                exit_pid(self.pid, ExitReason::Kill);
                caused = ExitReason::Killed;
                behaviour::wait_down(self.mark, self.monitor)
            }
        };
        let reply = self.late_reply();
        // Unlinked before the signal, so an `Exit` there is from a crash of its own.
        self.flush_link_exit();
        unalias(self.reply_to);
        match (reply, down) {
            (Some(Ok(value)), _) => Some(Ok(value)),
            (_, reason) if reason == caused => None,
            // Dead before it was monitored: its own report, if any, tells why.
            (Some(Err(reason)), ExitReason::NoProc) => Some(Err(TaskError::Exit(reason))),
            (_, reason) => Some(Err(TaskError::Exit(reason))),
        }
    }

    /// Detaches the task (Elixir's `Task.ignore`): it runs on, unlinked and
    /// unmonitored, and its result will be dropped. Returns its result or error if
    /// it had already finished, `None` otherwise.
    ///
    /// ```
    /// use beamlet::otp::task;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let t = task::spawn(|| beamlet::sleep(std::time::Duration::from_millis(20))).unwrap();
    ///     assert_eq!(t.ignore(), None);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn ignore(mut self) -> Option<Result<T, TaskError>> {
        let done = self.try_wait_timeout(Duration::ZERO);
        if done.is_none() {
            if self.linked {
                unlink(self.pid);
            }
            demonitor(self.monitor, true);
            unalias(self.reply_to);
            // An outcome that slipped in before the alias went off is dropped too.
            let _ = self.late_reply();
        }
        done
    }

    /// Whether the caller may collect the task now.
    fn collectable(&self) -> Result<(), TaskError> {
        let caller = self_pid();
        if caller != self.owner {
            return Err(TaskError::NotOwner {
                owner: self.owner,
                caller,
            });
        }
        match self.taken {
            true => Err(TaskError::Taken),
            false => Ok(()),
        }
    }

    /// Whether `m` is this task's outcome or its monitor's `Down`.
    fn concerns(&self, m: &Message) -> bool {
        m.downcast_ref::<TaskReply<T>>()
            .is_some_and(|r| r.to == self.reply_to)
            || m.downcast_ref::<Down>()
                .is_some_and(|d| d.monitor == self.monitor)
    }

    /// The next message about this task, waiting up to `timeout` (for ever if `None`).
    fn next_event(&self, timeout: Option<Duration>) -> Option<Message> {
        receive_select(Some(self.mark), |m| self.concerns(m), timeout)
    }

    /// The task's outcome if it is in the mailbox (taken from it).
    fn late_reply(&self) -> Option<Result<T, ExitReason>> {
        let ours = |m: &Message| {
            m.downcast_ref::<TaskReply<T>>()
                .is_some_and(|r| r.to == self.reply_to)
        };
        let msg = receive_select(Some(self.mark), ours, Some(Duration::ZERO))?;
        Some(msg.downcast::<TaskReply<T>>().ok()?.outcome)
    }

    /// Settles the task from a message that [`concerns`](Task::concerns) it:
    /// returns its result and leaves nothing behind (step 3 of the protocol).
    fn settle(&self, msg: Message) -> Result<T, TaskError> {
        match msg.downcast::<TaskReply<T>>() {
            Ok(reply) => self.settle_outcome(reply.outcome, false),
            Err(msg) => {
                let down = msg
                    .downcast::<Down>()
                    .expect("concerns admits outcomes and Downs");
                self.settle_down(down.reason)
            }
        }
    }

    /// Settles from the task's own report; `down_seen` if its `Down` was taken.
    fn settle_outcome(
        &self,
        outcome: Result<T, ExitReason>,
        down_seen: bool,
    ) -> Result<T, TaskError> {
        match outcome {
            Ok(value) => {
                if !down_seen {
                    demonitor(self.monitor, true);
                }
                unalias(self.reply_to);
                Ok(value)
            }
            Err(reason) => {
                // The task is exiting with `reason`: its link's `Exit` (if any)
                // comes before its `Down`, so once the `Down` is in, it can go.
                if !down_seen {
                    let _ = behaviour::wait_down(self.mark, self.monitor);
                }
                self.flush_link_exit();
                unalias(self.reply_to);
                Err(TaskError::Exit(reason))
            }
        }
    }

    /// Settles from the monitor's `Down`. A `NoProc` `Down` means the task ended
    /// before it was monitored: its report (sent before it exited) or the link's
    /// `Exit` tells what happened.
    fn settle_down(&self, reason: ExitReason) -> Result<T, TaskError> {
        if reason == ExitReason::NoProc {
            if let Some(outcome) = self.late_reply() {
                return self.settle_outcome(outcome, true);
            }
        }
        let link_reason = self.flush_link_exit();
        unalias(self.reply_to);
        match (reason, link_reason) {
            (ExitReason::NoProc, Some(r)) => Err(TaskError::Exit(r)),
            (r, _) => Err(TaskError::Exit(r)),
        }
    }

    /// Removes the `Exit` a linked task's crash left in a trapping owner's mailbox.
    fn flush_link_exit(&self) -> Option<ExitReason> {
        match self.linked {
            true => behaviour::flush_exit(Some(self.mark), self.pid),
            false => None,
        }
    }
}

/// Kills unsettled tasks and waits until they are gone: every kill is sent before
/// the first wait, so stopping many costs one round. Their outcomes, `Down`s and
/// links leave nothing behind.
fn kill<T: Send + 'static>(tasks: &[&Task<T>]) {
    for t in tasks {
        if t.linked {
            unlink(t.pid);
        }
        exit_pid(t.pid, ExitReason::Kill);
    }
    for t in tasks {
        let _ = behaviour::wait_down(t.mark, t.monitor);
        // Unlinked before the kill, so an `Exit` there is from a crash of its own.
        t.flush_link_exit();
        unalias(t.reply_to);
        let _ = t.late_reply();
    }
}
