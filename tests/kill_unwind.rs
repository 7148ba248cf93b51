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

/// Spawns a monitored process that says "ready", spins in user code (no runtime
/// call) until the kill has been delivered, then runs `after`; returns its exit
/// reason and whether anything it sent after the kill arrived.
fn kill_while_computing(after: fn(beamlet::Pid)) -> (ExitReason, Option<&'static str>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let me = self_pid();
    let killed = Arc::new(AtomicBool::new(false));
    let seen = killed.clone();
    let (pid, _) = spawn_monitor(move || {
        send(me, "ready").unwrap();
        while !seen.load(Ordering::SeqCst) {
            std::hint::spin_loop();
        }
        after(me);
    })
    .unwrap();
    assert_eq!(receive_timeout::<&str>(PATIENCE), Some("ready"));
    exit_pid(pid, ExitReason::Kill);
    killed.store(true, Ordering::SeqCst);
    let down = receive_timeout::<Down>(PATIENCE).expect("the process died");
    (down.reason, beamlet::try_receive::<&str>())
}

#[test]
fn a_kill_that_arrived_while_computing_lands_before_the_next_send() {
    let (reason, sent) = run(|| {
        kill_while_computing(|me| {
            let _ = send(me, "sent after the kill");
        })
    });
    assert_eq!(reason, ExitReason::Killed);
    assert_eq!(sent, None, "the send after the kill had no effect");
}

#[test]
fn a_kill_that_arrived_while_computing_lands_before_exit_with_another_reason() {
    let (reason, _) =
        run(|| kill_while_computing(|_| beamlet::exit(ExitReason::custom("my own reason"))));
    assert_eq!(reason, ExitReason::Killed);
}

#[test]
fn a_kill_that_arrived_while_computing_lands_before_a_spawn() {
    let (reason, sent) = run(|| {
        kill_while_computing(|me| {
            let _ = beamlet::spawn(move || {
                let _ = send(me, "from a child spawned after the kill");
            });
        })
    });
    assert_eq!(reason, ExitReason::Killed);
    assert_eq!(sent, None, "no child was spawned after the kill");
}

#[test]
fn a_kill_that_arrived_while_computing_lands_at_the_end_of_the_slice() {
    let (reason, _) = run(|| {
        kill_while_computing(|_| {
            loop {
                beamlet::reduce(1);
            }
        })
    });
    assert_eq!(reason, ExitReason::Killed);
}
