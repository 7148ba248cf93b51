//! Preemption under hostile workloads: processes that pay reductions share their
//! schedulers; processes that never call the runtime are noticed by the system
//! monitor, which hands their schedulers' queues to fresh threads. Outcomes only,
//! no timing bounds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use beamlet::{
    LongSchedule, Preemptible, Runtime, receive, receive_timeout, reduce, self_pid, send, sleep,
    spawn, system_monitor,
};

/// A loop of pure arithmetic for `d`, paying a reduction per iteration if `pay`.
fn hog(d: Duration, pay: bool) -> u64 {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        for i in 0..1000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            if pay {
                reduce(1);
            }
        }
    }
    x
}

fn ticker_completes_under(hogs: usize, pay: bool) {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    rt.block_on(move || {
        let stop = Arc::new(AtomicBool::new(false));
        for _ in 0..hogs {
            let stop = stop.clone();
            spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::black_box(hog(Duration::from_millis(5), pay));
                    if pay {
                        reduce(1);
                    }
                }
            })
            .unwrap();
        }
        let me = self_pid();
        spawn(move || {
            for _ in 0..100 {
                sleep(Duration::from_millis(1));
            }
            send(me, "ticked 100 times").unwrap();
        })
        .unwrap();
        let r = receive_timeout::<&str>(Duration::from_secs(60));
        stop.store(true, Ordering::Relaxed);
        assert_eq!(r, Some("ticked 100 times"));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_ticker_completes_with_paying_hogs_on_every_scheduler() {
    ticker_completes_under(8, true);
}

#[test]
fn a_ticker_completes_with_hogs_that_never_call_the_runtime() {
    ticker_completes_under(4, false);
}

#[test]
fn a_non_paying_hog_does_not_stop_a_ping_pong_pair() {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    rt.block_on(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::hint::black_box(hog(Duration::from_millis(1), false));
            }
        })
        .unwrap();
        let me = self_pid();
        let pong = spawn(move || {
            for _ in 0..1000 {
                let from = receive::<beamlet::Pid>();
                send(from, ()).unwrap();
            }
        })
        .unwrap();
        for _ in 0..1000 {
            send(pong, me).unwrap();
            assert!(receive_timeout::<()>(Duration::from_secs(30)).is_some());
        }
        stop.store(true, Ordering::Relaxed);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn long_schedule_is_reported_for_a_50ms_busy_loop() {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    rt.block_on(|| {
        system_monitor(Some(self_pid()));
        let busy = spawn(|| {
            std::hint::black_box(hog(Duration::from_millis(50), false));
        })
        .unwrap();
        let ev = receive_timeout::<LongSchedule>(Duration::from_secs(10)).expect("reported");
        assert_eq!(ev.pid, busy);
        assert!(ev.duration >= Duration::from_millis(10));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_process_blocked_in_a_syscall_does_not_stall_its_queue() {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    rt.block_on(|| {
        let me = self_pid();
        spawn(|| std::thread::sleep(Duration::from_millis(300))).unwrap();
        spawn(move || send(me, "ran").unwrap()).unwrap();
        // With one scheduler, "ran" can only arrive if the monitor handed the queue
        // to another thread while the first process sleeps in the kernel.
        assert_eq!(
            receive_timeout::<&str>(Duration::from_secs(10)),
            Some("ran")
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn preemptible_iterators_pay_per_item() {
    let rt = Runtime::builder()
        .schedulers(1)
        .reductions(100)
        .build()
        .unwrap();
    rt.block_on(|| {
        let before = rt_switches();
        let s: u64 = (0..100_000u64).preemptible().sum();
        assert_eq!(s, 4_999_950_000);
        // 100,000 items at 100 reductions per slice: the loop was switched out.
        assert!(rt_switches() > before);
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// Reductions this process has spent, as published at its switches.
fn rt_switches() -> u64 {
    beamlet::process_info(self_pid()).unwrap().reductions
}

/// The spare threads of the runtime whose threads are named `prefix` now.
fn spare_threads(prefix: &str) -> usize {
    let want = format!("{prefix}-spare");
    std::fs::read_dir("/proc/self/task")
        .expect("/proc is mounted")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == want)
        .count()
}

#[test]
fn spare_threads_stay_under_max_spare_threads_and_every_hog_finishes() {
    // Eight processes blocked in the kernel one after another on one scheduler:
    // without a cap each would cost a spare thread. Two spares carry the queue.
    let rt = Runtime::builder()
        .schedulers(1)
        .thread_name("sparecap")
        .max_spare_threads(2)
        .build()
        .unwrap();
    let most = rt
        .block_on(|| {
            let me = self_pid();
            for i in 0..8u32 {
                spawn(move || {
                    std::thread::sleep(Duration::from_millis(60));
                    send(me, i).unwrap();
                })
                .unwrap();
            }
            let mut most = 0;
            let mut done = 0;
            while done < 8 {
                most = most.max(spare_threads("sparecap"));
                if receive_timeout::<u32>(Duration::from_millis(5)).is_some() {
                    done += 1;
                }
            }
            most.max(spare_threads("sparecap"))
        })
        .unwrap();
    let _ = rt.shutdown();
    assert!(most <= 2, "{most} spare threads");
    assert!(most >= 1, "the queue was handed off at all");
}
