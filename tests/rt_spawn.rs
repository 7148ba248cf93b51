//! Spawning and exiting: normal exits, panics isolated to their process (with message
//! and location), `block_on` results, the `<R.I.S>` pid format, stale pids after slot
//! reuse, and the process limit (`SpawnError::SystemLimit`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use beamlet::{
    Down, ExitReason, Pid, Runtime, SpawnError, is_alive, receive, receive_timeout, reduce,
    self_pid, send, sleep, spawn, spawn_monitor, try_receive,
};

mod common;
use common::{PATIENCE, watchdog};

fn runtime(schedulers: usize) -> Runtime {
    Runtime::builder()
        .schedulers(schedulers)
        .build()
        .expect("runtime builds")
}

/// Shuts `rt` down and checks that no process was stuck.
fn stop(rt: Runtime) {
    let report = rt.shutdown();
    assert_eq!(report.stuck, 0, "no process may be stuck at shutdown");
}

/// Splits a pid's Display form `<R.I.S>` into its three numbers.
fn pid_parts(pid: Pid) -> (u32, u32, u32) {
    let text = pid.to_string();
    let inner = text
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or_else(|| panic!("pid {text:?} is not of the form <R.I.S>"));
    let parts: Vec<u32> = inner
        .split('.')
        .map(|p| {
            p.parse()
                .unwrap_or_else(|_| panic!("pid {text:?}: {p:?} is not a number"))
        })
        .collect();
    assert_eq!(parts.len(), 3, "pid {text:?} must have three parts");
    (parts[0], parts[1], parts[2])
}

/// The text of the source line that a panic location `file:line:column` names.
fn source_line(location: &str) -> String {
    let mut parts = location.rsplitn(3, ':');
    let _column = parts.next();
    let line: usize = parts
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("{location:?} is not file:line:column"));
    let file = parts.next().expect("file:line:column");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .nth(line - 1)
        .unwrap_or_else(|| panic!("{location:?}: no such line"))
        .to_owned()
}

/// Inside a process: waits (sleeping 1 ms at a time) until `pid` is no longer alive.
fn await_exit(pid: Pid) {
    let deadline = Instant::now() + PATIENCE;
    while is_alive(pid) {
        assert!(Instant::now() < deadline, "{pid} did not exit");
        sleep(Duration::from_millis(1));
    }
}

/// Outside the runtime: waits until the runtime has no live process.
fn await_no_processes(rt: &Runtime) {
    let deadline = Instant::now() + PATIENCE;
    while rt.process_count() != 0 {
        assert!(
            Instant::now() < deadline,
            "{} processes still alive",
            rt.process_count()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The exit reason's panic payload, or a failure naming what it was instead.
fn expect_panic<T: std::fmt::Debug>(r: Result<T, ExitReason>) -> beamlet::PanicReason {
    match r {
        Err(ExitReason::Panic(p)) => p,
        other => panic!("expected a panic exit, got {other:?}"),
    }
}

#[test]
fn returning_process_exits_normal() {
    watchdog(PATIENCE, || {
        let rt = runtime(2);
        assert_eq!(
            rt.block_on(|| 40 + 2),
            Ok(42),
            "a returning root exits Normal"
        );
        let (child, down) = rt
            .block_on(|| {
                let me = self_pid();
                let (child, _) = spawn_monitor(move || send(me, "done").unwrap()).unwrap();
                assert_eq!(receive_timeout::<&str>(PATIENCE), Some("done"));
                let down = receive_timeout::<Down>(PATIENCE).expect("the monitor fires");
                await_exit(child);
                (child, down)
            })
            .expect("root returns normally");
        assert_eq!((down.pid, down.reason), (child, ExitReason::Normal));
        assert!(!rt.is_alive(child));
        assert!(!is_alive(child));
        await_no_processes(&rt);
        let report = rt.shutdown();
        assert_eq!(report.killed, 0);
        assert_eq!(report.stuck, 0);
    });
}

#[test]
fn panic_ends_only_that_process_and_carries_message_and_location() {
    watchdog(PATIENCE, || {
        let rt = runtime(2);
        // A survivor waits for a ping while a sibling panics.
        let survivor = rt
            .spawn(|| {
                let from = receive::<Pid>();
                send(from, "pong").unwrap();
            })
            .unwrap();
        let (ok, down) = rt
            .block_on(move || {
                let (doomed, _) = spawn_monitor(|| panic!("child exploded {}", 7)).unwrap();
                let down = receive_timeout::<Down>(PATIENCE).expect("the monitor fires");
                assert_eq!(down.pid, doomed);
                await_exit(doomed);
                assert!(
                    is_alive(survivor),
                    "a sibling's panic must not end the survivor"
                );
                send(survivor, self_pid()).unwrap();
                (receive_timeout::<&str>(PATIENCE), down.reason)
            })
            .expect("the root is not affected by a child's panic");
        assert_eq!(ok, Some("pong"));
        let p = expect_panic::<()>(Err(down));
        assert_eq!(p.message(), "child exploded 7");
        let loc = p.location().expect("the location of a panic! is known");
        assert!(
            source_line(loc).contains("panic!(\"child exploded"),
            "location {loc:?} is the line of the panic"
        );

        // The root itself panics: block_on reports Panic with message and location.
        let p = expect_panic(rt.block_on(|| -> u32 { panic!("root boom {}", 1) }));
        assert_eq!(p.message(), "root boom 1");
        let loc = p.location().expect("the location of a panic! is known");
        assert!(loc.starts_with(file!()), "location {loc:?} names this file");
        assert!(
            source_line(loc).contains("panic!(\"root boom"),
            "location {loc:?} is the line of the panic"
        );

        // A &'static str payload and a String payload.
        let p = expect_panic(rt.block_on(|| -> u8 { panic!("static message") }));
        assert_eq!(p.message(), "static message");
        let p =
            expect_panic(rt.block_on(|| -> u8 { std::panic::panic_any(String::from("owned")) }));
        assert_eq!(p.message(), "owned");
        assert!(source_line(p.location().unwrap()).contains("panic_any"));

        // The runtime goes on.
        assert_eq!(rt.block_on(|| 5u8), Ok(5));
        await_no_processes(&rt);
        let report = rt.shutdown();
        assert_eq!(report.killed, 0);
    });
}

#[test]
fn a_panic_caught_inside_a_process_does_not_end_it() {
    watchdog(PATIENCE, || {
        let rt = runtime(1);
        let r = rt.block_on(|| {
            let caught = std::panic::catch_unwind(|| panic!("caught inside"));
            assert!(caught.is_err());
            "still running"
        });
        assert_eq!(r, Ok("still running"));
        stop(rt);
    });
}

/// A panic that bypasses the panic hook (`resume_unwind`) has no known location; it
/// must not be reported with the location of an earlier, caught panic of another
/// process on the same scheduler thread.
#[test]
fn panic_location_is_not_taken_from_an_earlier_caught_panic() {
    watchdog(PATIENCE, || {
        let rt = runtime(1);
        rt.block_on(|| {
            let r = std::panic::catch_unwind(|| panic!("caught earlier"));
            assert!(r.is_err());
        })
        .unwrap();
        let p =
            expect_panic(rt.block_on(|| -> u8 {
                std::panic::resume_unwind(Box::new(String::from("no hook")))
            }));
        assert_eq!(p.message(), "no hook");
        assert!(
            !p.location()
                .is_some_and(|l| source_line(l).contains("caught earlier")),
            "location {:?} is that of the earlier caught panic",
            p.location()
        );
        stop(rt);
    });
}

#[test]
fn block_on_returns_values_and_errors() {
    watchdog(PATIENCE, || {
        let rt = runtime(2);
        assert_eq!(
            rt.block_on(|| String::from("text")),
            Ok(String::from("text"))
        );
        assert_eq!(rt.block_on(|| vec![1, 2, 3]), Ok(vec![1, 2, 3]));
        assert_eq!(rt.block_on(|| ()), Ok(()));
        let err = rt.block_on(|| -> Vec<u8> { panic!("no value") });
        assert!(err.as_ref().is_err_and(ExitReason::is_panic), "{err:?}");
        // The value of a process that spawned others is still returned.
        let sum = rt.block_on(|| {
            let me = self_pid();
            for i in 1..=10u64 {
                spawn(move || send(me, i).unwrap()).unwrap();
            }
            (0..10)
                .map(|_| receive_timeout::<u64>(PATIENCE).expect("reply"))
                .sum::<u64>()
        });
        assert_eq!(sum, Ok(55));
        stop(rt);
    });
}

#[test]
fn block_on_inside_a_process_panics() {
    watchdog(PATIENCE, || {
        let outer = runtime(1);
        let inner = Arc::new(runtime(1));
        let inner2 = inner.clone();
        let r = outer.block_on(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner2.block_on(|| 1)))
                .is_err()
        });
        assert_eq!(r, Ok(true), "block_on inside a process must panic");
        // The inner runtime still works from a plain thread.
        assert_eq!(inner.block_on(|| 2), Ok(2));
        stop(Arc::try_unwrap(inner).expect("the only handle"));
        stop(outer);
    });
}

#[test]
fn pid_display_is_runtime_index_serial() {
    watchdog(PATIENCE, || {
        let rt = runtime(2);
        let pids = rt
            .block_on(|| {
                let mut pids = vec![self_pid()];
                for _ in 0..20 {
                    pids.push(spawn(receive::<()>).unwrap());
                }
                for &p in &pids[1..] {
                    send(p, ()).unwrap();
                }
                pids
            })
            .unwrap();
        let mut slots = HashSet::new();
        for pid in &pids {
            let (r, index, _serial) = pid_parts(*pid);
            assert_eq!(r, rt.id(), "{pid}: first number is the runtime id");
            assert_eq!(pid.runtime_id(), rt.id());
            assert_eq!(
                format!("{pid:?}"),
                pid.to_string(),
                "Debug prints as Display"
            );
            slots.insert(index);
        }
        assert_eq!(
            slots.len(),
            pids.len(),
            "simultaneously live processes occupy distinct slots: {pids:?}"
        );
        stop(rt);
    });
}

#[test]
fn stale_pid_is_not_confused_with_the_slot_s_new_occupant() {
    watchdog(PATIENCE, || {
        let rt = runtime(1);
        // `block_on` returns after the process has fully exited.
        let old = rt.block_on(self_pid).unwrap();
        let old2 = rt.block_on(|| spawn(|| ()).unwrap()).unwrap();
        let (stale_alive, sends, replies) = rt
            .block_on(move || {
                await_exit(old2);
                let me = self_pid();
                let mut occupants = Vec::new();
                for _ in 0..300 {
                    occupants.push(
                        spawn(move || {
                            receive::<&str>(); // "report"
                            let got_stale = try_receive::<u64>().is_some();
                            send(me, (self_pid(), got_stale)).unwrap();
                        })
                        .unwrap(),
                    );
                }
                let stale_alive = (is_alive(old), is_alive(old2));
                let sends = (send(old, 1u64), send(old2, 2u64));
                for &p in &occupants {
                    send(p, "report").unwrap();
                }
                let mut replies = Vec::new();
                for _ in 0..occupants.len() {
                    replies.push(receive_timeout::<(Pid, bool)>(PATIENCE).expect("reply"));
                }
                // The root may occupy a stale pid's slot itself.
                replies.push((me, try_receive::<u64>().is_some()));
                (stale_alive, sends, replies)
            })
            .unwrap();
        for stale in [old, old2] {
            let (_, index, serial) = pid_parts(stale);
            let reuser = replies
                .iter()
                .map(|r| r.0)
                .find(|p| pid_parts(*p).1 == index)
                .unwrap_or_else(|| panic!("slot {index} of {stale} was not reused"));
            assert_ne!(
                pid_parts(reuser).2,
                serial,
                "a reused slot has a new serial"
            );
            assert_ne!(reuser, stale);
        }
        assert_eq!(stale_alive, (false, false), "stale pids are not alive");
        assert!(!rt.is_alive(old) && !rt.is_alive(old2));
        assert_eq!(
            sends.0.map_err(|e| e.into_inner()),
            Err(1),
            "send to a stale pid fails"
        );
        assert_eq!(
            sends.1.map_err(|e| e.into_inner()),
            Err(2),
            "send to a stale pid fails"
        );
        assert_eq!(replies.len(), 301);
        for (pid, got_stale) in replies {
            assert!(!got_stale, "{pid} received a message sent to a stale pid");
        }
        assert_eq!(rt.send(old, 3u64).map_err(|e| e.into_inner()), Err(3));
        stop(rt);
    });
}

#[test]
fn spawn_at_the_process_limit_returns_system_limit() {
    watchdog(PATIENCE, || {
        const LIMIT: usize = 8;
        let rt = Runtime::builder()
            .schedulers(1)
            .max_processes(LIMIT)
            .build()
            .unwrap();
        let r = rt.block_on(|| {
            // The root is one of the LIMIT processes.
            let me = self_pid();
            let mut children = Vec::new();
            for _ in 0..LIMIT - 1 {
                children.push(
                    spawn(move || {
                        receive::<()>();
                        send(me, "bye").unwrap();
                    })
                    .expect("below the limit"),
                );
            }
            let mut errors = Vec::new();
            for _ in 0..5 {
                errors.push(spawn(|| ()).err());
            }
            for &c in &children {
                send(c, ()).unwrap();
            }
            for _ in &children {
                assert_eq!(receive_timeout::<&str>(PATIENCE), Some("bye"));
            }
            for &c in &children {
                await_exit(c);
            }
            // Spawning works again.
            let mut again = Vec::new();
            for i in 0..LIMIT as u32 - 1 {
                again.push(spawn(move || send(me, i).unwrap()).is_ok());
            }
            let got: HashSet<u32> = (0..LIMIT - 1)
                .filter_map(|_| receive_timeout::<u32>(PATIENCE))
                .collect();
            (errors, again, got)
        });
        let (errors, again, got) = r.expect("the root survives hitting the limit");
        assert_eq!(errors, vec![Some(SpawnError::SystemLimit); 5]);
        assert!(again.iter().all(|&ok| ok), "spawn after exits: {again:?}");
        assert_eq!(got, (0..LIMIT as u32 - 1).collect());
        stop(rt);
    });
}

#[test]
fn runtime_spawn_and_block_on_at_the_limit() {
    watchdog(PATIENCE, || {
        const LIMIT: usize = 4;
        let rt = Runtime::builder()
            .schedulers(1)
            .max_processes(LIMIT)
            .build()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        let mut pids = Vec::new();
        for i in 0..LIMIT as u32 {
            let tx = tx.clone();
            pids.push(
                rt.spawn(move || {
                    receive::<()>();
                    tx.send(i).unwrap();
                })
                .expect("below the limit"),
            );
        }
        assert_eq!(rt.spawn(|| ()).err(), Some(SpawnError::SystemLimit));
        assert_eq!(rt.block_on(|| 1).err(), Some(ExitReason::SystemLimit));
        for &p in &pids {
            rt.send(p, ()).unwrap();
        }
        for _ in 0..LIMIT {
            rx.recv_timeout(PATIENCE).expect("released process reports");
        }
        await_no_processes(&rt);
        assert_eq!(rt.block_on(|| 9), Ok(9), "spawning works again after exits");
        stop(rt);
    });
}

/// With no process alive except a busy one, `Runtime::spawn` from outside must find the
/// slots of the processes that exited, even though the scheduler never goes idle.
#[test]
fn runtime_spawn_after_exits_succeeds_while_a_scheduler_stays_busy() {
    watchdog(PATIENCE, || {
        const LIMIT: usize = 4;
        let rt = Runtime::builder()
            .schedulers(1)
            .max_processes(LIMIT)
            .build()
            .unwrap();
        let halt = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicU64::new(0));
        let (s, n) = (halt.clone(), spins.clone());
        rt.spawn(move || {
            while !s.load(Ordering::Relaxed) {
                n.fetch_add(1, Ordering::Relaxed);
                reduce(1);
            }
        })
        .unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut pids = Vec::new();
        for _ in 0..LIMIT - 1 {
            let tx = tx.clone();
            pids.push(
                rt.spawn(move || {
                    receive::<()>();
                    tx.send(()).unwrap();
                })
                .unwrap(),
            );
        }
        assert_eq!(rt.spawn(|| ()).err(), Some(SpawnError::SystemLimit));
        for &p in &pids {
            rt.send(p, ()).unwrap();
        }
        for _ in &pids {
            rx.recv_timeout(PATIENCE).expect("released process reports");
        }
        let deadline = Instant::now() + PATIENCE;
        while rt.process_count() != 1 {
            assert!(Instant::now() < deadline, "released processes did not exit");
            std::thread::sleep(Duration::from_millis(1));
        }
        let results: Vec<_> = (0..LIMIT - 1).map(|_| rt.spawn(|| ()).err()).collect();
        halt.store(true, Ordering::Relaxed);
        assert!(spins.load(Ordering::Relaxed) > 0);
        assert_eq!(
            results,
            vec![None; LIMIT - 1],
            "1 of {LIMIT} processes alive, yet spawn failed"
        );
        stop(rt);
    });
}

/// A small `max_processes` must not make processes fail on the second scheduler
/// (stacks and slots are bounded by the limit, not by what one scheduler caches).
#[test]
fn small_process_limit_works_on_both_schedulers() {
    watchdog(Duration::from_secs(60), || {
        const LIMIT: usize = 16;
        const WORKERS: usize = 10;
        let rt = Runtime::builder()
            .schedulers(2)
            .max_processes(LIMIT)
            .build()
            .unwrap();
        let names = rt
            .block_on(|| {
                let me = self_pid();
                let mut names = HashSet::new();
                // Rounds of workers, until both schedulers have started one (or give up).
                for _round in 0..20 {
                    let mut workers = Vec::new();
                    for _ in 0..WORKERS {
                        let w = spawn(move || {
                            // Where the process first ran, i.e. where it got its stack.
                            let name = std::thread::current().name().map(str::to_owned);
                            for _ in 0..10_000 {
                                reduce(1);
                            }
                            send(me, name).unwrap();
                        })
                        .expect("below the limit");
                        workers.push(w);
                    }
                    // Stay busy for a while so that the idle scheduler steals fresh workers.
                    let busy_until = Instant::now() + Duration::from_millis(5);
                    while Instant::now() < busy_until {
                        reduce(1);
                    }
                    for _ in 0..WORKERS {
                        let name = receive_timeout::<Option<String>>(Duration::from_secs(10))
                            .expect("every worker below the limit replies");
                        names.insert(name.expect("scheduler threads are named"));
                    }
                    // Keep the number of live processes below the limit.
                    workers.into_iter().for_each(await_exit);
                    if names.contains("beamlet-sched-0") && names.contains("beamlet-sched-1") {
                        break;
                    }
                }
                names
            })
            .expect("root returns");
        // (A process that holds a thread too long may also have been moved to a spare
        // thread; only the two schedulers matter here.)
        assert!(
            names.contains("beamlet-sched-0") && names.contains("beamlet-sched-1"),
            "processes started on {names:?}"
        );
        stop(rt);
    });
}
