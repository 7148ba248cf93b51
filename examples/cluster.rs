//! A beamlet node and an Erlang node in one cluster: messages both ways, a call
//! from Erlang into a beamlet GenServer whose requests are derived serde types,
//! `rpc:call` from Erlang into a Rust function, calls from beamlet into Erlang,
//! and a link across the nodes.
//!
//! Run: `cargo run --example cluster` (needs `erl`, Debian's erlang-base; erl
//! starts EPMD itself). The Erlang side is a few lines given to `erl -eval`:
//! it registers itself as `erl_shell`, answers beamlet's greeting, calls the
//! beamlet server `inventory` with `{take, apples}` and the Rust function
//! `demo:shout/1` with `rpc:call`, prints the answers, and halts its node when
//! told to stop.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use beamlet::otp::dist::term::{FromTerm, Term, serde::Serde};
use beamlet::otp::dist::{self, NodeConfig, rpc};
use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init};
use beamlet::{Exit, Runtime, link, receive_timeout, register, self_pid, sleep, trap_exit};

/// What Erlang asks the inventory: `{take, apples}` (serde's mapping: a newtype
/// variant is `{Variant, Value}`, a unit variant an atom).
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
enum Request {
    Take(Item),
}

#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
enum Item {
    Apples,
}

/// The answer: `{ok, Left}`.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "snake_case")]
enum Reply {
    Ok(i64),
}

/// A beamlet GenServer that Erlang calls.
struct Inventory(i64);

impl GenServer for Inventory {
    type Args = i64;
    type Call = Serde<Request>;
    type Reply = Serde<Reply>;
    type Cast = Term;
    type Continue = ();
    fn init(apples: i64) -> Init<Self, ()> {
        Init::Ok(Inventory(apples))
    }
    fn handle_call(
        &mut self,
        req: Serde<Request>,
        _: Caller<Serde<Reply>>,
    ) -> CallReply<Serde<Reply>, ()> {
        let Serde(Request::Take(Item::Apples)) = req;
        self.0 -= 1;
        CallReply::Reply(Serde(Reply::Ok(self.0)))
    }
}

const ERLANG_SIDE: &str = r#"
    register(erl_shell, self()),
    receive {From, Greeting} -> From ! {hello_from_erlang, self(), Greeting} end,
    Answer = gen_server:call({inventory, 'rust@127.0.0.1'}, {take, apples}),
    io:format("erlang:  inventory answered ~p~n", [Answer]),
    Shout = rpc:call('rust@127.0.0.1', demo, shout, [<<"hello">>]),
    io:format("erlang:  rpc:call(rust, demo, shout, [<<\"hello\">>]) -> ~p~n", [Shout]),
    receive stop -> ok after 10000 -> ok end,
    halt()."#;

fn main() {
    common::no_args(
        "cluster",
        "cluster: a beamlet node and an erl node talking.",
    );
    let erl = Command::new("erl")
        .args([
            "-noshell",
            "-name",
            "erl@127.0.0.1",
            "-setcookie",
            "cluster",
            "-eval",
            ERLANG_SIDE,
        ])
        .stdout(Stdio::inherit())
        .spawn();
    let Ok(mut erl) = erl else {
        eprintln!("cluster: erl not found (apt-get install erlang-base)");
        return;
    };
    let rt = Runtime::builder().build().unwrap();
    let outcome = rt.block_on(beamlet_side);
    let _ = erl.wait();
    let _ = rt.shutdown();
    outcome.unwrap();
}

fn beamlet_side() {
    dist::start(NodeConfig::new("rust@127.0.0.1").cookie("cluster")).unwrap();
    let inventory = gen_server::start::<Inventory>(10).unwrap();
    register("inventory", inventory.pid()).unwrap();
    dist::export::<Inventory>("inventory").unwrap();
    // A function Erlang's rpc:call and erpc:call reach as demo:shout/1.
    rpc::register_function("demo", "shout", |args| match args {
        [Term::Binary(text)] => Ok(Term::binary(String::from_utf8_lossy(text).to_uppercase())),
        _ => Err(rpc::Raise::Error(Term::atom("badarg"))),
    })
    .unwrap();
    // erl needs a moment to boot and register with EPMD.
    let mut tries = 0;
    while dist::connect_node("erl@127.0.0.1").is_err() {
        tries += 1;
        assert!(tries < 100, "erl@127.0.0.1 never came up");
        sleep(Duration::from_millis(100));
    }
    println!("beamlet: connected to {:?}", dist::nodes());
    // erl registers its shell process just after it is up; ask until it answers.
    let greeting = Term::tuple([Term::Pid(self_pid()), Term::binary("hi from beamlet")]);
    let reply = loop {
        dist::send_named("erl_shell", "erl@127.0.0.1", &greeting).unwrap();
        if let Some(reply) = receive_timeout::<Term>(Duration::from_millis(200)) {
            break reply;
        }
    };
    println!("beamlet: erlang answered {reply}");
    // A call into Erlang: its application controller knows which apps run there.
    let apps = dist::call(
        "application_controller",
        "erl@127.0.0.1",
        &Term::atom("which_applications"),
        Duration::from_secs(5),
    );
    println!(
        "beamlet: application_controller:which_applications -> {}",
        apps.map_or_else(|e| format!("{e:?}"), |t| t.to_string())
    );
    // And an rpc into Erlang, through its rex server.
    let release = Term::atom("otp_release");
    let otp = rpc::call(
        "erl@127.0.0.1",
        "erlang",
        "system_info",
        vec![release],
        Duration::from_secs(5),
    );
    let otp = otp.map(|t| String::from_term(&t).unwrap_or_else(|_| t.to_string()));
    println!("beamlet: rpc erlang:system_info(otp_release) -> {otp:?}");
    // A link across the nodes: the Erlang process halts its node when told to stop,
    // and the link fires with `noconnection`.
    let Some([_, Term::Pid(shell), _]) = reply.as_tuple() else {
        panic!("{{hello_from_erlang, Pid, Greeting}} expected")
    };
    trap_exit(true);
    link(*shell).unwrap();
    dist::send_named("erl_shell", "erl@127.0.0.1", &Term::atom("stop")).unwrap();
    let exit = receive_timeout::<Exit>(Duration::from_secs(10)).expect("the link fires");
    println!(
        "beamlet: linked process {} exited: {:?}",
        exit.from, exit.reason
    );
}
