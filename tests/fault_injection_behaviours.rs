//! Fault injection into the behaviours: a panic in every callback of a GenServer
//! and a GenStateMachine (event handlers: `fault_injection_gen_event.rs`), checked against each module's documented
//! contract (the exit reason, when `terminate` runs, what callers, links, monitors
//! and supervisors see). Every test asserts exact outcomes; timeouts only guard
//! against hangs.

mod common;

use std::collections::HashSet;

use beamlet::otp::gen_server::{
    self, CallError, CallReply, Caller, GenServer, Init, NoReply, ServerRef, StartError,
};
use beamlet::otp::gen_statem::{self, Enter, Event, GenStateMachine, MachineRef, Transition};
use beamlet::otp::supervisor::{self, ChildSpec, Supervisor, SupervisorFlags};
use beamlet::{
    Down, Exit, ExitReason, Message, Pid, is_alive, monitor, process_info, processes,
    receive_select, receive_timeout, self_pid, send, spawn, trap_exit, try_receive,
};
use common::{PATIENCE, run};

/// What the faulty processes tell the test.
#[derive(Debug, Clone, PartialEq)]
enum Report {
    /// `init` began in this process.
    Started(Pid),
    /// `terminate` ran in this process with this reason.
    Terminated(Pid, ExitReason),
}

/// How `init` ends.
#[derive(Debug, Clone)]
enum Plan {
    Ok,
    Panic,
    Stop(ExitReason),
    Ignore,
}

/// Requests (calls and casts) of the faulty server and machine.
#[derive(Debug, Clone)]
enum Cmd {
    Echo(u32),
    Panic,
    /// Go on with a `Continue` (the server) or change state (the machine).
    Continue,
    /// Make the next `terminate` (or, for the machine, the next state enter) panic.
    Arm,
    Stop(ExitReason),
}

/// The info message that makes `handle_info` panic.
struct Boom;

/// The panic message of a `Panic` reason.
fn panic_message(reason: &ExitReason) -> Option<&str> {
    match reason {
        ExitReason::Panic(p) => Some(p.message()),
        _ => None,
    }
}

fn report() -> Report {
    receive_timeout::<Report>(PATIENCE).expect("a report")
}

fn live() -> HashSet<Pid> {
    processes().into_iter().collect()
}

/// What the test process sees of `pid`'s end, in arrival order: its `terminate`
/// report (if any), the `Exit` of the link and the `Down` of the monitor.
#[derive(Debug)]
struct Aftermath {
    terminated: Option<ExitReason>,
    exit: ExitReason,
    down: ExitReason,
    /// Whether the report came before both signals.
    report_first: bool,
}

/// Collects [`Aftermath`]; the test process must be linked to `pid`, trap exits
/// and monitor it. `terminate_runs` says whether a report is expected.
fn aftermath(pid: Pid, terminate_runs: bool) -> Aftermath {
    let wanted = 2 + usize::from(terminate_runs);
    let (mut terminated, mut exit, mut down) = (None, None, None);
    let mut report_first = true;
    for _ in 0..wanted {
        let pred = |m: &Message| {
            matches!(m.downcast_ref::<Report>(), Some(Report::Terminated(p, _)) if *p == pid)
                || m.downcast_ref::<Exit>().is_some_and(|e| e.from == pid)
                || m.downcast_ref::<Down>().is_some_and(|d| d.pid == pid)
        };
        let msg = receive_select(None, pred, Some(PATIENCE)).expect("the end of the process");
        let msg = match msg.downcast::<Report>() {
            Ok(Report::Terminated(_, r)) => {
                report_first &= exit.is_none() && down.is_none();
                terminated = Some(r);
                continue;
            }
            Ok(other) => unreachable!("{other:?}"),
            Err(m) => m,
        };
        match msg.downcast::<Exit>() {
            Ok(e) => exit = Some(e.reason),
            Err(m) => down = Some(m.downcast::<Down>().expect("a Down").reason),
        }
    }
    Aftermath {
        terminated,
        exit: exit.expect("an Exit"),
        down: down.expect("a Down"),
        report_first,
    }
}

/// A process linked to `pid`, not trapping exits: it dies of `pid`'s reason. Returns
/// it, monitored.
fn bystander_of(pid: Pid) -> Pid {
    let me = self_pid();
    let b = spawn(move || {
        beamlet::link(pid).unwrap();
        send(me, "linked").unwrap();
        loop {
            beamlet::receive::<()>();
        }
    })
    .unwrap();
    assert_eq!(receive_timeout::<&str>(PATIENCE), Some("linked"));
    monitor(b);
    b
}

fn down_reason(pid: Pid) -> ExitReason {
    let pred = |m: &Message| m.downcast_ref::<Down>().is_some_and(|d| d.pid == pid);
    let msg = receive_select(None, pred, Some(PATIENCE)).expect("a Down");
    msg.downcast::<Down>().unwrap().reason
}

// ---------------------------------------------------------------- GenServer

/// A server with a fault for every callback; it traps exits, so a shutdown from its
/// parent runs `terminate`.
struct Faulty {
    observer: Pid,
    terminate_panics: bool,
}

impl GenServer for Faulty {
    type Args = (Plan, Pid);
    type Call = Cmd;
    type Reply = u32;
    type Cast = Cmd;
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init((plan, observer): (Plan, Pid)) -> Init<Self, ()> {
        send(observer, Report::Started(self_pid())).unwrap();
        match plan {
            Plan::Ok => Init::Ok(Faulty {
                observer,
                terminate_panics: false,
            }),
            Plan::Panic => panic!("boom in init"),
            Plan::Stop(reason) => Init::Stop(reason),
            Plan::Ignore => Init::Ignore,
        }
    }

    fn handle_call(&mut self, cmd: Cmd, _: Caller<u32>) -> CallReply<u32, ()> {
        match cmd {
            Cmd::Echo(n) => CallReply::Reply(n),
            Cmd::Panic => panic!("boom in handle_call"),
            Cmd::Continue => CallReply::ReplyContinue(0, ()),
            Cmd::Arm => {
                self.terminate_panics = true;
                CallReply::Reply(0)
            }
            Cmd::Stop(reason) => CallReply::Stop(reason, 0),
        }
    }

    fn handle_cast(&mut self, cmd: Cmd) -> NoReply<()> {
        match cmd {
            Cmd::Echo(_) => NoReply::Ok,
            Cmd::Panic => panic!("boom in handle_cast"),
            Cmd::Continue => NoReply::Continue(()),
            Cmd::Arm => {
                self.terminate_panics = true;
                NoReply::Ok
            }
            Cmd::Stop(reason) => NoReply::Stop(reason),
        }
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        if msg.is::<Boom>() {
            panic!("boom in handle_info");
        }
        NoReply::Ok
    }

    fn handle_continue(&mut self, (): ()) -> NoReply<()> {
        panic!("boom in handle_continue")
    }

    fn terminate(&mut self, reason: &ExitReason) {
        let _ = send(
            self.observer,
            Report::Terminated(self_pid(), reason.clone()),
        );
        if self.terminate_panics {
            panic!("boom in terminate");
        }
    }
}

fn faulty() -> ServerRef<Faulty> {
    let s = gen_server::start_link::<Faulty>((Plan::Ok, self_pid())).unwrap();
    assert_eq!(report(), Report::Started(s.pid()));
    s
}

/// A fault injected into a running server, and the panic message it must end with.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    Call,
    Cast,
    Info,
    ContinueAfterCast,
    ContinueAfterCall,
}

const TRIGGERS: [Trigger; 5] = [
    Trigger::Call,
    Trigger::Cast,
    Trigger::Info,
    Trigger::ContinueAfterCast,
    Trigger::ContinueAfterCall,
];

impl Trigger {
    fn message(self) -> &'static str {
        match self {
            Trigger::Call => "boom in handle_call",
            Trigger::Cast => "boom in handle_cast",
            Trigger::Info => "boom in handle_info",
            Trigger::ContinueAfterCast | Trigger::ContinueAfterCall => "boom in handle_continue",
        }
    }

    /// Fires the fault; returns what a call got, if the trigger is a call.
    fn fire(self, s: ServerRef<Faulty>) -> Option<Result<u32, CallError>> {
        match self {
            Trigger::Call => return Some(gen_server::call(s, Cmd::Panic)),
            Trigger::Cast => gen_server::cast(s, Cmd::Panic),
            Trigger::Info => send(s.pid(), Boom).unwrap(),
            Trigger::ContinueAfterCast => gen_server::cast(s, Cmd::Continue),
            Trigger::ContinueAfterCall => return Some(gen_server::call(s, Cmd::Continue)),
        }
        None
    }
}

#[test]
fn gen_server_init_faults_are_typed_start_errors_and_leave_no_process() {
    run(|| {
        trap_exit(true);
        let me = self_pid();
        let baseline = live();
        let refused = ExitReason::custom("refused");
        for linked in [false, true] {
            for plan in [Plan::Panic, Plan::Stop(refused.clone()), Plan::Ignore] {
                let r = match linked {
                    true => gen_server::start_link::<Faulty>((plan.clone(), me)),
                    false => gen_server::start::<Faulty>((plan.clone(), me)),
                };
                let Report::Started(pid) = report() else {
                    panic!("no start")
                };
                match (&plan, r.unwrap_err()) {
                    (Plan::Panic, StartError::Stop(reason)) => {
                        assert_eq!(panic_message(&reason), Some("boom in init"))
                    }
                    (Plan::Stop(want), StartError::Stop(got)) => assert_eq!(&got, want),
                    (Plan::Ignore, StartError::Ignore) => {}
                    (plan, err) => panic!("{plan:?} gave {err:?}"),
                }
                // The process is gone when the start returns; `terminate` did not
                // run (init failed) and the link left no `Exit` behind.
                assert!(!is_alive(pid) && process_info(pid).is_none());
                assert_eq!(try_receive::<Report>(), None, "{plan:?}");
                assert_eq!(try_receive::<Exit>(), None, "{plan:?}");
            }
        }
        assert_eq!(live(), baseline);
    });
}

#[test]
fn gen_server_panic_in_each_callback_runs_terminate_and_every_watcher_sees_the_panic() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        for trigger in TRIGGERS {
            let s = faulty();
            monitor(s.pid());
            let bystander = bystander_of(s.pid());
            let called = trigger.fire(s);
            let end = aftermath(s.pid(), true);
            let reason = end.terminated.clone().expect("terminate ran");
            assert_eq!(
                panic_message(&reason),
                Some(trigger.message()),
                "{trigger:?}"
            );
            assert!(end.report_first, "terminate runs before the exit: {end:?}");
            assert_eq!(end.exit, reason, "{trigger:?}");
            assert_eq!(end.down, reason, "{trigger:?}");
            assert_eq!(down_reason(bystander), reason, "{trigger:?}");
            match trigger {
                Trigger::Call => assert_eq!(called, Some(Err(CallError::Exit(reason)))),
                // The reply went out before the continue panicked.
                Trigger::ContinueAfterCall => assert_eq!(called, Some(Ok(0))),
                _ => assert_eq!(called, None),
            }
        }
        assert_eq!(try_receive::<Report>(), None);
        assert_eq!(live(), baseline);
    });
}

#[test]
fn gen_server_panic_in_terminate_becomes_the_exit_reason() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let asked = ExitReason::custom("asked");
        // Each way to stop (what terminate is given is checked below).
        let stops = [
            "cast stop",
            "call stop",
            "call panic",
            "gen_server::stop",
            "parent shutdown",
        ];
        for how in stops {
            let s = faulty();
            monitor(s.pid());
            assert_eq!(gen_server::call(s, Cmd::Arm), Ok(0));
            let outcome = match how {
                "cast stop" => {
                    gen_server::cast(s, Cmd::Stop(asked.clone()));
                    None
                }
                "call panic" => Some(gen_server::call(s, Cmd::Panic).map(|_| ())),
                // As OTP: the reply of a stop with reply goes out even though
                // terminate crashed (it is sent after terminate, whatever happened).
                "call stop" => {
                    assert_eq!(gen_server::call(s, Cmd::Stop(asked.clone())), Ok(0));
                    None
                }
                "gen_server::stop" => Some(gen_server::stop(s, ExitReason::Normal, PATIENCE)),
                _ => {
                    beamlet::exit_pid(s.pid(), ExitReason::Shutdown);
                    None
                }
            };
            let end = aftermath(s.pid(), true);
            let given = end.terminated.clone().unwrap();
            match how {
                "call panic" => assert_eq!(panic_message(&given), Some("boom in handle_call")),
                "cast stop" | "call stop" => assert_eq!(given, asked),
                "gen_server::stop" => assert_eq!(given, ExitReason::Normal),
                _ => assert_eq!(given, ExitReason::Shutdown),
            }
            assert_eq!(panic_message(&end.exit), Some("boom in terminate"), "{how}");
            assert_eq!(end.down, end.exit, "{how}");
            if let Some(r) = outcome {
                assert_eq!(r, Err(CallError::Exit(end.exit.clone())), "{how}");
            }
        }
        assert_eq!(live(), baseline);
    });
}

#[test]
fn gen_server_supervisor_restarts_a_child_after_a_panic_in_each_callback() {
    run(|| {
        trap_exit(true);
        let me = self_pid();
        let baseline = live();
        let spec = ChildSpec::worker("f", move || {
            gen_server::start_link::<Faulty>((Plan::Ok, me))
        });
        let flags = SupervisorFlags {
            max_restarts: 10,
            ..SupervisorFlags::default()
        };
        let sup = supervisor::start_link(vec![spec], flags).unwrap();
        let Report::Started(mut pid) = report() else {
            panic!("no start")
        };
        for trigger in TRIGGERS {
            let s = ServerRef::<Faulty>::from_pid(pid);
            let called = trigger.fire(s);
            let Report::Terminated(p, reason) = report() else {
                panic!("no terminate")
            };
            assert_eq!((p, panic_message(&reason)), (pid, Some(trigger.message())));
            if let Trigger::Call = trigger {
                assert_eq!(called, Some(Err(CallError::Exit(reason))));
            }
            let Report::Started(next) = report() else {
                panic!("not restarted after {trigger:?}")
            };
            assert_ne!(next, pid);
            assert!(!is_alive(pid));
            assert_eq!(only_child(sup), next);
            pid = next;
        }
        assert_eq!(supervisor::count_children(sup).unwrap().active, 1);
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(report(), Report::Terminated(pid, ExitReason::Shutdown));
        assert_eq!(live(), baseline);
    });
}

fn only_child(sup: ServerRef<Supervisor>) -> Pid {
    let children = supervisor::which_children(sup).unwrap();
    assert_eq!(children.len(), 1);
    children[0].pid.pid().expect("running")
}

// ---------------------------------------------------------- GenStateMachine

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    Active,
}

/// What the machine reports on `terminate`: the reason and the state it was in.
#[derive(Debug, Clone, PartialEq)]
struct MachineEnded(Pid, ExitReason, Phase);

/// How the machine's `init` ends; `EnterPanic` starts it, and its first state
/// enter call panics.
#[derive(Debug, Clone)]
enum MachinePlan {
    Init(Plan),
    EnterPanic,
}

/// A state machine with a fault for every callback.
struct Machine {
    observer: Pid,
    enter_panics: bool,
    terminate_panics: bool,
}

impl GenStateMachine for Machine {
    type Args = (MachinePlan, Pid);
    type State = Phase;
    type Call = Cmd;
    type Reply = u32;
    type Cast = Cmd;
    type Internal = ();
    type TimeoutName = ();
    const STATE_ENTER: bool = true;
    const TRAP_EXIT: bool = true;

    fn init((plan, observer): (MachinePlan, Pid)) -> gen_statem::Init<Self> {
        send(observer, Report::Started(self_pid())).unwrap();
        let data = |enter_panics| Machine {
            observer,
            enter_panics,
            terminate_panics: false,
        };
        match plan {
            MachinePlan::Init(Plan::Ok) => gen_statem::Init::ok(Phase::Idle, data(false)),
            MachinePlan::Init(Plan::Panic) => panic!("boom in init"),
            MachinePlan::Init(Plan::Stop(r)) => gen_statem::Init::Stop(r),
            MachinePlan::Init(Plan::Ignore) => gen_statem::Init::Ignore,
            MachinePlan::EnterPanic => gen_statem::Init::ok(Phase::Idle, data(true)),
        }
    }

    fn handle_event(&mut self, _: &Phase, event: Event<Self>) -> Transition<Self> {
        match event {
            Event::Call(Cmd::Panic, _) => panic!("boom in handle_event(call)"),
            Event::Cast(Cmd::Panic) => panic!("boom in handle_event(cast)"),
            Event::Info(m) if m.is::<Boom>() => panic!("boom in handle_event(info)"),
            Event::Call(Cmd::Arm, from) => {
                self.terminate_panics = true;
                self.enter_panics = true;
                Transition::keep_state().reply(from, 0)
            }
            Event::Call(Cmd::Echo(n), from) => Transition::keep_state().reply(from, n),
            Event::Cast(Cmd::Continue) => Transition::next_state(Phase::Active),
            Event::Cast(Cmd::Stop(reason)) => Transition::stop(reason),
            _ => Transition::keep_state(),
        }
    }

    fn state_enter(&mut self, _: &Phase, _: &Phase) -> Enter<Self> {
        if self.enter_panics {
            panic!("boom in state_enter");
        }
        Enter::keep_state()
    }

    fn terminate(&mut self, reason: &ExitReason, state: &Phase) {
        let _ = send(
            self.observer,
            MachineEnded(self_pid(), reason.clone(), *state),
        );
        if self.terminate_panics {
            panic!("boom in terminate");
        }
    }
}

fn machine_ended(pid: Pid) -> (ExitReason, Phase) {
    let m = receive_timeout::<MachineEnded>(PATIENCE).expect("terminate ran");
    assert_eq!(m.0, pid);
    (m.1, m.2)
}

/// The `Exit` and `Down` of `pid` (linked, trapped, monitored), which must agree.
fn end_of(pid: Pid) -> ExitReason {
    let end = aftermath(pid, false);
    assert_eq!(end.exit, end.down);
    end.exit
}

fn machine(plan: MachinePlan) -> MachineRef<Machine> {
    let m = gen_statem::start_link::<Machine>((plan, self_pid())).unwrap();
    assert_eq!(report(), Report::Started(m.pid()));
    monitor(m.pid());
    m
}

#[test]
fn gen_statem_init_faults_are_typed_start_errors_and_leave_no_process() {
    run(|| {
        trap_exit(true);
        let me = self_pid();
        let baseline = live();
        let refused = ExitReason::custom("refused");
        for plan in [Plan::Panic, Plan::Stop(refused.clone()), Plan::Ignore] {
            let r = gen_statem::start_link::<Machine>((MachinePlan::Init(plan.clone()), me));
            let Report::Started(pid) = report() else {
                panic!("no start")
            };
            match (&plan, r.unwrap_err()) {
                (Plan::Panic, StartError::Stop(reason)) => {
                    assert_eq!(panic_message(&reason), Some("boom in init"))
                }
                (Plan::Stop(want), StartError::Stop(got)) => assert_eq!(&got, want),
                (Plan::Ignore, StartError::Ignore) => {}
                (plan, err) => panic!("{plan:?} gave {err:?}"),
            }
            assert!(!is_alive(pid));
            assert_eq!(try_receive::<MachineEnded>(), None);
            assert_eq!(try_receive::<Exit>(), None);
        }
        assert_eq!(live(), baseline);
    });
}

#[test]
fn gen_statem_panic_in_handle_event_for_call_cast_and_info_runs_terminate() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        for kind in ["call", "cast", "info"] {
            let m = machine(MachinePlan::Init(Plan::Ok));
            let bystander = bystander_of(m.pid());
            let called = match kind {
                "call" => Some(gen_statem::call(m, Cmd::Panic)),
                "cast" => {
                    gen_statem::cast(m, Cmd::Panic);
                    None
                }
                _ => {
                    send(m.pid(), Boom).unwrap();
                    None
                }
            };
            let (given, state) = machine_ended(m.pid());
            let message = format!("boom in handle_event({kind})");
            assert_eq!(panic_message(&given), Some(message.as_str()));
            assert_eq!(state, Phase::Idle);
            let reason = end_of(m.pid());
            assert_eq!(reason, given);
            assert_eq!(down_reason(bystander), given);
            if kind == "call" {
                assert_eq!(called, Some(Err(CallError::Exit(given))));
            }
        }
        assert_eq!(live(), baseline);
    });
}

#[test]
fn gen_statem_panic_in_state_enter_ends_the_machine_in_the_entered_state() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        // The first state's enter call runs after the start returned (so the
        // machine may be gone before a monitor could be set: the link tells).
        let me = self_pid();
        let m = gen_statem::start_link::<Machine>((MachinePlan::EnterPanic, me)).unwrap();
        assert_eq!(report(), Report::Started(m.pid()));
        let (given, state) = machine_ended(m.pid());
        assert_eq!(
            (panic_message(&given), state),
            (Some("boom in state_enter"), Phase::Idle)
        );
        let exit = receive_timeout::<Exit>(PATIENCE).expect("the link's Exit");
        assert_eq!((exit.from, exit.reason), (m.pid(), given));

        // On a state change: terminate sees the new state. (Arming also makes
        // terminate panic, which then becomes the reason.)
        let m = machine(MachinePlan::Init(Plan::Ok));
        assert_eq!(gen_statem::call(m, Cmd::Arm), Ok(0));
        gen_statem::cast(m, Cmd::Continue);
        let (given, state) = machine_ended(m.pid());
        assert_eq!(
            (panic_message(&given), state),
            (Some("boom in state_enter"), Phase::Active)
        );
        assert_eq!(panic_message(&end_of(m.pid())), Some("boom in terminate"));
        assert_eq!(live(), baseline);
    });
}

#[test]
fn gen_statem_panic_in_terminate_becomes_the_exit_reason() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let asked = ExitReason::custom("asked");
        let m = machine(MachinePlan::Init(Plan::Ok));
        assert_eq!(gen_statem::call(m, Cmd::Arm), Ok(0));
        gen_statem::cast(m, Cmd::Stop(asked.clone()));
        assert_eq!(machine_ended(m.pid()), (asked, Phase::Idle));
        assert_eq!(panic_message(&end_of(m.pid())), Some("boom in terminate"));

        let m = machine(MachinePlan::Init(Plan::Ok));
        assert_eq!(gen_statem::call(m, Cmd::Arm), Ok(0));
        let r = gen_statem::stop(m, ExitReason::Normal, PATIENCE);
        assert_eq!(machine_ended(m.pid()), (ExitReason::Normal, Phase::Idle));
        let reason = end_of(m.pid());
        assert_eq!(panic_message(&reason), Some("boom in terminate"));
        assert_eq!(r, Err(CallError::Exit(reason)));
        assert_eq!(live(), baseline);
    });
}

#[test]
fn gen_statem_supervisor_restarts_a_machine_after_each_panic() {
    run(|| {
        trap_exit(true);
        let me = self_pid();
        let baseline = live();
        let spec = ChildSpec::worker("m", move || {
            gen_statem::start_link::<Machine>((MachinePlan::Init(Plan::Ok), me))
        });
        let sup = supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
        let Report::Started(mut pid) = report() else {
            panic!("no start")
        };
        // Three crashes: within the default intensity (3 in 5 s).
        for kind in ["call", "cast", "info"] {
            let m = MachineRef::<Machine>::from_pid(pid);
            match kind {
                "call" => assert!(matches!(
                    gen_statem::call(m, Cmd::Panic),
                    Err(CallError::Exit(ExitReason::Panic(_)))
                )),
                "cast" => gen_statem::cast(m, Cmd::Panic),
                _ => send(pid, Boom).unwrap(),
            }
            let (given, _) = machine_ended(pid);
            assert!(given.is_panic());
            let Report::Started(next) = report() else {
                panic!("not restarted")
            };
            assert_ne!(next, pid);
            assert_eq!(only_child(sup), next);
            pid = next;
        }
        let m = MachineRef::<Machine>::from_pid(pid);
        assert_eq!(gen_statem::call(m, Cmd::Echo(7)), Ok(7));
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(machine_ended(pid), (ExitReason::Shutdown, Phase::Idle));
        assert_eq!(live(), baseline);
    });
}
