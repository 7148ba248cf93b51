//! Finding a race with the deterministic simulation mode, then replaying it.
//!
//! 1. A counter GenServer offers `Get` (a call) and `Set` (a cast). Two clients each
//!    add one the wrong way — read, then write back — so an update can be lost when
//!    both read before either writes.
//! 2. Run the scenario on simulated runtimes (`Runtime::builder().simulation(seed)`),
//!    one per seed: each seed picks its own interleaving, so some seeds lose an
//!    update and others do not.
//! 3. Replay a losing seed: the same seed gives the same schedule, so the same final
//!    count, every time.
//! 4. Show the virtual clock: each run also sleeps a simulated minute, which takes
//!    no wall time.
//!
//! `BEAMLET_CI=1` tries fewer seeds.
//!
//! ```text
//! cargo run --release --example simulation
//! ```

mod common;

use std::time::{Duration, Instant};

use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init, NoReply};
use beamlet::{Runtime, now, receive, self_pid, send, sleep, spawn};

/// The shared counter.
struct Counter(u64);

/// Requests to the counter.
enum Get {
    Value,
}

impl GenServer for Counter {
    type Args = ();
    type Call = Get;
    type Reply = u64;
    type Cast = u64;
    type Continue = ();

    fn init((): ()) -> Init<Self, ()> {
        Init::Ok(Counter(0))
    }

    fn handle_call(&mut self, Get::Value: Get, _: Caller<u64>) -> CallReply<u64, ()> {
        CallReply::Reply(self.0)
    }

    fn handle_cast(&mut self, value: u64) -> NoReply<()> {
        self.0 = value;
        NoReply::Ok
    }
}

/// One run: two clients increment by read-then-write; returns the final count and
/// the virtual time the run took.
fn scenario(seed: u64) -> (u64, Duration) {
    let rt = Runtime::builder()
        .simulation(seed)
        .build()
        .expect("runtime");
    let result = rt.block_on(|| {
        let t0 = now();
        let counter = gen_server::start_link::<Counter>(()).expect("counter starts");
        let me = self_pid();
        for _ in 0..2 {
            spawn(move || {
                let seen = gen_server::call(counter, Get::Value).expect("get");
                gen_server::cast(counter, seen + 1);
                send(me, ()).expect("root alive");
            })
            .expect("client spawns");
        }
        receive::<()>();
        receive::<()>();
        sleep(Duration::from_secs(60));
        let total = gen_server::call(counter, Get::Value).expect("get");
        (total, now() - t0)
    });
    let _ = rt.shutdown();
    result.expect("the scenario completes")
}

fn main() {
    common::no_args(
        "simulation",
        "simulation: a lost-update race found by trying seeds in simulation mode, then replayed.\n\n\
         Environment: BEAMLET_CI=1 tries fewer seeds.",
    );
    let seeds = if std::env::var_os("BEAMLET_CI").is_some() {
        50
    } else {
        500
    };
    let started = Instant::now();
    let lost: Vec<u64> = (0..seeds).filter(|&seed| scenario(seed).0 != 2).collect();
    println!(
        "{} of {seeds} seeds lost an update (wall time {:?} for all runs)",
        lost.len(),
        started.elapsed()
    );
    let Some(&seed) = lost.first() else {
        println!("no seed found the race; try more seeds");
        return;
    };
    let replays: Vec<(u64, Duration)> = (0..3).map(|_| scenario(seed)).collect();
    println!("seed {seed} replayed three times: {replays:?}");
    assert!(
        replays.iter().all(|r| *r == replays[0]),
        "a seed replays exactly"
    );
    assert!(
        replays[0].1 >= Duration::from_secs(60),
        "a simulated minute passed"
    );
    println!("replay it in a test with Runtime::builder().simulation({seed})");
}
