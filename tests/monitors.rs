//! Monitors: one `Down` per monitor, `NoProc` for dead pids, `demonitor` finality.

use std::time::Duration;

use beamlet::{
    Down, ExitReason, Runtime, demonitor, monitor, receive, receive_timeout, self_pid, send, sleep,
    spawn, spawn_monitor, try_receive,
};

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

#[test]
fn down_carries_the_exit_reason_exactly_once() {
    let rt = rt();
    rt.block_on(|| {
        let (pid, m) = spawn_monitor(|| panic!("bad")).unwrap();
        let m2 = monitor(pid);
        // One Down per monitor: two arrive (however slow the machine), then no more.
        let mut downs: Vec<Down> = (0..2).map(|_| receive_timeout(WAIT).unwrap()).collect();
        downs.extend(receive_timeout::<Down>(Duration::from_millis(50)));
        assert_eq!(downs.len(), 2, "{downs:?}");
        let first = downs.iter().find(|d| d.monitor == m).unwrap();
        assert!(first.reason.is_panic());
        let second = downs.iter().find(|d| d.monitor == m2).unwrap();
        // The second monitor was set up after or around the exit.
        assert!(second.reason.is_panic() || second.reason == ExitReason::NoProc);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn monitoring_a_dead_pid_gives_noproc_at_once() {
    let rt = rt();
    rt.block_on(|| {
        let (pid, _) = spawn_monitor(|| ()).unwrap();
        receive_timeout::<Down>(WAIT).unwrap();
        let m = monitor(pid);
        let d = try_receive::<Down>().expect("immediate Down");
        assert_eq!((d.monitor, d.pid, d.reason), (m, pid, ExitReason::NoProc));
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// Races `demonitor(flush)` against the monitored process's exit, 10,000 times
/// across two schedulers: afterwards no `Down` for that monitor is ever seen.
#[test]
fn demonitor_with_flush_is_final_under_races() {
    let rt = rt();
    rt.block_on(|| {
        for i in 0..10_000u32 {
            let pid = spawn(move || {
                if i % 3 == 0 {
                    beamlet::yield_now();
                }
            })
            .unwrap();
            let m = monitor(pid);
            if i % 2 == 0 {
                beamlet::yield_now();
            }
            demonitor(m, true);
        }
        sleep(Duration::from_millis(50));
        assert_eq!(try_receive::<Down>(), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn demonitor_reports_whether_the_monitor_was_active() {
    let rt = rt();
    rt.block_on(|| {
        let (pid, m) = spawn_monitor(|| {
            receive::<()>();
        })
        .unwrap();
        assert!(demonitor(m, false));
        assert!(!demonitor(m, false));
        send(pid, ()).unwrap();
        let (_, m) = spawn_monitor(|| ()).unwrap();
        let _ = receive_timeout::<Down>(WAIT).unwrap();
        assert!(!demonitor(m, true), "the Down was already delivered");
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn down_arrives_after_messages_sent_before_the_exit() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let (_, m) = spawn_monitor(move || {
            for i in 0..100u32 {
                send(me, i).unwrap();
            }
        })
        .unwrap();
        let d = receive_timeout::<Down>(WAIT).unwrap();
        assert_eq!(d.monitor, m);
        // All 100 messages were sent before the Down, so they are all here now.
        let got: Vec<u32> = std::iter::from_fn(try_receive::<u32>).collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn monitoring_a_hibernated_process_does_not_wake_it() {
    let rt = rt();
    rt.block_on(|| {
        let pid = spawn(|| {
            beamlet::hibernate(|| {
                receive::<u8>();
            })
        })
        .unwrap();
        sleep(Duration::from_millis(20));
        let m = monitor(pid);
        assert!(demonitor(m, true));
        sleep(Duration::from_millis(20));
        let info = beamlet::process_info(pid).unwrap();
        assert_eq!(info.status, beamlet::ProcessStatus::Hibernated);
        // A message still wakes it, and a monitor set while it slept still fires.
        let m = monitor(pid);
        send(pid, 1u8).unwrap();
        let d = receive_timeout::<Down>(WAIT).unwrap();
        assert_eq!((d.monitor, d.reason), (m, ExitReason::Normal));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn monitor_by_an_unregistered_name_gets_noproc_with_the_name_at_once() {
    let rt = rt();
    rt.block_on(|| {
        let m = beamlet::monitor_name("no_such_name");
        let d = try_receive::<Down>().expect("the Down is there at once");
        assert_eq!(d.monitor, m);
        assert_eq!(d.reason, ExitReason::NoProc);
        assert_eq!(d.name.as_deref(), Some("no_such_name"));
        assert_eq!(d.pid, beamlet::Pid::NO_PROCESS);
    })
    .unwrap();
    assert_eq!(rt.shutdown().killed, 0);
}

#[test]
fn monitor_by_name_follows_the_process_it_found_and_names_it_in_the_down() {
    let rt = rt();
    rt.block_on(|| {
        let pid = spawn(|| {
            receive::<()>();
            beamlet::unregister("named_worker");
            receive::<()>();
            panic!("late");
        })
        .unwrap();
        beamlet::register("named_worker", pid).unwrap();
        let m = beamlet::monitor_name("named_worker");
        // Unregistering does not end the monitor: it watches the process.
        send(pid, ()).unwrap();
        sleep(Duration::from_millis(10));
        assert!(receive_timeout::<Down>(Duration::from_millis(10)).is_none());
        send(pid, ()).unwrap();
        let d = receive_timeout::<Down>(WAIT).expect("Down");
        assert_eq!((d.monitor, d.pid), (m, pid));
        assert_eq!(d.name.as_deref(), Some("named_worker"));
        assert!(d.reason.is_panic());
    })
    .unwrap();
    assert_eq!(rt.shutdown().killed, 0);
}

#[test]
fn a_monitor_by_name_is_removed_by_demonitor_and_a_pid_monitor_names_nothing() {
    let rt = rt();
    rt.block_on(|| {
        let pid = spawn(|| {
            receive::<()>();
        })
        .unwrap();
        beamlet::register("short_lived", pid).unwrap();
        let by_name = beamlet::monitor_name("short_lived");
        let by_pid = monitor(pid);
        assert!(demonitor(by_name, true));
        send(pid, ()).unwrap();
        let d = receive_timeout::<Down>(WAIT).expect("Down of the pid monitor");
        assert_eq!(d.monitor, by_pid);
        assert_eq!(d.name, None);
        assert!(receive_timeout::<Down>(Duration::from_millis(30)).is_none());
    })
    .unwrap();
    assert_eq!(rt.shutdown().killed, 0);
}
