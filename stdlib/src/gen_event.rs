//! Event managers and event handlers (as Erlang's `gen_event` and the Elixir book's
//! `GenEvent`): one process, the manager, runs every event it is notified of through
//! each of its installed handlers.
//!
//! # The callback contract
//!
//! ```text
//! add_handler / add_sup_handler ──> init(Args) ──> Init::Ok(H) | Init::Hibernate(H) | Init::Error(Reason)
//!
//! notify / sync_notify(Event) ──> handle_event(&mut H, &Event) ──> Handled::Ok | Hibernate | Remove | Swap
//! call(Handler, Request)      ──> handle_call(&mut H, Request)  ──> CallHandled::Reply(R) | ReplyHibernate(R)
//!                                                                   | Remove(R) | Swap(R, ..)
//! any other message           ──> handle_info(&mut H, &Message) ──> Handled::*
//!
//! delete, swap, Remove, a panic, the adder's exit, the manager's stop
//!                             ──> terminate(H, Removal) ──> H::Terminated
//!                                 (returned by delete_handler; handed to a swapped-in handler's init)
//! ```
//!
//! # The manager
//!
//! 1. [`start`] / [`start_link`] spawn the manager through [`behaviour`]'s
//!    start protocol; it traps exits and registers its name if given
//!    ([`name`](crate::name); `AlreadyStarted` if taken). It starts with no handler.
//! 2. Handlers are kept most recently added first, as OTP does: an event runs
//!    through them in that order, [`which_handlers`] lists them in that order, and
//!    an operation by id reaches the most recently added handler with that id (the
//!    same id may be added twice, as in OTP). A swapped-in handler takes the old
//!    one's place when a callback swaps, and goes first after [`swap_handler`].
//! 3. [`notify`] is an ordinary message (so events from one sender are handled in
//!    the order sent); [`sync_notify`] returns once every handler has handled the
//!    event; every other operation is a call (see [`behaviour`]) without
//!    timeout (OTP's `infinity`), except [`call`], which waits 5 s by default.
//! 4. Every callback runs through the one dispatch point of the behaviours,
//!    [`behaviour`]'s `try_dispatch`: a panic (or an `exit`) in a handler removes that
//!    handler only — its `terminate` runs with [`Removal::Crashed`] — and the
//!    manager and the other handlers go on. A panic in `init` fails the add; a
//!    panic in `terminate` becomes the result of a delete ([`HandlerError::Crashed`]).
//! 5. A handler added with [`add_sup_handler`] is linked to the adder: when it is
//!    removed the adder gets a [`HandlerExit`] message (with
//!    [`RemoveReason::Normal`] for a delete or `Remove`, as OTP's
//!    `gen_event_EXIT`), and when the adder exits the manager terminates the
//!    adder's handlers ([`Removal::AdderExited`]) and then hands the `Exit` to the
//!    other handlers' `handle_info`.
//! 6. Stopping ([`stop`], or an exit signal from the `start_link` parent) runs every
//!    handler's `terminate` with [`Removal::Stopped`] in order, unlinks the
//!    supervising processes, and exits with the reason.
//! 7. The manager answers [`sys`](crate::sys) suspend, resume and statistics.
//!
//! # Departures from OTP, for Rust's typing
//!
//! - A manager is typed by its event type `E` ([`EventManager<E>`]); handlers of
//!   any types implementing [`EventHandler<E>`] are installed behind a trait object
//!   and named by a typed [`HandlerId<H>`] (OTP's `Module` or `{Module, Id}`), so
//!   calls and deletions are type-checked. Other messages reach `handle_info` as a
//!   shared `&Message`.
//! - `terminate` consumes the handler and its reason is an enum, [`Removal`]
//!   (which tells a swap, `Swapped(Args1)`, from a delete, `Deleted(Args)`: OTP
//!   passes the bare `Args` for both); a swap hands the old handler's `terminate` result to the new handler through a
//!   closure ([`SwapTo`]) that builds the new handler's `init` arguments (OTP's
//!   `init({Args2, Term})`), receiving a [`Previous`] (`Term`, or `error`).
//! - A panicking callback's handler is terminated with the state as the panic left
//!   it (OTP's state is the one before the event: Erlang state is immutable).
//! - A supervising process is unlinked once it supervises no handler (OTP keeps
//!   the link), so a later crash of the manager does not reach it. The
//!   [`HandlerExit`] message also names the manager.
//! - Errors are values: a failed [`call`] returns a [`HandlerError`] (OTP's
//!   `gen_event:call` exits the caller when the manager fails), and a dead manager
//!   is `HandlerError::Manager(CallError::NoProc)`.
//! - No crash report is logged for a removed handler (OTP logs one); the
//!   supervising process is told through [`HandlerExit`].
//! - `code_change`, `format_status`, `hibernate_after` and `sys:get_state` on a
//!   manager are not provided.
//!
//! # Example
//!
//! ```
//! use beamlet::otp::gen_event::{self, CallHandled, EventHandler, Handled, HandlerId, Init, Removal};
//! use beamlet::Runtime;
//!
//! /// Counts events.
//! struct Counter(u64);
//!
//! impl EventHandler<String> for Counter {
//!     type Args = u64;
//!     type Call = ();
//!     type Reply = u64;
//!     type DeleteArgs = ();
//!     type Terminated = u64;
//!
//!     fn init(start: u64) -> Init<Self> { Init::Ok(Counter(start)) }
//!     fn handle_event(&mut self, _: &String) -> Handled<String, Self> {
//!         self.0 += 1;
//!         Handled::Ok
//!     }
//!     fn handle_call(&mut self, _: ()) -> CallHandled<String, Self> {
//!         CallHandled::Reply(self.0)
//!     }
//!     fn terminate(self, _: Removal<()>) -> u64 { self.0 }
//! }
//!
//! let rt = Runtime::builder().build().unwrap();
//! rt.block_on(|| {
//!     let events = gen_event::start_link::<String>().unwrap();
//!     let counter = HandlerId::<Counter>::new();
//!     gen_event::add_handler(events, &counter, 0).unwrap();
//!     gen_event::notify(events, "one".to_string());
//!     gen_event::sync_notify(events, "two".to_string()).unwrap();
//!     assert_eq!(gen_event::call(events, &counter, ()), Ok(2));
//!     assert_eq!(gen_event::delete_handler(events, &counter, ()), Ok(2));
//! }).unwrap();
//! rt.shutdown();
//! ```

mod handler;
mod id;
mod manager;
mod results;

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use beamlet_runtime::{ExitReason, Message, Pid};

use crate::behaviour::{self};
pub use crate::behaviour::{CallError, DEFAULT_CALL_TIMEOUT, StartError};
use crate::name::Name;
use handler::{AnyBox, erase_swap, unbox};
pub use id::{AnyHandlerId, HandlerExit, HandlerId, RemoveReason};
use manager::{Notify, Request};
pub use results::{CallHandled, Handled, Init, Previous, Removal, SwapTo};

/// An event handler's callbacks, for a manager of events of type `E`. `init`,
/// `handle_event` and `terminate` are required; an unexpected call panics (which
/// removes the handler, and the caller gets [`HandlerError::Crashed`]) and
/// `handle_info` ignores the message, as Elixir's `use GenEvent` defaults.
///
/// See the [module](self) for the contract and an example.
pub trait EventHandler<E>: Sized + Send + 'static {
    /// What `init` receives.
    type Args: Send + 'static;
    /// Requests of [`call`].
    type Call: Send + 'static;
    /// Replies to calls.
    type Reply: Send + 'static;
    /// What [`delete_handler`] and [`swap_handler`] pass to `terminate` (OTP's
    /// `Args` of `delete_handler`).
    type DeleteArgs: Send + 'static;
    /// What `terminate` returns: [`delete_handler`]'s result, and what a handler
    /// swapped in for this one receives.
    type Terminated: Send + 'static;

    /// Initialises the handler, in the manager, before the add returns.
    fn init(args: Self::Args) -> Init<Self>;

    /// Handles an event of [`notify`] or [`sync_notify`].
    fn handle_event(&mut self, event: &E) -> Handled<E, Self>;

    /// Handles a [`call`] to this handler.
    fn handle_call(&mut self, request: Self::Call) -> CallHandled<E, Self> {
        let _ = request;
        panic!(
            "{} received a call but has no handle_call",
            std::any::type_name::<Self>()
        )
    }

    /// Handles any other message the manager receives, including the `Exit` of a
    /// linked process (after the handlers that process supervised were removed).
    fn handle_info(&mut self, msg: &Message) -> Handled<E, Self> {
        let _ = msg;
        Handled::Ok
    }

    /// Cleans up as the handler is removed (see [`Removal`] for when); the result
    /// goes to the deleter or to the handler swapped in.
    fn terminate(self, why: Removal<Self::DeleteArgs>) -> Self::Terminated;
}

/// Why a handler operation failed.
///
/// ```
/// use beamlet::otp::gen_event::HandlerError;
/// assert_eq!(HandlerError::NotInstalled.to_string(), "no such handler is installed");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum HandlerError {
    /// No handler has that id (OTP's `bad_module` / `module_not_found`).
    NotInstalled,
    /// `init` returned `Error` with this reason; the handler was not added.
    Refused(ExitReason),
    /// The callback panicked or exited with this reason (`{'EXIT', Reason}`): in
    /// `init`, the handler was not added; in `handle_call`, it was removed; in
    /// `terminate`, this is the delete's result.
    Crashed(ExitReason),
    /// The manager did not answer (not running, died, or a call timed out).
    Manager(CallError),
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::NotInstalled => f.write_str("no such handler is installed"),
            HandlerError::Refused(r) => write!(f, "the handler's init refused: {r}"),
            HandlerError::Crashed(r) => write!(f, "the handler crashed: {r}"),
            HandlerError::Manager(e) => write!(f, "the event manager did not answer: {e}"),
        }
    }
}

impl std::error::Error for HandlerError {}

impl std::convert::From<CallError> for HandlerError {
    fn from(e: CallError) -> Self {
        HandlerError::Manager(e)
    }
}

/// A typed handle on a running event manager: `Copy`, wraps its [`Pid`], and makes
/// notifications type-checked.
///
/// ```
/// use beamlet::otp::gen_event::{self, EventManager};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_event::start_link_named::<u32>("alarms").unwrap();
///     assert_eq!(EventManager::<u32>::whereis("alarms"), Some(m));
///     assert_eq!(EventManager::<u32>::from_pid(m.pid()), m);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub struct EventManager<E> {
    pid: Pid,
    _event: PhantomData<fn(E)>,
}

impl<E> Clone for EventManager<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for EventManager<E> {}

impl<E> PartialEq for EventManager<E> {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}

impl<E> Eq for EventManager<E> {}

impl<E> std::hash::Hash for EventManager<E> {
    fn hash<S: std::hash::Hasher>(&self, state: &mut S) {
        self.pid.hash(state);
    }
}

impl<E> fmt::Debug for EventManager<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EventManager<{}>({})",
            std::any::type_name::<E>(),
            self.pid
        )
    }
}

impl<E> std::convert::From<EventManager<E>> for Pid {
    fn from(m: EventManager<E>) -> Pid {
        m.pid
    }
}

impl<E: Send + 'static> EventManager<E> {
    /// The manager's pid.
    ///
    /// See [`EventManager`] for an example.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// A handle on `pid`, trusted to be a manager of events `E`. Not checked here:
    /// events of another type reach its handlers' `handle_info`; requests
    /// (`sync_notify`, `call`, ...) of another type are answered at once with
    /// [`CallError::WrongType`].
    ///
    /// See [`EventManager`] for an example.
    pub fn from_pid(pid: Pid) -> EventManager<E> {
        EventManager {
            pid,
            _event: PhantomData,
        }
    }

    /// The manager registered as `name`, trusted to manage events `E`.
    ///
    /// See [`EventManager`] for an example.
    pub fn whereis(name: impl Into<Name>) -> Option<EventManager<E>> {
        name.into().whereis().map(EventManager::from_pid)
    }
}

/// Starts a manager without a link and without handlers (as `gen_event:start/0`).
///
/// # Errors
///
/// [`StartError::Spawn`] if the process could not be spawned.
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = beamlet::otp::gen_event::start::<String>().unwrap();
///     assert!(beamlet::is_alive(m.pid()));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start<E: Send + 'static>() -> Result<EventManager<E>, StartError> {
    manager::start::<E>(false, None).map(EventManager::from_pid)
}

/// [`start`] registered as `name` (a local name as `&str`, or any [`Name`]).
///
/// # Errors
///
/// [`StartError::AlreadyStarted`] if the name is taken; as [`start`].
///
/// ```
/// use beamlet::otp::gen_event::{self, StartError};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_event::start_named::<u8>("log").unwrap();
///     assert_eq!(gen_event::start_named::<u8>("log"), Err(StartError::AlreadyStarted(m.pid())));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start_named<E: Send + 'static>(
    name: impl Into<Name>,
) -> Result<EventManager<E>, StartError> {
    manager::start::<E>(false, Some(name.into())).map(EventManager::from_pid)
}

/// Starts a manager linked to the caller (as `gen_event:start_link/0`). See the
/// [module](self) example.
///
/// # Errors
///
/// As [`start`].
#[track_caller]
pub fn start_link<E: Send + 'static>() -> Result<EventManager<E>, StartError> {
    manager::start::<E>(true, None).map(EventManager::from_pid)
}

/// [`start_link`] registered as `name`. See [`EventManager`] for an example.
///
/// # Errors
///
/// As [`start_named`].
#[track_caller]
pub fn start_link_named<E: Send + 'static>(
    name: impl Into<Name>,
) -> Result<EventManager<E>, StartError> {
    manager::start::<E>(true, Some(name.into())).map(EventManager::from_pid)
}

/// Stops the manager (as `gen_event:stop/3`): every handler's `terminate` runs with
/// [`Removal::Stopped`], then the manager exits with `reason`; returns once it has.
///
/// # Errors
///
/// `NoProc` if it is not running, `Timeout` if it did not exit within `timeout`,
/// `Exit` if it exited with another reason.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_event::{self, CallError};
/// use beamlet::ExitReason;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_event::start::<u8>().unwrap();
///     assert_eq!(gen_event::stop(m, ExitReason::Normal, Duration::from_secs(5)), Ok(()));
///     assert_eq!(gen_event::stop(m, ExitReason::Normal, Duration::from_secs(5)), Err(CallError::NoProc));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn stop<E>(
    manager: EventManager<E>,
    reason: ExitReason,
    timeout: Duration,
) -> Result<(), CallError> {
    crate::gen_server::stop(manager.pid, reason, timeout)
}

/// Sends an event without waiting (as `gen_event:notify/2`); never fails: an event
/// to a dead manager is dropped. See the [module](self) example.
pub fn notify<E: Send + 'static>(manager: EventManager<E>, event: E) {
    let _ = beamlet_runtime::send(manager.pid, Notify(event));
}

/// Sends an event and returns once every handler has handled it (as
/// `gen_event:sync_notify/2`). See the [module](self) example.
///
/// # Errors
///
/// [`CallError`] if the manager is not running or dies meanwhile.
pub fn sync_notify<E: Send + 'static>(manager: EventManager<E>, event: E) -> Result<(), CallError> {
    behaviour::call_server(manager.pid, |from| Request::SyncNotify(event, from), None)
}

/// Installs the handler `id`, initialised with `args` (as
/// `gen_event:add_handler/3`). See the [module](self) example.
///
/// # Errors
///
/// [`HandlerError::Refused`] or `Crashed` if `init` refused or panicked (the
/// handler is not installed), `Manager` if the manager did not answer.
pub fn add_handler<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    id: &HandlerId<H>,
    args: H::Args,
) -> Result<(), HandlerError> {
    add(manager, id, args, None)
}

/// Installs the handler `id` linked to the caller (as `gen_event:add_sup_handler/3`):
/// when it is removed the caller receives a [`HandlerExit`], and when the caller
/// exits the handler is removed (see the module's step 5).
///
/// # Errors
///
/// As [`add_handler`].
///
/// ```
/// use beamlet::otp::gen_event::{self, EventHandler, Handled, HandlerExit, HandlerId, Init, Removal, RemoveReason};
/// use beamlet::receive;
/// struct Quitter;
/// impl EventHandler<&'static str> for Quitter {
///     type Args = (); type Call = (); type Reply = (); type DeleteArgs = (); type Terminated = ();
///     fn init(_: ()) -> Init<Self> { Init::Ok(Quitter) }
///     fn handle_event(&mut self, e: &&'static str) -> Handled<&'static str, Self> {
///         if *e == "quit" { Handled::Remove } else { Handled::Ok }
///     }
///     fn terminate(self, _: Removal<()>) {}
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_event::start_link::<&'static str>().unwrap();
///     gen_event::add_sup_handler(m, &HandlerId::<Quitter>::new(), ()).unwrap();
///     gen_event::notify(m, "quit");
///     let exit = receive::<HandlerExit>();
///     assert_eq!((exit.manager, exit.reason), (m.pid(), RemoveReason::Normal));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn add_sup_handler<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    id: &HandlerId<H>,
    args: H::Args,
) -> Result<(), HandlerError> {
    add(manager, id, args, Some(beamlet_runtime::self_pid()))
}

fn add<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    id: &HandlerId<H>,
    args: H::Args,
    supervisor: Option<Pid>,
) -> Result<(), HandlerError> {
    let id = id.any();
    let init = Box::new(move || handler::init::<E, H>(args));
    let request = |from| Request::Add {
        id,
        init,
        supervisor,
        from,
    };
    behaviour::call_server(manager.pid, request, None)?
}

/// Removes the handler `id`, running its `terminate` with
/// [`Removal::Deleted`]`(args)`; returns what `terminate` returned (as
/// `gen_event:delete_handler/3`). See the [module](self) example.
///
/// # Errors
///
/// [`HandlerError::NotInstalled`] if no handler has the id, `Crashed` if
/// `terminate` panicked (the handler is removed all the same), `Manager` if the
/// manager did not answer.
pub fn delete_handler<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    id: &HandlerId<H>,
    args: H::DeleteArgs,
) -> Result<H::Terminated, HandlerError> {
    let id = id.any();
    let args: AnyBox = Box::new(args);
    let request = |from| Request::<E>::Delete { id, args, from };
    let terminated = behaviour::call_server(manager.pid, request, None)??;
    Ok(unbox::<H::Terminated>(terminated))
}

/// Replaces the handler `old` (its `terminate` runs with
/// [`Removal::Swapped`]`(args)`) by the one `new` describes, which goes first in
/// the handler order (as `gen_event:swap_handler/3`). The new handler is added even
/// if `old` is not installed ([`Previous::NotInstalled`]) or its `terminate`
/// panicked; if `old` was supervised, the new handler is supervised by the same
/// process, which gets a [`HandlerExit`] with [`RemoveReason::Swapped`].
///
/// # Errors
///
/// [`HandlerError::Refused`] or `Crashed` if the new handler's `init` failed (the
/// old one is gone all the same), `Manager` if the manager did not answer.
///
/// ```
/// use beamlet::otp::gen_event::{self, CallHandled, EventHandler, Handled, HandlerId, Init, Removal, SwapTo};
/// struct Tally(u64);
/// impl EventHandler<u8> for Tally {
///     type Args = u64; type Call = (); type Reply = u64; type DeleteArgs = (); type Terminated = u64;
///     fn init(n: u64) -> Init<Self> { Init::Ok(Tally(n)) }
///     fn handle_event(&mut self, _: &u8) -> Handled<u8, Self> { self.0 += 1; Handled::Ok }
///     fn handle_call(&mut self, _: ()) -> CallHandled<u8, Self> { CallHandled::Reply(self.0) }
///     fn terminate(self, _: Removal<()>) -> u64 { self.0 }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_event::start_link::<u8>().unwrap();
///     let (a, b) = (HandlerId::<Tally>::instance("a"), HandlerId::<Tally>::instance("b"));
///     gen_event::add_handler(m, &a, 0).unwrap();
///     gen_event::sync_notify(m, 1).unwrap();
///     let to = SwapTo::new(&b, |old| old.terminated().unwrap_or(0) * 100);
///     gen_event::swap_handler(m, &a, (), to).unwrap();
///     assert_eq!(gen_event::call(m, &b, ()), Ok(100));
///     assert_eq!(gen_event::which_handlers(m).unwrap(), vec![b.any()]);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn swap_handler<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    old: &HandlerId<H>,
    args: H::DeleteArgs,
    new: SwapTo<E, H::Terminated>,
) -> Result<(), HandlerError> {
    swap(manager, old, args, new, None)
}

/// [`swap_handler`], with the new handler supervised by the caller (as
/// `gen_event:swap_sup_handler/3`; see [`add_sup_handler`]).
///
/// # Errors
///
/// As [`swap_handler`].
pub fn swap_sup_handler<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    old: &HandlerId<H>,
    args: H::DeleteArgs,
    new: SwapTo<E, H::Terminated>,
) -> Result<(), HandlerError> {
    swap(manager, old, args, new, Some(beamlet_runtime::self_pid()))
}

fn swap<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    old: &HandlerId<H>,
    args: H::DeleteArgs,
    new: SwapTo<E, H::Terminated>,
    supervisor: Option<Pid>,
) -> Result<(), HandlerError> {
    let old = old.any();
    let args: AnyBox = Box::new(args);
    let new = erase_swap(new);
    let request = |from| Request::Swap {
        old,
        args,
        new,
        supervisor,
        from,
    };
    behaviour::call_server(manager.pid, request, None)?
}

/// Calls the handler `id` and waits up to [`DEFAULT_CALL_TIMEOUT`] for its reply (as
/// `gen_event:call/3`). See the [module](self) example.
///
/// # Errors
///
/// [`HandlerError::NotInstalled`] if no handler has the id, `Crashed` if
/// `handle_call` panicked (the handler is removed), `Manager` if the manager did
/// not answer in time.
pub fn call<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    id: &HandlerId<H>,
    request: H::Call,
) -> Result<H::Reply, HandlerError> {
    call_timeout(manager, id, request, DEFAULT_CALL_TIMEOUT)
}

/// [`call`] waiting up to `timeout` (`Duration::MAX` waits for ever).
///
/// # Errors
///
/// As [`call`].
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_event::{self, EventHandler, Handled, HandlerError, HandlerId, Init, Removal};
/// struct Silent;
/// impl EventHandler<u8> for Silent {
///     type Args = (); type Call = (); type Reply = (); type DeleteArgs = (); type Terminated = ();
///     fn init(_: ()) -> Init<Self> { Init::Ok(Silent) }
///     fn handle_event(&mut self, _: &u8) -> Handled<u8, Self> { Handled::Ok }
///     fn terminate(self, _: Removal<()>) {}
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_event::start_link::<u8>().unwrap();
///     let id = HandlerId::<Silent>::new();
///     let r = gen_event::call_timeout(m, &id, (), Duration::from_secs(1));
///     assert_eq!(r, Err(HandlerError::NotInstalled));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn call_timeout<E: Send + 'static, H: EventHandler<E>>(
    manager: EventManager<E>,
    id: &HandlerId<H>,
    request: H::Call,
    timeout: Duration,
) -> Result<H::Reply, HandlerError> {
    let id = id.any();
    let request: AnyBox = Box::new(request);
    let message = |from| Request::<E>::Call { id, request, from };
    let reply = behaviour::call_server(manager.pid, message, Some(timeout))??;
    Ok(unbox::<H::Reply>(reply))
}

/// The installed handlers, most recently added first (as
/// `gen_event:which_handlers/1`). See [`swap_handler`] for an example.
///
/// # Errors
///
/// [`CallError`] if the manager is not running or dies meanwhile.
pub fn which_handlers<E: Send + 'static>(
    manager: EventManager<E>,
) -> Result<Vec<AnyHandlerId>, CallError> {
    behaviour::call_server(manager.pid, Request::<E>::WhichHandlers, None)
}
