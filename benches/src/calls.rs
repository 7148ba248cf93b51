//! The body shared by the call benchmarks (`genserver_call`, `statem_call`): C client
//! processes making M synchronous calls in total to one counting server.

use std::fmt::Debug;
use std::time::Instant;

use beamlet::{receive, self_pid, send, spawn};

use crate::{Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, runtime, shutdown};

/// A counting server as the call benchmarks see it: a copyable handle whose
/// `call(n)` adds `n` and returns the new total.
pub trait Counter: Copy + Send + 'static {
    /// Why a call failed.
    type Error: Debug;
    /// Starts the server (linked to the caller).
    fn start() -> Self;
    /// Adds `n`, returning the new total.
    fn call(self, n: u64) -> Result<u64, Self::Error>;
    /// Stops the server.
    fn stop(self);
}

/// The whole benchmark: reads `[C=100] [M=1000000] [SCHEDULERS=0]` (`about` is the
/// `--help` text's first line), runs the clients
/// in a fresh runtime, checks the count and prints the line `bench=<name> ...` with
/// `m` and `calls_per_sec`.
pub fn main<S: Counter>(name: &'static str, about: &str) {
    let [c, m, schedulers] = args(
        name,
        about,
        [
            Param::new("C", 100, "client processes").min(1),
            Param::new("M", 1_000_000, "calls in total, shared among the clients"),
            SCHEDULERS,
        ],
    );
    let rt = runtime(schedulers);
    let t = expect_ok(rt.block_on(move || run::<S>(c, m)));
    shutdown(rt);
    let rate = m as f64 / t.elapsed.as_secs_f64().max(1e-9);
    Report::new(name, c, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("m", m)
        .key("calls_per_sec", fixed(rate, 0))
        .print();
}

/// The root process: starts the server and the clients, waits for the clients, then
/// checks the server counted every call.
fn run<S: Counter>(c: u64, m: u64) -> Timed {
    let server = S::start();
    let root = self_pid();
    let t = Instant::now();
    for i in 0..c {
        let calls = m / c + u64::from(i < m % c);
        spawn(move || client(server, calls, root))
            .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    }
    for _ in 0..c {
        receive::<Done>();
    }
    let timed = Timed::since(t);
    match server.call(0) {
        Ok(n) if n == m => {}
        other => fail(format_args!("the counter reads {other:?}, expected {m}")),
    }
    server.stop();
    timed
}

/// A client has made all its calls.
struct Done;

/// A client: `calls` calls, each checked to have counted.
fn client<S: Counter>(server: S, calls: u64, root: beamlet::Pid) {
    for _ in 0..calls {
        match server.call(1) {
            Ok(n) if n > 0 => {}
            other => fail(format_args!("a call returned {other:?}")),
        }
    }
    if send(root, Done).is_err() {
        fail("the root is dead");
    }
}
