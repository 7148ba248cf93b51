//! Supervisors (as Erlang's `supervisor` and Elixir's `Supervisor`): processes that
//! start children, watch them, and restart them by a strategy.
//!
//! # The contract
//!
//! ```text
//! start_link(Children, Flags)          (or start_link_init(Init), Init running in
//!   │                                   the supervisor: SupervisorInit::Ok | Ignore)
//!   ├─ validate the specs: unique ids, significant only if transient/temporary and
//!   │  auto_shutdown is not Never           ── error: start fails, nothing started
//!   ├─ start each child in order, synchronously (its start function returns a pid
//!   │  linked to the supervisor)            ── a failure shuts down those already
//!   │                                          started (in reverse) and the start
//!   │                                          fails with {shutdown, FailedToStartChild}
//!   └─ loop (a GenServer trapping exits):
//!        Exit from a child ── restart by its Restart type and the Strategy,
//!                             counting against max_restarts per max_seconds
//!                             ── exceeded: shut down, exit with Shutdown
//!        Exit from the parent ─ shut down all children in reverse order, exit
//!        calls ─ start_child | terminate_child | restart_child | delete_child
//!                | which_children | count_children | get_childspec
//! ```
//!
//! # Rules
//!
//! 1. A child's `restart`: `Permanent` is always restarted; `Transient` only after
//!    an abnormal exit (not `Normal`, `Shutdown`, `ShutdownWith`); `Temporary` never
//!    (its spec is dropped once it terminates).
//! 2. Strategies: `OneForOne` restarts the child; `OneForAll` terminates the others
//!    (reverse order) and restarts all in order; `RestForOne` terminates and restarts
//!    the children started after it. Temporary siblings terminated by a group restart
//!    are not restarted.
//! 3. Intensity: more than `max_restarts` restarts within `max_seconds` (see
//!    [`add_restart`]) shut the supervisor down with reason `Shutdown`. A child whose
//!    restart fails is retried through a message to self (so the supervisor stays
//!    responsive), and each retry counts again.
//! 4. Shutdown of a child (see `shutdown`): `Shutdown` signal, wait up to its
//!    timeout, then `Kill`; `BrutalKill` kills at once; `Infinity` waits.
//! 5. `auto_shutdown`: when a significant child terminates on its own and is not
//!    restarted, `AnySignificant` shuts the supervisor down (reason `Shutdown`),
//!    `AllSignificant` does once no significant child is left running.
//! 6. With a [`Backoff`] a child's restart waits (`send_after`), longer each time in
//!    a row; meanwhile it is `Restarting`.
//! 7. The calls take the supervisor as a [`SupRef`]: its handle or a registered
//!    name, waiting for ever by default (OTP's `infinity`) or up to
//!    [`SupRef::timeout`]. A process of another behaviour (a dynamic supervisor, a
//!    plain server) answers a call at once with `CallError::WrongType`.
//!
//! Supervisors of children started on demand (Elixir's `DynamicSupervisor`) are in
//! [`dynamic`] (also [`dynamic_supervisor`](crate::dynamic_supervisor)); they share
//! the specs, the intensity, the shutdown and the replies of this module.
//!
//! # Departures from OTP
//!
//! - Children are given as a `Vec<ChildSpec>` with flags (Elixir's
//!   `Supervisor.start_link/2`); a module-style `init` is [`start_link_init`].
//! - The start function is a Rust closure returning a pid, not an MFA; there is no
//!   `modules` field (no hot code loading).
//! - [`which_children`] lists children in start order.
//! - Calls to a supervisor wait for ever, as OTP's (`infinity`).
//!
//! # Example
//!
//! ```
//! use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
//! use beamlet::{exit_pid, receive, spawn_link, sleep, ExitReason, Runtime};
//!
//! let rt = Runtime::builder().build().unwrap();
//! rt.block_on(|| {
//!     let worker = || spawn_link(|| loop { receive::<()>(); });
//!     let sup = supervisor::start_link(
//!         vec![ChildSpec::worker("w", worker)],
//!         SupervisorFlags::default(),
//!     ).unwrap();
//!     let before = supervisor::which_children(sup).unwrap()[0].pid.pid().unwrap();
//!     exit_pid(before, ExitReason::Kill);
//!     // The supervisor restarts it.
//!     loop {
//!         let now = supervisor::which_children(sup).unwrap()[0].pid.pid();
//!         if now.is_some_and(|p| p != before) { break; }
//!         sleep(std::time::Duration::from_millis(1));
//!     }
//! }).unwrap();
//! rt.shutdown();
//! ```

mod children;
pub mod dynamic;
mod intensity;
pub(crate) mod report;
mod server;
mod shutdown;
mod spec;
mod sup_ref;

use std::fmt;

use beamlet_runtime::Pid;

pub use intensity::{Intensity, add_restart};
pub use report::ReachedMaxRestartIntensity;
pub use server::{Request, Response, Supervisor, SupervisorArgs};
pub(crate) use shutdown::{shutdown_all, shutdown_child};
pub use spec::{
    AutoShutdown, Backoff, ChildKind, ChildSpec, Restart, Shutdown, SpecError, StartFn, Strategy,
    SupervisorFlags, validate,
};
pub(crate) use spec::{check, run_start, start_fn};
pub use sup_ref::SupRef;

use crate::behaviour::{CallError, StartError, StartOptions};
use crate::gen_server::{self, ServerRef};

/// What a module-style supervisor `init` returns (OTP's `{ok, {Flags, Specs}}` or
/// `ignore`).
///
/// ```
/// use beamlet::otp::supervisor::{SupervisorFlags, SupervisorInit};
/// let i = SupervisorInit::Ok(SupervisorFlags::default(), vec![]);
/// assert!(matches!(i, SupervisorInit::Ok(_, _)));
/// ```
#[derive(Debug)]
pub enum SupervisorInit {
    /// Supervise these children with these flags.
    Ok(SupervisorFlags, Vec<ChildSpec>),
    /// Do not start (the start returns `StartError::Ignore`).
    Ignore,
}

/// The reason payload of a supervisor whose child failed to start during its own
/// start (OTP's `{shutdown, {failed_to_start_child, Id, Reason}}`): the start fails
/// with `StartError::Stop(ExitReason::ShutdownWith(FailedToStartChild))`.
///
/// ```
/// use beamlet::otp::supervisor::{self, ChildSpec, FailedToStartChild, SupervisorFlags};
/// use beamlet::otp::{gen_server::StartError};
/// use beamlet::{ExitReason, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let bad = ChildSpec::worker("bad", || Err::<beamlet::Pid, _>(StartError::Stop(ExitReason::custom("no"))));
///     let err = supervisor::start_link(vec![bad], SupervisorFlags::default()).unwrap_err();
///     let failed = FailedToStartChild::of(&err).unwrap();
///     assert_eq!(failed.id, "bad");
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FailedToStartChild {
    /// The child's id.
    pub id: String,
    /// Why its start failed.
    pub error: StartError,
}

impl FailedToStartChild {
    /// The payload, if `err` is a supervisor start that failed this way.
    ///
    /// See [`FailedToStartChild`] for an example.
    pub fn of(err: &StartError) -> Option<&FailedToStartChild> {
        match err {
            StartError::Stop(beamlet_runtime::ExitReason::ShutdownWith(t)) => {
                t.as_any().downcast_ref()
            }
            _ => None,
        }
    }
}

/// Why a supervisor request failed.
///
/// ```
/// use beamlet::otp::supervisor::SupervisorError;
/// assert_eq!(SupervisorError::NotFound.to_string(), "not_found: no child with that id");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum SupervisorError {
    /// A child with that id exists, not running (`already_present`).
    AlreadyPresent,
    /// A child with that id is running (`already_started`).
    AlreadyStarted(Pid),
    /// No child with that id (or pid).
    NotFound,
    /// The child is running (it must be terminated first).
    Running,
    /// The child is being restarted.
    Restarting,
    /// The spec is invalid.
    Invalid(SpecError),
    /// The child's start failed.
    Start(StartError),
    /// A dynamic supervisor is at its `max_children`.
    MaxChildren,
    /// The supervisor did not answer.
    Call(CallError),
}

impl fmt::Display for SupervisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorError::AlreadyPresent => f.write_str("already_present: the child exists"),
            SupervisorError::AlreadyStarted(p) => write!(f, "already_started: running as {p}"),
            SupervisorError::NotFound => f.write_str("not_found: no child with that id"),
            SupervisorError::Running => f.write_str("running: terminate the child first"),
            SupervisorError::Restarting => f.write_str("restarting: the child is restarting"),
            SupervisorError::Invalid(e) => write!(f, "invalid child spec: {e}"),
            SupervisorError::Start(e) => write!(f, "the child failed to start: {e}"),
            SupervisorError::MaxChildren => f.write_str("max_children: no more children allowed"),
            SupervisorError::Call(e) => write!(f, "the supervisor did not answer: {e}"),
        }
    }
}

impl std::error::Error for SupervisorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SupervisorError::Invalid(e) => Some(e),
            SupervisorError::Start(e) => Some(e),
            SupervisorError::Call(e) => Some(e),
            _ => None,
        }
    }
}

impl std::convert::From<CallError> for SupervisorError {
    fn from(e: CallError) -> Self {
        SupervisorError::Call(e)
    }
}

/// A child's process, as [`which_children`] shows it.
///
/// ```
/// use beamlet::otp::supervisor::ChildPid;
/// assert_eq!(ChildPid::Undefined.pid(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildPid {
    /// Running as this process.
    Running(Pid),
    /// Not running (terminated, or its start returned `Ignore`).
    Undefined,
    /// Waiting to be restarted (a backoff delay or a failed restart to retry).
    Restarting,
}

impl ChildPid {
    /// The pid if running.
    ///
    /// See [`ChildPid`] for an example.
    pub fn pid(&self) -> Option<Pid> {
        match self {
            ChildPid::Running(p) => Some(*p),
            _ => None,
        }
    }
}

/// One child, as [`which_children`] lists it.
///
/// ```
/// use beamlet::otp::supervisor::{ChildInfo, ChildKind, ChildPid};
/// let c = ChildInfo { id: "w".into(), pid: ChildPid::Undefined, kind: ChildKind::Worker };
/// assert_eq!(c.pid.pid(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// Its id (empty for a dynamic supervisor's children, which have none).
    pub id: String,
    /// Its process.
    pub pid: ChildPid,
    /// Worker or supervisor.
    pub kind: ChildKind,
}

/// Children counts, as [`count_children`] gives them.
///
/// ```
/// use beamlet::otp::supervisor::ChildCounts;
/// assert_eq!(ChildCounts::default().active, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildCounts {
    /// All child specs, running or not.
    pub specs: usize,
    /// Children running.
    pub active: usize,
    /// Specs of kind supervisor, running or not.
    pub supervisors: usize,
    /// Specs of kind worker, running or not.
    pub workers: usize,
}

/// Starts a supervisor linked to the caller, with `children` started in order.
///
/// # Errors
///
/// `StartError::Stop` with a [`SpecError`] (as `Custom`) for invalid specs or a zero
/// `max_seconds`, with
/// [`FailedToStartChild`] (as `ShutdownWith`) if a child failed to start.
///
/// See the [module](self) example.
#[track_caller]
pub fn start_link(
    children: Vec<ChildSpec>,
    flags: SupervisorFlags,
) -> Result<ServerRef<Supervisor>, StartError> {
    start_link_with(children, flags, StartOptions::new())
}

/// [`start_link`] with start options (a name, for example).
///
/// # Errors
///
/// As [`start_link`].
#[track_caller]
pub fn start_link_with(
    children: Vec<ChildSpec>,
    flags: SupervisorFlags,
    opts: StartOptions,
) -> Result<ServerRef<Supervisor>, StartError> {
    start_link_init(move || SupervisorInit::Ok(flags, children), opts)
}

/// Starts a supervisor whose flags and children come from `init`, run inside the
/// supervisor process before any child starts (as a module's `init/1`).
///
/// # Errors
///
/// As [`start_link`]; `StartError::Ignore` if `init` returns `Ignore`.
///
/// ```
/// use beamlet::otp::supervisor::{self, SupervisorInit};
/// use beamlet::otp::gen_server::{StartError, StartOptions};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| supervisor::start_link_init(|| SupervisorInit::Ignore, StartOptions::new()).unwrap_err()).unwrap();
/// assert_eq!(r, StartError::Ignore);
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start_link_init(
    init: impl FnOnce() -> SupervisorInit + Send + 'static,
    opts: StartOptions,
) -> Result<ServerRef<Supervisor>, StartError> {
    gen_server::start_link_with::<Supervisor>(SupervisorArgs::new(init), opts)
}

/// Adds a child and starts it (as `supervisor:start_child/2`); returns its pid, or
/// `None` if its start returned `Ignore`.
///
/// # Errors
///
/// [`SupervisorError`]: the id exists, the spec is invalid, the start failed.
///
/// ```
/// use beamlet::otp::supervisor::{self, ChildSpec, SupervisorError, SupervisorFlags};
/// use beamlet::{receive, spawn_link, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let sup = supervisor::start_link(vec![], SupervisorFlags::default()).unwrap();
///     let spec = ChildSpec::worker("w", || spawn_link(|| loop { receive::<()>(); }));
///     let pid = supervisor::start_child(sup, spec.clone()).unwrap().unwrap();
///     assert_eq!(supervisor::start_child(sup, spec), Err(SupervisorError::AlreadyStarted(pid)));
///     supervisor::terminate_child(sup, "w").unwrap();
///     assert_eq!(supervisor::count_children(sup).unwrap().active, 0);
///     assert!(supervisor::restart_child(sup, "w").unwrap().is_some());
///     assert_eq!(supervisor::delete_child(sup, "w"), Err(SupervisorError::Running));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn start_child(
    sup: impl Into<SupRef<Supervisor>>,
    spec: ChildSpec,
) -> Result<Option<Pid>, SupervisorError> {
    sup.into().call(Request::StartChild(spec))?.started()
}

/// Terminates a child (see the module's shutdown rule); its spec stays unless it is
/// temporary (as `supervisor:terminate_child/2`).
///
/// # Errors
///
/// `NotFound`, or `Call`.
///
/// See [`start_child`] for an example.
pub fn terminate_child(
    sup: impl Into<SupRef<Supervisor>>,
    id: &str,
) -> Result<(), SupervisorError> {
    sup.into()
        .call(Request::TerminateChild(id.to_owned()))?
        .done()
}

/// Starts again a terminated child that still has its spec (as
/// `supervisor:restart_child/2`).
///
/// # Errors
///
/// `NotFound`, `Running`, `Restarting`, `Start`, or `Call`.
///
/// See [`start_child`] for an example.
pub fn restart_child(
    sup: impl Into<SupRef<Supervisor>>,
    id: &str,
) -> Result<Option<Pid>, SupervisorError> {
    sup.into()
        .call(Request::RestartChild(id.to_owned()))?
        .started()
}

/// Removes the spec of a terminated child (as `supervisor:delete_child/2`).
///
/// # Errors
///
/// `NotFound`, `Running`, `Restarting`, or `Call`.
///
/// See [`start_child`] for an example.
pub fn delete_child(sup: impl Into<SupRef<Supervisor>>, id: &str) -> Result<(), SupervisorError> {
    sup.into().call(Request::DeleteChild(id.to_owned()))?.done()
}

/// Every child: id, process (or undefined, or restarting), kind; in start order.
///
/// # Errors
///
/// [`CallError`] if the supervisor does not answer.
///
/// See the [module](self) example.
pub fn which_children(sup: impl Into<SupRef<Supervisor>>) -> Result<Vec<ChildInfo>, CallError> {
    Ok(sup.into().call(Request::WhichChildren)?.children())
}

/// Counts of specs, running children, supervisors and workers.
///
/// # Errors
///
/// [`CallError`] if the supervisor does not answer.
///
/// See [`start_child`] for an example.
pub fn count_children(sup: impl Into<SupRef<Supervisor>>) -> Result<ChildCounts, CallError> {
    Ok(sup.into().call(Request::CountChildren)?.counts())
}

/// The spec of the child `id` (as `supervisor:get_childspec/2`), as the supervisor
/// holds it: OTP returns the spec as a map; here it is the [`ChildSpec`] itself, a
/// clone whose start closure is shared with the supervisor's (a [`StartFn`] is
/// reference-counted), so it can be given to another supervisor's
/// [`start_child`]. A terminated child keeps its spec unless it is temporary.
///
/// # Errors
///
/// `NotFound` if no child has that id (OTP's `{error, not_found}`), or `Call`.
///
/// ```
/// use beamlet::otp::supervisor::{self, ChildSpec, Restart, SupervisorError, SupervisorFlags};
/// use beamlet::{receive, spawn_link, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let spec = ChildSpec::worker("w", || spawn_link(|| loop { receive::<()>(); }))
///         .restart(Restart::Transient);
///     let sup = supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
///     let got = supervisor::get_childspec(sup, "w").unwrap();
///     assert_eq!((got.id.as_str(), got.restart), ("w", Restart::Transient));
///     assert_eq!(supervisor::get_childspec(sup, "x").unwrap_err(), SupervisorError::NotFound);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn get_childspec(
    sup: impl Into<SupRef<Supervisor>>,
    id: &str,
) -> Result<ChildSpec, SupervisorError> {
    sup.into()
        .call(Request::GetChildspec(id.to_owned()))?
        .spec()
}
