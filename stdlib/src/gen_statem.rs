//! Generic state machines (as Erlang's `gen_statem`): a process with a state and
//! data, driven by events, with postponing, inserted events, three kinds of
//! timeout and state enter calls.
//!
//! # The callback contract
//!
//! ```text
//! start / start_link ──> init(Args) ──> Init::Ok { state, data, actions, next_events }
//!                                       | Init::Ignore | Init::Stop(Reason)
//!
//! an event ──> handle_event(&mut Data, &State, Event) ──> Transition
//!     Event::Call(Request, Caller) | Cast(Msg) | Info(Message) | Internal(C)
//!          | Timeout(C) | StateTimeout(C) | GenericTimeout(Name, C)
//!     Transition::NextState(State, ..) | KeepState(..) | RepeatState(..)
//!          | Stop(Reason) | StopAndReply(Reason, Replies)
//!     with actions: reply, hibernate, event / state / generic timeouts (Action),
//!          postpone(Event), next_event(Event)
//!
//! a state change, repeat_state, or the first state, when STATE_ENTER
//!          ──> state_enter(&mut Data, &OldState, &State) ──> Enter
//!     Enter::KeepState(Actions) | RepeatState(Actions) | Stop | StopAndReply
//!
//! on stop, on a callback panic or exit, on an exit signal from the parent (trapped)
//!          ──> terminate(&mut Data, &Reason, &State)   (then the process exits)
//! ```
//!
//! The data is the implementing type (`&mut self`), as for a
//! [`GenServer`](crate::GenServer); the state is a separate type compared with
//! `PartialEq`: `NextState` to an equal state is not a state change.
//!
//! # Callback modes
//!
//! - `handle_event_function`: `State` is any type (typically an enum) and
//!   [`GenStateMachine::handle_event`] matches on the state and the event.
//! - `state_functions`: `State` is [`StateFn<Self>`], a named function per state
//!   (with an optional enter function), and the two callbacks forward to it
//!   (`state.handle(self, event)`, `state.enter(self, old)`); see [`StateFn`].
//!
//! State enter calls are on when [`GenStateMachine::STATE_ENTER`] is `true`.
//!
//! # The state transition (in OTP's order)
//!
//! After `handle_event` returns (or after `init`, for the first state):
//!
//! 1. The actions run in order: replies are sent at once; for each kind of timer
//!    the last action wins.
//! 2. With state enter calls, on a state change, `repeat_state` or the first state,
//!    `state_enter` runs with the old state (the current one when there is no
//!    change); its actions join the transition's, and `Enter::RepeatState` makes
//!    the call again.
//! 3. A postponed event is kept.
//! 4. Any event cancels the event timeout.
//! 5. On a state change the state timeout is cancelled and the postponed events
//!    are queued again, oldest first, before the events already queued.
//! 6. Inserted events (`next_event`) are queued first of all, in order.
//! 7. The transition's timers start: a zero-time timeout is queued after the
//!    queued events and before any message not yet received (so a zero event
//!    timeout survives only if no event is queued: a queued event cancels it).
//! 8. The next event is the oldest queued one, else a zero-time timeout, else the
//!    next message; with nothing queued and `hibernate` asked, the process
//!    hibernates first.
//!
//! Messages are taken in arrival order: calls, casts, timeouts that still run,
//! system messages (see [`sys`](crate::sys): suspend, resume, statistics, state,
//! stop), the parent's `Exit` (when trapping exits: terminate with its reason), and
//! anything else as `Event::Info`. Every callback runs through the one dispatch
//! point shared with [`GenServer`](crate::GenServer), which turns a panic into the
//! exit reason `Panic` and an `exit` into its reason; `terminate` then runs.
//! Starting (with a name, a start timeout, `hibernate_after`, a mailbox limit: the
//! prologue shared by every behaviour, see [`behaviour`]) and stopping
//! follow [`gen_server`](crate::gen_server).
//!
//! # Departures from OTP, for Rust's typing
//!
//! - Calls, replies, casts and internal contents are typed per machine; the
//!   contents of timeouts are the machine's `Internal` type, and generic timeouts
//!   are named by its `TimeoutName`.
//! - `postpone` hands the event back ([`Transition::postpone`]): the callback owns
//!   the event it was given.
//! - What a state enter call may not do (change the state, postpone, insert events)
//!   is left out of [`Enter`]'s type instead of being checked at run time.
//! - `init` takes no postpone (OTP ignores it there).
//! - Timeouts are relative (`Duration`); `Duration::MAX` is OTP's `infinity`.
//! - `stop_and_reply` sends its replies before `terminate` (as OTP; a GenServer's
//!   stop with reply sends it after).
//! - No `change_callback_module`, `enter_loop`, `code_change` or `format_status`.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use beamlet::otp::gen_statem::{self, Action, Event, GenStateMachine, Init, Transition};
//!
//! #[derive(Debug, PartialEq)]
//! enum Light { Off, On }
//!
//! /// The data: how often the light was switched on.
//! struct Lamp { switched_on: u32 }
//!
//! impl GenStateMachine for Lamp {
//!     type Args = ();
//!     type State = Light;
//!     type Call = ();
//!     type Reply = (bool, u32);
//!     type Cast = ();
//!     type Internal = ();
//!     type TimeoutName = ();
//!
//!     fn init(_: ()) -> Init<Self> {
//!         Init::ok(Light::Off, Lamp { switched_on: 0 })
//!     }
//!     fn handle_event(&mut self, light: &Light, event: Event<Self>) -> Transition<Self> {
//!         match (light, event) {
//!             (Light::Off, Event::Cast(())) => {
//!                 self.switched_on += 1;
//!                 // Switch off by itself after a while.
//!                 Transition::next_state(Light::On)
//!                     .action(Action::state_timeout(Duration::from_secs(60), ()))
//!             }
//!             (Light::On, Event::Cast(()) | Event::StateTimeout(())) => {
//!                 Transition::next_state(Light::Off)
//!             }
//!             (light, Event::Call((), from)) => Transition::keep_state()
//!                 .reply(from, (*light == Light::On, self.switched_on)),
//!             (_, _) => Transition::keep_state(),
//!         }
//!     }
//! }
//!
//! let rt = beamlet::Runtime::builder().build().unwrap();
//! let seen = rt.block_on(|| {
//!     let lamp = gen_statem::start_link::<Lamp>(()).unwrap();
//!     gen_statem::cast(lamp, ());
//!     gen_statem::call(lamp, ())
//! }).unwrap();
//! assert_eq!(seen, Ok((true, 1)));
//! rt.shutdown();
//! ```

mod event;
mod machine;
mod result;
mod state_fn;
mod timers;

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use beamlet_runtime::{ExitReason, Pid};

use crate::behaviour;
pub use crate::behaviour::StartOptions;
pub use crate::behaviour::request::{
    CheckResponse, CollectionCheck, CollectionResponse, ReqIdCollection, RequestId, check_response,
    receive_response, wait_response,
};
pub use crate::behaviour::{CallError, Caller, DEFAULT_CALL_TIMEOUT, StartError, reply};
use crate::name::Name;
pub use event::{Action, Event, TimerOp};
use machine::{CallMsg, CastMsg, Current};
pub use result::{Enter, Init, ReplyTo, Transition, TransitionActions};
pub use state_fn::{EnterFn, EventFn, StateFn};

/// A state machine's callbacks. `init` and `handle_event` are required; the
/// defaults make state enter calls do nothing and `terminate` do nothing.
///
/// See the [module](self) for the contract and an example.
pub trait GenStateMachine: Sized + Send + 'static {
    /// What `init` receives.
    type Args: Send + 'static;
    /// The state; a transition to a state that is not equal is a state change.
    type State: PartialEq + Send + 'static;
    /// Requests of [`call`].
    type Call: Send + 'static;
    /// Replies to calls.
    type Reply: Send + 'static;
    /// Messages of [`cast`].
    type Cast: Send + 'static;
    /// The content of internal events and of timeouts (use `()` if unused).
    type Internal: Send + 'static;
    /// The names of generic timeouts (use `()` if unused).
    type TimeoutName: PartialEq + Send + 'static;

    /// Whether to make state enter calls (OTP's `state_enter` callback mode).
    const STATE_ENTER: bool = false;

    /// Whether the machine traps exits from before `init` (see
    /// [`GenServer::TRAP_EXIT`](crate::GenServer::TRAP_EXIT)).
    const TRAP_EXIT: bool = false;

    /// Initialises the machine (runs in the new process, before the start returns).
    fn init(args: Self::Args) -> Init<Self>;

    /// Handles an event in `state` (OTP's state callback).
    fn handle_event(&mut self, state: &Self::State, event: Event<Self>) -> Transition<Self>;

    /// The state enter call (only with [`STATE_ENTER`](Self::STATE_ENTER)): `state`
    /// has just been entered from `old` (equal to `state` for the first state and
    /// for `repeat_state`).
    fn state_enter(&mut self, old: &Self::State, state: &Self::State) -> Enter<Self> {
        let _ = (old, state);
        Enter::keep_state()
    }

    /// Cleans up before the machine exits with `reason`, in `state`.
    fn terminate(&mut self, reason: &ExitReason, state: &Self::State) {
        let _ = (reason, state);
    }

    /// The state and data as the terminating report and
    /// [`sys::get_status`](crate::sys::get_status) show them (OTP's
    /// `format_status`): by default their types' names, since neither need be
    /// `Debug`. Override it to show them, or to hide what must not be logged.
    fn format_status(&self, state: &Self::State) -> String {
        let _ = state;
        format!(
            "state <{}>, data <{}>",
            std::any::type_name::<Self::State>(),
            std::any::type_name::<Self>()
        )
    }
}

/// A typed handle on a running state machine: `Copy`, wraps its [`Pid`].
///
/// ```
/// # use beamlet::otp::gen_statem::{self, Event, GenStateMachine, Init, MachineRef, StartOptions, Transition};
/// # struct Nop;
/// # impl GenStateMachine for Nop {
/// #     type Args = (); type State = (); type Call = (); type Reply = ();
/// #     type Cast = (); type Internal = (); type TimeoutName = ();
/// #     fn init(_: ()) -> Init<Self> { Init::ok((), Nop) }
/// #     fn handle_event(&mut self, _: &(), _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_statem::start_link_with::<Nop>((), StartOptions::new().name("nop")).unwrap();
///     assert_eq!(MachineRef::<Nop>::whereis("nop"), Some(m));
///     assert_eq!(MachineRef::<Nop>::from_pid(m.pid()), m);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub struct MachineRef<M> {
    pid: Pid,
    _machine: PhantomData<fn() -> M>,
}

impl<M> Clone for MachineRef<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for MachineRef<M> {}

impl<M> PartialEq for MachineRef<M> {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}

impl<M> Eq for MachineRef<M> {}

impl<M> std::hash::Hash for MachineRef<M> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.pid.hash(state);
    }
}

impl<M> fmt::Debug for MachineRef<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MachineRef<{}>({})",
            std::any::type_name::<M>(),
            self.pid
        )
    }
}

impl<M> std::convert::From<MachineRef<M>> for Pid {
    fn from(m: MachineRef<M>) -> Pid {
        m.pid
    }
}

// A `MachineRef` is a pid and a type (`PhantomData<fn() -> M>`): it may be sent to,
// and shared with, any process or thread, whatever `M` (checked for every `M`).
const _: () = {
    fn assert_send_sync<T: Send + Sync>() {}
    fn machine_ref_is_send_sync<M>() {
        assert_send_sync::<MachineRef<M>>();
    }
    let _ = machine_ref_is_send_sync::<()>;
};

impl<M: GenStateMachine> MachineRef<M> {
    /// The machine's pid. See [`MachineRef`].
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// A handle on `pid`, trusted to be a machine of type `M`. Not checked here: a
    /// call through a handle of the wrong type is answered at once with
    /// [`CallError::WrongType`] by any behaviour; a cast of the wrong type arrives
    /// as an `Info` event. See [`MachineRef`].
    pub fn from_pid(pid: Pid) -> MachineRef<M> {
        MachineRef {
            pid,
            _machine: PhantomData,
        }
    }

    /// The machine registered as `name` (a local name as `&str`, or any [`Name`]),
    /// trusted to be an `M`. See [`MachineRef`].
    pub fn whereis(name: impl Into<Name>) -> Option<MachineRef<M>> {
        name.into().whereis().map(MachineRef::from_pid)
    }
}

/// Starts a machine without a link (as `gen_statem:start/3`); returns once `init`
/// has finished.
///
/// # Errors
///
/// [`StartError`]: `init` returned `Ignore` or `Stop`, panicked, or the name is
/// taken.
///
/// ```
/// # use beamlet::otp::gen_statem::{self, Event, GenStateMachine, Init, StartError, Transition};
/// # use beamlet::ExitReason;
/// struct Picky;
/// impl GenStateMachine for Picky {
///     type Args = bool; type State = (); type Call = (); type Reply = ();
///     type Cast = (); type Internal = (); type TimeoutName = ();
///     fn init(ok: bool) -> Init<Self> {
///         if ok { Init::ok((), Picky) } else { Init::Stop(ExitReason::custom("no")) }
///     }
///     fn handle_event(&mut self, _: &(), _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert!(gen_statem::start::<Picky>(true).is_ok());
///     let err = gen_statem::start::<Picky>(false).unwrap_err();
///     assert_eq!(err, StartError::Stop(ExitReason::custom("no")));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start<M: GenStateMachine>(args: M::Args) -> Result<MachineRef<M>, StartError> {
    start_with(args, StartOptions::new())
}

/// [`start`] with options (a name, a start timeout, `hibernate_after`, a mailbox
/// limit).
///
/// # Errors
///
/// As [`start`].
///
/// See [`MachineRef`] for an example (with [`start_link_with`]).
#[track_caller]
pub fn start_with<M: GenStateMachine>(
    args: M::Args,
    opts: StartOptions,
) -> Result<MachineRef<M>, StartError> {
    machine::start::<M>(false, args, opts).map(MachineRef::from_pid)
}

/// Starts a machine linked to the caller (as `gen_statem:start_link/3`); returns
/// once `init` has finished. See the [module](self) example.
///
/// # Errors
///
/// As [`start`].
#[track_caller]
pub fn start_link<M: GenStateMachine>(args: M::Args) -> Result<MachineRef<M>, StartError> {
    start_link_with(args, StartOptions::new())
}

/// [`start_link`] with options. See [`MachineRef`] for an example.
///
/// # Errors
///
/// As [`start`].
#[track_caller]
pub fn start_link_with<M: GenStateMachine>(
    args: M::Args,
    opts: StartOptions,
) -> Result<MachineRef<M>, StartError> {
    machine::start::<M>(true, args, opts).map(MachineRef::from_pid)
}

/// Calls the machine (an `Event::Call`) and waits up to [`DEFAULT_CALL_TIMEOUT`]
/// for the reply. See the [module](self) example.
///
/// # Errors
///
/// [`CallError`]: the machine is not running, exited during the call (with its
/// reason), did not reply in time (a late reply is dropped), or is the caller.
pub fn call<M: GenStateMachine>(
    machine: MachineRef<M>,
    request: M::Call,
) -> Result<M::Reply, CallError> {
    call_timeout(machine, request, DEFAULT_CALL_TIMEOUT)
}

/// Calls the machine and waits up to `timeout` for the reply (`Duration::MAX` waits
/// for ever).
///
/// # Errors
///
/// As [`call`].
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_statem::{self, CallError, Event, GenStateMachine, Init, Transition};
/// struct Mute;
/// impl GenStateMachine for Mute {
///     type Args = (); type State = (); type Call = (); type Reply = ();
///     type Cast = (); type Internal = (); type TimeoutName = ();
///     fn init(_: ()) -> Init<Self> { Init::ok((), Mute) }
///     fn handle_event(&mut self, _: &(), _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_statem::start_link::<Mute>(()).unwrap();
///     let r = gen_statem::call_timeout(m, (), Duration::from_millis(10));
///     assert_eq!(r, Err(CallError::Timeout));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn call_timeout<M: GenStateMachine>(
    machine: MachineRef<M>,
    request: M::Call,
    timeout: Duration,
) -> Result<M::Reply, CallError> {
    behaviour::call_server(machine.pid, |from| CallMsg { from, request }, Some(timeout))
}

/// Sends an `Event::Call` without waiting for the reply (as
/// `gen_statem:send_request/2`): collect it later with [`wait_response`],
/// [`receive_response`] or [`check_response`] (see
/// [`behaviour::request`] for the protocol). Never blocks; a dead
/// machine's error comes with the response.
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_statem::{self, Event, GenStateMachine, Init, Transition};
/// struct Echo;
/// impl GenStateMachine for Echo {
///     type Args = (); type State = (); type Call = u32; type Reply = u32;
///     type Cast = (); type Internal = (); type TimeoutName = ();
///     fn init(_: ()) -> Init<Self> { Init::ok((), Echo) }
///     fn handle_event(&mut self, _: &(), e: Event<Self>) -> Transition<Self> {
///         match e {
///             Event::Call(n, from) => Transition::keep_state().reply(from, n),
///             _ => Transition::keep_state(),
///         }
///     }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_statem::start_link::<Echo>(()).unwrap();
///     let req = gen_statem::send_request(m, 3);
///     assert_eq!(gen_statem::receive_response(req, Duration::from_secs(5)), Ok(3));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn send_request<M: GenStateMachine>(
    machine: MachineRef<M>,
    request: M::Call,
) -> RequestId<M::Reply> {
    behaviour::request::send_server_request(machine.pid, |from| CallMsg { from, request })
}

/// [`send_request`], adding the request to `reqids` with `label` (as
/// `gen_statem:send_request/4`).
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_statem::{self, CollectionResponse, Event, GenStateMachine, Init, ReqIdCollection, Transition};
/// # struct Echo;
/// # impl GenStateMachine for Echo {
/// #     type Args = (); type State = (); type Call = u32; type Reply = u32;
/// #     type Cast = (); type Internal = (); type TimeoutName = ();
/// #     fn init(_: ()) -> Init<Self> { Init::ok((), Echo) }
/// #     fn handle_event(&mut self, _: &(), e: Event<Self>) -> Transition<Self> {
/// #         match e {
/// #             Event::Call(n, from) => Transition::keep_state().reply(from, n),
/// #             _ => Transition::keep_state(),
/// #         }
/// #     }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_statem::start_link::<Echo>(()).unwrap();
///     let mut reqs = ReqIdCollection::new();
///     gen_statem::send_request_labeled(m, 7, 'a', &mut reqs);
///     let r = reqs.wait_response(Duration::from_secs(5), true);
///     assert!(matches!(r, CollectionResponse::Response(Ok(7), 'a')));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn send_request_labeled<M: GenStateMachine, L>(
    machine: MachineRef<M>,
    request: M::Call,
    label: L,
    reqids: &mut ReqIdCollection<M::Reply, L>,
) {
    reqids.add(send_request(machine, request), label);
}

/// Sends an `Event::Cast` without waiting (as `gen_statem:cast/2`). Never fails: a
/// cast to a dead machine is dropped. See the [module](self) example.
pub fn cast<M: GenStateMachine>(machine: MachineRef<M>, msg: M::Cast) {
    let _ = beamlet_runtime::send(machine.pid, CastMsg(msg));
}

/// Stops a machine (as `gen_statem:stop/3`): it runs `terminate` with `reason` and
/// exits; returns once it has exited.
///
/// # Errors
///
/// `NoProc` if it is not running, `Exit` if it exited with another reason (its
/// `terminate` panicked), `Timeout` if it did not exit within `timeout`.
///
/// ```
/// # use std::time::Duration;
/// # use beamlet::otp::gen_statem::{self, CallError, Event, GenStateMachine, Init, Transition};
/// # use beamlet::ExitReason;
/// # struct Nop;
/// # impl GenStateMachine for Nop {
/// #     type Args = (); type State = (); type Call = (); type Reply = ();
/// #     type Cast = (); type Internal = (); type TimeoutName = ();
/// #     fn init(_: ()) -> Init<Self> { Init::ok((), Nop) }
/// #     fn handle_event(&mut self, _: &(), _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
/// # }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_statem::start::<Nop>(()).unwrap();
///     assert_eq!(gen_statem::stop(m, ExitReason::Normal, Duration::from_secs(5)), Ok(()));
///     assert_eq!(gen_statem::stop(m, ExitReason::Normal, Duration::from_secs(5)), Err(CallError::NoProc));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn stop<M: GenStateMachine>(
    machine: MachineRef<M>,
    reason: ExitReason,
    timeout: Duration,
) -> Result<(), CallError> {
    crate::gen_server::stop(machine.pid, reason, timeout)
}

/// Runs `f` on the state and data inside the machine (a system message); returns
/// its result.
fn with_current<M: GenStateMachine, T: Send + 'static>(
    machine: MachineRef<M>,
    f: impl FnOnce(&mut Current<M>) -> T + Send + 'static,
) -> Result<T, CallError> {
    let type_name = std::any::type_name::<M>();
    crate::sys::with_state(machine.pid, "state machine", type_name, f)
}

/// A copy of the machine's state and data (as `sys:get_state/1` on a
/// `gen_statem`).
///
/// # Errors
///
/// [`CallError`] if the machine does not answer.
///
/// # Panics
///
/// If the process is not a machine of type `M` (a [`MachineRef`] made from a wrong
/// pid).
///
/// ```
/// # use beamlet::otp::gen_statem::{self, Event, GenStateMachine, Init, Transition};
/// #[derive(Clone, Debug, PartialEq)]
/// struct Count(u32);
/// impl GenStateMachine for Count {
///     type Args = (); type State = bool; type Call = (); type Reply = ();
///     type Cast = (); type Internal = (); type TimeoutName = ();
///     fn init(_: ()) -> Init<Self> { Init::ok(false, Count(0)) }
///     fn handle_event(&mut self, _: &bool, _: Event<Self>) -> Transition<Self> {
///         self.0 += 1;
///         Transition::next_state(true)
///     }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = gen_statem::start_link::<Count>(()).unwrap();
///     gen_statem::cast(m, ());
///     assert_eq!(gen_statem::get_state(m), Ok((true, Count(1))));
///     gen_statem::replace_state(m, |state, data| { *state = false; data.0 = 9; }).unwrap();
///     assert_eq!(gen_statem::get_state(m), Ok((false, Count(9))));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn get_state<M>(machine: MachineRef<M>) -> Result<(M::State, M), CallError>
where
    M: GenStateMachine + Clone,
    M::State: Clone,
{
    with_current(machine, |c: &mut Current<M>| {
        (c.state.clone(), c.data.clone())
    })
}

/// Changes the machine's state and data with `f`, run inside the machine (as
/// `sys:replace_state/2`). Changing the state this way is not a state change: no
/// enter call, no retry of postponed events. See [`get_state`] for an example.
///
/// # Errors
///
/// [`CallError`] if the machine does not answer, or `Exit` with `Panic` if `f`
/// panicked (which ends the machine).
///
/// # Panics
///
/// As [`get_state`].
pub fn replace_state<M: GenStateMachine>(
    machine: MachineRef<M>,
    f: impl FnOnce(&mut M::State, &mut M) + Send + 'static,
) -> Result<(), CallError> {
    with_current(machine, |c: &mut Current<M>| f(&mut c.state, &mut c.data))
}
