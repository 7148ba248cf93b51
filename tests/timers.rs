//! Timers: `sleep`, receive timeouts, `send_after`, `cancel_timer`, `read_timer`,
//! timers and sends from outside any process, and many concurrent sleepers. Only lower
//! bounds on time are checked (the machine is noisy), never upper bounds.

use std::time::{Duration, Instant};

use beamlet::{
    Pid, Runtime, TimerRef, cancel_timer, read_timer, receive, receive_any_timeout,
    receive_match_timeout, receive_timeout, self_pid, send, send_after, sleep, spawn,
};

mod common;
use common::{PATIENCE, run, runtime, stop, watchdog};

#[test]
fn sleep_lasts_at_least_its_duration() {
    let elapsed = run(|| {
        [0u64, 1, 5, 20, 50].map(|ms| {
            let d = Duration::from_millis(ms);
            let t = Instant::now();
            sleep(d);
            (d, t.elapsed())
        })
    });
    for (d, took) in elapsed {
        assert!(took >= d, "sleep({d:?}) returned after {took:?}");
    }
}

#[test]
fn sleep_keeps_messages_that_arrive_meanwhile() {
    let r = run(|| {
        let me = self_pid();
        spawn(move || send(me, 1u32).unwrap()).unwrap();
        sleep(Duration::from_millis(20));
        receive_timeout::<u32>(Duration::ZERO)
    });
    assert_eq!(r, Some(1));
}

#[test]
fn receive_timeout_gives_none_after_the_timeout() {
    let r = run(|| {
        [1u64, 10, 30].map(|ms| {
            let d = Duration::from_millis(ms);
            let t = Instant::now();
            let got = receive_timeout::<u32>(d);
            (d, got, t.elapsed())
        })
    });
    for (d, got, took) in r {
        assert_eq!(got, None);
        assert!(took >= d, "receive_timeout({d:?}) gave up after {took:?}");
    }
}

#[test]
fn receive_timeout_returns_a_message_that_arrives_first() {
    let (got, waited) = run(|| {
        let me = self_pid();
        spawn(move || {
            sleep(Duration::from_millis(10));
            send(me, 7u32).unwrap();
        })
        .unwrap();
        let t = Instant::now();
        let got = receive_timeout::<u32>(PATIENCE);
        (got, t.elapsed())
    });
    assert_eq!(got, Some(7));
    assert!(waited >= Duration::from_millis(10), "{waited:?}");
}

#[test]
fn a_message_of_another_type_does_not_end_a_typed_timeout_early() {
    let r = run(|| {
        let me = self_pid();
        spawn(move || send(me, "other").unwrap()).unwrap();
        let t = Instant::now();
        let typed = receive_timeout::<u32>(Duration::from_millis(30));
        let took = t.elapsed();
        let t = Instant::now();
        let selective = receive_match_timeout(|s: &&str| *s == "wanted", Duration::from_millis(30));
        let took2 = t.elapsed();
        (
            typed,
            took,
            selective,
            took2,
            receive_any_timeout(Duration::ZERO).is_some(),
        )
    });
    let (typed, took, selective, took2, other_still_there) = r;
    assert_eq!(typed, None);
    assert!(took >= Duration::from_millis(30), "{took:?}");
    assert_eq!(selective, None);
    assert!(took2 >= Duration::from_millis(30), "{took2:?}");
    assert!(other_still_there);
}

#[test]
fn an_earlier_timeout_does_not_cut_a_later_receive_short() {
    // A receive that got its message early leaves a wheel entry behind; it must not
    // wake a later, longer wait before that wait's own deadline.
    let took = run(|| {
        let me = self_pid();
        send(me, 1u8).unwrap();
        assert_eq!(receive_timeout::<u8>(Duration::from_millis(5)), Some(1));
        let t = Instant::now();
        assert_eq!(receive_timeout::<u8>(Duration::from_millis(40)), None);
        t.elapsed()
    });
    assert!(took >= Duration::from_millis(40), "{took:?}");
}

#[test]
fn send_after_delivers_no_earlier_than_its_delay() {
    let (got, took) = run(|| {
        let t = Instant::now();
        send_after(Duration::from_millis(20), self_pid(), "tick");
        let got = receive_timeout::<&str>(PATIENCE);
        (got, t.elapsed())
    });
    assert_eq!(got, Some("tick"));
    assert!(took >= Duration::from_millis(20), "{took:?}");
}

#[test]
fn send_after_to_another_process() {
    let got = run(|| {
        let me = self_pid();
        let relay = spawn(move || {
            let m = receive::<u64>();
            send(me, m + 1).unwrap();
        })
        .unwrap();
        send_after(Duration::from_millis(5), relay, 41u64);
        receive_timeout::<u64>(PATIENCE)
    });
    assert_eq!(got, Some(42));
}

#[test]
fn cancel_before_firing_returns_the_time_left_and_the_message_never_comes() {
    let (left, second, read, got) = run(|| {
        let t = send_after(Duration::from_millis(100), self_pid(), "late");
        let left = cancel_timer(&t);
        let second = cancel_timer(&t);
        let read = read_timer(&t);
        // Wait well past the original deadline.
        let got = receive_timeout::<&str>(Duration::from_millis(300));
        (left, second, read, got)
    });
    let left = left.expect("a pending timer cancels with Some");
    assert!(left <= Duration::from_millis(100), "{left:?}");
    assert_eq!(second, None, "a second cancel finds nothing");
    assert_eq!(read, None);
    assert_eq!(got, None, "a cancelled timer's message must not arrive");
}

#[test]
fn cancel_after_firing_returns_none() {
    let (got, cancelled, read) = run(|| {
        let t = send_after(Duration::from_millis(2), self_pid(), 5u8);
        let got = receive_timeout::<u8>(PATIENCE);
        (got, cancel_timer(&t), read_timer(&t))
    });
    assert_eq!(got, Some(5));
    assert_eq!(cancelled, None);
    assert_eq!(read, None);
}

#[test]
fn read_timer_counts_down() {
    let (first, second) = run(|| {
        let t = send_after(Duration::from_secs(10), self_pid(), ());
        let first = read_timer(&t).expect("pending");
        sleep(Duration::from_millis(20));
        let second = read_timer(&t).expect("still pending");
        assert!(cancel_timer(&t).is_some());
        (first, second)
    });
    assert!(first <= Duration::from_secs(10), "{first:?}");
    assert!(
        second <= first - Duration::from_millis(20),
        "{first:?} then {second:?}"
    );
}

#[test]
fn many_timers_fire_each_once_and_cancelled_ones_never() {
    let got = run(|| {
        let me = self_pid();
        let timers: Vec<(u32, TimerRef)> = (0..1_000u32)
            .map(|i| {
                (
                    i,
                    send_after(Duration::from_millis(u64::from(i % 50)), me, i),
                )
            })
            .collect();
        let mut cancelled = 0;
        for (i, t) in &timers {
            if i % 3 == 0 && cancel_timer(t).is_some() {
                cancelled += 1;
            }
        }
        let mut got = Vec::new();
        while let Some(i) = receive_timeout::<u32>(Duration::from_millis(200)) {
            got.push(i);
        }
        got.sort_unstable();
        (got, cancelled)
    });
    let (got, cancelled) = got;
    let mut expected: Vec<u32> = (0..1_000).filter(|i| i % 3 != 0).collect();
    // A timer of 0 ms may fire before it is cancelled; only then may it arrive.
    let early: Vec<u32> = got.iter().copied().filter(|i| i % 3 == 0).collect();
    assert_eq!(
        cancelled + early.len(),
        334,
        "each timer is cancelled or delivered"
    );
    expected.extend(&early);
    expected.sort_unstable();
    assert_eq!(got, expected, "every uncancelled timer fires exactly once");
}

#[test]
fn timers_and_sends_from_outside_any_process() {
    watchdog(Duration::from_secs(60), || {
        let rt = runtime();
        let (tx, rx) = std::sync::mpsc::channel::<(&str, Option<u32>, Duration)>();
        let t0 = Instant::now();
        let pid: Pid = rt
            .spawn(move || {
                // 1. A timeout with nothing sent.
                let t = Instant::now();
                let r = receive_timeout::<u32>(Duration::from_millis(30));
                tx.send(("timeout", r, t.elapsed())).unwrap();
                // 2. A message sent from outside with `Runtime::send` ends a long wait.
                let r = receive_timeout::<u32>(PATIENCE);
                tx.send(("runtime-send", r, Duration::ZERO)).unwrap();
                // 3. A `send_after` armed from outside.
                let r = receive_timeout::<u32>(PATIENCE);
                tx.send(("send_after", r, Duration::ZERO)).unwrap();
                // 4. A `send_after` armed from outside and cancelled from outside.
                let r = receive_timeout::<u32>(Duration::from_millis(300));
                tx.send(("cancelled", r, Duration::ZERO)).unwrap();
            })
            .unwrap();
        let (what, r, took) = rx.recv_timeout(PATIENCE).unwrap();
        assert_eq!((what, r), ("timeout", None));
        assert!(took >= Duration::from_millis(30), "{took:?}");

        rt.send(pid, 1u32).unwrap();
        let (what, r, _) = rx.recv_timeout(PATIENCE).unwrap();
        assert_eq!((what, r), ("runtime-send", Some(1)));

        let before = Instant::now();
        let t = send_after(Duration::from_millis(20), pid, 2u32);
        assert!(read_timer(&t).is_some_and(|d| d <= Duration::from_millis(20)));
        let (what, r, _) = rx.recv_timeout(PATIENCE).unwrap();
        assert_eq!((what, r), ("send_after", Some(2)));
        assert!(before.elapsed() >= Duration::from_millis(20));
        assert_eq!(cancel_timer(&t), None, "already fired");

        let t = send_after(Duration::from_millis(50), pid, 3u32);
        assert!(cancel_timer(&t).is_some());
        let (what, r, _) = rx.recv_timeout(PATIENCE).unwrap();
        assert_eq!((what, r), ("cancelled", None));
        assert!(t0.elapsed() >= Duration::from_millis(30));
        stop(rt);
    });
}

#[test]
fn ten_thousand_concurrent_sleepers_all_wake() {
    const N: u32 = 10_000;
    let (woken, early) = run(|| {
        let me = self_pid();
        for i in 0..N {
            spawn(move || {
                let d = Duration::from_millis(u64::from(1 + i % 50));
                let t = Instant::now();
                sleep(d);
                send(me, t.elapsed() >= d).unwrap();
            })
            .unwrap();
        }
        let mut woken = 0u32;
        let mut early = 0u32;
        for _ in 0..N {
            match receive_timeout::<bool>(PATIENCE) {
                Some(on_time) => {
                    woken += 1;
                    early += u32::from(!on_time);
                }
                None => break,
            }
        }
        (woken, early)
    });
    assert_eq!(woken, N, "every sleeper wakes");
    assert_eq!(early, 0, "no sleeper wakes before its duration");
}

/// Runs `f` as the root process of a fresh one-scheduler runtime (so that every timer
/// is in the same wheel), under a watchdog of `limit`.
fn run_on_one_scheduler<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    watchdog(limit, move || {
        let rt = Runtime::builder().schedulers(1).build().unwrap();
        let r = rt.block_on(f);
        stop(rt);
        r.unwrap_or_else(|reason| panic!("root process failed: {reason:?}"))
    })
}

#[test]
fn duration_max_timeouts_and_timers() {
    let r = run_on_one_scheduler(Duration::from_secs(30), || {
        let me = self_pid();
        spawn(move || {
            sleep(Duration::from_millis(5));
            send(me, 1u32).unwrap();
        })
        .unwrap();
        let got = receive_timeout::<u32>(Duration::MAX);
        let t = send_after(Duration::MAX, me, 2u32);
        let left = read_timer(&t);
        let cancelled = cancel_timer(&t);
        let none = receive_timeout::<u32>(Duration::from_millis(20));
        let t = Instant::now();
        sleep(Duration::from_millis(5));
        (got, left, cancelled, none, t.elapsed())
    });
    let (got, left, cancelled, none, slept) = r;
    assert_eq!(got, Some(1));
    let year = Duration::from_secs(365 * 24 * 3600);
    assert!(left.is_some_and(|d| d > year), "{left:?}");
    assert!(cancelled.is_some_and(|d| d > year), "{cancelled:?}");
    assert_eq!(none, None);
    assert!(slept >= Duration::from_millis(5));
}

/// A timer beyond the wheel's span (here 1,000 days) must not stop the other timers
/// of its scheduler from firing.
#[test]
fn a_timer_far_in_the_future_does_not_stall_nearer_ones() {
    let r = run_on_one_scheduler(Duration::from_secs(30), || {
        // Let the wheel's clock advance first.
        sleep(Duration::from_millis(1));
        let far = send_after(Duration::from_secs(1_000 * 24 * 3600), self_pid(), "far");
        let t = Instant::now();
        sleep(Duration::from_millis(5));
        let near = receive_timeout::<u8>(Duration::from_millis(5));
        (t.elapsed(), near, cancel_timer(&far).is_some())
    });
    let (took, near, cancelled) = r;
    assert!(took >= Duration::from_millis(10), "{took:?}");
    assert_eq!(near, None);
    assert!(cancelled, "the far timer was still pending");
}

/// As on the BEAM, a process's timers to itself die with it: `read_timer` says
/// `None` as soon as the process is gone, for every one of 50,000 of them.
#[test]
fn a_dead_processs_own_timers_are_cancelled_when_it_exits() {
    const N: usize = 50_000;
    let still_armed = run(|| {
        let me = self_pid();
        for _ in 0..N {
            beamlet::spawn_monitor(move || {
                let t = send_after(Duration::from_secs(600), self_pid(), [0u8; 64]);
                send(me, t).unwrap();
            })
            .unwrap();
        }
        // Each child's timer comes before its Down; take both kinds in arrival order
        // (a selective receive per kind would rescan the other kind each time).
        let mut timers = Vec::with_capacity(N);
        let mut downs = 0;
        while downs < N {
            match beamlet::receive_any().downcast::<TimerRef>() {
                Ok(t) => timers.push(t),
                Err(m) => downs += usize::from(m.is::<beamlet::Down>()),
            }
        }
        assert_eq!(timers.len(), N);
        timers.iter().filter(|t| read_timer(t).is_some()).count()
    });
    assert_eq!(still_armed, 0, "timers of dead processes must be cancelled");
}

#[test]
fn a_timer_a_process_set_to_another_pid_outlives_it() {
    let got = run(|| {
        let me = self_pid();
        let (_, _) = beamlet::spawn_monitor(move || {
            send_after(Duration::from_millis(20), me, 7u32);
        })
        .unwrap();
        receive::<beamlet::Down>();
        receive_timeout::<u32>(PATIENCE)
    });
    assert_eq!(got, Some(7));
}

#[test]
fn a_process_that_cancels_and_sets_many_timers_keeps_working_timers() {
    // The own-timer list is pruned as it grows; the live timer must still fire.
    let got = run(|| {
        for i in 0..10_000u32 {
            let t = send_after(Duration::from_secs(600), self_pid(), i);
            cancel_timer(&t);
        }
        send_after(Duration::from_millis(5), self_pid(), u32::MAX);
        receive_timeout::<u32>(PATIENCE)
    });
    assert_eq!(got, Some(u32::MAX));
}

#[test]
fn start_timer_messages_carry_their_timer() {
    let (matched, cancelled_left, late) = run(|| {
        let first = beamlet::start_timer(Duration::from_millis(2), self_pid(), 1u8);
        let second = beamlet::start_timer(Duration::from_secs(60), self_pid(), 2u8);
        let got = receive::<beamlet::TimerMessage<u8>>();
        let matched = got.timer == first && got.timer != second && got.msg == 1;
        beamlet::cancel_timer_async(&second);
        let report = receive::<beamlet::TimerCancelled>();
        assert!(report.timer == second);
        // Cancelled: its message never comes.
        let late = receive_timeout::<beamlet::TimerMessage<u8>>(Duration::from_millis(20));
        (matched, report.left, late.is_some())
    });
    assert!(matched, "the message names the timer that fired");
    assert!(cancelled_left.unwrap() > Duration::from_secs(50));
    assert!(!late);
}

#[test]
fn cancel_timer_async_of_a_fired_timer_reports_none() {
    let left = run(|| {
        let t = send_after(Duration::from_millis(1), self_pid(), ());
        receive::<()>();
        beamlet::cancel_timer_async(&t);
        receive::<beamlet::TimerCancelled>().left
    });
    assert_eq!(left, None);
}

#[test]
fn a_start_timer_to_itself_is_cancelled_when_its_process_exits() {
    let t = run(|| beamlet::start_timer(Duration::from_secs(600), self_pid(), vec![1u8; 16]));
    assert_eq!(read_timer(&t), None, "cancelled when its process exited");
}
