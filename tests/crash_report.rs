//! Crash reports, as OTP 25 writes them: the emulator's error report for a plain
//! process's panic (observed or not), proc_lib's crash report for a behaviour's
//! process, the behaviours' terminating reports, the supervisor's reports — and
//! none for orderly exits, `exit` with a reason of its own, or kills from outside.
//! Each test records its runtime's reports with a custom sink; one checks the `log`
//! route and its structured fields.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamlet::otp::gen_event::{self, EventHandler, Handled, HandlerId, Removal};
use beamlet::otp::gen_server::{self, CallError, CallReply, Caller, GenServer, Init, NoReply};
use beamlet::otp::gen_statem::{self, Event, GenStateMachine, Transition};
use beamlet::otp::supervisor::{self, ChildSpec, Restart, Shutdown, SupervisorFlags};
use beamlet::{
    Down, ExitReason, Pid, ReportKind, ReportSink, Runtime, exit, exit_pid, monitor, receive,
    receive_match_timeout, receive_timeout, self_pid, send, spawn, spawn_monitor, trap_exit,
};
use common::{PATIENCE, Reports, recording};

fn kinds(reports: &Reports) -> Vec<ReportKind> {
    reports.lock().unwrap().iter().map(|r| r.kind).collect()
}

fn wait_down() -> Down {
    receive_timeout::<Down>(PATIENCE).expect("a Down")
}

#[test]
fn a_panicking_process_is_reported_even_when_monitored() {
    let (rt, reports) = recording();
    let pid = rt
        .block_on(|| {
            let (pid, _) = spawn_monitor(|| panic!("observed crash")).unwrap();
            wait_down();
            pid
        })
        .unwrap();
    let _ = rt.shutdown();
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert_eq!((r.kind, r.pid), (ReportKind::ProcessError, pid));
    let text = r.to_string();
    assert!(text.starts_with(&format!("Error in process {pid} with exit value")));
    assert!(text.contains("observed crash"), "{text}");
    assert!(
        text.contains("crash_report.rs"),
        "names the location: {text}"
    );
}

/// Recurses with a 1 KiB frame, calling the runtime at each level, until the
/// red-zone check ends the process.
fn overflow(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth as u8; 1024]);
    beamlet::reduce(1);
    if depth == u64::MAX {
        return 0;
    }
    overflow(depth + 1) + u64::from(frame[0])
}

#[test]
fn a_stack_overflow_caught_at_a_runtime_call_is_reported() {
    let (rt, reports) = recording();
    let pid = rt
        .block_on(|| {
            let (pid, _) = spawn_monitor(|| {
                overflow(0);
            })
            .unwrap();
            assert_eq!(wait_down().reason, ExitReason::StackOverflow);
            pid
        })
        .unwrap();
    let _ = rt.shutdown();
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(
        (reports[0].kind, reports[0].pid),
        (ReportKind::ProcessError, pid)
    );
    assert_eq!(reports[0].reason, ExitReason::StackOverflow);
}

#[test]
fn orderly_exits_own_reasons_and_kills_from_outside_are_not_reported() {
    let (rt, reports) = recording();
    rt.block_on(|| {
        spawn_monitor(|| ()).unwrap();
        spawn_monitor(|| exit(ExitReason::Shutdown)).unwrap();
        spawn_monitor(|| exit(ExitReason::custom("my own reason"))).unwrap();
        let (victim, _) = spawn_monitor(receive::<()>).unwrap();
        exit_pid(victim, ExitReason::Kill);
        let (victim, _) = spawn_monitor(receive::<()>).unwrap();
        exit_pid(victim, ExitReason::custom("from outside"));
        for _ in 0..5 {
            wait_down();
        }
    })
    .unwrap();
    let _ = rt.shutdown();
    assert_eq!(kinds(&reports), []);
}

/// A server that panics on `Crash` calls, stops on `Stop` casts.
struct Fragile;

impl GenServer for Fragile {
    type Args = ();
    type Call = &'static str;
    type Reply = ();
    type Cast = ExitReason;
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Fragile)
    }

    fn handle_call(&mut self, what: &'static str, _: Caller<()>) -> CallReply<(), ()> {
        panic!("server blew up on {what}")
    }

    fn handle_cast(&mut self, reason: ExitReason) -> NoReply<()> {
        NoReply::Stop(reason)
    }

    fn format_status(&self) -> String {
        "fragile state".to_owned()
    }
}

#[test]
fn a_server_crashing_mid_call_is_reported_before_its_caller_gets_the_error() {
    let (rt, reports) = recording();
    let seen = reports.clone();
    let (server, client, at_error) = rt
        .block_on(move || {
            let server = gen_server::start(()).unwrap();
            let err = gen_server::call::<Fragile>(server, "purpose").unwrap_err();
            assert!(
                matches!(err, CallError::Exit(ExitReason::Panic(_))),
                "{err:?}"
            );
            // What was written by the time the caller had its error.
            let at_error = kinds(&seen);
            (server.pid(), self_pid(), at_error)
        })
        .unwrap();
    let _ = rt.shutdown();
    assert_eq!(at_error, [ReportKind::ServerTerminating, ReportKind::Crash]);
    let reports = reports.lock().unwrap();
    let terminating = &reports[0];
    assert_eq!(terminating.pid, server);
    assert!(terminating.reason.is_panic());
    let last = terminating.get("last_message").unwrap();
    assert!(last.starts_with("call &str from"), "{last}");
    assert!(last.contains(&client.to_string()), "{last}");
    assert_eq!(terminating.get("state"), Some("fragile state"));
    assert!(terminating.get("client").unwrap().contains("alive"));
    let crash = &reports[1];
    assert_eq!(crash.pid, server);
    assert!(crash.get("initial_call").unwrap().ends_with("Fragile"));
    assert_eq!(crash.get("links"), Some("[]"));
    assert_eq!(crash.get("message_queue_len"), Some("0"));
    assert_eq!(crash.get("trap_exit"), Some("false"));
}

#[test]
fn a_server_stopping_abnormally_is_reported_and_one_stopping_in_order_is_not() {
    let (rt, reports) = recording();
    rt.block_on(|| {
        for reason in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::shutdown_with("done"),
            ExitReason::custom("gave up"),
        ] {
            let server = gen_server::start::<Fragile>(()).unwrap();
            monitor(server.pid());
            gen_server::cast(server, reason);
            wait_down();
        }
    })
    .unwrap();
    let _ = rt.shutdown();
    assert_eq!(
        kinds(&reports),
        [ReportKind::ServerTerminating, ReportKind::Crash]
    );
    let reports = reports.lock().unwrap();
    assert_eq!(reports[0].reason, ExitReason::custom("gave up"));
    assert!(reports[0].get("last_message").unwrap().starts_with("cast"));
    assert!(reports[0].get("client").is_none());
}

/// A state machine that stops with the reason it is cast.
struct Brittle;

impl GenStateMachine for Brittle {
    type Args = ();
    type State = u8;
    type Call = ();
    type Reply = ();
    type Cast = ExitReason;
    type Internal = ();
    type TimeoutName = ();

    fn init(_: ()) -> gen_statem::Init<Self> {
        gen_statem::Init::ok(7, Brittle)
    }

    fn handle_event(&mut self, _: &u8, event: Event<Self>) -> Transition<Self> {
        match event {
            Event::Cast(reason) => Transition::Stop(reason),
            _ => Transition::keep_state(),
        }
    }

    fn format_status(&self, state: &u8) -> String {
        format!("in state {state}")
    }
}

#[test]
fn a_state_machine_stopping_abnormally_is_reported() {
    let (rt, reports) = recording();
    let pid = rt
        .block_on(|| {
            let m = gen_statem::start_link::<Brittle>(()).unwrap();
            trap_exit(true);
            monitor(m.pid());
            gen_statem::cast(m, ExitReason::custom("bad event"));
            wait_down();
            m.pid()
        })
        .unwrap();
    let _ = rt.shutdown();
    assert_eq!(
        kinds(&reports),
        [ReportKind::StateMachineTerminating, ReportKind::Crash]
    );
    let reports = reports.lock().unwrap();
    assert_eq!(reports[0].pid, pid);
    assert_eq!(reports[0].get("state"), Some("in state 7"));
    assert!(reports[0].get("last_message").unwrap().starts_with("cast"));
    // The crash report lists the link to the starter.
    assert!(
        reports[1].get("links").unwrap().contains("<"),
        "{:?}",
        reports[1]
    );
}

/// An event handler that panics on every event.
struct Boom;

impl EventHandler<u32> for Boom {
    type Args = ();
    type Call = ();
    type Reply = ();
    type DeleteArgs = ();
    type Terminated = ();

    fn init(_: ()) -> gen_event::Init<Self> {
        gen_event::Init::Ok(Boom)
    }

    fn handle_event(&mut self, event: &u32) -> Handled<u32, Self> {
        panic!("handler blew up on {event}")
    }

    fn terminate(self, _: Removal<()>) {}
}

#[test]
fn a_crashing_event_handler_is_reported_and_the_manager_is_not() {
    let (rt, reports) = recording();
    rt.block_on(|| {
        let manager = gen_event::start::<u32>().unwrap();
        gen_event::add_handler(manager, &HandlerId::<Boom>::new(), ()).unwrap();
        gen_event::sync_notify(manager, 5).unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
    assert_eq!(
        kinds(&reports),
        [ReportKind::HandlerCrashed],
        "{:?}",
        reports.lock().unwrap()
    );
    let reports = reports.lock().unwrap();
    assert!(reports[0].reason.is_panic());
    assert!(reports[0].get("handler").unwrap().contains("Boom"));
    assert_eq!(reports[0].get("last_message"), Some("info u32"));
}

/// A child that tells the test its pid, then exits as it is told.
fn child(id: &'static str, test: Pid) -> ChildSpec {
    ChildSpec::worker(id, move || {
        beamlet::spawn_link(move || {
            send(test, (id, self_pid())).unwrap();
            exit(receive::<ExitReason>())
        })
    })
}

/// The pid child `id` announced (children started together announce in any order).
fn started(id: &'static str) -> Pid {
    let is_it = |m: &(&'static str, Pid)| m.0 == id;
    receive_match_timeout(is_it, PATIENCE)
        .expect("the child announced itself")
        .1
}

#[test]
fn supervisors_report_children_that_terminate() {
    let (rt, reports) = recording();
    let sup = rt
        .block_on(|| {
            let me = self_pid();
            let specs = vec![
                child("perm", me),
                child("trans", me).restart(Restart::Transient),
            ];
            let sup = supervisor::start_link(specs, SupervisorFlags::default()).unwrap();
            let (perm, trans) = (started("perm"), started("trans"));
            // A permanent child is reported even for a normal exit.
            send(perm, ExitReason::Normal).unwrap();
            let perm = started("perm");
            // A transient child's normal exit is not; its crash is.
            send(trans, ExitReason::Normal).unwrap();
            send(perm, ExitReason::custom("bad")).unwrap();
            started("perm");
            sup.pid()
        })
        .unwrap();
    let _ = rt.shutdown();
    let reports = reports.lock().unwrap();
    let terminated: Vec<_> = reports
        .iter()
        .filter(|r| r.kind == ReportKind::ChildTerminated)
        .collect();
    assert_eq!(terminated.len(), 2, "{reports:?}");
    assert_eq!(terminated[0].reason, ExitReason::Normal);
    assert_eq!(terminated[1].reason, ExitReason::custom("bad"));
    for r in &terminated {
        assert_eq!(r.pid, sup);
        assert_eq!(r.get("supervisor"), Some(sup.to_string().as_str()));
        assert_eq!(r.get("child_id"), Some("perm"));
        assert_eq!(r.get("restart_type"), Some("Permanent"));
    }
}

#[test]
fn a_supervisor_reports_a_failed_restart_and_giving_up() {
    let (rt, reports) = recording();
    rt.block_on(|| {
        let me = self_pid();
        let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let spec = ChildSpec::worker("flaky", move || {
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                beamlet::spawn_link(move || {
                    send(me, ("flaky", self_pid())).unwrap();
                    exit(receive::<ExitReason>())
                })
                .map_err(Into::into)
            } else {
                Err(gen_server::StartError::Stop(ExitReason::custom("no luck")))
            }
        });
        let flags = SupervisorFlags {
            max_restarts: 2,
            ..SupervisorFlags::default()
        };
        trap_exit(true);
        let sup = supervisor::start_link(vec![spec], flags).unwrap();
        monitor(sup.pid());
        send(started("flaky"), ExitReason::custom("crash")).unwrap();
        let down = wait_down();
        assert_eq!(down.reason, ExitReason::Shutdown);
    })
    .unwrap();
    let _ = rt.shutdown();
    let kinds = kinds(&reports);
    assert_eq!(kinds[0], ReportKind::ChildTerminated, "{kinds:?}");
    assert!(
        kinds[1..kinds.len() - 1]
            .iter()
            .all(|k| *k == ReportKind::StartError)
    );
    assert_eq!(kinds.last(), Some(&ReportKind::SupervisorShutdown));
    let reports = reports.lock().unwrap();
    assert_eq!(reports[1].reason, ExitReason::custom("no luck"));
    let gave_up = reports.last().unwrap();
    assert_eq!(
        gave_up.reason,
        ExitReason::custom(supervisor::ReachedMaxRestartIntensity)
    );
    assert_eq!(gave_up.get("child_id"), Some("flaky"));
}

#[test]
fn a_child_that_ignores_its_shutdown_is_reported_as_killed() {
    let (rt, reports) = recording();
    rt.block_on(|| {
        let me = self_pid();
        let stubborn = ChildSpec::worker("stubborn", move || {
            beamlet::spawn_link(move || {
                trap_exit(true);
                send(me, ("stubborn", self_pid())).unwrap();
                loop {
                    let _ = receive::<beamlet::Exit>();
                }
            })
        })
        .shutdown(Shutdown::Timeout(Duration::from_millis(10)));
        let polite = child("polite", me).shutdown(Shutdown::Timeout(PATIENCE));
        let specs = vec![stubborn, polite];
        let sup = supervisor::start_link(specs, SupervisorFlags::default()).unwrap();
        started("stubborn");
        started("polite");
        supervisor::terminate_child(sup, "stubborn").unwrap();
        supervisor::terminate_child(sup, "polite").unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
    assert_eq!(kinds(&reports), [ReportKind::ShutdownError]);
    let reports = reports.lock().unwrap();
    assert_eq!(reports[0].reason, ExitReason::Killed);
    assert_eq!(reports[0].get("child_id"), Some("stubborn"));
}

#[test]
fn reports_off_writes_nothing() {
    let rt = Runtime::builder().reports(ReportSink::Off).build().unwrap();
    let r = rt.block_on(|| -> () { panic!("quiet") });
    assert!(r.is_err());
    let _ = rt.shutdown();
}

mod through_log {
    //! The `log` route: a report is one `error` record of target `beamlet::crash`
    //! whose key-values carry its fields.

    use super::*;

    /// Level, text and key-values of one record.
    type Line = (String, String, Vec<(String, String)>);

    static RECORDS: Mutex<Vec<Line>> = Mutex::new(Vec::new());

    struct Capture;

    struct Pairs(Vec<(String, String)>);

    impl<'kvs> log::kv::VisitSource<'kvs> for Pairs {
        fn visit_pair(
            &mut self,
            k: log::kv::Key<'kvs>,
            v: log::kv::Value<'kvs>,
        ) -> Result<(), log::kv::Error> {
            self.0.push((k.to_string(), v.to_string()));
            Ok(())
        }
    }

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }

        fn log(&self, record: &log::Record<'_>) {
            if record.target() == "beamlet::crash" {
                let mut pairs = Pairs(Vec::new());
                record.key_values().visit(&mut pairs).unwrap();
                let line = (
                    record.level().to_string(),
                    record.args().to_string(),
                    pairs.0,
                );
                RECORDS.lock().unwrap().push(line);
            }
        }

        fn flush(&self) {}
    }

    static LOGGER: Capture = Capture;

    #[test]
    fn a_report_is_an_error_record_with_its_fields_as_key_values() {
        log::set_logger(&LOGGER).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        // The default sink, Auto, uses `log` once a logger is enabled.
        let rt = Runtime::builder().schedulers(2).build().unwrap();
        let pid = rt
            .block_on(|| {
                let pid = spawn(|| panic!("logged crash")).unwrap();
                monitor(pid);
                wait_down();
                pid
            })
            .unwrap();
        let _ = rt.shutdown();
        let records = RECORDS.lock().unwrap();
        let mine: Vec<_> = records
            .iter()
            .filter(|(_, _, kv)| kv.contains(&("pid".into(), pid.to_string())))
            .collect();
        assert_eq!(mine.len(), 1, "{records:?}");
        let (level, text, kv) = mine[0];
        assert_eq!(level, "ERROR");
        assert!(text.contains("logged crash"), "{text}");
        assert!(
            kv.contains(&("kind".into(), "process_error".into())),
            "{kv:?}"
        );
        let reason = kv.iter().find(|(k, _)| k == "reason").unwrap();
        assert!(reason.1.contains("logged crash"), "{kv:?}");
    }
}
