//! The TLS migration check as a `cdylib`: the runtime's thread-locals live in a
//! dynamically loaded object, so every access goes through `__tls_get_addr`
//! (general-dynamic model). A compiler that cached a thread-local's address across a
//! stack switch would let a migrated process read the previous thread's
//! current-process slot; the check would see another pid.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use beamlet_runtime::{Runtime, receive, self_pid, send, spawn, yield_now};

/// Yields `switches` times checking its pid after each; returns its migrations
/// between threads, or `None` if its identity changed.
fn yielder(switches: u64) -> Option<u64> {
    let me = self_pid();
    let mut thread = std::thread::current().id();
    let mut migrations = 0;
    for _ in 0..switches {
        yield_now();
        if self_pid() != me {
            return None;
        }
        let now = std::thread::current().id();
        if now != thread {
            migrations += 1;
            thread = now;
        }
    }
    Some(migrations)
}

/// Runs three yielding processes on two schedulers, `switches` switches each.
///
/// Returns the total number of migrations between threads, `-1` if a process saw
/// another identity after a switch, `-2` if the runtime failed.
#[unsafe(no_mangle)]
pub extern "C" fn beamlet_tls_migration(switches: u64) -> i64 {
    let run = std::panic::catch_unwind(|| {
        let rt = Runtime::builder().schedulers(2).build().ok()?;
        let result = rt.block_on(move || {
            let me = self_pid();
            let wrong = Arc::new(AtomicBool::new(false));
            for _ in 0..3 {
                let wrong = wrong.clone();
                spawn(move || {
                    let m = yielder(switches);
                    wrong.fetch_or(m.is_none(), Ordering::Relaxed);
                    send(me, m.unwrap_or(0)).unwrap();
                })
                .unwrap();
            }
            let total: u64 = (0..3).map(|_| receive::<u64>()).sum();
            (!wrong.load(Ordering::Relaxed)).then_some(total)
        });
        let _ = rt.shutdown();
        result.ok()
    });
    match run {
        Ok(Some(Some(total))) => i64::try_from(total).unwrap_or(i64::MAX),
        Ok(Some(None)) => -1,
        _ => -2,
    }
}
