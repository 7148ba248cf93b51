//! The calculator (Programmer Passport, chapter 1): a functional core, a hand-written
//! server loop around it built from `spawn`, `send` and `receive`, an API of plain
//! functions over that loop — and then the same server as a GenServer.
//!
//! ```text
//! cargo run --release --example calculator
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init, NoReply};
use beamlet::{Pid, receive, receive_match_timeout, self_pid, send, spawn};

/// The functional core: reducers over the calculator's number, no processes.
mod core {
    pub(crate) fn add(acc: f64, n: f64) -> f64 {
        acc + n
    }
    pub(crate) fn subtract(acc: f64, n: f64) -> f64 {
        acc - n
    }
    pub(crate) fn multiply(acc: f64, n: f64) -> f64 {
        acc * n
    }
    pub(crate) fn divide(acc: f64, n: f64) -> f64 {
        acc / n
    }
}

/// The boundary's messages. The arithmetic ones are casts: fire and forget.
enum Op {
    Add(f64),
    Subtract(f64),
    Multiply(f64),
    Divide(f64),
    Clear,
    /// The one request with a response: send the state back to this pid.
    State(Pid),
}

/// A reply to `Op::State`, tagged so the client can pick it out of its mailbox.
struct StateReply(f64);

/// The boundary: a message loop holding the state, using the core to change it.
fn listen(state: f64) -> f64 {
    match receive::<Op>() {
        Op::Add(n) => core::add(state, n),
        Op::Subtract(n) => core::subtract(state, n),
        Op::Multiply(n) => core::multiply(state, n),
        Op::Divide(n) => core::divide(state, n),
        Op::Clear => 0.0,
        Op::State(from) => {
            let _ = send(from, StateReply(state));
            state
        }
    }
}

fn run(state: f64) {
    let mut state = state;
    loop {
        state = listen(state);
    }
}

/// The API: plain functions, so users never touch the process primitives.
mod api {
    use super::*;

    pub(crate) fn start(initial: f64) -> Pid {
        spawn(move || run(initial)).expect("spawn")
    }
    pub(crate) fn add(calc: Pid, n: f64) {
        let _ = send(calc, Op::Add(n));
    }
    pub(crate) fn subtract(calc: Pid, n: f64) {
        let _ = send(calc, Op::Subtract(n));
    }
    pub(crate) fn multiply(calc: Pid, n: f64) {
        let _ = send(calc, Op::Multiply(n));
    }
    pub(crate) fn divide(calc: Pid, n: f64) {
        let _ = send(calc, Op::Divide(n));
    }
    pub(crate) fn clear(calc: Pid) {
        let _ = send(calc, Op::Clear);
    }
    /// A call: send with our pid, wait for the answer, give up after 5 s.
    pub(crate) fn state(calc: Pid) -> Option<f64> {
        let _ = send(calc, Op::State(self_pid()));
        receive_match_timeout(|_: &StateReply| true, Duration::from_secs(5)).map(|r| r.0)
    }
}

/// The same calculator as a GenServer: the loop, the call protocol, timeouts and
/// crash handling come from OTP; only the callbacks are left.
struct Calculator(f64);

enum Cast {
    Apply(fn(f64, f64) -> f64, f64),
    Clear,
}

impl GenServer for Calculator {
    type Args = f64;
    type Call = ();
    type Reply = f64;
    type Cast = Cast;
    type Continue = ();

    fn init(initial: f64) -> Init<Self, ()> {
        Init::Ok(Calculator(initial))
    }

    fn handle_call(&mut self, _: (), _: Caller<f64>) -> CallReply<f64, ()> {
        CallReply::Reply(self.0)
    }

    fn handle_cast(&mut self, cast: Cast) -> NoReply<()> {
        self.0 = match cast {
            Cast::Apply(f, n) => f(self.0, n),
            Cast::Clear => 0.0,
        };
        NoReply::Ok
    }
}

fn by_hand() {
    println!("-- a calculator built from spawn, send and receive");
    let calc = api::start(0.0);
    println!("   started {calc} with 0");
    api::add(calc, 10.0);
    api::add(calc, 20.0);
    api::subtract(calc, 40.0);
    println!(
        "   add 10, add 20, subtract 40 -> state {:?}",
        api::state(calc)
    );
    api::multiply(calc, -3.0);
    api::divide(calc, 4.0);
    println!(
        "   multiply by -3, divide by 4 -> state {:?}",
        api::state(calc)
    );
    api::clear(calc);
    println!("   clear -> state {:?}", api::state(calc));
}

fn as_gen_server() {
    println!("-- the same calculator as a GenServer");
    let calc = gen_server::start_link::<Calculator>(0.0).expect("start");
    println!("   started {}", calc.pid());
    gen_server::cast(calc, Cast::Apply(core::add, 10.0));
    gen_server::cast(calc, Cast::Apply(core::add, 20.0));
    gen_server::cast(calc, Cast::Apply(core::subtract, 40.0));
    println!(
        "   add 10, add 20, subtract 40 -> state {:?}",
        gen_server::call(calc, ())
    );
    gen_server::cast(calc, Cast::Apply(core::multiply, -3.0));
    gen_server::cast(calc, Cast::Apply(core::divide, 4.0));
    println!(
        "   multiply by -3, divide by 4 -> state {:?}",
        gen_server::call(calc, ())
    );
    gen_server::cast(calc, Cast::Clear);
    println!("   clear -> state {:?}", gen_server::call(calc, ()));
}

fn main() -> ExitCode {
    common::no_args(
        "calculator",
        "calculator: a server loop written by hand with spawn, send and receive, then the same\n\
         server as a GenServer.",
    );
    beamlet::run(|| {
        by_hand();
        as_gen_server();
        println!("done");
    })
}
