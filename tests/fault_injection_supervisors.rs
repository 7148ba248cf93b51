//! Fault injection into supervision: children failing to start (at the
//! supervisor's start and at restart time), panics in `terminate` during a
//! shutdown, children that ignore their shutdown, kills at the worst moments (in a
//! call, in `init`, during a shutdown); restart storms are in
//! `fault_injection_storms.rs`. Every
//! test asserts exact outcomes and that no process is left behind
//! (`beamlet::processes()` returns to its baseline); timeouts only guard hangs.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use beamlet::otp::dynamic_supervisor::{self, DynamicOptions};
use beamlet::otp::gen_server::{
    self, CallError, CallReply, Caller, GenServer, Init, NoReply, ServerRef, StartError,
    StartOptions,
};
use beamlet::otp::supervisor::{
    self, ChildPid, ChildSpec, FailedToStartChild, Restart, Shutdown, Supervisor, SupervisorError,
    SupervisorFlags,
};
use beamlet::{
    Down, Exit, ExitReason, Message, Pid, SpawnError, exit_pid, is_alive, monitor, processes,
    receive, receive_select, receive_timeout, self_pid, send, spawn, spawn_link, trap_exit,
    try_receive, whereis,
};
use common::{PATIENCE, run};

/// What the workers tell the test.
#[derive(Debug, Clone, PartialEq)]
enum Report {
    /// `init` began in this process (named by its child id).
    Started(&'static str, Pid),
    /// `terminate` began with this reason.
    Terminating(&'static str, ExitReason),
    /// It waits for a [`Release`] now (in `init`, `handle_call` or `terminate`).
    Blocked(&'static str, Pid),
}

/// How a worker misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// `init` panics.
    InitPanics,
    /// `init` returns `Stop`.
    InitStops,
    /// `init` returns `Ignore`.
    InitIgnores,
    /// `init` waits for a [`Release`] (to be killed meanwhile).
    InitBlocks,
    /// `handle_call` waits for a [`Release`].
    CallBlocks,
    /// `terminate` panics.
    TerminatePanics,
    /// `terminate` waits for a [`Release`].
    TerminateBlocks,
}

/// Unblocks a worker.
struct Release;

/// A worker trapping exits (so a shutdown runs `terminate`), with one fault.
struct Worker {
    id: &'static str,
    fault: Fault,
    observer: Pid,
}

impl GenServer for Worker {
    type Args = (&'static str, Fault, Pid);
    type Call = ();
    type Reply = ();
    type Cast = ExitReason;
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init((id, fault, observer): (&'static str, Fault, Pid)) -> Init<Self, ()> {
        send(observer, Report::Started(id, self_pid())).unwrap();
        match fault {
            Fault::InitPanics => panic!("boom in init"),
            Fault::InitStops => return Init::Stop(ExitReason::custom("refused")),
            Fault::InitIgnores => return Init::Ignore,
            Fault::InitBlocks => block(id, observer),
            _ => {}
        }
        Init::Ok(Worker {
            id,
            fault,
            observer,
        })
    }

    fn handle_call(&mut self, (): (), _: Caller<()>) -> CallReply<(), ()> {
        if self.fault == Fault::CallBlocks {
            block(self.id, self.observer);
        }
        CallReply::Reply(())
    }

    fn handle_cast(&mut self, reason: ExitReason) -> NoReply<()> {
        NoReply::Stop(reason)
    }

    fn terminate(&mut self, reason: &ExitReason) {
        let _ = send(self.observer, Report::Terminating(self.id, reason.clone()));
        match self.fault {
            Fault::TerminatePanics => panic!("boom in terminate"),
            Fault::TerminateBlocks => block(self.id, self.observer),
            _ => {}
        }
    }
}

/// Tells `observer` and waits for a [`Release`].
fn block(id: &'static str, observer: Pid) {
    let _ = send(observer, Report::Blocked(id, self_pid()));
    receive::<Release>();
}

fn spec(id: &'static str, fault: Fault) -> ChildSpec {
    spec_to(id, fault, self_pid())
}

/// A worker reporting to `observer`.
fn spec_to(id: &'static str, fault: Fault, observer: Pid) -> ChildSpec {
    ChildSpec::worker(id, move || {
        gen_server::start_link::<Worker>((id, fault, observer))
    })
}

fn report() -> Report {
    receive_timeout::<Report>(PATIENCE).expect("a report")
}

/// The pid child `id` reported when it started. Taken by id: a child whose observer
/// is a relay ([`killer`]) reports through it, so its report may come after that of
/// a sibling started later.
fn started(id: &'static str) -> Pid {
    let is_it = |r: &Report| matches!(r, Report::Started(got, _) if *got == id);
    match beamlet::receive_match_timeout(is_it, PATIENCE) {
        Some(Report::Started(_, pid)) => pid,
        other => panic!("expected {id} to start, got {other:?}"),
    }
}

fn live() -> HashSet<Pid> {
    processes().into_iter().collect()
}

fn panic_message(reason: &ExitReason) -> Option<&str> {
    match reason {
        ExitReason::Panic(p) => Some(p.message()),
        _ => None,
    }
}

fn down_reason(pid: Pid) -> ExitReason {
    let pred = |m: &Message| m.downcast_ref::<Down>().is_some_and(|d| d.pid == pid);
    let msg = receive_select(None, pred, Some(PATIENCE)).expect("a Down");
    msg.downcast::<Down>().unwrap().reason
}

fn exit_from(pid: Pid) -> ExitReason {
    let pred = |m: &Message| m.downcast_ref::<Exit>().is_some_and(|e| e.from == pid);
    let msg = receive_select(None, pred, Some(PATIENCE)).expect("an Exit");
    msg.downcast::<Exit>().unwrap().reason
}

fn pids(sup: ServerRef<Supervisor>) -> Vec<Pid> {
    let children = supervisor::which_children(sup).unwrap();
    children
        .iter()
        .map(|c| c.pid.pid().expect("running"))
        .collect()
}

// ------------------------------------------------------ start-time failures

#[test]
fn a_child_failing_to_start_fails_the_supervisor_start_with_a_typed_error_and_no_strays() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let panicking_start = ChildSpec::worker("c", || -> Result<Pid, StartError> {
            panic!("boom in the start function")
        });
        for (fault, c) in [
            (Fault::InitPanics, spec("c", Fault::InitPanics)),
            (Fault::InitStops, spec("c", Fault::InitStops)),
            (Fault::None, panicking_start),
        ] {
            let children = vec![spec("a", Fault::None), spec("b", Fault::None), c];
            let err = supervisor::start_link(children, SupervisorFlags::default()).unwrap_err();
            let (a, b) = (started("a"), started("b"));
            let failed = FailedToStartChild::of(&err)
                .expect("FailedToStartChild")
                .clone();
            assert_eq!(failed.id, "c");
            let StartError::Stop(reason) = failed.error else {
                panic!("{fault:?}: {:?}", failed.error)
            };
            match fault {
                Fault::InitPanics => {
                    started("c");
                    assert_eq!(panic_message(&reason), Some("boom in init"));
                }
                Fault::InitStops => {
                    started("c");
                    assert_eq!(reason, ExitReason::custom("refused"));
                }
                _ => assert_eq!(panic_message(&reason), Some("boom in the start function")),
            }
            // Those started are shut down in reverse order, before the start returns.
            assert_eq!(report(), Report::Terminating("b", ExitReason::Shutdown));
            assert_eq!(report(), Report::Terminating("a", ExitReason::Shutdown));
            assert!(!is_alive(a) && !is_alive(b));
            assert_eq!(try_receive::<Report>(), None);
            assert_eq!(try_receive::<Exit>(), None, "{fault:?}");
            assert_eq!(live(), baseline, "{fault:?}");
        }
    });
}

#[test]
fn an_ignoring_child_is_kept_undefined_or_dropped_if_temporary() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let children = vec![
            spec("a", Fault::None),
            spec("i", Fault::InitIgnores),
            spec("t", Fault::InitIgnores).restart(Restart::Temporary),
        ];
        let sup = supervisor::start_link(children, SupervisorFlags::default()).unwrap();
        let a = started("a");
        let (i, t) = (started("i"), started("t"));
        assert!(!is_alive(i) && !is_alive(t));
        let listed: Vec<(String, ChildPid)> = supervisor::which_children(sup)
            .unwrap()
            .into_iter()
            .map(|c| (c.id, c.pid))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("a".to_owned(), ChildPid::Running(a)),
                ("i".to_owned(), ChildPid::Undefined)
            ]
        );
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(report(), Report::Terminating("a", ExitReason::Shutdown));
        assert_eq!(exit_from(sup.pid()), ExitReason::Shutdown);
        assert_eq!(live(), baseline);
    });
}

// ---------------------------------------------------- restart-time failures

/// A child spec whose first `ok_starts` starts succeed and later ones run `then`.
fn flaky(id: &'static str, ok_starts: usize, then: Fault) -> (ChildSpec, Arc<AtomicUsize>) {
    let me = self_pid();
    let starts = Arc::new(AtomicUsize::new(0));
    let counted = starts.clone();
    let spec = ChildSpec::worker(id, move || {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        let fault = if n < ok_starts { Fault::None } else { then };
        gen_server::start_link::<Worker>((id, fault, me))
    });
    (spec, starts)
}

#[test]
fn a_child_failing_at_restart_is_retried_until_the_intensity_gives_up() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let (c, starts) = flaky("c", 1, Fault::InitPanics);
        let sup =
            supervisor::start_link(vec![spec("a", Fault::None), c], SupervisorFlags::default())
                .unwrap();
        monitor(sup.pid());
        let (_, c) = (started("a"), started("c"));
        gen_server::cast(
            ServerRef::<Worker>::from_pid(c),
            ExitReason::custom("crash"),
        );
        assert_eq!(
            report(),
            Report::Terminating("c", ExitReason::custom("crash"))
        );
        // Default intensity, 3 in 5 s: three restarts, all failing, then the
        // fourth exceeds it; the supervisor shuts down its other child and exits.
        for _ in 0..3 {
            started("c");
        }
        assert_eq!(report(), Report::Terminating("a", ExitReason::Shutdown));
        assert_eq!(exit_from(sup.pid()), ExitReason::Shutdown);
        assert_eq!(down_reason(sup.pid()), ExitReason::Shutdown);
        assert_eq!(starts.load(Ordering::SeqCst), 4);
        assert_eq!(try_receive::<Report>(), None);
        assert_eq!(live(), baseline);
    });
}

#[test]
fn a_dynamic_supervisors_child_failing_at_restart_is_retried_until_the_intensity_gives_up() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let sup = dynamic_supervisor::start_link(DynamicOptions::default()).unwrap();
        monitor(sup.pid());
        let (c, starts) = flaky("c", 1, Fault::InitStops);
        let a = dynamic_supervisor::start_child(sup, spec("a", Fault::None));
        assert_eq!(a.unwrap(), Some(started("a")));
        let c = dynamic_supervisor::start_child(sup, c).unwrap().unwrap();
        assert_eq!(started("c"), c);
        exit_pid(c, ExitReason::Kill);
        for _ in 0..3 {
            started("c");
        }
        assert_eq!(report(), Report::Terminating("a", ExitReason::Shutdown));
        assert_eq!(exit_from(sup.pid()), ExitReason::Shutdown);
        assert_eq!(down_reason(sup.pid()), ExitReason::Shutdown);
        assert_eq!(starts.load(Ordering::SeqCst), 4);
        assert_eq!(try_receive::<Report>(), None);
        assert_eq!(live(), baseline);
    });
}

#[test]
fn a_child_failing_once_at_restart_is_retried_and_runs_again() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        // Start 1 succeeds, start 2 fails (init returns Stop), start 3 succeeds.
        let me = self_pid();
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let c = ChildSpec::worker("c", move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            let fault = if n == 1 {
                Fault::InitStops
            } else {
                Fault::None
            };
            gen_server::start_link::<Worker>(("c", fault, me))
        });
        let sup = supervisor::start_link(vec![c], SupervisorFlags::default()).unwrap();
        let first = started("c");
        exit_pid(first, ExitReason::Kill);
        started("c");
        let third = started("c");
        assert_eq!(pids(sup), vec![third]);
        assert!(is_alive(third));
        assert_eq!(starts.load(Ordering::SeqCst), 3);
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(report(), Report::Terminating("c", ExitReason::Shutdown));
        assert_eq!(live(), baseline);
    });
}

// ------------------------------------------------------- faults in shutdown

#[test]
fn a_panic_in_a_childs_terminate_during_shutdown_does_not_stop_the_shutdown() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let children = vec![
            spec("a", Fault::None),
            spec("b", Fault::TerminatePanics),
            spec("c", Fault::None),
        ];
        let sup = supervisor::start_link(children, SupervisorFlags::default()).unwrap();
        let (_, b, _) = (started("a"), started("b"), started("c"));
        monitor(b);
        monitor(sup.pid());
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(report(), Report::Terminating("c", ExitReason::Shutdown));
        assert_eq!(report(), Report::Terminating("b", ExitReason::Shutdown));
        assert_eq!(report(), Report::Terminating("a", ExitReason::Shutdown));
        assert_eq!(panic_message(&down_reason(b)), Some("boom in terminate"));
        assert_eq!(down_reason(sup.pid()), ExitReason::Shutdown);
        assert_eq!(live(), baseline);
    });
}

#[test]
fn children_that_ignore_or_hang_in_shutdown_are_killed_after_their_timeout() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let short = Shutdown::Timeout(Duration::from_millis(20));
        // One traps exits and ignores them; one hangs in its terminate.
        let deaf = ChildSpec::worker("deaf", || {
            spawn_link(|| {
                trap_exit(true);
                loop {
                    let _ = beamlet::receive_any();
                }
            })
        })
        .shutdown(short);
        let children = vec![
            spec("a", Fault::None),
            deaf,
            spec("hang", Fault::TerminateBlocks).shutdown(short),
        ];
        let sup = supervisor::start_link(children, SupervisorFlags::default()).unwrap();
        let a = started("a");
        let hang = started("hang");
        let deaf = pids(sup)[1];
        for p in [a, deaf, hang] {
            monitor(p);
        }
        monitor(sup.pid());
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(report(), Report::Terminating("hang", ExitReason::Shutdown));
        assert_eq!(report(), Report::Blocked("hang", hang));
        assert_eq!(down_reason(hang), ExitReason::Killed);
        assert_eq!(down_reason(deaf), ExitReason::Killed);
        assert_eq!(report(), Report::Terminating("a", ExitReason::Shutdown));
        assert_eq!(down_reason(a), ExitReason::Shutdown);
        assert_eq!(down_reason(sup.pid()), ExitReason::Shutdown);
        assert_eq!(live(), baseline);
    });
}

// --------------------------------------------------------------------- kills

/// A process that kills every worker that reports `Blocked`, forwarding every
/// report to the test, until it gets [`Done`].
fn killer() -> Pid {
    let test = self_pid();
    spawn(move || {
        loop {
            let msg = beamlet::receive_any();
            let report = match msg.downcast::<Report>() {
                Ok(r) => r,
                Err(_) => return,
            };
            // Forward first, so that the test has the report before anything the
            // kill causes.
            send(test, report.clone()).unwrap();
            if let Report::Blocked(_, pid) = report {
                exit_pid(pid, ExitReason::Kill);
            }
        }
    })
    .unwrap()
}

/// Ends a [`killer`] and waits for it to be gone.
fn dismiss(killer: Pid) {
    monitor(killer);
    send(killer, ()).unwrap();
    assert_eq!(down_reason(killer), ExitReason::Normal);
}

#[test]
fn a_kill_during_a_call_or_a_stop_gives_the_caller_killed() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let k = killer();
        let s = gen_server::start_link::<Worker>(("s", Fault::CallBlocks, k)).unwrap();
        assert_eq!(started("s"), s.pid());
        monitor(s.pid());
        assert_eq!(
            gen_server::call(s, ()),
            Err(CallError::Exit(ExitReason::Killed))
        );
        assert_eq!(report(), Report::Blocked("s", s.pid()));
        assert_eq!(down_reason(s.pid()), ExitReason::Killed);
        assert_eq!(exit_from(s.pid()), ExitReason::Killed);
        assert_eq!(try_receive::<Report>(), None, "no terminate on a kill");

        // Killed in the terminate of a `gen_server::stop`: the stop gets `Killed`.
        let s = gen_server::start_link::<Worker>(("t", Fault::TerminateBlocks, k)).unwrap();
        assert_eq!(started("t"), s.pid());
        let r = gen_server::stop(s, ExitReason::Normal, PATIENCE);
        assert_eq!(r, Err(CallError::Exit(ExitReason::Killed)));
        assert_eq!(report(), Report::Terminating("t", ExitReason::Normal));
        assert_eq!(report(), Report::Blocked("t", s.pid()));
        assert_eq!(exit_from(s.pid()), ExitReason::Killed);
        dismiss(k);
        assert_eq!(try_receive::<Report>(), None);
        assert_eq!(live(), baseline);
    });
}

#[test]
fn a_kill_during_init_fails_the_start_with_killed_and_leaves_nothing() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let k = killer();
        for linked in [false, true] {
            let args = ("s", Fault::InitBlocks, k);
            // Named: the name is free again once the start has returned.
            let opts = StartOptions::new().name("killed_in_init");
            let r = match linked {
                true => gen_server::start_link_with::<Worker>(args, opts),
                false => gen_server::start_with::<Worker>(args, opts),
            };
            assert_eq!(r.unwrap_err(), StartError::Stop(ExitReason::Killed));
            let pid = started("s");
            assert_eq!(report(), Report::Blocked("s", pid));
            assert!(!is_alive(pid));
            assert_eq!(whereis("killed_in_init"), None);
            assert_eq!(try_receive::<Exit>(), None, "linked: {linked}");
        }
        // In a supervisor's start: a typed failure, the started sibling shut down.
        let children = vec![spec("a", Fault::None), spec_to("c", Fault::InitBlocks, k)];
        let err = supervisor::start_link(children, SupervisorFlags::default()).unwrap_err();
        let failed = FailedToStartChild::of(&err).expect("FailedToStartChild");
        assert_eq!(failed.id, "c");
        assert_eq!(failed.error, StartError::Stop(ExitReason::Killed));
        started("a");
        let c = started("c");
        assert_eq!(report(), Report::Blocked("c", c));
        assert_eq!(report(), Report::Terminating("a", ExitReason::Shutdown));
        assert_eq!(try_receive::<Exit>(), None);

        // Through the run-time API of both supervisors: the call fails, the
        // supervisor keeps running and keeps no spec of the child.
        let sup = supervisor::start_link(vec![], SupervisorFlags::default()).unwrap();
        let r = supervisor::start_child(sup, spec_to("late", Fault::InitBlocks, k));
        assert_eq!(r, Err(start_killed()));
        let late = started("late");
        assert_eq!(report(), Report::Blocked("late", late));
        assert_eq!(supervisor::count_children(sup).unwrap().specs, 0);
        let dynamic = dynamic_supervisor::start_link(DynamicOptions::default()).unwrap();
        let r = dynamic_supervisor::start_child(dynamic, spec_to("late", Fault::InitBlocks, k));
        assert_eq!(r, Err(start_killed()));
        let late = started("late");
        assert_eq!(report(), Report::Blocked("late", late));
        assert_eq!(
            dynamic_supervisor::count_children(dynamic).unwrap().specs,
            0
        );
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        gen_server::stop(dynamic, ExitReason::Shutdown, PATIENCE).unwrap();
        dismiss(k);
        assert_eq!(try_receive::<Report>(), None);
        assert_eq!(live(), baseline);
    });
}

fn start_killed() -> SupervisorError {
    SupervisorError::Start(StartError::Stop(ExitReason::Killed))
}

#[test]
fn a_child_killed_while_hanging_in_its_shutdown_lets_the_supervisor_finish() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let k = killer();
        let children = vec![
            spec("a", Fault::None),
            spec_to("hang", Fault::TerminateBlocks, k).shutdown(Shutdown::Infinity),
            spec("c", Fault::None),
        ];
        let sup = supervisor::start_link(children, SupervisorFlags::default()).unwrap();
        let (a, hang, c) = (started("a"), started("hang"), started("c"));
        for p in [a, hang, c, sup.pid()] {
            monitor(p);
        }
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(report(), Report::Terminating("c", ExitReason::Shutdown));
        assert_eq!(report(), Report::Terminating("hang", ExitReason::Shutdown));
        assert_eq!(report(), Report::Blocked("hang", hang));
        assert_eq!(report(), Report::Terminating("a", ExitReason::Shutdown));
        assert_eq!(down_reason(c), ExitReason::Shutdown);
        assert_eq!(down_reason(hang), ExitReason::Killed);
        assert_eq!(down_reason(a), ExitReason::Shutdown);
        assert_eq!(down_reason(sup.pid()), ExitReason::Shutdown);
        dismiss(k);
        assert_eq!(live(), baseline);
    });
}

#[test]
fn a_supervisor_killed_during_its_shutdown_takes_its_children_down() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let plain = |id| {
            ChildSpec::worker(id, || {
                spawn_link(|| {
                    loop {
                        receive::<()>();
                    }
                })
            })
        };
        let children = vec![
            plain("a"),
            plain("b"),
            spec("c", Fault::TerminateBlocks).shutdown(Shutdown::Infinity),
        ];
        let sup = supervisor::start_link(children, SupervisorFlags::default()).unwrap();
        let c = started("c");
        let all = pids(sup);
        for &p in all.iter().chain([&sup.pid()]) {
            monitor(p);
        }
        // The parent's shutdown: the supervisor starts with c, which hangs.
        exit_pid(sup.pid(), ExitReason::Shutdown);
        assert_eq!(report(), Report::Terminating("c", ExitReason::Shutdown));
        assert_eq!(report(), Report::Blocked("c", c));
        exit_pid(sup.pid(), ExitReason::Kill);
        assert_eq!(down_reason(sup.pid()), ExitReason::Killed);
        assert_eq!(exit_from(sup.pid()), ExitReason::Killed);
        // The children not trapping exits die of the kill through their link.
        assert_eq!(down_reason(all[0]), ExitReason::Killed);
        assert_eq!(down_reason(all[1]), ExitReason::Killed);
        // c finishes its terminate and exits with the reason it was given.
        assert!(is_alive(c));
        send(c, Release).unwrap();
        assert_eq!(down_reason(c), ExitReason::Shutdown);
        assert_eq!(live(), baseline);
    });
}

#[test]
fn a_supervisor_killed_during_its_own_start_fails_the_start_and_leaves_nothing() {
    run(|| {
        let baseline = live();
        let me = self_pid();
        let a = ChildSpec::worker("a", move || {
            let pid = spawn_link(|| {
                loop {
                    receive::<()>();
                }
            })?;
            send(me, Report::Started("a", pid)).unwrap();
            Ok::<Pid, SpawnError>(pid)
        });
        // The second child's start function hangs, in the supervisor.
        let b = ChildSpec::worker("b", move || -> Result<Pid, StartError> {
            send(me, Report::Blocked("b", self_pid())).unwrap();
            receive::<Release>();
            Err(StartError::Ignore)
        });
        let starter = spawn(move || {
            trap_exit(true);
            let r = supervisor::start_link(vec![a, b], SupervisorFlags::default());
            let left_exit = try_receive::<Exit>();
            send(me, (r.map(|s| s.pid()), left_exit)).unwrap();
        })
        .unwrap();
        monitor(starter);
        let a = started("a");
        monitor(a);
        let Report::Blocked("b", sup) = report() else {
            panic!("b's start did not begin")
        };
        monitor(sup);
        exit_pid(sup, ExitReason::Kill);
        assert_eq!(down_reason(sup), ExitReason::Killed);
        assert_eq!(down_reason(a), ExitReason::Killed);
        let got = receive_timeout::<(Result<Pid, StartError>, Option<Exit>)>(PATIENCE);
        assert_eq!(
            got,
            Some((Err(StartError::Stop(ExitReason::Killed)), None)),
            "the starter gets the kill as a value, and no Exit message"
        );
        assert_eq!(down_reason(starter), ExitReason::Normal);
        assert_eq!(live(), baseline);
    });
}

#[test]
fn a_dynamic_supervisors_shutdown_kills_the_deaf_the_hung_and_survives_a_kill() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let k = killer();
        let short = Shutdown::Timeout(Duration::from_millis(20));
        let deaf = ChildSpec::worker("deaf", || {
            spawn_link(|| {
                trap_exit(true);
                loop {
                    let _ = beamlet::receive_any();
                }
            })
        })
        .shutdown(short);
        let sup = dynamic_supervisor::start_link(DynamicOptions::default()).unwrap();
        let mut children = Vec::new();
        for spec in [
            spec("a", Fault::None),
            deaf,
            spec("hang", Fault::TerminateBlocks).shutdown(short),
            spec_to("hung", Fault::TerminateBlocks, k).shutdown(Shutdown::Infinity),
        ] {
            let pid = dynamic_supervisor::start_child(sup, spec).unwrap().unwrap();
            monitor(pid);
            children.push(pid);
        }
        assert_eq!(started("a"), children[0]);
        assert_eq!(started("hang"), children[2]);
        assert_eq!(started("hung"), children[3]);
        monitor(sup.pid());
        // All are signalled at once: the reports come in any order.
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        let mut reports: Vec<String> = (0..5).map(|_| format!("{:?}", report())).collect();
        reports.sort();
        let mut want = vec![
            format!("{:?}", Report::Terminating("a", ExitReason::Shutdown)),
            format!("{:?}", Report::Terminating("hang", ExitReason::Shutdown)),
            format!("{:?}", Report::Blocked("hang", children[2])),
            format!("{:?}", Report::Terminating("hung", ExitReason::Shutdown)),
            format!("{:?}", Report::Blocked("hung", children[3])),
        ];
        want.sort();
        assert_eq!(reports, want);
        let reasons: Vec<ExitReason> = children.iter().map(|&c| down_reason(c)).collect();
        assert_eq!(
            reasons,
            [
                ExitReason::Shutdown,
                ExitReason::Killed,
                ExitReason::Killed,
                ExitReason::Killed
            ]
        );
        assert_eq!(down_reason(sup.pid()), ExitReason::Shutdown);
        dismiss(k);
        assert_eq!(try_receive::<Report>(), None);
        assert_eq!(live(), baseline);
    });
}
