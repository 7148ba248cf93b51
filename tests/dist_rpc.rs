//! Remote calls by module and function (`beamlet::otp::dist::rpc`): Erlang's
//! `rpc:call`, `erpc:call` and `spawn/4` into registered Rust functions, and
//! `rpc::call` from beamlet into Erlang and into another beamlet node. The erl
//! parts are skipped, with a note, where `erl` is not installed.

mod common;

use std::time::Duration;

use beamlet::otp::dist::rpc::{self, Raise, RpcError};
use beamlet::otp::dist::term::Term;
use beamlet::otp::dist::{self, NodeConfig};
use beamlet::{Runtime, receive_timeout, self_pid};
use common::PATIENCE;
use common::erl::{ErlNode, unique};

fn atom(name: &str) -> Term {
    Term::atom(name)
}

/// `demo:add(A, B)`, `demo:fail(How)` raising in each class, `demo:boom()` panicking.
fn register_demo() {
    rpc::register_function("demo", "add", |args| match args {
        [Term::Int(a), Term::Int(b)] => Ok(Term::from_i128(i128::from(*a) + i128::from(*b))),
        _ => Err(Raise::Error(atom("badarg"))),
    })
    .unwrap();
    rpc::register_function("demo", "fail", |args| match args {
        [how] if how.is_atom("throw") => Err(Raise::Throw(atom("thrown"))),
        [how] if how.is_atom("exit") => Err(Raise::Exit(atom("quit"))),
        _ => Err(Raise::Error(atom("oops"))),
    })
    .unwrap();
    rpc::register_function("demo", "boom", |_| panic!("kaboom")).unwrap();
}

fn node(name: &str) -> Runtime {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let name = name.to_string();
    rt.block_on(move || {
        dist::start(NodeConfig::new(&name).cookie("beamlet-test")).unwrap();
        register_demo();
    })
    .unwrap();
    rt
}

/// What erl's `rpc:call`, `erpc:call` and `spawn/4` of `demo:F(Args)` gave.
fn from_erlang(erl: &str, rust: &str, function: &str, args: Vec<Term>) -> Term {
    let ask = Term::tuple([
        atom("rpc"),
        atom(rust),
        atom("demo"),
        atom(function),
        Term::List(args),
        Term::Pid(self_pid()),
    ]);
    dist::send_named("ctl", erl, &ask).unwrap();
    receive_timeout::<Term>(PATIENCE).expect("the Erlang side reports")
}

#[test]
fn erlang_calls_registered_rust_functions_with_rpc_erpc_and_spawn() {
    let Some(erl) = ErlNode::start("erl", "beamlet-test") else {
        return;
    };
    let rust = unique("rust");
    let rt = node(&rust);
    let e = erl.name().to_string();
    let outcomes = rt
        .block_on(move || {
            let mut said = Vec::new();
            for (function, args) in [
                ("add", vec![Term::Int(1), Term::Int(2)]),
                ("add", vec![atom("x")]),
                ("nope", vec![Term::Int(1)]),
                ("fail", vec![atom("throw")]),
                ("fail", vec![atom("exit")]),
                ("boom", vec![]),
            ] {
                said.push(from_erlang(&e, &rust, function, args).to_string());
            }
            said
        })
        .unwrap();
    let expected = [
        "{rpc,3,{ok,3},true}",
        "{rpc,{badrpc,{'EXIT',{badarg,[]}}},{error,{exception,badarg,[]}},true}",
        "{rpc,{badrpc,{'EXIT',{undef,[{demo,nope,[1],[]}]}}},\
         {error,{exception,undef,[{demo,nope,[1],[]}]}},true}",
        "{rpc,thrown,{throw,thrown},true}",
        "{rpc,{badrpc,{'EXIT',quit}},{exit,{exception,quit}},true}",
        "{rpc,{badrpc,{'EXIT',{panic,<<\"kaboom\">>}}},{exit,{signal,{panic,<<\"kaboom\">>}}},true}",
    ];
    assert_eq!(outcomes, expected);
    let _ = rt.shutdown();
}

#[test]
fn rust_calls_erlang_functions_through_rex() {
    let Some(erl) = ErlNode::start("erl", "beamlet-test") else {
        return;
    };
    let rt = node(&unique("rust"));
    let e = erl.name().to_string();
    let (reversed, undef, printed, node) = rt
        .block_on(move || {
            let list = Term::list([Term::Int(1), Term::Int(2)]);
            let t = PATIENCE;
            let reversed = rpc::call(&e, "lists", "reverse", vec![list], t);
            let undef = rpc::call(&e, "nomod", "f", vec![], t);
            // io:format on the Erlang side writes through our group leader.
            let printed = rpc::call(
                &e,
                "io",
                "format",
                vec![Term::binary("rpc io ~p~n"), Term::list([Term::Int(7)])],
                t,
            );
            let node = rpc::call(&e, "erlang", "node", vec![], t);
            (reversed, undef, printed, node)
        })
        .unwrap();
    assert_eq!(reversed, Ok(Term::list([Term::Int(2), Term::Int(1)])));
    let Err(RpcError::BadRpc(why)) = undef else {
        panic!("{undef:?}")
    };
    assert_eq!(why.to_string(), "{'EXIT',{undef,[{nomod,f,[],[]}]}}");
    assert_eq!(printed, Ok(atom("ok")));
    assert_eq!(node, Ok(atom(erl.name())));
    let _ = rt.shutdown();
}

#[test]
fn two_beamlet_nodes_call_each_others_functions() {
    let (a, b) = (unique("ra"), unique("rb"));
    let (ra, rb) = (node(&a), node(&b));
    let b2 = b.clone();
    let (sum, missing, down) = ra
        .block_on(move || {
            let t = Duration::from_secs(5);
            let sum = rpc::call(&b2, "demo", "add", vec![Term::Int(40), Term::Int(2)], t);
            let missing = rpc::call(&b2, "demo", "nope", vec![], t);
            let down = rpc::call("nobody@127.0.0.1", "demo", "add", vec![], t);
            (sum, missing, down)
        })
        .unwrap();
    assert_eq!(sum, Ok(Term::Int(42)));
    assert!(matches!(missing, Err(RpcError::BadRpc(_))), "{missing:?}");
    assert_eq!(down, Err(RpcError::NoConnection));
    let _ = ra.shutdown();
    let _ = rb.shutdown();
}
