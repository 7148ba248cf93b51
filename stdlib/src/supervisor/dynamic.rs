//! Dynamic supervisors (as Elixir's `DynamicSupervisor`): start with no children,
//! add them on demand, one_for_one. Also reached as
//! [`beamlet_stdlib::dynamic_supervisor`](crate::dynamic_supervisor).
//!
//! # The contract
//!
//! 1. [`start_link`] starts the supervisor empty (a [`GenServer`] trapping exits).
//! 2. [`start_child`] starts a child from a [`ChildSpec`] (its `id` is only a label:
//!    it need not be unique) and returns its pid; beyond `max_children` (running
//!    plus restarting) it fails with `MaxChildren`.
//! 3. A child that exits is restarted by its `restart` type alone (one_for_one),
//!    counting against `max_restarts` per `max_seconds` as a supervisor's (exceeding
//!    shuts the supervisor down with `Shutdown`); a failed restart is retried through
//!    a message to self and counts again; a [`Backoff`](crate::supervisor::Backoff)
//!    delays it.
//! 4. [`terminate_child`] stops a child by pid (its shutdown as in
//!    [`supervisor`](crate::supervisor)) and forgets it; [`get_childspec`] gives a
//!    running child's spec by pid (as OTP's `simple_one_for_one` supervisors).
//! 5. On shutdown every child is signalled at once and the `Down`s are collected,
//!    killing those past their shutdown timeout, so that stopping thousands of
//!    children costs one round, not thousands of sequential waits.
//!
//! Departures: significant children and `auto_shutdown` are refused (Elixir's
//! DynamicSupervisor has none); `extra_arguments` is not provided (a start closure
//! captures what it needs).
//!
//! # Example
//!
//! ```
//! use beamlet::otp::dynamic_supervisor::{self, DynamicOptions};
//! use beamlet::otp::supervisor::ChildSpec;
//! use beamlet::{receive, spawn_link, Runtime};
//!
//! let rt = Runtime::builder().build().unwrap();
//! rt.block_on(|| {
//!     let sup = dynamic_supervisor::start_link(DynamicOptions::default()).unwrap();
//!     let spec = ChildSpec::worker("session", || spawn_link(|| loop { receive::<()>(); }));
//!     let a = dynamic_supervisor::start_child(sup, spec.clone()).unwrap().unwrap();
//!     let _b = dynamic_supervisor::start_child(sup, spec).unwrap().unwrap();
//!     assert_eq!(dynamic_supervisor::count_children(sup).unwrap().active, 2);
//!     dynamic_supervisor::terminate_child(sup, a).unwrap();
//!     assert_eq!(dynamic_supervisor::which_children(sup).unwrap().len(), 1);
//! }).unwrap();
//! rt.shutdown();
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use beamlet_runtime::{Exit, ExitReason, Message, Pid, self_pid, send, send_after};

/// How the functions below reach a dynamic supervisor: its handle or its name, and
/// a timeout (see [`SupRef`]).
pub use super::SupRef;
use super::report;
use super::{
    AutoShutdown, ChildCounts, ChildInfo, ChildKind, ChildPid, ChildSpec, Intensity, Response,
    SpecError, SupervisorError, add_restart, check, run_start, shutdown_all, shutdown_child,
};
use crate::behaviour::{CallError, StartError, StartOptions};
use crate::gen_server::{self, CallReply, Caller, GenServer, Init, NoReply, ServerRef};

/// A dynamic supervisor's settings; the default is Elixir's (3 restarts in 5
/// seconds, no limit on children).
///
/// ```
/// use beamlet::otp::dynamic_supervisor::DynamicOptions;
/// let o = DynamicOptions { max_children: Some(10), ..Default::default() };
/// assert_eq!((o.max_restarts, o.max_seconds), (3, 5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DynamicOptions {
    /// At most this many restarts ...
    pub max_restarts: u32,
    /// ... within this many seconds; one more shuts the supervisor down.
    pub max_seconds: u64,
    /// At most this many children (running or restarting); `None` for no limit.
    pub max_children: Option<usize>,
}

impl Default for DynamicOptions {
    fn default() -> Self {
        DynamicOptions {
            max_restarts: 3,
            max_seconds: 5,
            max_children: None,
        }
    }
}

/// A dynamic supervisor's requests (its `Call` type); use the module's functions.
///
/// ```
/// use beamlet::otp::dynamic_supervisor::DynRequest;
/// assert!(matches!(DynRequest::CountChildren, DynRequest::CountChildren));
/// ```
#[derive(Debug)]
pub enum DynRequest {
    /// [`start_child`].
    StartChild(ChildSpec),
    /// [`terminate_child`].
    TerminateChild(Pid),
    /// [`which_children`].
    WhichChildren,
    /// [`count_children`].
    CountChildren,
    /// [`get_childspec`].
    GetChildspec(Pid),
}

/// A dynamic supervisor's replies (its `Reply` type): a supervisor's
/// [`Response`], answered to `StartChild` with `Started`, to `TerminateChild` with
/// `Done`, to `WhichChildren` with `Children`, to `CountChildren` with `Counts` and
/// to `GetChildspec` with `Spec`.
///
/// ```
/// use beamlet::otp::dynamic_supervisor::DynResponse;
/// let r = DynResponse::Done(Ok(()));
/// assert!(matches!(r, DynResponse::Done(Ok(()))));
/// ```
pub type DynResponse = Response;

/// A backoff delay of the waiting child with this number has passed.
struct DelayedRestart(u64);

/// The restart of the waiting child with this number failed: try again.
struct RetryRestart(u64);

/// One child: its spec and bookkeeping. `seq` orders children by first start.
#[derive(Debug)]
struct Child {
    seq: u64,
    spec: ChildSpec,
    in_a_row: u32,
    started: Instant,
}

/// The dynamic supervisor's state; start one with [`start_link`].
///
/// ```
/// use beamlet::otp::dynamic_supervisor::{self, DynamicOptions, DynamicSupervisor};
/// use beamlet::otp::gen_server::ServerRef;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let sup = dynamic_supervisor::start_link(DynamicOptions::default()).unwrap();
///     assert!(dynamic_supervisor::which_children(sup).unwrap().is_empty());
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug)]
pub struct DynamicSupervisor {
    opts: DynamicOptions,
    running: HashMap<Pid, Child>,
    /// Children waiting for a restart (backoff or retry), by `seq`.
    waiting: BTreeMap<u64, Child>,
    next_seq: u64,
    restarts: VecDeque<Instant>,
}

impl GenServer for DynamicSupervisor {
    type Args = DynamicOptions;
    type Call = DynRequest;
    type Reply = DynResponse;
    type Cast = std::convert::Infallible;
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init(opts: DynamicOptions) -> Init<Self, ()> {
        beamlet_runtime::set_behaviour("dynamic_supervisor", std::any::type_name::<Self>());
        if opts.max_seconds == 0 {
            return Init::Stop(ExitReason::custom(SpecError::ZeroMaxSeconds));
        }
        Init::Ok(DynamicSupervisor {
            opts,
            running: HashMap::new(),
            waiting: BTreeMap::new(),
            next_seq: 0,
            restarts: VecDeque::new(),
        })
    }

    fn handle_call(
        &mut self,
        req: DynRequest,
        _: Caller<DynResponse>,
    ) -> CallReply<DynResponse, ()> {
        CallReply::Reply(match req {
            DynRequest::StartChild(spec) => DynResponse::Started(self.start_new(spec)),
            DynRequest::TerminateChild(pid) => DynResponse::Done(self.terminate_child(pid)),
            DynRequest::WhichChildren => DynResponse::Children(self.which()),
            DynRequest::CountChildren => DynResponse::Counts(self.count()),
            DynRequest::GetChildspec(pid) => DynResponse::Spec(self.childspec(pid)),
        })
    }

    fn handle_cast(&mut self, msg: std::convert::Infallible) -> NoReply<()> {
        match msg {}
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        let msg = match msg.downcast::<Exit>() {
            Ok(e) => return self.on_exit(e.from, e.reason),
            Err(m) => m,
        };
        let msg = match msg.downcast::<DelayedRestart>() {
            Ok(DelayedRestart(seq)) => return self.start_waiting(seq),
            Err(m) => m,
        };
        match msg.downcast::<RetryRestart>() {
            Ok(RetryRestart(seq)) if self.waiting.contains_key(&seq) => self.restart(seq),
            _ => NoReply::Ok,
        }
    }

    fn terminate(&mut self, _: &ExitReason) {
        let mut children: Vec<(&Child, Pid)> =
            self.running.iter().map(|(&pid, c)| (c, pid)).collect();
        // In start order rather than hash order, so that a shutdown sends its exit
        // signals in the same order in every run (a simulation replays it exactly).
        children.sort_by_key(|(c, _)| c.seq);
        let all: Vec<(Pid, _)> = children
            .iter()
            .map(|&(c, pid)| (pid, c.spec.shutdown))
            .collect();
        shutdown_all(&all);
        self.running.clear();
    }
}

impl DynamicSupervisor {
    fn start_new(&mut self, spec: ChildSpec) -> Result<Option<Pid>, SupervisorError> {
        // `Never` refuses significant children, which dynamic supervisors lack.
        check(&spec, AutoShutdown::Never).map_err(SupervisorError::Invalid)?;
        let size = self.running.len() + self.waiting.len();
        if self.opts.max_children.is_some_and(|max| size >= max) {
            return Err(SupervisorError::MaxChildren);
        }
        match run_start(&spec.start) {
            Ok(pid) => {
                let seq = self.next_seq;
                self.next_seq += 1;
                let started = beamlet_runtime::now();
                let child = Child {
                    seq,
                    spec,
                    in_a_row: 0,
                    started,
                };
                self.running.insert(pid, child);
                Ok(Some(pid))
            }
            Err(StartError::Ignore) => Ok(None),
            Err(e) => {
                report::start_error(&spec, &e);
                Err(SupervisorError::Start(e))
            }
        }
    }

    fn terminate_child(&mut self, pid: Pid) -> Result<(), SupervisorError> {
        let child = self.running.remove(&pid).ok_or(SupervisorError::NotFound)?;
        let reason = shutdown_child(pid, child.spec.shutdown);
        report::after_shutdown(&child.spec, pid, reason);
        Ok(())
    }

    /// A copy of a running child's spec (its start closure shared, not copied).
    fn childspec(&self, pid: Pid) -> Result<ChildSpec, SupervisorError> {
        let child = self.running.get(&pid).ok_or(SupervisorError::NotFound)?;
        Ok(child.spec.clone())
    }

    fn which(&self) -> Vec<ChildInfo> {
        let running = self
            .running
            .iter()
            .map(|(&pid, c)| (c, ChildPid::Running(pid)));
        let waiting = self.waiting.values().map(|c| (c, ChildPid::Restarting));
        let mut all: Vec<_> = running.chain(waiting).collect();
        all.sort_by_key(|(c, _)| c.seq);
        let info = |(c, pid): (&Child, ChildPid)| ChildInfo {
            id: c.spec.id.clone(),
            pid,
            kind: c.spec.kind,
        };
        all.into_iter().map(info).collect()
    }

    fn count(&self) -> ChildCounts {
        let mut counts = ChildCounts {
            specs: self.running.len() + self.waiting.len(),
            active: self.running.len(),
            ..ChildCounts::default()
        };
        for c in self.running.values().chain(self.waiting.values()) {
            match c.spec.kind {
                ChildKind::Supervisor => counts.supervisors += 1,
                ChildKind::Worker => counts.workers += 1,
            }
        }
        counts
    }

    fn on_exit(&mut self, pid: Pid, reason: ExitReason) -> NoReply<()> {
        let Some(mut child) = self.running.remove(&pid) else {
            return NoReply::Ok;
        };
        report::child_exited(&child.spec, pid, &reason);
        if !child.spec.restart.restarts_after(&reason) {
            return NoReply::Ok;
        }
        if child.spec.backoff_resets(child.started) {
            child.in_a_row = 0;
        }
        let seq = child.seq;
        self.waiting.insert(seq, child);
        self.restart(seq)
    }

    /// Counts a restart of waiting child `seq`, then starts it now or after its
    /// backoff delay.
    fn restart(&mut self, seq: u64) -> NoReply<()> {
        let period = Duration::from_secs(self.opts.max_seconds);
        let now = beamlet_runtime::now();
        if add_restart(&mut self.restarts, now, self.opts.max_restarts, period)
            == Intensity::Exceeded
        {
            if let Some(child) = self.waiting.get(&seq) {
                report::gave_up(&child.spec, None);
            }
            return NoReply::Stop(ExitReason::Shutdown);
        }
        let Some(child) = self.waiting.get_mut(&seq) else {
            return NoReply::Ok;
        };
        if let Some(backoff) = child.spec.backoff {
            let delay = backoff.delay(child.in_a_row);
            child.in_a_row = child.in_a_row.saturating_add(1);
            if delay > Duration::ZERO {
                send_after(delay, self_pid(), DelayedRestart(seq));
                return NoReply::Ok;
            }
        }
        self.start_waiting(seq)
    }

    /// Starts waiting child `seq`; a failure schedules a retry.
    fn start_waiting(&mut self, seq: u64) -> NoReply<()> {
        let Some(child) = self.waiting.get(&seq) else {
            return NoReply::Ok;
        };
        match run_start(&child.spec.start) {
            Ok(pid) => {
                let mut child = self.waiting.remove(&seq).expect("looked up above");
                child.started = beamlet_runtime::now();
                self.running.insert(pid, child);
            }
            Err(StartError::Ignore) => {
                self.waiting.remove(&seq);
            }
            Err(e) => {
                report::start_error(&child.spec, &e);
                let _ = send(self_pid(), RetryRestart(seq));
            }
        }
        NoReply::Ok
    }
}

/// Starts a dynamic supervisor linked to the caller. See the [module](self) example.
///
/// # Errors
///
/// As `gen_server::start_link`.
#[track_caller]
pub fn start_link(opts: DynamicOptions) -> Result<ServerRef<DynamicSupervisor>, StartError> {
    start_link_with(opts, StartOptions::new())
}

/// [`start_link`] with start options (a name, for example).
///
/// # Errors
///
/// As `gen_server::start_link`.
#[track_caller]
pub fn start_link_with(
    opts: DynamicOptions,
    start: StartOptions,
) -> Result<ServerRef<DynamicSupervisor>, StartError> {
    gen_server::start_link_with::<DynamicSupervisor>(opts, start)
}

/// Starts a child; returns its pid, or `None` if its start returned `Ignore`.
///
/// # Errors
///
/// `MaxChildren`, `Invalid` (a significant spec), `Start`, or `Call`.
///
/// ```
/// use beamlet::otp::dynamic_supervisor::{self, DynamicOptions};
/// use beamlet::otp::supervisor::{ChildSpec, SupervisorError};
/// use beamlet::{receive, spawn_link, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let opts = DynamicOptions { max_children: Some(1), ..Default::default() };
///     let sup = dynamic_supervisor::start_link(opts).unwrap();
///     let spec = ChildSpec::worker("w", || spawn_link(|| loop { receive::<()>(); }));
///     dynamic_supervisor::start_child(sup, spec.clone()).unwrap();
///     assert_eq!(dynamic_supervisor::start_child(sup, spec), Err(SupervisorError::MaxChildren));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn start_child(
    sup: impl Into<SupRef<DynamicSupervisor>>,
    spec: ChildSpec,
) -> Result<Option<Pid>, SupervisorError> {
    sup.into().call(DynRequest::StartChild(spec))?.started()
}

/// Stops the child `pid` and forgets it. See the [module](self) example.
///
/// # Errors
///
/// `NotFound` if `pid` is not a running child; `Call`.
pub fn terminate_child(
    sup: impl Into<SupRef<DynamicSupervisor>>,
    pid: Pid,
) -> Result<(), SupervisorError> {
    sup.into().call(DynRequest::TerminateChild(pid))?.done()
}

/// Every child (running or restarting), in order of first start; `id` is the label
/// of its spec.
///
/// # Errors
///
/// [`CallError`] if the supervisor does not answer.
///
/// See the [module](self) example.
pub fn which_children(
    sup: impl Into<SupRef<DynamicSupervisor>>,
) -> Result<Vec<ChildInfo>, CallError> {
    Ok(sup.into().call(DynRequest::WhichChildren)?.children())
}

/// Counts of children (`specs`: running or restarting), running ones, supervisors
/// and workers.
///
/// # Errors
///
/// [`CallError`] if the supervisor does not answer.
///
/// See the [module](self) example.
pub fn count_children(sup: impl Into<SupRef<DynamicSupervisor>>) -> Result<ChildCounts, CallError> {
    Ok(sup.into().call(DynRequest::CountChildren)?.counts())
}

/// The spec the running child `pid` was started from (as `supervisor:get_childspec/2`
/// on a `simple_one_for_one` supervisor, whose children are named by pid): a clone
/// sharing the start closure, as [`supervisor::get_childspec`](super::get_childspec).
///
/// # Errors
///
/// `NotFound` if `pid` is not a running child (one waiting for a restart has no
/// pid), or `Call`.
///
/// ```
/// use beamlet::otp::dynamic_supervisor::{self, DynamicOptions};
/// use beamlet::otp::supervisor::{ChildSpec, SupervisorError};
/// use beamlet::{receive, self_pid, spawn_link, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let sup = dynamic_supervisor::start_link(DynamicOptions::default()).unwrap();
///     let spec = ChildSpec::worker("session", || spawn_link(|| loop { receive::<()>(); }));
///     let pid = dynamic_supervisor::start_child(sup, spec).unwrap().unwrap();
///     assert_eq!(dynamic_supervisor::get_childspec(sup, pid).unwrap().id, "session");
///     let missing = dynamic_supervisor::get_childspec(sup, self_pid()).unwrap_err();
///     assert_eq!(missing, SupervisorError::NotFound);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn get_childspec(
    sup: impl Into<SupRef<DynamicSupervisor>>,
    pid: Pid,
) -> Result<ChildSpec, SupervisorError> {
    sup.into().call(DynRequest::GetChildspec(pid))?.spec()
}
