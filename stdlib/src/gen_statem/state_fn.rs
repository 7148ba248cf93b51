//! OTP's `state_functions` callback mode: a state that is its own handler.

use std::fmt;

use super::{Enter, Event, GenStateMachine, Transition};

/// The handler of events in one state.
pub type EventFn<M> = fn(&mut M, Event<M>) -> Transition<M>;

/// The handler of the enter call of one state, given the old state.
pub type EnterFn<M> = fn(&mut M, &<M as GenStateMachine>::State) -> Enter<M>;

/// A state in the `state_functions` callback mode: a name and one function per
/// state handling its events (OTP's `Module:StateName/3`), with an optional enter
/// function (`StateName(enter, OldState, Data)`). Two `StateFn`s are the same state
/// when their names are equal (function addresses are not a reliable identity).
///
/// Use it as the machine's `State` and forward the two callbacks:
///
/// ```
/// use beamlet::otp::gen_statem::{self, Enter, Event, GenStateMachine, Init, StateFn, Transition};
///
/// struct Switch { flips: u32 }
///
/// const OFF: StateFn<Switch> = StateFn::new("off", Switch::off);
/// const ON: StateFn<Switch> = StateFn::new("on", Switch::on).with_enter(Switch::enter_on);
///
/// impl Switch {
///     fn off(&mut self, event: Event<Self>) -> Transition<Self> {
///         match event {
///             Event::Cast(()) => Transition::next_state(ON),
///             Event::Call((), from) => Transition::keep_state().reply(from, self.flips),
///             _ => Transition::keep_state(),
///         }
///     }
///     fn on(&mut self, event: Event<Self>) -> Transition<Self> {
///         match event {
///             Event::Cast(()) => Transition::next_state(OFF),
///             Event::Call((), from) => Transition::keep_state().reply(from, self.flips),
///             _ => Transition::keep_state(),
///         }
///     }
///     fn enter_on(&mut self, _old: &StateFn<Self>) -> Enter<Self> {
///         self.flips += 1;
///         Enter::keep_state()
///     }
/// }
///
/// impl GenStateMachine for Switch {
///     type Args = (); type State = StateFn<Self>; type Call = (); type Reply = u32;
///     type Cast = (); type Internal = (); type TimeoutName = ();
///     const STATE_ENTER: bool = true;
///     fn init(_: ()) -> Init<Self> { Init::ok(OFF, Switch { flips: 0 }) }
///     fn handle_event(&mut self, state: &StateFn<Self>, event: Event<Self>) -> Transition<Self> {
///         state.handle(self, event)
///     }
///     fn state_enter(&mut self, old: &StateFn<Self>, state: &StateFn<Self>) -> Enter<Self> {
///         state.enter(self, old)
///     }
/// }
///
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let flips = rt.block_on(|| {
///     let s = gen_statem::start_link::<Switch>(()).unwrap();
///     for _ in 0..3 { gen_statem::cast(s, ()); }
///     gen_statem::call(s, ())
/// }).unwrap();
/// assert_eq!(flips, Ok(2));
/// assert_eq!(ON.name(), "on");
/// rt.shutdown();
/// ```
pub struct StateFn<M: GenStateMachine> {
    name: &'static str,
    on_event: EventFn<M>,
    on_enter: Option<EnterFn<M>>,
}

impl<M: GenStateMachine> StateFn<M> {
    /// The state `name`, whose events go to `on_event`. See [`StateFn`].
    pub const fn new(name: &'static str, on_event: EventFn<M>) -> StateFn<M> {
        StateFn {
            name,
            on_event,
            on_enter: None,
        }
    }

    /// The same state, with `on_enter` handling its state enter calls. See
    /// [`StateFn`].
    pub const fn with_enter(self, on_enter: EnterFn<M>) -> StateFn<M> {
        StateFn {
            on_enter: Some(on_enter),
            ..self
        }
    }

    /// The state's name. See [`StateFn`].
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Hands `event` to this state's function. See [`StateFn`].
    pub fn handle(&self, data: &mut M, event: Event<M>) -> Transition<M> {
        (self.on_event)(data, event)
    }

    /// Makes this state's enter call, if it has one (otherwise enters with no
    /// actions). See [`StateFn`].
    pub fn enter(&self, data: &mut M, old: &M::State) -> Enter<M> {
        match self.on_enter {
            Some(f) => f(data, old),
            None => Enter::keep_state(),
        }
    }
}

impl<M: GenStateMachine> Clone for StateFn<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: GenStateMachine> Copy for StateFn<M> {}

impl<M: GenStateMachine> PartialEq for StateFn<M> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<M: GenStateMachine> Eq for StateFn<M> {}

impl<M: GenStateMachine> fmt::Debug for StateFn<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}
