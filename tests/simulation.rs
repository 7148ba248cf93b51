//! Deterministic simulation mode (`Runtime::builder().simulation(seed)`): a seed
//! replays exactly, different seeds explore different schedules, timers run on a
//! virtual clock, and OTP behaviours keep their guarantees under every explored
//! schedule.
//!
//! Each scenario runs once per seed: `BEAMLET_SEEDS` seeds (default 200), or only
//! seed `BEAMLET_SEED` to replay a failure. A failure names the seed and the command
//! that replays it. Long runs: `BEAMLET_SEEDS=10000 cargo test --release --test
//! simulation`.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamlet::otp::gen_server::ServerRef;
use beamlet::otp::gen_server::{self, CallError, CallReply, Caller, GenServer, Init, NoReply};
use beamlet::otp::supervisor::{self, ChildSpec, Strategy, Supervisor, SupervisorFlags};
use beamlet::{
    Down, Exit, ExitReason, Pid, Runtime, dirty_cpu, exit_pid, is_alive, message_queue_len,
    monitor, now, read_timer, receive, receive_timeout, self_pid, send, send_after, sleep, spawn,
    spawn_link, trap_exit, try_receive, yield_now,
};

/// Bound for an event that must come: in virtual time, so a missing event fails the
/// seed at once instead of hanging.
const WAIT: Duration = Duration::from_secs(30);

/// Wall-clock hang guard for all the seeds of one scenario.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// The seeds to run: only `BEAMLET_SEED` if set, else `0..BEAMLET_SEEDS` (200).
fn seeds() -> Vec<u64> {
    let var = |name: &str| {
        std::env::var(name).ok().map(|v| {
            v.parse::<u64>()
                .unwrap_or_else(|_| panic!("{name} must be an integer, got {v:?}"))
        })
    };
    match var("BEAMLET_SEED") {
        Some(seed) => vec![seed],
        None => (0..var("BEAMLET_SEEDS").unwrap_or(200)).collect(),
    }
}

/// A simulated runtime for `seed`.
fn sim(seed: u64) -> Runtime {
    Runtime::builder()
        .simulation(seed)
        .max_processes(4096)
        .build()
        .expect("a simulated runtime builds")
}

/// Runs `scenario` as the root process of a simulated runtime, once per seed, and
/// returns what each run returned. A failure (or a hang) names the seed and how to
/// replay it.
fn each_seed<T: Send + 'static>(name: &'static str, scenario: fn() -> T) -> Vec<T> {
    let current = Arc::new(AtomicU64::new(u64::MAX));
    let seen = current.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut outcomes = Vec::new();
        for seed in seeds() {
            seen.store(seed, Ordering::Relaxed);
            let rt = sim(seed);
            let result = rt.block_on(scenario);
            assert_eq!(rt.shutdown().stuck, 0, "seed {seed}: a process was stuck");
            match result {
                Ok(v) => outcomes.push(v),
                Err(reason) => {
                    let _ = tx.send(Err((seed, reason)));
                    return;
                }
            }
        }
        let _ = tx.send(Ok(outcomes));
    });
    let replay =
        |seed| format!("replay with: BEAMLET_SEED={seed} cargo test --test simulation {name}");
    match rx.recv_timeout(HANG_GUARD) {
        Ok(Ok(outcomes)) => outcomes,
        Ok(Err((seed, reason))) => {
            panic!(
                "{name} failed under seed {seed}: {reason:?}\n{}",
                replay(seed)
            )
        }
        Err(RecvTimeoutError::Disconnected) => {
            let seed = current.load(Ordering::Relaxed);
            panic!(
                "{name}: the runtime failed under seed {seed}\n{}",
                replay(seed)
            )
        }
        Err(RecvTimeoutError::Timeout) => {
            let seed = current.load(Ordering::Relaxed);
            panic!("{name} hung under seed {seed}\n{}", replay(seed))
        }
    }
}

/// Whether enough seeds run for every outcome of a race to be expected among them.
fn exploring() -> bool {
    seeds().len() >= 50
}

// ---------------------------------------------------------------- determinism

/// A run's trace: which labelled process ran at each step, and the order in which
/// a receiver got the messages of several senders.
#[derive(Debug, PartialEq, Eq)]
struct Trace {
    ran: Vec<u32>,
    received: Vec<(u32, u32)>,
    virtual_elapsed: Duration,
}

/// Four senders, each sending three tagged messages with a yield or a short sleep
/// between them; the root receives all twelve.
fn traced_run(seed: u64) -> Trace {
    let rt = sim(seed);
    let ran = Arc::new(Mutex::new(Vec::new()));
    let log = ran.clone();
    let (received, virtual_elapsed) = rt
        .block_on(move || {
            let t0 = now();
            let me = self_pid();
            for sender in 0..4u32 {
                let log = log.clone();
                spawn(move || {
                    for j in 0..3u32 {
                        log.lock().unwrap().push(sender);
                        send(me, (sender, j)).unwrap();
                        if (sender + j) % 2 == 0 {
                            yield_now();
                        } else {
                            sleep(Duration::from_millis(u64::from(sender)));
                        }
                    }
                })
                .unwrap();
            }
            let got: Vec<(u32, u32)> = (0..12).map(|_| receive()).collect();
            (got, now() - t0)
        })
        .expect("the traced run completes");
    assert_eq!(rt.shutdown().stuck, 0);
    let ran = std::mem::take(&mut *ran.lock().unwrap());
    Trace {
        ran,
        received,
        virtual_elapsed,
    }
}

#[test]
fn a_seed_replays_the_same_trace_and_other_seeds_explore_others() {
    common::watchdog(HANG_GUARD, || {
        for seed in [0, 1, 42, u64::MAX] {
            let first = traced_run(seed);
            // Per-sender order is kept whatever the schedule.
            for sender in 0..4 {
                let js: Vec<u32> = first
                    .received
                    .iter()
                    .filter(|(s, _)| *s == sender)
                    .map(|(_, j)| *j)
                    .collect();
                assert_eq!(js, [0, 1, 2], "seed {seed}: order from one sender");
            }
            assert_eq!(first, traced_run(seed), "seed {seed} did not replay");
        }
        let base = traced_run(0);
        let differing = (1..8).filter(|&s| traced_run(s) != base).count();
        assert!(differing > 0, "seeds 1..8 all ran the schedule of seed 0");
    });
}

#[test]
fn a_simulated_runtime_refuses_more_than_one_scheduler() {
    let err = Runtime::builder()
        .simulation(1)
        .schedulers(2)
        .build()
        .unwrap_err();
    assert!(matches!(err, beamlet::BuildError::SimulationSchedulers(2)));
    let rt = Runtime::builder()
        .simulation(1)
        .schedulers(1)
        .build()
        .unwrap();
    assert_eq!((rt.schedulers(), rt.simulation_seed()), (1, Some(1)));
    assert_eq!(rt.shutdown().stuck, 0);
}

// ---------------------------------------------------------------- virtual time

/// A server that never answers calls (so callers time out).
struct Mute;

impl GenServer for Mute {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();
    fn init((): ()) -> Init<Self, ()> {
        Init::Ok(Mute)
    }
    fn handle_call(&mut self, (): (), _: Caller<()>) -> CallReply<(), ()> {
        CallReply::NoReply
    }
}

#[test]
fn timers_and_timeouts_run_on_the_virtual_clock() {
    common::watchdog(HANG_GUARD, || {
        let rt = sim(5);
        let before = rt.now();
        rt.block_on(|| {
            let hour = Duration::from_secs(3600);
            let t0 = now();
            sleep(hour);
            let slept = now() - t0;
            // Exact up to the wheel's tick (8 µs), with nothing else to wake it.
            assert!(
                slept >= hour && slept < hour + Duration::from_millis(1),
                "{slept:?}"
            );

            let server = gen_server::start_link::<Mute>(()).unwrap();
            let t1 = now();
            assert_eq!(gen_server::call(server, ()), Err(CallError::Timeout));
            let waited = now() - t1;
            let five = Duration::from_secs(5);
            assert!(
                waited >= five && waited < five + Duration::from_millis(1),
                "{waited:?}"
            );

            let t2 = now();
            assert_eq!(receive_timeout::<u8>(Duration::from_secs(2)), None);
            assert!(now() - t2 >= Duration::from_secs(2));

            let t3 = now();
            let timer = send_after(Duration::from_secs(60), self_pid(), 7u8);
            sleep(Duration::from_secs(20));
            let left = read_timer(&timer).expect("still pending");
            assert!(left <= Duration::from_secs(40) && left > Duration::from_millis(39_999));
            assert_eq!(receive::<u8>(), 7);
            let at = now() - t3;
            assert!(
                at >= Duration::from_secs(60)
                    && at < Duration::from_secs(60) + Duration::from_millis(1)
            );

            // Dirty jobs run while the scheduler waits: they take no virtual time.
            let t4 = now();
            assert_eq!(dirty_cpu(|| (1..=10u64).product::<u64>()), Ok(3_628_800));
            assert_eq!(now(), t4);
        })
        .expect("the root process completes");
        assert!(rt.now() - before >= Duration::from_secs(3600 + 5 + 2 + 60));
        assert_eq!(rt.shutdown().stuck, 0);
    });
}

#[test]
fn network_io_is_refused_with_a_typed_error() {
    let rt = sim(1);
    let err = rt
        .block_on(|| beamlet::net::TcpListener::bind("127.0.0.1:0").unwrap_err())
        .unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<beamlet::Unsimulated>());
    assert_eq!(inner, Some(&beamlet::Unsimulated::Network));
    assert_eq!(rt.shutdown().stuck, 0);
}

// ---------------------------------------------------------------- supervisors

/// What the supervised workers report to the root.
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Started(&'static str),
    Stopped(&'static str),
}

/// A worker that reports its start and, trapping exits, its termination.
struct Worker {
    name: &'static str,
    observer: Pid,
}

impl GenServer for Worker {
    type Args = (&'static str, Pid);
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init((name, observer): (&'static str, Pid)) -> Init<Self, ()> {
        send(observer, Ev::Started(name)).unwrap();
        Init::Ok(Worker { name, observer })
    }

    fn terminate(&mut self, _: &ExitReason) {
        let _ = send(self.observer, Ev::Stopped(self.name));
    }
}

fn workers(names: &[&'static str], observer: Pid) -> Vec<ChildSpec> {
    names
        .iter()
        .map(|&name| {
            ChildSpec::worker(name, move || {
                gen_server::start_link::<Worker>((name, observer))
            })
        })
        .collect()
}

fn ev() -> Ev {
    receive_timeout::<Ev>(WAIT).expect("an event in virtual time")
}

fn expect_events(want: &[Ev]) {
    for w in want {
        assert_eq!(&ev(), w);
    }
}

fn pid_of(sup: ServerRef<Supervisor>, id: &str) -> Pid {
    supervisor::which_children(sup)
        .unwrap()
        .iter()
        .find(|c| c.id == id)
        .and_then(|c| c.pid.pid())
        .expect("the child runs")
}

fn started(names: &[&'static str]) -> Vec<Ev> {
    names.iter().map(|&n| Ev::Started(n)).collect()
}

#[test]
fn one_for_one_restarts_only_the_crashed_child_under_every_seed() {
    each_seed(
        "one_for_one_restarts_only_the_crashed_child_under_every_seed",
        || {
            let me = self_pid();
            let names = ["a", "b", "c"];
            let flags = SupervisorFlags::strategy(Strategy::OneForOne);
            let sup = supervisor::start_link(workers(&names, me), flags).unwrap();
            expect_events(&started(&names));
            let before = names.map(|n| pid_of(sup, n));
            exit_pid(before[1], ExitReason::Kill);
            expect_events(&started(&["b"]));
            let after = names.map(|n| pid_of(sup, n));
            assert_eq!((after[0], after[2]), (before[0], before[2]));
            assert_ne!(after[1], before[1]);
            assert_eq!(receive_timeout::<Ev>(Duration::from_secs(1)), None);
        },
    );
}

#[test]
fn one_for_all_stops_the_others_in_reverse_and_restarts_all_under_every_seed() {
    each_seed(
        "one_for_all_stops_the_others_in_reverse_and_restarts_all_under_every_seed",
        || {
            let me = self_pid();
            let names = ["a", "b", "c"];
            let flags = SupervisorFlags::strategy(Strategy::OneForAll);
            let sup = supervisor::start_link(workers(&names, me), flags).unwrap();
            expect_events(&started(&names));
            let before = names.map(|n| pid_of(sup, n));
            exit_pid(before[1], ExitReason::Kill);
            expect_events(&[Ev::Stopped("c"), Ev::Stopped("a")]);
            expect_events(&started(&names));
            for (n, old) in names.iter().zip(before) {
                assert_ne!(pid_of(sup, n), old);
            }
        },
    );
}

#[test]
fn exceeding_the_restart_intensity_ends_the_supervisor_under_every_seed() {
    each_seed(
        "exceeding_the_restart_intensity_ends_the_supervisor_under_every_seed",
        || {
            trap_exit(true);
            let me = self_pid();
            let flags = SupervisorFlags::strategy(Strategy::OneForOne);
            let sup = supervisor::start_link(workers(&["a"], me), flags).unwrap();
            expect_events(&started(&["a"]));
            // Default intensity: 3 restarts in 5 s. Four crashes 2 s apart (virtual)
            // never put more than three in one window: the supervisor survives.
            for _ in 0..4 {
                sleep(Duration::from_secs(2));
                exit_pid(pid_of(sup, "a"), ExitReason::Kill);
                expect_events(&started(&["a"]));
            }
            // Once the window is clear, three at once are allowed and a fourth within
            // the same 5 s exceeds the intensity: the supervisor shuts down.
            sleep(Duration::from_secs(6));
            for _ in 0..3 {
                exit_pid(pid_of(sup, "a"), ExitReason::Kill);
                expect_events(&started(&["a"]));
            }
            let last = pid_of(sup, "a");
            exit_pid(last, ExitReason::Kill);
            let e = receive_timeout::<Exit>(WAIT).expect("the supervisor's exit");
            assert_eq!((e.from, e.reason), (sup.pid(), ExitReason::Shutdown));
            assert!(!is_alive(last));
        },
    );
}

// ---------------------------------------------------------------- calls

/// A server that answers each call after sleeping the requested time.
struct Slow;

impl GenServer for Slow {
    type Args = ();
    type Call = Duration;
    type Reply = Duration;
    type Cast = ();
    type Continue = ();
    fn init((): ()) -> Init<Self, ()> {
        Init::Ok(Slow)
    }
    fn handle_call(&mut self, delay: Duration, _: Caller<Duration>) -> CallReply<Duration, ()> {
        sleep(delay);
        CallReply::Reply(delay)
    }
    fn handle_cast(&mut self, (): ()) -> NoReply<()> {
        NoReply::Ok
    }
}

#[test]
fn a_call_gets_its_reply_or_times_out_never_both_under_every_seed() {
    each_seed(
        "a_call_gets_its_reply_or_times_out_never_both_under_every_seed",
        || {
            let server = gen_server::start_link::<Slow>(()).unwrap();
            let me = self_pid();
            // Three callers race for the server with 100 ms timeouts: the server takes
            // 40 ms per call, so the first two served get replies and the third times
            // out, whichever order the seed picks.
            for _ in 0..3 {
                spawn_link(move || {
                    let r = gen_server::call_timeout(
                        server,
                        Duration::from_millis(40),
                        Duration::from_millis(100),
                    );
                    sleep(Duration::from_secs(1));
                    // A late reply is dropped, never delivered after a timeout.
                    let stray = message_queue_len();
                    send(me, (r, stray)).unwrap();
                })
                .unwrap();
            }
            let mut outcomes: Vec<(Result<Duration, CallError>, usize)> = (0..3)
                .map(|_| receive_timeout(WAIT).expect("a caller reports"))
                .collect();
            outcomes.sort_by_key(|(r, _)| r.is_err());
            let ok = Ok(Duration::from_millis(40));
            assert_eq!(
                outcomes,
                [(ok.clone(), 0), (ok, 0), (Err(CallError::Timeout), 0)]
            );
        },
    );
}

/// Seeds whose schedule (as the runtime stood when this test was written) woke the
/// caller at its deadline and then preempted it inside `call`'s clean-up, with the
/// server's reply sent in between: the reply was taken in while the alias was still
/// active and stayed in the mailbox after `Timeout`.
const LATE_REPLY_SEEDS: [u64; 5] = [339, 1478, 1553, 1769, 2190];

#[test]
fn a_reply_sent_as_a_call_times_out_never_stays_in_the_mailbox() {
    for seed in LATE_REPLY_SEEDS.into_iter().chain(seeds()) {
        let rt = sim(seed);
        let (r, stray) = rt
            .block_on(|| {
                let server = gen_server::start_link::<Slow>(()).unwrap();
                // The reply is due at the very instant the call gives up.
                let d = Duration::from_millis(100);
                let r = gen_server::call_timeout(server, d, d);
                sleep(Duration::from_secs(1));
                (r, message_queue_len())
            })
            .unwrap();
        assert_eq!(rt.shutdown().stuck, 0);
        assert!(
            r.is_ok() || r == Err(CallError::Timeout),
            "seed {seed}: {r:?}"
        );
        assert_eq!(stray, 0, "seed {seed}: a reply stayed after {r:?}");
    }
}

#[test]
fn a_call_racing_the_servers_death_ends_once_without_a_stray_reply_under_every_seed() {
    let outcomes = each_seed(
        "a_call_racing_the_servers_death_ends_once_without_a_stray_reply_under_every_seed",
        || {
            let server = gen_server::start::<Slow>(()).unwrap();
            // A killer and the call race: the call is answered, or ends with the
            // server's exit (Killed), or finds it gone (NoProc); never both, never hung.
            spawn(move || exit_pid(server.pid(), ExitReason::Kill)).unwrap();
            let r = gen_server::call(server, Duration::ZERO);
            sleep(Duration::from_secs(1));
            assert_eq!(message_queue_len(), 0, "a stray message after {r:?}");
            assert!(!is_alive(server.pid()));
            match r {
                Ok(d) if d == Duration::ZERO => "replied",
                Err(CallError::Exit(ExitReason::Killed)) => "killed",
                Err(CallError::NoProc) => "noproc",
                other => panic!("unexpected call result {other:?}"),
            }
        },
    );
    if exploring() {
        assert!(outcomes.contains(&"replied"), "{outcomes:?}");
        assert!(
            outcomes.contains(&"killed") || outcomes.contains(&"noproc"),
            "{outcomes:?}"
        );
    }
}

// ---------------------------------------------------------------- links, monitors

#[test]
fn monitors_of_an_exiting_process_each_get_exactly_one_down_under_every_seed() {
    let outcomes = each_seed(
        "monitors_of_an_exiting_process_each_get_exactly_one_down_under_every_seed",
        || {
            let me = self_pid();
            let target = spawn(|| {
                yield_now();
            })
            .unwrap();
            // Three watchers monitor it while it exits: each sees one Down, with reason
            // Normal or NoProc depending on who ran first.
            for _ in 0..3 {
                spawn(move || {
                    let m = monitor(target);
                    let d = receive_timeout::<Down>(WAIT).expect("a Down");
                    assert_eq!((d.monitor, d.pid), (m, target));
                    sleep(Duration::from_secs(1));
                    let extra = try_receive::<Down>();
                    send(me, (d.reason, extra.is_none())).unwrap();
                })
                .unwrap();
            }
            (0..3)
                .map(|_| {
                    let (reason, single) =
                        receive_timeout::<(ExitReason, bool)>(WAIT).expect("a report");
                    assert!(single, "a second Down");
                    reason
                })
                .collect::<Vec<_>>()
        },
    );
    let reasons: Vec<ExitReason> = outcomes.into_iter().flatten().collect();
    assert!(
        reasons
            .iter()
            .all(|r| matches!(r, ExitReason::Normal | ExitReason::NoProc)),
        "{reasons:?}"
    );
    if exploring() {
        assert!(
            reasons.contains(&ExitReason::Normal),
            "no seed monitored before the exit"
        );
        assert!(
            reasons.contains(&ExitReason::NoProc),
            "no seed monitored after the exit"
        );
    }
}

#[test]
fn an_exit_signal_racing_a_normal_exit_is_seen_once_under_every_seed() {
    let reasons = each_seed(
        "an_exit_signal_racing_a_normal_exit_is_seen_once_under_every_seed",
        || {
            trap_exit(true);
            let child = spawn_link(|| {
                yield_now();
            })
            .unwrap();
            // Another process sends the child an exit signal while it returns.
            spawn(move || exit_pid(child, ExitReason::Shutdown)).unwrap();
            let e = receive_timeout::<Exit>(WAIT).expect("the child's exit");
            assert_eq!(e.from, child);
            sleep(Duration::from_secs(1));
            assert_eq!(
                try_receive::<Exit>().map(|e| e.reason),
                None,
                "a second Exit"
            );
            assert!(!is_alive(child));
            e.reason
        },
    );
    assert!(
        reasons
            .iter()
            .all(|r| matches!(r, ExitReason::Normal | ExitReason::Shutdown)),
        "{reasons:?}"
    );
    if exploring() {
        assert!(
            reasons.contains(&ExitReason::Normal),
            "no seed let the child return first"
        );
        assert!(
            reasons.contains(&ExitReason::Shutdown),
            "no seed let the signal land first"
        );
    }
}
