//! Generic servers (as Erlang's `gen_server` and Elixir's `GenServer`): a process
//! holding a state, served by callbacks.
//!
//! # The callback contract
//!
//! ```text
//! start / start_link ──> init(Args) ──> Init::Ok(State) | Init::Timeout | Init::Hibernate
//!                                       | Init::Continue | Init::Ignore | Init::Stop(Reason)
//!
//! call(Server, Request) ──> handle_call(&mut State, Request, Caller)
//!     ──> CallReply::Reply(R) | ReplyTimeout | ReplyHibernate | ReplyContinue
//!         | NoReply (reply later with reply(Caller, R)) | NoReplyTimeout | NoReplyHibernate
//!         | NoReplyContinue | Stop(Reason, R) | StopNoReply(Reason)
//!
//! cast(Server, Msg)     ──> handle_cast(&mut State, Msg)       ──> NoReply::*
//! CastGate::cast(Msg)   ──> handle_cast(&mut State, Msg)       ──> NoReply::*
//!                           (acknowledged to the caller when the queue is long)
//! any other message     ──> handle_info(&mut State, Message)   ──> NoReply::*
//! a timeout expired     ──> handle_info(&mut State, Timeout)   ──> NoReply::*
//! Continue(C) returned  ──> handle_continue(&mut State, C)     ──> NoReply::*
//!
//! on stop, on a callback panic or exit, on an exit signal from the parent (trapped)
//!                       ──> terminate(&mut State, &Reason)     (then the process exits)
//! an abnormal stop      ──> format_status(&State)              (for its report)
//! ```
//!
//! # The generic loop
//!
//! 1. The starter spawns the server linked (`start_link`) or not (`start`) and waits
//!    (see [`behaviour`]'s start protocol). The server, in the prologue
//!    every behaviour shares, sets its mailbox limit if given, traps exits if
//!    [`GenServer::TRAP_EXIT`] is set (or `init` calls `trap_exit(true)`), registers
//!    its name if given (local or via, see [`name`](crate::name); `AlreadyStarted`
//!    if taken), and runs `init`. On `Ignore`,
//!    `Stop` or a panic it unregisters the name and the start returns the error.
//! 2. The loop takes the oldest message of any type: a call, a cast, a system
//!    message (see [`sys`](crate::sys)), an `Exit` from the parent, or anything else
//!    (for `handle_info`). While suspended it takes only system messages and the
//!    parent's `Exit`.
//! 3. Every callback runs through one dispatch point, [`behaviour`]'s `try_dispatch` (the runtime's
//!    `catch_exit`), which turns a panic into the exit reason `Panic` and an `exit`
//!    into its reason; then `terminate` runs, as for a stop (OTP's `catch`).
//! 4. The callback's result says what next: wait (optionally up to a timeout, after
//!    which a [`Timeout`] message goes to `handle_info`), hibernate (the runtime's
//!    `hibernate`, the loop continuing in its closure), continue (`handle_continue`
//!    runs before any message), or stop.
//! 5. With the `hibernate_after` option, a server idle for that long hibernates.
//! 6. An `Exit` message from the parent (the `start_link` caller; only seen when
//!    trapping exits) makes the server terminate with that reason, as OTP: the
//!    parent is taking it down. `Exit`s from other processes go to `handle_info`.
//! 7. Stopping runs `terminate` (a panic in it becomes the reason); for an abnormal
//!    reason (not `Normal`, `Shutdown`, `{shutdown, _}`) it writes the "Generic
//!    server terminating" report (the last message by kind and type, the state as
//!    [`GenServer::format_status`] shows it, the caller of a call); then it sends
//!    the reply of a `Stop` with reply and exits with the reason, which gets the
//!    runtime's crash report (see `beamlet::report`). A caller's error
//!    therefore comes after both reports are written.
//!
//! # Back-pressure: call, cast, or a cast that turns synchronous
//!
//! 1. Prefer [`call`]: the caller waits, so a slow server slows its clients down
//!    instead of queueing without bound. That is back-pressure for free.
//! 2. Use [`cast`] where the wait costs too much *and* the rate is bounded anyway.
//! 3. For high-rate producers that must not lose messages (logging, event
//!    streams), cast through a [`CastGate`]: asynchronous while the server's queue
//!    is below a threshold, acknowledged (the producer waits until the cast was
//!    handled) above it, as Elixir's `Logger` with its `sync_threshold`. The
//!    server's mailbox then holds at most threshold + producers casts.
//! 4. Where losing messages is acceptable (telemetry) or a stuck server should
//!    rather be restarted, give the server a mailbox limit
//!    ([`StartOptions::mailbox_limit`], see [`beamlet_runtime::backpressure`]: drop
//!    newest, drop oldest, or kill under a supervisor). A call refused by a full mailbox returns
//!    [`CallError::MailboxFull`] at once.
//!
//! # Departures from OTP, for Rust's typing
//!
//! - Messages are typed per server: `Call`, `Reply`, `Cast` and `Continue` are
//!   associated types and [`ServerRef<S>`] makes calls type-checked. Other messages
//!   arrive type-erased in `handle_info` as a [`Message`].
//! - Results are enums rather than tuples; the state is `&mut self` rather than
//!   returned.
//! - `ignore` is `Err(StartError::Ignore)` from the start functions (see [`behaviour`]).
//! - A failed `init` removes the link before the server exits, so the caller of
//!   `start_link` gets the error as a value and no exit signal.
//! - `hibernate` called directly from inside a callback leaves the loop for its
//!   closure (the server stops being a server): return `Hibernate` instead. (A kill,
//!   or an exit signal the server does not trap, ends it without `terminate`, as in
//!   OTP.)
//! - `code_change` is not provided (no hot code loading).
//!
//! # Types a server does not use
//!
//! A [`GenServer`] names all five of its types (`Args`, `Call`, `Reply`, `Cast`,
//! `Continue`), even those it has no use for: Rust has no defaults for associated
//! types yet. For one it does not use, write `()` (the callback's default panics
//! if one ever arrives), or better [`Infallible`](std::convert::Infallible): no
//! value of it exists, so a `cast` to a server with `type Cast = Infallible`, or a
//! `Continue` from one with `type Continue = Infallible`, does not compile.
//!
//! # Several kinds of call
//!
//! A server with several calls, each with its own reply type, need not reply with
//! an enum its clients unpack (with an arm for the replies that cannot come):
//! with `type Reply = Infallible`, each variant of the request enum carries a
//! [`Caller`] of its own reply type, and [`call_with`] returns that type. See
//! [`call_with`] for the rules and an example.
//!
//! # Example
//!
//! ```
//! use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init, NoReply};
//! use beamlet::Runtime;
//!
//! struct Counter(u64);
//!
//! impl GenServer for Counter {
//!     type Args = u64;
//!     type Call = ();
//!     type Reply = u64;
//!     type Cast = u64;
//!     type Continue = ();
//!
//!     fn init(start: u64) -> Init<Self, ()> {
//!         Init::Ok(Counter(start))
//!     }
//!     fn handle_call(&mut self, _: (), _: Caller<u64>) -> CallReply<u64, ()> {
//!         CallReply::Reply(self.0)
//!     }
//!     fn handle_cast(&mut self, n: u64) -> NoReply<()> {
//!         self.0 += n;
//!         NoReply::Ok
//!     }
//! }
//!
//! let rt = Runtime::builder().build().unwrap();
//! let n = rt.block_on(|| {
//!     let c = gen_server::start_link::<Counter>(40).unwrap();
//!     gen_server::cast(c, 2);
//!     gen_server::call(c, ()).unwrap()
//! }).unwrap();
//! assert_eq!(n, 42);
//! rt.shutdown();
//! ```

mod async_call;
mod call_with;
mod cast_gate;
mod server;

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use beamlet_runtime::{ExitReason, Message, Pid};

use crate::behaviour;
pub use crate::behaviour::request::{
    CheckResponse, CollectionCheck, CollectionResponse, ReqIdCollection, RequestId, check_response,
    receive_response, wait_response,
};
pub use crate::behaviour::{
    CallError, Caller, DEFAULT_CALL_TIMEOUT, StartError, StartOptions, reply,
};
use crate::name::Name;
pub use async_call::{CallFuture, call_async, call_async_timeout};
pub use call_with::{call_with, call_with_timeout};
pub use cast_gate::{CastGate, CastMode};
pub use server::Timeout;
use server::{CallMsg, CastMsg};

/// A generic server's callbacks. Only `init` is required; the defaults follow
/// Elixir's `use GenServer`: an unexpected call, cast or continue panics (ending
/// the server with `Panic`), `handle_info` drops the message, `terminate` does
/// nothing.
///
/// See the [module](self) for the contract and an example.
pub trait GenServer: Sized + Send + 'static {
    /// What `init` receives.
    type Args: Send + 'static;
    /// Requests of [`call`].
    type Call: Send + 'static;
    /// Replies to calls.
    type Reply: Send + 'static;
    /// Messages of [`cast`].
    type Cast: Send + 'static;
    /// What a `Continue` result carries to `handle_continue` (use `()` if unused).
    type Continue: Send + 'static;

    /// Whether the server traps exits from before `init` (as
    /// `process_flag(trap_exit, true)` in `init`), so that `terminate` runs when its
    /// parent shuts it down and linked processes' exits come to `handle_info`.
    const TRAP_EXIT: bool = false;

    /// Initialises the server (runs in the new process, before the start returns).
    fn init(args: Self::Args) -> Init<Self, Self::Continue>;

    /// Handles a [`call`]. Reply now with `CallReply::Reply`, or later with
    /// [`reply`]`(from, ..)` after returning `CallReply::NoReply`.
    fn handle_call(
        &mut self,
        request: Self::Call,
        from: Caller<Self::Reply>,
    ) -> CallReply<Self::Reply, Self::Continue> {
        let _ = (request, from);
        panic!(
            "{} received a call but has no handle_call",
            type_name::<Self>()
        )
    }

    /// Handles a [`cast`].
    fn handle_cast(&mut self, msg: Self::Cast) -> NoReply<Self::Continue> {
        let _ = msg;
        panic!(
            "{} received a cast but has no handle_cast",
            type_name::<Self>()
        )
    }

    /// Handles any other message, including [`Timeout`] and `Exit`s of linked
    /// processes when trapping exits.
    fn handle_info(&mut self, msg: Message) -> NoReply<Self::Continue> {
        let _ = msg;
        NoReply::Ok
    }

    /// Continues work after a `Continue` result, before any message is taken.
    fn handle_continue(&mut self, what: Self::Continue) -> NoReply<Self::Continue> {
        let _ = what;
        panic!(
            "{} returned Continue but has no handle_continue",
            type_name::<Self>()
        )
    }

    /// Cleans up before the server exits with `reason` (see the module's contract for
    /// when it runs).
    fn terminate(&mut self, reason: &ExitReason) {
        let _ = reason;
    }

    /// The state as the terminating report and [`sys::get_status`](crate::sys::get_status)
    /// (so the observer) show it (OTP's `format_status`): by default the type's
    /// name, since a state need not be `Debug`. Override it to show the state, or
    /// to hide what must not be logged.
    fn format_status(&self) -> String {
        format!("<{}>", type_name::<Self>())
    }
}

fn type_name<T>() -> &'static str {
    std::any::type_name::<T>()
}

/// What `init` returns (OTP's `{ok, State}`, `{ok, State, Timeout | hibernate |
/// {continue, C}}`, `ignore`, `{stop, Reason}`).
///
/// ```
/// use beamlet::otp::gen_server::Init;
/// let i: Init<u8, ()> = Init::Ok(1);
/// assert!(matches!(i, Init::Ok(1)));
/// ```
#[derive(Debug)]
pub enum Init<S, C> {
    /// Started; wait for messages.
    Ok(S),
    /// Started; a [`Timeout`] message comes if nothing arrives within the duration.
    Timeout(S, Duration),
    /// Started; hibernate until the first message.
    Hibernate(S),
    /// Started; run `handle_continue` before taking any message.
    Continue(S, C),
    /// Do not start: the start returns [`StartError::Ignore`].
    Ignore,
    /// Fail: the start returns [`StartError::Stop`] and the process exits with it.
    Stop(ExitReason),
}

/// What `handle_call` returns (OTP's `reply`, `noreply` and `stop` tuples).
///
/// ```
/// use beamlet::otp::gen_server::CallReply;
/// let r: CallReply<u8, ()> = CallReply::Reply(1);
/// assert!(matches!(r, CallReply::Reply(1)));
/// ```
#[derive(Debug)]
pub enum CallReply<R, C> {
    /// Reply and wait for the next message.
    Reply(R),
    /// Reply; a [`Timeout`] comes if nothing arrives within the duration.
    ReplyTimeout(R, Duration),
    /// Reply and hibernate.
    ReplyHibernate(R),
    /// Reply and run `handle_continue`.
    ReplyContinue(R, C),
    /// No reply now: [`reply`] later with the `Caller`.
    NoReply,
    /// No reply now; a [`Timeout`] comes if nothing arrives within the duration.
    NoReplyTimeout(Duration),
    /// No reply now; hibernate.
    NoReplyHibernate,
    /// No reply now; run `handle_continue`.
    NoReplyContinue(C),
    /// Stop with the reason, after `terminate`, then reply.
    Stop(ExitReason, R),
    /// Stop with the reason without replying (the caller sees the exit).
    StopNoReply(ExitReason),
}

/// What `handle_cast`, `handle_info` and `handle_continue` return (OTP's `noreply`
/// and `stop` tuples).
///
/// ```
/// use beamlet::otp::gen_server::NoReply;
/// let r: NoReply<()> = NoReply::Ok;
/// assert!(matches!(r, NoReply::Ok));
/// ```
#[derive(Debug)]
pub enum NoReply<C> {
    /// Wait for the next message.
    Ok,
    /// A [`Timeout`] comes if nothing arrives within the duration.
    Timeout(Duration),
    /// Hibernate until the next message.
    Hibernate,
    /// Run `handle_continue`.
    Continue(C),
    /// Stop with the reason (after `terminate`).
    Stop(ExitReason),
}

/// A typed handle on a running server: `Copy`, wraps its [`Pid`], and makes calls and
/// casts type-checked.
///
/// ```
/// # use beamlet::otp::gen_server::{self, GenServer, Init, ServerRef, StartOptions};
/// # struct Nop;
/// # impl GenServer for Nop {
/// #     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
/// #     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link_with::<Nop>((), StartOptions::new().name("nop")).unwrap();
///     assert_eq!(ServerRef::<Nop>::whereis("nop"), Some(s));
///     assert_eq!(ServerRef::<Nop>::from_pid(s.pid()), s);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub struct ServerRef<S> {
    pid: Pid,
    _server: PhantomData<fn() -> S>,
}

impl<S> Clone for ServerRef<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for ServerRef<S> {}

impl<S> PartialEq for ServerRef<S> {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}

impl<S> Eq for ServerRef<S> {}

impl<S> std::hash::Hash for ServerRef<S> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.pid.hash(state);
    }
}

impl<S> fmt::Debug for ServerRef<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerRef<{}>({})", type_name::<S>(), self.pid)
    }
}

impl<S> std::convert::From<ServerRef<S>> for Pid {
    fn from(s: ServerRef<S>) -> Pid {
        s.pid
    }
}

// A `ServerRef` is a pid and a type (`PhantomData<fn() -> S>`): it may be sent to,
// and shared with, any process or thread, whatever `S` (checked for every `S`).
const _: () = {
    fn assert_send_sync<T: Send + Sync>() {}
    fn server_ref_is_send_sync<S>() {
        assert_send_sync::<ServerRef<S>>();
    }
    let _ = server_ref_is_send_sync::<()>;
};

impl<S: GenServer> ServerRef<S> {
    /// The server's pid.
    ///
    /// See [`ServerRef`] for an example.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// A handle on `pid`, trusted to be a server of type `S`. Not checked here: a
    /// call through a handle of the wrong type is answered at once with
    /// [`CallError::WrongType`] by any behaviour (a call to a process that is no
    /// behaviour waits for its timeout); a cast of the wrong type reaches the
    /// server's `handle_info`.
    ///
    /// See [`ServerRef`] for an example.
    pub fn from_pid(pid: Pid) -> ServerRef<S> {
        ServerRef {
            pid,
            _server: PhantomData,
        }
    }

    /// The server registered as `name` (a local name as `&str`, or any [`Name`]),
    /// trusted to be an `S`.
    ///
    /// See [`ServerRef`] for an example.
    pub fn whereis(name: impl Into<Name>) -> Option<ServerRef<S>> {
        name.into().whereis().map(ServerRef::from_pid)
    }
}

impl<S: GenServer> crate::sys::sealed::Sealed for ServerRef<S> {}

/// [`sys::get_state`](crate::sys::get_state) and
/// [`sys::replace_state`](crate::sys::replace_state) on a server reach its `S`.
impl<S: GenServer> crate::sys::StateHandle for ServerRef<S> {
    type State = S;
}

/// Starts a server without a link (as `gen_server:start/3`); returns once `init`
/// has finished.
///
/// # Errors
///
/// [`StartError`]: `init` returned `Ignore` or `Stop`, panicked, or the name is taken.
///
/// ```
/// # use beamlet::otp::gen_server::{self, GenServer, Init, StartError};
/// # use beamlet::ExitReason;
/// struct Picky;
/// impl GenServer for Picky {
///     type Args = bool; type Call = (); type Reply = (); type Cast = (); type Continue = ();
///     fn init(ok: bool) -> Init<Self, ()> {
///         if ok { Init::Ok(Picky) } else { Init::Stop(ExitReason::custom("no")) }
///     }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert!(gen_server::start::<Picky>(true).is_ok());
///     let err = gen_server::start::<Picky>(false).unwrap_err();
///     assert_eq!(err, StartError::Stop(ExitReason::custom("no")));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start<S: GenServer>(args: S::Args) -> Result<ServerRef<S>, StartError> {
    start_with(args, StartOptions::new())
}

/// [`start`] with options.
///
/// # Errors
///
/// As [`start`].
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
///     let opts = gen_server::StartOptions::new().name("solo");
///     let s = gen_server::start_with::<Nop>((), opts).unwrap();
///     assert_eq!(beamlet::whereis("solo"), Some(s.pid()));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start_with<S: GenServer>(
    args: S::Args,
    opts: StartOptions,
) -> Result<ServerRef<S>, StartError> {
    server::start::<S>(false, args, opts).map(ServerRef::from_pid)
}

/// Starts a server linked to the caller (as `gen_server:start_link/3`); returns once
/// `init` has finished. See the [module](self) example.
///
/// # Errors
///
/// As [`start`].
#[track_caller]
pub fn start_link<S: GenServer>(args: S::Args) -> Result<ServerRef<S>, StartError> {
    start_link_with(args, StartOptions::new())
}

/// [`start_link`] with options.
///
/// # Errors
///
/// As [`start`].
///
/// See [`ServerRef`] for an example.
#[track_caller]
pub fn start_link_with<S: GenServer>(
    args: S::Args,
    opts: StartOptions,
) -> Result<ServerRef<S>, StartError> {
    server::start::<S>(true, args, opts).map(ServerRef::from_pid)
}

/// Calls the server and waits up to [`DEFAULT_CALL_TIMEOUT`] for the reply. See the
/// [module](self) example.
///
/// # Errors
///
/// [`CallError`]: the server is not running, exited during the call (with its
/// reason), did not reply in time (a late reply is dropped), or is the caller.
pub fn call<S: GenServer>(server: ServerRef<S>, request: S::Call) -> Result<S::Reply, CallError> {
    call_timeout(server, request, DEFAULT_CALL_TIMEOUT)
}

/// Calls the server and waits up to `timeout` for the reply (`Duration::MAX` waits
/// for ever).
///
/// # Errors
///
/// As [`call`].
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_server::{self, CallError, CallReply, Caller, GenServer, Init};
/// struct Mute;
/// impl GenServer for Mute {
///     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
///     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Mute) }
///     fn handle_call(&mut self, _: (), _: Caller<()>) -> CallReply<(), ()> { CallReply::NoReply }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link::<Mute>(()).unwrap();
///     let r = gen_server::call_timeout(s, (), Duration::from_millis(10));
///     assert_eq!(r, Err(CallError::Timeout));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn call_timeout<S: GenServer>(
    server: ServerRef<S>,
    request: S::Call,
    timeout: Duration,
) -> Result<S::Reply, CallError> {
    behaviour::call_server(server.pid, |from| CallMsg { from, request }, Some(timeout))
}

/// Calls the server registered as `name` (resolved at the time of the call): a local
/// name as `&str`, or any [`Name`] (a via name resolves through its service).
///
/// # Errors
///
/// As [`call`]; `NoProc` if no process has the name.
///
/// ```
/// # use beamlet::otp::gen_server::{self, CallError, GenServer, Init};
/// # struct Nop;
/// # impl GenServer for Nop {
/// #     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
/// #     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| gen_server::call_named::<Nop>("nobody", ())).unwrap();
/// assert_eq!(r, Err(CallError::NoProc));
/// rt.shutdown();
/// ```
pub fn call_named<S: GenServer>(
    name: impl Into<Name>,
    request: S::Call,
) -> Result<S::Reply, CallError> {
    let server = ServerRef::<S>::whereis(name).ok_or(CallError::NoProc)?;
    call(server, request)
}

/// Sends a call request without waiting for the reply (as
/// `gen_server:send_request/2`): collect the reply later with [`wait_response`],
/// [`receive_response`] or [`check_response`] (see
/// [`behaviour::request`] for the protocol). Never blocks; a dead
/// server's error comes with the response.
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_server::{self, CallError, CallReply, Caller, GenServer, Init};
/// struct Double;
/// impl GenServer for Double {
///     type Args = (); type Call = u32; type Reply = u32; type Cast = (); type Continue = ();
///     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Double) }
///     fn handle_call(&mut self, n: u32, _: Caller<u32>) -> CallReply<u32, ()> { CallReply::Reply(2 * n) }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link::<Double>(()).unwrap();
///     let a = gen_server::send_request(s, 1);
///     let b = gen_server::send_request(s, 2);
///     assert_eq!(gen_server::receive_response(b, Duration::from_secs(5)), Ok(4));
///     assert_eq!(gen_server::receive_response(a, Duration::from_secs(5)), Ok(2));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn send_request<S: GenServer>(server: ServerRef<S>, request: S::Call) -> RequestId<S::Reply> {
    behaviour::request::send_server_request(server.pid, |from| CallMsg { from, request })
}

/// [`send_request`] to the server registered as `name`, resolved now; if no process
/// has the name, the response is [`CallError::NoProc`].
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_server::{self, CallError, GenServer, Init};
/// # struct Nop;
/// # impl GenServer for Nop {
/// #     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
/// #     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| {
///     let req = gen_server::send_request_named::<Nop>("nobody", ());
///     gen_server::receive_response(req, Duration::from_secs(5))
/// }).unwrap();
/// assert_eq!(r, Err(CallError::NoProc));
/// rt.shutdown();
/// ```
pub fn send_request_named<S: GenServer>(
    name: impl Into<Name>,
    request: S::Call,
) -> RequestId<S::Reply> {
    // Nobody has the name: monitoring no process yields `NoProc` at once.
    let pid = name.into().whereis().unwrap_or(Pid::NO_PROCESS);
    behaviour::request::send_server_request(pid, |from| CallMsg { from, request })
}

/// [`send_request`], adding the request to `reqids` with `label` (as
/// `gen_server:send_request/4`).
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_server::{self, CallReply, CollectionResponse, Caller, GenServer, Init, ReqIdCollection};
/// struct Double;
/// impl GenServer for Double {
///     type Args = (); type Call = u32; type Reply = u32; type Cast = (); type Continue = ();
///     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Double) }
///     fn handle_call(&mut self, n: u32, _: Caller<u32>) -> CallReply<u32, ()> { CallReply::Reply(2 * n) }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link::<Double>(()).unwrap();
///     let mut reqs = ReqIdCollection::new();
///     gen_server::send_request_labeled(s, 21, "half", &mut reqs);
///     let r = reqs.receive_response(Duration::from_secs(5), true);
///     assert!(matches!(r, CollectionResponse::Response(Ok(42), "half")));
///     assert!(matches!(reqs.receive_response(Duration::from_secs(5), true), CollectionResponse::NoRequest));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn send_request_labeled<S: GenServer, L>(
    server: ServerRef<S>,
    request: S::Call,
    label: L,
    reqids: &mut ReqIdCollection<S::Reply, L>,
) {
    reqids.add(send_request(server, request), label);
}

/// Sends a request without waiting (as `gen_server:cast/2`). Never fails: a cast to
/// a dead server is dropped. See the [module](self) example.
pub fn cast<S: GenServer>(server: ServerRef<S>, msg: S::Cast) {
    let _ = beamlet_runtime::send(server.pid, CastMsg(msg));
}

/// Casts to the server registered as `name` (as [`call_named`]); dropped if no
/// process has the name.
///
/// ```
/// # use beamlet::otp::gen_server::{self, GenServer, Init};
/// # struct Nop;
/// # impl GenServer for Nop {
/// #     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
/// #     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| gen_server::cast_named::<Nop>("nobody", ())).unwrap();
/// rt.shutdown();
/// ```
pub fn cast_named<S: GenServer>(name: impl Into<Name>, msg: S::Cast) {
    if let Some(server) = ServerRef::<S>::whereis(name) {
        cast(server, msg);
    }
}

/// Stops a server (as `gen_server:stop/3`): it runs `terminate` with `reason` and
/// exits; returns once it has exited. Works on any server or supervisor, even a
/// suspended one.
///
/// # Errors
///
/// `NoProc` if it is not running, `Exit` if it exited with another reason (for
/// example its `terminate` panicked), `Timeout` if it did not exit within `timeout`.
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_server::{self, CallError, GenServer, Init};
/// # use beamlet::ExitReason;
/// # struct Nop;
/// # impl GenServer for Nop {
/// #     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
/// #     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start::<Nop>(()).unwrap();
///     assert_eq!(gen_server::stop(s, ExitReason::Normal, Duration::from_secs(5)), Ok(()));
///     assert_eq!(gen_server::stop(s, ExitReason::Normal, Duration::from_secs(5)), Err(CallError::NoProc));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn stop(
    server: impl Into<Pid>,
    reason: ExitReason,
    timeout: Duration,
) -> Result<(), CallError> {
    server::stop(server.into(), reason, timeout)
}
