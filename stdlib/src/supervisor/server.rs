//! The supervisor process: a [`GenServer`] trapping exits (the rules are in the
//! parent module's header).
//!
//! 1. `init` validates the specs and starts the children in order; a failure stops
//!    those started and fails the start.
//! 2. `handle_info` takes children's `Exit`s (restart decision), delayed restarts
//!    (backoff timers) and retries of failed restarts.
//! 3. `handle_call` serves the run-time API.
//! 4. `terminate` stops every child in reverse start order.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use beamlet_runtime::{Exit, ExitReason, Message, Pid, self_pid, send, send_after};

use super::children::{Child, Children};
use super::report;
use super::{
    ChildCounts, ChildInfo, ChildKind, ChildPid, ChildSpec, FailedToStartChild, Intensity, Restart,
    SpecError, Strategy, SupervisorError, SupervisorFlags, SupervisorInit, add_restart, check,
    run_start, shutdown_child, validate,
};
use crate::behaviour::StartError;
use crate::gen_server::{CallReply, Caller, GenServer, Init, NoReply};

/// What [`Supervisor`] starts from: a function run in the supervisor process.
///
/// ```
/// use beamlet::otp::supervisor::{SupervisorArgs, SupervisorInit};
/// let _args = SupervisorArgs::new(|| SupervisorInit::Ignore);
/// ```
pub struct SupervisorArgs(Box<dyn FnOnce() -> SupervisorInit + Send>);

impl SupervisorArgs {
    /// Wraps a module-style `init`.
    ///
    /// ```
    /// use beamlet::otp::supervisor::{SupervisorArgs, SupervisorInit};
    /// let _args = SupervisorArgs::new(|| SupervisorInit::Ignore);
    /// ```
    pub fn new(init: impl FnOnce() -> SupervisorInit + Send + 'static) -> SupervisorArgs {
        SupervisorArgs(Box::new(init))
    }
}

impl fmt::Debug for SupervisorArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SupervisorArgs(..)")
    }
}

/// A supervisor's requests (its `Call` type); use the module's functions.
///
/// ```
/// use beamlet::otp::supervisor::Request;
/// let r = Request::TerminateChild("a".into());
/// assert!(matches!(r, Request::TerminateChild(_)));
/// ```
#[derive(Debug)]
pub enum Request {
    /// [`start_child`](super::start_child).
    StartChild(ChildSpec),
    /// [`terminate_child`](super::terminate_child).
    TerminateChild(String),
    /// [`restart_child`](super::restart_child).
    RestartChild(String),
    /// [`delete_child`](super::delete_child).
    DeleteChild(String),
    /// [`which_children`](super::which_children).
    WhichChildren,
    /// [`count_children`](super::count_children).
    CountChildren,
    /// [`get_childspec`](super::get_childspec).
    GetChildspec(String),
}

/// A supervisor's replies (its `Reply` type), and a dynamic supervisor's
/// ([`DynResponse`](super::dynamic::DynResponse) is this type).
///
/// ```
/// use beamlet::otp::supervisor::Response;
/// assert!(matches!(Response::Done(Ok(())), Response::Done(Ok(()))));
/// ```
#[derive(Debug)]
pub enum Response {
    /// To `StartChild` and `RestartChild`.
    Started(Result<Option<Pid>, SupervisorError>),
    /// To `TerminateChild` and `DeleteChild`.
    Done(Result<(), SupervisorError>),
    /// To `WhichChildren`.
    Children(Vec<ChildInfo>),
    /// To `CountChildren`.
    Counts(ChildCounts),
    /// To `GetChildspec`.
    Spec(Result<ChildSpec, SupervisorError>),
}

/// The reply a request is answered with, taken out by the calling functions; any
/// other is a bug in the supervisor.
impl Response {
    pub(crate) fn started(self) -> Result<Option<Pid>, SupervisorError> {
        match self {
            Response::Started(r) => r,
            other => unreachable!("a start is answered with Started, not {other:?}"),
        }
    }

    pub(crate) fn done(self) -> Result<(), SupervisorError> {
        match self {
            Response::Done(r) => r,
            other => unreachable!("a termination is answered with Done, not {other:?}"),
        }
    }

    pub(crate) fn children(self) -> Vec<ChildInfo> {
        match self {
            Response::Children(c) => c,
            other => unreachable!("which_children is answered with Children, not {other:?}"),
        }
    }

    pub(crate) fn counts(self) -> ChildCounts {
        match self {
            Response::Counts(c) => c,
            other => unreachable!("count_children is answered with Counts, not {other:?}"),
        }
    }

    pub(crate) fn spec(self) -> Result<ChildSpec, SupervisorError> {
        match self {
            Response::Spec(r) => r,
            other => unreachable!("get_childspec is answered with Spec, not {other:?}"),
        }
    }
}

/// A backoff delay has passed: start the child's group.
struct DelayedRestart(String);

/// A restart failed: try again (counting against the intensity).
struct RetryRestart(String);

/// The supervisor's state; start one with [`start_link`](super::start_link).
///
/// ```
/// use beamlet::otp::supervisor::{self, Supervisor, SupervisorFlags};
/// use beamlet::otp::gen_server::ServerRef;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let sup: ServerRef<Supervisor> = supervisor::start_link(vec![], SupervisorFlags::default()).unwrap();
///     assert_eq!(supervisor::count_children(sup).unwrap().specs, 0);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug)]
pub struct Supervisor {
    flags: SupervisorFlags,
    children: Children,
    restarts: VecDeque<Instant>,
}

impl GenServer for Supervisor {
    type Args = SupervisorArgs;
    type Call = Request;
    type Reply = Response;
    type Cast = std::convert::Infallible;
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init(args: SupervisorArgs) -> Init<Self, ()> {
        beamlet_runtime::set_behaviour("supervisor", std::any::type_name::<Self>());
        let (flags, specs) = match (args.0)() {
            SupervisorInit::Ok(flags, specs) => (flags, specs),
            SupervisorInit::Ignore => return Init::Ignore,
        };
        if flags.max_seconds == 0 {
            return Init::Stop(ExitReason::custom(SpecError::ZeroMaxSeconds));
        }
        if let Err(e) = validate(&specs, flags.auto_shutdown) {
            return Init::Stop(ExitReason::custom(e));
        }
        let mut sup = Supervisor {
            flags,
            children: Children::with_capacity(specs.len()),
            restarts: VecDeque::new(),
        };
        for spec in specs {
            if let Err(error) = sup.add_started(spec) {
                sup.terminate_all();
                return Init::Stop(ExitReason::shutdown_with(error));
            }
        }
        Init::Ok(sup)
    }

    fn handle_call(&mut self, req: Request, _: Caller<Response>) -> CallReply<Response, ()> {
        CallReply::Reply(match req {
            Request::StartChild(spec) => Response::Started(self.start_new(spec)),
            Request::TerminateChild(id) => Response::Done(self.terminate_child(&id)),
            Request::RestartChild(id) => Response::Started(self.restart_child(&id)),
            Request::DeleteChild(id) => Response::Done(self.delete_child(&id)),
            Request::WhichChildren => Response::Children(self.which()),
            Request::CountChildren => Response::Counts(self.count()),
            Request::GetChildspec(id) => Response::Spec(self.childspec(&id)),
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
            Ok(DelayedRestart(id)) => return self.on_delayed(&id),
            Err(m) => m,
        };
        match msg.downcast::<RetryRestart>() {
            Ok(RetryRestart(id)) => self.on_retry(&id),
            // OTP's supervisor logs and drops unexpected messages.
            Err(_) => NoReply::Ok,
        }
    }

    fn terminate(&mut self, _: &ExitReason) {
        self.terminate_all();
    }
}

impl Supervisor {
    fn index(&self, id: &str) -> Option<usize> {
        self.children.index(id)
    }

    /// Starts `spec` and appends it (at supervisor start). An ignored child is kept
    /// without a pid, unless temporary.
    fn add_started(&mut self, spec: ChildSpec) -> Result<(), FailedToStartChild> {
        let pid = match run_start(&spec.start) {
            Ok(pid) => ChildPid::Running(pid),
            Err(StartError::Ignore) if spec.restart == Restart::Temporary => return Ok(()),
            Err(StartError::Ignore) => ChildPid::Undefined,
            Err(error) => {
                report::start_error(&spec, &error);
                let id = spec.id.clone();
                return Err(FailedToStartChild { id, error });
            }
        };
        self.children.push(Child::new(spec, pid));
        Ok(())
    }

    /// Stops every running child, in reverse start order.
    fn terminate_all(&mut self) {
        for i in (0..self.children.len()).rev() {
            let child = self.children.get(i);
            if let ChildPid::Running(pid) = child.pid() {
                let reason = shutdown_child(pid, child.spec.shutdown);
                report::after_shutdown(&child.spec, pid, reason);
                self.children.set_pid(i, ChildPid::Undefined);
            }
        }
    }

    fn start_new(&mut self, spec: ChildSpec) -> Result<Option<Pid>, SupervisorError> {
        check(&spec, self.flags.auto_shutdown).map_err(SupervisorError::Invalid)?;
        if let Some(i) = self.index(&spec.id) {
            return Err(match self.children.get(i).pid() {
                ChildPid::Running(pid) => SupervisorError::AlreadyStarted(pid),
                _ => SupervisorError::AlreadyPresent,
            });
        }
        let id = spec.id.clone();
        match self.add_started(spec) {
            Ok(()) => Ok(self
                .index(&id)
                .and_then(|i| self.children.get(i).pid().pid())),
            Err(failed) => Err(SupervisorError::Start(failed.error)),
        }
    }

    fn terminate_child(&mut self, id: &str) -> Result<(), SupervisorError> {
        let i = self.index(id).ok_or(SupervisorError::NotFound)?;
        let child = self.children.get(i);
        if let ChildPid::Running(pid) = child.pid() {
            let reason = shutdown_child(pid, child.spec.shutdown);
            report::after_shutdown(&child.spec, pid, reason);
        }
        self.children.set_pid(i, ChildPid::Undefined);
        if self.children.get(i).spec.restart == Restart::Temporary {
            self.children.remove(i);
        }
        Ok(())
    }

    fn restart_child(&mut self, id: &str) -> Result<Option<Pid>, SupervisorError> {
        let i = self.index(id).ok_or(SupervisorError::NotFound)?;
        match self.children.get(i).pid() {
            ChildPid::Running(_) => return Err(SupervisorError::Running),
            ChildPid::Restarting => return Err(SupervisorError::Restarting),
            ChildPid::Undefined => {}
        }
        match run_start(&self.children.get(i).spec.start) {
            Ok(pid) => {
                self.children.set_pid(i, ChildPid::Running(pid));
                self.children.get_mut(i).started = beamlet_runtime::now();
                Ok(Some(pid))
            }
            Err(StartError::Ignore) => Ok(None),
            Err(e) => {
                report::start_error(&self.children.get(i).spec, &e);
                Err(SupervisorError::Start(e))
            }
        }
    }

    fn delete_child(&mut self, id: &str) -> Result<(), SupervisorError> {
        let i = self.index(id).ok_or(SupervisorError::NotFound)?;
        match self.children.get(i).pid() {
            ChildPid::Running(_) => Err(SupervisorError::Running),
            ChildPid::Restarting => Err(SupervisorError::Restarting),
            ChildPid::Undefined => {
                self.children.remove(i);
                Ok(())
            }
        }
    }

    /// A copy of the spec (its start closure shared, not copied).
    fn childspec(&self, id: &str) -> Result<ChildSpec, SupervisorError> {
        let i = self.index(id).ok_or(SupervisorError::NotFound)?;
        Ok(self.children.get(i).spec.clone())
    }

    fn which(&self) -> Vec<ChildInfo> {
        let info = |c: &Child| ChildInfo {
            id: c.spec.id.clone(),
            pid: c.pid(),
            kind: c.spec.kind,
        };
        self.children.iter().map(info).collect()
    }

    fn count(&self) -> ChildCounts {
        let mut counts = ChildCounts {
            specs: self.children.len(),
            ..ChildCounts::default()
        };
        for c in self.children.iter() {
            counts.active += usize::from(matches!(c.pid(), ChildPid::Running(_)));
            match c.spec.kind {
                ChildKind::Supervisor => counts.supervisors += 1,
                ChildKind::Worker => counts.workers += 1,
            }
        }
        counts
    }

    /// A child exited on its own: restart it (and its group) or not.
    fn on_exit(&mut self, pid: Pid, reason: ExitReason) -> NoReply<()> {
        let Some(i) = self.children.index_of_pid(pid) else {
            // Not a child (any more): nothing to do.
            return NoReply::Ok;
        };
        self.children.set_pid(i, ChildPid::Undefined);
        let child = self.children.get_mut(i);
        report::child_exited(&child.spec, pid, &reason);
        if !child.spec.restart.restarts_after(&reason) {
            let significant = child.spec.significant;
            if child.spec.restart == Restart::Temporary {
                self.children.remove(i);
            }
            return self.auto_shutdown(significant);
        }
        // A child that ran long enough starts its backoff afresh.
        if child.spec.backoff_resets(child.started) {
            child.in_a_row = 0;
        }
        self.restart(i)
    }

    /// Shuts the supervisor down if a significant child's termination calls for it.
    fn auto_shutdown(&self, significant: bool) -> NoReply<()> {
        use super::AutoShutdown::*;
        let running = |c: &Child| c.spec.significant && matches!(c.pid(), ChildPid::Running(_));
        match (significant, self.flags.auto_shutdown) {
            (true, AnySignificant) => NoReply::Stop(ExitReason::Shutdown),
            (true, AllSignificant) if !self.children.iter().any(running) => {
                NoReply::Stop(ExitReason::Shutdown)
            }
            _ => NoReply::Ok,
        }
    }

    /// Counts a restart, stops the rest of the child's group, and starts the group
    /// now or after the child's backoff delay.
    fn restart(&mut self, i: usize) -> NoReply<()> {
        let (max, period) = (self.flags.max_restarts, self.flags.period());
        if add_restart(&mut self.restarts, beamlet_runtime::now(), max, period)
            == Intensity::Exceeded
        {
            report::gave_up(&self.children.get(i).spec, None);
            return NoReply::Stop(ExitReason::Shutdown);
        }
        let id = self.children.get(i).spec.id.clone();
        self.stop_group(i);
        let delay = self.next_delay(&id);
        if delay > Duration::ZERO {
            send_after(delay, self_pid(), DelayedRestart(id));
            return NoReply::Ok;
        }
        self.start_group(&id)
    }

    /// The indices restarted with child `i`, in start order.
    fn group(&self, i: usize) -> std::ops::Range<usize> {
        match self.flags.strategy {
            Strategy::OneForOne => i..i + 1,
            Strategy::OneForAll => 0..self.children.len(),
            Strategy::RestForOne => i..self.children.len(),
        }
    }

    /// Terminates the running members of child `i`'s group in reverse order, drops
    /// the temporary ones, and marks the rest `Restarting`.
    fn stop_group(&mut self, i: usize) {
        let group = self.group(i);
        for j in group.clone().rev() {
            let child = self.children.get(j);
            if let ChildPid::Running(pid) = child.pid() {
                let reason = shutdown_child(pid, child.spec.shutdown);
                report::after_shutdown(&child.spec, pid, reason);
            }
            self.children.set_pid(j, ChildPid::Restarting);
        }
        let mut j = group.start;
        let mut end = group.end;
        while j < end {
            if self.children.get(j).spec.restart == Restart::Temporary {
                self.children.remove(j);
                end -= 1;
            } else {
                j += 1;
            }
        }
    }

    /// The backoff delay before restarting `id`, counting this restart.
    fn next_delay(&mut self, id: &str) -> Duration {
        let Some(i) = self.index(id) else {
            return Duration::ZERO;
        };
        let child = self.children.get_mut(i);
        let Some(backoff) = child.spec.backoff else {
            return Duration::ZERO;
        };
        let delay = backoff.delay(child.in_a_row);
        child.in_a_row = child.in_a_row.saturating_add(1);
        delay
    }

    /// Starts, in order, the members of `id`'s group that wait to be restarted. A
    /// failure leaves it and the rest `Restarting` and schedules a retry.
    fn start_group(&mut self, id: &str) -> NoReply<()> {
        let Some(i) = self.index(id) else {
            return NoReply::Ok;
        };
        for j in self.group(i) {
            let child = self.children.get(j);
            if child.pid() != ChildPid::Restarting {
                continue;
            }
            match run_start(&child.spec.start) {
                Ok(pid) => {
                    self.children.set_pid(j, ChildPid::Running(pid));
                    self.children.get_mut(j).started = beamlet_runtime::now();
                }
                Err(StartError::Ignore) => self.children.set_pid(j, ChildPid::Undefined),
                Err(e) => {
                    report::start_error(&child.spec, &e);
                    let _ = send(self_pid(), RetryRestart(child.spec.id.clone()));
                    return NoReply::Ok;
                }
            }
        }
        NoReply::Ok
    }

    fn on_delayed(&mut self, id: &str) -> NoReply<()> {
        match self.index(id) {
            Some(i) if self.children.get(i).pid() == ChildPid::Restarting => self.start_group(id),
            // Terminated or deleted meanwhile.
            _ => NoReply::Ok,
        }
    }

    fn on_retry(&mut self, id: &str) -> NoReply<()> {
        match self.index(id) {
            Some(i) if self.children.get(i).pid() == ChildPid::Restarting => self.restart(i),
            _ => NoReply::Ok,
        }
    }
}
