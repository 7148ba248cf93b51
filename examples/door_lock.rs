//! The code lock of the `gen_statem` docs, as a GenStateMachine in the
//! `state_functions` callback mode (one function per state) with state enter calls.
//!
//! 1. The lock starts `locked` (registered as "code_lock"); entering `locked`
//!    locks the door and clears the buttons pressed so far.
//! 2. Buttons are casts, pressed one at a time. A digit that does not continue the
//!    code resets the buttons; a pause between buttons longer than the button
//!    timeout (an event timeout, cancelled by any event) resets them too.
//! 3. The whole code opens the door: entering `open` unlocks and starts a state
//!    timeout; when it expires the lock goes back to `locked`.
//! 4. Buttons pressed while open are postponed, and retried once locked again.
//! 5. Calls ask the code length and the current state; `stop` runs `terminate`.
//!
//! `BEAMLET_CI=1` shortens the timeouts; the example finishes in about a second.
//!
//! ```text
//! cargo run --release --example door_lock
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use beamlet::otp::gen_statem::{
    self, Action, Enter, Event, GenStateMachine, Init, MachineRef, StartOptions, StateFn,
    Transition,
};
use beamlet::{ExitReason, Pid, receive, self_pid, send};

/// The lock's data.
struct CodeLock {
    code: Vec<u8>,
    buttons: Vec<u8>,
    /// Told when the door relocks or the buttons time out, so that `main` can wait.
    observer: Pid,
    open_time: Duration,
    button_time: Duration,
}

/// Calls.
#[derive(Debug)]
enum Ask {
    CodeLength,
    State,
}

/// What the lock tells its observer.
#[derive(Debug, PartialEq)]
enum Notice {
    Relocked,
    ButtonsTimedOut,
}

/// The content of the lock's own timeouts.
#[derive(Debug)]
enum Tick {
    Relock,
    ButtonIdle,
}

const LOCKED: StateFn<CodeLock> =
    StateFn::new("locked", CodeLock::locked).with_enter(CodeLock::enter_locked);
const OPEN: StateFn<CodeLock> =
    StateFn::new("open", CodeLock::open).with_enter(CodeLock::enter_open);

impl CodeLock {
    /// `locked(enter, OldState, Data)`: lock and forget the buttons.
    fn enter_locked(&mut self, old: &StateFn<Self>) -> Enter<Self> {
        if *old == OPEN {
            println!("  [lock] door locked again");
            let _ = send(self.observer, Notice::Relocked);
        } else {
            println!("  [lock] door locked");
        }
        self.buttons.clear();
        Enter::keep_state()
    }

    /// `locked(EventType, EventContent, Data)`.
    fn locked(&mut self, event: Event<Self>) -> Transition<Self> {
        match event {
            Event::Cast(digit) => self.button(digit),
            Event::Timeout(Tick::ButtonIdle) => {
                println!("  [lock] too slow: buttons {:?} reset", self.buttons);
                self.buttons.clear();
                let _ = send(self.observer, Notice::ButtonsTimedOut);
                Transition::keep_state()
            }
            other => self.common(other, "locked"),
        }
    }

    fn button(&mut self, digit: u8) -> Transition<Self> {
        self.buttons.push(digit);
        if self.buttons == self.code {
            println!("  [lock] button {digit}: the code is right");
            return Transition::next_state(OPEN);
        }
        if !self.code.starts_with(&self.buttons) {
            println!("  [lock] button {digit}: wrong, buttons reset");
            self.buttons.clear();
            return Transition::keep_state();
        }
        println!("  [lock] button {digit}: so far {:?}", self.buttons);
        // Any next event, a button or a call, cancels this timeout.
        Transition::keep_state().action(Action::event_timeout(self.button_time, Tick::ButtonIdle))
    }

    /// `open(enter, OldState, Data)`: unlock, and relock after the open time.
    fn enter_open(&mut self, _old: &StateFn<Self>) -> Enter<Self> {
        println!("  [lock] door unlocked for {:?}", self.open_time);
        Enter::keep_state().action(Action::state_timeout(self.open_time, Tick::Relock))
    }

    /// `open(EventType, EventContent, Data)`.
    fn open(&mut self, event: Event<Self>) -> Transition<Self> {
        match event {
            Event::StateTimeout(Tick::Relock) => Transition::next_state(LOCKED),
            Event::Cast(digit) => {
                println!("  [lock] open: button {digit} postponed until locked");
                Transition::keep_state().postpone(Event::Cast(digit))
            }
            other => self.common(other, "open"),
        }
    }

    /// Events handled alike in every state (the docs' `handle_common`).
    fn common(&mut self, event: Event<Self>, state: &'static str) -> Transition<Self> {
        match event {
            Event::Call(Ask::CodeLength, from) => {
                Transition::keep_state().reply(from, self.code.len().to_string())
            }
            Event::Call(Ask::State, from) => Transition::keep_state().reply(from, state.into()),
            _ => Transition::keep_state(),
        }
    }
}

impl GenStateMachine for CodeLock {
    type Args = (Vec<u8>, Pid, Duration);
    type State = StateFn<Self>;
    type Call = Ask;
    type Reply = String;
    type Cast = u8;
    type Internal = Tick;
    type TimeoutName = ();
    const STATE_ENTER: bool = true;

    fn init((code, observer, open_time): Self::Args) -> Init<Self> {
        let lock = CodeLock {
            code,
            buttons: Vec::new(),
            observer,
            open_time,
            button_time: open_time,
        };
        Init::ok(LOCKED, lock)
    }

    fn handle_event(&mut self, state: &StateFn<Self>, event: Event<Self>) -> Transition<Self> {
        state.handle(self, event)
    }

    fn state_enter(&mut self, old: &StateFn<Self>, state: &StateFn<Self>) -> Enter<Self> {
        state.enter(self, old)
    }

    fn terminate(&mut self, reason: &ExitReason, state: &StateFn<Self>) {
        println!("  [lock] terminate({reason}) in state {}", state.name());
    }
}

fn press(lock: MachineRef<CodeLock>, digits: &[u8]) {
    println!("   press {digits:?}");
    for &d in digits {
        gen_statem::cast(lock, d);
    }
}

/// Asks the state (a call, so it also waits until the buttons before it are handled).
fn state(lock: MachineRef<CodeLock>) -> String {
    gen_statem::call(lock, Ask::State).expect("the lock answers")
}

fn main() -> ExitCode {
    common::no_args(
        "door_lock",
        "door_lock: the gen_statem docs' code lock as a GenStateMachine, one function per state.\n\n\
         Environment: BEAMLET_CI=1 shortens the timeouts.",
    );
    let ci = std::env::var("BEAMLET_CI").is_ok_and(|v| v == "1");
    let open_time = Duration::from_millis(if ci { 100 } else { 400 });
    beamlet::run(move || {
        println!("1. start the lock with code [1, 2, 3, 4]");
        let opts = StartOptions::new().name("code_lock");
        let args = (vec![1, 2, 3, 4], self_pid(), open_time);
        let lock = gen_statem::start_link_with::<CodeLock>(args, opts).expect("lock starts");
        let len = gen_statem::call(lock, Ask::CodeLength).expect("the lock answers");
        println!("   code length (a call): {len}");

        println!("2. a wrong digit resets the buttons");
        press(lock, &[1, 2, 9]);
        println!("   state: {}", state(lock));

        println!("3. the right code opens the door");
        press(lock, &[1, 2, 3, 4]);
        println!("   state: {}", state(lock));

        println!("4. a button pressed while open is postponed");
        press(lock, &[1]);
        println!("   state: {}", state(lock));

        println!("5. the state timeout relocks; the postponed button is retried");
        assert_eq!(receive::<Notice>(), Notice::Relocked);
        println!("   state: {}", state(lock));

        println!("6. too long a pause between buttons resets them (an event timeout)");
        press(lock, &[2]);
        assert_eq!(receive::<Notice>(), Notice::ButtonsTimedOut);

        println!("7. stop the lock");
        gen_statem::stop(lock, ExitReason::Normal, Duration::from_secs(5)).expect("stops");
        println!("done");
    })
}
