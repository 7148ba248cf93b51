//! Stress: 100,000 processes alive at once, each blocked in `receive`, messaged and
//! answering; and 100,000 short-lived processes spawned in waves.

use std::time::{Duration, Instant};

use beamlet::{Pid, Runtime, receive, receive_timeout, self_pid, send, spawn};

mod common;
use common::{runtime, watchdog};

/// Processes per test (in debug and release builds alike).
const N: usize = 100_000;

/// Generous bound for a message that must arrive (only to turn a hang into a failure).
const PATIENCE: Duration = Duration::from_secs(60);

/// Waits until the runtime has no live process.
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

#[test]
fn hundred_thousand_blocked_processes_answer_their_messages() {
    watchdog(Duration::from_secs(300), || {
        let t = Instant::now();
        let rt = runtime();
        let (count, sum, all_alive) = rt
            .block_on(|| {
                let me = self_pid();
                let pids: Vec<Pid> = (0..N)
                    .map(|_| {
                        spawn(move || {
                            let n = receive::<u64>();
                            send(me, n * 2).unwrap();
                        })
                        .expect("spawn")
                    })
                    .collect();
                let all_alive = pids.iter().all(|&p| beamlet::is_alive(p));
                for (i, &p) in pids.iter().enumerate() {
                    send(p, i as u64).unwrap();
                }
                let mut count = 0usize;
                let mut sum = 0u64;
                while count < N {
                    match receive_timeout::<u64>(PATIENCE) {
                        Some(v) => {
                            count += 1;
                            sum += v;
                        }
                        None => break,
                    }
                }
                (count, sum, all_alive)
            })
            .expect("root returns");
        assert!(all_alive, "all {N} processes were alive at once");
        assert_eq!(count, N, "every process answered");
        let n = N as u64;
        assert_eq!(sum, n * (n - 1), "sum of 2*i for i < N");
        await_no_processes(&rt);
        let report = rt.shutdown();
        assert_eq!((report.killed, report.stuck), (0, 0));
        eprintln!("{N} blocked processes: {:?}", t.elapsed());
    });
}

#[test]
fn hundred_thousand_blocked_processes_are_alive_at_the_same_time() {
    // All N processes wait until every one of them has started: they are truly
    // simultaneously alive (each holding its own stack), not run one after another.
    watchdog(Duration::from_secs(300), || {
        let rt = runtime();
        let (live_at_peak, count) = rt
            .block_on(|| {
                let me = self_pid();
                let pids: Vec<Pid> = (0..N)
                    .map(|_| {
                        spawn(move || {
                            send(me, "started").unwrap();
                            receive::<()>();
                            send(me, "done").unwrap();
                        })
                        .expect("spawn")
                    })
                    .collect();
                for _ in 0..N {
                    assert_eq!(receive_timeout::<&str>(PATIENCE), Some("started"));
                }
                let live = pids.iter().filter(|&&p| beamlet::is_alive(p)).count();
                for &p in &pids {
                    send(p, ()).unwrap();
                }
                let count = (0..N)
                    .take_while(|_| receive_timeout::<&str>(PATIENCE) == Some("done"))
                    .count();
                (live, count)
            })
            .expect("root returns");
        assert_eq!(live_at_peak, N);
        assert_eq!(count, N);
        let carved = rt.stats().stacks_carved;
        assert!(
            carved >= N,
            "{carved} stacks for {N} simultaneously started processes"
        );
        await_no_processes(&rt);
        assert_eq!(rt.shutdown().killed, 0);
    });
}

#[test]
fn hundred_thousand_short_lived_processes_in_waves() {
    const WAVE: usize = 10_000;
    watchdog(Duration::from_secs(300), || {
        let t = Instant::now();
        let rt = runtime();
        let (count, sum) = rt
            .block_on(|| {
                let me = self_pid();
                let mut count = 0usize;
                let mut sum = 0u64;
                for wave in 0..N / WAVE {
                    for i in 0..WAVE {
                        let v = (wave * WAVE + i) as u64;
                        spawn(move || send(me, v).unwrap()).expect("spawn");
                    }
                    for _ in 0..WAVE {
                        match receive_timeout::<u64>(PATIENCE) {
                            Some(v) => {
                                count += 1;
                                sum += v;
                            }
                            None => return (count, sum),
                        }
                    }
                }
                (count, sum)
            })
            .expect("root returns");
        assert_eq!(count, N, "every short-lived process reported");
        let n = N as u64;
        assert_eq!(sum, n * (n - 1) / 2);
        await_no_processes(&rt);
        assert_eq!(rt.stats().processes, 0);
        let report = rt.shutdown();
        assert_eq!((report.killed, report.stuck), (0, 0));
        eprintln!("{N} short-lived processes: {:?}", t.elapsed());
    });
}
