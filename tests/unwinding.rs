//! Runtime calls made while a process unwinds (a destructor run by a panic or by a
//! kill) never abort the OS process: calls that would only yield (`send`, `spawn`,
//! `reduce`, `yield_now`) skip the yield; calls that wait (`receive_timeout`,
//! `sleep`) wait without switching (the scheduler thread blocks, as in any blocking
//! call) and return as they would have. The process then ends with the reason it was
//! unwinding for, and the rest of the runtime carries on.

use std::time::Duration;

use beamlet::{
    Down, ExitReason, Pid, exit_pid, receive_timeout, reduce, self_pid, send, sleep, spawn,
    spawn_monitor, try_receive, yield_now,
};

mod common;
use common::{PATIENCE, run};

/// Does everything a destructor might do with the runtime, then reports to `to`
/// what its receive with a timeout returned.
struct BusyOnDrop {
    to: Pid,
}

impl Drop for BusyOnDrop {
    fn drop(&mut self) {
        let to = self.to;
        let _ = send(to, "dropping");
        let _ = spawn(move || {
            let _ = send(to, "spawned from a destructor");
        });
        let _ = try_receive::<u64>();
        // Enough reductions to end several slices.
        for _ in 0..20_000 {
            reduce(1);
        }
        yield_now();
        sleep(Duration::from_millis(2));
        let got = receive_timeout::<u64>(Duration::from_millis(2));
        let _ = send(to, got.is_none());
    }
}

/// What the destructor's process sent, in order, and its exit reason.
fn collect(pid: Pid) -> (Vec<&'static str>, bool, ExitReason) {
    let mut said = Vec::new();
    for _ in 0..2 {
        said.push(receive_timeout::<&str>(PATIENCE).expect("the destructor reports"));
    }
    let timed_out = receive_timeout::<bool>(PATIENCE).expect("the receive returned");
    let down = receive_timeout::<Down>(PATIENCE).expect("the process died");
    assert_eq!(down.pid, pid);
    said.sort_unstable();
    (said, timed_out, down.reason)
}

#[test]
fn a_destructor_run_by_a_panic_can_use_the_runtime() {
    let (said, timed_out, reason) = run(|| {
        let me = self_pid();
        let (pid, _) = spawn_monitor(move || {
            let _guard = BusyOnDrop { to: me };
            panic!("unwinding with a busy guard");
        })
        .unwrap();
        collect(pid)
    });
    assert_eq!(said, ["dropping", "spawned from a destructor"]);
    assert!(timed_out, "receive_timeout returned None at its timeout");
    assert!(
        matches!(reason, ExitReason::Panic(ref p) if p.message() == "unwinding with a busy guard")
    );
}

#[test]
fn a_destructor_run_by_a_kill_can_use_the_runtime() {
    let (said, timed_out, reason) = run(|| {
        let me = self_pid();
        let (pid, _) = spawn_monitor(move || {
            let _guard = BusyOnDrop { to: me };
            send(me, "ready").unwrap();
            loop {
                let _ = receive_timeout::<()>(Duration::from_secs(3600));
            }
        })
        .unwrap();
        assert_eq!(receive_timeout::<&str>(PATIENCE), Some("ready"));
        exit_pid(pid, ExitReason::Kill);
        collect(pid)
    });
    assert_eq!(said, ["dropping", "spawned from a destructor"]);
    assert!(timed_out, "receive_timeout returned None at its timeout");
    assert_eq!(reason, ExitReason::Killed);
}

#[test]
fn a_destructor_run_by_a_shutdown_exit_can_use_the_runtime() {
    let (said, _, reason) = run(|| {
        let me = self_pid();
        let (pid, _) = spawn_monitor(move || {
            let _guard = BusyOnDrop { to: me };
            send(me, "ready").unwrap();
            loop {
                let _ = receive_timeout::<()>(Duration::from_secs(3600));
            }
        })
        .unwrap();
        assert_eq!(receive_timeout::<&str>(PATIENCE), Some("ready"));
        exit_pid(pid, ExitReason::Shutdown);
        collect(pid)
    });
    assert_eq!(said, ["dropping", "spawned from a destructor"]);
    assert_eq!(reason, ExitReason::Shutdown);
}
