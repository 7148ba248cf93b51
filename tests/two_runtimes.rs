//! Two runtimes in one OS process: distinct ids, pids that carry their runtime's
//! number, messages across runtimes by pid, and independent shutdown.

use std::sync::mpsc;
use std::time::Duration;

use beamlet::{
    Pid, Runtime, is_alive, receive, receive_timeout, self_pid, send, send_after, spawn,
};

mod common;
use common::{PATIENCE, watchdog};

fn runtime(name: &str) -> Runtime {
    Runtime::builder()
        .schedulers(2)
        .thread_name(name)
        .build()
        .expect("runtime builds")
}

/// An echo process: answers `(from, n)` with `n + 1`, forever.
fn echo() {
    loop {
        let (from, n) = receive::<(Pid, u64)>();
        let _ = send(from, n + 1);
    }
}

#[test]
fn ids_and_pids_are_distinct_per_runtime() {
    watchdog(Duration::from_secs(60), || {
        let a = runtime("rt-a");
        let b = runtime("rt-b");
        assert_ne!(a.id(), b.id());
        let pa = a.block_on(self_pid).unwrap();
        let pb = b.block_on(self_pid).unwrap();
        assert_eq!(pa.runtime_id(), a.id());
        assert_eq!(pb.runtime_id(), b.id());
        assert!(pa.to_string().starts_with(&format!("<{}.", a.id())), "{pa}");
        assert!(pb.to_string().starts_with(&format!("<{}.", b.id())), "{pb}");
        assert_ne!(pa, pb);
        // A live process of B is not a process of A.
        let echo_b = b.spawn(echo).unwrap();
        assert!(b.is_alive(echo_b));
        assert!(is_alive(echo_b));
        assert!(!a.is_alive(echo_b));
        // Sending to B's pid through A's handle is routed to B (never to A's process
        // with the same slot and serial).
        assert!(a.send(echo_b, (pa, 1u64)).is_ok());
        assert_eq!(a.shutdown().killed, 0);
        assert_eq!(b.shutdown().killed, 1);
    });
}

#[test]
fn processes_of_two_runtimes_talk_by_pid() {
    watchdog(Duration::from_secs(60), || {
        let a = runtime("talk-a");
        let b = runtime("talk-b");
        let echo_b = b.spawn(echo).unwrap();
        // A's process asks B's echo; B's echo replies to A's process.
        let answers = a
            .block_on(move || {
                (0..100u64)
                    .map(|i| {
                        send(echo_b, (self_pid(), i)).unwrap();
                        receive_timeout::<u64>(PATIENCE).expect("reply across runtimes")
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap();
        assert_eq!(answers, (1..=100).collect::<Vec<_>>());
        // And the other way round, with a process spawned from a process of B.
        let echo_a = a.spawn(echo).unwrap();
        let n = b
            .block_on(move || {
                let me = self_pid();
                let helper = spawn(move || {
                    send(echo_a, (self_pid(), 41u64)).unwrap();
                    let n = receive::<u64>();
                    send(me, n).unwrap();
                })
                .unwrap();
                assert_eq!(helper.runtime_id(), me.runtime_id());
                receive_timeout::<u64>(PATIENCE)
            })
            .unwrap();
        assert_eq!(n, Some(42));
        assert_eq!(a.shutdown().killed, 1);
        assert_eq!(b.shutdown().killed, 1);
    });
}

#[test]
fn shutting_down_one_runtime_leaves_the_other_working() {
    watchdog(Duration::from_secs(60), || {
        let a = runtime("down-a");
        let b = runtime("down-b");
        let echo_a = a.spawn(echo).unwrap();
        let echo_b = b.spawn(echo).unwrap();
        let report = a.shutdown();
        assert_eq!(report.killed, 1);
        assert!(!is_alive(echo_a), "A's processes are gone");
        assert!(is_alive(echo_b), "B's processes are not affected");
        let (to_a, answers) = b
            .block_on(move || {
                let to_a = send(echo_a, (self_pid(), 0u64)).map_err(|e| e.into_inner().1);
                let answers = (0..1_000u64)
                    .map(|i| {
                        send(echo_b, (self_pid(), i)).unwrap();
                        receive_timeout::<u64>(PATIENCE).expect("B still works")
                    })
                    .sum::<u64>();
                (to_a, answers)
            })
            .unwrap();
        assert_eq!(to_a, Err(0), "a send to a shut-down runtime fails");
        assert_eq!(answers, (1..=1_000).sum::<u64>());
        // B can still spawn many processes and shut down normally.
        let (tx, rx) = mpsc::channel();
        for i in 0..100u64 {
            let tx = tx.clone();
            b.spawn(move || tx.send(i).unwrap()).unwrap();
        }
        let sum: u64 = (0..100).map(|_| rx.recv_timeout(PATIENCE).unwrap()).sum();
        assert_eq!(sum, 4950);
        // Only the echo stays alive once the senders have exited.
        let deadline = std::time::Instant::now() + PATIENCE;
        while b.process_count() != 1 {
            assert!(std::time::Instant::now() < deadline, "senders did not exit");
            std::thread::sleep(Duration::from_millis(1));
        }
        let report = b.shutdown();
        assert_eq!((report.killed, report.stuck), (1, 0));
    });
}

#[test]
fn a_new_runtime_gets_a_new_id() {
    watchdog(Duration::from_secs(60), || {
        let a = runtime("new-a");
        let old_id = a.id();
        let old_pid = a.spawn(receive::<()>).unwrap();
        assert_eq!(a.shutdown().killed, 1);
        let c = runtime("new-c");
        assert_ne!(c.id(), old_id, "runtime numbers are not reused");
        assert!(!is_alive(old_pid));
        assert!(c.send(old_pid, ()).is_err());
        assert_eq!(c.shutdown().killed, 0);
    });
}

/// Spawns a process that forwards the first `u32` it receives (or `None` after
/// `wait`) to `tx`.
fn forwarder(rt: &Runtime, wait: Duration, tx: mpsc::Sender<Option<u32>>) -> Pid {
    rt.spawn(move || tx.send(receive_timeout::<u32>(wait)).unwrap())
        .unwrap()
}

/// Two fresh runtimes whose first processes have the same slot and serial, so that
/// their pids differ only in the runtime number.
fn twin_receivers(
    a: &Runtime,
    b: &Runtime,
    wait: Duration,
) -> (
    Pid,
    Pid,
    mpsc::Receiver<Option<u32>>,
    mpsc::Receiver<Option<u32>>,
) {
    let (tx_a, rx_a) = mpsc::channel();
    let (tx_b, rx_b) = mpsc::channel();
    let pa = forwarder(a, wait, tx_a);
    let pb = forwarder(b, wait, tx_b);
    let strip = |p: Pid| p.to_string().split_once('.').unwrap().1.to_owned();
    assert_eq!(strip(pa), strip(pb), "{pa} and {pb} share slot and serial");
    assert_ne!(pa, pb);
    (pa, pb, rx_a, rx_b)
}

#[test]
fn runtime_send_with_another_runtime_s_pid_never_reaches_its_own_process() {
    watchdog(Duration::from_secs(60), || {
        let a = runtime("twin-a");
        let b = runtime("twin-b");
        let (_pa, pb, rx_a, rx_b) = twin_receivers(&a, &b, Duration::from_millis(300));
        // Through A's handle, to B's pid: either B's process gets it or it fails;
        // A's process with the same slot and serial must not get it.
        let r = a.send(pb, 7u32);
        let got_a = rx_a.recv_timeout(PATIENCE).unwrap();
        let got_b = rx_b.recv_timeout(PATIENCE).unwrap();
        assert_eq!(
            got_a, None,
            "A's process received a message addressed to {pb}"
        );
        match r {
            Ok(()) => assert_eq!(got_b, Some(7)),
            Err(e) => assert_eq!((e.into_inner(), got_b), (7, None)),
        }
        assert_eq!(a.shutdown().stuck, 0);
        assert_eq!(b.shutdown().stuck, 0);
    });
}

#[test]
fn send_after_from_a_process_to_another_runtime_s_pid() {
    watchdog(Duration::from_secs(60), || {
        let a = runtime("late-a");
        let b = runtime("late-b");
        let (_pa, pb, rx_a, rx_b) = twin_receivers(&a, &b, Duration::from_millis(500));
        a.block_on(move || {
            send_after(Duration::from_millis(5), pb, 9u32);
        })
        .unwrap();
        let got_a = rx_a.recv_timeout(PATIENCE).unwrap();
        let got_b = rx_b.recv_timeout(PATIENCE).unwrap();
        assert_eq!(
            (got_a, got_b),
            (None, Some(9)),
            "the timer message must reach {pb} in runtime B"
        );
        assert_eq!(a.shutdown().stuck, 0);
        assert_eq!(b.shutdown().stuck, 0);
    });
}
