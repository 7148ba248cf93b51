//! Shutdown: live processes (waiting, sleeping, running, hibernated) are killed and
//! their destructors run, the report counts them, dropping a runtime shuts it down,
//! the scheduler threads are gone afterwards, and a stuck process does not hang it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use beamlet::{Runtime, hibernate, receive, receive_timeout, reduce, sleep};

mod common;
use common::watchdog;

/// Generous bound for an event that must happen (only to turn a hang into a failure).
const PATIENCE: Duration = Duration::from_secs(20);

/// Increments its counter when dropped.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Names (as the kernel truncates them, 15 bytes) of this OS process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc is mounted")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .map(|comm| comm.trim_end().to_owned())
        .collect()
}

/// Number of threads belonging to the runtime named `prefix`: every thread whose name
/// starts with it (schedulers, and any helper threads the runtime names after them).
fn runtime_threads(prefix: &str) -> usize {
    thread_names()
        .iter()
        .filter(|n| n.starts_with(prefix))
        .count()
}

/// Number of scheduler threads of the runtime named `prefix` (`{prefix}-{index}`).
fn scheduler_threads(prefix: &str) -> usize {
    thread_names()
        .iter()
        .filter_map(|n| n.strip_prefix(prefix)?.strip_prefix('-'))
        .filter(|index| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()))
        .count()
}

/// Waits until `count(prefix)` is `n`. (A joined thread can stay listed in /proc for
/// a moment after `join` returns, while the kernel reaps it; a new thread names
/// itself once it runs.)
fn await_threads(count: fn(&str) -> usize, prefix: &str, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    while count(prefix) != n {
        assert!(
            Instant::now() < deadline,
            "{} threads of {prefix}, want {n}: {:?}",
            count(prefix),
            thread_names()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Spawns processes in every kind of state, each owning a [`DropGuard`] on `drops`;
/// returns how many were spawned once all of them have started.
fn populate(rt: &Runtime, drops: &Arc<AtomicUsize>) -> usize {
    let (ready, started) = mpsc::channel::<()>();
    let mut n = 0;
    let mut spawn = |f: Box<dyn FnOnce(DropGuard, mpsc::Sender<()>) + Send>| {
        let guard = DropGuard(drops.clone());
        let ready = ready.clone();
        rt.spawn(move || f(guard, ready)).expect("spawn");
        n += 1;
    };
    for _ in 0..20 {
        spawn(Box::new(|g, ready| {
            ready.send(()).unwrap();
            receive::<()>();
            drop(g);
        }));
    }
    for _ in 0..10 {
        spawn(Box::new(|g, ready| {
            ready.send(()).unwrap();
            sleep(Duration::from_secs(3600));
            drop(g);
        }));
    }
    for _ in 0..5 {
        spawn(Box::new(|g, ready| {
            ready.send(()).unwrap();
            let _ = receive_timeout::<()>(Duration::from_secs(3600));
            drop(g);
        }));
    }
    for _ in 0..2 {
        spawn(Box::new(|g, ready| {
            ready.send(()).unwrap();
            loop {
                reduce(1);
                std::hint::black_box(&g);
            }
        }));
    }
    for _ in 0..5 {
        // The guard lives in the continuation of a hibernated process.
        spawn(Box::new(|g, ready| {
            ready.send(()).unwrap();
            hibernate(move || {
                receive::<()>();
                drop(g);
            })
        }));
    }
    for _ in 0..n {
        started
            .recv_timeout(PATIENCE)
            .expect("every process starts");
    }
    n
}

#[test]
fn shutdown_kills_live_processes_and_runs_their_destructors() {
    watchdog(Duration::from_secs(60), || {
        let rt = Runtime::builder()
            .schedulers(2)
            .thread_name("shutkill")
            .build()
            .unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let n = populate(&rt, &drops);
        // Processes that already exited are not counted.
        for _ in 0..3 {
            assert_eq!(rt.block_on(|| ()), Ok(()));
        }
        assert_eq!(rt.process_count(), n);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        let report = rt.shutdown();
        assert_eq!(report.killed, n, "every live process is killed and counted");
        assert_eq!(report.stuck, 0);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            n,
            "every killed process's destructors ran before shutdown returned"
        );
        await_threads(runtime_threads, "shutkill", 0);
    });
}

#[test]
fn dropping_a_runtime_shuts_it_down() {
    watchdog(Duration::from_secs(60), || {
        let rt = Runtime::builder()
            .schedulers(2)
            .thread_name("dropshut")
            .build()
            .unwrap();
        await_threads(scheduler_threads, "dropshut", 2);
        let drops = Arc::new(AtomicUsize::new(0));
        let n = populate(&rt, &drops);
        let alive = rt.spawn(receive::<()>).unwrap();
        drop(rt);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            n,
            "destructors ran during drop"
        );
        assert!(!beamlet::is_alive(alive));
        await_threads(runtime_threads, "dropshut", 0);
    });
}

#[test]
fn scheduler_threads_are_gone_after_shutdown() {
    watchdog(Duration::from_secs(60), || {
        assert_eq!(runtime_threads("thrgone"), 0);
        let rt = Runtime::builder()
            .schedulers(3)
            .thread_name("thrgone")
            .build()
            .unwrap();
        await_threads(scheduler_threads, "thrgone", 3);
        assert_eq!(rt.block_on(|| 1), Ok(1));
        let report = rt.shutdown();
        assert_eq!(report.killed, 0);
        assert_eq!(report.stuck, 0);
        await_threads(runtime_threads, "thrgone", 0);
    });
}

#[test]
fn shutdown_of_an_idle_runtime_reports_nothing() {
    watchdog(Duration::from_secs(60), || {
        let rt = Runtime::builder().schedulers(2).build().unwrap();
        let report = rt.shutdown();
        assert_eq!((report.killed, report.stuck), (0, 0));
    });
}

#[test]
fn shutdown_returns_despite_a_process_that_never_calls_the_runtime() {
    watchdog(Duration::from_secs(60), || {
        let rt = Runtime::builder()
            .schedulers(2)
            .shutdown_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let spinning = Arc::new(AtomicBool::new(false));
        let (r, s) = (release.clone(), spinning.clone());
        rt.spawn(move || {
            s.store(true, Ordering::SeqCst);
            while !r.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
        })
        .unwrap();
        let deadline = Instant::now() + PATIENCE;
        while !spinning.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the spinner never started");
            std::thread::sleep(Duration::from_millis(1));
        }
        let t = Instant::now();
        let report = rt.shutdown();
        assert!(
            t.elapsed() >= Duration::from_millis(200),
            "waited the timeout"
        );
        assert_eq!(report.killed, 1);
        assert_eq!(report.stuck, 1, "the spinner is reported stuck");
        // Let the leaked scheduler thread finish.
        release.store(true, Ordering::SeqCst);
    });
}

#[test]
fn shutdown_drops_processes_that_never_ran() {
    watchdog(Duration::from_secs(60), || {
        let rt = Runtime::builder()
            .schedulers(1)
            .thread_name("shutcold")
            // Keep the blocked scheduler's queue where it is (no hand-off to a spare
            // thread), so that the processes below cannot run before shutdown.
            .long_schedule(Duration::from_secs(3600))
            .build()
            .unwrap();
        // Hold the only scheduler thread so that the processes below never start
        // before shutdown begins.
        let blocking = Arc::new(AtomicBool::new(false));
        let b = blocking.clone();
        rt.spawn(move || {
            b.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
        })
        .unwrap();
        let deadline = Instant::now() + PATIENCE;
        while !blocking.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the blocker never started");
            std::thread::sleep(Duration::from_millis(1));
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..50 {
            let guard = DropGuard(drops.clone());
            let ran = ran.clone();
            rt.spawn(move || {
                ran.fetch_add(1, Ordering::SeqCst);
                drop(guard);
            })
            .unwrap();
        }
        let report = rt.shutdown();
        assert_eq!(report.killed, 51);
        assert_eq!(report.stuck, 0);
        assert_eq!(ran.load(Ordering::SeqCst), 0, "killed before they ever ran");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            50,
            "their closures were dropped"
        );
        await_threads(runtime_threads, "shutcold", 0);
    });
}
