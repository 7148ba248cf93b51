//! Erlang distribution between two beamlet runtimes in one OS process, each a node
//! (`beamlet::otp::dist`), connected without EPMD on loopback ports.

mod common;

use std::sync::mpsc;

use beamlet::otp::CallError;
use beamlet::otp::dist::term::serde::{Serde, from_term};
use beamlet::otp::dist::term::{Atom, Term, ToTerm};
use beamlet::otp::dist::{self, NodeConfig, NodeError};
use beamlet::otp::gen_server;
use beamlet::{
    Down, Exit, ExitReason, Runtime, link, monitor, receive, receive_timeout, register, self_pid,
    spawn, trap_exit,
};
use common::PATIENCE;
use common::dist::{Counter, Line, Stock, StockCall, StockReply};

/// A runtime started as the node `name`, listening on a free port; returns it and
/// the port.
fn node(name: &str, cookie: &str) -> (Runtime, u16) {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let (name, cookie) = (name.to_string(), cookie.to_string());
    let port = rt
        .block_on(move || {
            dist::start(NodeConfig::new(&name).cookie(&cookie).without_epmd(0))
                .unwrap()
                .port()
        })
        .unwrap();
    (rt, port)
}

/// `b`'s node, knowing to find `a` on `a_port` (and vice versa is not needed: `a` connects).
fn pair(tag: &str) -> (Runtime, Runtime, String, String) {
    let a_name = format!("a{tag}@127.0.0.1");
    let b_name = format!("b{tag}@127.0.0.1");
    let (b, b_port) = node(&b_name, "c");
    let a = Runtime::builder().schedulers(2).build().unwrap();
    let n = a_name.clone();
    a.block_on(move || {
        dist::start(
            NodeConfig::new(&n)
                .cookie("c")
                .without_epmd(0)
                .peer_port(b_port),
        )
        .unwrap()
    })
    .unwrap();
    (a, b, a_name, b_name)
}

/// Runs `f` as a process of `rt` and gives back its result.
fn on<T: Send + 'static>(rt: &Runtime, f: impl FnOnce() -> T + Send + 'static) -> T {
    rt.block_on(f)
        .unwrap_or_else(|r| panic!("process failed: {r:?}"))
}

/// A process on `rt` registered as `echo` answering `{From, Msg}` with `{echo, Msg}`.
fn start_echo(rt: &Runtime) {
    on(rt, || {
        let echo = spawn(|| {
            loop {
                let t = receive::<Term>();
                if let Some([Term::Pid(from), msg]) = t.as_tuple() {
                    let reply = Term::tuple([Term::atom("echo"), msg.clone()]);
                    dist::send_term(*from, &reply).unwrap();
                }
            }
        })
        .unwrap();
        register("echo", echo).unwrap();
    });
}

#[test]
fn a_message_to_a_name_on_another_node_is_answered() {
    let (a, b, _, b_name) = pair("1");
    start_echo(&b);
    let got = on(&a, move || {
        let msg = Term::tuple([Term::Pid(self_pid()), Term::atom("hello")]);
        dist::send_named("echo", &b_name, &msg).unwrap();
        receive_timeout::<Term>(PATIENCE)
    });
    assert_eq!(
        got,
        Some(Term::tuple([Term::atom("echo"), Term::atom("hello")]))
    );
    assert_eq!(a.shutdown().stuck, 0);
    assert_eq!(b.shutdown().stuck, 0);
}

#[test]
fn a_call_reaches_an_exported_gen_server_and_an_unknown_name_is_noproc() {
    let (a, b, _, b_name) = pair("2");
    on(&b, || {
        let s = gen_server::start::<Counter>(40).unwrap();
        register("counter", s.pid()).unwrap();
        dist::export::<Counter>("counter").unwrap();
    });
    let (first, second, unknown) = on(&a, move || {
        let first = dist::call("counter", &b_name, &2i64, PATIENCE);
        let second = dist::call("counter", &b_name, &3i64, PATIENCE);
        let unknown = dist::call("nobody", &b_name, &1i64, PATIENCE);
        (first, second, unknown)
    });
    assert_eq!(first.unwrap(), 42i64.to_term());
    assert_eq!(second.unwrap(), 45i64.to_term());
    assert!(matches!(unknown, Err(CallError::NoProc)), "{unknown:?}");
    let _ = a.shutdown();
    let _ = b.shutdown();
}

#[test]
fn links_and_monitors_across_nodes_fire_on_exit_and_on_disconnect() {
    let (a, b, a_name, b_name) = pair("3");
    let (ready_tx, ready) = mpsc::channel::<()>();
    let (done_tx, done) = mpsc::channel();
    a.spawn(move || {
        register("inbox", self_pid()).unwrap();
        trap_exit(true);
        dist::connect_node(&b_name).unwrap();
        ready_tx.send(()).unwrap();
        let mut far = Vec::new();
        while far.len() < 2 {
            if let Term::Pid(p) = receive::<Term>() {
                far.push(p);
            }
        }
        link(far[0]).unwrap();
        let m = monitor(far[1]);
        dist::send_term(far[0], &Term::atom("die")).unwrap();
        let exit = receive_timeout::<Exit>(PATIENCE).expect("the link fires");
        dist::disconnect_node(&b_name);
        let down = receive_timeout::<Down>(PATIENCE).expect("the monitor fires");
        let report = (
            exit.from == far[0],
            exit.reason,
            down.monitor == m,
            down.pid == far[1],
            down.reason,
        );
        done_tx.send(report).unwrap();
    })
    .unwrap();
    ready.recv_timeout(PATIENCE).unwrap();
    for _ in 0..2 {
        let a_name = a_name.clone();
        b.spawn(move || {
            dist::send_named("inbox", &a_name, &Term::Pid(self_pid())).unwrap();
            if receive::<Term>().is_atom("die") {
                beamlet::exit(ExitReason::Custom(std::sync::Arc::new(Term::atom("boom"))));
            }
        })
        .unwrap();
    }
    let (from_ok, reason, monitor_ok, pid_ok, down_reason) = done.recv_timeout(PATIENCE).unwrap();
    assert!(from_ok && monitor_ok && pid_ok);
    assert_eq!(reason.custom_ref::<Term>(), Some(&Term::atom("boom")));
    assert!(
        matches!(down_reason, ExitReason::NoConnection),
        "{down_reason:?}"
    );
    let _ = a.shutdown();
    let _ = b.shutdown();
}

#[test]
fn a_wrong_cookie_is_refused_with_a_typed_error() {
    let (b, b_port) = node("bcookie@127.0.0.1", "right");
    let a = Runtime::builder().schedulers(1).build().unwrap();
    let err = on(&a, move || {
        dist::start(
            NodeConfig::new("acookie@127.0.0.1")
                .cookie("wrong")
                .without_epmd(0)
                .peer_port(b_port),
        )
        .unwrap();
        dist::connect_node("bcookie@127.0.0.1").unwrap_err()
    });
    assert!(matches!(&*err, NodeError::Handshake(_)), "{err}");
    let _ = a.shutdown();
    let _ = b.shutdown();
}

#[test]
fn multi_call_abcast_and_monitor_node() {
    let (a, b, _, b_name) = pair("4");
    let (seen_tx, seen) = mpsc::channel::<Term>();
    on(&b, move || {
        let s = gen_server::start::<Counter>(0).unwrap();
        register("counter", s.pid()).unwrap();
        dist::export::<Counter>("counter").unwrap();
        let inbox = spawn(move || {
            loop {
                seen_tx.send(receive::<Term>()).unwrap();
            }
        })
        .unwrap();
        register("inbox", inbox).unwrap();
    });
    let (replies, bad, down) = on(&a, move || {
        let got = dist::multi_call(&[&b_name, "nowhere@127.0.0.1"], "counter", &5i64, PATIENCE);
        let (replies, bad) = (got.replies, got.bad_nodes);
        dist::abcast(&[&b_name], "inbox", &Term::atom("hello"));
        dist::monitor_node(&b_name);
        dist::disconnect_node(&b_name);
        let down = receive_timeout::<dist::NodeDown>(PATIENCE);
        (replies, bad, down)
    });
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].1, 5i64.to_term());
    assert_eq!(
        bad.iter().map(|n| &**n).collect::<Vec<_>>(),
        ["nowhere@127.0.0.1"]
    );
    assert_eq!(&*down.expect("a NodeDown").node, &*replies[0].0);
    let cast = Term::tuple([Term::atom("$gen_cast"), Term::atom("hello")]);
    assert_eq!(seen.recv_timeout(PATIENCE).unwrap(), cast);
    let _ = a.shutdown();
    let _ = b.shutdown();
}

/// `{Pid, Atom}` as a derived tuple struct: what `echo` expects.
#[derive(serde::Serialize)]
struct Hello(
    #[serde(with = "beamlet::otp::dist::term::serde::pid")] beamlet::Pid,
    Atom,
);

#[test]
fn derived_serde_types_cross_nodes_as_messages_and_calls() {
    let (a, b, _, b_name) = pair("6");
    start_echo(&b);
    on(&b, || {
        let s = gen_server::start::<Stock>(()).unwrap();
        register("stock", s.pid()).unwrap();
        dist::export::<Stock>("stock").unwrap();
    });
    let (echoed, added, lines) = on(&a, move || {
        let hello = Serde(Hello(self_pid(), Atom::new("hi")));
        dist::send_named("echo", &b_name, &hello).unwrap();
        let echoed = receive_timeout::<Term>(PATIENCE);
        let add = StockCall::Add {
            item: "apple".into(),
            count: 3,
        };
        let added = dist::call("stock", &b_name, &Serde(add.clone()), PATIENCE).unwrap();
        dist::call("stock", &b_name, &Serde(add), PATIENCE).unwrap();
        let lines = dist::call("stock", &b_name, &Serde(StockCall::List), PATIENCE).unwrap();
        (echoed, added, lines)
    });
    assert_eq!(
        echoed,
        Some(Term::tuple([Term::atom("echo"), Term::atom("hi")]))
    );
    assert_eq!(added.to_string(), "{count,3}");
    assert_eq!(
        from_term::<StockReply>(&added).unwrap(),
        StockReply::Count(3)
    );
    let lines: StockReply = from_term(&lines).unwrap();
    let apple = Line {
        item: "apple".into(),
        count: 6,
    };
    assert_eq!(lines, StockReply::Lines(vec![apple]));
    let _ = a.shutdown();
    let _ = b.shutdown();
}
