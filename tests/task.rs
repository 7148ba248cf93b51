//! Task: Elixir's `Task`, `Task.Supervisor` and `Task.async_stream` rules, one per test.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use beamlet::otp::supervisor::Shutdown;
use beamlet::otp::task::{self, OnTimeout, StreamOptions, Supervisor, Task, TaskError};
use beamlet::{
    Down, Exit, ExitReason, Pid, is_alive, message_queue_len, receive, receive_timeout, self_pid,
    send, sleep, spawn, spawn_monitor, trap_exit,
};
use common::{PATIENCE, run};

/// A task that reports its pid to `to`, then waits for a `u32` and returns it doubled.
fn waiting_task(to: Pid) -> Task<u32> {
    task::spawn(move || {
        send(to, self_pid()).unwrap();
        receive::<u32>() * 2
    })
    .unwrap()
}

fn is_panic_with(r: &Result<impl std::fmt::Debug, TaskError>, text: &str) -> bool {
    matches!(r, Err(TaskError::Exit(ExitReason::Panic(p))) if p.message() == text)
}

/// Polls until `pid` is gone (a hang guard, not a timing assertion).
fn wait_dead(pid: Pid) {
    let deadline = Instant::now() + PATIENCE;
    while is_alive(pid) {
        assert!(Instant::now() < deadline, "{pid} did not exit");
        sleep(Duration::from_millis(1));
    }
}

#[test]
fn wait_returns_the_value_and_leaves_the_mailbox_empty() {
    run(|| {
        let t = task::spawn(|| String::from("value")).unwrap();
        assert_eq!(t.wait(), Ok(String::from("value")));
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn wait_many_returns_results_in_the_order_of_the_tasks() {
    run(|| {
        let me = self_pid();
        let tasks: Vec<Task<u32>> = (0..5).map(|_| waiting_task(me)).collect();
        let pids: Vec<Pid> = (0..5).map(|_| receive::<Pid>()).collect();
        // Let them finish last to first.
        for (i, t) in tasks.iter().enumerate().rev() {
            let pid = pids.iter().copied().find(|&p| p == t.pid()).unwrap();
            send(pid, i as u32).unwrap();
            wait_dead(pid);
        }
        assert_eq!(task::wait_many(tasks, PATIENCE), Ok(vec![0, 2, 4, 6, 8]));
    });
}

#[test]
fn wait_many_reports_a_crash_and_kills_the_others() {
    run(|| {
        trap_exit(true);
        let me = self_pid();
        let stuck = waiting_task(me);
        let stuck_pid = receive::<Pid>();
        let crash = task::spawn(|| -> u32 { panic!("one failed") }).unwrap();
        let r = task::wait_many(vec![stuck, crash], PATIENCE);
        assert!(is_panic_with(&r, "one failed"), "{r:?}");
        assert!(!is_alive(stuck_pid));
    });
}

#[test]
fn a_nolink_task_that_panics_gives_wait_an_exit_error() {
    run(|| {
        let sup = Supervisor::start_link().unwrap();
        let t = sup
            .spawn_nolink(|| -> u32 { panic!("nolink boom") })
            .unwrap();
        let r = t.wait();
        assert!(is_panic_with(&r, "nolink boom"), "{r:?}");
        // The caller was not linked: it lives, traps nothing, and its mailbox is clean.
        assert_eq!(message_queue_len(), 0);
        assert!(is_alive(sup.pid()));
    });
}

#[test]
fn a_linked_task_that_panics_gives_a_trapping_owner_an_exit_error() {
    run(|| {
        trap_exit(true);
        let t = task::spawn(|| -> u32 { panic!("linked boom") }).unwrap();
        let r = t.wait();
        assert!(is_panic_with(&r, "linked boom"), "{r:?}");
        // The link's `Exit` for the reported crash was removed.
        assert!(receive_timeout::<Exit>(Duration::ZERO).is_none());
    });
}

#[test]
fn a_trapping_owner_gets_no_exit_message_for_a_task_that_completed() {
    run(|| {
        trap_exit(true);
        let t = task::spawn(|| 3u8).unwrap();
        let pid = t.pid();
        assert_eq!(t.wait(), Ok(3));
        wait_dead(pid);
        assert!(receive_timeout::<Exit>(Duration::from_millis(5)).is_none());
    });
}

#[test]
fn a_linked_task_that_panics_kills_an_owner_that_does_not_trap() {
    run(|| {
        let (owner, _) = spawn_monitor(|| {
            let t = task::spawn(|| -> u32 { panic!("takes the owner down") }).unwrap();
            let _ = t.wait();
            unreachable!("the link ends the owner before wait returns");
        })
        .unwrap();
        let down = receive::<Down>();
        assert_eq!(down.pid, owner);
        assert!(
            matches!(&down.reason, ExitReason::Panic(p) if p.message() == "takes the owner down"),
            "{:?}",
            down.reason
        );
    });
}

#[test]
fn wait_timeout_kills_the_task_and_returns_timeout() {
    run(|| {
        let t = waiting_task(self_pid());
        let pid = receive::<Pid>();
        assert_eq!(
            t.wait_timeout(Duration::from_millis(20)),
            Err(TaskError::Timeout)
        );
        assert!(!is_alive(pid));
        // The kill did not reach the owner, and left nothing in its mailbox.
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn try_wait_leaves_the_task_running_and_wait_collects_later() {
    run(|| {
        let mut t = waiting_task(self_pid());
        let pid = receive::<Pid>();
        assert_eq!(t.try_wait_timeout(Duration::from_millis(5)), None);
        assert!(is_alive(pid));
        send(pid, 21u32).unwrap();
        assert_eq!(t.wait_timeout(PATIENCE), Ok(42));
    });
}

#[test]
fn try_wait_returns_the_result_once_then_taken() {
    run(|| {
        let mut t = waiting_task(self_pid());
        send(receive::<Pid>(), 5u32).unwrap();
        assert_eq!(t.try_wait_timeout(PATIENCE), Some(Ok(10)));
        assert_eq!(
            t.try_wait_timeout(Duration::ZERO),
            Some(Err(TaskError::Taken))
        );
        assert_eq!(t.wait(), Err(TaskError::Taken));
    });
}

#[test]
fn shutdown_stops_a_running_task_brutally_or_with_a_timeout() {
    run(|| {
        for how in [
            Shutdown::BrutalKill,
            Shutdown::Timeout(PATIENCE),
            Shutdown::Infinity,
        ] {
            let t = waiting_task(self_pid());
            let pid = receive::<Pid>();
            assert_eq!(t.shutdown(how), None, "{how:?}");
            assert!(!is_alive(pid));
        }
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn shutdown_kills_a_task_that_ignores_the_shutdown_signal() {
    run(|| {
        let me = self_pid();
        let t = task::spawn(move || {
            trap_exit(true);
            send(me, self_pid()).unwrap();
            loop {
                receive::<Exit>();
            }
        })
        .unwrap();
        let pid = receive::<Pid>();
        let r: Option<Result<(), TaskError>> =
            t.shutdown(Shutdown::Timeout(Duration::from_millis(20)));
        assert_eq!(r, None);
        assert!(!is_alive(pid));
    });
}

#[test]
fn shutdown_returns_a_result_that_arrived_meanwhile() {
    run(|| {
        let t = task::spawn(|| 99u8).unwrap();
        wait_dead(t.pid());
        assert_eq!(t.shutdown(Shutdown::BrutalKill), Some(Ok(99)));
    });
}

#[test]
fn only_the_owner_may_collect_a_task() {
    run(|| {
        let owner = self_pid();
        let t = task::spawn(|| 1u8).unwrap();
        let other = spawn(move || {
            let mut t = receive::<Task<u8>>();
            let r = t.try_wait_timeout(Duration::ZERO);
            send(owner, r).unwrap();
            send(owner, t).unwrap();
        })
        .unwrap();
        send(other, t).unwrap();
        let r = receive::<Option<Result<u8, TaskError>>>();
        let caller = other;
        assert_eq!(r, Some(Err(TaskError::NotOwner { owner, caller })));
        let t = receive::<Task<u8>>();
        assert_eq!(t.wait(), Ok(1));
    });
}

#[test]
fn ignore_detaches_a_running_task() {
    run(|| {
        let t = waiting_task(self_pid());
        let pid = receive::<Pid>();
        assert_eq!(t.ignore(), None);
        send(pid, 1u32).unwrap();
        wait_dead(pid);
        // Its result was dropped, not delivered.
        assert_eq!(message_queue_len(), 0);
    });
}

fn stream_opts(max: usize) -> StreamOptions {
    StreamOptions {
        max_concurrency: max,
        timeout: PATIENCE,
        ..StreamOptions::default()
    }
}

#[test]
fn async_stream_never_runs_more_than_max_concurrency_tasks() {
    run(|| {
        let alive = Arc::new(AtomicUsize::new(0));
        let high = Arc::new(AtomicUsize::new(0));
        let (a, h) = (Arc::clone(&alive), Arc::clone(&high));
        let f = move |i: u64| {
            let now = a.fetch_add(1, Ordering::SeqCst) + 1;
            h.fetch_max(now, Ordering::SeqCst);
            sleep(Duration::from_millis(2));
            a.fetch_sub(1, Ordering::SeqCst);
            i * 10
        };
        let out: Vec<u64> = task::async_stream(0..20u64, f, stream_opts(3))
            .map(Result::unwrap)
            .collect();
        assert_eq!(out, (0..20).map(|i| i * 10).collect::<Vec<_>>());
        let high = high.load(Ordering::SeqCst);
        assert!((1..=3).contains(&high), "high-water mark {high}");
    });
}

#[test]
fn async_stream_ordered_keeps_input_order_unordered_yields_all() {
    run(|| {
        // Later items finish first.
        let f = |i: u64| {
            sleep(Duration::from_millis(6 - i));
            i
        };
        let ordered: Vec<u64> = task::async_stream(0..6u64, f, stream_opts(6))
            .map(Result::unwrap)
            .collect();
        assert_eq!(ordered, [0, 1, 2, 3, 4, 5]);
        let opts = StreamOptions {
            ordered: false,
            ..stream_opts(6)
        };
        let mut unordered: Vec<u64> = task::async_stream(0..6u64, f, opts)
            .map(Result::unwrap)
            .collect();
        unordered.sort_unstable();
        assert_eq!(unordered, [0, 1, 2, 3, 4, 5]);
    });
}

#[test]
fn async_stream_kill_task_on_timeout_yields_timeout_for_that_item() {
    run(|| {
        let me = self_pid();
        let f = move |i: u32| {
            if i == 1 {
                send(me, self_pid()).unwrap();
                receive::<()>();
            }
            i
        };
        let opts = StreamOptions {
            timeout: Duration::from_secs(1),
            on_timeout: OnTimeout::KillTask,
            ..stream_opts(3)
        };
        let out: Vec<Result<u32, TaskError>> = task::async_stream(0..3u32, f, opts).collect();
        assert_eq!(out, [Ok(0), Err(TaskError::Timeout), Ok(2)]);
        assert!(!is_alive(receive::<Pid>()));
    });
}

#[test]
fn async_stream_exit_on_timeout_ends_the_stream() {
    run(|| {
        let me = self_pid();
        let f = move |i: u32| {
            if i == 0 {
                send(me, self_pid()).unwrap();
                receive::<()>();
            }
            i
        };
        let opts = StreamOptions {
            timeout: Duration::from_millis(50),
            ..stream_opts(1)
        };
        let out: Vec<Result<u32, TaskError>> = task::async_stream(0..3u32, f, opts).collect();
        assert_eq!(out, [Err(TaskError::Timeout)]);
        assert!(!is_alive(receive::<Pid>()));
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn async_stream_reports_a_crash_to_a_trapping_caller() {
    run(|| {
        trap_exit(true);
        let f = |i: u32| {
            assert!(i != 1, "item one fails");
            i
        };
        let out: Vec<Result<u32, TaskError>> =
            task::async_stream(0..3u32, f, stream_opts(2)).collect();
        assert_eq!(out[0], Ok(0));
        assert!(is_panic_with(&out[1], "item one fails"), "{:?}", out[1]);
        assert_eq!(out[2], Ok(2));
        assert!(receive_timeout::<Exit>(Duration::ZERO).is_none());
    });
}

#[test]
fn dropping_an_async_stream_kills_its_running_tasks() {
    run(|| {
        let me = self_pid();
        let f = move |i: u32| {
            if i == 1 {
                send(me, self_pid()).unwrap();
                receive::<()>();
            }
            i
        };
        let mut stream = task::async_stream(0..3u32, f, stream_opts(2));
        assert_eq!(stream.next(), Some(Ok(0)));
        let blocked = receive::<Pid>();
        drop(stream);
        assert!(!is_alive(blocked));
    });
}

#[test]
fn task_supervisor_lists_and_terminates_its_children() {
    run(|| {
        let sup = Supervisor::start_link().unwrap();
        let a = sup.start_child(|| {
            loop {
                receive::<()>();
            }
        });
        let b = sup.start_child(|| {
            loop {
                receive::<()>();
            }
        });
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(sup.children().unwrap(), vec![a, b]);
        sup.terminate_child(a).unwrap();
        assert!(!is_alive(a));
        assert_eq!(sup.children().unwrap(), vec![b]);
        // A task that exits is forgotten: temporary, never restarted.
        exit_and_wait(b);
        let deadline = Instant::now() + PATIENCE;
        while !sup.children().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "the supervisor still lists {b}");
            sleep(Duration::from_millis(1));
        }
    });
}

/// Ends `pid` (an idle task) and waits until it is gone.
fn exit_and_wait(pid: Pid) {
    beamlet::exit_pid(pid, ExitReason::Kill);
    wait_dead(pid);
}

#[test]
fn supervised_async_is_linked_to_its_owner_and_waitable() {
    run(|| {
        trap_exit(true);
        let sup = Supervisor::start_link().unwrap();
        assert_eq!(sup.spawn(|| 5u8).unwrap().wait(), Ok(5));
        let t = sup.spawn(|| -> u8 { panic!("supervised boom") }).unwrap();
        let r = t.wait();
        assert!(is_panic_with(&r, "supervised boom"), "{r:?}");
        assert!(is_alive(sup.pid()));
        assert!(receive_timeout::<Exit>(Duration::ZERO).is_none());
    });
}

#[test]
fn shutting_down_a_supervised_linked_task_spares_its_owner() {
    run(|| {
        let sup = Supervisor::start_link().unwrap();
        for how in [Shutdown::BrutalKill, Shutdown::Timeout(PATIENCE)] {
            let t = sup.spawn(receive::<u8>).unwrap();
            let pid = t.pid();
            assert_eq!(t.shutdown(how), None, "{how:?}");
            assert!(!is_alive(pid));
        }
        // The owner (this process, not trapping) is alive and its mailbox is clean.
        assert_eq!(message_queue_len(), 0);
        assert!(sup.children().unwrap().is_empty());
    });
}

#[test]
fn a_nolink_stream_reports_crashes_per_item_and_spares_the_caller() {
    run(|| {
        let sup = Supervisor::start_link().unwrap();
        let f = |i: u32| {
            assert!(i % 3 != 1, "item {i} fails");
            i
        };
        let out: Vec<Result<u32, TaskError>> = sup
            .async_stream_nolink(0..6u32, f, stream_opts(2))
            .collect();
        assert_eq!(out.len(), 6);
        for (i, r) in out.iter().enumerate() {
            match i % 3 {
                1 => assert!(is_panic_with(r, &format!("item {i} fails")), "{r:?}"),
                _ => assert_eq!(*r, Ok(i as u32)),
            }
        }
        // Not trapping and not linked: nothing reached this process.
        assert_eq!(message_queue_len(), 0);
        assert!(sup.children().unwrap().is_empty());
    });
}

#[test]
fn a_full_task_supervisor_refuses_stream_items() {
    run(|| {
        let opts = beamlet::otp::dynamic_supervisor::DynamicOptions {
            max_children: Some(0),
            ..Default::default()
        };
        let sup = Supervisor::start_link_with(opts, beamlet::otp::gen_server::StartOptions::new())
            .unwrap();
        let out: Vec<Result<u8, TaskError>> = sup
            .async_stream_nolink([1u8], |i| i, stream_opts(1))
            .collect();
        assert_eq!(
            out,
            [Err(TaskError::Supervisor(
                beamlet::otp::supervisor::SupervisorError::MaxChildren
            ))]
        );
    });
}

#[test]
fn try_wait_many_gives_what_is_in_and_leaves_the_rest_running() {
    run(|| {
        let me = self_pid();
        let quick = task::spawn(|| 1u32).unwrap();
        wait_dead(quick.pid());
        let slow = waiting_task(me);
        let slow_pid = receive::<Pid>();
        let mut tasks = vec![quick, slow];
        let first = task::try_wait_many(&mut tasks, Duration::from_millis(5));
        assert_eq!(first, [Some(Ok(1)), None]);
        assert!(is_alive(slow_pid));
        send(slow_pid, 4u32).unwrap();
        let second = task::try_wait_many(&mut tasks, PATIENCE);
        assert_eq!(second, [Some(Err(TaskError::Taken)), Some(Ok(8))]);
    });
}
