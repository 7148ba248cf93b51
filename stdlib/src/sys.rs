//! System messages (as OTP's `sys`): every [`GenServer`](crate::gen_server::GenServer)
//! (and so every supervisor), every state machine and every event manager answers
//! them inside its generic loop, whatever its callbacks.
//!
//! 1. Each function is a call (see [`behaviour`]) carrying a system message
//!    with a [`DEFAULT_CALL_TIMEOUT`].
//! 2. The loop handles the message itself; callbacks do not see it.
//! 3. While suspended a server takes only system messages (and its parent's `Exit`);
//!    everything else waits in its mailbox until [`resume`].
//! 4. [`get_state`] and [`replace_state`] run a closure on the state inside the
//!    server. A panic in it is a panic in the server: `terminate` runs and the server
//!    exits with `Panic` (OTP would keep the server and return an error; with a
//!    `&mut` state a half-done change could not be undone).
//!
//! `get_state` requires the state to be `Clone`: it is cloned in the server and sent
//! back. The typed [`get_state`] and [`replace_state`] take a [`StateHandle`], which
//! each behaviour implements next to its handle type (gen_server's `ServerRef`); a
//! behaviour whose state is shaped otherwise offers its own (as gen_statem's
//! `get_state`) over the same system message.
//! Statistics are always kept (OTP needs `sys:statistics(Name, true)` first).
//! [`get_status`] tells what a process runs (the behaviour it announced with the
//! runtime's `set_behaviour`, its callback type), whether it is suspended, and its
//! state as the behaviour's `format_status` shows it.

use std::any::Any;
use std::time::Instant;

use beamlet_runtime::{ExitReason, Headed, Pid};

use crate::behaviour::{self, CallError, CallHead, Caller, DEFAULT_CALL_TIMEOUT};

/// A typed handle on a process whose generic loop keeps a state of type
/// [`State`](StateHandle::State), which [`get_state`] and [`replace_state`] reach:
/// gen_server's `ServerRef<S>` (with `State = S`). Implemented by the behaviours of
/// this crate only (sealed).
///
/// ```
/// use beamlet::otp::gen_server::{GenServer, Init, ServerRef};
/// use beamlet::otp::sys::StateHandle;
/// struct Nop;
/// impl GenServer for Nop {
///     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
///     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
/// }
/// fn state_of<H: StateHandle<State = Nop>>(_: H) {}
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| state_of(ServerRef::<Nop>::from_pid(beamlet::self_pid()))).unwrap();
/// rt.shutdown();
/// ```
pub trait StateHandle: Copy + Into<Pid> + sealed::Sealed {
    /// The state the closures of [`get_state`] and [`replace_state`] run on.
    type State: Send + 'static;
}

pub(crate) mod sealed {
    /// Keeps [`StateHandle`](super::StateHandle) to this crate's handles: public in a
    /// module no other crate can name.
    pub trait Sealed {}
}

/// A system message.
pub(crate) struct SysMsg {
    pub(crate) from: Caller<SysReply>,
    pub(crate) op: SysOp,
}

impl Headed for SysMsg {
    type Head = CallHead;
    fn head(&self) -> CallHead {
        self.from.head::<SysMsg>()
    }
}

/// A closure run on the state; `None` if the state is not of the expected type.
pub(crate) type StateFn = Box<dyn FnOnce(&mut dyn Any) -> Option<Box<dyn Any + Send>> + Send>;

/// What a system message asks.
pub(crate) enum SysOp {
    Suspend,
    Resume,
    Statistics,
    State(StateFn),
    Status,
    Stop(ExitReason),
}

/// The answer to a system message.
pub(crate) enum SysReply {
    Done,
    Statistics(Statistics),
    State(Option<Box<dyn Any + Send>>),
    Status(SysStatus),
}

/// Counters of a server (as `sys:statistics/2`).
///
/// ```
/// # use beamlet::otp::gen_server::{self, GenServer, Init};
/// # struct Nop;
/// # impl GenServer for Nop {
/// #     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
/// #     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link::<Nop>(()).unwrap();
///     beamlet::send(s.pid(), "to handle_info").unwrap();
///     let stats = beamlet::otp::sys::statistics(s).unwrap();
///     assert_eq!(stats.messages_handled, 1);
///     assert_eq!(stats.message_queue_len, 0);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statistics {
    /// Calls, casts and other messages handled (system messages excluded).
    pub messages_handled: u64,
    /// Messages waiting in the server's mailbox when it answered.
    pub message_queue_len: usize,
    /// When the server finished `init`.
    pub started: Instant,
    /// Whether it is suspended.
    pub suspended: bool,
}

/// A system request that touches the behaviour's own state, left to the behaviour by
/// [`answer`].
pub(crate) enum OwnRequest {
    /// Run the closure on the state.
    State(StateFn),
    /// Describe the behaviour and its state ([`get_status`]).
    Status,
    /// Terminate with the reason.
    Stop(ExitReason),
}

/// Answers the part of a system message every behaviour answers alike (suspension and
/// statistics) from its counters: the number of messages it `handled`, when it
/// `started` and whether it is `suspended`; hands back the requests on its own state.
pub(crate) fn answer(
    op: SysOp,
    suspended: &mut bool,
    handled: u64,
    started: Instant,
) -> Result<SysReply, OwnRequest> {
    match op {
        SysOp::Suspend | SysOp::Resume => {
            *suspended = matches!(op, SysOp::Suspend);
            Ok(SysReply::Done)
        }
        SysOp::Statistics => Ok(SysReply::Statistics(Statistics {
            messages_handled: handled,
            message_queue_len: beamlet_runtime::message_queue_len(),
            started,
            suspended: *suspended,
        })),
        SysOp::State(f) => Err(OwnRequest::State(f)),
        SysOp::Status => Err(OwnRequest::Status),
        SysOp::Stop(reason) => Err(OwnRequest::Stop(reason)),
    }
}

fn sys_call(server: Pid, op: SysOp) -> Result<SysReply, CallError> {
    behaviour::call_server(
        server,
        |from| SysMsg { from, op },
        Some(DEFAULT_CALL_TIMEOUT),
    )
}

/// Suspends a server: until [`resume`] it handles only system messages; calls to it
/// time out, other messages wait in its mailbox.
///
/// # Errors
///
/// [`CallError`] if the server does not answer.
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_server::{self, CallError, CallReply, Caller, GenServer, Init};
/// # struct Echo;
/// # impl GenServer for Echo {
/// #     type Args = (); type Call = u8; type Reply = u8; type Cast = (); type Continue = ();
/// #     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Echo) }
/// #     fn handle_call(&mut self, n: u8, _: Caller<u8>) -> CallReply<u8, ()> { CallReply::Reply(n) }
/// # }
/// use beamlet::otp::sys;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link::<Echo>(()).unwrap();
///     sys::suspend(s).unwrap();
///     assert_eq!(gen_server::call_timeout(s, 1, Duration::from_millis(20)), Err(CallError::Timeout));
///     sys::resume(s).unwrap();
///     assert_eq!(gen_server::call(s, 2), Ok(2));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn suspend(server: impl Into<Pid>) -> Result<(), CallError> {
    set_suspended(server.into(), true, DEFAULT_CALL_TIMEOUT)
}

/// Resumes a suspended server (see [`suspend`]).
///
/// # Errors
///
/// [`CallError`] if the server does not answer.
///
/// See [`suspend`] for an example.
pub fn resume(server: impl Into<Pid>) -> Result<(), CallError> {
    set_suspended(server.into(), false, DEFAULT_CALL_TIMEOUT)
}

/// [`suspend`] (`on`) or [`resume`], waiting at most `timeout` (the observer's
/// actions wait less than the default).
pub(crate) fn set_suspended(
    server: Pid,
    on: bool,
    timeout: std::time::Duration,
) -> Result<(), CallError> {
    let op = if on { SysOp::Suspend } else { SysOp::Resume };
    behaviour::call_server(server, |from| SysMsg { from, op }, Some(timeout)).map(|_| ())
}

/// The server's [`Statistics`].
///
/// # Errors
///
/// [`CallError`] if the server does not answer.
///
/// See [`Statistics`] for an example.
pub fn statistics(server: impl Into<Pid>) -> Result<Statistics, CallError> {
    match sys_call(server.into(), SysOp::Statistics)? {
        SysReply::Statistics(s) => Ok(s),
        _ => unreachable!("a statistics request gets statistics"),
    }
}

/// What [`get_status`] tells of a behaviour's process (as OTP's `sys:get_status/1`).
///
/// ```
/// # use beamlet::otp::gen_server::{self, GenServer, Init};
/// #[derive(Debug)]
/// struct Cell(u32);
/// impl GenServer for Cell {
///     type Args = u32; type Call = (); type Reply = (); type Cast = (); type Continue = ();
///     fn init(n: u32) -> Init<Self, ()> { Init::Ok(Cell(n)) }
///     fn format_status(&self) -> String { format!("{self:?}") }
/// }
/// use beamlet::otp::sys;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link::<Cell>(1).unwrap();
///     let status = sys::get_status(s).unwrap();
///     assert_eq!(status.kind, "gen_server");
///     assert!(status.module.ends_with("Cell"));
///     assert!(!status.suspended);
///     assert_eq!(status.state.as_deref(), Some("Cell(1)"));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SysStatus {
    /// The behaviour: `"gen_server"`, `"supervisor"`, `"dynamic_supervisor"`,
    /// `"gen_statem"`, `"gen_event"`, `"agent"`, `"registry"`...
    pub kind: &'static str,
    /// The callback type (its `std::any::type_name`), as OTP's callback module.
    pub module: &'static str,
    /// Whether it is suspended ([`suspend`]).
    pub suspended: bool,
    /// The state as the behaviour's `format_status` shows it (a GenServer's
    /// [`format_status`](crate::gen_server::GenServer::format_status), a state
    /// machine's); `None` where there is no one state to show (an event manager).
    pub state: Option<String>,
}

/// The status of a behaviour's process: its kind, callback type, suspension and
/// state text (see [`SysStatus`] for an example).
///
/// # Errors
///
/// [`CallError`] if the server does not answer within [`DEFAULT_CALL_TIMEOUT`]. A
/// plain process never answers system messages: bound the wait with
/// [`get_status_timeout`] when the process may not be a behaviour.
pub fn get_status(server: impl Into<Pid>) -> Result<SysStatus, CallError> {
    get_status_timeout(server, DEFAULT_CALL_TIMEOUT)
}

/// [`get_status`], waiting at most `timeout` for the answer.
///
/// # Errors
///
/// [`CallError`] if the server does not answer in time (`Timeout`), is not alive
/// (`NoProc`) or exits meanwhile.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::{sys, CallError};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     // A plain process does not answer system messages.
///     let plain = beamlet::spawn(|| beamlet::sleep(Duration::from_secs(1))).unwrap();
///     let r = sys::get_status_timeout(plain, Duration::from_millis(10));
///     assert_eq!(r, Err(CallError::Timeout));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn get_status_timeout(
    server: impl Into<Pid>,
    timeout: std::time::Duration,
) -> Result<SysStatus, CallError> {
    let server = server.into();
    let reply = behaviour::call_server(
        server,
        |from| SysMsg {
            from,
            op: SysOp::Status,
        },
        Some(timeout),
    )?;
    match reply {
        SysReply::Status(s) => Ok(s),
        _ => unreachable!("a status request gets a status"),
    }
}

/// The status a behaviour's loop answers with: the behaviour the process announced
/// (a supervisor runs a gen_server's loop but announces itself a `"supervisor"`),
/// else the loop's own `kind` and `module`.
pub(crate) fn status(
    kind: &'static str,
    module: &'static str,
    suspended: bool,
    state: Option<String>,
) -> SysReply {
    let announced = beamlet_runtime::process_info(beamlet_runtime::self_pid())
        .and_then(|i| i.behaviour)
        .map_or((kind, module), |b| (b.kind, b.module));
    SysReply::Status(SysStatus {
        kind: announced.0,
        module: announced.1,
        suspended,
        state,
    })
}

/// Runs `f` inside `server` on its state, which must be an `X` (the state closure of
/// a system message); returns its result. `kind` and `type_name` describe what
/// `server` was taken for, for the panic if it is not.
pub(crate) fn with_state<X: 'static, T: Send + 'static>(
    server: Pid,
    kind: &str,
    type_name: &str,
    f: impl FnOnce(&mut X) -> T + Send + 'static,
) -> Result<T, CallError> {
    let op: StateFn = Box::new(move |state: &mut dyn Any| {
        let state = state.downcast_mut::<X>()?;
        Some(Box::new(f(state)) as Box<dyn Any + Send>)
    });
    match sys_call(server, SysOp::State(op))? {
        SysReply::State(Some(v)) => Ok(*v.downcast::<T>().expect("the closure's own type")),
        SysReply::State(None) => panic!("sys: {server} is not a {kind} of type {type_name}"),
        _ => unreachable!("a state request gets a state reply"),
    }
}

/// [`with_state`] on the state of a typed handle.
fn with_handle<H: StateHandle, T: Send + 'static>(
    server: H,
    f: impl FnOnce(&mut H::State) -> T + Send + 'static,
) -> Result<T, CallError> {
    let type_name = std::any::type_name::<H::State>();
    with_state(server.into(), "server", type_name, f)
}

/// A copy of the server's state (as `sys:get_state/1`).
///
/// # Errors
///
/// [`CallError`] if the server does not answer.
///
/// # Panics
///
/// If the server's state is not an `H::State` (a `ServerRef` made from a wrong pid).
///
/// ```
/// # use beamlet::otp::gen_server::{self, GenServer, Init};
/// #[derive(Clone, Debug, PartialEq)]
/// struct Cell(u32);
/// impl GenServer for Cell {
///     type Args = u32; type Call = (); type Reply = (); type Cast = (); type Continue = ();
///     fn init(n: u32) -> Init<Self, ()> { Init::Ok(Cell(n)) }
/// }
/// use beamlet::otp::sys;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link::<Cell>(1).unwrap();
///     assert_eq!(sys::get_state(s), Ok(Cell(1)));
///     sys::replace_state(s, |c: &mut Cell| c.0 = 7).unwrap();
///     assert_eq!(sys::get_state(s), Ok(Cell(7)));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn get_state<H>(server: H) -> Result<H::State, CallError>
where
    H: StateHandle,
    H::State: Clone,
{
    with_handle(server, |s: &mut H::State| s.clone())
}

/// Changes the server's state with `f`, run inside the server (as
/// `sys:replace_state/2`, taking `&mut S` rather than returning a new state). See
/// [`get_state`] for an example.
///
/// # Errors
///
/// [`CallError`] if the server does not answer, or `Exit` with `Panic` if `f`
/// panicked (which ends the server).
///
/// # Panics
///
/// As [`get_state`].
pub fn replace_state<H: StateHandle>(
    server: H,
    f: impl FnOnce(&mut H::State) + Send + 'static,
) -> Result<(), CallError> {
    with_handle(server, f)
}
