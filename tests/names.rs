//! Registered names: register, whereis, send to a name, release on death.

use std::time::Duration;

use beamlet::{
    Down, RegisterError, Runtime, UnknownName, receive, receive_timeout, register, registered,
    self_pid, send_named, spawn_monitor, unregister, whereis,
};

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

#[test]
fn register_whereis_send_and_unregister() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        register("server", me).unwrap();
        assert_eq!(whereis("server"), Some(me));
        assert!(registered().contains(&"server".to_string()));
        send_named("server", 9u64).unwrap();
        assert_eq!(receive::<u64>(), 9);
        assert_eq!(unregister("server"), Some(me));
        assert_eq!(whereis("server"), None);
        assert_eq!(unregister("server"), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn taken_names_and_dead_pids_are_errors() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        register("a", me).unwrap();
        assert_eq!(register("a", me), Err(RegisterError::NameTaken(me)));
        assert_eq!(
            register("b", me),
            Err(RegisterError::AlreadyRegistered("a".into()))
        );
        let (dead, _) = spawn_monitor(|| ()).unwrap();
        receive_timeout::<Down>(WAIT).unwrap();
        assert_eq!(register("c", dead), Err(RegisterError::NoProc));
        assert_eq!(send_named("nobody", 1u8), Err(UnknownName(1u8)));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_name_is_released_on_death_and_reusable_once_down_is_seen() {
    let rt = rt();
    rt.block_on(|| {
        for _ in 0..1000 {
            let (pid, _) = spawn_monitor(|| {
                register("worker", self_pid()).unwrap();
                receive::<()>();
            })
            .unwrap();
            while whereis("worker") != Some(pid) {
                beamlet::yield_now();
            }
            send_named("worker", ()).unwrap();
            let d = receive_timeout::<Down>(WAIT).unwrap();
            assert!(d.reason.is_normal());
            assert_eq!(whereis("worker"), None, "released before the Down");
            register("worker", self_pid()).unwrap();
            unregister("worker");
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn runtime_side_name_functions_work_from_outside() {
    let rt = rt();
    let pid = rt
        .spawn(|| {
            register("outside", self_pid()).unwrap();
            let n = receive::<u32>();
            assert_eq!(n, 5);
        })
        .unwrap();
    while rt.whereis("outside") != Some(pid) {
        std::thread::yield_now();
    }
    rt.send_named("outside", 5u32).unwrap();
    assert_eq!(rt.send_named("missing", 1u8), Err(UnknownName(1u8)));
    let _ = rt.shutdown();
}
