//! GenServer: the callback contract of Erlang's `gen_server` and Elixir's
//! `GenServer`, one rule per test.

use std::time::{Duration, Instant};

use beamlet::otp::gen_server::{
    self, CallError, CallReply, Caller, GenServer, Init, NoReply, ServerRef, StartError,
    StartOptions, Timeout,
};
use beamlet::otp::sys;
use beamlet::{
    Down, Exit, ExitReason, Message, Pid, ProcessStatus, Runtime, exit_pid, is_alive,
    message_queue_len, monitor, process_info, receive_timeout, self_pid, send, sleep, spawn,
    trap_exit, whereis,
};

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

/// What the probe server tells its owner.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Terminated(ExitReason),
    Info(String),
    TimedOut,
    Continued(u32),
}

#[derive(Clone, Copy, Debug)]
enum InitMode {
    Ok,
    Stop,
    Panic,
    Ignore,
    Timeout(Duration),
    Continue,
    Hibernate,
    Slow(Duration),
}

#[derive(Debug)]
enum Req {
    Get,
    Add(i64),
    SleepThenGet(Duration),
    Panic,
    Stop(ExitReason),
    StopNoReply(ExitReason),
    ReplyLater,
    ReplyHibernate,
    ReplyTimeout(Duration),
    ReplyContinue,
    NoReplyTimeout(Duration),
    CallSelf,
    Exit(ExitReason),
}

#[derive(Debug)]
enum Cast {
    Add(i64),
    Panic,
    Stop(ExitReason),
    Continue,
    PanicInContinue,
    Timeout(Duration),
    Hibernate,
    Exit(ExitReason),
}

#[derive(Debug)]
enum Cont {
    Report(u32),
    Panic,
}

#[derive(Debug, Clone)]
struct Probe {
    owner: Pid,
    n: i64,
    continues: u32,
    panic_in_terminate: bool,
}

#[derive(Debug)]
enum Reply {
    N(i64),
    Call(Result<i64, CallError>),
}

impl GenServer for Probe {
    type Args = (Pid, InitMode);
    type Call = Req;
    type Reply = Reply;
    type Cast = Cast;
    type Continue = Cont;

    fn init((owner, mode): (Pid, InitMode)) -> Init<Self, Cont> {
        let s = Probe {
            owner,
            n: 0,
            continues: 0,
            panic_in_terminate: false,
        };
        match mode {
            InitMode::Ok => Init::Ok(s),
            InitMode::Stop => Init::Stop(ExitReason::custom("init_failed")),
            InitMode::Panic => panic!("init blew up"),
            InitMode::Ignore => Init::Ignore,
            InitMode::Timeout(d) => Init::Timeout(s, d),
            InitMode::Continue => Init::Continue(s, Cont::Report(1)),
            InitMode::Hibernate => Init::Hibernate(s),
            InitMode::Slow(d) => {
                sleep(d);
                Init::Ok(s)
            }
        }
    }

    fn handle_call(&mut self, req: Req, from: Caller<Reply>) -> CallReply<Reply, Cont> {
        match req {
            Req::Get => CallReply::Reply(Reply::N(self.n)),
            Req::Add(k) => {
                self.n += k;
                CallReply::Reply(Reply::N(self.n))
            }
            Req::SleepThenGet(d) => {
                sleep(d);
                CallReply::Reply(Reply::N(self.n))
            }
            Req::Panic => panic!("handle_call blew up"),
            Req::Stop(r) => CallReply::Stop(r, Reply::N(self.n)),
            Req::StopNoReply(r) => CallReply::StopNoReply(r),
            Req::ReplyLater => {
                let n = self.n;
                spawn(move || gen_server::reply(from, Reply::N(n * 10))).unwrap();
                CallReply::NoReply
            }
            Req::ReplyHibernate => CallReply::ReplyHibernate(Reply::N(self.n)),
            Req::ReplyTimeout(d) => CallReply::ReplyTimeout(Reply::N(self.n), d),
            Req::ReplyContinue => CallReply::ReplyContinue(Reply::N(self.n), Cont::Report(7)),
            Req::NoReplyTimeout(d) => CallReply::NoReplyTimeout(d),
            Req::CallSelf => {
                let me = ServerRef::<Probe>::from_pid(self_pid());
                let r = gen_server::call(me, Req::Get).map(|_| 0);
                CallReply::Reply(Reply::Call(r))
            }
            Req::Exit(r) => beamlet::exit(r),
        }
    }

    fn handle_cast(&mut self, msg: Cast) -> NoReply<Cont> {
        match msg {
            Cast::Add(k) => {
                self.n += k;
                NoReply::Ok
            }
            Cast::Panic => panic!("handle_cast blew up"),
            Cast::Stop(r) => NoReply::Stop(r),
            Cast::Continue => NoReply::Continue(Cont::Report(2)),
            Cast::PanicInContinue => NoReply::Continue(Cont::Panic),
            Cast::Timeout(d) => NoReply::Timeout(d),
            Cast::Hibernate => NoReply::Hibernate,
            Cast::Exit(r) => beamlet::exit(r),
        }
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<Cont> {
        if msg.is::<Timeout>() {
            send(self.owner, Event::TimedOut).unwrap();
            return NoReply::Ok;
        }
        match msg.downcast::<&'static str>() {
            Ok("panic") => panic!("handle_info blew up"),
            Ok("panic_in_terminate") => {
                self.panic_in_terminate = true;
                NoReply::Ok
            }
            Ok(s) => {
                send(self.owner, Event::Info(s.to_owned())).unwrap();
                NoReply::Ok
            }
            Err(m) => match m.downcast::<Exit>() {
                Ok(e) => {
                    send(self.owner, Event::Info(format!("exit {}", e.reason))).unwrap();
                    NoReply::Ok
                }
                Err(_) => NoReply::Ok,
            },
        }
    }

    fn handle_continue(&mut self, c: Cont) -> NoReply<Cont> {
        match c {
            Cont::Report(k) => {
                self.continues += 1;
                send(self.owner, Event::Continued(k)).unwrap();
                NoReply::Ok
            }
            Cont::Panic => panic!("handle_continue blew up"),
        }
    }

    fn terminate(&mut self, reason: &ExitReason) {
        let _ = send(self.owner, Event::Terminated(reason.clone()));
        if self.panic_in_terminate {
            panic!("terminate blew up");
        }
    }
}

/// The probe, trapping exits so that its parent's exit signals run `terminate`.
#[derive(Debug)]
struct TrappingProbe(Probe);

impl GenServer for TrappingProbe {
    type Args = Pid;
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = Cont;
    const TRAP_EXIT: bool = true;

    fn init(owner: Pid) -> Init<Self, Cont> {
        match Probe::init((owner, InitMode::Ok)) {
            Init::Ok(p) => Init::Ok(TrappingProbe(p)),
            _ => unreachable!(),
        }
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<Cont> {
        self.0.handle_info(msg)
    }

    fn terminate(&mut self, reason: &ExitReason) {
        self.0.terminate(reason);
    }
}

fn probe() -> ServerRef<Probe> {
    gen_server::start_link::<Probe>((self_pid(), InitMode::Ok)).unwrap()
}

fn n(r: Result<Reply, CallError>) -> i64 {
    match r {
        Ok(Reply::N(n)) => n,
        other => panic!("expected a number, got {other:?}"),
    }
}

fn event() -> Event {
    receive_timeout::<Event>(WAIT).expect("an event from the probe")
}

fn down_of(pid: Pid) -> ExitReason {
    receive_timeout::<Down>(WAIT)
        .filter(|d| d.pid == pid)
        .expect("a Down")
        .reason
}

#[test]
fn call_and_cast_reach_their_callbacks_in_order() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        gen_server::cast(s, Cast::Add(2));
        gen_server::cast(s, Cast::Add(3));
        assert_eq!(n(gen_server::call(s, Req::Add(10))), 15);
        assert_eq!(n(gen_server::call(s, Req::Get)), 15);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_named_server_is_reachable_by_name_and_a_second_start_is_already_started() {
    let rt = rt();
    rt.block_on(|| {
        let opts = StartOptions::new().name("probe");
        let s =
            gen_server::start_link_with::<Probe>((self_pid(), InitMode::Ok), opts.clone()).unwrap();
        assert_eq!(whereis("probe"), Some(s.pid()));
        gen_server::cast_named::<Probe>("probe", Cast::Add(4));
        assert_eq!(n(gen_server::call_named::<Probe>("probe", Req::Get)), 4);
        let again = gen_server::start_link_with::<Probe>((self_pid(), InitMode::Ok), opts);
        assert_eq!(again.unwrap_err(), StartError::AlreadyStarted(s.pid()));
        assert!(matches!(
            gen_server::call_named::<Probe>("nobody", Req::Get),
            Err(CallError::NoProc)
        ));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn init_failure_is_returned_by_start_link_and_leaves_no_name_and_no_exit_message() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let opts = StartOptions::new().name("failing");
        for mode in [InitMode::Stop, InitMode::Panic, InitMode::Ignore] {
            let r = gen_server::start_link_with::<Probe>((self_pid(), mode), opts.clone());
            match (mode, r.unwrap_err()) {
                (InitMode::Stop, StartError::Stop(reason)) => {
                    assert_eq!(reason, ExitReason::custom("init_failed"))
                }
                (InitMode::Panic, StartError::Stop(reason)) => {
                    assert!(reason.is_panic(), "{reason:?}");
                    assert!(reason.to_string().contains("init blew up"));
                }
                (InitMode::Ignore, StartError::Ignore) => {}
                (mode, other) => panic!("{mode:?} gave {other:?}"),
            }
            assert_eq!(whereis("failing"), None);
        }
        // No exit signal reached the (trapping) caller, and nothing was left behind.
        assert_eq!(receive_timeout::<Exit>(Duration::from_millis(50)), None);
        assert_eq!(message_queue_len(), 0);
        // The name is free for a good start.
        let opts = StartOptions::new().name("failing");
        gen_server::start_link_with::<Probe>((self_pid(), InitMode::Ok), opts).unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_caller_not_trapping_exits_survives_a_failed_init() {
    let rt = rt();
    let r = rt.block_on(|| gen_server::start_link::<Probe>((self_pid(), InitMode::Stop)).is_err());
    assert_eq!(r, Ok(true));
    let _ = rt.shutdown();
}

#[test]
fn a_start_timeout_kills_a_slow_init() {
    let rt = rt();
    rt.block_on(|| {
        let opts = StartOptions::new()
            .name("slow")
            .timeout(Duration::from_millis(20));
        let args = (self_pid(), InitMode::Slow(Duration::from_secs(30)));
        let r = gen_server::start_link_with::<Probe>(args, opts);
        assert_eq!(r.unwrap_err(), StartError::Timeout);
        assert_eq!(whereis("slow"), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn start_returns_only_after_init_finished() {
    let rt = rt();
    rt.block_on(|| {
        let t = Instant::now();
        let args = (self_pid(), InitMode::Slow(Duration::from_millis(30)));
        gen_server::start::<Probe>(args).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(30));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_call_to_a_dead_server_is_noproc() {
    let rt = rt();
    rt.block_on(|| {
        let s = gen_server::start::<Probe>((self_pid(), InitMode::Ok)).unwrap();
        gen_server::stop(s, ExitReason::Normal, WAIT).unwrap();
        assert!(matches!(
            gen_server::call(s, Req::Get),
            Err(CallError::NoProc)
        ));
        gen_server::cast(s, Cast::Add(1)); // never fails
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_call_to_a_server_that_dies_mid_call_returns_its_reason() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let s = probe();
        let target = s.pid();
        spawn(move || {
            sleep(Duration::from_millis(20));
            exit_pid(target, ExitReason::custom("shot"));
        })
        .unwrap();
        let r = gen_server::call(s, Req::SleepThenGet(Duration::from_secs(30)));
        assert_eq!(r.unwrap_err(), CallError::Exit(ExitReason::custom("shot")));
        // The Down of the call's monitor was flushed.
        assert_eq!(receive_timeout::<Down>(Duration::from_millis(20)), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_timed_out_call_leaves_no_late_reply() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        let r = gen_server::call_timeout(
            s,
            Req::SleepThenGet(Duration::from_millis(50)),
            Duration::from_millis(5),
        );
        assert!(matches!(r, Err(CallError::Timeout)));
        // The server answers in order: once this call returns, the late reply has
        // been sent (and dropped at the inactive alias).
        assert_eq!(n(gen_server::call(s, Req::Get)), 0);
        sleep(Duration::from_millis(20));
        assert_eq!(message_queue_len(), 0);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn an_infinite_call_timeout_waits_for_the_reply() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        let r = gen_server::call_timeout(
            s,
            Req::SleepThenGet(Duration::from_millis(20)),
            Duration::MAX,
        );
        assert_eq!(n(r), 0);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_call_stays_correct_with_many_unrelated_messages_queued() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        for i in 0..20_000u32 {
            send(self_pid(), i).unwrap();
        }
        for k in 1..=100 {
            assert_eq!(n(gen_server::call(s, Req::Add(1))), k);
        }
        assert_eq!(message_queue_len(), 20_000);
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// The fastest of three timings of 200 calls.
fn time_calls(s: ServerRef<Probe>) -> Duration {
    let once = || {
        let t = Instant::now();
        for _ in 0..200 {
            n(gen_server::call(s, Req::Get));
        }
        t.elapsed()
    };
    (0..3).map(|_| once()).min().unwrap()
}

#[test]
fn a_call_costs_the_same_with_a_long_mailbox() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        let empty = time_calls(s);
        for i in 0..50_000u32 {
            send(self_pid(), i).unwrap();
        }
        let full = time_calls(s);
        // A scan of the whole mailbox per call would make this hundreds of times
        // slower; the bound leaves room for a noisy machine.
        assert!(
            full < empty * 20,
            "{empty:?} empty, {full:?} with 50,000 queued"
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn calling_yourself_is_an_error_not_a_deadlock() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        match gen_server::call(s, Req::CallSelf) {
            Ok(Reply::Call(r)) => assert_eq!(r, Err(CallError::CalledSelf)),
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn noreply_then_reply_from_another_process() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        gen_server::cast(s, Cast::Add(4));
        assert_eq!(n(gen_server::call(s, Req::ReplyLater)), 40);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn timeouts_deliver_a_timeout_message_to_handle_info() {
    let rt = rt();
    rt.block_on(|| {
        let ms = Duration::from_millis(10);
        let s = gen_server::start_link::<Probe>((self_pid(), InitMode::Timeout(ms))).unwrap();
        assert_eq!(event(), Event::TimedOut);
        assert_eq!(n(gen_server::call(s, Req::ReplyTimeout(ms))), 0);
        assert_eq!(event(), Event::TimedOut);
        assert!(matches!(
            gen_server::call_timeout(s, Req::NoReplyTimeout(ms), ms),
            Err(CallError::Timeout)
        ));
        assert_eq!(event(), Event::TimedOut);
        gen_server::cast(s, Cast::Timeout(ms));
        assert_eq!(event(), Event::TimedOut);
        // Each timeout fires once.
        assert_eq!(receive_timeout::<Event>(Duration::from_millis(50)), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_message_arriving_in_time_cancels_the_timeout() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        gen_server::cast(s, Cast::Timeout(Duration::from_millis(200)));
        send(s.pid(), "hello").unwrap();
        assert_eq!(event(), Event::Info("hello".into()));
        assert_eq!(receive_timeout::<Event>(Duration::from_millis(400)), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

fn wait_status(pid: Pid, status: ProcessStatus) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if process_info(pid).map(|i| i.status) == Some(status) {
            return true;
        }
        sleep(Duration::from_millis(1));
    }
    false
}

#[test]
fn hibernate_results_hibernate_the_server_and_it_keeps_its_state() {
    let rt = rt();
    rt.block_on(|| {
        let s = gen_server::start_link::<Probe>((self_pid(), InitMode::Hibernate)).unwrap();
        assert!(wait_status(s.pid(), ProcessStatus::Hibernated));
        assert_eq!(n(gen_server::call(s, Req::Add(3))), 3);
        assert_eq!(n(gen_server::call(s, Req::ReplyHibernate)), 3);
        assert!(wait_status(s.pid(), ProcessStatus::Hibernated));
        gen_server::cast(s, Cast::Hibernate);
        assert!(wait_status(s.pid(), ProcessStatus::Hibernated));
        assert_eq!(n(gen_server::call(s, Req::Add(1))), 4);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn hibernate_after_hibernates_an_idle_server() {
    let rt = rt();
    rt.block_on(|| {
        let opts = StartOptions::new().hibernate_after(Duration::from_millis(10));
        let s = gen_server::start_link_with::<Probe>((self_pid(), InitMode::Ok), opts).unwrap();
        assert!(wait_status(s.pid(), ProcessStatus::Hibernated));
        assert_eq!(n(gen_server::call(s, Req::Add(5))), 5);
        assert!(wait_status(s.pid(), ProcessStatus::Hibernated));
        assert_eq!(n(gen_server::call(s, Req::Get)), 5);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_hibernated_server_stays_hibernated_when_monitored() {
    let rt = rt();
    rt.block_on(|| {
        let s = gen_server::start_link::<Probe>((self_pid(), InitMode::Hibernate)).unwrap();
        assert!(wait_status(s.pid(), ProcessStatus::Hibernated));
        let m = monitor(s.pid());
        sleep(Duration::from_millis(20));
        assert_eq!(
            process_info(s.pid()).map(|i| i.status),
            Some(ProcessStatus::Hibernated)
        );
        assert_eq!(n(gen_server::call(s, Req::Add(2))), 2);
        gen_server::stop(s, ExitReason::Normal, WAIT).unwrap();
        let d = receive_timeout::<Down>(WAIT).unwrap();
        assert_eq!((d.monitor, d.reason), (m, ExitReason::Normal));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn infinite_and_far_timeouts_never_fire_and_infinity_lets_hibernate_after_apply() {
    let rt = rt();
    rt.block_on(|| {
        let opts = StartOptions::new().hibernate_after(Duration::from_millis(10));
        let s = gen_server::start_link_with::<Probe>((self_pid(), InitMode::Ok), opts).unwrap();
        gen_server::cast(s, Cast::Timeout(Duration::MAX));
        assert!(wait_status(s.pid(), ProcessStatus::Hibernated));
        let forty_days = Duration::from_secs(40 * 24 * 3600);
        gen_server::cast(s, Cast::Timeout(forty_days));
        let r = gen_server::call_timeout(s, Req::Add(1), forty_days);
        assert_eq!(n(r), 1);
        assert_eq!(receive_timeout::<Event>(Duration::from_millis(30)), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn continue_runs_before_the_next_message() {
    let rt = rt();
    rt.block_on(|| {
        let s = gen_server::start_link::<Probe>((self_pid(), InitMode::Continue)).unwrap();
        assert_eq!(event(), Event::Continued(1));
        assert_eq!(n(gen_server::call(s, Req::ReplyContinue)), 0);
        assert_eq!(event(), Event::Continued(7));
        gen_server::cast(s, Cast::Continue);
        send(s.pid(), "after").unwrap();
        assert_eq!(event(), Event::Continued(2));
        assert_eq!(event(), Event::Info("after".into()));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn terminate_runs_on_every_kind_of_stop() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let stop = ExitReason::custom("bye");
        let s = probe();
        let m = monitor(s.pid());
        assert_eq!(n(gen_server::call(s, Req::Stop(stop.clone()))), 0);
        assert_eq!(event(), Event::Terminated(stop.clone()));
        assert_eq!(receive_timeout::<Down>(WAIT).unwrap().monitor, m);

        let s = probe();
        let r = gen_server::call(s, Req::StopNoReply(ExitReason::Normal));
        assert_eq!(r.unwrap_err(), CallError::Exit(ExitReason::Normal));
        assert_eq!(event(), Event::Terminated(ExitReason::Normal));

        let s = probe();
        monitor(s.pid());
        gen_server::cast(s, Cast::Stop(ExitReason::Shutdown));
        assert_eq!(event(), Event::Terminated(ExitReason::Shutdown));
        assert_eq!(down_of(s.pid()), ExitReason::Shutdown);

        let s = probe();
        assert_eq!(gen_server::stop(s, stop.clone(), WAIT), Ok(()));
        assert_eq!(event(), Event::Terminated(stop));
        assert!(!is_alive(s.pid()));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_panic_in_each_callback_ends_the_server_with_panic_after_terminate() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let check = |s: ServerRef<Probe>, what: &str| {
            match event() {
                Event::Terminated(r) => assert!(r.to_string().contains(what), "{r:?}"),
                other => panic!("{other:?}"),
            }
            let reason = down_of(s.pid());
            assert!(reason.is_panic() && reason.to_string().contains(what));
        };
        let s = probe();
        monitor(s.pid());
        let r = gen_server::call(s, Req::Panic).unwrap_err();
        assert!(matches!(r, CallError::Exit(ExitReason::Panic(_))));
        check(s, "handle_call blew up");

        let s = probe();
        monitor(s.pid());
        gen_server::cast(s, Cast::Panic);
        check(s, "handle_cast blew up");

        let s = probe();
        monitor(s.pid());
        send(s.pid(), "panic").unwrap();
        check(s, "handle_info blew up");

        let s = probe();
        monitor(s.pid());
        gen_server::cast(s, Cast::PanicInContinue);
        check(s, "handle_continue blew up");
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn exit_inside_a_callback_runs_terminate_with_its_reason() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let bye = ExitReason::custom("bye");
        let s = probe();
        monitor(s.pid());
        let r = gen_server::call(s, Req::Exit(bye.clone()));
        assert_eq!(r.unwrap_err(), CallError::Exit(bye.clone()));
        assert_eq!(event(), Event::Terminated(bye.clone()));
        assert_eq!(down_of(s.pid()), bye);

        let s = probe();
        monitor(s.pid());
        gen_server::cast(s, Cast::Exit(ExitReason::Shutdown));
        assert_eq!(event(), Event::Terminated(ExitReason::Shutdown));
        assert_eq!(down_of(s.pid()), ExitReason::Shutdown);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_panic_in_terminate_becomes_the_exit_reason() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let s = probe();
        send(s.pid(), "panic_in_terminate").unwrap();
        let r = gen_server::stop(s, ExitReason::Normal, WAIT).unwrap_err();
        match r {
            CallError::Exit(reason) => {
                assert!(
                    reason.to_string().contains("terminate blew up"),
                    "{reason:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(event(), Event::Terminated(ExitReason::Normal));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_trapping_server_terminates_when_its_parent_sends_an_exit() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let parent = spawn(move || {
            let s = gen_server::start_link::<TrappingProbe>(me).unwrap();
            send(me, s.pid()).unwrap();
            receive_timeout::<()>(WAIT);
        })
        .unwrap();
        let server = receive_timeout::<Pid>(WAIT).unwrap();
        let m = monitor(server);
        // An exit from someone else is just a message.
        spawn(move || exit_pid(server, ExitReason::custom("stranger"))).unwrap();
        assert_eq!(event(), Event::Info("exit \"stranger\"".into()));
        exit_pid(parent, ExitReason::Shutdown);
        assert_eq!(event(), Event::Terminated(ExitReason::Shutdown));
        let d = receive_timeout::<Down>(WAIT).unwrap();
        assert_eq!((d.monitor, d.reason), (m, ExitReason::Shutdown));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_server_not_trapping_exits_dies_with_its_parent_without_terminate() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let parent = spawn(move || {
            let s = probe_for(me);
            send(me, s.pid()).unwrap();
            receive_timeout::<()>(WAIT);
        })
        .unwrap();
        let server = receive_timeout::<Pid>(WAIT).unwrap();
        monitor(server);
        exit_pid(parent, ExitReason::Kill);
        assert_eq!(down_of(server), ExitReason::Killed);
        assert_eq!(receive_timeout::<Event>(Duration::from_millis(50)), None);
    })
    .unwrap();
    let _ = rt.shutdown();
}

fn probe_for(owner: Pid) -> ServerRef<Probe> {
    gen_server::start_link::<Probe>((owner, InitMode::Ok)).unwrap()
}

#[test]
fn sys_get_and_replace_state() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        gen_server::cast(s, Cast::Add(5));
        assert_eq!(sys::get_state(s).unwrap().n, 5);
        sys::replace_state(s, |p: &mut Probe| p.n = 100).unwrap();
        assert_eq!(n(gen_server::call(s, Req::Get)), 100);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn sys_suspend_holds_messages_until_resume() {
    let rt = rt();
    rt.block_on(|| {
        let s = probe();
        sys::suspend(s).unwrap();
        gen_server::cast(s, Cast::Add(1));
        send(s.pid(), "held").unwrap();
        let r = gen_server::call_timeout(s, Req::Get, Duration::from_millis(30));
        assert!(matches!(r, Err(CallError::Timeout)));
        assert_eq!(receive_timeout::<Event>(Duration::from_millis(30)), None);
        let stats = sys::statistics(s).unwrap();
        assert!(stats.suspended);
        assert_eq!(stats.message_queue_len, 3);
        assert_eq!(stats.messages_handled, 0);
        assert_eq!(sys::get_state(s).unwrap().n, 0);
        sys::resume(s).unwrap();
        assert_eq!(event(), Event::Info("held".into()));
        assert_eq!(n(gen_server::call(s, Req::Get)), 1);
        let stats = sys::statistics(s).unwrap();
        assert!(!stats.suspended);
        // The cast, the info, the timed-out call (answered late) and the last call.
        assert_eq!(stats.messages_handled, 4);
        assert_eq!(stats.message_queue_len, 0);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_suspended_server_can_still_be_stopped() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let s = probe();
        sys::suspend(s).unwrap();
        assert_eq!(gen_server::stop(s, ExitReason::Shutdown, WAIT), Ok(()));
        assert_eq!(event(), Event::Terminated(ExitReason::Shutdown));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_panic_in_replace_state_ends_the_server() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let s = probe();
        let r = sys::replace_state(s, |_: &mut Probe| panic!("bad state fun"));
        match r.unwrap_err() {
            CallError::Exit(reason) => assert!(reason.is_panic()),
            other => panic!("{other:?}"),
        }
        assert!(matches!(event(), Event::Terminated(ExitReason::Panic(_))));
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// A server with only `init`: the defaults of `use GenServer`.
struct Bare;

impl GenServer for Bare {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Bare)
    }
}

#[test]
fn default_callbacks_drop_infos_and_crash_on_calls_and_casts() {
    let rt = rt();
    rt.block_on(|| {
        trap_exit(true);
        let s = gen_server::start_link::<Bare>(()).unwrap();
        send(s.pid(), 1u8).unwrap();
        assert_eq!(sys::statistics(s).unwrap().messages_handled, 1);
        match gen_server::call(s, ()).unwrap_err() {
            CallError::Exit(r) => assert!(r.to_string().contains("no handle_call")),
            other => panic!("{other:?}"),
        }
        let s = gen_server::start_link::<Bare>(()).unwrap();
        monitor(s.pid());
        gen_server::cast(s, ());
        assert!(down_of(s.pid()).to_string().contains("no handle_cast"));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_server_ends_no_other_process_when_it_stops() {
    let rt = rt();
    let before = rt.process_count();
    rt.block_on(|| {
        let s = probe();
        gen_server::stop(s, ExitReason::Normal, WAIT).unwrap();
    })
    .unwrap();
    let deadline = Instant::now() + WAIT;
    while rt.process_count() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(rt.process_count(), before);
    let _ = rt.shutdown();
}
