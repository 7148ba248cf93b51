//! tcp_echo: round trips over loopback TCP between client processes and an echo
//! server with a process per connection, both in one runtime.
//!
//! Usage: `tcp_echo [C=1000] [M=100] [SCHEDULERS=0]`. The root binds a listener on
//! 127.0.0.1 and spawns an acceptor that spawns an echo process per connection. It
//! then spawns C client processes; each connects (with `TCP_NODELAY`), plays
//! [`WARMUP`] untimed round trips, reports ready and waits for the start. Timed: each
//! client sends M messages of [`SIZE`] bytes, waiting for each echo before sending
//! the next, and records each round trip's time. Time runs from the start signal
//! until the root has every client's samples.
//!
//! Keys: `rt_per_sec` (C×M over the time), `p50_us`, `p99_us`, `max_us` (over all
//! C×M round trips; nearest-rank percentiles, see `beamlet_benches::latency`),
//! `events_per_poll` (readiness events per reactor `epoll_wait` in the timed part:
//! how well the reactor thread's hand-off is amortised under load).
//!
//! Guards against regressions in the socket path: the non-blocking system calls,
//! parking on `WouldBlock`, the reactor thread's dispatch and the cross-thread wake
//! of the parked process through the injector.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use beamlet::net::{TcpListener, TcpStream};
use beamlet::{ExitReason, Pid, Runtime, exit_pid, receive, self_pid, send, spawn};
use beamlet_benches::latency::Latency;
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, note, runtime, shutdown,
};

/// Bytes per message.
const SIZE: usize = 64;
/// Untimed round trips per client before the start.
const WARMUP: u64 = 2;

/// A client has connected and warmed up.
struct Ready(Pid);
/// Starts a client's timed round trips.
struct Go;
/// A client's round-trip times, in nanoseconds.
struct Samples(Vec<u64>);

/// What the root measured.
struct Measured {
    samples: Vec<u64>,
    timed: Timed,
    events_per_poll: f64,
}

fn main() {
    let [c, m, schedulers] = args(
        "tcp_echo",
        "tcp_echo: C clients each making M round trips of 64 bytes to a loopback echo server.",
        [
            Param::new("C", 1000, "client processes (connections)").min(1),
            Param::new("M", 100, "round trips per client").min(1),
            SCHEDULERS,
        ],
    );
    let rt = Arc::new(runtime(schedulers));
    let handle = rt.clone();
    let r = expect_ok(rt.block_on(move || run(&handle, c, m)));
    let rt = Arc::try_unwrap(rt).unwrap_or_else(|_| fail("the runtime is still shared"));
    shutdown(rt);
    let rate = (c * m) as f64 / r.timed.elapsed.as_secs_f64();
    let round_trips = Latency::from_ns(r.samples);
    let report = Report::new("tcp_echo", c, r.timed.elapsed)
        .rss_kib(r.timed.rss_kib)
        .key("rt_per_sec", fixed(rate, 0));
    round_trips
        .keys_us(report, "", &["50", "99"])
        .key("events_per_poll", fixed(r.events_per_poll, 1))
        .print();
}

/// The root process: server, clients, start signal, samples.
fn run(rt: &Runtime, c: u64, m: u64) -> Measured {
    if c == 0 || m == 0 {
        fail("C and M must be positive");
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail(e));
    let addr = listener.local_addr().unwrap_or_else(|e| fail(e));
    let acceptor = spawn(move || accept_loop(&listener)).unwrap_or_else(|e| fail(e));
    let root = self_pid();
    for _ in 0..c {
        spawn(move || client(addr, root, m)).unwrap_or_else(|e| fail(e));
    }
    let clients: Vec<Pid> = (0..c).map(|_| receive::<Ready>().0).collect();
    note(format_args!(
        "tcp_echo: {c} clients connected; timing {m} round trips each"
    ));
    let before = rt.stats();
    let t = Instant::now();
    for &p in &clients {
        post(p, Go);
    }
    let mut samples = Vec::with_capacity((c * m) as usize);
    for _ in 0..c {
        samples.extend(receive::<Samples>().0);
    }
    let timed = Timed::since(t);
    let after = rt.stats();
    exit_pid(acceptor, ExitReason::Kill);
    let polls = after.io_polls.saturating_sub(before.io_polls).max(1);
    let events = after.io_events.saturating_sub(before.io_events);
    Measured {
        samples,
        timed,
        events_per_poll: events as f64 / polls as f64,
    }
}

fn accept_loop(listener: &TcpListener) {
    loop {
        let (conn, _) = listener.accept().unwrap_or_else(|e| fail(e));
        spawn(move || echo(&conn)).unwrap_or_else(|e| fail(e));
    }
}

/// The server side of one connection.
fn echo(conn: &TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = conn.read(&mut buf) {
        conn.write_all(&buf[..n]).unwrap_or_else(|e| fail(e));
    }
}

/// One client: connect, warm up, wait for the start, time `m` round trips.
fn client(addr: SocketAddr, root: Pid, m: u64) {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| fail(e));
    s.set_nodelay(true).unwrap_or_else(|e| fail(e));
    let msg = [0x5a_u8; SIZE];
    let mut buf = [0u8; 4096];
    for _ in 0..WARMUP {
        round_trip(&s, &msg, &mut buf);
    }
    post(root, Ready(self_pid()));
    receive::<Go>();
    let samples = (0..m)
        .map(|_| {
            let t = Instant::now();
            round_trip(&s, &msg, &mut buf);
            t.elapsed().as_nanos() as u64
        })
        .collect();
    post(root, Samples(samples));
}

/// Sends `msg` and reads until its echo is back.
fn round_trip(s: &TcpStream, msg: &[u8], buf: &mut [u8]) {
    s.write_all(msg).unwrap_or_else(|e| fail(e));
    let mut got = 0;
    while got < msg.len() {
        match s.read(buf) {
            Ok(0) => fail("the server closed a connection"),
            Ok(n) => got += n,
            Err(e) => fail(e),
        }
    }
}

/// Sends, treating a dead receiver as a benchmark failure.
fn post<M: Send + 'static>(to: Pid, msg: M) {
    if send(to, msg).is_err() {
        fail(format_args!("{to:?} is dead"));
    }
}
