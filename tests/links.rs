//! Links, exit signals and `trap_exit`, following the Erlang reference manual's
//! chapter on processes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use beamlet::{
    Down, Exit, ExitReason, LinkError, Pid, Runtime, exit, exit_pid, is_alive, link, monitor,
    processes, receive, receive_timeout, self_pid, send, sleep, spawn, spawn_link, spawn_monitor,
    trap_exit, unlink,
};

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

fn wait_forever() {
    loop {
        receive::<()>();
    }
}

/// Spawns a chain of `left` more processes, each linked to the previous one; the
/// tail sends its pid to `report` and panics when told to.
fn chain(left: u32, report: Pid) {
    if left == 0 {
        send(report, self_pid()).unwrap();
        receive::<&str>();
        panic!("tail crashed");
    }
    spawn_link(move || chain(left - 1, report)).unwrap();
    wait_forever();
}

#[test]
fn abnormal_exit_propagates_along_a_chain_of_10000_links() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let (head, _) = spawn_monitor(move || chain(10_000, me)).unwrap();
        let tail = receive_timeout::<Pid>(WAIT).expect("tail ready");
        send(tail, "crash").unwrap();
        let down = receive_timeout::<Down>(WAIT).expect("head died");
        assert_eq!(down.pid, head);
        match &down.reason {
            ExitReason::Panic(p) => assert_eq!(p.message(), "tail crashed"),
            other => panic!("unexpected reason {other:?}"),
        }
        // The head dies last: every link exits before passing the signal on.
        assert_eq!(processes(), vec![me]);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn normal_exit_of_a_link_leaves_a_non_trapping_partner_alive() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let partner = spawn(move || {
            spawn_link(|| ()).unwrap();
            sleep(Duration::from_millis(20));
            send(me, "partner alive").unwrap();
            wait_forever();
        })
        .unwrap();
        assert_eq!(receive_timeout::<&str>(WAIT), Some("partner alive"));
        assert!(is_alive(partner));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn trap_exit_turns_exit_signals_into_messages_in_order() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let me = self_pid();
        let sender = spawn(move || {
            send(me, 1u32).unwrap();
            exit_pid(me, ExitReason::custom("first"));
            send(me, 2u32).unwrap();
            exit_pid(me, ExitReason::Normal);
            send(me, 3u32).unwrap();
        })
        .unwrap();
        let mut seen = Vec::new();
        for _ in 0..5 {
            let m = beamlet::receive_any_timeout(WAIT).expect("message");
            let m = match m.downcast::<u32>() {
                Ok(n) => {
                    seen.push(format!("msg {n}"));
                    continue;
                }
                Err(m) => m,
            };
            let e = m.downcast::<Exit>().expect("an Exit message");
            assert_eq!(e.from, sender);
            seen.push(format!("exit {}", e.reason));
        }
        assert_eq!(
            seen,
            ["msg 1", "exit \"first\"", "msg 2", "exit normal", "msg 3"]
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn kill_cannot_be_trapped_and_reaches_links_as_killed() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let me = self_pid();
        let victim = spawn_link(move || {
            trap_exit(true);
            send(me, "trapping").unwrap();
            wait_forever();
        })
        .unwrap();
        assert_eq!(receive_timeout::<&str>(WAIT), Some("trapping"));
        exit_pid(victim, ExitReason::Kill);
        let e = receive_timeout::<Exit>(WAIT).expect("link exit");
        assert_eq!(e.from, victim);
        assert_eq!(e.reason, ExitReason::Killed);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn exit_signal_with_other_reason_kills_a_non_trapping_process() {
    let rt = rt();
    rt.block_on(|| {
        let (pid, _) = spawn_monitor(wait_forever).unwrap();
        exit_pid(pid, ExitReason::Shutdown);
        assert_eq!(
            receive_timeout::<Down>(WAIT).unwrap().reason,
            ExitReason::Shutdown
        );
        let (pid, _) = spawn_monitor(wait_forever).unwrap();
        exit_pid(pid, ExitReason::Normal);
        assert!(receive_timeout::<Down>(Duration::from_millis(50)).is_none());
        assert!(is_alive(pid));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn link_to_a_dead_pid_errors_or_delivers_noproc() {
    let rt = rt();
    rt.block_on(|| {
        let (dead, _) = spawn_monitor(|| ()).unwrap();
        receive_timeout::<Down>(WAIT).unwrap();
        assert_eq!(link(dead), Err(LinkError::NoProc));
        assert!(is_alive(self_pid()), "the caller lives on");
        trap_exit(true);
        assert_eq!(link(dead), Ok(()));
        let e = receive_timeout::<Exit>(WAIT).expect("noproc exit message");
        assert_eq!((e.from, e.reason), (dead, ExitReason::NoProc));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn exit_self_ends_the_process_with_the_reason() {
    let rt = rt();
    let r = rt.block_on(|| exit(ExitReason::custom(42u32)));
    assert_eq!(r.unwrap_err().custom_ref::<u32>(), Some(&42));
    let _ = rt.shutdown();
}

/// A guard that counts its drops.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_killed_process_dies_promptly_in_receive_sleep_and_hibernation_running_destructors() {
    let rt = rt();
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    rt.block_on(move || {
        let in_receive = {
            let g = Dropped(d.clone());
            spawn_monitor(move || {
                let _g = g;
                wait_forever()
            })
        };
        let in_sleep = {
            let g = Dropped(d.clone());
            spawn_monitor(move || {
                let _g = g;
                sleep(Duration::from_secs(3600))
            })
        };
        let hibernated = {
            let g = Dropped(d.clone());
            spawn_monitor(move || {
                beamlet::hibernate(move || {
                    let _g = g;
                    wait_forever()
                })
            })
        };
        sleep(Duration::from_millis(20));
        for (pid, _) in [in_receive.unwrap(), in_sleep.unwrap(), hibernated.unwrap()] {
            exit_pid(pid, ExitReason::Kill);
            let down = receive_timeout::<Down>(WAIT).expect("died promptly");
            assert_eq!((down.pid, down.reason), (pid, ExitReason::Killed));
        }
    })
    .unwrap();
    // The hibernated process's guard lives in its continuation, dropped unrun.
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    let _ = rt.shutdown();
}

#[test]
fn catch_unwind_cannot_swallow_a_kill() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let (pid, _) = spawn_monitor(move || {
            let r = std::panic::catch_unwind(|| {
                send(me, "ready").unwrap();
                wait_forever();
            });
            // The kill was caught; the next runtime call must re-raise it.
            assert!(r.is_err());
            send(me, "escaped").unwrap();
            wait_forever();
        })
        .unwrap();
        assert_eq!(receive_timeout::<&str>(WAIT), Some("ready"));
        exit_pid(pid, ExitReason::Kill);
        let down = receive_timeout::<Down>(WAIT).expect("died");
        assert_eq!(down.reason, ExitReason::Killed);
        assert_eq!(
            beamlet::try_receive::<&str>(),
            None,
            "no message after the kill"
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// Races `unlink` against the partner's abnormal exit, 10,000 times across two
/// schedulers: an exit from the link may be seen before `unlink` (as a trapped
/// message), never after it returns.
#[test]
fn unlink_is_final_under_concurrent_exits() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        for i in 0..10_000u32 {
            let partner = spawn_link(move || {
                if i % 2 == 0 {
                    beamlet::yield_now();
                }
                exit(ExitReason::custom("boom"));
            })
            .unwrap();
            // Whatever arrived so far is legitimately delivered: take it out.
            let _ = beamlet::receive_match_timeout(|e: &Exit| e.from == partner, Duration::ZERO);
            unlink(partner);
        }
        sleep(Duration::from_millis(50));
        // Nothing from any unlinked partner arrived after its unlink.
        assert_eq!(beamlet::receive_timeout::<Exit>(Duration::ZERO), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_trapping_process_sees_monitor_and_link_of_the_same_exit() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let pid = spawn_link(|| panic!("x")).unwrap();
        let m = monitor(pid);
        let e = receive_timeout::<Exit>(WAIT).unwrap();
        assert!(e.reason.is_panic());
        let d = receive_timeout::<Down>(WAIT).unwrap();
        assert_eq!(d.monitor, m);
        // The monitor was set after the exit, or before it: either way exactly one Down.
        assert!(d.reason.is_panic() || d.reason == ExitReason::NoProc);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn exit_kill_called_by_the_process_itself_reaches_a_trapping_link_as_kill() {
    let rt = rt();
    let got = rt
        .block_on(|| {
            trap_exit(true);
            let child = spawn_link(|| exit(ExitReason::Kill)).unwrap();
            let e = receive_timeout::<Exit>(WAIT).expect("an exit message");
            (e.from == child, e.reason)
        })
        .unwrap();
    assert_eq!(got, (true, ExitReason::Kill));
    let _ = rt.shutdown();
}

#[test]
fn exit_kill_called_by_the_process_itself_kills_a_non_trapping_link_with_kill() {
    let rt = rt();
    let reason = rt
        .block_on(|| {
            let (middle, _) = spawn_monitor(|| {
                spawn_link(|| exit(ExitReason::Kill)).unwrap();
                wait_forever();
            })
            .unwrap();
            let down = receive_timeout::<Down>(WAIT).expect("the middle process died");
            assert_eq!(down.pid, middle);
            down.reason
        })
        .unwrap();
    assert_eq!(reason, ExitReason::Kill);
    let _ = rt.shutdown();
}
