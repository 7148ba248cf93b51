//! tcp_idle: what an idle connection costs in memory, with a process per connection
//! blocked in `read` on the server side.
//!
//! Usage: `tcp_idle [N=9000] [SCHEDULERS=0]`. Both ends live in one OS process (so
//! it needs about 2N file descriptors: `ulimit -n`). The root binds a listener on
//! 127.0.0.1 and spawns an acceptor that spawns, per connection, a process that bumps
//! a counter and blocks in `read`. The root then opens N client connections (kept in
//! a vector, no process per client) and waits until all N server processes are
//! blocked. After a short settling pause the RSS increase over N gives the memory per
//! connection; it counts the server process (record, stack pages in use), both
//! sockets' registrations and handles, but not the kernel's socket buffers (they are
//! not in the RSS). Then the clients are closed and the time until every server
//! process has read EOF and exited is measured too.
//!
//! Keys: `bytes_per_conn`, `connect_us_per_conn` (opening and accepting, per
//! connection), `close_us_per_conn`; `rss_kib` is the RSS while all N are idle.
//!
//! Guards against regressions in the per-connection footprint (registration slots,
//! stream handles, the stack depth of a process parked in `read`) and in the
//! accept/connect and close/EOF paths.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use beamlet::net::{TcpListener, TcpStream};
use beamlet::{ExitReason, Runtime, exit_pid, sleep, spawn, yield_now};
use beamlet_benches::{
    Param, Report, SCHEDULERS, args, expect_ok, fail, fixed, note, ns_per, rss_kib, runtime,
    shutdown,
};

/// How long the root sleeps after all connections are idle, before reading the RSS.
const SETTLE: Duration = Duration::from_millis(200);

/// Server processes that are about to block in `read`.
static BLOCKED: AtomicUsize = AtomicUsize::new(0);

/// What one run measured.
struct Measured {
    connect: Duration,
    close: Duration,
    rss_before_kib: u64,
    rss_idle_kib: u64,
}

fn main() {
    let [n, schedulers] = args(
        "tcp_idle",
        "tcp_idle: N idle loopback connections, a server process blocked in read on each.",
        [
            Param::new("N", 9000, "connections (needs about 2N file descriptors)"),
            SCHEDULERS,
        ],
    );
    let rt = Arc::new(runtime(schedulers));
    let handle = rt.clone();
    let m = expect_ok(rt.block_on(move || measure(&handle, n)));
    let rt = Arc::try_unwrap(rt).unwrap_or_else(|_| fail("the runtime is still shared"));
    shutdown(rt);
    let grown = m.rss_idle_kib.saturating_sub(m.rss_before_kib) as f64 * 1024.0;
    let per_conn = if n == 0 { 0.0 } else { grown / n as f64 };
    Report::new("tcp_idle", n, m.connect + m.close)
        .rss_kib(m.rss_idle_kib)
        .key("bytes_per_conn", fixed(per_conn, 0))
        .key("connect_us_per_conn", fixed(ns_per(m.connect, n) / 1e3, 3))
        .key("close_us_per_conn", fixed(ns_per(m.close, n) / 1e3, 3))
        .print();
}

/// The root process: listen, connect N, settle, measure, close all.
fn measure(rt: &Runtime, n: u64) -> Measured {
    let n = usize::try_from(n).unwrap_or_else(|_| fail("N does not fit in memory"));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail(e));
    let addr = listener.local_addr().unwrap_or_else(|e| fail(e));
    let acceptor = spawn(move || accept_loop(&listener)).unwrap_or_else(|e| fail(e));
    let baseline = rt.process_count();
    // Reserved up front so that the vector's pages are in the baseline RSS.
    let mut clients: Vec<TcpStream> = Vec::with_capacity(n);
    let rss_before_kib = rss_kib();
    let t = Instant::now();
    for i in 0..n {
        let s = TcpStream::connect(addr)
            .unwrap_or_else(|e| fail(format_args!("connection {i}: {e} (ulimit -n?)")));
        clients.push(s);
    }
    wait_until(|| BLOCKED.load(Ordering::Acquire) >= n);
    let connect = t.elapsed();
    note(format_args!("tcp_idle: {n} connections idle; settling"));
    sleep(SETTLE);
    let rss_idle_kib = rss_kib();
    let t = Instant::now();
    drop(clients);
    wait_until(|| rt.process_count() <= baseline);
    let close = t.elapsed();
    exit_pid(acceptor, ExitReason::Kill);
    Measured {
        connect,
        close,
        rss_before_kib,
        rss_idle_kib,
    }
}

fn accept_loop(listener: &TcpListener) {
    loop {
        let (conn, _) = listener.accept().unwrap_or_else(|e| fail(e));
        spawn(move || idle(&conn)).unwrap_or_else(|e| fail(e));
    }
}

/// A server process: blocks in `read` until its client closes.
fn idle(conn: &TcpStream) {
    BLOCKED.fetch_add(1, Ordering::Release);
    let mut buf = [0u8; 64];
    while let Ok(1..) = conn.read(&mut buf) {}
}

/// Yields until `done` holds; the root thereby lets every queued process run first.
fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        yield_now();
    }
}
