//! Processes from async code: `RuntimeHandle` (spawn, send, a process's result as a
//! future) and `gen_server::call_async`, driven by a tokio runtime with thousands of
//! concurrent tasks, with the typed errors of a call.

mod common;

use std::time::Duration;

use beamlet::otp::gen_server::{self, CallError, CallReply, Caller, GenServer, Init, NoReply};
use beamlet::{ExitReason, Runtime, receive};
use common::stop;

/// Counts calls; `Stall` is never answered, `Crash` panics.
struct Counter(u64);

#[derive(Debug)]
enum Req {
    Add(u64),
    Stall,
    Crash,
}

impl GenServer for Counter {
    type Args = ();
    type Call = Req;
    type Reply = u64;
    type Cast = u64;
    type Continue = ();
    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Counter(0))
    }
    fn handle_call(&mut self, req: Req, _: Caller<u64>) -> CallReply<u64, ()> {
        match req {
            Req::Add(n) => {
                self.0 += n;
                CallReply::Reply(self.0)
            }
            Req::Stall => CallReply::NoReply,
            Req::Crash => panic!("crash on request"),
        }
    }
    fn handle_cast(&mut self, n: u64) -> NoReply<()> {
        self.0 += n;
        NoReply::Ok
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn beamlet_rt() -> Runtime {
    Runtime::builder()
        .schedulers(2)
        .reports(beamlet::ReportSink::Off)
        .build()
        .unwrap()
}

#[test]
fn thousands_of_tokio_tasks_call_one_server() {
    const TASKS: u64 = 5_000;
    let rt = beamlet_rt();
    let server = rt
        .block_on(|| gen_server::start::<Counter>(()).unwrap())
        .unwrap();
    let replies = tokio_rt().block_on(async move {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| tokio::spawn(gen_server::call_async(server, Req::Add(1))))
            .collect();
        let mut replies = Vec::new();
        for t in tasks {
            replies.push(t.await.unwrap().unwrap());
        }
        replies
    });
    let mut sorted = replies.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (1..=TASKS).collect::<Vec<_>>(),
        "each call counted once"
    );
    stop(rt);
}

#[test]
fn a_call_to_a_dead_server_is_noproc() {
    let rt = beamlet_rt();
    let server = rt
        .block_on(|| {
            let s = gen_server::start::<Counter>(()).unwrap();
            gen_server::stop(s, ExitReason::Normal, Duration::from_secs(5)).unwrap();
            s
        })
        .unwrap();
    let r = tokio_rt().block_on(gen_server::call_async(server, Req::Add(1)));
    assert_eq!(r, Err(CallError::NoProc));
    stop(rt);
}

#[test]
fn a_call_without_an_answer_times_out() {
    let rt = beamlet_rt();
    let server = rt
        .block_on(|| gen_server::start::<Counter>(()).unwrap())
        .unwrap();
    let r = tokio_rt().block_on(gen_server::call_async_timeout(
        server,
        Req::Stall,
        Duration::from_millis(30),
    ));
    assert_eq!(r, Err(CallError::Timeout));
    stop(rt);
}

#[test]
fn a_server_crashing_in_the_call_is_an_exit_error() {
    let rt = beamlet_rt();
    let server = rt
        .block_on(|| gen_server::start::<Counter>(()).unwrap())
        .unwrap();
    let r = tokio_rt().block_on(gen_server::call_async(server, Req::Crash));
    match r {
        Err(CallError::Exit(reason)) => assert!(reason.is_panic(), "{reason:?}"),
        other => panic!("expected an exit error, got {other:?}"),
    }
    stop(rt);
}

#[test]
fn a_call_after_shutdown_is_noproc() {
    let rt = beamlet_rt();
    let server = rt
        .block_on(|| gen_server::start::<Counter>(()).unwrap())
        .unwrap();
    stop(rt);
    let r = tokio_rt().block_on(gen_server::call_async(server, Req::Add(1)));
    assert_eq!(r, Err(CallError::NoProc));
}

#[test]
fn casts_and_sends_work_from_tokio_tasks() {
    let rt = beamlet_rt();
    let server = rt
        .block_on(|| gen_server::start::<Counter>(()).unwrap())
        .unwrap();
    let handle = rt.handle();
    let sink = rt.block_on(beamlet::self_pid).unwrap();
    let total = tokio_rt().block_on(async move {
        for _ in 0..10 {
            tokio::spawn(async move { gen_server::cast(server, 10) })
                .await
                .unwrap();
        }
        // A send to a dead process is refused with the message back, from async code too.
        assert!(handle.send(sink, 1u8).is_err());
        gen_server::call_async(server, Req::Add(0)).await.unwrap()
    });
    assert_eq!(total, 100);
    stop(rt);
}

#[test]
fn a_process_result_is_awaited_from_tokio() {
    let rt = beamlet_rt();
    let handle = rt.handle();
    let (ok, err) = tokio_rt().block_on(async move {
        let ok = handle
            .run(|| {
                let me = beamlet::self_pid();
                beamlet::spawn(move || beamlet::send(me, 7u32).unwrap()).unwrap();
                receive::<u32>() * 6
            })
            .unwrap()
            .await;
        let err = handle
            .run(|| beamlet::exit(ExitReason::custom("no")))
            .unwrap()
            .await;
        (ok, err)
    });
    assert_eq!(ok, Ok(42));
    assert_eq!(err, Err(ExitReason::custom("no")));
    stop(rt);
}

#[test]
fn a_handle_outlives_its_runtime_and_refuses_spawns() {
    let rt = beamlet_rt();
    let handle = rt.handle();
    stop(rt);
    assert_eq!(
        handle.spawn(|| {}).unwrap_err(),
        beamlet::SpawnError::RuntimeGone
    );
}
