//! Tasks and agents: Elixir's `Task` and `Agent`, step by step.
//!
//! 1. `task::spawn` two slow computations and `wait` for both: they run concurrently.
//! 2. A task under a task supervisor crashes; `spawn_nolink` makes `wait` report
//!    the crash as an error instead of taking the caller down.
//! 3. `async_stream` over 1..=20 with at most 4 tasks alive at once, in order.
//! 4. An `Agent` as a counter, shared by the stream's tasks.
//!
//! ```text
//! cargo run --release --example tasks
//! ```

mod common;

use std::time::{Duration, Instant};

use beamlet::otp::agent::Agent;
use beamlet::otp::task::{self, StreamOptions, Supervisor};
use beamlet::sleep;

fn main() -> std::process::ExitCode {
    common::no_args("tasks", "tasks: Elixir's Task and Agent, step by step.");
    beamlet::run(|| {
        spawn_and_wait();
        crash_reported();
        stream_with_a_counter();
    })
}

/// Step 1: two tasks of 200 ms each finish together, in about 200 ms.
fn spawn_and_wait() {
    let start = Instant::now();
    let slow_square = |x: u64| {
        move || {
            sleep(Duration::from_millis(200));
            x * x
        }
    };
    let a = task::spawn(slow_square(6)).expect("spawn");
    let b = task::spawn(slow_square(7)).expect("spawn");
    println!("1. started two tasks: {:?} and {:?}", a.pid(), b.pid());
    let (x, y) = (a.wait().expect("a"), b.wait().expect("b"));
    println!(
        "   awaited {x} and {y} after {} ms (they ran side by side)",
        start.elapsed().as_millis()
    );
}

/// Step 2: a crash under a task supervisor comes back as a value.
fn crash_reported() {
    let sup = Supervisor::start_link().expect("task supervisor");
    let t = sup
        .spawn_nolink(|| -> u64 { panic!("division by zero, on purpose") })
        .expect("start the task");
    match t.wait() {
        Ok(v) => println!("2. unexpected value {v}"),
        Err(e) => println!("2. the supervised task crashed and wait said: {e}"),
    }
}

/// Steps 3 and 4: a bounded stream whose tasks bump a shared counter agent.
fn stream_with_a_counter() {
    let counter = Agent::start_link(|| 0u64).expect("agent");
    let opts = StreamOptions {
        max_concurrency: 4,
        ..StreamOptions::default()
    };
    let start = Instant::now();
    let square = move |i: u64| {
        sleep(Duration::from_millis(50));
        counter.update(|n| *n += 1).expect("update");
        i * i
    };
    print!("3. async_stream 1..=20, 4 at a time:");
    for r in task::async_stream(1..=20u64, square, opts) {
        print!(" {}", r.expect("item"));
    }
    println!();
    println!(
        "   20 items of 50 ms in {} ms (5 rounds of 4)",
        start.elapsed().as_millis()
    );
    let done = counter.get(|n| *n).expect("get");
    println!("4. the agent counted {done} finished tasks");
    counter.update(|n| *n = 0).expect("update");
    let before = counter
        .get_and_update(|n| std::mem::replace(n, 100))
        .expect("get_and_update");
    println!(
        "   reset to {before}, then set to {}",
        counter.get(|n| *n).expect("get")
    );
    counter.stop().expect("stop");
}
