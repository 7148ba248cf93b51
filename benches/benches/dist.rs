//! dist: Erlang distribution on loopback — remote send throughput, round-trip
//! latency and `gen_server` calls, beamlet↔beamlet (two runtimes of this OS
//! process, each a node) and beamlet↔erl (an `erl` node running
//! `tests/erl/beamlet_peer.erl`, started by this bench when `PEER=1`).
//!
//! Usage: `dist [N=200000] [PEER=0]`. Prints `dist_send` (N messages
//! `{msg, I, <<"payload">>}` to a registered sink that says when it has them all),
//! `dist_pingpong` (N/10 round trips to an echo process) and `dist_call` (N/10
//! `gen_server` calls), each with `peer=beamlet` or `peer=erlang`, and the memory
//! a connection adds (`conn_kib`, beamlet↔beamlet: RSS after connecting 1 peer
//! node over the RSS before, an estimate). The erl↔erl figures of the same
//! measures come from `benches/dist/erl.sh`.

use std::time::{Duration, Instant};

use beamlet::otp::dist::term::Term;
use beamlet::otp::dist::{self, NodeConfig};
use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init};
use beamlet::{Runtime, receive, register, self_pid, spawn};
use beamlet_benches::erl::ErlPeer;
use beamlet_benches::{Param, Report, args, fail, fixed};

fn main() {
    let [n, peer] = args(
        "dist",
        "dist: remote sends, round trips and calls over Erlang distribution on loopback.",
        [
            Param::new("N", 200_000, "messages (N/10 round trips and calls)"),
            Param::new("PEER", 0, "1: against an erl node"),
        ],
    );
    let client = node_runtime();
    let (server, name, port, _erl) = if peer == 1 {
        let erl = ErlPeer::start_many("epeer", "bench", 1).pop().unwrap();
        (None, erl.name().to_string(), None, Some(erl))
    } else {
        let (rt, name, port) = beamlet_peer();
        (Some(rt), name, Some(port), None)
    };
    let peer_kind = if peer == 1 { "erlang" } else { "beamlet" };
    let rss_before = beamlet_benches::memory::rss_kib();
    let target = name.clone();
    client
        .block_on(move || {
            let mut config =
                NodeConfig::new(&format!("bench{}@127.0.0.1", std::process::id())).cookie("bench");
            if let Some(port) = port {
                config = config.without_epmd(0).peer_port(port);
            }
            dist::start(config).unwrap_or_else(|e| fail(format_args!("dist::start: {e}")));
            dist::connect_node(&target)
                .unwrap_or_else(|e| fail(format_args!("connect {target}: {e}")));
        })
        .unwrap();
    let conn_kib = beamlet_benches::memory::rss_kib().saturating_sub(rss_before);
    let t = name.clone();
    let (send_secs, rt_secs, call_secs) = client.block_on(move || measure(&t, n)).unwrap();
    let m = n / 10;
    Report::new("dist_send", n, send_secs)
        .key("peer", peer_kind)
        .key("msgs_per_sec", fixed(n as f64 / send_secs.as_secs_f64(), 0))
        .key("conn_kib", conn_kib)
        .print();
    Report::new("dist_pingpong", m, rt_secs)
        .key("peer", peer_kind)
        .key(
            "us_per_rt",
            fixed(rt_secs.as_secs_f64() * 1e6 / m as f64, 2),
        )
        .print();
    Report::new("dist_call", m, call_secs)
        .key("peer", peer_kind)
        .key(
            "calls_per_sec",
            fixed(m as f64 / call_secs.as_secs_f64(), 0),
        )
        .print();
    let _ = client.shutdown();
    if let Some(rt) = server {
        let _ = rt.shutdown();
    }
}

fn node_runtime() -> Runtime {
    Runtime::builder()
        .schedulers(1)
        .build()
        .unwrap_or_else(|e| fail(format_args!("runtime: {e}")))
}

fn measure(peer: &str, n: u64) -> (Duration, Duration, Duration) {
    let me = self_pid();
    dist::send_named(
        "sink",
        peer,
        &Term::tuple([Term::atom("expect"), Term::Int(n as i64), Term::Pid(me)]),
    )
    .unwrap();
    let t = Instant::now();
    for i in 0..n {
        let msg = Term::tuple([
            Term::atom("msg"),
            Term::Int(i as i64),
            Term::binary(b"payload"),
        ]);
        dist::send_named("sink", peer, &msg).unwrap();
    }
    while !receive::<Term>().is_atom("sunk") {}
    let send = t.elapsed();
    let m = n / 10;
    let t = Instant::now();
    for i in 0..m {
        dist::send_named(
            "echo",
            peer,
            &Term::tuple([Term::Pid(me), Term::Int(i as i64)]),
        )
        .unwrap();
        receive::<Term>();
    }
    let round_trips = t.elapsed();
    let add = Term::tuple([Term::atom("add"), Term::Int(1)]);
    let t = Instant::now();
    for _ in 0..m {
        dist::call("counter", peer, &add, Duration::from_secs(5))
            .unwrap_or_else(|e| fail(format_args!("call: {e}")));
    }
    (send, round_trips, t.elapsed())
}

/// The beamlet peer (found by port: no EPMD between two runtimes of one OS
/// process): a node with the same `sink`, `echo` and `counter` as
/// `beamlet_peer.erl`.
fn beamlet_peer() -> (Runtime, String, u16) {
    let rt = node_runtime();
    let name = format!("bpeer{}@127.0.0.1", std::process::id());
    let n = name.clone();
    let port = rt
        .block_on(move || {
            let node = dist::start(NodeConfig::new(&n).cookie("bench").without_epmd(0)).unwrap();
            register("sink", spawn(sink).unwrap()).unwrap();
            register("echo", spawn(echo).unwrap()).unwrap();
            let counter = gen_server::start::<Counter>(0).unwrap();
            register("counter", counter.pid()).unwrap();
            dist::export::<Counter>("counter").unwrap();
            node.port()
        })
        .unwrap();
    (rt, name, port)
}

fn sink() {
    loop {
        let t = receive::<Term>();
        let (n, from) = match t.as_tuple() {
            Some([op, Term::Int(n), Term::Pid(from)]) if op.is_atom("expect") => (*n, *from),
            _ => continue,
        };
        for _ in 0..n {
            receive::<Term>();
        }
        let _ = dist::send_term(from, &Term::atom("sunk"));
    }
}

fn echo() {
    loop {
        if let Some([Term::Pid(from), msg]) = receive::<Term>().as_tuple() {
            let _ = dist::send_term(*from, &Term::tuple([Term::atom("echo"), msg.clone()]));
        }
    }
}

struct Counter(i64);

/// `{add, K}` → the new total, as beamlet_peer.erl's counter.
impl GenServer for Counter {
    type Args = i64;
    type Call = Term;
    type Reply = Term;
    type Cast = Term;
    type Continue = ();
    fn init(start: i64) -> Init<Self, ()> {
        Init::Ok(Counter(start))
    }
    fn handle_call(&mut self, req: Term, _: Caller<Term>) -> CallReply<Term, ()> {
        if let Some([_, Term::Int(k)]) = req.as_tuple() {
            self.0 += k;
        }
        CallReply::Reply(Term::Int(self.0))
    }
}
