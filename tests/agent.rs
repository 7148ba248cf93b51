//! Agent: Elixir's `Agent` rules, one per test.

mod common;

use std::time::Duration;

use beamlet::otp::agent::Agent;
use beamlet::otp::gen_server::{CallError, StartError, StartOptions};
use beamlet::{Exit, ExitReason, is_alive, receive, spawn, trap_exit, whereis};
use common::run;

fn is_panic_with(reason: &ExitReason, text: &str) -> bool {
    matches!(reason, ExitReason::Panic(p) if p.message() == text)
}

#[test]
fn get_update_get_and_update_and_cast_apply_in_the_order_sent() {
    run(|| {
        let a = Agent::start_link(Vec::<u32>::new).unwrap();
        a.cast(|v| v.push(1));
        a.update(|v| v.push(2)).unwrap();
        a.cast(|v| v.push(3));
        assert_eq!(a.get_and_update(|v| v.pop()), Ok(Some(3)));
        a.cast(|v| v.push(4));
        assert_eq!(a.get(|v| v.clone()), Ok(vec![1, 2, 4]));
    });
}

#[test]
fn a_named_agent_is_found_by_its_name_and_the_name_is_unique() {
    run(|| {
        let opts = StartOptions::new().name("counter");
        let a = Agent::start_link_with(|| 10u64, opts.clone()).unwrap();
        assert_eq!(whereis("counter"), Some(a.pid()));
        let found = Agent::<u64>::whereis("counter").unwrap();
        found.update(|n| *n += 1).unwrap();
        assert_eq!(a.get(|n| *n), Ok(11));
        let again = Agent::start_link_with(|| 0u64, opts);
        assert_eq!(again, Err(StartError::AlreadyStarted(a.pid())));
    });
}

#[test]
fn stop_ends_the_agent_and_later_calls_get_noproc() {
    run(|| {
        let a = Agent::start_link(|| "state").unwrap();
        assert_eq!(a.stop(), Ok(()));
        assert!(!is_alive(a.pid()));
        assert_eq!(a.get(|s| s.len()), Err(CallError::NoProc));
        assert_eq!(a.stop(), Err(CallError::NoProc));
    });
}

#[test]
fn a_panicking_update_kills_the_agent_and_the_caller_gets_a_typed_error() {
    run(|| {
        let a = Agent::start(|| 0u8).unwrap();
        let r = a.update(|_| panic!("bad update"));
        assert!(
            matches!(&r, Err(CallError::Exit(reason)) if is_panic_with(reason, "bad update")),
            "{r:?}"
        );
        assert!(!is_alive(a.pid()));
        assert_eq!(a.get(|n| *n), Err(CallError::NoProc));
    });
}

#[test]
fn a_crashing_linked_agent_sends_its_exit_to_a_trapping_starter() {
    run(|| {
        trap_exit(true);
        let a = Agent::start_link(|| 0u8).unwrap();
        a.cast(|_| panic!("bad cast"));
        let e = receive::<Exit>();
        assert_eq!(e.from, a.pid());
        assert!(is_panic_with(&e.reason, "bad cast"), "{:?}", e.reason);
    });
}

#[test]
fn a_panicking_init_fails_the_start() {
    run(|| {
        let r = Agent::<u8>::start_link(|| panic!("no state"));
        assert!(
            matches!(&r, Err(StartError::Stop(reason)) if is_panic_with(reason, "no state")),
            "{r:?}"
        );
    });
}

#[test]
fn a_busy_agent_times_a_get_out() {
    run(|| {
        let a = Agent::start_link(|| ()).unwrap();
        // The agent is busy until it gets a `()`.
        a.cast(|_| receive::<()>());
        assert_eq!(
            a.get_timeout(|_| 1, Duration::from_millis(1)),
            Err(CallError::Timeout)
        );
        beamlet::send(a.pid(), ()).unwrap();
        // The agent is unharmed and answers once free.
        assert_eq!(a.get_timeout(|_| 2, common::PATIENCE), Ok(2));
    });
}

#[test]
fn many_processes_share_one_agent() {
    run(|| {
        let a = Agent::start_link(|| 0u64).unwrap();
        let me = beamlet::self_pid();
        for _ in 0..10 {
            spawn(move || {
                for _ in 0..100 {
                    a.update(|n| *n += 1).unwrap();
                }
                beamlet::send(me, ()).unwrap();
            })
            .unwrap();
        }
        for _ in 0..10 {
            receive::<()>();
        }
        assert_eq!(a.get(|n| *n), Ok(1000));
    });
}
