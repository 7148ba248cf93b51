//! Process priorities: high runs before normal; low still runs under a normal load,
//! just less often.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use beamlet::{
    Priority, Runtime, receive, receive_timeout, reduce, self_pid, send, spawn, spawn_priority,
    yield_now,
};

#[test]
fn a_high_priority_process_runs_before_normal_ones_queued_earlier() {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    rt.block_on(|| {
        let me = self_pid();
        for _ in 0..5 {
            spawn(move || send(me, Priority::Normal).unwrap()).unwrap();
        }
        spawn_priority(Priority::High, move || send(me, Priority::High).unwrap()).unwrap();
        // The root still holds the only scheduler; all six are queued now.
        let first = receive::<Priority>();
        assert_eq!(first, Priority::High);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_low_priority_process_makes_progress_under_a_normal_load() {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    rt.block_on(|| {
        let stop = Arc::new(AtomicBool::new(false));
        for _ in 0..4 {
            let stop = stop.clone();
            spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    reduce(1);
                }
            })
            .unwrap();
        }
        let me = self_pid();
        spawn_priority(Priority::Low, move || {
            for _ in 0..100 {
                yield_now();
            }
            send(me, "low finished").unwrap();
        })
        .unwrap();
        let r = receive_timeout::<&str>(Duration::from_secs(60));
        stop.store(true, Ordering::Relaxed);
        assert_eq!(r, Some("low finished"));
    })
    .unwrap();
    let _ = rt.shutdown();
}
