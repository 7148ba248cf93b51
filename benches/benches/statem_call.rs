//! statem_call: synchronous calls from many clients to one GenStateMachine.
//!
//! Usage: `statem_call [C=100] [M=1000000] [SCHEDULERS=0]`. The root starts a
//! counter state machine with two states, then spawns C client processes that make
//! M calls in total (`M / C` each, the first `M % C` one more). Each call adds one,
//! replies with the new count through a reply action, and switches to the other
//! state, so every call is a state change (postponed queue, state timeout and event
//! timeout bookkeeping included). Time runs from the first spawn until every client
//! has finished; then the counter must read M.
//!
//! Key: `calls_per_sec` (M over the elapsed time).
//!
//! Guards against regressions in the state machine's loop (receive any, downcast,
//! `handle_event`, the transition steps, the reply action) on top of the call path
//! shared with `gen_server::call` (compare with the `genserver_call` bench).

use std::time::Duration;

use beamlet::ExitReason;
use beamlet::otp::CallError;
use beamlet::otp::gen_statem::{self, Event, GenStateMachine, Init, MachineRef, Transition};
use beamlet_benches::{calls, fail};

/// The counter's two states: every call moves to the other one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Even,
    Odd,
}

/// The counter: every call adds `n` and returns the total.
struct Counter(u64);

impl GenStateMachine for Counter {
    type Args = ();
    type State = Side;
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    type Internal = ();
    type TimeoutName = ();

    fn init(_: ()) -> Init<Self> {
        Init::ok(Side::Even, Counter(0))
    }

    fn handle_event(&mut self, side: &Side, event: Event<Self>) -> Transition<Self> {
        let Event::Call(n, from) = event else {
            return Transition::keep_state();
        };
        self.0 += n;
        let other = match side {
            Side::Even => Side::Odd,
            Side::Odd => Side::Even,
        };
        Transition::next_state(other).reply(from, self.0)
    }
}

fn main() {
    calls::main::<Handle>(
        "statem_call",
        "statem_call: C clients making M synchronous calls in total to one counter GenStateMachine.",
    );
}

/// The benchmark's handle on the counter.
#[derive(Clone, Copy)]
struct Handle(MachineRef<Counter>);

impl calls::Counter for Handle {
    type Error = CallError;

    fn start() -> Self {
        gen_statem::start_link::<Counter>(())
            .map(Handle)
            .unwrap_or_else(|e| fail(format_args!("starting the counter: {e}")))
    }

    fn call(self, n: u64) -> Result<u64, CallError> {
        gen_statem::call(self.0, n)
    }

    fn stop(self) {
        if let Err(e) = gen_statem::stop(self.0, ExitReason::Normal, Duration::MAX) {
            fail(format_args!("stopping the counter: {e}"));
        }
    }
}
