//! Task supervisors (as Elixir's `Task.Supervisor`): a dynamic supervisor whose
//! children are temporary tasks.
//!
//! 1. [`Supervisor::start_link`] starts a [`DynamicSupervisor`] (so it has its
//!    `max_children`, its shutdown of every child when it stops, and can itself be
//!    a child of a supervisor through [`Supervisor::child_spec`]).
//! 2. Every task is started by the supervisor as a temporary child (never
//!    restarted, forgotten once it exits) spawned linked to the supervisor, with a
//!    5000 ms shutdown.
//! 3. [`Supervisor::start_child`] runs a fire-and-forget task.
//!    [`Supervisor::spawn`] runs a task linked to the caller (a crash reaches
//!    the caller, as [`spawn`](super::spawn));
//!    [`Supervisor::spawn_nolink`] one that does not: its crash is only reported,
//!    as `Err(TaskError::Exit(reason))` from `wait`. Either way the caller
//!    monitors the task and owns the returned [`Task`].
//!    [`Supervisor::async_stream_nolink`] runs a bounded stream of such unlinked
//!    tasks.
//! 4. An awaitable task waits, before running its function, for the caller's
//!    go-ahead, sent once the caller has linked to it (for `spawn`) and monitored
//!    it; a caller that dies first makes it exit with `Shutdown` (Elixir's
//!    handshake).
//!
//! Departure: only temporary children with the default shutdown (Elixir's
//! `:restart` and `:shutdown` options of `start_child` are not provided: a
//! function run once cannot be restarted).

use std::sync::Mutex;

use beamlet_runtime::{Pid, alias, link, mailbox_mark, send, spawn_link, unalias};

use super::{AsyncStream, Go, Start, StreamOptions, Task, body, stream};
use crate::behaviour::{CallError, StartError, StartOptions};
use crate::gen_server::ServerRef;
use crate::name::Name;
use crate::supervisor::dynamic::{self as dynamic_supervisor, DynamicOptions, DynamicSupervisor};
use crate::supervisor::{ChildSpec, Restart, SupervisorError};

/// A running task supervisor: a `Copy` handle.
///
/// ```
/// use beamlet::otp::task::{Supervisor, TaskError};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let sup = Supervisor::start_link().unwrap();
///     let ok = sup.spawn_nolink(|| 6 * 7).unwrap();
///     assert_eq!(ok.wait(), Ok(42));
///     let crash = sup.spawn_nolink(|| -> u32 { panic!("boom") }).unwrap();
///     assert!(matches!(crash.wait(), Err(TaskError::Exit(r)) if r.is_panic()));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supervisor(ServerRef<DynamicSupervisor>);

impl std::convert::From<Supervisor> for Pid {
    fn from(s: Supervisor) -> Pid {
        s.0.pid()
    }
}

impl Supervisor {
    /// Starts a task supervisor linked to the caller, with Elixir's defaults
    /// (no limit on children).
    ///
    /// # Errors
    ///
    /// As `gen_server::start_link`.
    ///
    /// See [`Supervisor`] for an example.
    #[track_caller]
    pub fn start_link() -> Result<Supervisor, StartError> {
        Supervisor::start_link_with(DynamicOptions::default(), StartOptions::new())
    }

    /// [`start_link`](Supervisor::start_link) with the dynamic supervisor's
    /// options (`max_children`) and start options (a name).
    ///
    /// # Errors
    ///
    /// As `gen_server::start_link`.
    ///
    /// ```
    /// use beamlet::otp::dynamic_supervisor::DynamicOptions;
    /// use beamlet::otp::gen_server::StartOptions;
    /// use beamlet::otp::task::Supervisor;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let sup = Supervisor::start_link_with(DynamicOptions::default(), StartOptions::new().name("tasks")).unwrap();
    ///     assert_eq!(Supervisor::whereis("tasks"), Some(sup));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    #[track_caller]
    pub fn start_link_with(
        opts: DynamicOptions,
        start: StartOptions,
    ) -> Result<Supervisor, StartError> {
        dynamic_supervisor::start_link_with(opts, start).map(Supervisor)
    }

    /// A child spec starting a task supervisor under another supervisor.
    ///
    /// ```
    /// use beamlet::otp::dynamic_supervisor::DynamicOptions;
    /// use beamlet::otp::gen_server::StartOptions;
    /// use beamlet::otp::supervisor::{self, SupervisorFlags};
    /// use beamlet::otp::task::Supervisor;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let spec = Supervisor::child_spec("tasks", DynamicOptions::default(), StartOptions::new().name("app_tasks"));
    ///     supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
    ///     let tasks = Supervisor::whereis("app_tasks").unwrap();
    ///     assert_eq!(tasks.spawn(|| 1).unwrap().wait(), Ok(1));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn child_spec(
        id: impl Into<String>,
        opts: DynamicOptions,
        start: StartOptions,
    ) -> ChildSpec {
        ChildSpec::supervisor(id, move || {
            dynamic_supervisor::start_link_with(opts, start.clone())
        })
    }

    /// The task supervisor registered as `name` (a local name as `&str`, or any
    /// [`Name`]), trusted to be one.
    ///
    /// See [`start_link_with`](Supervisor::start_link_with) for an example.
    pub fn whereis(name: impl Into<Name>) -> Option<Supervisor> {
        ServerRef::whereis(name).map(Supervisor)
    }

    /// The supervisor's process.
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let sup = beamlet::otp::task::Supervisor::start_link().unwrap();
    ///     assert!(beamlet::is_alive(sup.pid()));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn pid(&self) -> Pid {
        self.0.pid()
    }

    /// Starts a fire-and-forget task under the supervisor; returns its pid.
    ///
    /// # Errors
    ///
    /// `MaxChildren`, `Start` (it could not be spawned), `Call`.
    ///
    /// ```
    /// use beamlet::{receive, self_pid, send};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let sup = beamlet::otp::task::Supervisor::start_link().unwrap();
    ///     let me = self_pid();
    ///     sup.start_child(move || { send(me, "ran").unwrap(); }).unwrap();
    ///     assert_eq!(receive::<&str>(), "ran");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn start_child<F>(&self, f: F) -> Result<Pid, SupervisorError>
    where
        F: FnOnce() + Send + 'static,
    {
        self.start_once(f)
    }

    /// Starts a task under the supervisor, linked to the caller and owned by it
    /// (Elixir's `Task.Supervisor.async`; `async` is a Rust keyword): as
    /// [`spawn`](super::spawn), but supervised (stopped with the supervisor,
    /// counted in `max_children`).
    ///
    /// # Errors
    ///
    /// As [`start_child`](Supervisor::start_child).
    ///
    /// See [`child_spec`](Supervisor::child_spec) for an example.
    pub fn spawn<T, F>(&self, f: F) -> Result<Task<T>, SupervisorError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.start_task(f, true)
    }

    /// Starts a task under the supervisor, owned by the caller but not linked to
    /// it (Elixir's `Task.Supervisor.async_nolink`): its crash comes back as
    /// `Err(TaskError::Exit(reason))` from `wait`, and does not touch the caller.
    ///
    /// # Errors
    ///
    /// As [`start_child`](Supervisor::start_child).
    ///
    /// See [`Supervisor`] for an example.
    pub fn spawn_nolink<T, F>(&self, f: F) -> Result<Task<T>, SupervisorError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.start_task(f, false)
    }

    /// [`async_stream`](super::async_stream) with tasks started by this
    /// supervisor and not linked to the caller (Elixir's
    /// `Task.Supervisor.async_stream_nolink`): a crashing item yields
    /// `Err(TaskError::Exit(reason))` and the caller is untouched.
    ///
    /// ```
    /// use beamlet::otp::task::{StreamOptions, Supervisor, TaskError};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let sup = Supervisor::start_link().unwrap();
    ///     let halve = |n: u32| { assert!(n % 2 == 0, "odd"); n / 2 };
    ///     let out: Vec<_> = sup.async_stream_nolink(vec![2, 3, 4], halve, StreamOptions::default()).collect();
    ///     assert_eq!(out[0], Ok(1));
    ///     assert!(matches!(&out[1], Err(TaskError::Exit(r)) if r.is_panic()));
    ///     assert_eq!(out[2], Ok(2));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn async_stream_nolink<It, F, R>(
        &self,
        items: It,
        f: F,
        opts: StreamOptions,
    ) -> AsyncStream<It::IntoIter, F, R>
    where
        It: IntoIterator,
        It::Item: Send + 'static,
        F: Fn(It::Item) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        stream::build(items, f, opts, Some(*self))
    }

    /// The running tasks, in order of start.
    ///
    /// # Errors
    ///
    /// [`CallError`] if the supervisor does not answer.
    ///
    /// ```
    /// use beamlet::receive;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let sup = beamlet::otp::task::Supervisor::start_link().unwrap();
    ///     let pid = sup.start_child(|| { receive::<()>(); }).unwrap();
    ///     assert_eq!(sup.children().unwrap(), vec![pid]);
    ///     sup.terminate_child(pid).unwrap();
    ///     assert!(sup.children().unwrap().is_empty());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn children(&self) -> Result<Vec<Pid>, CallError> {
        let all = dynamic_supervisor::which_children(self.0)?;
        Ok(all.iter().filter_map(|c| c.pid.pid()).collect())
    }

    /// Stops the task `pid` (a `Shutdown` signal, killed after 5000 ms).
    ///
    /// # Errors
    ///
    /// `NotFound` if it is not a running task of this supervisor; `Call`.
    ///
    /// See [`children`](Supervisor::children) for an example.
    pub fn terminate_child(&self, pid: Pid) -> Result<(), SupervisorError> {
        dynamic_supervisor::terminate_child(self.0, pid)
    }

    /// Starts an awaitable task (see [`Start::Supervised`]): the task waits for
    /// the caller's go-ahead, so the caller links to it (if `linked`) and monitors
    /// it while it is surely alive. (Only a kill from elsewhere can end it first:
    /// then the link's `NoProc` or the monitor's `Down` says so, and `wait`
    /// reports it.)
    fn start_task<T, F>(&self, f: F, linked: bool) -> Result<Task<T>, SupervisorError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let mark = mailbox_mark();
        let reply_to = alias();
        match self.start_once(body(f, reply_to, Start::Supervised { linked })) {
            Ok(pid) => {
                if linked {
                    // Gone already (killed): the `Down` tells `wait`.
                    let _ = link(pid);
                }
                let task = Task::watch(pid, reply_to, linked, mark);
                let _ = send(pid, Go);
                Ok(task)
            }
            Err(e) => {
                unalias(reply_to);
                Err(e)
            }
        }
    }

    /// Has the supervisor spawn `f` once, as a temporary child. A child spec's
    /// start function is `Fn` (a supervisor may call it again), so the `FnOnce`
    /// is taken out of a slot: temporary children are never restarted, so the
    /// slot is emptied exactly once.
    fn start_once<F>(&self, f: F) -> Result<Pid, SupervisorError>
    where
        F: FnOnce() + Send + 'static,
    {
        let slot = Mutex::new(Some(f));
        let spec = ChildSpec::worker("task", move || {
            let f = slot
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take()
                .ok_or(StartError::Ignore)?;
            Ok::<Pid, StartError>(spawn_link(f)?)
        })
        .restart(Restart::Temporary);
        match dynamic_supervisor::start_child(self.0, spec)? {
            Some(pid) => Ok(pid),
            None => unreachable!("a task's start runs once, so never finds its slot empty"),
        }
    }
}
