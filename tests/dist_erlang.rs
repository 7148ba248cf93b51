//! A beamlet node and a real Erlang node (OTP 25, `erl`): messages, gen_server
//! calls both ways, a link and a monitor when the Erlang process exits and when
//! the Erlang node is killed. Skipped, with a note, where `erl` is not installed.

mod common;

use std::time::Duration;

use beamlet::otp::CallError;
use beamlet::otp::dist::term::serde::{Serde, from_term};
use beamlet::otp::dist::term::{Atom, Term, ToTerm};
use beamlet::otp::dist::{self, NodeConfig, rpc};
use beamlet::otp::gen_server;
use beamlet::{
    Down, Exit, ExitReason, Runtime, link, monitor, receive_timeout, register, self_pid, trap_exit,
};
use common::PATIENCE;
use common::dist::{Counter, Line, Stock, StockReply};
use common::erl::{ErlNode, unique};

fn beamlet_node() -> (Runtime, String) {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let name = unique("rust");
    let n = name.clone();
    rt.block_on(move || dist::start(NodeConfig::new(&n).cookie("beamlet-test")).unwrap())
        .unwrap();
    (rt, name)
}

fn expect_term(what: &str) -> Term {
    receive_timeout::<Term>(PATIENCE).unwrap_or_else(|| panic!("no {what} within {PATIENCE:?}"))
}

#[test]
fn messages_and_calls_both_ways_with_erlang() {
    let Some(erl) = ErlNode::start("erl", "beamlet-test") else {
        return;
    };
    let (rt, rust_name) = beamlet_node();
    let e = erl.name().to_string();
    let r = rust_name.clone();
    rt.block_on(move || {
        // To a registered Erlang process and back.
        let hello = Term::tuple([Term::Pid(self_pid()), Term::atom("hello")]);
        dist::send_named("echo", &e, &hello).unwrap();
        assert_eq!(
            expect_term("echo"),
            Term::tuple([Term::atom("echo"), Term::atom("hello")])
        );
        // An Erlang gen_server, called from beamlet.
        let add = Term::tuple([Term::atom("add"), Term::Int(5)]);
        assert_eq!(
            dist::call("counter", &e, &add, PATIENCE).unwrap(),
            Term::Int(5)
        );
        assert_eq!(
            dist::call("counter", &e, &add, PATIENCE).unwrap(),
            Term::Int(10)
        );
        let missing = dist::call("nobody", &e, &add, PATIENCE);
        assert!(matches!(missing, Err(CallError::NoProc)), "{missing:?}");
        // A beamlet GenServer, called from Erlang.
        let s = gen_server::start::<Counter>(100).unwrap();
        register("rcounter", s.pid()).unwrap();
        dist::export::<Counter>("rcounter").unwrap();
        let server = Term::tuple([Term::atom("rcounter"), Term::atom(&r)]);
        let ask = Term::tuple([
            Term::atom("call"),
            server,
            7i64.to_term(),
            Term::Pid(self_pid()),
        ]);
        dist::send_named("ctl", &e, &ask).unwrap();
        let ok = Term::tuple([Term::atom("ok"), Term::Int(107)]);
        assert_eq!(
            expect_term("the Erlang call's outcome"),
            Term::tuple([Term::atom("called"), ok])
        );
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn links_and_monitors_fire_when_the_erlang_process_exits_and_when_the_node_dies() {
    let Some(mut erl) = ErlNode::start("erl", "beamlet-test") else {
        return;
    };
    let (rt, _) = beamlet_node();
    let e = erl.name().to_string();
    let (exit, down, victim) = rt
        .block_on(move || {
            trap_exit(true);
            let ask = Term::tuple([Term::atom("spawn_victim"), Term::Pid(self_pid())]);
            dist::send_named("ctl", &e, &ask).unwrap();
            let victim = match expect_term("the victim").as_tuple() {
                Some([_, Term::Pid(p)]) => *p,
                other => panic!("{other:?}"),
            };
            link(victim).unwrap();
            let m = monitor(victim);
            dist::send_term(victim, &Term::atom("die")).unwrap();
            let exit = receive_timeout::<Exit>(PATIENCE).expect("the link fires");
            let down = receive_timeout::<Down>(PATIENCE).expect("the monitor fires");
            assert_eq!(down.monitor, m);
            (exit, down, victim)
        })
        .unwrap();
    assert_eq!(exit.from, victim);
    assert_eq!(exit.reason.custom_ref::<Term>(), Some(&Term::atom("boom")));
    assert_eq!(down.reason.custom_ref::<Term>(), Some(&Term::atom("boom")));

    // Now a live Erlang process, and the node killed under it.
    let e = erl.name().to_string();
    let watched = rt
        .block_on(move || {
            let ask = Term::tuple([Term::atom("spawn_victim"), Term::Pid(self_pid())]);
            dist::send_named("ctl", &e, &ask).unwrap();
            match expect_term("a second victim").as_tuple() {
                Some([_, Term::Pid(p)]) => *p,
                other => panic!("{other:?}"),
            }
        })
        .unwrap();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let (done_tx, done) = std::sync::mpsc::channel();
    rt.spawn(move || {
        trap_exit(true);
        link(watched).unwrap();
        let m = monitor(watched);
        ready_tx.send(()).unwrap();
        let exit = receive_timeout::<Exit>(Duration::from_secs(60)).map(|x| x.reason);
        let down =
            receive_timeout::<Down>(Duration::from_secs(60)).map(|d| (d.monitor == m, d.reason));
        done_tx.send((exit, down)).unwrap();
    })
    .unwrap();
    ready.recv_timeout(PATIENCE).unwrap();
    erl.kill();
    let (exit, down) = done.recv_timeout(Duration::from_secs(90)).unwrap();
    assert!(matches!(exit, Some(ExitReason::NoConnection)), "{exit:?}");
    assert!(
        matches!(down, Some((true, ExitReason::NoConnection))),
        "{down:?}"
    );
    let _ = rt.shutdown();
}

#[test]
fn an_erlang_link_and_monitor_on_a_beamlet_process_fire_with_its_reason() {
    let Some(erl) = ErlNode::start("erl", "beamlet-test") else {
        return;
    };
    let (rt, _) = beamlet_node();
    let e = erl.name().to_string();
    let watched = rt
        .block_on(move || {
            let victim = beamlet::spawn(|| {
                if beamlet::receive::<Term>().is_atom("die") {
                    beamlet::exit(ExitReason::Custom(std::sync::Arc::new(Term::atom("boom"))));
                }
            })
            .unwrap();
            let ask = Term::tuple([Term::atom("watch"), Term::Pid(victim), Term::Pid(self_pid())]);
            dist::send_named("ctl", &e, &ask).unwrap();
            assert!(matches!(expect_term("watching").as_tuple(), Some([w, Term::Pid(_)]) if w.is_atom("watching")));
            beamlet::send(victim, Term::atom("die")).unwrap();
            expect_term("the watcher's report")
        })
        .unwrap();
    let boom = Term::atom("boom");
    assert_eq!(
        watched,
        Term::tuple([Term::atom("watched"), boom.clone(), boom])
    );
    let _ = rt.shutdown();
}

/// `{add, N}` and `get`, as the Erlang counter in tests/erl/beamlet_peer.erl matches them.
#[derive(serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum CounterCall {
    Add(i64),
    Get,
}

#[test]
fn derived_serde_types_are_the_terms_erlang_code_writes() {
    let Some(erl) = ErlNode::start("erl", "beamlet-test") else {
        return;
    };
    let (rt, rust_name) = beamlet_node();
    let e = erl.name().to_string();
    let (counted, listed, total) = rt
        .block_on(move || {
            let s = gen_server::start::<Stock>(()).unwrap();
            register("stock", s.pid()).unwrap();
            dist::export::<Stock>("stock").unwrap();
            // Erlang calls the beamlet server with terms written as Erlang code would.
            let server = Term::tuple([Term::atom("stock"), Term::atom(&rust_name)]);
            let erlang_call = |request: Term| {
                let ask = [Term::atom("call"), server.clone(), request];
                let ask = Term::tuple(ask.into_iter().chain([Term::Pid(self_pid())]));
                dist::send_named("ctl", &e, &ask).unwrap();
                expect_term("the Erlang call's outcome")
            };
            let fields = [
                (Term::atom("item"), Term::binary("pear")),
                (Term::atom("count"), Term::Int(4)),
            ];
            let add = Term::tuple([Term::atom("add"), Term::map(fields)]);
            let counted = erlang_call(add);
            let listed = erlang_call(Term::atom("list"));
            // beamlet calls the Erlang counter with a derived enum.
            dist::call("counter", &e, &Serde(CounterCall::Add(2)), PATIENCE).unwrap();
            let total = dist::call("counter", &e, &Serde(CounterCall::Get), PATIENCE).unwrap();
            (counted, listed, total)
        })
        .unwrap();
    assert_eq!(counted.to_string(), "{called,{ok,{count,4}}}");
    let Some([_, ok]) = listed.as_tuple() else {
        panic!("{listed}")
    };
    let (_, lines): (Atom, StockReply) = from_term(ok).unwrap();
    let pear = Line {
        item: "pear".into(),
        count: 4,
    };
    assert_eq!(lines, StockReply::Lines(vec![pear]));
    assert_eq!(from_term::<i64>(&total).unwrap(), 2);
    let _ = rt.shutdown();
}

#[test]
fn an_erlang_gen_server_is_called_and_cast_to_by_pid() {
    let Some(erl) = ErlNode::start("erl", "beamlet-test") else {
        return;
    };
    let (rt, _) = beamlet_node();
    let e = erl.name().to_string();
    let (three, four, dead) = rt
        .block_on(move || {
            let found = rpc::call(
                &e,
                "erlang",
                "whereis",
                vec![Term::atom("counter")],
                PATIENCE,
            );
            let Ok(Term::Pid(counter)) = found else {
                panic!("{found:?}")
            };
            let add = |n: i64| Term::tuple([Term::atom("add"), Term::Int(n)]);
            let three = dist::call_pid(counter, &add(3), PATIENCE);
            dist::cast_pid(counter, &add(1)).unwrap();
            let four = dist::call_pid(counter, &Term::atom("get"), PATIENCE);
            // A process that has exited: the call's monitor answers noproc at once.
            let ask = Term::tuple([Term::atom("spawn_victim"), Term::Pid(self_pid())]);
            dist::send_named("ctl", &e, &ask).unwrap();
            let victim = match expect_term("the victim").as_tuple() {
                Some([_, Term::Pid(p)]) => *p,
                other => panic!("{other:?}"),
            };
            let m = monitor(victim);
            dist::send_term(victim, &Term::atom("die")).unwrap();
            receive_timeout::<Down>(PATIENCE)
                .filter(|d| d.monitor == m)
                .expect("the victim dies");
            let dead = dist::call_pid(victim, &Term::atom("get"), PATIENCE);
            (three, four, dead)
        })
        .unwrap();
    assert_eq!(three, Ok(Term::Int(3)));
    assert_eq!(four, Ok(Term::Int(4)));
    assert!(matches!(dead, Err(CallError::NoProc)), "{dead:?}");
    let _ = rt.shutdown();
}
