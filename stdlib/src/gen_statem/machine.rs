//! The generic loop of a state machine (the steps are in the parent module's
//! header).
//!
//! 1. [`start`] runs `init_it` in the new process through
//!    [`behaviour::start`], after the behaviours' shared prologue.
//! 2. [`Machine::run`] loops: take the next event (queued, then zero-time timeouts,
//!    then a message), hand it to `handle_event`, carry out the transition.
//!    Hibernation unwinds the stack and re-enters `run`.
//! 3. Every callback goes through [`try_dispatch`]; a panic or an `exit` ends the
//!    machine through [`Machine::stop`], which runs `terminate`, writes the
//!    terminating report for an abnormal reason, and exits.

use std::any::Any;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use beamlet_runtime::{
    ExitReason, Headed, Message, Pid, ReportKind, exit, hibernate, receive_select,
};

use super::event::TimeoutKind;
use super::timers::{TimerFired, TimerPlan, Timers};
use super::{Action, Enter, Event, GenStateMachine, Init, Transition, TransitionActions};
use crate::behaviour::report::{self, LastIn};
use crate::behaviour::{
    self, Boot, CallHead, Caller, StartError, StartOptions, parent_exit, reply, try_dispatch,
};
use crate::sys::{self, OwnRequest, SysMsg, SysReply};

/// The envelope of a call.
pub(crate) struct CallMsg<Q, R> {
    pub(crate) from: Caller<R>,
    pub(crate) request: Q,
}

impl<Q: Send + 'static, R: Send + 'static> Headed for CallMsg<Q, R> {
    type Head = CallHead;
    fn head(&self) -> CallHead {
        self.from.head::<Q>()
    }
}

/// The envelope of a cast.
pub(crate) struct CastMsg<C>(pub(crate) C);

/// The state and the data, together: what `sys` state closures see (as a `dyn
/// Any`) and what `terminate` gets.
pub(crate) struct Current<M: GenStateMachine> {
    pub(crate) state: M::State,
    pub(crate) data: M,
}

/// Which state enter call a transition makes.
enum EnterCall<S> {
    /// None (`keep_state`, or no state enter calls).
    No,
    /// The state is entered again: the initial state, or `repeat_state`; the old
    /// state is the current one.
    Same,
    /// A state change from this old state.
    From(S),
}

/// A running machine: its state, data, queues and timers, and the loop's
/// bookkeeping.
struct Machine<M: GenStateMachine> {
    current: Current<M>,
    /// Events to handle before any message: retried postponed events and inserted
    /// ones, oldest first.
    queue: VecDeque<Event<M>>,
    /// Postponed events, oldest first, retried after the next state change.
    postponed: Vec<Event<M>>,
    timers: Timers<M>,
    /// The last transition asked to hibernate.
    hibernate: bool,
    parent: Option<Pid>,
    hibernate_after: Option<Duration>,
    handled: u64,
    started: Instant,
    suspended: bool,
    /// What the terminating report names as the last event.
    last: LastIn,
}

/// Starts a machine of type `M` (see [`behaviour::start`]).
#[track_caller]
pub(crate) fn start<M: GenStateMachine>(
    link: bool,
    args: M::Args,
    opts: StartOptions,
) -> Result<Pid, StartError> {
    behaviour::start_behaviour(
        link,
        opts,
        (M::TRAP_EXIT, std::any::type_name::<M>()),
        move |boot| init_it::<M>(boot, args),
    )
}

/// The new process, after the shared prologue (mailbox limit, trapping exits, name):
/// `init`, acknowledge, enter the first state, loop.
fn init_it<M: GenStateMachine>(boot: Boot, args: M::Args) {
    beamlet_runtime::set_behaviour("gen_statem", std::any::type_name::<M>());
    let (current, actions, next_events) = match try_dispatch(|| M::init(args)) {
        Ok(Init::Ok {
            state,
            data,
            actions,
            next_events,
        }) => (Current { state, data }, actions, next_events),
        Ok(Init::Ignore) => boot.fail(StartError::Ignore),
        Ok(Init::Stop(r)) | Err(r) => boot.fail(StartError::Stop(r)),
    };
    let mut machine = Machine {
        current,
        queue: VecDeque::new(),
        postponed: Vec::new(),
        timers: Timers::new(),
        hibernate: false,
        parent: boot.parent(),
        hibernate_after: boot.hibernate_after,
        handled: 0,
        started: beamlet_runtime::now(),
        suspended: false,
        last: LastIn::None,
    };
    boot.ack();
    // Entering the first state is a transition without an event: its enter call
    // has the initial state as the old state, as OTP.
    let first = TransitionActions {
        actions,
        next_events,
        postponed: None,
    };
    machine.transition(first, EnterCall::Same, false);
    machine.run()
}

impl<M: GenStateMachine> Machine<M> {
    fn run(mut self) -> ! {
        loop {
            let idle = self.queue.is_empty() && !self.timers.has_zero();
            if idle && std::mem::take(&mut self.hibernate) {
                hibernate(move || self.run())
            }
            let event = match self.queue.pop_front() {
                Some(e) => Some(e),
                None => match self.timers.take_zero() {
                    Some(e) => Some(e),
                    None => self.receive(),
                },
            };
            if let Some(event) = event {
                self.handle(event);
            }
        }
    }

    /// Takes the next message and turns it into an event (`None` for a message
    /// that is not one: a system message, a cancelled timer's). Goes to
    /// hibernation after `hibernate_after` idle.
    fn receive(&mut self) -> Option<Event<M>> {
        let limit = match self.suspended {
            true => None,
            false => self.hibernate_after,
        };
        let msg = if self.suspended {
            let parent = self.parent;
            let pred = |m: &Message| m.is::<SysMsg>() || parent_exit(parent, m).is_some();
            receive_select(None, pred, None)
        } else {
            receive_select(None, |_| true, limit)
        };
        match msg {
            Some(msg) => {
                let event = self.decode(msg);
                // As a GenServer's statistics: messages handled, system ones excluded.
                self.handled += u64::from(event.is_some());
                event
            }
            None => {
                self.hibernate = true;
                None
            }
        }
    }

    /// Sorts a message into an event, or acts on it.
    fn decode(&mut self, msg: Message) -> Option<Event<M>> {
        let msg = match msg.downcast::<CallMsg<M::Call, M::Reply>>() {
            Ok(call) => return Some(Event::Call(call.request, call.from)),
            Err(m) => m,
        };
        let msg = match msg.downcast::<CastMsg<M::Cast>>() {
            Ok(CastMsg(c)) => return Some(Event::Cast(c)),
            Err(m) => m,
        };
        let msg = match msg.downcast::<TimerFired>() {
            Ok(fired) => return self.timers.fired(&fired),
            Err(m) => m,
        };
        let msg = match msg.downcast::<SysMsg>() {
            Ok(sys) => {
                self.last = LastIn::System;
                self.on_system(sys);
                return None;
            }
            Err(m) => m,
        };
        // A call envelope of another type: answered `WrongType` at once, never
        // an event.
        if behaviour::refuse_foreign_call(&msg, std::any::type_name::<M>()) {
            return None;
        }
        if let Some(reason) = parent_exit(self.parent, &msg) {
            self.last = LastIn::Info(msg.type_name());
            self.stop(reason)
        }
        Some(Event::Info(msg))
    }

    /// Hands an event to `handle_event` and carries out the transition it returns.
    fn handle(&mut self, event: Event<M>) {
        self.last = last_in(&event);
        let result = self.invoke(|c| c.data.handle_event(&c.state, event));
        match result {
            Transition::NextState(next, actions) => {
                // The new value is kept even when equal (as OTP sets `NextState`);
                // only an unequal one is a state change.
                let old = std::mem::replace(&mut self.current.state, next);
                let enter = match old != self.current.state {
                    true => EnterCall::From(old),
                    false => EnterCall::No,
                };
                self.transition(actions, enter, true);
            }
            Transition::KeepState(actions) => self.transition(actions, EnterCall::No, true),
            Transition::RepeatState(actions) => self.transition(actions, EnterCall::Same, true),
            Transition::Stop(reason) => self.stop(reason),
            Transition::StopAndReply(reason, replies) => self.reply_then_stop(reason, replies),
        }
    }

    /// Carries out a transition whose new state is already current (the state
    /// transition steps of the module header): actions, state enter calls,
    /// postponing, retrying postponed events on a change, inserted events, timers.
    /// `after_event` is false only for the entry into the first state.
    fn transition(
        &mut self,
        actions: TransitionActions<M>,
        enter: EnterCall<M::State>,
        after_event: bool,
    ) {
        let TransitionActions {
            actions,
            next_events,
            postponed,
        } = actions;
        let mut plan = TimerPlan::new();
        let mut hibernate = self.run_actions(actions, &mut plan);
        let changed = matches!(enter, EnterCall::From(_));
        if M::STATE_ENTER {
            hibernate |= self.enter_calls(enter, &mut plan);
        }
        self.postponed.extend(postponed);
        if after_event {
            self.timers.cancel(&TimeoutKind::Event);
        }
        if changed {
            self.timers.cancel(&TimeoutKind::State);
            for e in std::mem::take(&mut self.postponed).into_iter().rev() {
                self.queue.push_front(e);
            }
        }
        for e in next_events.into_iter().rev() {
            self.queue.push_front(e);
        }
        self.timers.apply(plan);
        self.hibernate = hibernate;
    }

    /// Runs the actions in order: replies go out now, timer actions are collected.
    /// Returns whether one asked to hibernate.
    fn run_actions(&mut self, actions: Vec<Action<M>>, plan: &mut TimerPlan<M>) -> bool {
        let mut hibernate = false;
        for action in actions {
            match plan.take(action) {
                Some(Action::Reply(from, value)) => reply(from, value),
                Some(Action::Hibernate) => hibernate = true,
                Some(_) | None => {}
            }
        }
        hibernate
    }

    /// Makes the state enter call (again while it asks to repeat); its actions join
    /// the transition's. Returns whether one asked to hibernate.
    fn enter_calls(&mut self, enter: EnterCall<M::State>, plan: &mut TimerPlan<M>) -> bool {
        let old = match enter {
            EnterCall::No => return false,
            EnterCall::Same => None,
            EnterCall::From(old) => Some(old),
        };
        let mut hibernate = false;
        loop {
            let result = self.invoke(|c| {
                let old = old.as_ref().unwrap_or(&c.state);
                c.data.state_enter(old, &c.state)
            });
            match result {
                Enter::KeepState(actions) => return hibernate | self.run_actions(actions, plan),
                Enter::RepeatState(actions) => hibernate |= self.run_actions(actions, plan),
                Enter::Stop(reason) => self.stop(reason),
                Enter::StopAndReply(reason, replies) => self.reply_then_stop(reason, replies),
            }
        }
    }

    fn on_system(&mut self, sys: SysMsg) {
        let answer = match sys::answer(sys.op, &mut self.suspended, self.handled, self.started) {
            Ok(answer) => answer,
            Err(OwnRequest::State(f)) => SysReply::State(self.invoke(|c| f(c as &mut dyn Any))),
            Err(OwnRequest::Status) => {
                let state = self.invoke(|c| c.data.format_status(&c.state));
                let module = std::any::type_name::<M>();
                sys::status("gen_statem", module, self.suspended, Some(state))
            }
            Err(OwnRequest::Stop(reason)) => self.stop(reason),
        };
        reply(sys.from, answer);
    }

    /// Runs a callback on the state and data; a panic or exit stops the machine.
    fn invoke<T>(&mut self, f: impl FnOnce(&mut Current<M>) -> T) -> T {
        match try_dispatch(|| f(&mut self.current)) {
            Ok(v) => v,
            Err(reason) => self.stop(reason),
        }
    }

    /// As OTP's `stop_and_reply`: the replies go out before `terminate` runs.
    fn reply_then_stop(&mut self, reason: ExitReason, replies: Vec<super::ReplyTo<M>>) -> ! {
        for (from, value) in replies {
            reply(from, value);
        }
        self.stop(reason)
    }

    /// Runs `terminate`, writes the terminating report for an abnormal reason, and
    /// exits; a panic in `terminate` replaces the reason.
    fn stop(&mut self, reason: ExitReason) -> ! {
        let c = &mut self.current;
        let reason = match try_dispatch(|| c.data.terminate(&reason, &c.state)) {
            Ok(()) => reason,
            Err(crash) => crash,
        };
        let c = &self.current;
        report::terminating(
            ReportKind::StateMachineTerminating,
            &reason,
            self.last,
            || {
                try_dispatch(|| c.data.format_status(&c.state))
                    .unwrap_or_else(|r| format!("<format_status crashed: {r}>"))
            },
        );
        exit(reason)
    }
}

/// What the terminating report says of `event`.
fn last_in<M: GenStateMachine>(event: &Event<M>) -> LastIn {
    match event {
        Event::Call(_, from) => LastIn::Call(std::any::type_name::<M::Call>(), from.pid()),
        Event::Cast(_) => LastIn::Cast(std::any::type_name::<M::Cast>()),
        Event::Info(msg) => LastIn::Info(msg.type_name()),
        Event::Internal(_) => LastIn::Event("internal"),
        Event::Timeout(_) => LastIn::Timeout,
        Event::StateTimeout(_) => LastIn::Event("state_timeout"),
        Event::GenericTimeout(..) => LastIn::Event("generic_timeout"),
    }
}
