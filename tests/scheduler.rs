//! Scheduling: work spreads over both schedulers, a process looping on `reduce` is
//! preempted, `yield_now` goes to the back of the queue, and idle schedulers park and
//! wake again when work arrives.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beamlet::{
    Pid, Runtime, receive, receive_timeout, reduce, self_pid, send, sleep, spawn, yield_now,
};

mod common;
use common::{PATIENCE, stop, watchdog};

fn runtime(schedulers: usize, thread_name: &str) -> Runtime {
    Runtime::builder()
        .schedulers(schedulers)
        .thread_name(thread_name)
        .build()
        .expect("runtime builds")
}

fn thread_name() -> String {
    std::thread::current()
        .name()
        .expect("scheduler threads are named")
        .to_owned()
}

#[test]
fn work_spawned_from_one_process_runs_on_both_schedulers() {
    const WORKERS: usize = 200;
    let names = watchdog(Duration::from_secs(60), || {
        let rt = Runtime::builder().schedulers(2).build().unwrap();
        let names = rt
            .block_on(|| {
                let me = self_pid();
                for _ in 0..WORKERS {
                    spawn(move || {
                        let mut seen = HashSet::new();
                        let mut x = 0u64;
                        for i in 0..100_000u64 {
                            x = x.wrapping_mul(31).wrapping_add(i);
                            reduce(1);
                            if i % 10_000 == 0 {
                                seen.insert(thread_name());
                            }
                        }
                        std::hint::black_box(x);
                        seen.insert(thread_name());
                        send(me, seen).unwrap();
                    })
                    .unwrap();
                }
                let mut names = HashSet::new();
                for _ in 0..WORKERS {
                    names.extend(receive_timeout::<HashSet<String>>(PATIENCE).expect("reply"));
                }
                names
            })
            .unwrap();
        stop(rt);
        names
    });
    // Both schedulers ran workers. (The system monitor may also have moved a core to
    // a spare thread when a worker's thread was descheduled by the OS mid-slice; such
    // a thread is named after the runtime too.)
    assert!(
        names.contains("beamlet-sched-0") && names.contains("beamlet-sched-1"),
        "workers ran on {names:?}"
    );
    assert!(
        names.iter().all(|n| n.starts_with("beamlet-sched-")),
        "{names:?}"
    );
}

#[test]
fn a_reduce_loop_does_not_starve_others_on_one_scheduler() {
    let (rounds, hog_iterations_meanwhile, hog_done) = watchdog(Duration::from_secs(60), || {
        let rt = runtime(1, "hog-sched");
        let halt = Arc::new(AtomicBool::new(false));
        let iterations = Arc::new(AtomicU64::new(0));
        let r = rt
            .block_on(move || {
                let me = self_pid();
                let (h, n) = (halt.clone(), iterations.clone());
                spawn(move || {
                    while !h.load(Ordering::Relaxed) {
                        n.fetch_add(1, Ordering::Relaxed);
                        reduce(1);
                    }
                    send(me, "hog done").unwrap();
                })
                .unwrap();
                // Let the hog get going before the pair starts.
                sleep(Duration::from_millis(5));
                let pong = spawn(|| {
                    loop {
                        let (from, i) = receive::<(Pid, u32)>();
                        send(from, i).unwrap();
                    }
                })
                .unwrap();
                spawn(move || {
                    let mut last = 0;
                    for i in 1..=1_000u32 {
                        send(pong, (self_pid(), i)).unwrap();
                        last = receive::<u32>();
                    }
                    send(me, last).unwrap();
                })
                .unwrap();
                let rounds = receive_timeout::<u32>(PATIENCE);
                let meanwhile = iterations.load(Ordering::Relaxed);
                halt.store(true, Ordering::Relaxed);
                let hog_done = receive_timeout::<&str>(PATIENCE);
                (rounds, meanwhile, hog_done)
            })
            .unwrap();
        stop(rt);
        r
    });
    assert_eq!(
        rounds,
        Some(1_000),
        "the ping-pong pair finished beside the hog"
    );
    assert!(
        hog_iterations_meanwhile > 0,
        "the hog was running meanwhile"
    );
    assert_eq!(hog_done, Some("hog done"));
}

#[test]
fn yield_now_goes_to_the_back_of_the_run_queue() {
    let log = watchdog(Duration::from_secs(60), || {
        // Outside a process it just yields the OS thread.
        yield_now();
        // One thread runs the queue: no hand-off of the core to a spare thread even if
        // the OS deschedules the scheduler thread for a while.
        let rt = Runtime::builder()
            .schedulers(1)
            .thread_name("yield-sched")
            .long_schedule(Duration::from_secs(3600))
            .build()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let l = log.clone();
        rt.block_on(move || {
            let me = self_pid();
            for name in ['A', 'B'] {
                let l = l.clone();
                spawn(move || {
                    for _ in 0..5 {
                        l.lock().unwrap().push(name);
                        yield_now();
                    }
                    send(me, ()).unwrap();
                })
                .unwrap();
            }
            for _ in 0..2 {
                receive_timeout::<()>(PATIENCE).expect("both finish");
            }
        })
        .unwrap();
        stop(rt);
        log.lock().unwrap().clone()
    });
    assert_eq!(log, "ABABABABAB", "two yielding processes alternate");
}

/// The run state (`R`, `S`, ...) of every scheduler thread (`{prefix}-{index}`) of
/// this OS process.
fn thread_states(prefix: &str) -> Vec<(String, char)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").expect("/proc is mounted") {
        let dir = entry.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue; // the thread exited meanwhile
        };
        let comm = comm.trim_end().to_owned();
        // Scheduler threads only: `{prefix}-{index}`.
        let is_scheduler = comm
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()));
        if !is_scheduler {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        // `pid (comm) S ...`: the state follows the last ')'.
        let state = stat[stat.rfind(')').unwrap() + 1..]
            .trim_start()
            .chars()
            .next()
            .unwrap();
        out.push((comm, state));
    }
    out.sort();
    out
}

/// Waits until both schedulers named `prefix-0`, `prefix-1` sleep in the kernel.
fn await_parked(prefix: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let states = thread_states(prefix);
        assert_eq!(states.len(), 2, "scheduler threads: {states:?}");
        if states.iter().all(|(_, s)| *s == 'S') {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "schedulers never parked: {states:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn idle_schedulers_park_and_wake_when_work_arrives() {
    watchdog(Duration::from_secs(60), || {
        let rt = runtime(2, "idlepark");
        assert_eq!(rt.block_on(|| 1), Ok(1));

        // Idle: both schedulers park.
        std::thread::sleep(Duration::from_millis(50));
        await_parked("idlepark");

        // Work from a plain thread wakes them: a root that spawns workers.
        let sum = rt.block_on(|| {
            let me = self_pid();
            for i in 0..100u64 {
                spawn(move || send(me, i).unwrap()).unwrap();
            }
            (0..100)
                .map(|_| receive_timeout::<u64>(PATIENCE).expect("reply"))
                .sum::<u64>()
        });
        assert_eq!(sum, Ok(4950));

        // A process waiting in receive while every scheduler is parked is woken by
        // `Runtime::send`.
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = rt
            .spawn(move || {
                let m = receive::<u32>();
                tx.send(m).unwrap();
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        await_parked("idlepark");
        rt.send(waiter, 77u32).unwrap();
        assert_eq!(rx.recv_timeout(PATIENCE), Ok(77));

        // A timer wakes a parked scheduler.
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(move || {
            let t = Instant::now();
            sleep(Duration::from_millis(100));
            tx.send(t.elapsed()).unwrap();
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        await_parked("idlepark");
        let slept = rx.recv_timeout(PATIENCE).expect("the sleeper wakes");
        assert!(slept >= Duration::from_millis(100), "{slept:?}");
        stop(rt);
    });
}
