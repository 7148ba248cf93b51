//! A stack as a GenServer (the cookbook's Stack), supervised.
//!
//! 1. Start a supervisor with the stack (initially `["hello"]`) as its child.
//! 2. Push with casts, pop with calls.
//! 3. Pop from the empty stack: the server crashes (let it crash), the caller gets
//!    the exit reason, and the supervisor restarts the stack with its initial
//!    contents.
//!
//! ```text
//! cargo run --release --example stack
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use beamlet::otp::gen_server::{
    self, CallError, CallReply, Caller, GenServer, Init, NoReply, ServerRef, StartOptions,
};
use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
use beamlet::sleep;

/// The stack's elements, top last.
struct Stack(Vec<String>);

/// The one request: pop the top.
#[derive(Debug)]
struct Pop;

impl GenServer for Stack {
    type Args = Vec<String>;
    type Call = Pop;
    type Reply = String;
    type Cast = String;
    type Continue = ();

    fn init(items: Vec<String>) -> Init<Self, ()> {
        println!("  [stack] init with {items:?}");
        Init::Ok(Stack(items))
    }

    fn handle_call(&mut self, _: Pop, _: Caller<String>) -> CallReply<String, ()> {
        // As the cookbook's `[head | tail]` match: an empty stack crashes the server.
        let top = self.0.pop().expect("pop from an empty stack");
        CallReply::Reply(top)
    }

    fn handle_cast(&mut self, item: String) -> NoReply<()> {
        self.0.push(item);
        NoReply::Ok
    }
}

fn push(item: &str) {
    gen_server::cast_named::<Stack>("stack", item.to_owned());
}

fn pop() -> Result<String, CallError> {
    gen_server::call_named::<Stack>("stack", Pop)
}

/// Waits until the supervisor has registered a new stack in place of `old`.
fn wait_restart(old: ServerRef<Stack>) {
    while ServerRef::<Stack>::whereis("stack").is_none_or(|s| s == old) {
        sleep(Duration::from_millis(1));
    }
}

fn main() -> ExitCode {
    common::no_args(
        "stack",
        "stack: a stack as a GenServer under a supervisor: push is a cast, pop a call.",
    );
    beamlet::run(|| {
        println!("1. a supervisor starts the stack with [\"hello\"]");
        let stack = ChildSpec::worker("stack", || {
            let opts = StartOptions::new().name("stack");
            gen_server::start_link_with::<Stack>(vec!["hello".into()], opts)
        });
        let sup =
            supervisor::start_link(vec![stack], SupervisorFlags::default()).expect("supervisor");

        println!("2. push \"world\" and \"!\" (casts), pop three times (calls)");
        push("world");
        push("!");
        for _ in 0..3 {
            println!("   pop() = {:?}", pop());
        }

        println!("3. pop from the empty stack: the server crashes");
        let before = ServerRef::<Stack>::whereis("stack").expect("running");
        match pop() {
            Err(CallError::Exit(reason)) => println!("   pop() failed: the server {reason}"),
            other => println!("   pop() = {other:?}"),
        }

        println!("4. the supervisor restarted it with its initial contents");
        wait_restart(before);
        println!("   pop() = {:?}", pop());
        let counts = supervisor::count_children(sup).expect("counts");
        println!("   children: {} running of {}", counts.active, counts.specs);
        println!("done");
    })
}
