//! `receive!` through the facade (`beamlet::receive!`): typed arms in mailbox order,
//! guards, the earliest matching arm, the `after` arm (timeout and poll), bodies
//! that run with the message already out of the mailbox (nested receives, `?`,
//! `break`), and messages that match no arm left in place and in order.

use std::time::Duration;

use beamlet::{Message, message_queue_len, receive, receive_any, self_pid, send, spawn};

mod common;
use common::{PATIENCE, run};

/// Takes every message left in the mailbox, oldest first, as a description.
fn drain() -> Vec<String> {
    let mut left = Vec::new();
    while message_queue_len() > 0 {
        left.push(describe(receive_any()));
    }
    left
}

fn describe(m: Message) -> String {
    match m.downcast::<u8>() {
        Ok(b) => format!("u8 {b}"),
        Err(m) => match m.downcast::<String>() {
            Ok(s) => format!("string {s}"),
            Err(m) => match m.downcast::<u32>() {
                Ok(n) => format!("u32 {n}"),
                Err(m) => format!("other {}", m.type_name()),
            },
        },
    }
}

#[test]
fn arms_take_messages_in_mailbox_order_and_leave_other_types() {
    let (got, left) = run(|| {
        let me = self_pid();
        send(me, 1u8).unwrap();
        send(me, "a".to_string()).unwrap();
        send(me, 2u32).unwrap();
        send(me, 3u8).unwrap();
        send(me, "b".to_string()).unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(receive! {
                n: u32 => format!("u32 {n}"),
                s: String => format!("string {s}"),
            });
        }
        (got, drain())
    });
    assert_eq!(got, ["string a", "u32 2", "string b"]);
    assert_eq!(left, ["u8 1", "u8 3"]);
}

#[test]
fn a_failing_guard_leaves_the_message_in_place() {
    let (got, left) = run(|| {
        let me = self_pid();
        for n in [1u32, 10, 2, 20] {
            send(me, n).unwrap();
        }
        let big = |limit: u32| {
            receive! {
                n: u32 if *n >= limit => n,
                after Duration::ZERO => 0,
            }
        };
        let got = vec![big(10), big(10), big(10)];
        (got, drain())
    });
    assert_eq!(got, [10, 20, 0]);
    assert_eq!(left, ["u32 1", "u32 2"]);
}

#[test]
fn the_earliest_arm_wins_a_message_that_matches_several() {
    let got = run(|| {
        let me = self_pid();
        for n in [5u32, 50] {
            send(me, n).unwrap();
        }
        let mut got = Vec::new();
        for _ in 0..2 {
            got.push(receive! {
                n: u32 if *n > 10 => ("big", n),
                n: u32 => ("any", n),
            });
        }
        got
    });
    assert_eq!(got, [("any", 5), ("big", 50)]);
}

#[test]
fn the_oldest_matching_message_wins_whatever_the_order_of_the_arms() {
    let got = run(|| {
        let me = self_pid();
        send(me, "first".to_string()).unwrap();
        send(me, 2u32).unwrap();
        receive! {
            n: u32 => format!("u32 {n}"),
            s: String => format!("string {s}"),
        }
    });
    assert_eq!(got, "string first");
}

#[test]
fn after_runs_when_nothing_matches_in_time_and_keeps_the_mailbox() {
    let (timed_out, polled, left) = run(|| {
        let me = self_pid();
        send(me, 1u8).unwrap();
        let timed_out = receive! {
            _: u32 => false,
            after Duration::from_millis(5) => true,
        };
        let polled = receive! {
            s: String => s,
            after Duration::ZERO => "nothing".to_string(),
        };
        (timed_out, polled, drain())
    });
    assert!(timed_out);
    assert_eq!(polled, "nothing");
    assert_eq!(left, ["u8 1"]);
}

#[test]
fn after_alone_waits_out_its_timeout() {
    let (v, left) = run(|| {
        send(self_pid(), 9u32).unwrap();
        let v = receive! { after Duration::from_millis(1) => 42 };
        (v, drain())
    });
    assert_eq!(v, 42);
    assert_eq!(left, ["u32 9"]);
}

#[test]
fn an_infinite_after_waits_for_a_message_from_another_process() {
    let got = run(|| {
        let me = self_pid();
        spawn(move || send(me, 7u32).unwrap()).unwrap();
        receive! {
            n: u32 => Some(n),
            after Duration::MAX => None,
        }
    });
    assert_eq!(got, Some(7));
}

#[test]
fn a_body_runs_with_its_message_out_and_may_receive_again() {
    let got = run(|| {
        let me = self_pid();
        send(me, 1u32).unwrap();
        send(me, "inner".to_string()).unwrap();
        send(me, 2u32).unwrap();
        receive! {
            n: u32 => {
                // The 1 is gone already: the next u32 is the 2.
                let queued = message_queue_len();
                let inner = receive! {
                    s: String => s,
                    after PATIENCE => String::new(),
                };
                let next = receive! { m: u32 => m };
                (n, queued, inner, next, message_queue_len())
            }
        }
    });
    assert_eq!(got, (1, 2, "inner".to_string(), 2, 0));
}

#[test]
fn tuple_bindings_guards_on_part_of_them_and_break_out_of_a_loop() {
    #[derive(Debug)]
    struct Stop;
    let (total, left) = run(|| {
        let me = self_pid();
        send(me, ("add", 1u32)).unwrap();
        send(me, ("sub", 100u32)).unwrap();
        send(me, ("add", 2u32)).unwrap();
        send(me, Stop).unwrap();
        let mut total = 0;
        loop {
            receive! {
                (op, n): (&'static str, u32) if *op == "add" => total += n,
                _: Stop => break,
            }
        }
        let left = receive! {
            (op, n): (&'static str, u32) => format!("{op} {n}"),
            after Duration::ZERO => String::new(),
        };
        (total, left)
    });
    assert_eq!(total, 3);
    assert_eq!(left, "sub 100");
}

#[derive(Debug, PartialEq)]
struct Refused(u32);

fn accept_even() -> Result<u32, Refused> {
    let n = receive! {
        n: u32 if n % 2 == 0 => n,
        n: u32 => return Err(Refused(n)),
    };
    let half = receive! {
        ok: Result<u32, Refused> => ok?,
    };
    Ok(n + half)
}

#[test]
fn bodies_may_return_and_use_the_question_mark() {
    let got = run(|| {
        let me = self_pid();
        send(me, 3u32).unwrap();
        let odd = accept_even();
        send(me, 4u32).unwrap();
        send(me, Err::<u32, Refused>(Refused(9))).unwrap();
        let failed = accept_even();
        send(me, 4u32).unwrap();
        send(me, Ok::<u32, Refused>(2)).unwrap();
        (odd, failed, accept_even())
    });
    assert_eq!(got, (Err(Refused(3)), Err(Refused(9)), Ok(6)));
}
