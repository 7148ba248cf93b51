//! The runtime's hooks for distribution (`beamlet::remote`): pids of other nodes,
//! routes through a connection process, and signals handed in from a peer. A test
//! process stands in for the connection process of `far@host`.

mod common;

use std::time::Duration;

use beamlet::remote::{self, Outbound, RemoteSignal};
use beamlet::{
    Down, Exit, ExitReason, LinkError, Pid, SendError, demonitor, link, monitor, receive,
    receive_timeout, self_pid, send, spawn, trap_exit,
};
use common::{PATIENCE, run};

fn far(id: u32) -> Pid {
    remote::pid("far@host", 1, id, 0).unwrap()
}

/// The next thing the stand-in connection was asked to carry.
fn outbound() -> Outbound {
    receive_timeout::<Outbound>(PATIENCE).expect("an outbound delivery")
}

#[test]
fn sends_links_and_monitors_to_another_node_reach_its_connection_in_order() {
    run(|| {
        let connection = self_pid();
        remote::set_route("far@host", 1, connection);
        let target = far(85);
        let sender = spawn(move || {
            send(target, 1u32).unwrap();
            link(target).unwrap();
            let m = monitor(target);
            demonitor(m, false);
            send(target, 2u32).unwrap();
        })
        .unwrap();
        let first = outbound();
        assert_eq!(first.to, target);
        let RemoteSignal::Message(p) = first.signal else {
            panic!("a message first")
        };
        assert_eq!(p.downcast::<u32>().unwrap(), 1);
        assert!(matches!(outbound().signal, RemoteSignal::Link { from } if from == sender));
        let RemoteSignal::Monitor { from, monitor: m } = outbound().signal else {
            panic!("then the monitor")
        };
        assert_eq!(from, sender);
        assert!(matches!(outbound().signal, RemoteSignal::Demonitor { monitor } if monitor == m));
        let RemoteSignal::Message(p) = outbound().signal else {
            panic!("then 2")
        };
        assert_eq!(p.downcast::<u32>().unwrap(), 2);
        // The sender exits normally, and its link carries the reason to the node.
        let exit = outbound();
        assert_eq!(exit.to, target);
        assert!(matches!(
            exit.signal,
            RemoteSignal::Exit { from, reason: ExitReason::Normal, link: true } if from == sender
        ));
        assert!(remote::clear_route("far@host", connection));
    });
}

#[test]
fn signals_from_the_peer_act_as_local_ones_from_the_remote_pid() {
    run(|| {
        let connection = self_pid();
        remote::set_route("far@host", 1, connection);
        let target = far(90);
        let me = self_pid();
        let watcher = spawn(move || {
            trap_exit(true);
            link(target).unwrap();
            let m = monitor(target);
            send(me, m).unwrap();
            let exit = receive::<Exit>();
            let down = receive::<Down>();
            send(
                me,
                (
                    exit.from,
                    exit.reason,
                    down.pid,
                    down.reason,
                    down.monitor == m,
                ),
            )
            .unwrap();
        })
        .unwrap();
        assert!(matches!(outbound().signal, RemoteSignal::Link { .. }));
        assert!(matches!(outbound().signal, RemoteSignal::Monitor { .. }));
        let m = receive::<beamlet::MonitorRef>();
        // The connection is lost: each link and monitor fires with `noconnection`.
        let exit = RemoteSignal::Exit {
            from: target,
            reason: ExitReason::NoConnection,
            link: true,
        };
        remote::deliver(watcher, exit).unwrap();
        let down = RemoteSignal::Down {
            monitor: m,
            pid: target,
            reason: ExitReason::NoConnection,
        };
        remote::deliver(watcher, down).unwrap();
        let (from, reason, down_pid, down_reason, same) =
            receive::<(Pid, ExitReason, Pid, ExitReason, bool)>();
        assert_eq!((from, down_pid), (target, target));
        assert!(matches!(reason, ExitReason::NoConnection));
        assert!(matches!(down_reason, ExitReason::NoConnection));
        assert!(same);
        remote::clear_route("far@host", connection);
    });
}

#[test]
fn a_link_from_the_peer_to_a_dead_process_comes_back_for_a_noproc_answer() {
    run(|| {
        let dead = spawn(|| ()).unwrap();
        let m = monitor(dead);
        receive::<Down>();
        let _ = m;
        let back = remote::deliver(dead, RemoteSignal::Link { from: far(7) });
        assert!(matches!(back, Err(RemoteSignal::Link { .. })));
    });
}

#[test]
fn a_node_without_a_route_refuses_with_noproc_and_noconnection() {
    run(|| {
        let target = remote::pid("nowhere@host", 1, 1, 0).unwrap();
        assert!(matches!(send(target, 5u8), Err(SendError::NoProc(5))));
        assert_eq!(link(target), Err(LinkError::NoConnection));
        let m = monitor(target);
        let down = receive_timeout::<Down>(PATIENCE).unwrap();
        assert_eq!(down.monitor, m);
        assert!(matches!(down.reason, ExitReason::NoConnection));
        trap_exit(true);
        assert_eq!(link(target), Ok(()));
        let exit = receive_timeout::<Exit>(PATIENCE).unwrap();
        assert!(matches!(exit.reason, ExitReason::NoConnection));
    });
}

#[test]
fn a_plain_thread_reaches_another_node_through_the_runtime_that_routes_it() {
    let rt = common::runtime();
    let (got, seen) = std::sync::mpsc::channel();
    rt.spawn(move || {
        remote::set_route("far@host", 2, self_pid());
        let out = receive::<Outbound>();
        let RemoteSignal::Message(p) = out.signal else {
            panic!("a message")
        };
        got.send((out.to, p.downcast::<&str>().ok())).unwrap();
    })
    .unwrap();
    let target = remote::pid("far@host", 2, 3, 0).unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    // The route is set by the connection process; wait until it is.
    while rt.send(target, "hello").is_err() {
        assert!(std::time::Instant::now() < deadline, "route never set");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(seen.recv_timeout(PATIENCE), Ok((target, Some("hello"))));
    common::stop(rt);
}

#[test]
fn a_remote_pid_prints_with_its_node_and_reads_back_its_parts() {
    let p = remote::pid("n1@10.0.0.1", 9, 42, 3).unwrap();
    assert_eq!(p.to_string(), "<n1@10.0.0.1.42.3>");
    assert!(!p.is_local());
    assert!(Pid::NO_PROCESS.is_local());
    let parts = remote::parts(p).unwrap();
    assert_eq!(
        (&*parts.node, parts.creation, parts.id, parts.serial),
        ("n1@10.0.0.1", 9, 42, 3)
    );
    assert_eq!(remote::pid("n1@10.0.0.1", 9, 42, 3), Ok(p));
    assert_ne!(remote::pid("n1@10.0.0.1", 10, 42, 3).unwrap(), p);
}
