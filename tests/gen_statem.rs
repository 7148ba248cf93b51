//! GenStateMachine: the rules of Erlang's `gen_statem`, one per test. A scripted
//! probe machine reports every event and state enter call to the test process,
//! which checks the exact sequence. Ordering that could depend on timing is made
//! deterministic with inserted events (handled before any message) or by
//! suspending the machine while its mailbox is filled; timers are only compared
//! with a later "witness" timer armed after them.

mod common;

use std::time::{Duration, Instant};

use beamlet::otp::gen_statem::{
    self, Action, CallError, Caller, Enter, Event, GenStateMachine, Init, MachineRef, StartError,
    StartOptions, Transition,
};
use beamlet::otp::sys;
use beamlet::{
    Down, ExitReason, MailboxLimit, OverflowPolicy, Pid, ProcessStatus, SendError, is_alive,
    message_queue_len_of, monitor, process_info, receive_timeout, self_pid, send, sleep, spawn,
};
use common::{PATIENCE, run};

/// The probe's states.
#[derive(Debug, Clone, Copy, PartialEq)]
enum S {
    A,
    B,
    C,
}

/// What a script step does; the steps of a command run in order.
#[derive(Debug, Clone)]
enum Step {
    GoTo(S),
    Repeat,
    Insert(Cmd),
    StateTimeout(u64, Cmd),
    EventTimeout(u64, Cmd),
    Generic(&'static str, u64, Cmd),
    CancelGeneric(&'static str),
    /// The next state enter calls ask to be repeated this many times.
    RepeatEnter(u32),
    Hibernate,
    /// Keep the call's `Caller` and do not reply now.
    DeferReply,
    /// Reply this to the kept `Caller`.
    ReleaseReply(u32),
    NoReply,
    Stop(ExitReason),
    StopAndReply(ExitReason),
    Panic,
}

/// A command: the content of calls, casts, internal events and timeouts.
#[derive(Debug, Clone)]
enum Cmd {
    /// Report `n`, then run the steps (a call is answered `n` unless told otherwise).
    Do(u32, Vec<Step>),
    /// Postponed while in this state; elsewhere reported (and answered) as `n`.
    PostponeIn(S, u32),
}

fn step(n: u32) -> Cmd {
    Cmd::Do(n, Vec::new())
}

/// How an event arrived.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Call,
    Cast,
    Info,
    Internal,
    Timeout,
    StateTimeout,
    Generic(&'static str),
}

/// What the probe tells its owner.
#[derive(Debug, Clone, PartialEq)]
enum Report {
    Enter(S, S),
    Got(S, Kind, u32),
    Postponed(S, u32),
    Terminated(ExitReason, S),
}

struct Probe {
    owner: Pid,
    deferred: Option<Caller<u32>>,
    repeat_enter: u32,
}

impl Probe {
    fn report(&self, r: Report) {
        send(self.owner, r).expect("the owner is alive");
    }

    /// The transition a script asks for: the first state step decides the kind,
    /// the others become actions in order.
    fn run(&mut self, n: u32, steps: Vec<Step>, from: Option<Caller<u32>>) -> Transition<Self> {
        let mut answer = from.map(|f| (f, n));
        let mut t = Transition::keep_state();
        for s in &steps {
            match s {
                Step::GoTo(state) => t = Transition::next_state(*state),
                Step::Repeat => t = Transition::repeat_state(),
                Step::Stop(r) => return Transition::stop(r.clone()),
                Step::StopAndReply(r) => {
                    let (f, v) = answer.expect("stop_and_reply in a call");
                    return Transition::stop(r.clone()).reply(f, v);
                }
                Step::Panic => panic!("the script panics"),
                _ => {}
            }
        }
        for s in steps {
            t = match s {
                Step::Insert(c) => t.next_event(Event::Internal(c)),
                Step::StateTimeout(ms, c) => t.action(Action::state_timeout(ms_(ms), c)),
                Step::EventTimeout(ms, c) => t.action(Action::event_timeout(ms_(ms), c)),
                Step::Generic(name, ms, c) => t.action(Action::generic_timeout(name, ms_(ms), c)),
                Step::CancelGeneric(name) => t.action(Action::cancel_generic_timeout(name)),
                Step::RepeatEnter(k) => {
                    self.repeat_enter = k;
                    t
                }
                Step::Hibernate => t.action(Action::Hibernate),
                Step::DeferReply => {
                    self.deferred = answer.take().map(|(f, _)| f);
                    t
                }
                Step::ReleaseReply(v) => {
                    gen_statem::reply(self.deferred.take().expect("a kept Caller"), v);
                    t
                }
                Step::NoReply => {
                    answer = None;
                    t
                }
                _ => t,
            };
        }
        match answer {
            Some((f, v)) => t.reply(f, v),
            None => t,
        }
    }
}

fn ms_(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

impl GenStateMachine for Probe {
    type Args = (Pid, Vec<Cmd>);
    type State = S;
    type Call = Cmd;
    type Reply = u32;
    type Cast = Cmd;
    type Internal = Cmd;
    type TimeoutName = &'static str;
    const STATE_ENTER: bool = true;

    fn init((owner, first): (Pid, Vec<Cmd>)) -> Init<Self> {
        let probe = Probe {
            owner,
            deferred: None,
            repeat_enter: 0,
        };
        first.into_iter().fold(Init::ok(S::A, probe), |i, c| {
            i.next_event(Event::Internal(c))
        })
    }

    fn handle_event(&mut self, state: &S, event: Event<Self>) -> Transition<Self> {
        let (kind, cmd, from) = match event {
            Event::Call(c, f) => (Kind::Call, c, Some(f)),
            Event::Cast(c) => (Kind::Cast, c, None),
            Event::Internal(c) => (Kind::Internal, c, None),
            Event::Timeout(c) => (Kind::Timeout, c, None),
            Event::StateTimeout(c) => (Kind::StateTimeout, c, None),
            Event::GenericTimeout(name, c) => (Kind::Generic(name), c, None),
            Event::Info(m) => {
                let n = m.downcast::<u32>().expect("tests send u32 infos");
                self.report(Report::Got(*state, Kind::Info, n));
                return Transition::keep_state();
            }
        };
        match cmd {
            Cmd::PostponeIn(s, n) if s == *state => {
                self.report(Report::Postponed(s, n));
                let event = match (kind, from) {
                    (Kind::Call, Some(f)) => Event::Call(cmd, f),
                    (Kind::Internal, _) => Event::Internal(cmd),
                    _ => Event::Cast(cmd),
                };
                Transition::keep_state().postpone(event)
            }
            Cmd::PostponeIn(_, n) => {
                self.report(Report::Got(*state, kind, n));
                self.run(n, Vec::new(), from)
            }
            Cmd::Do(n, steps) => {
                self.report(Report::Got(*state, kind, n));
                self.run(n, steps, from)
            }
        }
    }

    fn state_enter(&mut self, old: &S, state: &S) -> Enter<Self> {
        self.report(Report::Enter(*old, *state));
        if self.repeat_enter > 0 {
            self.repeat_enter -= 1;
            return Enter::repeat_state();
        }
        Enter::keep_state()
    }

    fn terminate(&mut self, reason: &ExitReason, state: &S) {
        self.report(Report::Terminated(reason.clone(), *state));
    }
}

fn probe_with(first: Vec<Cmd>) -> MachineRef<Probe> {
    let m = gen_statem::start_link::<Probe>((self_pid(), first)).expect("the probe starts");
    assert_eq!(next(), Report::Enter(S::A, S::A));
    m
}

fn probe() -> MachineRef<Probe> {
    probe_with(Vec::new())
}

/// The next report (waiting only as a hang guard).
fn next() -> Report {
    receive_timeout::<Report>(PATIENCE).expect("a report in time")
}

/// Reports up to and including the first one matching `last`.
fn until(last: impl Fn(&Report) -> bool) -> Vec<Report> {
    let mut seen = Vec::new();
    loop {
        let r = next();
        let done = last(&r);
        seen.push(r);
        if done {
            return seen;
        }
    }
}

fn got(s: S, kind: Kind, n: u32) -> Report {
    Report::Got(s, kind, n)
}

/// Sends the casts while the machine is suspended, so that all are queued when it
/// resumes.
fn cast_all_at_once(m: MachineRef<Probe>, casts: Vec<Cmd>) {
    sys::suspend(m).unwrap();
    for c in casts {
        gen_statem::cast(m, c);
    }
    sys::resume(m).unwrap();
}

#[test]
fn init_events_come_first_and_the_first_state_is_entered() {
    run(|| {
        let m = probe_with(vec![step(1), step(2)]);
        gen_statem::cast(m, step(3));
        let seen = until(|r| *r == got(S::A, Kind::Cast, 3));
        let want = [got(S::A, Kind::Internal, 1), got(S::A, Kind::Internal, 2)];
        assert_eq!(seen[..2], want);
        assert_eq!(seen.len(), 3);
    });
}

#[test]
fn a_state_change_cancels_the_state_timeout() {
    run(|| {
        let m = probe();
        let to_b = Cmd::Do(2, vec![Step::GoTo(S::B), Step::Generic("w", 60, step(91))]);
        let arm = vec![Step::StateTimeout(10, step(90)), Step::Insert(to_b)];
        gen_statem::cast(m, Cmd::Do(1, arm));
        let seen = until(|r| matches!(r, Report::Got(_, Kind::Generic("w"), _)));
        let want = vec![
            got(S::A, Kind::Cast, 1),
            got(S::A, Kind::Internal, 2),
            Report::Enter(S::A, S::B),
            got(S::B, Kind::Generic("w"), 91),
        ];
        assert_eq!(seen, want);
    });
}

#[test]
fn the_state_timeout_survives_keep_same_state_and_repeat() {
    run(|| {
        let m = probe();
        let steps = vec![
            Step::StateTimeout(30, step(90)),
            Step::Insert(Cmd::Do(2, vec![Step::GoTo(S::A)])),
            Step::Insert(Cmd::Do(3, vec![Step::Repeat])),
            Step::Insert(step(4)),
        ];
        gen_statem::cast(m, Cmd::Do(1, steps));
        let seen = until(|r| matches!(r, Report::Got(_, Kind::StateTimeout, _)));
        let want = vec![
            got(S::A, Kind::Cast, 1),
            got(S::A, Kind::Internal, 2),
            got(S::A, Kind::Internal, 3),
            Report::Enter(S::A, S::A),
            got(S::A, Kind::Internal, 4),
            got(S::A, Kind::StateTimeout, 90),
        ];
        assert_eq!(seen, want);
    });
}

#[test]
fn any_event_cancels_the_event_timeout() {
    run(|| {
        let m = probe();
        // An inserted event cancels it.
        let arm = vec![
            Step::EventTimeout(10, step(90)),
            Step::Generic("w", 60, step(91)),
            Step::Insert(step(2)),
        ];
        gen_statem::cast(m, Cmd::Do(1, arm));
        let seen = until(|r| matches!(r, Report::Got(_, Kind::Generic("w"), _)));
        let want = vec![
            got(S::A, Kind::Cast, 1),
            got(S::A, Kind::Internal, 2),
            got(S::A, Kind::Generic("w"), 91),
        ];
        assert_eq!(seen, want);
        // So does a message already queued behind the event that armed it.
        let arm = vec![
            Step::EventTimeout(10, step(92)),
            Step::Generic("w", 60, step(93)),
        ];
        sys::suspend(m).unwrap();
        gen_statem::cast(m, Cmd::Do(3, arm));
        send(m.pid(), 4u32).unwrap();
        sys::resume(m).unwrap();
        let seen = until(|r| matches!(r, Report::Got(_, Kind::Generic("w"), _)));
        let want = vec![
            got(S::A, Kind::Cast, 3),
            got(S::A, Kind::Info, 4),
            got(S::A, Kind::Generic("w"), 93),
        ];
        assert_eq!(seen, want);
        // With no event, it fires.
        gen_statem::cast(m, Cmd::Do(5, vec![Step::EventTimeout(10, step(94))]));
        assert_eq!(next(), got(S::A, Kind::Cast, 5));
        assert_eq!(next(), got(S::A, Kind::Timeout, 94));
    });
}

#[test]
fn zero_timeouts_come_after_queued_events_and_before_messages() {
    run(|| {
        let m = probe();
        let first = Cmd::Do(
            1,
            vec![
                Step::StateTimeout(0, step(90)),
                Step::Generic("g", 0, step(91)),
                Step::Insert(step(2)),
            ],
        );
        // A zero event timeout is cancelled by the queued event before it.
        let second = Cmd::Do(
            3,
            vec![Step::EventTimeout(0, step(92)), Step::Insert(step(4))],
        );
        // Alone, it comes before the message queued behind.
        let third = Cmd::Do(5, vec![Step::EventTimeout(0, step(93))]);
        cast_all_at_once(m, vec![first, step(6), second, third, step(7)]);
        let seen = until(|r| *r == got(S::A, Kind::Cast, 7));
        let want = vec![
            got(S::A, Kind::Cast, 1),
            got(S::A, Kind::Internal, 2),
            got(S::A, Kind::StateTimeout, 90),
            got(S::A, Kind::Generic("g"), 91),
            got(S::A, Kind::Cast, 6),
            got(S::A, Kind::Cast, 3),
            got(S::A, Kind::Internal, 4),
            got(S::A, Kind::Cast, 5),
            got(S::A, Kind::Timeout, 93),
            got(S::A, Kind::Cast, 7),
        ];
        assert_eq!(seen, want);
    });
}

#[test]
fn postponed_events_are_retried_in_order_after_a_state_change_and_not_before() {
    run(|| {
        let m = probe();
        let casts = vec![
            Cmd::PostponeIn(S::A, 1),
            Cmd::PostponeIn(S::A, 2),
            step(3),
            Cmd::Do(4, vec![Step::Repeat]),
            Cmd::Do(5, vec![Step::GoTo(S::A)]),
            Cmd::PostponeIn(S::A, 6),
            Cmd::Do(7, vec![Step::GoTo(S::B)]),
            step(8),
        ];
        cast_all_at_once(m, casts);
        let seen = until(|r| *r == got(S::B, Kind::Cast, 8));
        let want = vec![
            Report::Postponed(S::A, 1),
            Report::Postponed(S::A, 2),
            got(S::A, Kind::Cast, 3),
            got(S::A, Kind::Cast, 4),
            Report::Enter(S::A, S::A),
            got(S::A, Kind::Cast, 5),
            Report::Postponed(S::A, 6),
            got(S::A, Kind::Cast, 7),
            Report::Enter(S::A, S::B),
            got(S::B, Kind::Cast, 1),
            got(S::B, Kind::Cast, 2),
            got(S::B, Kind::Cast, 6),
            got(S::B, Kind::Cast, 8),
        ];
        assert_eq!(seen, want);
    });
}

#[test]
fn inserted_events_come_first_in_order_then_postponed_ones() {
    run(|| {
        let m = probe();
        let nested = Cmd::Do(2, vec![Step::Insert(step(21)), Step::Insert(step(22))]);
        let first = Cmd::Do(1, vec![Step::Insert(nested), Step::Insert(step(3))]);
        let change = Cmd::Do(6, vec![Step::GoTo(S::B), Step::Insert(step(7))]);
        let casts = vec![first, step(4), Cmd::PostponeIn(S::A, 5), change, step(8)];
        cast_all_at_once(m, casts);
        let seen = until(|r| *r == got(S::B, Kind::Cast, 8));
        let want = vec![
            got(S::A, Kind::Cast, 1),
            got(S::A, Kind::Internal, 2),
            got(S::A, Kind::Internal, 21),
            got(S::A, Kind::Internal, 22),
            got(S::A, Kind::Internal, 3),
            got(S::A, Kind::Cast, 4),
            Report::Postponed(S::A, 5),
            got(S::A, Kind::Cast, 6),
            Report::Enter(S::A, S::B),
            got(S::B, Kind::Internal, 7),
            got(S::B, Kind::Cast, 5),
            got(S::B, Kind::Cast, 8),
        ];
        assert_eq!(seen, want);
    });
}

#[test]
fn enter_calls_run_on_a_change_and_on_repeat_but_not_on_keep() {
    run(|| {
        let m = probe();
        let casts = vec![
            step(1),
            Cmd::Do(2, vec![Step::GoTo(S::A)]),
            Cmd::Do(3, vec![Step::Repeat]),
            Cmd::Do(4, vec![Step::GoTo(S::B)]),
            Cmd::Do(5, vec![Step::RepeatEnter(2), Step::GoTo(S::C)]),
            step(6),
        ];
        cast_all_at_once(m, casts);
        let seen = until(|r| *r == got(S::C, Kind::Cast, 6));
        let want = vec![
            got(S::A, Kind::Cast, 1),
            got(S::A, Kind::Cast, 2),
            got(S::A, Kind::Cast, 3),
            Report::Enter(S::A, S::A),
            got(S::A, Kind::Cast, 4),
            Report::Enter(S::A, S::B),
            got(S::B, Kind::Cast, 5),
            // Repeated by the enter call itself, with the same old state.
            Report::Enter(S::B, S::C),
            Report::Enter(S::B, S::C),
            Report::Enter(S::B, S::C),
            got(S::C, Kind::Cast, 6),
        ];
        assert_eq!(seen, want);
    });
}

#[test]
fn generic_timeouts_restart_and_cancel_by_name_and_survive_state_changes() {
    run(|| {
        let m = probe();
        let restart = Cmd::Do(2, vec![Step::Generic("g", 20, step(91)), Step::GoTo(S::B)]);
        let cancel = Cmd::Do(3, vec![Step::CancelGeneric("h")]);
        let arm = vec![
            Step::Generic("g", 10, step(90)),
            Step::Generic("h", 10, step(92)),
            Step::Generic("w", 100, step(93)),
            Step::Insert(restart),
            Step::Insert(cancel),
        ];
        gen_statem::cast(m, Cmd::Do(1, arm));
        let seen = until(|r| matches!(r, Report::Got(_, Kind::Generic("w"), _)));
        let fired: Vec<_> = seen
            .iter()
            .filter(|r| matches!(r, Report::Got(_, Kind::Generic(_), _)))
            .cloned()
            .collect();
        let want = vec![
            got(S::B, Kind::Generic("g"), 91),
            got(S::B, Kind::Generic("w"), 93),
        ];
        assert_eq!(fired, want);
    });
}

#[test]
fn a_call_is_answered_later_through_its_from_even_when_postponed() {
    run(|| {
        let m = probe();
        let me = self_pid();
        let client = move |cmd: Cmd| {
            spawn(move || send(me, gen_statem::call(m, cmd)).unwrap()).unwrap();
        };
        client(Cmd::Do(1, vec![Step::DeferReply]));
        assert_eq!(next(), got(S::A, Kind::Call, 1));
        gen_statem::cast(m, Cmd::Do(2, vec![Step::ReleaseReply(42)]));
        assert_eq!(receive_timeout(PATIENCE), Some(Ok::<u32, CallError>(42)));
        assert_eq!(next(), got(S::A, Kind::Cast, 2));

        client(Cmd::PostponeIn(S::A, 7));
        assert_eq!(next(), Report::Postponed(S::A, 7));
        let to_b = Cmd::Do(4, vec![Step::GoTo(S::B)]);
        assert_eq!(gen_statem::call(m, to_b), Ok(4));
        assert_eq!(receive_timeout(PATIENCE), Some(Ok::<u32, CallError>(7)));
        assert_eq!(next(), got(S::A, Kind::Call, 4));
        assert_eq!(next(), Report::Enter(S::A, S::B));
        assert_eq!(next(), got(S::B, Kind::Call, 7));
    });
}

#[test]
fn a_panic_ends_the_machine_with_panic_after_terminate() {
    run(|| {
        beamlet::trap_exit(true);
        let m = probe();
        let mref = monitor(m.pid());
        let r = gen_statem::call(m, Cmd::Do(1, vec![Step::GoTo(S::B), Step::Panic]));
        assert!(
            matches!(r, Err(CallError::Exit(ref e)) if e.is_panic()),
            "{r:?}"
        );
        assert_eq!(next(), got(S::A, Kind::Call, 1));
        match next() {
            Report::Terminated(reason, S::A) => {
                assert!(reason.to_string().contains("the script panics"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let down = receive_timeout::<Down>(PATIENCE).expect("a Down");
        assert_eq!(down.monitor, mref);
        assert!(down.reason.is_panic());
    });
}

#[test]
fn a_call_to_a_dead_machine_is_noproc_and_an_unanswered_one_times_out() {
    run(|| {
        let m = probe();
        let r = gen_statem::call_timeout(m, Cmd::Do(1, vec![Step::NoReply]), ms_(20));
        assert_eq!(r, Err(CallError::Timeout));
        assert_eq!(gen_statem::call(m, step(2)), Ok(2));
        assert_eq!(gen_statem::stop(m, ExitReason::Normal, PATIENCE), Ok(()));
        assert_eq!(gen_statem::call(m, step(3)), Err(CallError::NoProc));
    });
}

#[test]
fn stop_returns_after_terminate_and_stop_and_reply_replies_first() {
    run(|| {
        beamlet::trap_exit(true);
        let m = probe();
        gen_statem::cast(m, Cmd::Do(1, vec![Step::GoTo(S::B)]));
        let bye = ExitReason::custom("bye");
        assert_eq!(gen_statem::stop(m, bye.clone(), PATIENCE), Ok(()));
        assert!(!is_alive(m.pid()));
        let seen: Vec<Report> = std::iter::from_fn(|| receive_timeout(Duration::ZERO)).collect();
        assert_eq!(seen.last(), Some(&Report::Terminated(bye, S::B)));

        let m = probe();
        let mref = monitor(m.pid());
        let r = gen_statem::call(
            m,
            Cmd::Do(2, vec![Step::StopAndReply(ExitReason::Shutdown)]),
        );
        assert_eq!(r, Ok(2));
        assert_eq!(next(), got(S::A, Kind::Call, 2));
        assert_eq!(next(), Report::Terminated(ExitReason::Shutdown, S::A));
        let down = receive_timeout::<Down>(PATIENCE).expect("a Down");
        assert_eq!((down.monitor, down.reason), (mref, ExitReason::Shutdown));

        let m = probe();
        gen_statem::cast(m, Cmd::Do(3, vec![Step::Stop(ExitReason::Normal)]));
        assert_eq!(next(), got(S::A, Kind::Cast, 3));
        assert_eq!(next(), Report::Terminated(ExitReason::Normal, S::A));
    });
}

#[test]
fn a_named_machine_is_found_by_name_and_the_name_is_unique() {
    run(|| {
        let opts = || StartOptions::new().name("statem_probe");
        let m = gen_statem::start_link_with::<Probe>((self_pid(), vec![]), opts()).unwrap();
        assert_eq!(next(), Report::Enter(S::A, S::A));
        assert_eq!(MachineRef::<Probe>::whereis("statem_probe"), Some(m));
        let again = gen_statem::start_with::<Probe>((self_pid(), vec![]), opts());
        assert_eq!(again, Err(StartError::AlreadyStarted(m.pid())));
        let found = MachineRef::<Probe>::whereis("statem_probe").unwrap();
        assert_eq!(gen_statem::call(found, step(5)), Ok(5));
    });
}

#[test]
fn hibernate_gives_back_the_stack_and_keeps_state_and_timers() {
    run(|| {
        let m = probe();
        let steps = vec![Step::GoTo(S::C), Step::Hibernate];
        assert_eq!(gen_statem::call(m, Cmd::Do(1, steps)), Ok(1));
        wait_hibernated(m.pid());
        // The timer's event wakes it; that transition hibernates again.
        let again = Cmd::Do(90, vec![Step::Hibernate]);
        let steps = vec![Step::Generic("g", 10, again), Step::Hibernate];
        gen_statem::cast(m, Cmd::Do(2, steps));
        let seen = until(|r| matches!(r, Report::Got(_, Kind::Generic("g"), _)));
        assert_eq!(seen.last(), Some(&got(S::C, Kind::Generic("g"), 90)));
        wait_hibernated(m.pid());
        assert_eq!(gen_statem::call(m, step(3)), Ok(3));
    });
}

fn wait_hibernated(pid: Pid) {
    let deadline = Instant::now() + PATIENCE;
    while process_info(pid).map(|i| i.status) != Some(ProcessStatus::Hibernated) {
        assert!(
            Instant::now() < deadline,
            "never hibernated: {:?}",
            process_info(pid).map(|i| i.status)
        );
        sleep(ms_(1));
    }
}

/// A machine trapping exits, telling its owner when it terminates.
struct Trapping(Pid);

impl GenStateMachine for Trapping {
    type Args = Pid;
    type State = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Internal = ();
    type TimeoutName = ();
    const TRAP_EXIT: bool = true;

    fn init(owner: Pid) -> Init<Self> {
        Init::ok((), Trapping(owner))
    }

    fn handle_event(&mut self, _: &(), _: Event<Self>) -> Transition<Self> {
        Transition::keep_state()
    }

    fn terminate(&mut self, reason: &ExitReason, _: &()) {
        send(self.0, Report::Terminated(reason.clone(), S::A)).unwrap();
    }
}

#[test]
fn a_trapping_machine_terminates_when_its_parent_exits() {
    run(|| {
        let me = self_pid();
        let parent = spawn(move || {
            let m = gen_statem::start_link::<Trapping>(me).unwrap();
            send(me, m).unwrap();
            // Exit only once the test monitors the machine.
            beamlet::receive::<()>();
            beamlet::exit(ExitReason::custom("parent_gone"));
        })
        .unwrap();
        let m = receive_timeout::<MachineRef<Trapping>>(PATIENCE).expect("the machine");
        let mref = monitor(m.pid());
        send(parent, ()).unwrap();
        let gone = ExitReason::custom("parent_gone");
        assert_eq!(next(), Report::Terminated(gone.clone(), S::A));
        let down = receive_timeout::<Down>(PATIENCE).expect("a Down");
        assert_eq!((down.monitor, down.reason), (mref, gone));
    });
}

/// A machine whose `init` does as told.
struct Picky;

#[derive(Debug, Clone, Copy)]
enum InitMode {
    Ok,
    Ignore,
    Stop,
    Panic,
}

impl GenStateMachine for Picky {
    type Args = InitMode;
    type State = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Internal = ();
    type TimeoutName = ();

    fn init(mode: InitMode) -> Init<Self> {
        match mode {
            InitMode::Ok => Init::ok((), Picky),
            InitMode::Ignore => Init::Ignore,
            InitMode::Stop => Init::Stop(ExitReason::custom("no")),
            InitMode::Panic => panic!("init blew up"),
        }
    }

    fn handle_event(&mut self, _: &(), event: Event<Self>) -> Transition<Self> {
        match event {
            Event::Call((), from) => Transition::keep_state().reply(from, ()),
            _ => Transition::keep_state(),
        }
    }
}

#[test]
fn init_can_ignore_stop_or_panic_and_the_start_says_so() {
    run(|| {
        assert!(gen_statem::start_link::<Picky>(InitMode::Ok).is_ok());
        let ignored = gen_statem::start_link::<Picky>(InitMode::Ignore);
        assert_eq!(ignored, Err(StartError::Ignore));
        let stopped = gen_statem::start_link::<Picky>(InitMode::Stop);
        assert_eq!(stopped, Err(StartError::Stop(ExitReason::custom("no"))));
        match gen_statem::start_link::<Picky>(InitMode::Panic) {
            Err(StartError::Stop(r)) => assert!(r.to_string().contains("init blew up"), "{r}"),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn hibernate_after_hibernates_an_idle_machine() {
    run(|| {
        let opts = StartOptions::new().hibernate_after(ms_(5));
        let m = gen_statem::start_link_with::<Picky>(InitMode::Ok, opts).unwrap();
        wait_hibernated(m.pid());
        assert_eq!(gen_statem::call(m, ()), Ok(()));
        wait_hibernated(m.pid());
        let stats = sys::statistics(m).unwrap();
        assert_eq!(stats.messages_handled, 1);
    });
}

/// The "go" a [`Held`] machine waits for inside its first cast.
struct Go;

/// A machine whose first cast waits for a [`Go`] inside the callback, so that its
/// mailbox fills meanwhile; calls are answered `()`.
struct Held {
    held: bool,
}

impl GenStateMachine for Held {
    type Args = ();
    type State = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Internal = ();
    type TimeoutName = ();

    fn init(_: ()) -> Init<Self> {
        Init::ok((), Held { held: false })
    }

    fn handle_event(&mut self, _: &(), event: Event<Self>) -> Transition<Self> {
        match event {
            Event::Cast(()) if !self.held => {
                self.held = true;
                let Go = receive_timeout::<Go>(PATIENCE).expect("a go in time");
                Transition::keep_state()
            }
            Event::Call((), from) => Transition::keep_state().reply(from, ()),
            _ => Transition::keep_state(),
        }
    }
}

#[test]
fn a_machine_started_with_a_mailbox_limit_is_limited() {
    run(|| {
        let limit = MailboxLimit::new(1, OverflowPolicy::DropNewest);
        let opts = StartOptions::new().mailbox_limit(limit);
        let m = gen_statem::start_with::<Held>((), opts).unwrap();
        assert_eq!(process_info(m.pid()).unwrap().mailbox_limit, Some(limit));
        // The first cast is taken and held (until a `Go`); the second fills the mailbox.
        gen_statem::cast(m, ());
        while message_queue_len_of(m.pid()) != Some(0) {
            beamlet::yield_now();
        }
        gen_statem::cast(m, ());
        assert_eq!(message_queue_len_of(m.pid()), Some(1));
        assert_eq!(gen_statem::call(m, ()), Err(CallError::MailboxFull));
        assert!(matches!(send(m.pid(), Go), Err(SendError::MailboxFull(Go))));
    });
}
