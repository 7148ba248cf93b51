//! The observer's data, as a public API: parents and behaviours in `process_info`,
//! the `Dirty` status, whole-runtime scans (`for_each_process`), runtime-wide
//! figures (`runtime_stats`: utilisation, spawn counts, timers, sockets, stacks,
//! memory) and the system monitor's recent events.

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

use beamlet::net::TcpListener;
use beamlet::{
    Behaviour, Pid, ProcessStatus, Runtime, SystemEventKind, dirty_io, for_each_process,
    process_info, receive, receive_timeout, recent_system_events, runtime_stats, self_pid, send,
    send_after, set_behaviour, sleep, spawn,
};

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

#[test]
fn parent_is_the_spawning_process_and_none_from_outside() {
    let rt = rt();
    let outer = rt.spawn(|| ()).unwrap();
    let (tx, rx) = mpsc::channel();
    rt.block_on(move || {
        let me = self_pid();
        let child = spawn(|| {
            receive::<()>();
        })
        .unwrap();
        tx.send(process_info(child).unwrap().parent).unwrap();
        assert_eq!(process_info(me).unwrap().parent, None);
        send(child, ()).unwrap();
        me
    })
    .map(|me| assert_eq!(rx.recv().unwrap(), Some(me)))
    .unwrap();
    assert!(rt.process_info(outer).is_none_or(|i| i.parent.is_none()));
    let _ = rt.shutdown();
}

#[test]
fn behaviour_is_what_the_process_announced_and_is_reset_for_the_next_occupant() {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    rt.block_on(|| {
        let me = self_pid();
        let a = spawn(move || {
            set_behaviour("gen_server", "tests::Counter");
            send(me, ()).unwrap();
            receive::<()>();
        })
        .unwrap();
        receive::<()>();
        let want = Behaviour {
            kind: "gen_server",
            module: "tests::Counter",
        };
        assert_eq!(process_info(a).unwrap().behaviour, Some(want));
        send(a, ()).unwrap();
        // Slots are reused: a later process must not inherit the behaviour.
        for _ in 0..200 {
            let b = spawn(|| {
                receive::<()>();
            })
            .unwrap();
            assert_eq!(process_info(b).unwrap().behaviour, None);
            send(b, ()).unwrap();
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_process_waiting_for_a_dirty_job_is_dirty_and_waiting_after() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let worker = spawn(move || {
            dirty_io(move || {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
            })
            .unwrap();
            send(me, ()).unwrap();
            receive::<()>();
        })
        .unwrap();
        // The job runs on a dirty thread; this blocking wait is on a test thread's
        // channel, so take it on a dirty thread too.
        dirty_io(move || started_rx.recv().unwrap()).unwrap();
        assert_eq!(process_info(worker).unwrap().status, ProcessStatus::Dirty);
        go_tx.send(()).unwrap();
        receive::<()>();
        assert_eq!(process_info(worker).unwrap().status, ProcessStatus::Waiting);
        send(worker, ()).unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn for_each_process_sees_every_live_process_once() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let pids: HashSet<Pid> = (0..10_000)
            .map(|_| {
                spawn(|| {
                    receive::<()>();
                })
                .unwrap()
            })
            .collect();
        let mut seen = Vec::new();
        for_each_process(|p| seen.push(p.pid));
        let unique: HashSet<Pid> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "a process was visited twice");
        assert!(unique.contains(&me));
        assert!(pids.is_subset(&unique));
        assert_eq!(unique.len(), pids.len() + 1);
        for p in pids {
            send(p, ()).unwrap();
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn summaries_carry_names_queues_and_spawn_sites() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let busy = spawn(move || {
            beamlet::register("backlog", self_pid()).unwrap();
            send(me, ()).unwrap();
            receive_timeout::<&str>(Duration::from_secs(30));
        })
        .unwrap();
        receive::<()>();
        // A metered mailbox counts messages the process has not looked at yet.
        beamlet::message_queue_len_of(busy);
        for _ in 0..5 {
            send(busy, 1u8).unwrap();
        }
        let mut row = None;
        for_each_process(|p| {
            if p.pid == busy {
                row = Some(p.clone());
            }
        });
        let row = row.expect("the process was seen");
        assert_eq!(row.registered_name.as_deref(), Some("backlog"));
        assert_eq!(row.message_queue_len, 5);
        assert_eq!(row.parent, Some(me));
        assert!(row.spawned_at.unwrap().file().ends_with("introspection.rs"));
        assert!(row.memory > 0);
        send(busy, "stop").unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn runtime_for_each_process_works_from_outside() {
    let rt = rt();
    let pid = rt.spawn(|| sleep(Duration::from_secs(30))).unwrap();
    let mut seen = Vec::new();
    rt.for_each_process(|p| seen.push(p.pid));
    assert_eq!(seen, [pid]);
    let _ = rt.shutdown();
}

#[test]
fn spawn_and_exit_counts_add_up() {
    let rt = rt();
    let before = rt.stats();
    rt.block_on(|| {
        for _ in 0..1_000 {
            spawn(|| ()).unwrap();
        }
        // Wait until they have all exited.
        while beamlet::process_count() > 1 {
            sleep(Duration::from_millis(1));
        }
    })
    .unwrap();
    let after = rt.stats();
    // 1,000 children and the block_on process.
    assert_eq!(after.spawned - before.spawned, 1_001);
    assert_eq!(after.exited - before.exited, 1_001);
    assert_eq!(after.processes, 0);
    let _ = rt.shutdown();
}

#[test]
fn a_spinning_process_makes_its_scheduler_busy_and_idle_ones_are_not() {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    sleep_outside(Duration::from_millis(100));
    let idle = rt.stats();
    for s in &idle.schedulers {
        assert_eq!(s.total, idle.uptime);
        // Parked since the start (the current idle period counts before it ends).
        assert!(s.active * 2 < s.total, "{:?}", idle.schedulers);
    }
    let _spinner = rt
        .spawn(|| {
            loop {
                beamlet::reduce(100);
            }
        })
        .unwrap();
    sleep_outside(Duration::from_millis(300));
    let busy = rt.stats();
    let gained: Vec<Duration> = busy
        .schedulers
        .iter()
        .zip(&idle.schedulers)
        .map(|(b, i)| b.active - i.active)
        .collect();
    let wall = busy.uptime - idle.uptime;
    // The spinner kept (at least) one scheduler busy for most of the interval; the
    // figures are cumulative, so utilisation is the gain over the wall time.
    let max = gained.iter().max().unwrap();
    assert!(*max * 2 > wall, "gained {gained:?} over {wall:?}");
    // Shutdown kills the spinner.
    assert_eq!(rt.shutdown().killed, 1);
}

fn sleep_outside(d: Duration) {
    std::thread::sleep(d);
}

#[test]
fn pending_timers_are_counted_until_they_fire() {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    rt.block_on(|| {
        let me = self_pid();
        let base = runtime_stats().timers_pending;
        for i in 0..10u32 {
            send_after(Duration::from_millis(50), me, i);
        }
        assert_eq!(runtime_stats().timers_pending, base + 10);
        for _ in 0..10 {
            receive::<u32>();
        }
        sleep(Duration::from_millis(5));
        assert_eq!(runtime_stats().timers_pending, base);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn open_sockets_are_counted() {
    let rt = rt();
    rt.block_on(|| {
        let base = runtime_stats().sockets_open;
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        assert_eq!(runtime_stats().sockets_open, base + 1);
        drop(l);
        assert_eq!(runtime_stats().sockets_open, base);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn stacks_and_memory_are_reported() {
    let rt = rt();
    rt.block_on(|| {
        for _ in 0..100 {
            spawn(|| ()).unwrap();
        }
        sleep(Duration::from_millis(20));
        let s = runtime_stats();
        assert!(s.stacks_carved >= 2);
        assert!(s.stacks_pooled <= s.stacks_carved);
        assert!(s.rss_bytes > 0);
        assert!(!s.dirty_cpu_schedulers.is_empty() && !s.dirty_io_schedulers.is_empty());
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn long_schedules_and_hand_offs_are_kept_without_a_subscriber() {
    let rt = rt();
    rt.block_on(|| {
        let hog = spawn(|| std::thread::sleep(Duration::from_millis(60))).unwrap();
        sleep(Duration::from_millis(300));
        let events = recent_system_events();
        let mine: Vec<_> = events.iter().filter(|e| e.pid == hog).collect();
        assert!(
            mine.iter().any(
                |e| matches!(e.kind, SystemEventKind::LongSchedule { duration }
                    if duration >= Duration::from_millis(10))
            ),
            "{events:?}"
        );
        assert!(
            mine.iter()
                .any(|e| matches!(e.kind, SystemEventKind::CoreHandedOff { .. })),
            "{events:?}"
        );
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "numbered in order");
    })
    .unwrap();
    let _ = rt.shutdown();
}
