//! Calls that reach the wrong kind of process fail fast with
//! `CallError::WrongType` (a typed handle of the wrong type, a `gen_server` call to
//! a state machine, a supervisor call to a dynamic supervisor, an event of the
//! wrong type), and the server carries on; supervisor functions take names and a
//! timeout (`SupRef`), waiting for ever by default.

use std::any::type_name;
use std::time::Duration;

use beamlet::otp::dynamic_supervisor::{self, DynamicOptions, DynamicSupervisor};
use beamlet::otp::gen_event;
use beamlet::otp::gen_server::{
    self, CallError, CallReply, Caller, GenServer, Init, ServerRef, StartOptions,
};
use beamlet::otp::gen_statem::{self, Event, GenStateMachine, MachineRef, Transition};
use beamlet::otp::supervisor::{self, ChildSpec, SupRef, Supervisor, SupervisorError};
use beamlet::otp::sys;
use beamlet::{is_alive, receive, receive_timeout, self_pid, send, spawn, spawn_link};

mod common;
use common::{PATIENCE, run};

/// A server answering `Double(n)` with `2n`.
struct Doubler;

#[derive(Debug)]
struct Double(u32);

impl GenServer for Doubler {
    type Args = ();
    type Call = Double;
    type Reply = u32;
    type Cast = ();
    type Continue = ();

    fn init((): ()) -> Init<Self, ()> {
        Init::Ok(Doubler)
    }

    fn handle_call(&mut self, Double(n): Double, _: Caller<u32>) -> CallReply<u32, ()> {
        CallReply::Reply(2 * n)
    }
}

/// A state machine answering every call with `()`.
struct Light;

impl GenStateMachine for Light {
    type Args = ();
    type State = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Internal = ();
    type TimeoutName = ();

    fn init((): ()) -> gen_statem::Init<Self> {
        gen_statem::Init::ok((), Light)
    }

    fn handle_event(&mut self, _: &(), event: Event<Self>) -> Transition<Self> {
        match event {
            Event::Call((), from) => Transition::keep_state().reply(from, ()),
            _ => Transition::keep_state(),
        }
    }
}

fn idle(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || spawn_link(receive::<()>))
}

fn empty_supervisor(name: Option<&str>) -> ServerRef<Supervisor> {
    let opts = match name {
        Some(n) => StartOptions::new().name(n),
        None => StartOptions::new(),
    };
    supervisor::start_link_with(vec![], Default::default(), opts).unwrap()
}

fn wrong_type<S, Q>() -> CallError {
    CallError::WrongType {
        server: type_name::<S>(),
        request: type_name::<Q>(),
    }
}

#[test]
fn a_gen_server_call_through_a_handle_of_the_wrong_type_is_refused_at_once() {
    run(|| {
        let sup = empty_supervisor(None);
        let fake = ServerRef::<Doubler>::from_pid(sup.pid());
        // Infinite timeout: only the refusal can end this call.
        let got = gen_server::call_timeout(fake, Double(1), Duration::MAX);
        assert_eq!(got, Err(wrong_type::<Supervisor, Double>()));
        // The supervisor carries on, and still answers its own calls.
        assert_eq!(supervisor::count_children(sup).unwrap().specs, 0);
    });
}

#[test]
fn a_supervisor_call_to_a_dynamic_supervisor_is_refused_and_the_other_way_round() {
    run(|| {
        let dynamic = dynamic_supervisor::start_link(DynamicOptions::default()).unwrap();
        let as_static = ServerRef::<Supervisor>::from_pid(dynamic.pid());
        let Err(CallError::WrongType { server, .. }) = supervisor::which_children(as_static) else {
            panic!("a dynamic supervisor must refuse a supervisor call");
        };
        assert_eq!(server, type_name::<DynamicSupervisor>());
        let sup = empty_supervisor(None);
        let as_dynamic = ServerRef::<DynamicSupervisor>::from_pid(sup.pid());
        let started = dynamic_supervisor::start_child(as_dynamic, idle("w"));
        assert!(matches!(
            started,
            Err(SupervisorError::Call(CallError::WrongType { server, .. }))
                if server == type_name::<Supervisor>()
        ));
        assert!(
            dynamic_supervisor::which_children(dynamic)
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn a_gen_server_call_to_a_state_machine_and_back_are_refused() {
    run(|| {
        let light = gen_statem::start_link::<Light>(()).unwrap();
        let fake = ServerRef::<Doubler>::from_pid(light.pid());
        assert_eq!(
            gen_server::call(fake, Double(2)),
            Err(wrong_type::<Light, Double>())
        );
        assert_eq!(gen_statem::call(light, ()), Ok(()));

        let doubler = gen_server::start_link::<Doubler>(()).unwrap();
        let fake = MachineRef::<Light>::from_pid(doubler.pid());
        assert_eq!(gen_statem::call(fake, ()), Err(wrong_type::<Doubler, ()>()));
        assert_eq!(gen_server::call(doubler, Double(4)), Ok(8));
    });
}

#[test]
fn a_split_request_to_the_wrong_server_gets_the_refusal_as_its_response() {
    run(|| {
        let light = gen_statem::start_link::<Light>(()).unwrap();
        let fake = ServerRef::<Doubler>::from_pid(light.pid());
        let req = gen_server::send_request(fake, Double(3));
        let got = gen_server::wait_response(&req, PATIENCE);
        assert_eq!(got, Err(wrong_type::<Light, Double>()));
    });
}

#[test]
fn an_event_manager_refuses_a_call_of_another_event_type() {
    run(|| {
        let manager = gen_event::start_link::<u32>().unwrap();
        let fake = gen_event::EventManager::<String>::from_pid(manager.pid());
        let got = gen_event::sync_notify(fake, "event".to_string());
        assert_eq!(
            got,
            Err(wrong_type::<gen_event::EventManager<u32>, String>())
        );
        assert_eq!(gen_event::sync_notify(manager, 1), Ok(()));
    });
}

#[test]
fn system_calls_still_reach_every_behaviour() {
    run(|| {
        let sup = empty_supervisor(None);
        assert!(sys::statistics(sup).is_ok());
        assert!(is_alive(sup.pid()));
    });
}

#[test]
fn a_call_to_a_process_that_is_no_behaviour_waits_for_its_timeout() {
    run(|| {
        let plain = spawn(|| {
            receive::<()>();
        })
        .unwrap();
        let fake = ServerRef::<Doubler>::from_pid(plain);
        let got = gen_server::call_timeout(fake, Double(1), Duration::from_millis(10));
        assert_eq!(got, Err(CallError::Timeout));
        send(plain, ()).unwrap();
    });
}

#[test]
fn supervisor_functions_take_a_name() {
    run(|| {
        empty_supervisor(Some("calls_sup"));
        let pid = supervisor::start_child("calls_sup", idle("w"))
            .unwrap()
            .unwrap();
        assert_eq!(
            supervisor::which_children("calls_sup").unwrap()[0]
                .pid
                .pid(),
            Some(pid)
        );
        supervisor::terminate_child("calls_sup".to_string(), "w").unwrap();
        supervisor::delete_child("calls_sup", "w").unwrap();
        assert_eq!(supervisor::count_children("calls_sup").unwrap().specs, 0);
        assert_eq!(
            supervisor::count_children("no_such_sup"),
            Err(CallError::NoProc)
        );
        assert_eq!(
            supervisor::restart_child("no_such_sup", "w"),
            Err(SupervisorError::Call(CallError::NoProc))
        );
    });
}

#[test]
fn dynamic_supervisor_functions_take_a_name() {
    run(|| {
        let opts = StartOptions::new().name("calls_dyn");
        dynamic_supervisor::start_link_with(DynamicOptions::default(), opts).unwrap();
        let pid = dynamic_supervisor::start_child("calls_dyn", idle("w"))
            .unwrap()
            .unwrap();
        assert_eq!(
            dynamic_supervisor::get_childspec("calls_dyn", pid)
                .unwrap()
                .id,
            "w"
        );
        assert_eq!(
            dynamic_supervisor::count_children("calls_dyn")
                .unwrap()
                .active,
            1
        );
        dynamic_supervisor::terminate_child("calls_dyn", pid).unwrap();
        assert!(
            dynamic_supervisor::which_children("calls_dyn")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            dynamic_supervisor::which_children("nobody"),
            Err(CallError::NoProc)
        );
    });
}

/// A message a blocked child start waits for, in the supervisor's process.
struct Go;

#[test]
fn a_supervisor_call_waits_for_ever_by_default_and_a_timeout_bounds_it() {
    run(|| {
        let me = self_pid();
        let sup = empty_supervisor(None);
        // A child whose start blocks the supervisor until it gets `Go`.
        let slow = ChildSpec::worker("slow", move || {
            send(me, "starting").unwrap();
            receive::<Go>();
            spawn_link(receive::<()>)
        });
        spawn(move || {
            let r = supervisor::start_child(sup, slow);
            send(me, r.map(|p| p.is_some())).unwrap();
        })
        .unwrap();
        assert_eq!(receive_timeout::<&str>(PATIENCE), Some("starting"));
        // The supervisor is inside the start: a bounded call gives up.
        let bounded = SupRef::from(sup).timeout(Duration::from_millis(10));
        assert_eq!(supervisor::which_children(bounded), Err(CallError::Timeout));
        send(sup.pid(), Go).unwrap();
        // The default wait is for ever: the start's caller got its answer.
        let started = receive_timeout::<Result<bool, SupervisorError>>(PATIENCE);
        assert_eq!(started, Some(Ok(true)));
        assert_eq!(supervisor::count_children(sup).unwrap().active, 1);
    });
}
