//! genserver_call: synchronous calls from many clients to one GenServer.
//!
//! Usage: `genserver_call [C=100] [M=1000000] [SCHEDULERS=0]`. The root starts a
//! counter GenServer, then spawns C client processes that make M calls in total
//! (`M / C` each, the first `M % C` one more), each call adding one and returning
//! the new count. Time runs from the first spawn until every client has finished;
//! then the counter must read M.
//!
//! Key: `calls_per_sec` (M over the elapsed time).
//!
//! Guards against regressions in the call path of `gen_server::call` (mailbox mark,
//! monitor, alias, request, selective receive of the reply, demonitor, unalias) and
//! in the server loop (receive any, downcast, dispatch, reply), and against one busy
//! server starving its clients across schedulers.

use std::time::{Duration, Instant};

use beamlet::otp::gen_server::{self, CallReply, From, GenServer, Init, ServerRef};
use beamlet::{ExitReason, receive, self_pid, send, spawn};
use beamlet_benches::{Report, Timed, arg, expect_ok, fail, fixed, runtime, shutdown};

/// The counter: every call adds `n` and returns the total.
struct Counter(u64);

impl GenServer for Counter {
    type Args = ();
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Counter(0))
    }

    fn handle_call(&mut self, n: u64, _: From<u64>) -> CallReply<u64, ()> {
        self.0 += n;
        CallReply::Reply(self.0)
    }
}

fn main() {
    let c = arg(0, "C", 100).max(1);
    let m = arg(1, "M", 1_000_000);
    let rt = runtime(arg(2, "SCHEDULERS", 0));
    let t = expect_ok(rt.block_on(move || run(c, m)));
    shutdown(rt);
    let rate = m as f64 / t.elapsed.as_secs_f64().max(1e-9);
    Report::new("genserver_call", c, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("m", m)
        .key("calls_per_sec", fixed(rate, 0))
        .print();
}

/// The root process: starts the server and the clients, waits for the clients.
fn run(c: u64, m: u64) -> Timed {
    let server = gen_server::start_link::<Counter>(())
        .unwrap_or_else(|e| fail(format_args!("starting the counter: {e}")));
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
    match gen_server::call(server, 0) {
        Ok(n) if n == m => {}
        other => fail(format_args!("the counter reads {other:?}, expected {m}")),
    }
    if let Err(e) = gen_server::stop(server, ExitReason::Normal, Duration::MAX) {
        fail(format_args!("stopping the counter: {e}"));
    }
    timed
}

/// A client has made all its calls.
struct Done;

/// A client: `calls` calls, each checked to have counted.
fn client(server: ServerRef<Counter>, calls: u64, root: beamlet::Pid) {
    for _ in 0..calls {
        match gen_server::call(server, 1) {
            Ok(n) if n > 0 => {}
            other => fail(format_args!("a call returned {other:?}")),
        }
    }
    if send(root, Done).is_err() {
        fail("the root is dead");
    }
}
