//! DynamicSupervisor: Elixir's `DynamicSupervisor` rules, one per test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use beamlet::otp::dynamic_supervisor::{self, DynamicOptions, DynamicSupervisor};
use beamlet::otp::gen_server::{self, ServerRef, StartError};
use beamlet::otp::supervisor::{
    Backoff, ChildPid, ChildSpec, Restart, Shutdown, SpecError, SupervisorError,
};
use beamlet::{
    Exit, ExitReason, Pid, Runtime, exit_pid, is_alive, receive, receive_timeout, self_pid, send,
    sleep, spawn, spawn_link, trap_exit,
};

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

fn idle(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || {
        spawn_link(|| {
            loop {
                receive::<()>();
            }
        })
    })
}

/// A child that traps exits and ignores them: only a kill ends it.
fn stubborn(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || {
        beamlet::otp::behaviour::start(true, None, |starter| {
            trap_exit(true);
            starter.ack();
            loop {
                receive::<()>();
            }
        })
    })
}

fn sup() -> ServerRef<DynamicSupervisor> {
    dynamic_supervisor::start_link(DynamicOptions::default()).unwrap()
}

fn pids(sup: ServerRef<DynamicSupervisor>) -> Vec<ChildPid> {
    let children = dynamic_supervisor::which_children(sup).unwrap();
    children.into_iter().map(|c| c.pid).collect()
}

/// Waits until the supervisor lists `n` running children other than `old`.
fn wait_running(sup: ServerRef<DynamicSupervisor>, n: usize, old: Pid) -> Vec<Pid> {
    let deadline = Instant::now() + WAIT;
    loop {
        let running: Vec<Pid> = pids(sup).iter().filter_map(ChildPid::pid).collect();
        if running.len() == n && !running.contains(&old) {
            return running;
        }
        assert!(Instant::now() < deadline, "children: {running:?}");
        sleep(Duration::from_millis(1));
    }
}

#[test]
fn children_are_started_listed_counted_and_terminated_by_pid() {
    let rt = rt();
    rt.block_on(|| {
        let sup = sup();
        assert!(pids(sup).is_empty());
        let a = dynamic_supervisor::start_child(sup, idle("a"))
            .unwrap()
            .unwrap();
        let b = dynamic_supervisor::start_child(sup, idle("a"))
            .unwrap()
            .unwrap();
        assert_eq!(pids(sup), [ChildPid::Running(a), ChildPid::Running(b)]);
        let counts = dynamic_supervisor::count_children(sup).unwrap();
        assert_eq!((counts.specs, counts.active, counts.workers), (2, 2, 2));
        dynamic_supervisor::terminate_child(sup, a).unwrap();
        assert!(!is_alive(a));
        assert_eq!(pids(sup), [ChildPid::Running(b)]);
        assert_eq!(
            dynamic_supervisor::terminate_child(sup, a),
            Err(SupervisorError::NotFound)
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_zero_restart_window_is_refused_at_start() {
    let rt = rt();
    rt.block_on(|| {
        let opts = DynamicOptions {
            max_seconds: 0,
            ..Default::default()
        };
        let zero = ExitReason::custom(SpecError::ZeroMaxSeconds);
        assert_eq!(
            dynamic_supervisor::start_link(opts).unwrap_err(),
            StartError::Stop(zero)
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn max_children_refuses_starts_beyond_it() {
    let rt = rt();
    rt.block_on(|| {
        let opts = DynamicOptions {
            max_children: Some(2),
            ..Default::default()
        };
        let sup = dynamic_supervisor::start_link(opts).unwrap();
        let a = dynamic_supervisor::start_child(sup, idle("a"))
            .unwrap()
            .unwrap();
        dynamic_supervisor::start_child(sup, idle("b")).unwrap();
        assert_eq!(
            dynamic_supervisor::start_child(sup, idle("c")),
            Err(SupervisorError::MaxChildren)
        );
        dynamic_supervisor::terminate_child(sup, a).unwrap();
        assert!(dynamic_supervisor::start_child(sup, idle("c")).is_ok());
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn failed_ignored_and_invalid_starts() {
    let rt = rt();
    rt.block_on(|| {
        let sup = sup();
        let ignore = ChildSpec::worker("i", || Err::<Pid, _>(StartError::Ignore));
        assert_eq!(dynamic_supervisor::start_child(sup, ignore), Ok(None));
        let fail = ChildSpec::worker("f", || Err::<Pid, _>(StartError::Stop(ExitReason::Normal)));
        assert_eq!(
            dynamic_supervisor::start_child(sup, fail),
            Err(SupervisorError::Start(StartError::Stop(ExitReason::Normal)))
        );
        let significant = idle("s").restart(Restart::Transient).significant(true);
        assert!(matches!(
            dynamic_supervisor::start_child(sup, significant),
            Err(SupervisorError::Invalid(_))
        ));
        assert_eq!(dynamic_supervisor::count_children(sup).unwrap().specs, 0);
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// A child that exits with the reason it is sent.
fn obedient(id: &str, restart: Restart) -> ChildSpec {
    ChildSpec::worker(id, || spawn_link(|| beamlet::exit(receive::<ExitReason>()))).restart(restart)
}

#[test]
fn children_are_restarted_one_for_one_by_their_restart_type() {
    let rt = rt();
    rt.block_on(|| {
        let sup = sup();
        let perm = dynamic_supervisor::start_child(sup, obedient("p", Restart::Permanent))
            .unwrap()
            .unwrap();
        let temp = dynamic_supervisor::start_child(sup, obedient("t", Restart::Temporary))
            .unwrap()
            .unwrap();
        let trans = dynamic_supervisor::start_child(sup, obedient("r", Restart::Transient))
            .unwrap()
            .unwrap();
        send(perm, ExitReason::Normal).unwrap();
        let now = wait_running(sup, 3, perm);
        assert!(now.contains(&temp) && now.contains(&trans));
        send(temp, ExitReason::custom("crash")).unwrap();
        let now = wait_running(sup, 2, temp);
        assert!(now.contains(&trans));
        send(trans, ExitReason::Shutdown).unwrap();
        let now = wait_running(sup, 1, trans);
        let ids: Vec<_> = dynamic_supervisor::which_children(sup).unwrap();
        assert_eq!(ids[0].id, "p");
        let trans = dynamic_supervisor::start_child(sup, obedient("r", Restart::Transient))
            .unwrap()
            .unwrap();
        send(trans, ExitReason::custom("crash")).unwrap();
        let after = wait_running(sup, 2, trans);
        assert!(after.contains(&now[0]));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn exceeding_the_intensity_shuts_it_down_and_the_parent_sees_shutdown() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let sup = sup();
        let other = dynamic_supervisor::start_child(sup, idle("other"))
            .unwrap()
            .unwrap();
        let mut pid = dynamic_supervisor::start_child(sup, idle("w"))
            .unwrap()
            .unwrap();
        for _ in 0..3 {
            exit_pid(pid, ExitReason::Kill);
            let now = wait_running(sup, 2, pid);
            pid = *now.iter().find(|&&p| p != other).unwrap();
        }
        exit_pid(pid, ExitReason::Kill);
        let e = receive_timeout::<Exit>(WAIT).expect("the supervisor's exit");
        assert_eq!((e.from, e.reason), (sup.pid(), ExitReason::Shutdown));
        assert!(!is_alive(other));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_failed_restart_is_retried_and_counts_against_the_intensity() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let fail = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(AtomicUsize::new(0));
        let (f, n) = (fail.clone(), attempts.clone());
        let spec = ChildSpec::worker("w", move || {
            n.fetch_add(1, Ordering::SeqCst);
            if f.load(Ordering::SeqCst) {
                return Err(StartError::Stop(ExitReason::custom("down")));
            }
            Ok(spawn_link(|| {
                loop {
                    receive::<()>();
                }
            })?)
        });
        let sup = sup();
        let pid = dynamic_supervisor::start_child(sup, spec).unwrap().unwrap();
        fail.store(true, Ordering::SeqCst);
        exit_pid(pid, ExitReason::Kill);
        let e = receive_timeout::<Exit>(WAIT).expect("the supervisor's exit");
        assert_eq!((e.from, e.reason), (sup.pid(), ExitReason::Shutdown));
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_backoff_shows_the_child_restarting_meanwhile() {
    let rt = rt();
    rt.block_on(|| {
        let sup = sup();
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
        };
        let pid = dynamic_supervisor::start_child(sup, idle("b").backoff(backoff))
            .unwrap()
            .unwrap();
        let t = Instant::now();
        exit_pid(pid, ExitReason::Kill);
        let deadline = Instant::now() + WAIT;
        while pids(sup) == [ChildPid::Running(pid)] && Instant::now() < deadline {
            sleep(Duration::from_millis(1));
        }
        assert_eq!(pids(sup), [ChildPid::Restarting]);
        assert_eq!(dynamic_supervisor::count_children(sup).unwrap().active, 0);
        wait_running(sup, 1, pid);
        assert!(t.elapsed() >= Duration::from_millis(100));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_child_ignoring_shutdown_is_killed_after_its_timeout() {
    let rt = rt();
    rt.block_on(|| {
        let sup = sup();
        let spec = stubborn("s").shutdown(Shutdown::Timeout(Duration::from_millis(30)));
        let pid = dynamic_supervisor::start_child(sup, spec).unwrap().unwrap();
        let t = Instant::now();
        dynamic_supervisor::terminate_child(sup, pid).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(30));
        assert!(!is_alive(pid));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn stopping_it_stops_thousands_of_children_at_once() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let sup = sup();
        let mut all = Vec::new();
        for i in 0..3000 {
            let spec = if i % 500 == 0 {
                stubborn("s").shutdown(Shutdown::Timeout(Duration::from_millis(50)))
            } else if i % 3 == 0 {
                idle("k").shutdown(Shutdown::BrutalKill)
            } else {
                idle("w")
            };
            all.push(dynamic_supervisor::start_child(sup, spec).unwrap().unwrap());
        }
        assert_eq!(
            dynamic_supervisor::count_children(sup).unwrap().active,
            3000
        );
        let t = Instant::now();
        gen_server::stop(sup, ExitReason::Shutdown, WAIT).unwrap();
        // The stubborn children were all waited for together, then killed.
        assert!(t.elapsed() >= Duration::from_millis(50));
        eprintln!("3000 children stopped in {:?}", t.elapsed());
        assert!(all.iter().all(|&p| !is_alive(p)));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn killing_it_takes_its_children_down() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let parent = spawn(move || {
            let sup = sup();
            for _ in 0..10 {
                dynamic_supervisor::start_child(sup, idle("w")).unwrap();
            }
            let children: Vec<Pid> = pids(sup).iter().filter_map(ChildPid::pid).collect();
            send(me, (sup.pid(), children)).unwrap();
            receive::<()>();
        })
        .unwrap();
        let (sup, children) = receive_timeout::<(Pid, Vec<Pid>)>(WAIT).unwrap();
        exit_pid(parent, ExitReason::Kill);
        let deadline = Instant::now() + WAIT;
        while (is_alive(sup) || children.iter().any(|&p| is_alive(p))) && Instant::now() < deadline
        {
            sleep(Duration::from_millis(1));
        }
        assert!(!is_alive(sup));
        assert!(children.iter().all(|&p| !is_alive(p)));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn get_childspec_gives_a_running_childs_spec_by_pid() {
    let rt = rt();
    rt.block_on(|| {
        let sup = sup();
        let spec = idle("session").restart(Restart::Transient);
        let pid = dynamic_supervisor::start_child(sup, spec).unwrap().unwrap();
        let got = dynamic_supervisor::get_childspec(sup, pid).unwrap();
        assert_eq!(
            (got.id.as_str(), got.restart),
            ("session", Restart::Transient)
        );
        // The spec starts the same child again.
        let again = dynamic_supervisor::start_child(sup, got).unwrap().unwrap();
        assert_ne!(again, pid);
        assert_eq!(
            dynamic_supervisor::get_childspec(sup, self_pid()).unwrap_err(),
            SupervisorError::NotFound
        );
        dynamic_supervisor::terminate_child(sup, pid).unwrap();
        assert_eq!(
            dynamic_supervisor::get_childspec(sup, pid).unwrap_err(),
            SupervisorError::NotFound
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}
