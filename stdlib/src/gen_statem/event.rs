//! Events a state machine handles and the actions it may return (OTP's
//! `event_type()`, `enter_action()` and timeout actions).

use std::fmt;
use std::time::Duration;

use beamlet_runtime::Message;

use super::GenStateMachine;
use crate::behaviour::Caller;

/// An event delivered to [`GenStateMachine::handle_event`] (OTP's event type with its
/// content).
///
/// ```
/// use beamlet::otp::gen_statem::{Event, GenStateMachine, Init, Transition};
/// # struct M;
/// # impl GenStateMachine for M {
/// #     type Args = (); type State = (); type Call = (); type Reply = ();
/// #     type Cast = u8; type Internal = (); type TimeoutName = ();
/// #     fn init(_: ()) -> Init<Self> { Init::ok((), M) }
/// #     fn handle_event(&mut self, _: &(), _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
/// # }
/// let e: Event<M> = Event::Cast(3);
/// assert!(matches!(e, Event::Cast(3)));
/// assert_eq!(format!("{e:?}"), "Cast(..)");
/// ```
pub enum Event<M: GenStateMachine> {
    /// A [`call`](super::call): answer with [`Action::reply`] (or
    /// [`reply`](super::reply) later) through the `Caller`.
    Call(M::Call, Caller<M::Reply>),
    /// A [`cast`](super::cast).
    Cast(M::Cast),
    /// Any other message (OTP's `info`), type-erased.
    Info(Message),
    /// An event the machine inserted with [`Transition::next_event`](super::Transition::next_event)
    /// (OTP's `internal`).
    Internal(M::Internal),
    /// The event timeout expired (OTP's `timeout`): no event arrived in time.
    Timeout(M::Internal),
    /// The state timeout expired (OTP's `state_timeout`): the state did not change in
    /// time.
    StateTimeout(M::Internal),
    /// The generic timeout of this name expired (OTP's `{timeout, Name}`).
    GenericTimeout(M::TimeoutName, M::Internal),
}

impl<M: GenStateMachine> fmt::Debug for Event<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The contents have no `Debug` bound: only the kind is shown.
        f.write_str(match self {
            Event::Call(..) => "Call(..)",
            Event::Cast(..) => "Cast(..)",
            Event::Info(..) => "Info(..)",
            Event::Internal(..) => "Internal(..)",
            Event::Timeout(..) => "Timeout(..)",
            Event::StateTimeout(..) => "StateTimeout(..)",
            Event::GenericTimeout(..) => "GenericTimeout(..)",
        })
    }
}

/// What to do with one timer (OTP's `{Type, Time, Content}`, `{Type, cancel}` and
/// `{Type, update, Content}`).
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_statem::TimerOp;
/// let op = TimerOp::Start(Duration::from_secs(1), "lock");
/// assert!(matches!(op, TimerOp::Start(_, "lock")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerOp<C> {
    /// (Re)start the timer: its event comes with this content after the duration.
    /// `Duration::ZERO` starts no timer: the event is queued after the events
    /// already queued and before any new message. `Duration::MAX` (OTP's `infinity`)
    /// cancels.
    Start(Duration, C),
    /// Cancel the timer if it runs.
    Cancel,
    /// Change the content of the running timer; if none runs, the event is queued
    /// as for a zero-time start.
    Update(C),
}

/// An action allowed everywhere: in a transition, a state enter call and `init`
/// (OTP's `enter_action()`).
///
/// Timer actions of the same kind (and name) override earlier ones in the same
/// result: the last one wins.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_statem::{Action, Event, GenStateMachine, Init, TimerOp, Transition};
/// # struct M;
/// # impl GenStateMachine for M {
/// #     type Args = (); type State = (); type Call = (); type Reply = ();
/// #     type Cast = (); type Internal = &'static str; type TimeoutName = &'static str;
/// #     fn init(_: ()) -> Init<Self> { Init::ok((), M) }
/// #     fn handle_event(&mut self, _: &(), _: Event<Self>) -> Transition<Self> { Transition::keep_state() }
/// # }
/// let a: Action<M> = Action::generic_timeout("retry", Duration::from_millis(50), "again");
/// assert!(matches!(a, Action::GenericTimeout("retry", TimerOp::Start(_, "again"))));
/// ```
pub enum Action<M: GenStateMachine> {
    /// Reply to a call now.
    Reply(Caller<M::Reply>, M::Reply),
    /// Hibernate before waiting for the next message (ignored while events are
    /// queued, as OTP).
    Hibernate,
    /// The event timeout: cancelled by any event.
    EventTimeout(TimerOp<M::Internal>),
    /// The state timeout: cancelled by a state change (not by a repeat of the state).
    StateTimeout(TimerOp<M::Internal>),
    /// A generic timeout, by name: cancelled only by a `Cancel` or its own expiry.
    GenericTimeout(M::TimeoutName, TimerOp<M::Internal>),
}

impl<M: GenStateMachine> Action<M> {
    /// Replies `value` to the caller `from`.
    ///
    /// See [`Transition`](super::Transition) for an example.
    pub fn reply(from: Caller<M::Reply>, value: M::Reply) -> Action<M> {
        Action::Reply(from, value)
    }

    /// Starts the event timeout.
    ///
    /// See [`Action`] for an example of a timer action.
    pub fn event_timeout(after: Duration, content: M::Internal) -> Action<M> {
        Action::EventTimeout(TimerOp::Start(after, content))
    }

    /// Starts (or restarts) the state timeout.
    ///
    /// See [`Action`] for an example of a timer action.
    pub fn state_timeout(after: Duration, content: M::Internal) -> Action<M> {
        Action::StateTimeout(TimerOp::Start(after, content))
    }

    /// Cancels the state timeout.
    ///
    /// See [`Action`] for an example of a timer action.
    pub fn cancel_state_timeout() -> Action<M> {
        Action::StateTimeout(TimerOp::Cancel)
    }

    /// Starts (or restarts) the generic timeout `name`.
    ///
    /// See [`Action`] for an example.
    pub fn generic_timeout(
        name: M::TimeoutName,
        after: Duration,
        content: M::Internal,
    ) -> Action<M> {
        Action::GenericTimeout(name, TimerOp::Start(after, content))
    }

    /// Cancels the generic timeout `name`.
    ///
    /// See [`Action`] for an example of a timer action.
    pub fn cancel_generic_timeout(name: M::TimeoutName) -> Action<M> {
        Action::GenericTimeout(name, TimerOp::Cancel)
    }
}

impl<M: GenStateMachine> fmt::Debug for Action<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = |op: &TimerOp<M::Internal>| match op {
            TimerOp::Start(d, _) => format!("Start({d:?}, ..)"),
            TimerOp::Cancel => "Cancel".to_owned(),
            TimerOp::Update(_) => "Update(..)".to_owned(),
        };
        match self {
            Action::Reply(from, _) => write!(f, "Reply({from:?}, ..)"),
            Action::Hibernate => f.write_str("Hibernate"),
            Action::EventTimeout(o) => write!(f, "EventTimeout({})", op(o)),
            Action::StateTimeout(o) => write!(f, "StateTimeout({})", op(o)),
            Action::GenericTimeout(_, o) => write!(f, "GenericTimeout(.., {})", op(o)),
        }
    }
}

/// The three kinds of timer a machine keeps; at most one of each (one per name
/// for generic timeouts) runs at a time.
#[derive(Debug, PartialEq)]
pub(crate) enum TimeoutKind<N> {
    Event,
    State,
    Generic(N),
}

impl<M: GenStateMachine> Event<M> {
    /// The event a timer of `kind` delivers with `content`.
    pub(crate) fn timeout(kind: TimeoutKind<M::TimeoutName>, content: M::Internal) -> Event<M> {
        match kind {
            TimeoutKind::Event => Event::Timeout(content),
            TimeoutKind::State => Event::StateTimeout(content),
            TimeoutKind::Generic(name) => Event::GenericTimeout(name, content),
        }
    }
}
