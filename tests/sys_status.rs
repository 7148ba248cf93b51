//! Behaviours announce themselves (`set_behaviour`, seen in `process_info`), and
//! `sys::get_status` answers with the behaviour, the callback type, the
//! suspension and the state as `format_status` shows it.

mod common;

use std::time::Duration;

use beamlet::otp::agent::Agent;
use beamlet::otp::application::{self, Application, RestartType};
use beamlet::otp::gen_server::{self, GenServer, Init, StartError};
use beamlet::otp::gen_statem::{self, Event, GenStateMachine, Transition};
use beamlet::otp::registry::{Keys, Registry};
use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
use beamlet::otp::{CallError, dynamic_supervisor, gen_event, sys, task};
use beamlet::{Pid, process_info, receive, spawn_link};
use common::run;

struct Cell(u32);

impl GenServer for Cell {
    type Args = u32;
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();
    fn init(n: u32) -> Init<Self, ()> {
        Init::Ok(Cell(n))
    }
    fn format_status(&self) -> String {
        format!("Cell({})", self.0)
    }
}

struct Lamp;

impl GenStateMachine for Lamp {
    type Args = ();
    type State = bool;
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Internal = ();
    type TimeoutName = ();
    fn init(_: ()) -> gen_statem::Init<Self> {
        gen_statem::Init::ok(false, Lamp)
    }
    fn handle_event(&mut self, _: &bool, _: Event<Self>) -> Transition<Self> {
        Transition::keep_state()
    }
    fn format_status(&self, on: &bool) -> String {
        format!("on: {on}")
    }
}

fn kind(pid: impl Into<Pid>) -> Option<&'static str> {
    process_info(pid.into())
        .and_then(|i| i.behaviour)
        .map(|b| b.kind)
}

fn module(pid: impl Into<Pid>) -> &'static str {
    process_info(pid.into())
        .and_then(|i| i.behaviour)
        .unwrap()
        .module
}

#[test]
fn every_behaviour_announces_itself() {
    run(|| {
        let cell = gen_server::start_link::<Cell>(1).unwrap();
        assert_eq!(kind(cell), Some("gen_server"));
        assert!(module(cell).ends_with("Cell"), "{}", module(cell));

        let sup = supervisor::start_link(vec![], SupervisorFlags::default()).unwrap();
        assert_eq!(kind(sup), Some("supervisor"));
        let dynamic = dynamic_supervisor::start_link(Default::default()).unwrap();
        assert_eq!(kind(dynamic), Some("dynamic_supervisor"));
        let lamp = gen_statem::start_link::<Lamp>(()).unwrap();
        assert_eq!(kind(lamp.pid()), Some("gen_statem"));
        let events = gen_event::start_link::<u32>().unwrap();
        assert_eq!(kind(events.pid()), Some("gen_event"));
        let agent = Agent::start_link(|| 0u8).unwrap();
        assert_eq!(kind(agent.pid()), Some("agent"));
        let reg = Registry::<u32, ()>::start_link("status_reg", Keys::Unique, 1).unwrap();
        assert_eq!(kind(reg.pid()), Some("registry"));

        let t = task::spawn(|| {
            let me = beamlet::self_pid();
            process_info(me).and_then(|i| i.behaviour).map(|b| b.kind)
        })
        .unwrap();
        assert_eq!(t.wait(), Ok(Some("task")));

        let plain = spawn_link(|| {
            receive::<()>();
        })
        .unwrap();
        assert_eq!(kind(plain), None, "a plain process announces nothing");
    });
}

#[test]
fn an_application_master_is_labelled_with_its_application() {
    run(|| {
        fn tree() -> Result<Pid, StartError> {
            let w = ChildSpec::worker("w", || {
                spawn_link(|| {
                    loop {
                        receive::<()>()
                    }
                })
            });
            supervisor::start_link(vec![w], SupervisorFlags::default()).map(Into::into)
        }
        application::load(Application::new("status_shop", tree)).unwrap();
        application::start("status_shop", RestartType::Temporary).unwrap();
        let mut masters = Vec::new();
        beamlet::for_each_process(|p| {
            if p.behaviour.is_some_and(|b| b.kind == "application_master") {
                masters.push((p.pid, p.label.clone()));
            }
        });
        assert_eq!(masters.len(), 1);
        assert_eq!(masters[0].1.as_deref(), Some("status_shop"));
        // The top supervisor's parent is the master.
        let mut tops = Vec::new();
        beamlet::for_each_process(|p| {
            if p.parent == Some(masters[0].0) {
                tops.push(p.behaviour.map(|b| b.kind));
            }
        });
        assert_eq!(tops, [Some("supervisor")]);
        application::stop("status_shop").unwrap();
    });
}

#[test]
fn get_status_tells_kind_module_suspension_and_state() {
    run(|| {
        let cell = gen_server::start_link::<Cell>(7).unwrap();
        let s = sys::get_status(cell).unwrap();
        assert_eq!((s.kind, s.suspended), ("gen_server", false));
        assert!(s.module.ends_with("Cell"));
        assert_eq!(s.state.as_deref(), Some("Cell(7)"));
        sys::suspend(cell).unwrap();
        assert!(sys::get_status(cell).unwrap().suspended);
        sys::resume(cell).unwrap();
        assert!(!sys::get_status(cell).unwrap().suspended);

        // A supervisor runs a server's loop but says what it is.
        let sup = supervisor::start_link(vec![], SupervisorFlags::default()).unwrap();
        let s = sys::get_status(sup).unwrap();
        assert_eq!(s.kind, "supervisor");
        assert!(s.module.ends_with("Supervisor"), "{}", s.module);

        let lamp = gen_statem::start_link::<Lamp>(()).unwrap();
        let s = sys::get_status(lamp.pid()).unwrap();
        assert_eq!(s.kind, "gen_statem");
        assert_eq!(s.state.as_deref(), Some("on: false"));

        let events = gen_event::start_link::<u32>().unwrap();
        let s = sys::get_status(events.pid()).unwrap();
        assert_eq!((s.kind, s.state), ("gen_event", None));
    });
}

#[test]
fn get_status_of_a_plain_process_times_out() {
    run(|| {
        let plain = spawn_link(|| {
            receive::<()>();
        })
        .unwrap();
        let r = sys::get_status_timeout(plain, Duration::from_millis(20));
        assert_eq!(r, Err(CallError::Timeout));
        beamlet::send(plain, ()).unwrap();
    });
}

/// The spawn site `process_info` shows for a process.
fn site(pid: impl Into<Pid>) -> String {
    let at = process_info(pid.into())
        .and_then(|i| i.spawned_at)
        .expect("a spawn site");
    format!("{}:{}", at.file(), at.line())
}

#[test]
fn a_behaviour_is_shown_as_started_where_its_start_function_was_called() {
    run(|| {
        let line = line!() + 1;
        let cell = gen_server::start_link::<Cell>(1).unwrap();
        assert_eq!(site(cell), format!("{}:{line}", file!()));
        let line = line!() + 1;
        let sup = supervisor::start_link(vec![], SupervisorFlags::default()).unwrap();
        assert_eq!(site(sup), format!("{}:{line}", file!()));
        let line = line!() + 1;
        let dynamic = dynamic_supervisor::start_link(Default::default()).unwrap();
        assert_eq!(site(dynamic), format!("{}:{line}", file!()));
        let line = line!() + 1;
        let lamp = gen_statem::start_link::<Lamp>(()).unwrap();
        assert_eq!(site(lamp.pid()), format!("{}:{line}", file!()));
        let line = line!() + 1;
        let events = gen_event::start_link::<u32>().unwrap();
        assert_eq!(site(events.pid()), format!("{}:{line}", file!()));
        let line = line!() + 1;
        let agent = Agent::start_link(|| 0u8).unwrap();
        assert_eq!(site(agent.pid()), format!("{}:{line}", file!()));
        let line = line!() + 1;
        let t = task::spawn(|| ()).unwrap();
        assert_eq!(site(t.pid()), format!("{}:{line}", file!()));
        let _ = t.wait();
    });
}
