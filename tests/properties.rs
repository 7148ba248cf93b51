//! Property tests: random sequences of spawn, send, link, monitor, exit, kill,
//! register, unregister and `trap_exit` over four actor processes, run on a real
//! runtime and checked against a model of the BEAM's rules:
//!
//! 1. every message sent to a process that stays alive arrives exactly once, in
//!    per-sender order;
//! 2. a monitor of a process that exits delivers exactly one `Down`, with the reason;
//! 3. links are symmetric (`process_info` on both ends); a linked process that does
//!    not trap exits dies with its partner's abnormal reason, a trapping one gets an
//!    `Exit` message instead, and a normal exit kills no one;
//! 4. a registered name resolves to its live owner and is freed when the owner exits;
//! 5. the process count returns to zero.
//!
//! The driver (the root process) runs one operation at a time and waits for its
//! effect (an acknowledgement, or the `Down` of every process the model says dies),
//! so the model is deterministic. `PROPTEST_CASES` sets the number of cases
//! (default 64); a failure is shrunk to a minimal operation sequence.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beamlet::{
    Down, Exit, ExitReason, Pid, RegisterError, Runtime, exit, exit_pid, link, monitor,
    process_info, receive_any, receive_match_timeout, register, self_pid, send, spawn, trap_exit,
    unregister, whereis,
};
use proptest::prelude::*;

mod common;
use common::{PATIENCE, watchdog};

/// Actor slots; a dead slot can be spawned again.
const SLOTS: usize = 4;
/// Names the actors compete for.
const NAMES: [&str; 2] = ["alpha", "beta"];

/// How an actor is made to exit.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// `exit(Normal)` from inside.
    Normal,
    /// `exit(custom)` from inside: an abnormal reason.
    Custom,
    /// `exit_pid(pid, Kill)` from the driver: reason `Killed`.
    Kill,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Spawn(usize),
    Send { from: usize, to: usize },
    Link(usize, usize),
    Monitor { watcher: usize, target: usize },
    Exit(usize, Ending),
    Register(usize, usize),
    Unregister(usize, usize),
    Trap(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let name = 0..NAMES.len();
    let ending = prop_oneof![
        Just(Ending::Normal),
        Just(Ending::Custom),
        Just(Ending::Kill)
    ];
    prop_oneof![
        1 => slot.clone().prop_map(Op::Spawn),
        4 => (slot.clone(), slot.clone()).prop_map(|(from, to)| Op::Send { from, to }),
        2 => (slot.clone(), slot.clone()).prop_map(|(a, b)| Op::Link(a, b)),
        2 => (slot.clone(), slot.clone()).prop_map(|(watcher, target)| Op::Monitor { watcher, target }),
        2 => (slot.clone(), ending).prop_map(|(a, e)| Op::Exit(a, e)),
        1 => (slot.clone(), name.clone()).prop_map(|(a, n)| Op::Register(a, n)),
        1 => (slot.clone(), name).prop_map(|(a, n)| Op::Unregister(a, n)),
        1 => (slot, any::<bool>()).prop_map(|(a, on)| Op::Trap(a, on)),
    ]
}

/// What an actor is told to do.
enum Cmd {
    Send { to: Pid, seq: u64 },
    Link(Pid),
    Monitor(Pid),
    Exit(ExitReason),
    Register(&'static str),
    Unregister(&'static str),
    Trap(bool),
    Sync,
}

/// A user message between actors.
struct UserMsg {
    from: Pid,
    seq: u64,
}

/// An actor's acknowledgement of a command, with its result where it has one.
struct Ack {
    from: Pid,
    register: Option<Result<(), RegisterError>>,
    unregistered: Option<Option<Pid>>,
}

/// What an actor received, in order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Msg { from: Pid, seq: u64 },
    Exit { from: Pid, reason: String },
    Down { pid: Pid, reason: String },
}

type Log = Arc<Mutex<Vec<Event>>>;

fn reason_key(r: &ExitReason) -> String {
    format!("{r:?}")
}

fn actor(driver: Pid, log: Log) {
    let me = self_pid();
    let ack = |register, unregistered| {
        send(
            driver,
            Ack {
                from: me,
                register,
                unregistered,
            },
        )
        .unwrap();
    };
    loop {
        let m = receive_any();
        let m = match m.downcast::<Cmd>() {
            Ok(cmd) => {
                match cmd {
                    Cmd::Send { to, seq } => drop(send(to, UserMsg { from: me, seq })),
                    Cmd::Link(pid) => link(pid).expect("linked to a live actor"),
                    Cmd::Monitor(pid) => {
                        let _ = monitor(pid);
                    }
                    Cmd::Exit(reason) => exit(reason),
                    Cmd::Register(name) => {
                        ack(Some(register(name, me)), None);
                        continue;
                    }
                    Cmd::Unregister(name) => {
                        ack(None, Some(unregister(name)));
                        continue;
                    }
                    Cmd::Trap(on) => {
                        trap_exit(on);
                    }
                    Cmd::Sync => {}
                }
                ack(None, None);
                continue;
            }
            Err(m) => m,
        };
        let event = match m.downcast::<UserMsg>() {
            Ok(u) => Event::Msg {
                from: u.from,
                seq: u.seq,
            },
            Err(m) => match m.downcast::<Exit>() {
                Ok(e) => Event::Exit {
                    from: e.from,
                    reason: reason_key(&e.reason),
                },
                Err(m) => match m.downcast::<Down>() {
                    Ok(d) => Event::Down {
                        pid: d.pid,
                        reason: reason_key(&d.reason),
                    },
                    Err(_) => panic!("an actor got a message of an unknown type"),
                },
            },
        };
        log.lock().unwrap().push(event);
    }
}

/// The model's view of one live actor.
struct Live {
    pid: Pid,
    log: Log,
    trapping: bool,
    links: BTreeSet<usize>,
    /// Monitors this actor holds, by target pid (one entry per monitor).
    watching: Vec<Pid>,
    name: Option<usize>,
    /// Events it must have received by the end, if it lives.
    expected: Vec<Event>,
}

struct Model {
    driver: Pid,
    slots: [Option<Live>; SLOTS],
    names: [Option<usize>; NAMES.len()],
    seq: u64,
}

impl Model {
    fn pid(&self, slot: usize) -> Option<Pid> {
        self.slots[slot].as_ref().map(|l| l.pid)
    }

    /// Sends `cmd` to `slot` and waits for its acknowledgement.
    fn command(&self, slot: usize, cmd: Cmd) -> Ack {
        let pid = self.pid(slot).unwrap();
        send(pid, cmd).unwrap_or_else(|_| panic!("actor {slot} is alive"));
        receive_match_timeout(|a: &Ack| a.from == pid, PATIENCE).expect("acknowledged")
    }

    fn spawn(&mut self, slot: usize) {
        let log: Log = Arc::default();
        let (driver, l) = (self.driver, log.clone());
        let pid = spawn(move || actor(driver, l)).unwrap();
        let _ = monitor(pid);
        self.slots[slot] = Some(Live {
            pid,
            log,
            trapping: false,
            links: BTreeSet::new(),
            watching: Vec::new(),
            name: None,
            expected: Vec::new(),
        });
    }

    fn apply(&mut self, op: Op) {
        let alive = |s: usize| self.slots[s].is_some();
        match op {
            Op::Spawn(s) if !alive(s) => self.spawn(s),
            Op::Send { from, to } if alive(from) && alive(to) => {
                self.seq += 1;
                let (seq, from_pid, to_pid) =
                    (self.seq, self.pid(from).unwrap(), self.pid(to).unwrap());
                self.command(from, Cmd::Send { to: to_pid, seq });
                let target = self.slots[to].as_mut().unwrap();
                target.expected.push(Event::Msg {
                    from: from_pid,
                    seq,
                });
            }
            Op::Link(a, b) if a != b && alive(a) && alive(b) => {
                self.command(a, Cmd::Link(self.pid(b).unwrap()));
                self.slots[a].as_mut().unwrap().links.insert(b);
                self.slots[b].as_mut().unwrap().links.insert(a);
            }
            Op::Monitor { watcher, target }
                if watcher != target && alive(watcher) && alive(target) =>
            {
                let t = self.pid(target).unwrap();
                self.command(watcher, Cmd::Monitor(t));
                self.slots[watcher].as_mut().unwrap().watching.push(t);
            }
            Op::Exit(s, ending) if alive(s) => self.exit(s, ending),
            Op::Register(s, n) if alive(s) => {
                let ack = self.command(s, Cmd::Register(NAMES[n]));
                let expected = match (self.names[n], self.slots[s].as_ref().unwrap().name) {
                    (Some(owner), _) => Err(RegisterError::NameTaken(self.pid(owner).unwrap())),
                    (None, Some(has)) => {
                        Err(RegisterError::AlreadyRegistered(NAMES[has].to_owned()))
                    }
                    (None, None) => {
                        self.names[n] = Some(s);
                        self.slots[s].as_mut().unwrap().name = Some(n);
                        Ok(())
                    }
                };
                assert_eq!(ack.register.unwrap(), expected, "register {}", NAMES[n]);
            }
            Op::Unregister(s, n) if alive(s) => {
                let ack = self.command(s, Cmd::Unregister(NAMES[n]));
                let owner = self.names[n].take();
                assert_eq!(
                    ack.unregistered.unwrap(),
                    owner.map(|o| self.pid(o).unwrap())
                );
                if let Some(o) = owner {
                    self.slots[o].as_mut().unwrap().name = None;
                }
            }
            Op::Trap(s, on) if alive(s) => {
                self.command(s, Cmd::Trap(on));
                self.slots[s].as_mut().unwrap().trapping = on;
            }
            _ => {} // The operation names a dead (or the same) actor: skipped.
        }
        self.check_names();
    }

    /// Ends `slot` and every non-trapping process linked to it (transitively) that
    /// dies of its abnormal reason; waits for each one's `Down`.
    fn exit(&mut self, slot: usize, ending: Ending) {
        let pid = self.pid(slot).unwrap();
        let reason = match ending {
            Ending::Normal => ExitReason::Normal,
            Ending::Custom => ExitReason::custom(format!("boom-{slot}")),
            Ending::Kill => ExitReason::Killed,
        };
        match ending {
            Ending::Kill => exit_pid(pid, ExitReason::Kill),
            _ => drop(send(pid, Cmd::Exit(reason.clone()))),
        }
        let mut dying = vec![(slot, reason)];
        let mut dead = Vec::new();
        while let Some((s, reason)) = dying.pop() {
            let Some(gone) = self.slots[s].take() else {
                continue;
            };
            if let Some(n) = gone.name {
                self.names[n] = None;
            }
            let key = reason_key(&reason);
            for live in self.slots.iter_mut().flatten() {
                for _ in live.watching.iter().filter(|&&t| t == gone.pid) {
                    live.expected.push(Event::Down {
                        pid: gone.pid,
                        reason: key.clone(),
                    });
                }
                live.watching.retain(|&t| t != gone.pid);
            }
            for &partner in &gone.links {
                let Some(p) = self.slots[partner].as_mut() else {
                    continue;
                };
                p.links.remove(&s);
                if p.trapping {
                    p.expected.push(Event::Exit {
                        from: gone.pid,
                        reason: key.clone(),
                    });
                } else if !reason.is_normal() {
                    dying.push((partner, reason.clone()));
                }
            }
            dead.push((gone.pid, reason));
        }
        for (pid, reason) in dead {
            let down = receive_match_timeout(|d: &Down| d.pid == pid, PATIENCE)
                .unwrap_or_else(|| panic!("{pid} was to die of {reason:?}"));
            assert_eq!(down.reason, reason, "{pid} died of its partner's reason");
        }
    }

    fn check_names(&self) {
        for (n, owner) in self.names.iter().enumerate() {
            assert_eq!(
                whereis(NAMES[n]),
                owner.map(|o| self.pid(o).unwrap()),
                "{}",
                NAMES[n]
            );
        }
    }

    /// Checks every survivor against the model, then kills them all.
    fn finish(&mut self) {
        assert_eq!(
            receive_match_timeout(|_: &Down| true, Duration::ZERO).map(|d| d.pid),
            None,
            "no process died that the model keeps alive"
        );
        for s in 0..SLOTS {
            let Some(live) = &self.slots[s] else { continue };
            self.command(s, Cmd::Sync);
            let info = process_info(live.pid).expect("a survivor is alive");
            let links: BTreeSet<Pid> = info.links.iter().copied().collect();
            let model: BTreeSet<Pid> = live.links.iter().map(|&p| self.pid(p).unwrap()).collect();
            assert_eq!(links, model, "links of actor {s}");
            assert_eq!(info.trap_exit, live.trapping);
            await_log(live);
        }
        for s in 0..SLOTS {
            if self.slots[s].is_some() {
                self.exit(s, Ending::Kill);
            }
        }
        self.check_names();
    }
}

/// Waits until `live` received as many events as expected, then compares: exactly
/// the expected events, each sender's messages in order.
fn await_log(live: &Live) {
    let deadline = Instant::now() + PATIENCE;
    while live.log.lock().unwrap().len() < live.expected.len() && Instant::now() < deadline {
        beamlet::sleep(Duration::from_millis(1));
    }
    let got = live.log.lock().unwrap().clone();
    let senders: BTreeSet<Pid> = live
        .expected
        .iter()
        .filter_map(|e| match e {
            Event::Msg { from, .. } => Some(*from),
            _ => None,
        })
        .collect();
    for from in senders {
        let seqs = |events: &[Event]| -> Vec<u64> {
            events
                .iter()
                .filter_map(|e| match e {
                    Event::Msg { from: f, seq } if *f == from => Some(*seq),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            seqs(&got),
            seqs(&live.expected),
            "messages from {from}, in order, once each"
        );
    }
    let mut got_sorted = got;
    got_sorted.sort();
    let mut expected_sorted = live.expected.clone();
    expected_sorted.sort();
    assert_eq!(
        got_sorted, expected_sorted,
        "everything {} received",
        live.pid
    );
}

/// Runs `ops` on a fresh runtime (so that a failing case, and each step of its
/// shrinking, starts from nothing) and checks that no process is left.
fn run_ops(ops: Vec<Op>) {
    let rt = Runtime::builder()
        .schedulers(2)
        .dirty_cpu_schedulers(1)
        .dirty_io_schedulers(1)
        .build()
        .unwrap();
    rt.block_on(move || {
        let mut model = Model {
            driver: self_pid(),
            slots: Default::default(),
            names: [None; NAMES.len()],
            seq: 0,
        };
        for s in 0..SLOTS {
            model.spawn(s);
        }
        for op in ops {
            model.apply(op);
        }
        model.finish();
    })
    .unwrap_or_else(|reason| panic!("the driver failed: {reason:?}"));
    let deadline = Instant::now() + PATIENCE;
    while rt.process_count() != 0 {
        assert!(
            Instant::now() < deadline,
            "{} processes left",
            rt.process_count()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let report = rt.shutdown();
    assert_eq!((report.killed, report.stuck), (0, 0));
}

/// Cases per run: `PROPTEST_CASES`, 64 by default.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

#[test]
fn random_operations_keep_the_beam_invariants() {
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    watchdog(Duration::from_secs(900), move || {
        proptest!(config, |(ops in proptest::collection::vec(op(), 1..40))| {
            run_ops(ops);
        });
    });
}
