//! Pub/sub with a duplicate-key Registry: subscribers register under topics, a
//! publisher dispatches to everyone under a topic, and a subscriber that dies drops
//! out of its topics by itself.
//!
//! 1. Start a registry with duplicate keys (topics) and spawn four subscribers,
//!    each registering under one or two topics with its name as the value.
//! 2. Publish to each topic with `dispatch`; every subscriber prints what it got
//!    and acknowledges.
//! 3. Kill one subscriber; once its `Down` is seen it is gone from the topics, and
//!    the next publication reaches only the others.
//!
//! Run with `cargo run --example registry_demo`.

mod common;

use std::process::ExitCode;
use std::time::Duration;

use beamlet::otp::registry::{Keys, Registry};
use beamlet::{
    Down, ExitReason, Pid, exit_pid, monitor, receive, receive_timeout, self_pid, send, spawn,
};

/// Topic name → subscriber name.
type Topics = Registry<&'static str, &'static str>;

/// What a publisher sends to subscribers.
struct News {
    topic: &'static str,
    text: String,
    ack_to: Pid,
}

const WAIT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    common::no_args(
        "registry_demo",
        "registry_demo: topic pub/sub through a duplicate-key Registry.",
    );
    beamlet::run(run)
}

fn run() {
    let topics = Topics::start_link("topics", Keys::Duplicate, 2).expect("the registry");
    let subscriptions = [
        ("ada", &["rust", "erlang"][..]),
        ("bob", &["rust"][..]),
        ("cy", &["erlang"][..]),
        ("dee", &["rust", "erlang"][..]),
    ];
    let mut subscribers = Vec::new();
    for (name, wanted) in subscriptions {
        subscribers.push((name, subscriber(&topics, name, wanted)));
    }
    for _ in &subscribers {
        receive_timeout::<()>(WAIT).expect("a subscriber registered");
    }
    publish(&topics, "rust", "1.85 is out");
    publish(&topics, "erlang", "OTP 28 is out");

    let (name, bob) = subscribers[1];
    let m = monitor(bob);
    exit_pid(bob, ExitReason::Kill);
    let down = receive_timeout::<Down>(WAIT).expect("bob's Down");
    assert_eq!(down.monitor, m);
    println!("{name} was killed; it now holds {:?}", topics.keys(bob));
    publish(&topics, "rust", "edition 2024 is stable");
}

/// Spawns a subscriber registered under `wanted`; it prints and acknowledges news.
fn subscriber(topics: &Topics, name: &'static str, wanted: &[&'static str]) -> Pid {
    let (topics, wanted, me) = (topics.clone(), wanted.to_vec(), self_pid());
    spawn(move || {
        for topic in wanted {
            topics
                .register(topic, name)
                .expect("a duplicate key never conflicts");
        }
        send(me, ()).expect("the demo is running");
        loop {
            let news = receive::<News>();
            println!("  {name} got [{}] {}", news.topic, news.text);
            let _ = send(news.ack_to, ());
        }
    })
    .expect("a subscriber")
}

/// Sends `text` to every subscriber of `topic` and waits for their acks.
fn publish(topics: &Topics, topic: &'static str, text: &str) {
    let me = self_pid();
    let reached = topics.dispatch(topic, |subs| {
        let names: Vec<&str> = subs.iter().map(|(_, name)| *name).collect();
        println!("publishing to {topic}: {names:?}");
        for (pid, _) in subs {
            let news = News {
                topic,
                text: text.to_owned(),
                ack_to: me,
            };
            let _ = send(*pid, news);
        }
    });
    for _ in 0..reached {
        receive_timeout::<()>(WAIT).expect("an ack");
    }
}
