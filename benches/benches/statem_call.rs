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

use std::time::{Duration, Instant};

use beamlet::otp::gen_statem::{self, Event, GenStateMachine, Init, MachineRef, Transition};
use beamlet::{ExitReason, receive, self_pid, send, spawn};
use beamlet_benches::{Report, Timed, arg, expect_ok, fail, fixed, runtime, shutdown};

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
    let c = arg(0, "C", 100).max(1);
    let m = arg(1, "M", 1_000_000);
    let rt = runtime(arg(2, "SCHEDULERS", 0));
    let t = expect_ok(rt.block_on(move || run(c, m)));
    shutdown(rt);
    let rate = m as f64 / t.elapsed.as_secs_f64().max(1e-9);
    Report::new("statem_call", c, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("m", m)
        .key("calls_per_sec", fixed(rate, 0))
        .print();
}

/// The root process: starts the machine and the clients, waits for the clients.
fn run(c: u64, m: u64) -> Timed {
    let machine = gen_statem::start_link::<Counter>(())
        .unwrap_or_else(|e| fail(format_args!("starting the counter: {e}")));
    let root = self_pid();
    let t = Instant::now();
    for i in 0..c {
        let calls = m / c + u64::from(i < m % c);
        spawn(move || client(machine, calls, root))
            .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    }
    for _ in 0..c {
        receive::<Done>();
    }
    let timed = Timed::since(t);
    match gen_statem::call(machine, 0) {
        Ok(n) if n == m => {}
        other => fail(format_args!("the counter reads {other:?}, expected {m}")),
    }
    if let Err(e) = gen_statem::stop(machine, ExitReason::Normal, Duration::MAX) {
        fail(format_args!("stopping the counter: {e}"));
    }
    timed
}

/// A client has made all its calls.
struct Done;

/// A client: `calls` calls, each checked to have counted.
fn client(machine: MachineRef<Counter>, calls: u64, root: beamlet::Pid) {
    for _ in 0..calls {
        match gen_statem::call(machine, 1) {
            Ok(n) if n > 0 => {}
            other => fail(format_args!("a call returned {other:?}")),
        }
    }
    if send(root, Done).is_err() {
        fail("the root is dead");
    }
}
