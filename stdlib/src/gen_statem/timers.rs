//! The machine's timers: at most one event timeout, one state timeout and one
//! generic timeout per name.
//!
//! 1. A running timer is a runtime `send_after` of a [`TimerFired`] carrying a tag
//!    unique within the machine. The table maps kind → (content, tag).
//! 2. Cancelling or restarting a timer cancels the runtime timer; if it had already
//!    fired, its `TimerFired` waits in the mailbox with a tag the table no longer
//!    holds, and [`Timers::fired`] drops it. So a cancelled timeout never becomes an
//!    event, without having to search the mailbox.
//! 3. A zero-time timer starts no runtime timer: it is kept in the table as
//!    `Zero` and delivered by [`Timers::take_zero`], which the loop asks only when no
//!    event is queued, before taking a message (OTP's "after queued events, before
//!    any not yet received one"). Zero timers come out in the order they were set;
//!    cancelling one (for example an event timeout by a queued event) removes it.
//! 4. The timer actions of one transition are first collected in a [`TimerPlan`]
//!    (the last action of each kind wins) and applied after the transition's
//!    cancellations.

use std::time::Duration;

use beamlet_runtime::{TimerRef, cancel_timer, self_pid, send_after};

use super::event::TimeoutKind;
use super::{Action, Event, GenStateMachine, TimerOp};

/// The message a running timer sends the machine.
pub(crate) struct TimerFired {
    tag: u64,
}

/// How a timer in the table is armed.
enum Armed {
    Running { timer: TimerRef, tag: u64 },
    Zero,
}

struct Timer<M: GenStateMachine> {
    kind: TimeoutKind<M::TimeoutName>,
    content: M::Internal,
    armed: Armed,
}

/// The timer table (few entries: a vector searched linearly, in arming order).
pub(crate) struct Timers<M: GenStateMachine> {
    active: Vec<Timer<M>>,
    next_tag: u64,
}

/// The timer actions of one transition, last of each kind winning, in the order of
/// those last actions.
pub(crate) struct TimerPlan<M: GenStateMachine> {
    ops: Vec<PlannedOp<M>>,
}

/// One planned timer action: which timer, and what to do with it.
type PlannedOp<M> = (
    TimeoutKind<<M as GenStateMachine>::TimeoutName>,
    TimerOp<<M as GenStateMachine>::Internal>,
);

impl<M: GenStateMachine> TimerPlan<M> {
    pub(crate) fn new() -> TimerPlan<M> {
        TimerPlan { ops: Vec::new() }
    }

    /// Records a timer action; returns any other action back.
    pub(crate) fn take(&mut self, action: Action<M>) -> Option<Action<M>> {
        let (kind, op) = match action {
            Action::EventTimeout(op) => (TimeoutKind::Event, op),
            Action::StateTimeout(op) => (TimeoutKind::State, op),
            Action::GenericTimeout(name, op) => (TimeoutKind::Generic(name), op),
            other => return Some(other),
        };
        self.ops.retain(|(k, _)| *k != kind);
        self.ops.push((kind, op));
        None
    }
}

impl<M: GenStateMachine> Timers<M> {
    pub(crate) fn new() -> Timers<M> {
        Timers {
            active: Vec::new(),
            next_tag: 0,
        }
    }

    /// Applies a transition's timer actions.
    pub(crate) fn apply(&mut self, plan: TimerPlan<M>) {
        for (kind, op) in plan.ops {
            match op {
                TimerOp::Start(after, _) if after == Duration::MAX => self.cancel(&kind),
                TimerOp::Start(after, content) => self.start(kind, after, content),
                TimerOp::Cancel => self.cancel(&kind),
                TimerOp::Update(content) => match self.position(&kind) {
                    Some(i) => self.active[i].content = content,
                    None => self.start(kind, Duration::ZERO, content),
                },
            }
        }
    }

    fn start(&mut self, kind: TimeoutKind<M::TimeoutName>, after: Duration, content: M::Internal) {
        self.cancel(&kind);
        let armed = if after.is_zero() {
            Armed::Zero
        } else {
            self.next_tag += 1;
            let tag = self.next_tag;
            let timer = send_after(after, self_pid(), TimerFired { tag });
            Armed::Running { timer, tag }
        };
        self.active.push(Timer {
            kind,
            content,
            armed,
        });
    }

    fn position(&self, kind: &TimeoutKind<M::TimeoutName>) -> Option<usize> {
        self.active.iter().position(|t| t.kind == *kind)
    }

    /// Cancels the timer of `kind` if one runs (see the module's step 2).
    pub(crate) fn cancel(&mut self, kind: &TimeoutKind<M::TimeoutName>) {
        if let Some(i) = self.position(kind) {
            if let Armed::Running { timer, .. } = &self.active.remove(i).armed {
                let _ = cancel_timer(timer);
            }
        }
    }

    /// The event of the timer whose message this is, if it still runs.
    pub(crate) fn fired(&mut self, msg: &TimerFired) -> Option<Event<M>> {
        let i = self
            .active
            .iter()
            .position(|t| matches!(t.armed, Armed::Running { tag, .. } if tag == msg.tag))?;
        let t = self.active.remove(i);
        Some(Event::timeout(t.kind, t.content))
    }

    /// `true` if a zero-time timer waits to be delivered.
    pub(crate) fn has_zero(&self) -> bool {
        self.active.iter().any(|t| matches!(t.armed, Armed::Zero))
    }

    /// The event of the oldest zero-time timer, if any.
    pub(crate) fn take_zero(&mut self) -> Option<Event<M>> {
        let i = self
            .active
            .iter()
            .position(|t| matches!(t.armed, Armed::Zero))?;
        let t = self.active.remove(i);
        Some(Event::timeout(t.kind, t.content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen_statem::{Init, Transition};

    struct M;

    impl GenStateMachine for M {
        type Args = ();
        type State = ();
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Internal = u8;
        type TimeoutName = &'static str;

        fn init(_: ()) -> Init<Self> {
            Init::ok((), M)
        }

        fn handle_event(&mut self, _: &(), _: Event<Self>) -> Transition<Self> {
            Transition::keep_state()
        }
    }

    #[test]
    fn the_last_action_of_each_timer_wins_in_the_order_of_the_last_ones() {
        let ms = Duration::from_millis;
        let mut plan = TimerPlan::<M>::new();
        let actions = [
            Action::state_timeout(ms(1), 1),
            Action::generic_timeout("a", ms(2), 2),
            Action::event_timeout(ms(3), 3),
            Action::generic_timeout("b", ms(4), 4),
            Action::state_timeout(ms(5), 5),
            Action::cancel_generic_timeout("a"),
        ];
        for a in actions {
            assert!(plan.take(a).is_none(), "a timer action is taken");
        }
        assert!(matches!(
            plan.take(Action::Hibernate),
            Some(Action::Hibernate)
        ));
        let want = vec![
            (TimeoutKind::Event, TimerOp::Start(ms(3), 3)),
            (TimeoutKind::Generic("b"), TimerOp::Start(ms(4), 4)),
            (TimeoutKind::State, TimerOp::Start(ms(5), 5)),
            (TimeoutKind::Generic("a"), TimerOp::Cancel),
        ];
        assert_eq!(plan.ops, want);
    }
}
