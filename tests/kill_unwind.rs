//! A kill cannot be swallowed by user code: `std::panic::catch_unwind` around a
//! runtime call catches the kill's unwind, but the process still dies of the kill —
//! at its next runtime call, or when its function returns — and `catch_exit` (the
//! behaviours' dispatch point) never catches it. (tests/links.rs has the case where
//! the next runtime call re-raises it.)

use std::time::Duration;

use beamlet::{
    Down, ExitReason, catch_exit, exit_pid, receive_timeout, self_pid, send, spawn_monitor,
};

mod common;
use common::{PATIENCE, run};

/// Blocks until killed.
fn wait_forever() {
    loop {
        let _ = receive_timeout::<()>(Duration::from_secs(3600));
    }
}

/// Spawns `body`, waits for its "ready", kills it and returns its exit reason.
fn kill_after_ready(body: fn(beamlet::Pid)) -> ExitReason {
    let me = self_pid();
    let (pid, _) = spawn_monitor(move || body(me)).unwrap();
    assert_eq!(receive_timeout::<&str>(PATIENCE), Some("ready"));
    exit_pid(pid, ExitReason::Kill);
    let down = receive_timeout::<Down>(PATIENCE).expect("the process died");
    assert_eq!(
        beamlet::try_receive::<&str>(),
        None,
        "nothing sent after the kill"
    );
    down.reason
}

#[test]
fn a_kill_caught_by_catch_unwind_still_ends_a_process_that_returns() {
    let reason = run(|| {
        kill_after_ready(|parent| {
            let caught = std::panic::catch_unwind(|| {
                send(parent, "ready").unwrap();
                wait_forever();
            });
            assert!(caught.is_err(), "the kill unwound through catch_unwind");
            // Return without another runtime call: the process must not end `Normal`.
        })
    });
    assert_eq!(reason, ExitReason::Killed);
}

#[test]
fn a_kill_caught_twice_is_raised_again_at_each_runtime_call() {
    let reason = run(|| {
        kill_after_ready(|parent| {
            let first = std::panic::catch_unwind(|| {
                send(parent, "ready").unwrap();
                wait_forever();
            });
            assert!(first.is_err());
            // Caught again around the next runtime call: it raises the kill again.
            let second = std::panic::catch_unwind(|| {
                let _ = receive_timeout::<()>(Duration::ZERO);
            });
            assert!(second.is_err(), "the next runtime call re-raised the kill");
            let _ = send(parent, "escaped");
        })
    });
    assert_eq!(reason, ExitReason::Killed);
}

#[test]
fn catch_exit_does_not_catch_a_kill() {
    let reason = run(|| {
        kill_after_ready(|parent| {
            let r = catch_exit(|| {
                send(parent, "ready").unwrap();
                wait_forever();
            });
            // Unreachable: catch_exit re-raises the kill.
            let _ = send(parent, if r.is_err() { "caught" } else { "returned" });
        })
    });
    assert_eq!(reason, ExitReason::Killed);
}
