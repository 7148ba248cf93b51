//! Mailboxes: send order (one sender, many senders, senders and receivers migrating
//! between schedulers), selective receive, `try_receive`, `receive_any`, typed receive,
//! receive marks, and sends to dead processes.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use beamlet::{
    Pid, Ref, Runtime, is_alive, mailbox_mark, message_queue_len, receive, receive_any,
    receive_match, receive_match_after, receive_timeout, self_pid, send, sleep, spawn, try_receive,
    yield_now,
};

mod common;
use common::{PATIENCE, watchdog};

/// Runs `f` as the root process of a fresh runtime with `schedulers` threads, under a
/// watchdog, and shuts the runtime down afterwards.
fn run<T: Send + 'static>(schedulers: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    watchdog(Duration::from_secs(60), move || {
        let rt = Runtime::builder()
            .schedulers(schedulers)
            .build()
            .expect("runtime builds");
        let r = rt.block_on(f);
        let report = rt.shutdown();
        assert_eq!(report.stuck, 0);
        r.unwrap_or_else(|reason| panic!("root process failed: {reason:?}"))
    })
}

/// Receives a `T` or fails after [`PATIENCE`].
fn recv<T: Send + 'static>() -> T {
    receive_timeout::<T>(PATIENCE)
        .unwrap_or_else(|| panic!("no {} arrived", std::any::type_name::<T>()))
}

/// Inside a process: waits until `pid` is no longer alive.
fn await_exit(pid: Pid) {
    let deadline = Instant::now() + PATIENCE;
    while is_alive(pid) {
        assert!(Instant::now() < deadline, "{pid} did not exit");
        sleep(Duration::from_millis(1));
    }
}

#[test]
fn messages_from_one_sender_arrive_in_send_order() {
    const N: u32 = 10_000;
    let got = run(2, || {
        let me = self_pid();
        spawn(move || {
            for i in 0..N {
                send(me, i).unwrap();
            }
        })
        .unwrap();
        (0..N).map(|_| recv::<u32>()).collect::<Vec<_>>()
    });
    assert_eq!(got, (0..N).collect::<Vec<_>>());
}

#[test]
fn many_senders_each_keep_their_order() {
    const SENDERS: u32 = 16;
    const EACH: u32 = 2_000;
    let got = run(2, || {
        let me = self_pid();
        for s in 0..SENDERS {
            spawn(move || {
                for i in 0..EACH {
                    send(me, (s, i)).unwrap();
                }
            })
            .unwrap();
        }
        (0..SENDERS * EACH)
            .map(|_| recv::<(u32, u32)>())
            .collect::<Vec<_>>()
    });
    let mut next = vec![0u32; SENDERS as usize];
    for (s, i) in got {
        assert_eq!(i, next[s as usize], "sender {s}: message {i} out of order");
        next[s as usize] += 1;
    }
    assert!(next.iter().all(|&n| n == EACH), "{next:?}");
}

#[test]
fn selective_receive_leaves_the_rest_in_order() {
    let (picked, rest) = run(1, || {
        for i in 0..10u32 {
            send(self_pid(), i).unwrap();
        }
        let picked = [
            receive_match(|n: &u32| *n == 5),
            receive_match(|n: &u32| *n > 6),
            receive_match(|n: &u32| n % 2 == 1),
        ];
        let rest: Vec<u32> = std::iter::from_fn(try_receive::<u32>).collect();
        (picked, rest)
    });
    assert_eq!(picked, [5, 7, 1]);
    assert_eq!(rest, vec![0, 2, 3, 4, 6, 8, 9]);
}

#[test]
fn selective_receive_waits_for_a_matching_message() {
    let (matched, rest) = run(2, || {
        let me = self_pid();
        spawn(move || {
            for i in 0..5u32 {
                send(me, i).unwrap();
                sleep(Duration::from_millis(2));
            }
            send(me, 100u32).unwrap();
        })
        .unwrap();
        let matched = receive_match(|n: &u32| *n >= 100);
        let rest: Vec<u32> = std::iter::from_fn(try_receive::<u32>).collect();
        (matched, rest)
    });
    assert_eq!(matched, 100);
    assert_eq!(rest, vec![0, 1, 2, 3, 4]);
}

#[test]
fn try_receive_never_waits() {
    let r = run(1, || {
        let empty = try_receive::<u32>();
        send(self_pid(), String::from("not a u32")).unwrap();
        let other_type = try_receive::<u32>();
        let len_before = message_queue_len();
        send(self_pid(), 9u32).unwrap();
        let present = try_receive::<u32>();
        let again = try_receive::<u32>();
        let string = try_receive::<String>();
        (
            empty,
            other_type,
            len_before,
            present,
            again,
            string,
            message_queue_len(),
        )
    });
    assert_eq!(
        r,
        (
            None,
            None,
            1,
            Some(9),
            None,
            Some("not a u32".to_owned()),
            0
        )
    );
}

#[test]
fn receive_any_takes_messages_of_any_type_in_order() {
    let r = run(1, || {
        send(self_pid(), 1u8).unwrap();
        send(self_pid(), "two").unwrap();
        send(self_pid(), 3.0f64).unwrap();
        let a = receive_any();
        let b = receive_any();
        let c = receive_any();
        assert!(a.is::<u8>() && !a.is::<u32>());
        assert_eq!(b.downcast_ref::<&str>(), Some(&"two"));
        // A failed downcast gives the message back.
        let c = c.downcast::<u32>().expect_err("not a u32");
        (
            a.downcast::<u8>().ok(),
            b.downcast::<&str>().ok(),
            c.downcast::<f64>().ok(),
        )
    });
    assert_eq!(r, (Some(1), Some("two"), Some(3.0)));
}

#[test]
fn typed_receive_skips_other_types_and_keeps_them() {
    let r = run(1, || {
        send(self_pid(), "a").unwrap();
        send(self_pid(), 1u16).unwrap();
        send(self_pid(), "b").unwrap();
        send(self_pid(), 2u16).unwrap();
        send(self_pid(), 3u32).unwrap();
        let nums = (receive::<u16>(), receive::<u16>(), receive::<u32>());
        let strs = (receive::<&str>(), receive::<&str>());
        (nums, strs, message_queue_len())
    });
    assert_eq!(r, ((1, 2, 3), ("a", "b"), 0));
}

#[test]
fn typed_receive_waits_past_other_types() {
    let r = run(2, || {
        let me = self_pid();
        spawn(move || {
            send(me, "first").unwrap();
            sleep(Duration::from_millis(5));
            send(me, 42u64).unwrap();
        })
        .unwrap();
        let n = receive::<u64>();
        (n, try_receive::<&str>())
    });
    assert_eq!(r, (42, Some("first")));
}

/// An echo server: replies `(tag, n * 10)` to `(from, tag, n)`.
fn echo_server() -> Pid {
    spawn(|| {
        loop {
            let (from, tag, n) = receive::<(Pid, Ref, u32)>();
            send(from, (tag, n * 10)).unwrap();
        }
    })
    .unwrap()
}

#[test]
fn receive_after_mark_finds_the_reply() {
    let r = run(2, || {
        let server = echo_server();
        let tag = Ref::new();
        // Unrelated messages of the same type, including one with the same tag that
        // was queued before the mark and must not be taken for the reply.
        for i in 0..1_000u32 {
            send(self_pid(), (Ref::new(), i)).unwrap();
        }
        send(self_pid(), (tag, 7u32)).unwrap();
        let mark = mailbox_mark();
        send(server, (self_pid(), tag, 5u32)).unwrap();
        let reply = receive_match_after(mark, |(t, _): &(Ref, u32)| *t == tag, Some(PATIENCE));
        let left = message_queue_len();
        // A second request with a fresh mark; the first reply is gone.
        let tag2 = Ref::new();
        let mark2 = mailbox_mark();
        send(server, (self_pid(), tag2, 6u32)).unwrap();
        let reply2 = receive_match_after(mark2, |(t, _): &(Ref, u32)| *t == tag2, None);
        // Nothing arrives after a new mark: timeout.
        let mark3 = mailbox_mark();
        let none = receive_match_after(
            mark3,
            |_: &(Ref, u32)| true,
            Some(Duration::from_millis(20)),
        );
        let old = receive_match(|(t, _): &(Ref, u32)| *t == tag);
        let first: Vec<u32> = (0..3).map(|_| receive::<(Ref, u32)>().1).collect();
        (reply, left, reply2, none, old, first)
    });
    let (reply, left, reply2, none, old, first) = r;
    assert_eq!(reply.map(|r| r.1), Some(50), "the reply after the mark");
    assert_eq!(left, 1_001, "the older messages stay queued");
    assert_eq!(reply2.map(|r| r.1), Some(60));
    assert!(none.is_none());
    assert_eq!(
        old.1, 7,
        "the pre-mark message with the same tag is still there"
    );
    assert_eq!(first, vec![0, 1, 2], "older messages keep their order");
}

#[test]
fn send_to_a_dead_pid_returns_the_message() {
    watchdog(PATIENCE, || {
        let rt = Runtime::builder().schedulers(2).build().unwrap();
        // `block_on` returns only after the process has exited.
        let dead = rt.block_on(self_pid).unwrap();
        let err = rt.send(dead, String::from("to nobody")).unwrap_err();
        assert_eq!(err.into_inner(), "to nobody");
        let (from_process, spawned_dead) = rt
            .block_on(move || {
                let e = send(dead, vec![1, 2, 3]).unwrap_err();
                let child = spawn(|| ()).unwrap();
                await_exit(child);
                (e.into_inner(), child)
            })
            .unwrap();
        assert_eq!(from_process, vec![1, 2, 3]);
        // Send after the child has fully exited (checked from the root on the same
        // runtime, then again from outside).
        let r = rt
            .block_on(move || send(spawned_dead, 5u8).map_err(|e| e.into_inner()))
            .unwrap();
        assert_eq!(r, Err(5));
        assert_eq!(
            rt.send(spawned_dead, 6u8).map_err(|e| e.into_inner()),
            Err(6)
        );
        assert_eq!(rt.shutdown().stuck, 0);
    });
}

/// The scheduler thread running the caller.
fn thread_name() -> Option<String> {
    std::thread::current().name().map(str::to_owned)
}

/// One round of the migration test: a sender sends `0..n` to a receiver, yielding
/// after each send, beside some yielding load. Returns what the receiver got and the
/// threads each side ran on.
fn migrating_round(n: u32) -> (Vec<u32>, HashSet<Option<String>>, HashSet<Option<String>>) {
    let me = self_pid();
    let receiver = spawn(move || {
        let mut got = Vec::with_capacity(n as usize);
        let mut threads = HashSet::new();
        for k in 0..n {
            got.push(recv::<u32>());
            threads.insert(thread_name());
            if k % 16 == 0 {
                yield_now();
            }
        }
        send(me, (got, threads)).unwrap();
    })
    .unwrap();
    let sender = spawn(move || {
        let mut threads = HashSet::new();
        for i in 0..n {
            send(receiver, i).unwrap();
            threads.insert(thread_name());
            yield_now();
        }
        send(me, threads).unwrap();
    })
    .unwrap();
    // Extra load so that the run queues are non-trivial and stealing happens.
    for _ in 0..4 {
        spawn(|| {
            for _ in 0..2_000 {
                yield_now();
            }
        })
        .unwrap();
    }
    let sender_threads = recv::<HashSet<Option<String>>>();
    let (got, receiver_threads) = recv::<(Vec<u32>, HashSet<Option<String>>)>();
    await_exit(sender);
    (got, sender_threads, receiver_threads)
}

#[test]
fn order_is_kept_while_sender_and_receiver_migrate() {
    const N: u32 = 20_000;
    // Rounds until both sides have been seen on two scheduler threads (a round in which
    // they happen not to migrate proves nothing); order is checked in every round.
    let (rounds, sender_threads, receiver_threads) = run(2, || {
        let mut sender_threads = HashSet::new();
        let mut receiver_threads = HashSet::new();
        for round in 1..=20 {
            let (got, s, r) = migrating_round(N);
            assert_eq!(got.len(), N as usize);
            if let Some(k) = got.iter().zip(0..N).position(|(g, i)| *g != i) {
                panic!("round {round}: message {k} is {}", got[k]);
            }
            sender_threads.extend(s);
            receiver_threads.extend(r);
            if sender_threads.len() >= 2 && receiver_threads.len() >= 2 {
                return (round, sender_threads, receiver_threads);
            }
        }
        (20, sender_threads, receiver_threads)
    });
    // The point of the test: both sides did run on more than one scheduler thread.
    assert!(
        sender_threads.len() >= 2,
        "sender ran on {sender_threads:?}"
    );
    assert!(
        receiver_threads.len() >= 2,
        "receiver ran on {receiver_threads:?} in {rounds} rounds"
    );
}
