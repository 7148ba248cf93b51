//! GenEvent: the event manager and handler contract of Erlang's `gen_event`, one
//! rule per test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beamlet::otp::gen_event::{
    self, CallError, CallHandled, EventHandler, EventManager, Handled, HandlerError, HandlerExit,
    HandlerId, Init, Previous, Removal, RemoveReason, SwapTo,
};
use beamlet::otp::sys;
use beamlet::{
    Down, Exit, ExitReason, Message, Pid, ProcessStatus, exit_pid, is_alive, monitor, process_info,
    receive, receive_timeout, self_pid, send, sleep, spawn, spawn_link, trap_exit,
};
use common::{PATIENCE, run};

/// The events of the test managers.
#[derive(Debug, Clone)]
enum Ev {
    /// Count it.
    N(u64),
    /// The handler with this tag panics.
    PanicIn(&'static str),
    /// The handler with this tag returns `Remove`.
    RemoveIn(&'static str),
    /// The handler with this tag swaps itself for a probe with the second tag.
    SwapIn(&'static str, &'static str),
    /// The handler with this tag waits for a [`Go`] before returning.
    GateIn(&'static str),
    /// Recorded by the order log: (sender, sequence number).
    From(u64, u64),
    /// Every probe asks the manager to hibernate.
    Hibernate,
}

/// Opens a gate (sent to the manager, taken by the waiting handler).
struct Go;

/// Why a probe's `terminate` ran, as the owner is told.
#[derive(Debug, Clone, PartialEq)]
enum Why {
    Deleted(u32),
    Swapped(u32),
    Removed,
    Stopped,
    AdderExited(ExitReason),
    Crashed(String),
}

/// What a probe tells its owner.
#[derive(Debug, Clone, PartialEq)]
enum Said {
    Gone(&'static str, Why),
    Info(&'static str, String),
    Inited(&'static str, u64),
}

/// Calls a probe answers.
#[derive(Debug)]
enum Ask {
    Count,
    Panic,
    Remove,
}

/// A handler that counts `N` events and reports to its owner.
struct Probe {
    owner: Pid,
    tag: &'static str,
    count: u64,
    /// Every `Caller` event seen, in order.
    log: Vec<(u64, u64)>,
}

fn probe(tag: &'static str) -> HandlerId<Probe> {
    HandlerId::instance(tag)
}

impl EventHandler<Ev> for Probe {
    type Args = (Pid, &'static str, u64);
    type Call = Ask;
    type Reply = (u64, Vec<(u64, u64)>);
    type DeleteArgs = u32;
    type Terminated = u64;

    fn init((owner, tag, count): (Pid, &'static str, u64)) -> Init<Self> {
        match tag {
            "refuse" => return Init::Error(ExitReason::custom("refused")),
            "explode" => panic!("init blew up"),
            _ => {}
        }
        let _ = send(owner, Said::Inited(tag, count));
        Init::Ok(Probe {
            owner,
            tag,
            count,
            log: Vec::new(),
        })
    }

    fn handle_event(&mut self, event: &Ev) -> Handled<Ev, Self> {
        match *event {
            Ev::N(k) => self.count += k,
            Ev::PanicIn(t) if t == self.tag => panic!("handler {t} blew up"),
            Ev::RemoveIn(t) if t == self.tag => return Handled::Remove,
            Ev::SwapIn(t, new) if t == self.tag => {
                let owner = self.owner;
                let to = SwapTo::new(&probe(new), move |old: Previous<u64>| {
                    (owner, new, old.terminated().unwrap_or(0))
                });
                return Handled::Swap(7, to);
            }
            Ev::GateIn(t) if t == self.tag => {
                let Go = receive::<Go>();
            }
            Ev::From(sender, seq) => self.log.push((sender, seq)),
            Ev::Hibernate => return Handled::Hibernate,
            _ => {}
        }
        Handled::Ok
    }

    fn handle_call(&mut self, ask: Ask) -> CallHandled<Ev, Self> {
        match ask {
            Ask::Count => CallHandled::Reply((self.count, self.log.clone())),
            Ask::Panic => panic!("handle_call blew up"),
            Ask::Remove => CallHandled::Remove((self.count, Vec::new())),
        }
    }

    fn handle_info(&mut self, msg: &Message) -> Handled<Ev, Self> {
        if let Some(exit) = msg.downcast_ref::<Exit>() {
            let _ = send(
                self.owner,
                Said::Info(self.tag, format!("exit {}", exit.reason)),
            );
        } else if let Some(s) = msg.downcast_ref::<&'static str>() {
            let _ = send(self.owner, Said::Info(self.tag, (*s).to_owned()));
        }
        Handled::Ok
    }

    fn terminate(self, why: Removal<u32>) -> u64 {
        let why = match why {
            Removal::Deleted(a) => Why::Deleted(a),
            Removal::Swapped(a) => Why::Swapped(a),
            Removal::Removed => Why::Removed,
            Removal::Stopped => Why::Stopped,
            Removal::AdderExited(r) => Why::AdderExited(r),
            Removal::Crashed(ExitReason::Panic(p)) => Why::Crashed(p.message().to_owned()),
            Removal::Crashed(other) => Why::Crashed(other.to_string()),
        };
        let _ = send(self.owner, Said::Gone(self.tag, why));
        if self.tag.starts_with("badterm") {
            panic!("terminate blew up");
        }
        self.count
    }
}

/// The next message of type `T`, or a failure after [`PATIENCE`].
fn next<T: Send + 'static>() -> T {
    receive_timeout::<T>(PATIENCE).expect("an expected message did not arrive")
}

/// Adds probes with these tags, in this order, each acknowledged by `Inited`.
fn add_probes(m: EventManager<Ev>, tags: &[&'static str]) {
    for &tag in tags {
        gen_event::add_handler(m, &probe(tag), (self_pid(), tag, 0)).unwrap();
        assert_eq!(next::<Said>(), Said::Inited(tag, 0));
    }
}

fn count(m: EventManager<Ev>, tag: &'static str) -> Result<u64, HandlerError> {
    gen_event::call(m, &probe(tag), Ask::Count).map(|(n, _)| n)
}

fn ids(tags: &[&'static str]) -> Vec<gen_event::AnyHandlerId> {
    tags.iter().map(|t| probe(t).any()).collect()
}

#[test]
fn handlers_run_most_recently_added_first() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        assert_eq!(gen_event::which_handlers(m).unwrap(), vec![]);
        add_probes(m, &["a", "b", "c"]);
        assert_eq!(gen_event::which_handlers(m).unwrap(), ids(&["c", "b", "a"]));
        send(m.pid(), "hello").unwrap();
        let heard: Vec<_> = (0..3).map(|_| next::<Said>()).collect();
        let info = |t| Said::Info(t, "hello".to_owned());
        assert_eq!(heard, vec![info("c"), info("b"), info("a")]);
    });
}

#[test]
fn a_crashing_handler_is_removed_and_the_others_continue() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        add_probes(m, &["a", "b", "c"]);
        gen_event::notify(m, Ev::N(1));
        gen_event::notify(m, Ev::PanicIn("b"));
        gen_event::notify(m, Ev::N(10));
        gen_event::sync_notify(m, Ev::N(100)).unwrap();
        assert_eq!(
            next::<Said>(),
            Said::Gone("b", Why::Crashed("handler b blew up".to_owned()))
        );
        assert_eq!(gen_event::which_handlers(m).unwrap(), ids(&["c", "a"]));
        assert_eq!(count(m, "a"), Ok(111));
        assert_eq!(count(m, "c"), Ok(111));
        assert_eq!(count(m, "b"), Err(HandlerError::NotInstalled));
        assert!(is_alive(m.pid()));
    });
}

#[test]
fn a_panic_in_handle_call_removes_the_handler_and_is_the_callers_error() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        add_probes(m, &["a", "b"]);
        let r = gen_event::call(m, &probe("a"), Ask::Panic);
        assert!(
            matches!(r, Err(HandlerError::Crashed(ExitReason::Panic(ref p))) if p.message() == "handle_call blew up")
        );
        assert_eq!(
            next::<Said>(),
            Said::Gone("a", Why::Crashed("handle_call blew up".to_owned()))
        );
        assert_eq!(gen_event::which_handlers(m).unwrap(), ids(&["b"]));
        // A call result may also remove the handler, replying all the same.
        assert_eq!(
            gen_event::call(m, &probe("b"), Ask::Remove),
            Ok((0, vec![]))
        );
        assert_eq!(next::<Said>(), Said::Gone("b", Why::Removed));
        assert_eq!(gen_event::which_handlers(m).unwrap(), vec![]);
    });
}

/// Counts events into memory shared with the test, to see their effects at once.
struct Shared(Arc<Mutex<Vec<u64>>>, usize);

impl EventHandler<u64> for Shared {
    type Args = (Arc<Mutex<Vec<u64>>>, usize);
    type Call = ();
    type Reply = ();
    type DeleteArgs = ();
    type Terminated = ();

    fn init((cells, i): (Arc<Mutex<Vec<u64>>>, usize)) -> Init<Self> {
        Init::Ok(Shared(cells, i))
    }

    fn handle_event(&mut self, n: &u64) -> Handled<u64, Self> {
        self.0.lock().unwrap()[self.1] += n;
        Handled::Ok
    }

    fn terminate(self, _: Removal<()>) {}
}

#[test]
fn sync_notify_returns_after_every_handler_handled_the_event() {
    run(|| {
        const HANDLERS: usize = 20;
        let cells = Arc::new(Mutex::new(vec![0u64; HANDLERS]));
        let m = gen_event::start_link::<u64>().unwrap();
        for i in 0..HANDLERS {
            let id = HandlerId::<Shared>::instance(i.to_string());
            gen_event::add_handler(m, &id, (cells.clone(), i)).unwrap();
        }
        for round in 1..=50u64 {
            gen_event::notify(m, 1);
            gen_event::sync_notify(m, 1).unwrap();
            assert_eq!(*cells.lock().unwrap(), vec![2 * round; HANDLERS]);
        }
    });
}

#[test]
fn notify_is_asynchronous_and_ordered_per_sender() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        add_probes(m, &["log"]);
        // The handler blocks on this event until it gets a Go: a notify that waited
        // for the handler would never return.
        gen_event::notify(m, Ev::GateIn("log"));
        const SENDERS: u64 = 4;
        const EACH: u64 = 200;
        let root = self_pid();
        for sender in 0..SENDERS {
            spawn(move || {
                for seq in 0..EACH {
                    gen_event::notify(m, Ev::From(sender, seq));
                }
                send(root, sender).unwrap();
            })
            .unwrap();
        }
        for _ in 0..SENDERS {
            next::<u64>();
        }
        send(m.pid(), Go).unwrap();
        gen_event::sync_notify(m, Ev::N(0)).unwrap();
        let (_, log) = gen_event::call(m, &probe("log"), Ask::Count).unwrap();
        assert_eq!(log.len() as u64, SENDERS * EACH);
        for sender in 0..SENDERS {
            let seqs: Vec<u64> = log.iter().filter(|e| e.0 == sender).map(|e| e.1).collect();
            assert_eq!(seqs, (0..EACH).collect::<Vec<_>>(), "sender {sender}");
        }
    });
}

#[test]
fn add_sup_handler_reports_every_removal_to_the_adder() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        let me = self_pid();
        let sup = |tag| gen_event::add_sup_handler(m, &probe(tag), (me, tag, 0)).unwrap();
        for tag in ["crash", "quit", "del", "old", "last"] {
            sup(tag);
            assert_eq!(next::<Said>(), Said::Inited(tag, 0));
        }
        gen_event::notify(m, Ev::PanicIn("crash"));
        let exit = next::<HandlerExit>();
        assert_eq!(
            (exit.manager, exit.handler),
            (m.pid(), probe("crash").any())
        );
        assert!(
            matches!(exit.reason, RemoveReason::Error(ExitReason::Panic(ref p)) if p.message() == "handler crash blew up")
        );

        gen_event::notify(m, Ev::RemoveIn("quit"));
        let exit = next::<HandlerExit>();
        assert_eq!(
            (exit.handler, exit.reason),
            (probe("quit").any(), RemoveReason::Normal)
        );

        assert_eq!(gen_event::delete_handler(m, &probe("del"), 1), Ok(0));
        let exit = next::<HandlerExit>();
        assert_eq!(
            (exit.handler, exit.reason),
            (probe("del").any(), RemoveReason::Normal)
        );

        let to = SwapTo::new(&probe("new"), move |_| (me, "new", 0));
        gen_event::swap_handler(m, &probe("old"), 2, to).unwrap();
        let exit = next::<HandlerExit>();
        let swapped = RemoveReason::Swapped {
            to: probe("new").any(),
            supervisor: Some(me),
        };
        assert_eq!((exit.handler, exit.reason), (probe("old").any(), swapped));

        // The swapped-in handler inherited the supervision: stopping reports both.
        gen_event::stop(m, ExitReason::Normal, PATIENCE).unwrap();
        let mut shut: Vec<_> = (0..2).map(|_| next::<HandlerExit>()).collect();
        shut.sort_by_key(|e| e.handler.to_string());
        for (exit, tag) in shut.iter().zip(["last", "new"]) {
            assert_eq!(
                (&exit.handler, &exit.reason),
                (&probe(tag).any(), &RemoveReason::Shutdown)
            );
        }
    });
}

#[test]
fn the_adder_is_unlinked_once_it_supervises_no_handler() {
    run(|| {
        let m = gen_event::start::<Ev>().unwrap();
        let me = self_pid();
        gen_event::add_sup_handler(m, &probe("s"), (me, "s", 0)).unwrap();
        assert!(process_info(me).unwrap().links.contains(&m.pid()));
        assert_eq!(gen_event::delete_handler(m, &probe("s"), 0), Ok(0));
        // The manager unlinks before it takes its next message, so its side of the
        // link is gone once it answers again.
        assert_eq!(gen_event::which_handlers(m).unwrap(), vec![]);
        assert!(!process_info(m.pid()).unwrap().links.contains(&me));
        gen_event::stop(m, ExitReason::Normal, PATIENCE).unwrap();
    });
}

#[test]
fn the_adders_exit_removes_its_handlers_before_the_others_hear_of_it() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        let root = self_pid();
        add_probes(m, &["other"]);
        let adder = spawn(move || {
            gen_event::add_sup_handler(m, &probe("sup"), (root, "sup", 0)).unwrap();
            send(root, "added").unwrap();
            receive::<Go>();
            beamlet::exit(ExitReason::custom("adder quits"));
        })
        .unwrap();
        assert_eq!(next::<Said>(), Said::Inited("sup", 0));
        assert_eq!(next::<&str>(), "added");
        assert_eq!(
            gen_event::which_handlers(m).unwrap(),
            ids(&["sup", "other"])
        );
        send(adder, Go).unwrap();
        let reason = ExitReason::custom("adder quits");
        assert_eq!(
            next::<Said>(),
            Said::Gone("sup", Why::AdderExited(reason.clone()))
        );
        assert_eq!(
            next::<Said>(),
            Said::Info("other", format!("exit {reason}"))
        );
        assert_eq!(gen_event::which_handlers(m).unwrap(), ids(&["other"]));
        assert!(is_alive(m.pid()));
    });
}

#[test]
fn delete_handler_returns_what_terminate_returned() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        add_probes(m, &["a", "b"]);
        gen_event::sync_notify(m, Ev::N(5)).unwrap();
        assert_eq!(gen_event::delete_handler(m, &probe("a"), 42), Ok(5));
        assert_eq!(next::<Said>(), Said::Gone("a", Why::Deleted(42)));
        assert_eq!(
            gen_event::delete_handler(m, &probe("a"), 42),
            Err(HandlerError::NotInstalled)
        );
        assert_eq!(gen_event::which_handlers(m).unwrap(), ids(&["b"]));
    });
}

#[test]
fn swap_handler_hands_the_old_state_to_the_new_handlers_init() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        let me = self_pid();
        add_probes(m, &["a", "b"]);
        gen_event::sync_notify(m, Ev::N(3)).unwrap();
        let to = SwapTo::new(&probe("a2"), move |old: Previous<u64>| {
            (me, "a2", old.terminated().unwrap() * 10)
        });
        gen_event::swap_handler(m, &probe("a"), 9, to).unwrap();
        assert_eq!(next::<Said>(), Said::Gone("a", Why::Swapped(9)));
        assert_eq!(next::<Said>(), Said::Inited("a2", 30));
        // The new handler goes first, as an added one.
        assert_eq!(gen_event::which_handlers(m).unwrap(), ids(&["a2", "b"]));

        // Swapping out a handler that is not installed still adds the new one.
        let to = SwapTo::new(&probe("c"), move |old: Previous<u64>| {
            assert_eq!(old, Previous::NotInstalled);
            (me, "c", 1)
        });
        gen_event::swap_handler(m, &probe("missing"), 0, to).unwrap();
        assert_eq!(next::<Said>(), Said::Inited("c", 1));

        // A failing init: the old handler is gone, the error is returned.
        let to = SwapTo::new(&probe("refuse"), move |_| (me, "refuse", 0));
        let r = gen_event::swap_handler(m, &probe("c"), 0, to);
        assert_eq!(r, Err(HandlerError::Refused(ExitReason::custom("refused"))));
        assert_eq!(next::<Said>(), Said::Gone("c", Why::Swapped(0)));
        assert_eq!(gen_event::which_handlers(m).unwrap(), ids(&["a2", "b"]));
    });
}

#[test]
fn a_handler_swapping_itself_is_replaced_in_place() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        add_probes(m, &["a", "b", "c"]);
        gen_event::notify(m, Ev::N(4));
        gen_event::sync_notify(m, Ev::SwapIn("b", "b2")).unwrap();
        assert_eq!(next::<Said>(), Said::Gone("b", Why::Swapped(7)));
        assert_eq!(next::<Said>(), Said::Inited("b2", 4));
        assert_eq!(
            gen_event::which_handlers(m).unwrap(),
            ids(&["c", "b2", "a"])
        );
        assert_eq!(count(m, "b2"), Ok(4));
    });
}

#[test]
fn add_handler_reports_a_refusing_or_panicking_init() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        let me = self_pid();
        let r = gen_event::add_handler(m, &probe("refuse"), (me, "refuse", 0));
        assert_eq!(r, Err(HandlerError::Refused(ExitReason::custom("refused"))));
        let r = gen_event::add_handler(m, &probe("explode"), (me, "explode", 0));
        assert!(
            matches!(r, Err(HandlerError::Crashed(ExitReason::Panic(ref p))) if p.message() == "init blew up")
        );
        assert_eq!(gen_event::which_handlers(m).unwrap(), vec![]);
    });
}

#[test]
fn calls_to_a_missing_handler_or_a_dead_manager_are_typed_errors() {
    run(|| {
        let m = gen_event::start::<Ev>().unwrap();
        add_probes(m, &["a"]);
        assert_eq!(count(m, "a"), Ok(0));
        assert_eq!(count(m, "nobody"), Err(HandlerError::NotInstalled));
        gen_event::stop(m, ExitReason::Normal, PATIENCE).unwrap();
        assert_eq!(next::<Said>(), Said::Gone("a", Why::Stopped));
        assert_eq!(count(m, "a"), Err(HandlerError::Manager(CallError::NoProc)));
        assert_eq!(gen_event::sync_notify(m, Ev::N(1)), Err(CallError::NoProc));
        let r = gen_event::add_handler(m, &probe("b"), (self_pid(), "b", 0));
        assert_eq!(r, Err(HandlerError::Manager(CallError::NoProc)));
    });
}

#[test]
fn stopping_the_manager_runs_every_handlers_terminate() {
    run(|| {
        let m = gen_event::start_named::<Ev>("stoppable").unwrap();
        add_probes(m, &["a", "b", "c"]);
        gen_event::stop(m, ExitReason::Shutdown, PATIENCE).unwrap();
        let gone: Vec<_> = (0..3).map(|_| next::<Said>()).collect();
        let stopped = |t| Said::Gone(t, Why::Stopped);
        assert_eq!(gone, vec![stopped("c"), stopped("b"), stopped("a")]);
        assert!(!is_alive(m.pid()));
        assert_eq!(EventManager::<Ev>::whereis("stoppable"), None);
    });
}

#[test]
fn the_parents_exit_stops_the_manager_through_terminate() {
    run(|| {
        let root = self_pid();
        trap_exit(true);
        let parent = spawn_link(move || {
            let m = gen_event::start_link::<Ev>().unwrap();
            gen_event::add_handler(m, &probe("a"), (root, "a", 0)).unwrap();
            send(root, m).unwrap();
            receive::<Go>();
            beamlet::exit(ExitReason::Shutdown);
        })
        .unwrap();
        assert_eq!(next::<Said>(), Said::Inited("a", 0));
        let m = next::<EventManager<Ev>>();
        let mref = monitor(m.pid());
        send(parent, Go).unwrap();
        assert_eq!(next::<Said>(), Said::Gone("a", Why::Stopped));
        let exit = next::<Exit>();
        assert_eq!((exit.from, exit.reason), (parent, ExitReason::Shutdown));
        let down = next::<Down>();
        assert_eq!((down.monitor, down.reason), (mref, ExitReason::Shutdown));
    });
}

#[test]
fn a_killed_adder_removes_its_handler_too() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        let root = self_pid();
        let adder = spawn(move || {
            gen_event::add_sup_handler(m, &probe("k"), (root, "k", 0)).unwrap();
            send(root, "added").unwrap();
            receive::<Go>();
        })
        .unwrap();
        assert_eq!(next::<Said>(), Said::Inited("k", 0));
        assert_eq!(next::<&str>(), "added");
        exit_pid(adder, ExitReason::Kill);
        assert_eq!(
            next::<Said>(),
            Said::Gone("k", Why::AdderExited(ExitReason::Killed))
        );
        assert_eq!(gen_event::which_handlers(m).unwrap(), vec![]);
    });
}

/// Waits (up to [`PATIENCE`]) until `pid` has `status`.
fn wait_status(pid: Pid, status: ProcessStatus) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if process_info(pid).map(|i| i.status) == Some(status) {
            return true;
        }
        sleep(Duration::from_millis(1));
    }
    false
}

#[test]
fn a_hibernate_result_hibernates_the_manager_and_the_handlers_keep_their_state() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        add_probes(m, &["a", "b"]);
        gen_event::sync_notify(m, Ev::N(2)).unwrap();
        gen_event::notify(m, Ev::Hibernate);
        assert!(wait_status(m.pid(), ProcessStatus::Hibernated));
        gen_event::sync_notify(m, Ev::N(3)).unwrap();
        assert_eq!(count(m, "a"), Ok(5));
        assert_eq!(count(m, "b"), Ok(5));
    });
}

#[test]
fn the_manager_answers_sys_suspend_resume_and_statistics() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        add_probes(m, &["a"]);
        sys::suspend(m).unwrap();
        // Suspended, the manager leaves events in its mailbox.
        gen_event::notify(m, Ev::N(1));
        let stats = sys::statistics(m).unwrap();
        assert!(stats.suspended);
        assert_eq!(stats.messages_handled, 1, "only the add so far");
        sys::resume(m).unwrap();
        assert_eq!(count(m, "a"), Ok(1));
        assert!(!sys::statistics(m).unwrap().suspended);
    });
}

#[test]
fn a_panic_in_terminate_is_the_deletes_result_and_the_swaps_previous() {
    run(|| {
        let m = gen_event::start_link::<Ev>().unwrap();
        let me = self_pid();
        add_probes(m, &["badterm1", "badterm2"]);
        let r = gen_event::delete_handler(m, &probe("badterm1"), 0);
        assert!(
            matches!(r, Err(HandlerError::Crashed(ExitReason::Panic(ref p))) if p.message() == "terminate blew up")
        );
        assert_eq!(next::<Said>(), Said::Gone("badterm1", Why::Deleted(0)));
        let to = SwapTo::new(&probe("next"), move |old: Previous<u64>| {
            assert!(matches!(old, Previous::Crashed(ExitReason::Panic(_))));
            (me, "next", 99)
        });
        gen_event::swap_handler(m, &probe("badterm2"), 1, to).unwrap();
        assert_eq!(next::<Said>(), Said::Gone("badterm2", Why::Swapped(1)));
        assert_eq!(next::<Said>(), Said::Inited("next", 99));
        assert_eq!(gen_event::which_handlers(m).unwrap(), ids(&["next"]));
    });
}
