//! Futures that need tokio's reactor and timers, polled inside processes (feature
//! `tokio`): a runtime started by beamlet and an attached one, TCP, kills and
//! timeouts during the wait.

mod common;

use std::time::{Duration, Instant};

use beamlet::{
    Down, Elapsed, ExitReason, Runtime, block_on_future, block_on_future_timeout, exit_pid,
    monitor, receive, self_pid, send, spawn,
};
use common::{PATIENCE, run, stop};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn a_tokio_timer_works_in_a_runtime_started_on_demand() {
    let waited = run(|| {
        let start = Instant::now();
        block_on_future(async { tokio::time::sleep(Duration::from_millis(20)).await });
        start.elapsed()
    });
    assert!(waited >= Duration::from_millis(20));
}

/// A tokio runtime of one worker thread named `name`.
fn one_thread_tokio(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

/// The name of the thread a task spawned from a process's future runs on: a
/// worker of the tokio runtime `rt` enters.
fn tokio_thread_of(rt: &Runtime) -> Option<String> {
    rt.block_on(|| {
        block_on_future(async {
            tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
                .await
                .unwrap()
        })
    })
    .unwrap()
}

#[test]
fn an_attached_tokio_runtime_is_the_one_entered() {
    let tokio_rt = one_thread_tokio("attached-tokio");
    let rt = Runtime::builder()
        .schedulers(2)
        .tokio_handle(tokio_rt.handle().clone())
        .build()
        .unwrap();
    let ran_on = tokio_thread_of(&rt);
    assert_eq!(ran_on.as_deref(), Some("attached-tokio"));
    stop(rt);
    // The attached runtime outlives beamlet's shutdown.
    assert_eq!(tokio_rt.block_on(async { 1 }), 1);
}

#[test]
fn a_runtime_built_inside_tokio_attaches_to_it() {
    let tokio_rt = one_thread_tokio("ambient-tokio");
    let rt = tokio_rt.block_on(async { Runtime::builder().schedulers(1).build().unwrap() });
    let ran_on = tokio_thread_of(&rt);
    assert_eq!(ran_on.as_deref(), Some("ambient-tokio"));
    stop(rt);
}

#[test]
fn processes_talk_over_tokio_tcp() {
    let reply = run(|| {
        let me = self_pid();
        spawn(move || {
            let listener = block_on_future(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
            send(me, listener.local_addr().unwrap()).unwrap();
            let (mut conn, _) = block_on_future(listener.accept()).unwrap();
            let mut buf = [0u8; 4];
            block_on_future(conn.read_exact(&mut buf)).unwrap();
            buf.reverse();
            block_on_future(conn.write_all(&buf)).unwrap();
        })
        .unwrap();
        let addr = receive::<std::net::SocketAddr>();
        block_on_future(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            buf
        })
    });
    assert_eq!(&reply, b"gnip");
}

#[test]
fn a_kill_during_a_tokio_sleep_ends_the_process_at_once() {
    let (reason, took) = run(|| {
        let pid =
            spawn(|| block_on_future(async { tokio::time::sleep(Duration::from_secs(600)).await }))
                .unwrap();
        let mref = monitor(pid);
        std::thread::sleep(Duration::from_millis(10));
        let start = Instant::now();
        exit_pid(pid, ExitReason::Kill);
        let down = receive::<Down>();
        assert_eq!(down.monitor, mref);
        (down.reason, start.elapsed())
    });
    assert_eq!(reason, ExitReason::Killed);
    assert!(took < PATIENCE);
}

#[test]
fn a_timeout_during_a_tokio_read_gives_up_and_drops_it() {
    let r = run(|| {
        let listener = block_on_future(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        // Connected, but nobody ever writes: the read would wait for ever.
        let mut client = block_on_future(tokio::net::TcpStream::connect(addr)).unwrap();
        let _server = block_on_future(listener.accept()).unwrap();
        let mut buf = [0u8; 1];
        block_on_future_timeout(client.read(&mut buf), Duration::from_millis(30))
    });
    assert!(matches!(r, Err(Elapsed)));
}
