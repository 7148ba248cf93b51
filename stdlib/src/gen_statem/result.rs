//! What the callbacks return: [`Init`], [`Transition`] (from an event) and [`Enter`]
//! (from a state enter call), each built with a constructor and chained actions.

use std::fmt;

use beamlet_runtime::ExitReason;

use super::{Action, Event, GenStateMachine};
use crate::behaviour::Caller;

/// A reply sent before a stop (OTP's `reply_action()` in `stop_and_reply`).
pub type ReplyTo<M> = (
    Caller<<M as GenStateMachine>::Reply>,
    <M as GenStateMachine>::Reply,
);

/// What `init` returns (OTP's `{ok, State, Data, Actions}`, `ignore`, `{stop,
/// Reason}`). Build a start with [`Init::ok`] and chain actions.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_statem::{Action, Event, GenStateMachine, Init, Transition};
/// # #[derive(Debug)] struct M;
/// # impl GenStateMachine for M {
/// #     type Args = (); type State = u8; type Call = (); type Reply = ();
/// #     type Cast = (); type Internal = (); type TimeoutName = ();
/// #     fn init(_: ()) -> Init<Self> { Init::ok(0, M) }
/// #     fn handle_event(&mut self, _: &u8, _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
/// # }
/// let i: Init<M> = Init::ok(0, M)
///     .action(Action::state_timeout(Duration::from_secs(1), ()))
///     .next_event(Event::Internal(()));
/// assert!(matches!(i, Init::Ok { state: 0, .. }));
/// ```
pub enum Init<M: GenStateMachine> {
    /// Start in `state` with `data`; run `actions` and then the `next_events` (in
    /// order) before any message.
    Ok {
        /// The first state.
        state: M::State,
        /// The machine's data (the implementing value).
        data: M,
        /// Actions run on entering the first state (postponing is impossible: there
        /// is no event).
        actions: Vec<Action<M>>,
        /// Events handled first, in order.
        next_events: Vec<Event<M>>,
    },
    /// Do not start: the start returns [`StartError::Ignore`](crate::StartError::Ignore).
    Ignore,
    /// Fail: the start returns [`StartError::Stop`](crate::StartError::Stop) and the
    /// process exits with the reason.
    Stop(ExitReason),
}

impl<M: GenStateMachine> Init<M> {
    /// Starts in `state` with `data`, no actions. See [`Init`].
    pub fn ok(state: M::State, data: M) -> Init<M> {
        Init::Ok {
            state,
            data,
            actions: Vec::new(),
            next_events: Vec::new(),
        }
    }

    /// Adds an action. See [`Init`].
    ///
    /// # Panics
    ///
    /// On `Ignore` or `Stop`, which take none (the start then fails with the panic).
    pub fn action(mut self, action: Action<M>) -> Init<M> {
        match &mut self {
            Init::Ok { actions, .. } => actions.push(action),
            _ => panic!("gen_statem: only Init::Ok takes actions"),
        }
        self
    }

    /// Adds an event to handle before any message. See [`Init`].
    ///
    /// # Panics
    ///
    /// As [`action`](Init::action).
    pub fn next_event(mut self, event: Event<M>) -> Init<M> {
        match &mut self {
            Init::Ok { next_events, .. } => next_events.push(event),
            _ => panic!("gen_statem: only Init::Ok takes next events"),
        }
        self
    }
}

impl<M: GenStateMachine> fmt::Debug for Init<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Init::Ok {
                actions,
                next_events,
                ..
            } => write!(
                f,
                "Ok {{ actions: {actions:?}, next_events: {next_events:?} }}"
            ),
            Init::Ignore => f.write_str("Ignore"),
            Init::Stop(r) => write!(f, "Stop({r:?})"),
        }
    }
}

/// The actions of a transition from an event (OTP's `action()` list): the
/// [`Action`]s, the events to insert, and the event to postpone.
pub struct TransitionActions<M: GenStateMachine> {
    pub(crate) actions: Vec<Action<M>>,
    pub(crate) next_events: Vec<Event<M>>,
    pub(crate) postponed: Option<Event<M>>,
}

impl<M: GenStateMachine> TransitionActions<M> {
    fn new() -> TransitionActions<M> {
        TransitionActions {
            actions: Vec::new(),
            next_events: Vec::new(),
            postponed: None,
        }
    }
}

impl<M: GenStateMachine> fmt::Debug for TransitionActions<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransitionActions")
            .field("actions", &self.actions)
            .field("next_events", &self.next_events)
            .field("postponed", &self.postponed)
            .finish()
    }
}

/// What [`GenStateMachine::handle_event`] returns (OTP's state callback result).
/// Build it with a constructor and chain actions:
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_statem::{Action, Event, GenStateMachine, Init, Transition};
/// #[derive(Debug, PartialEq)]
/// enum Door { Closed, Open }
/// struct M;
/// impl GenStateMachine for M {
///     type Args = (); type State = Door; type Call = (); type Reply = bool;
///     type Cast = (); type Internal = (); type TimeoutName = ();
///     fn init(_: ()) -> Init<Self> { Init::ok(Door::Closed, M) }
///     fn handle_event(&mut self, state: &Door, event: Event<Self>) -> Transition<Self> {
///         match (state, event) {
///             (Door::Closed, Event::Call((), from)) => Transition::next_state(Door::Open)
///                 .action(Action::reply(from, true))
///                 .action(Action::state_timeout(Duration::from_secs(10), ())),
///             (Door::Open, Event::StateTimeout(())) => Transition::next_state(Door::Closed),
///             (Door::Open, e @ Event::Call(..)) => Transition::keep_state().postpone(e),
///             _ => Transition::keep_state(),
///         }
///     }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let opened = rt.block_on(|| {
///     let door = beamlet::otp::gen_statem::start_link::<M>(()).unwrap();
///     beamlet::otp::gen_statem::call(door, ())
/// }).unwrap();
/// assert_eq!(opened, Ok(true));
/// rt.shutdown();
/// ```
pub enum Transition<M: GenStateMachine> {
    /// Go to this state (OTP's `next_state`); a _state change_ if it differs from
    /// the current one.
    NextState(M::State, TransitionActions<M>),
    /// Stay in the state (OTP's `keep_state`); no state enter call.
    KeepState(TransitionActions<M>),
    /// Stay in the state, but make the state enter call again (OTP's
    /// `repeat_state`); postponed events are not retried and the state timeout
    /// keeps running.
    RepeatState(TransitionActions<M>),
    /// Stop (OTP's `stop`): `terminate` runs and the process exits with the reason.
    Stop(ExitReason),
    /// Send the replies, then stop (OTP's `stop_and_reply`).
    StopAndReply(ExitReason, Vec<ReplyTo<M>>),
}

impl<M: GenStateMachine> Transition<M> {
    /// Goes to `state`. See [`Transition`].
    pub fn next_state(state: M::State) -> Transition<M> {
        Transition::NextState(state, TransitionActions::new())
    }

    /// Stays in the current state. See [`Transition`].
    pub fn keep_state() -> Transition<M> {
        Transition::KeepState(TransitionActions::new())
    }

    /// Stays in the current state and repeats the state enter call. See
    /// [`Transition`].
    pub fn repeat_state() -> Transition<M> {
        Transition::RepeatState(TransitionActions::new())
    }

    /// Stops with `reason`; chain [`reply`](Transition::reply) to reply first.
    pub fn stop(reason: ExitReason) -> Transition<M> {
        Transition::Stop(reason)
    }

    /// Adds an action. See [`Transition`].
    ///
    /// # Panics
    ///
    /// On a stop, which takes no actions (use [`reply`](Transition::reply) to reply
    /// before stopping): the machine then exits with the panic.
    pub fn action(mut self, action: Action<M>) -> Transition<M> {
        self.actions_mut("action").actions.push(action);
        self
    }

    /// Replies to a call: on a stop, before `terminate` runs (OTP's
    /// `stop_and_reply`), otherwise as [`Action::reply`].
    pub fn reply(self, from: Caller<M::Reply>, value: M::Reply) -> Transition<M> {
        match self {
            Transition::Stop(reason) => Transition::StopAndReply(reason, vec![(from, value)]),
            Transition::StopAndReply(reason, mut replies) => {
                replies.push((from, value));
                Transition::StopAndReply(reason, replies)
            }
            other => other.action(Action::Reply(from, value)),
        }
    }

    /// Postpones `event`, the one being handled, handed back: it is retried after
    /// the next state change (OTP's `postpone`; the last one wins). See
    /// [`Transition`].
    ///
    /// # Panics
    ///
    /// On a stop.
    pub fn postpone(mut self, event: Event<M>) -> Transition<M> {
        self.actions_mut("postpone").postponed = Some(event);
        self
    }

    /// Inserts `event` to be handled before any queued event and any message,
    /// after the events inserted before it by this transition (OTP's
    /// `next_event`).
    ///
    /// # Panics
    ///
    /// On a stop.
    pub fn next_event(mut self, event: Event<M>) -> Transition<M> {
        self.actions_mut("next_event").next_events.push(event);
        self
    }

    fn actions_mut(&mut self, what: &str) -> &mut TransitionActions<M> {
        match self {
            Transition::NextState(_, a) | Transition::KeepState(a) | Transition::RepeatState(a) => {
                a
            }
            Transition::Stop(_) | Transition::StopAndReply(..) => {
                panic!("gen_statem: a stop takes no {what} (reply is the only addition)")
            }
        }
    }
}

impl<M: GenStateMachine> fmt::Debug for Transition<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transition::NextState(_, a) => write!(f, "NextState(.., {a:?})"),
            Transition::KeepState(a) => write!(f, "KeepState({a:?})"),
            Transition::RepeatState(a) => write!(f, "RepeatState({a:?})"),
            Transition::Stop(r) => write!(f, "Stop({r:?})"),
            Transition::StopAndReply(r, replies) => {
                write!(f, "StopAndReply({r:?}, {} replies)", replies.len())
            }
        }
    }
}

/// What a state enter call ([`GenStateMachine::state_enter`]) returns (OTP's
/// `state_enter_result()`): it cannot change the state, postpone or insert events,
/// so those are not in the type.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_statem::{Action, Enter, Event, GenStateMachine, Init, Transition};
/// # struct M;
/// # impl GenStateMachine for M {
/// #     type Args = (); type State = u8; type Call = (); type Reply = ();
/// #     type Cast = (); type Internal = (); type TimeoutName = ();
/// #     fn init(_: ()) -> Init<Self> { Init::ok(0, M) }
/// #     fn handle_event(&mut self, _: &u8, _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
/// # }
/// let e: Enter<M> = Enter::keep_state().action(Action::state_timeout(Duration::from_secs(1), ()));
/// assert!(matches!(e, Enter::KeepState(ref actions) if actions.len() == 1));
/// ```
pub enum Enter<M: GenStateMachine> {
    /// Done entering; run the actions.
    KeepState(Vec<Action<M>>),
    /// Run the actions and make the state enter call again (with the same old
    /// state).
    RepeatState(Vec<Action<M>>),
    /// Stop: `terminate` runs and the process exits with the reason.
    Stop(ExitReason),
    /// Send the replies, then stop.
    StopAndReply(ExitReason, Vec<ReplyTo<M>>),
}

impl<M: GenStateMachine> Enter<M> {
    /// Done entering, no actions. See [`Enter`].
    pub fn keep_state() -> Enter<M> {
        Enter::KeepState(Vec::new())
    }

    /// Repeat the state enter call. See [`Enter`].
    pub fn repeat_state() -> Enter<M> {
        Enter::RepeatState(Vec::new())
    }

    /// Stops with `reason`.
    ///
    /// ```
    /// # use beamlet::otp::gen_statem::{Enter, Event, GenStateMachine, Init, Transition};
    /// # struct M;
    /// # impl GenStateMachine for M {
    /// #     type Args = (); type State = u8; type Call = (); type Reply = ();
    /// #     type Cast = (); type Internal = (); type TimeoutName = ();
    /// #     fn init(_: ()) -> Init<Self> { Init::ok(0, M) }
    /// #     fn handle_event(&mut self, _: &u8, _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
    /// # }
    /// let e: Enter<M> = Enter::stop(beamlet::ExitReason::Normal);
    /// assert!(matches!(e, Enter::Stop(_)));
    /// ```
    pub fn stop(reason: ExitReason) -> Enter<M> {
        Enter::Stop(reason)
    }

    /// Adds an action. See [`Enter`].
    ///
    /// # Panics
    ///
    /// On a stop, which takes no actions (use [`reply`](Enter::reply) to reply
    /// before stopping): the machine then exits with the panic.
    pub fn action(mut self, action: Action<M>) -> Enter<M> {
        match &mut self {
            Enter::KeepState(a) | Enter::RepeatState(a) => a.push(action),
            Enter::Stop(_) | Enter::StopAndReply(..) => {
                panic!("gen_statem: a stop takes no action (reply is the only addition)")
            }
        }
        self
    }

    /// Replies to a call: on a stop, before `terminate` runs, otherwise as
    /// [`Action::reply`].
    ///
    /// ```
    /// # use beamlet::otp::gen_statem::{Enter, Event, GenStateMachine, Init, Transition};
    /// # struct M;
    /// # impl GenStateMachine for M {
    /// #     type Args = (); type State = u8; type Call = (); type Reply = ();
    /// #     type Cast = (); type Internal = (); type TimeoutName = ();
    /// #     fn init(_: ()) -> Init<Self> { Init::ok(0, M) }
    /// #     fn handle_event(&mut self, _: &u8, _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
    /// # }
    /// fn stop_with_reply(from: beamlet::otp::gen_statem::Caller<()>) -> Enter<M> {
    ///     Enter::stop(beamlet::ExitReason::Normal).reply(from, ())
    /// }
    /// ```
    pub fn reply(self, from: Caller<M::Reply>, value: M::Reply) -> Enter<M> {
        match self {
            Enter::Stop(reason) => Enter::StopAndReply(reason, vec![(from, value)]),
            Enter::StopAndReply(reason, mut replies) => {
                replies.push((from, value));
                Enter::StopAndReply(reason, replies)
            }
            other => other.action(Action::Reply(from, value)),
        }
    }
}

impl<M: GenStateMachine> fmt::Debug for Enter<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Enter::KeepState(a) => write!(f, "KeepState({a:?})"),
            Enter::RepeatState(a) => write!(f, "RepeatState({a:?})"),
            Enter::Stop(r) => write!(f, "Stop({r:?})"),
            Enter::StopAndReply(r, replies) => {
                write!(f, "StopAndReply({r:?}, {} replies)", replies.len())
            }
        }
    }
}
