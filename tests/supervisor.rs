//! Supervisor: the rules of Erlang's `supervisor` and Elixir's `Supervisor`, one
//! per test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use beamlet::otp::gen_server::{self, GenServer, Init, NoReply, ServerRef, StartError};
use beamlet::otp::supervisor::{
    self, AutoShutdown, Backoff, ChildKind, ChildPid, ChildSpec, FailedToStartChild, Restart,
    Shutdown, SpecError, Strategy, Supervisor, SupervisorError, SupervisorFlags,
};
use beamlet::otp::sys;
use beamlet::{
    Down, Exit, ExitReason, Pid, Runtime, exit_pid, is_alive, monitor, processes, receive,
    receive_timeout, self_pid, send, sleep, spawn, spawn_link, trap_exit,
};

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

/// What the workers tell the test.
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Started(&'static str),
    Stopped(&'static str, ExitReason),
}

/// A worker that reports its start and its `terminate` (it traps exits, so a
/// shutdown from its supervisor runs `terminate`).
struct Worker {
    name: &'static str,
    observer: Pid,
}

impl GenServer for Worker {
    type Args = (&'static str, Pid);
    type Call = ();
    type Reply = ();
    type Cast = ExitReason;
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init((name, observer): (&'static str, Pid)) -> Init<Self, ()> {
        send(observer, Ev::Started(name)).unwrap();
        Init::Ok(Worker { name, observer })
    }

    fn handle_cast(&mut self, reason: ExitReason) -> NoReply<()> {
        NoReply::Stop(reason)
    }

    fn terminate(&mut self, reason: &ExitReason) {
        let _ = send(self.observer, Ev::Stopped(self.name, reason.clone()));
    }
}

fn worker(name: &'static str, observer: Pid) -> ChildSpec {
    ChildSpec::worker(name, move || {
        gen_server::start_link::<Worker>((name, observer))
    })
}

fn idle() -> ChildSpec {
    ChildSpec::worker("idle", || {
        spawn_link(|| {
            loop {
                receive::<()>();
            }
        })
    })
}

fn ev() -> Ev {
    receive_timeout::<Ev>(WAIT).expect("an event")
}

fn no_ev() {
    assert_eq!(receive_timeout::<Ev>(Duration::from_millis(50)), None);
}

fn pid_of(sup: ServerRef<Supervisor>, id: &str) -> Option<Pid> {
    let children = supervisor::which_children(sup).unwrap();
    children
        .iter()
        .find(|c| c.id == id)
        .and_then(|c| c.pid.pid())
}

fn start(children: Vec<ChildSpec>, strategy: Strategy) -> ServerRef<Supervisor> {
    supervisor::start_link(children, SupervisorFlags::strategy(strategy)).unwrap()
}

fn abcd(me: Pid) -> Vec<ChildSpec> {
    ["a", "b", "c", "d"]
        .into_iter()
        .map(|n| worker(n, me))
        .collect()
}

fn started(names: &[&'static str]) {
    for &n in names {
        assert_eq!(ev(), Ev::Started(n));
    }
}

fn stopped(names: &[&'static str]) {
    for &n in names {
        assert_eq!(ev(), Ev::Stopped(n, ExitReason::Shutdown));
    }
}

#[test]
fn children_start_in_order_and_are_listed_and_counted() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let sub = ChildSpec::supervisor("sub", || {
            supervisor::start_link(vec![], SupervisorFlags::default())
        });
        let mut specs = abcd(me);
        specs.push(sub);
        let sup = start(specs, Strategy::OneForOne);
        started(&["a", "b", "c", "d"]);
        let which = supervisor::which_children(sup).unwrap();
        let ids: Vec<_> = which.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "sub"]);
        assert!(which.iter().all(|c| c.pid.pid().is_some_and(is_alive)));
        assert_eq!(which[4].kind, ChildKind::Supervisor);
        let counts = supervisor::count_children(sup).unwrap();
        assert_eq!(
            (
                counts.specs,
                counts.active,
                counts.workers,
                counts.supervisors
            ),
            (5, 5, 4, 1)
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn invalid_specs_are_refused_before_anything_starts() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let specs = vec![worker("a", me), worker("b", me), worker("a", me)];
        let err = supervisor::start_link(specs, SupervisorFlags::default()).unwrap_err();
        let dup = ExitReason::custom(SpecError::DuplicateId("a".into()));
        assert_eq!(err, StartError::Stop(dup));
        no_ev();

        let sig = worker("s", me)
            .significant(true)
            .restart(Restart::Transient);
        let err = supervisor::start_link(vec![sig], SupervisorFlags::default()).unwrap_err();
        let never = SpecError::SignificantWithoutAutoShutdown("s".into());
        assert_eq!(err, StartError::Stop(ExitReason::custom(never)));

        let flags = SupervisorFlags {
            auto_shutdown: AutoShutdown::AnySignificant,
            ..Default::default()
        };
        let sig = worker("p", me).significant(true);
        let err = supervisor::start_link(vec![sig], flags).unwrap_err();
        let permanent = SpecError::SignificantPermanent("p".into());
        assert_eq!(err, StartError::Stop(ExitReason::custom(permanent)));
        no_ev();

        // A zero restart window would never count a restart (OTP: period >= 1).
        let flags = SupervisorFlags {
            max_seconds: 0,
            ..Default::default()
        };
        let err = supervisor::start_link(vec![worker("z", me)], flags).unwrap_err();
        let zero = ExitReason::custom(SpecError::ZeroMaxSeconds);
        assert_eq!(err, StartError::Stop(zero));
        no_ev();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_child_failing_at_start_stops_the_started_ones_and_fails_the_start() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let bad = ChildSpec::worker("bad", || {
            Err::<Pid, _>(StartError::Stop(ExitReason::custom("cannot")))
        });
        let specs = vec![worker("a", me), worker("b", me), bad, worker("c", me)];
        let err = supervisor::start_link(specs, SupervisorFlags::default()).unwrap_err();
        let failed = FailedToStartChild::of(&err).expect("failed_to_start_child");
        assert_eq!(failed.id, "bad");
        assert_eq!(failed.error, StartError::Stop(ExitReason::custom("cannot")));
        started(&["a", "b"]);
        stopped(&["b", "a"]);
        no_ev();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_panicking_start_function_is_a_failed_start() {
    let rt = rt();
    rt.block_on(|| {
        let bad = ChildSpec::worker("bad", || -> Result<Pid, StartError> { panic!("no start") });
        let err = supervisor::start_link(vec![bad], SupervisorFlags::default()).unwrap_err();
        match &FailedToStartChild::of(&err).unwrap().error {
            StartError::Stop(r) => assert!(r.is_panic()),
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn an_ignored_child_is_kept_without_a_pid_unless_temporary() {
    let rt = rt();
    rt.block_on(|| {
        let ignore = || Err::<Pid, _>(StartError::Ignore);
        let specs = vec![
            ChildSpec::worker("kept", ignore),
            ChildSpec::worker("dropped", ignore).restart(Restart::Temporary),
        ];
        let sup = start(specs, Strategy::OneForOne);
        let which = supervisor::which_children(sup).unwrap();
        assert_eq!(which.len(), 1);
        assert_eq!(
            (which[0].id.as_str(), which[0].pid),
            ("kept", ChildPid::Undefined)
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn one_for_one_restarts_only_the_crashed_child() {
    let rt = rt();
    rt.block_on(|| {
        let sup = start(abcd(self_pid()), Strategy::OneForOne);
        started(&["a", "b", "c", "d"]);
        let before: Vec<_> = ["a", "b", "c", "d"].map(|id| pid_of(sup, id)).into();
        exit_pid(before[1].unwrap(), ExitReason::Kill);
        started(&["b"]);
        no_ev();
        let after: Vec<_> = ["a", "b", "c", "d"].map(|id| pid_of(sup, id)).into();
        assert_eq!(
            (after[0], after[2], after[3]),
            (before[0], before[2], before[3])
        );
        assert_ne!(after[1], before[1]);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn one_for_all_stops_the_others_in_reverse_and_restarts_all_in_order() {
    let rt = rt();
    rt.block_on(|| {
        let sup = start(abcd(self_pid()), Strategy::OneForAll);
        started(&["a", "b", "c", "d"]);
        let before: Vec<_> = ["a", "b", "c", "d"].map(|id| pid_of(sup, id)).into();
        exit_pid(before[1].unwrap(), ExitReason::Kill);
        stopped(&["d", "c", "a"]);
        started(&["a", "b", "c", "d"]);
        no_ev();
        for (id, old) in ["a", "b", "c", "d"].iter().zip(before) {
            assert_ne!(pid_of(sup, id), old);
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn rest_for_one_restarts_exactly_the_later_siblings() {
    let rt = rt();
    rt.block_on(|| {
        let sup = start(abcd(self_pid()), Strategy::RestForOne);
        started(&["a", "b", "c", "d"]);
        let before: Vec<_> = ["a", "b", "c", "d"].map(|id| pid_of(sup, id)).into();
        exit_pid(before[1].unwrap(), ExitReason::Kill);
        stopped(&["d", "c"]);
        started(&["b", "c", "d"]);
        no_ev();
        assert_eq!(pid_of(sup, "a"), before[0]);
        for (id, old) in ["b", "c", "d"].iter().zip(&before[1..]) {
            assert_ne!(pid_of(sup, id), *old);
        }
        // The last child has no later siblings.
        exit_pid(pid_of(sup, "d").unwrap(), ExitReason::Kill);
        started(&["d"]);
        no_ev();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn four_crashes_in_a_second_exceed_three_in_five_and_the_parent_sees_shutdown() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let sup = start(vec![worker("a", self_pid())], Strategy::OneForOne);
        started(&["a"]);
        for _ in 0..3 {
            exit_pid(pid_of(sup, "a").unwrap(), ExitReason::Kill);
            started(&["a"]);
        }
        let last = pid_of(sup, "a").unwrap();
        exit_pid(last, ExitReason::Kill);
        let e = receive_timeout::<Exit>(WAIT).expect("the supervisor's exit");
        assert_eq!((e.from, e.reason), (sup.pid(), ExitReason::Shutdown));
        no_ev();
        assert!(!is_alive(last));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_failed_restart_is_retried_and_counts_against_the_intensity() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let me = self_pid();
        let fail = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(AtomicUsize::new(0));
        let (f, n) = (fail.clone(), attempts.clone());
        let spec = ChildSpec::worker("a", move || {
            n.fetch_add(1, Ordering::SeqCst);
            if f.load(Ordering::SeqCst) {
                return Err(StartError::Stop(ExitReason::custom("down")));
            }
            gen_server::start_link::<Worker>(("a", me))
        });
        let sup = start(vec![spec], Strategy::OneForOne);
        started(&["a"]);
        fail.store(true, Ordering::SeqCst);
        exit_pid(pid_of(sup, "a").unwrap(), ExitReason::Kill);
        let e = receive_timeout::<Exit>(WAIT).expect("the supervisor's exit");
        assert_eq!((e.from, e.reason), (sup.pid(), ExitReason::Shutdown));
        // The first start, then three failed restarts; the fourth exceeds.
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_child_that_ignores_shutdown_is_killed_after_its_timeout() {
    let rt = rt();
    rt.block_on(|| {
        // Started synchronously, so that it traps exits before the shutdown comes.
        let stubborn = ChildSpec::worker("stubborn", || {
            beamlet::otp::behaviour::start(true, None, |starter| {
                trap_exit(true);
                starter.ack();
                loop {
                    receive::<()>();
                }
            })
        })
        .shutdown(Shutdown::Timeout(Duration::from_millis(50)));
        let sup = start(vec![stubborn], Strategy::OneForOne);
        let pid = pid_of(sup, "stubborn").unwrap();
        monitor(pid);
        let t = Instant::now();
        supervisor::terminate_child(sup, "stubborn").unwrap();
        assert!(t.elapsed() >= Duration::from_millis(50));
        assert_eq!(
            receive_timeout::<Down>(WAIT).unwrap().reason,
            ExitReason::Killed
        );
        let which = supervisor::which_children(sup).unwrap();
        assert_eq!(which[0].pid, ChildPid::Undefined);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn shutdown_kinds_brutal_kill_timeout_and_infinity() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let specs = vec![
            worker("brutal", me).shutdown(Shutdown::BrutalKill),
            worker("polite", me),
            worker("patient", me).shutdown(Shutdown::Infinity),
        ];
        let sup = start(specs, Strategy::OneForOne);
        started(&["brutal", "polite", "patient"]);
        let brutal = pid_of(sup, "brutal").unwrap();
        monitor(brutal);
        supervisor::terminate_child(sup, "brutal").unwrap();
        assert_eq!(
            receive_timeout::<Down>(WAIT).unwrap().reason,
            ExitReason::Killed
        );
        supervisor::terminate_child(sup, "polite").unwrap();
        assert_eq!(ev(), Ev::Stopped("polite", ExitReason::Shutdown));
        supervisor::terminate_child(sup, "patient").unwrap();
        assert_eq!(ev(), Ev::Stopped("patient", ExitReason::Shutdown));
        no_ev();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_temporary_child_is_never_restarted_and_a_transient_only_on_abnormal_exit() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let specs = vec![
            worker("temp", me).restart(Restart::Temporary),
            worker("trans", me).restart(Restart::Transient),
        ];
        let sup = start(specs, Strategy::OneForOne);
        started(&["temp", "trans"]);
        let temp = ServerRef::<Worker>::from_pid(pid_of(sup, "temp").unwrap());
        gen_server::cast(temp, ExitReason::custom("crash"));
        assert_eq!(ev(), Ev::Stopped("temp", ExitReason::custom("crash")));
        no_ev();
        let ids: Vec<_> = supervisor::which_children(sup).unwrap();
        assert_eq!(ids.len(), 1, "the temporary child's spec is gone");

        for orderly in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::shutdown_with(1),
        ] {
            supervisor::restart_child(sup, "trans").ok();
            let _ = receive_timeout::<Ev>(Duration::from_millis(100));
            let trans = ServerRef::<Worker>::from_pid(pid_of(sup, "trans").unwrap());
            gen_server::cast(trans, orderly.clone());
            assert_eq!(ev(), Ev::Stopped("trans", orderly));
            no_ev();
            assert_eq!(pid_of(sup, "trans"), None);
        }
        supervisor::restart_child(sup, "trans").unwrap();
        started(&["trans"]);
        let trans = ServerRef::<Worker>::from_pid(pid_of(sup, "trans").unwrap());
        gen_server::cast(trans, ExitReason::custom("crash"));
        assert_eq!(ev(), Ev::Stopped("trans", ExitReason::custom("crash")));
        started(&["trans"]);
        exit_pid(pid_of(sup, "trans").unwrap(), ExitReason::Kill);
        started(&["trans"]);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn the_run_time_api_starts_terminates_restarts_and_deletes_children() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let sup = start(vec![], Strategy::OneForOne);
        let pid = supervisor::start_child(sup, worker("x", me))
            .unwrap()
            .unwrap();
        started(&["x"]);
        assert_eq!(
            supervisor::start_child(sup, worker("x", me)),
            Err(SupervisorError::AlreadyStarted(pid))
        );
        assert_eq!(
            supervisor::restart_child(sup, "x"),
            Err(SupervisorError::Running)
        );
        assert_eq!(
            supervisor::delete_child(sup, "x"),
            Err(SupervisorError::Running)
        );
        supervisor::terminate_child(sup, "x").unwrap();
        assert_eq!(ev(), Ev::Stopped("x", ExitReason::Shutdown));
        assert!(!is_alive(pid));
        assert_eq!(
            supervisor::start_child(sup, worker("x", me)),
            Err(SupervisorError::AlreadyPresent)
        );
        let counts = supervisor::count_children(sup).unwrap();
        assert_eq!((counts.specs, counts.active), (1, 0));
        let again = supervisor::restart_child(sup, "x").unwrap().unwrap();
        started(&["x"]);
        assert_ne!(again, pid);
        supervisor::terminate_child(sup, "x").unwrap();
        assert_eq!(ev(), Ev::Stopped("x", ExitReason::Shutdown));
        supervisor::delete_child(sup, "x").unwrap();
        assert!(supervisor::which_children(sup).unwrap().is_empty());
        for r in [
            supervisor::terminate_child(sup, "x"),
            supervisor::delete_child(sup, "x"),
            supervisor::restart_child(sup, "x").map(|_| ()),
        ] {
            assert_eq!(r, Err(SupervisorError::NotFound));
        }
        let bad = worker("s", me).significant(true);
        assert!(matches!(
            supervisor::start_child(sup, bad),
            Err(SupervisorError::Invalid(_))
        ));
        let failing =
            ChildSpec::worker("f", || Err::<Pid, _>(StartError::Stop(ExitReason::Normal)));
        assert_eq!(
            supervisor::start_child(sup, failing),
            Err(SupervisorError::Start(StartError::Stop(ExitReason::Normal)))
        );
        assert!(supervisor::which_children(sup).unwrap().is_empty());
    })
    .unwrap();
    let _ = rt.shutdown();
}

fn significant(name: &'static str, me: Pid) -> ChildSpec {
    worker(name, me)
        .restart(Restart::Transient)
        .significant(true)
}

#[test]
fn auto_shutdown_any_significant() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let me = self_pid();
        let flags = SupervisorFlags {
            auto_shutdown: AutoShutdown::AnySignificant,
            ..Default::default()
        };
        let specs = vec![worker("a", me), significant("s", me), significant("t", me)];
        let sup = supervisor::start_link(specs, flags).unwrap();
        started(&["a", "s", "t"]);
        // Terminated by the supervisor: no automatic shutdown.
        supervisor::terminate_child(sup, "t").unwrap();
        assert_eq!(ev(), Ev::Stopped("t", ExitReason::Shutdown));
        let s = ServerRef::<Worker>::from_pid(pid_of(sup, "s").unwrap());
        gen_server::cast(s, ExitReason::Normal);
        assert_eq!(ev(), Ev::Stopped("s", ExitReason::Normal));
        assert_eq!(ev(), Ev::Stopped("a", ExitReason::Shutdown));
        let e = receive_timeout::<Exit>(WAIT).unwrap();
        assert_eq!((e.from, e.reason), (sup.pid(), ExitReason::Shutdown));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn auto_shutdown_all_significant() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let me = self_pid();
        let flags = SupervisorFlags {
            auto_shutdown: AutoShutdown::AllSignificant,
            ..Default::default()
        };
        let specs = vec![significant("s", me), significant("t", me)];
        let sup = supervisor::start_link(specs, flags).unwrap();
        started(&["s", "t"]);
        let s = ServerRef::<Worker>::from_pid(pid_of(sup, "s").unwrap());
        gen_server::cast(s, ExitReason::Normal);
        assert_eq!(ev(), Ev::Stopped("s", ExitReason::Normal));
        assert!(
            supervisor::which_children(sup).is_ok(),
            "one is left: still up"
        );
        let t = ServerRef::<Worker>::from_pid(pid_of(sup, "t").unwrap());
        gen_server::cast(t, ExitReason::Shutdown);
        assert_eq!(ev(), Ev::Stopped("t", ExitReason::Shutdown));
        let e = receive_timeout::<Exit>(WAIT).unwrap();
        assert_eq!((e.from, e.reason), (sup.pid(), ExitReason::Shutdown));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn backoff_delays_the_restart_and_the_supervisor_stays_responsive() {
    let rt = rt();
    rt.block_on(|| {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
        };
        let sup = start(
            vec![worker("a", self_pid()).backoff(backoff)],
            Strategy::OneForOne,
        );
        started(&["a"]);
        let t = Instant::now();
        let old = pid_of(sup, "a").unwrap();
        exit_pid(old, ExitReason::Kill);
        // The supervisor answers during the delay.
        let state = loop {
            let p = supervisor::which_children(sup).unwrap()[0].pid;
            if p != ChildPid::Running(old) {
                break p;
            }
            sleep(Duration::from_millis(1));
        };
        assert_eq!(state, ChildPid::Restarting);
        started(&["a"]);
        assert!(t.elapsed() >= Duration::from_millis(100));
        // The second restart in a row waits twice as long.
        let t = Instant::now();
        exit_pid(pid_of(sup, "a").unwrap(), ExitReason::Kill);
        started(&["a"]);
        assert!(t.elapsed() >= Duration::from_millis(200));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn stopping_a_supervisor_stops_its_children_in_reverse_order() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let sup = start(abcd(self_pid()), Strategy::OneForOne);
        started(&["a", "b", "c", "d"]);
        gen_server::stop(sup, ExitReason::Normal, WAIT).unwrap();
        stopped(&["d", "c", "b", "a"]);
        assert!(sys::statistics(sup).is_err());
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_supervisor_answers_system_messages() {
    let rt = rt();
    rt.block_on(|| {
        let sup = start(vec![idle()], Strategy::OneForOne);
        supervisor::which_children(sup).unwrap();
        let stats = sys::statistics(sup).unwrap();
        assert_eq!(stats.messages_handled, 1);
        sys::suspend(sup).unwrap();
        sys::resume(sup).unwrap();
        assert_eq!(supervisor::count_children(sup).unwrap().active, 1);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_nested_supervisor_that_gives_up_is_restarted_by_its_parent() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let mid = ChildSpec::supervisor("mid", move || {
            let flags = SupervisorFlags {
                max_restarts: 0,
                ..Default::default()
            };
            supervisor::start_link(vec![worker("w", me)], flags)
        });
        let top = start(vec![mid], Strategy::OneForOne);
        started(&["w"]);
        let mid1 = ServerRef::<Supervisor>::from_pid(pid_of(top, "mid").unwrap());
        exit_pid(pid_of(mid1, "w").unwrap(), ExitReason::Kill);
        started(&["w"]);
        let mid2 = pid_of(top, "mid").unwrap();
        assert_ne!(mid2, mid1.pid());
        assert!(!is_alive(mid1.pid()));
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// Every pid of a supervision tree, the root included.
fn tree(sup: ServerRef<Supervisor>) -> Vec<Pid> {
    let mut all = vec![sup.pid()];
    for child in supervisor::which_children(sup).unwrap() {
        match (child.kind, child.pid.pid()) {
            (ChildKind::Supervisor, Some(p)) => all.extend(tree(ServerRef::from_pid(p))),
            (ChildKind::Worker, Some(p)) => all.push(p),
            _ => {}
        }
    }
    all
}

fn level(depth: u32, me: Pid) -> Result<ServerRef<Supervisor>, StartError> {
    let mut children = vec![worker("w1", me), idle()];
    if depth > 1 {
        children.push(ChildSpec::supervisor("sub", move || level(depth - 1, me)));
    }
    supervisor::start_link(children, SupervisorFlags::default())
}

#[test]
fn killing_the_top_of_a_three_level_tree_leaves_no_process_of_it_alive() {
    let rt = rt();
    let before = rt.process_count();
    rt.block_on(|| {
        trap_exit(true);
        let top = level(3, self_pid()).unwrap();
        let pids = tree(top);
        assert_eq!(pids.len(), 3 * 3);
        assert!(pids.iter().all(|&p| is_alive(p)));
        exit_pid(top.pid(), ExitReason::Kill);
        let deadline = Instant::now() + WAIT;
        while pids.iter().any(|&p| is_alive(p)) && Instant::now() < deadline {
            sleep(Duration::from_millis(1));
        }
        assert!(pids.iter().all(|&p| !is_alive(p)));
        assert_eq!(processes(), vec![self_pid()]);
    })
    .unwrap();
    let deadline = Instant::now() + WAIT;
    while rt.process_count() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(rt.process_count(), before);
    let _ = rt.shutdown();
}

#[test]
fn a_supervisor_shuts_down_when_its_parent_exits() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let parent = spawn(move || {
            let sup = start(abcd(me), Strategy::OneForOne);
            send(me, sup.pid()).unwrap();
            receive::<()>();
        })
        .unwrap();
        let sup = receive_timeout::<Pid>(WAIT).unwrap();
        started(&["a", "b", "c", "d"]);
        monitor(sup);
        exit_pid(parent, ExitReason::custom("gone"));
        // The children are shut down with `Shutdown`, whatever the supervisor's reason.
        stopped(&["d", "c", "b", "a"]);
        assert_eq!(
            receive_timeout::<Down>(WAIT).unwrap().reason,
            ExitReason::custom("gone")
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn get_childspec_gives_the_spec_a_child_runs_from() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let backoff = Backoff {
            initial: Duration::from_millis(5),
            max: Duration::from_secs(1),
        };
        let spec = worker("a", me)
            .restart(Restart::Transient)
            .shutdown(Shutdown::BrutalKill)
            .backoff(backoff);
        let sup = start(vec![spec, idle()], Strategy::OneForOne);
        started(&["a"]);
        let got = supervisor::get_childspec(sup, "a").unwrap();
        assert_eq!(got.id, "a");
        assert_eq!(got.restart, Restart::Transient);
        assert_eq!(got.shutdown, Shutdown::BrutalKill);
        assert_eq!(got.kind, ChildKind::Worker);
        assert!(!got.significant);
        assert_eq!(got.backoff, Some(backoff));
        // Its start closure is the child's: another supervisor starts the same child.
        let other = start(vec![], Strategy::OneForOne);
        supervisor::start_child(other, got).unwrap().unwrap();
        started(&["a"]);
        // A terminated child keeps its spec until it is deleted.
        supervisor::terminate_child(sup, "idle").unwrap();
        assert_eq!(supervisor::get_childspec(sup, "idle").unwrap().id, "idle");
        supervisor::delete_child(sup, "idle").unwrap();
        let gone = supervisor::get_childspec(sup, "idle");
        assert_eq!(gone.unwrap_err(), SupervisorError::NotFound);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn get_childspec_of_an_unknown_or_temporary_child_is_not_found() {
    let rt = rt();
    rt.block_on(|| {
        let temp = idle_named("temp").restart(Restart::Temporary);
        let sup = start(vec![temp], Strategy::OneForOne);
        let unknown = supervisor::get_childspec(sup, "nobody");
        assert_eq!(unknown.unwrap_err(), SupervisorError::NotFound);
        assert_eq!(supervisor::get_childspec(sup, "temp").unwrap().id, "temp");
        // A temporary child's spec goes with it.
        supervisor::terminate_child(sup, "temp").unwrap();
        let temp = supervisor::get_childspec(sup, "temp");
        assert_eq!(temp.unwrap_err(), SupervisorError::NotFound);
        // A supervisor that is gone does not answer.
        gen_server::stop(sup, ExitReason::Normal, WAIT).unwrap();
        let dead = supervisor::get_childspec(sup, "temp");
        assert_eq!(
            dead.unwrap_err(),
            SupervisorError::Call(gen_server::CallError::NoProc)
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

fn idle_named(id: &'static str) -> ChildSpec {
    ChildSpec::worker(id, || {
        spawn_link(|| {
            loop {
                receive::<()>();
            }
        })
    })
}
