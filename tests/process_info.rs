//! Introspection: `processes`, `process_count`, `process_info` (with the spawn site
//! and the label), runtime statistics.

mod common;

use std::time::Duration;

use beamlet::{
    Down, Pid, ProcessStatus, ReportKind, Runtime, SpawnOpts, hibernate, monitor, process_count,
    process_info, processes, receive, receive_timeout, register, self_pid, send, set_label, sleep,
    spawn, spawn_link, spawn_monitor, spawn_opt, trap_exit,
};

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

#[test]
fn info_reports_relations_status_and_queue() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let child = spawn_link(move || {
            trap_exit(true);
            register("child", self_pid()).unwrap();
            send(me, "ready").unwrap();
            receive::<u64>();
        })
        .unwrap();
        assert_eq!(receive::<&str>(), "ready");
        let m = monitor(child);
        let _ = m;
        for i in 0..3u32 {
            send(child, i).unwrap();
        }
        sleep(Duration::from_millis(20));
        let info = process_info(child).expect("alive");
        assert_eq!(info.pid, child);
        assert_eq!(info.status, ProcessStatus::Waiting);
        assert_eq!(info.message_queue_len, 3);
        assert_eq!(info.links, vec![me]);
        assert_eq!(info.monitored_by, vec![me]);
        assert_eq!(info.registered_name.as_deref(), Some("child"));
        assert!(info.trap_exit);
        assert!(info.stack_used > 0 && info.stack_used < info.stack_reserved);
        assert!(info.reductions > 0);
        assert!(info.scheduler < 2);
        let mine = process_info(me).unwrap();
        assert_eq!(mine.status, ProcessStatus::Running);
        assert_eq!(mine.monitors, vec![child]);
        assert!(processes().contains(&child));
        send(child, 0u64).unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn hibernated_processes_report_no_stack() {
    let rt = rt();
    rt.block_on(|| {
        let pid = spawn(|| hibernate(receive::<()>)).unwrap();
        sleep(Duration::from_millis(20));
        let info = process_info(pid).unwrap();
        assert_eq!(info.status, ProcessStatus::Hibernated);
        assert_eq!(info.stack_reserved, 0);
        send(pid, ()).unwrap();
        let _ = receive_timeout::<()>(Duration::from_millis(20));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn dead_pids_have_no_info_and_runtime_stats_add_up() {
    let rt = rt();
    let pid = rt
        .block_on(|| {
            send(self_pid(), 1u8).unwrap();
            receive::<u8>();
            self_pid()
        })
        .unwrap();
    assert_eq!(rt.process_info(pid), None);
    let stats = rt.stats();
    assert_eq!(stats.processes, 0);
    assert!(stats.context_switches >= 1);
    assert!(stats.reductions > 0);
    assert_eq!(stats.run_queue_lengths, vec![0, 0]);
    assert!(rt.processes().is_empty());
    let _ = rt.shutdown();
}

/// Waits for a `()`, so that the process stays alive while it is looked at.
fn park() {
    receive::<()>();
}

#[test]
fn process_count_is_callable_inside_a_process_and_follows_spawns_and_exits() {
    let rt = rt();
    rt.block_on(|| {
        assert_eq!(process_count(), 1, "the caller counts");
        let children: Vec<Pid> = (0..10).map(|_| spawn(park).unwrap()).collect();
        assert_eq!(process_count(), 11);
        assert_eq!(process_count(), processes().len());
        for &c in &children {
            monitor(c);
            send(c, ()).unwrap();
        }
        for _ in &children {
            receive_timeout::<Down>(Duration::from_secs(20)).expect("a Down");
        }
        assert_eq!(process_count(), 1);
    })
    .unwrap();
    assert_eq!(rt.process_count(), 0);
    let _ = rt.shutdown();
}

#[test]
fn process_info_names_the_spawn_site_of_every_spawn_function() {
    let rt = rt();
    let outside = rt.spawn(park).unwrap();
    let outside_line = line!() - 1;
    let root_line = line!() + 1;
    rt.block_on(move || {
        let me = process_info(self_pid())
            .unwrap()
            .spawned_at
            .expect("a site");
        assert_eq!(
            (me.file(), me.line()),
            (file!(), root_line),
            "block_on's caller"
        );
        let plain = spawn(park).unwrap();
        let plain_line = line!() - 1;
        let linked = spawn_link(park).unwrap();
        let linked_line = line!() - 1;
        let (monitored, _) = spawn_monitor(park).unwrap();
        let monitored_line = line!() - 1;
        let (opt, _) = spawn_opt(park, SpawnOpts::default()).unwrap();
        let opt_line = line!() - 1;
        for (pid, line) in [
            (outside, outside_line),
            (plain, plain_line),
            (linked, linked_line),
            (monitored, monitored_line),
            (opt, opt_line),
        ] {
            let site = process_info(pid).unwrap().spawned_at.expect("a site");
            assert_eq!((site.file(), site.line()), (file!(), line), "{pid}");
            assert!(site.column() > 1);
            send(pid, ()).unwrap();
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_label_shows_in_process_info_and_in_the_crash_report() {
    let (rt, reports) = common::recording();
    let (pid, line) = rt
        .block_on(|| {
            assert_eq!(process_info(self_pid()).unwrap().label, None);
            let me = self_pid();
            let line = line!() + 1;
            let (pid, _) = spawn_monitor(move || {
                set_label("first");
                set_label(format!("worker {}", 7)); // replaces the first
                send(me, ()).unwrap();
                receive::<()>();
                panic!("labelled crash");
            })
            .unwrap();
            receive::<()>();
            let info = process_info(pid).unwrap();
            assert_eq!(info.label.as_deref(), Some("worker 7"));
            send(pid, ()).unwrap();
            receive_timeout::<Down>(Duration::from_secs(20)).expect("a Down");
            (pid, line)
        })
        .unwrap();
    let _ = rt.shutdown();
    let reports = reports.lock().unwrap();
    let r = reports
        .iter()
        .find(|r| r.pid == pid)
        .expect("the crash is reported");
    assert_eq!(r.kind, ReportKind::ProcessError);
    assert_eq!(r.get("label"), Some("worker 7"));
    let site = r.get("spawned_at").expect("the spawn site");
    assert!(site.starts_with(&format!("{}:{line}:", file!())), "{site}");
}
