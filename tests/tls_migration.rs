//! Thread-locals across switches: a process that migrates between scheduler threads
//! must see its own identity after every switch (the runtime re-reads its
//! thread-locals through opaque accessors; a cached thread-local address would show
//! the old thread's current process instead).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use beamlet::{Runtime, self_pid, spawn_monitor, yield_now};

/// Switches per process: a million in release builds, fewer in debug builds.
const SWITCHES: u64 = if cfg!(debug_assertions) {
    200_000
} else {
    1_000_000
};

/// Yields `SWITCHES` times, checking its pid after each; returns how many times it
/// resumed on a different thread than before.
fn yielder() -> u64 {
    let me = self_pid();
    let mut thread = std::thread::current().id();
    let mut migrations = 0;
    for _ in 0..SWITCHES {
        yield_now();
        assert_eq!(self_pid(), me, "self_pid after a switch");
        let now = std::thread::current().id();
        if now != thread {
            migrations += 1;
            thread = now;
        }
    }
    migrations
}

#[test]
fn identity_survives_a_million_switches_across_schedulers() {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let total = rt
        .block_on(|| {
            let done = Arc::new(AtomicBool::new(false));
            let mut procs = Vec::new();
            for _ in 0..3 {
                let done = done.clone();
                let me = self_pid();
                procs.push(
                    spawn_monitor(move || {
                        let m = yielder();
                        done.store(true, Ordering::Relaxed);
                        beamlet::send(me, m).unwrap();
                    })
                    .unwrap(),
                );
            }
            let mut total = 0;
            for _ in &procs {
                total += beamlet::receive::<u64>();
            }
            for _ in &procs {
                let d = beamlet::receive::<beamlet::Down>();
                assert!(d.reason.is_normal(), "{:?}", d.reason);
            }
            total
        })
        .unwrap();
    // Three yielding processes on two schedulers: idle stealing moves them around.
    assert!(total > 0, "the processes migrated between threads");
    let _ = rt.shutdown();
}
