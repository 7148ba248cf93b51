//! Introspection: `processes`, `process_info`, runtime statistics.

use std::time::Duration;

use beamlet::{
    ProcessStatus, Runtime, hibernate, monitor, process_info, processes, receive, receive_timeout,
    register, self_pid, send, sleep, spawn, spawn_link, trap_exit,
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
