//! Dirty schedulers: closures run on separate pools while the calling process waits,
//! killable, and a panic in a closure is an error for the caller, not a dead thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use beamlet::{
    DirtyError, Down, ExitReason, Runtime, dirty_cpu, dirty_io, exit_pid, receive_timeout,
    self_pid, send, spawn, spawn_monitor,
};

#[test]
fn dirty_calls_return_results_and_panics_become_errors() {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    rt.block_on(|| {
        assert_eq!(dirty_cpu(|| 6 * 7), Ok(42));
        assert_eq!(
            dirty_io(|| -> u8 { panic!("disk on fire") }),
            Err(DirtyError::Panicked("disk on fire".into()))
        );
        // The pool survived the panic.
        assert_eq!(dirty_io(|| "still here"), Ok("still here"));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn dirty_io_calls_run_concurrently_with_the_schedulers() {
    // One scheduler, ten blocking calls: on the I/O pool they overlap (several run at
    // once), and meanwhile the scheduler runs other processes.
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    rt.block_on(|| {
        let me = self_pid();
        let running = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let (running, max) = (running.clone(), max.clone());
            spawn(move || {
                dirty_io(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .unwrap();
                send(me, "slept").unwrap();
            })
            .unwrap();
        }
        spawn(move || send(me, "scheduler free").unwrap()).unwrap();
        let mut got = Vec::new();
        for _ in 0..11 {
            got.push(receive_timeout::<&str>(Duration::from_secs(30)).unwrap());
        }
        assert_eq!(got[0], "scheduler free", "{got:?}");
        assert!(max.load(Ordering::SeqCst) >= 2, "the calls overlapped");
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_process_waiting_on_a_dirty_call_stays_killable() {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    rt.block_on(|| {
        let (pid, _) = spawn_monitor(|| {
            let _ = dirty_cpu(|| std::thread::sleep(Duration::from_millis(300)));
        })
        .unwrap();
        beamlet::sleep(Duration::from_millis(20));
        exit_pid(pid, ExitReason::Kill);
        let d = receive_timeout::<Down>(Duration::from_secs(10)).unwrap();
        assert_eq!(d.reason, ExitReason::Killed);
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// Jobs whose callers were killed while they waited in the queue are dropped unrun,
/// so they do not delay the jobs queued behind them.
#[test]
fn queued_jobs_of_killed_callers_never_run() {
    let rt = Runtime::builder()
        .schedulers(2)
        .dirty_cpu_schedulers(1)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let ran_in = ran.clone();
    let fresh = rt
        .block_on(move || {
            // Hold the only dirty thread until the doomed callers are queued and dead:
            // the blocker's job is running (it says so) before any doomed one queues.
            let (release, held) = std::sync::mpsc::channel::<()>();
            let me = beamlet::self_pid();
            let (_, blocker) = spawn_monitor(move || {
                let _ = dirty_cpu(move || {
                    beamlet::send(me, "holding").unwrap();
                    held.recv()
                });
            })
            .unwrap();
            assert_eq!(beamlet::receive::<&str>(), "holding");
            let mut doomed = Vec::new();
            for _ in 0..4 {
                let ran = ran_in.clone();
                let (pid, m) = spawn_monitor(move || {
                    let _ = dirty_cpu(move || ran.fetch_add(1, Ordering::SeqCst));
                })
                .unwrap();
                doomed.push((pid, m));
            }
            beamlet::sleep(Duration::from_millis(50));
            for &(pid, _) in &doomed {
                exit_pid(pid, ExitReason::Kill);
            }
            for &(_, m) in &doomed {
                let d = beamlet::receive_match::<Down>(|d| d.monitor == m);
                assert_eq!(d.reason, ExitReason::Killed);
            }
            release.send(()).unwrap();
            beamlet::receive_match::<Down>(|d| d.monitor == blocker);
            // FIFO pool: this job runs after any of the doomed ones would have.
            dirty_cpu(|| "fresh")
        })
        .unwrap();
    assert_eq!(fresh, Ok("fresh"));
    assert_eq!(ran.load(Ordering::SeqCst), 0, "a killed caller's job ran");
    let _ = rt.shutdown();
}
