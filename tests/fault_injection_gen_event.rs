//! Fault injection into event managers: a panic in every callback of an event
//! handler removes that handler only (its `terminate` told why, its adder sent a
//! `HandlerExit`), and the manager and the other handlers go on, as the
//! `gen_event` module's contract says. Exact outcomes only; timeouts guard hangs.

mod common;

use std::collections::HashSet;

use beamlet::otp::gen_event::{
    self, CallHandled, EventHandler, Handled, HandlerError, HandlerExit, HandlerId, Removal,
    RemoveReason,
};
use beamlet::{
    Down, ExitReason, Message, Pid, monitor, processes, receive_select, receive_timeout, self_pid,
    send, try_receive,
};
use common::{PATIENCE, run};

/// The info message that makes `handle_info` panic.
struct Boom;

/// The panic message of a `Panic` reason.
fn panic_message(reason: &ExitReason) -> Option<&str> {
    match reason {
        ExitReason::Panic(p) => Some(p.message()),
        _ => None,
    }
}

fn live() -> HashSet<Pid> {
    processes().into_iter().collect()
}

fn down_reason(pid: Pid) -> ExitReason {
    let pred = |m: &Message| m.downcast_ref::<Down>().is_some_and(|d| d.pid == pid);
    let msg = receive_select(None, pred, Some(PATIENCE)).expect("a Down");
    msg.downcast::<Down>().unwrap().reason
}

/// Which callback of a [`Fragile`] handler panics.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Weak {
    Init,
    Event,
    Call,
    Info,
    Terminate,
}

/// Why a handler's `terminate` ran, as its owner is told.
#[derive(Debug, Clone, PartialEq)]
enum Gone {
    Deleted,
    Stopped,
    Crashed(ExitReason),
    Other,
}

#[derive(Debug, Clone, PartialEq)]
struct HandlerGone(&'static str, Gone);

/// A handler that panics in one callback.
struct Fragile {
    weak: Weak,
    owner: Pid,
    tag: &'static str,
}

impl EventHandler<u32> for Fragile {
    type Args = (Weak, Pid, &'static str);
    type Call = ();
    type Reply = u32;
    type DeleteArgs = ();
    type Terminated = ();

    fn init((weak, owner, tag): (Weak, Pid, &'static str)) -> gen_event::Init<Self> {
        if weak == Weak::Init {
            panic!("boom in init");
        }
        gen_event::Init::Ok(Fragile { weak, owner, tag })
    }

    fn handle_event(&mut self, _: &u32) -> Handled<u32, Self> {
        if self.weak == Weak::Event {
            panic!("boom in handle_event");
        }
        Handled::Ok
    }

    fn handle_call(&mut self, (): ()) -> CallHandled<u32, Self> {
        if self.weak == Weak::Call {
            panic!("boom in handle_call");
        }
        CallHandled::Reply(0)
    }

    fn handle_info(&mut self, msg: &Message) -> Handled<u32, Self> {
        if self.weak == Weak::Info && msg.is::<Boom>() {
            panic!("boom in handle_info");
        }
        Handled::Ok
    }

    fn terminate(self, why: Removal<()>) {
        let gone = match why {
            Removal::Deleted(()) => Gone::Deleted,
            Removal::Stopped => Gone::Stopped,
            Removal::Crashed(r) => Gone::Crashed(r),
            _ => Gone::Other,
        };
        let _ = send(self.owner, HandlerGone(self.tag, gone));
        if self.weak == Weak::Terminate {
            panic!("boom in terminate");
        }
    }
}

/// A handler that counts events and survives everything.
struct Steady(u32);

impl EventHandler<u32> for Steady {
    type Args = ();
    type Call = ();
    type Reply = u32;
    type DeleteArgs = ();
    type Terminated = u32;

    fn init((): ()) -> gen_event::Init<Self> {
        gen_event::Init::Ok(Steady(0))
    }

    fn handle_event(&mut self, _: &u32) -> Handled<u32, Self> {
        self.0 += 1;
        Handled::Ok
    }

    fn handle_call(&mut self, (): ()) -> CallHandled<u32, Self> {
        CallHandled::Reply(self.0)
    }

    fn terminate(self, _: Removal<()>) -> u32 {
        self.0
    }
}

fn gone() -> HandlerGone {
    receive_timeout::<HandlerGone>(PATIENCE).expect("a terminate")
}

fn handler_exit() -> HandlerExit {
    receive_timeout::<HandlerExit>(PATIENCE).expect("a HandlerExit")
}

#[test]
fn gen_event_a_panicking_handler_is_removed_and_the_manager_and_others_survive() {
    run(|| {
        let me = self_pid();
        let baseline = live();
        let events = gen_event::start_link::<u32>().unwrap();
        monitor(events.pid());
        let steady = HandlerId::<Steady>::new();
        gen_event::add_handler(events, &steady, ()).unwrap();

        // A panic in init fails the add: not installed, no terminate.
        let id = HandlerId::<Fragile>::instance("init");
        let r = gen_event::add_sup_handler(events, &id, (Weak::Init, me, "init"));
        match r {
            Err(HandlerError::Crashed(reason)) => {
                assert_eq!(panic_message(&reason), Some("boom in init"))
            }
            other => panic!("{other:?}"),
        }

        // A panic in handle_event, handle_call, handle_info: removed with
        // terminate(Crashed(reason)), its adder told, the others untouched.
        let mut events_sent = 0;
        for (weak, tag, message) in [
            (Weak::Event, "event", "boom in handle_event"),
            (Weak::Call, "call", "boom in handle_call"),
            (Weak::Info, "info", "boom in handle_info"),
        ] {
            let id = HandlerId::<Fragile>::instance(tag);
            gen_event::add_sup_handler(events, &id, (weak, me, tag)).unwrap();
            match weak {
                Weak::Event => {
                    gen_event::sync_notify(events, 1).unwrap();
                    events_sent += 1;
                }
                Weak::Call => match gen_event::call(events, &id, ()) {
                    Err(HandlerError::Crashed(r)) => assert_eq!(panic_message(&r), Some(message)),
                    other => panic!("{other:?}"),
                },
                _ => send(events.pid(), Boom).unwrap(),
            }
            let HandlerGone(t, Gone::Crashed(reason)) = gone() else {
                panic!("not crashed")
            };
            assert_eq!((t, panic_message(&reason)), (tag, Some(message)));
            let exit = handler_exit();
            assert_eq!(exit.manager, events.pid());
            assert_eq!(exit.handler, id.any());
            assert_eq!(exit.reason, RemoveReason::Error(reason));
            assert_eq!(
                gen_event::which_handlers(events).unwrap(),
                vec![steady.any()]
            );
        }
        // The event that crashed a handler still reached the one after it.
        assert_eq!(gen_event::call(events, &steady, ()), Ok(events_sent));

        // A panic in terminate: the delete's result; the handler is gone anyway.
        let id = HandlerId::<Fragile>::instance("terminate");
        gen_event::add_handler(events, &id, (Weak::Terminate, me, "terminate")).unwrap();
        match gen_event::delete_handler(events, &id, ()) {
            Err(HandlerError::Crashed(r)) => {
                assert_eq!(panic_message(&r), Some("boom in terminate"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(gone(), HandlerGone("terminate", Gone::Deleted));
        assert_eq!(
            gen_event::which_handlers(events).unwrap(),
            vec![steady.any()]
        );

        // And on the manager's stop: the other handlers still terminate, and the
        // manager exits with the reason asked.
        gen_event::add_handler(events, &id, (Weak::Terminate, me, "terminate")).unwrap();
        let last = HandlerId::<Fragile>::instance("last");
        gen_event::add_handler(events, &last, (Weak::Call, me, "last")).unwrap();
        gen_event::sync_notify(events, 2).unwrap();
        assert_eq!(gen_event::call(events, &steady, ()), Ok(events_sent + 1));
        assert_eq!(
            gen_event::stop(events, ExitReason::Normal, PATIENCE),
            Ok(())
        );
        assert_eq!(gone(), HandlerGone("last", Gone::Stopped));
        assert_eq!(gone(), HandlerGone("terminate", Gone::Stopped));
        assert_eq!(down_reason(events.pid()), ExitReason::Normal);
        assert_eq!(try_receive::<HandlerGone>(), None);
        assert_eq!(live(), baseline);
    });
}
