//! dist_conns: the memory one distribution connection costs a beamlet node.
//!
//! Usage: `dist_conns [K=16]`. Starts K + 1 `erl` nodes (tests/erl/beamlet_peer.erl)
//! and a beamlet node, then:
//!
//! 1. connects to the first erl node and calls its `counter` once, so the node's
//!    one-time costs (acceptor, EPMD connection, tables, the first connection's
//!    allocator arenas) are paid before measuring;
//! 2. reads the OS process's RSS;
//! 3. connects to the other K nodes, calling each `counter` once (both directions
//!    of every connection have carried a message);
//! 4. reads RSS again and prints the growth per connection (`kib_per_conn`) and
//!    the mean time to connect and make the first call (`connect_ms`).
//!
//! The figure is what the beamlet side holds per connection: its process and
//! stack, the socket's read buffer and the crossing tables; the kernel's socket
//! buffers are not in RSS.

use std::time::{Duration, Instant};

use beamlet::Runtime;
use beamlet::otp::dist::term::Term;
use beamlet::otp::dist::{self, NodeConfig};
use beamlet_benches::erl::ErlPeer;
use beamlet_benches::{Param, Report, args, fail, fixed, rss_kib};

fn main() {
    let [k] = args(
        "dist_conns",
        "dist_conns: RSS per Erlang distribution connection of a beamlet node.",
        [Param::new(
            "K",
            16,
            "connections measured (K + 1 erl nodes are started)",
        )],
    );
    let peers = ErlPeer::start_many("cpeer", "bench", k as usize + 1);
    let names: Vec<String> = peers.iter().map(|p| p.name().to_string()).collect();
    let rt = Runtime::builder()
        .schedulers(1)
        .build()
        .unwrap_or_else(|e| fail(format_args!("runtime: {e}")));
    let (kib, secs) = rt
        .block_on(move || {
            let me = format!("conns{}@127.0.0.1", std::process::id());
            dist::start(NodeConfig::new(&me).cookie("bench"))
                .unwrap_or_else(|e| fail(format_args!("dist::start: {e}")));
            connect_and_call(&names[0]);
            let before = rss_kib();
            let t = Instant::now();
            for name in &names[1..] {
                connect_and_call(name);
            }
            let secs = t.elapsed();
            (rss_kib().saturating_sub(before), secs)
        })
        .unwrap();
    Report::new("dist_conns", k, secs)
        .key("kib_per_conn", fixed(kib as f64 / k as f64, 1))
        .key("connect_ms", fixed(secs.as_secs_f64() * 1e3 / k as f64, 2))
        .print();
    let _ = rt.shutdown();
    drop(peers);
}

fn connect_and_call(node: &str) {
    dist::connect_node(node).unwrap_or_else(|e| fail(format_args!("connect {node}: {e}")));
    let add = Term::tuple([Term::atom("add"), Term::Int(1)]);
    dist::call("counter", node, &add, Duration::from_secs(5))
        .unwrap_or_else(|e| fail(format_args!("call {node}: {e}")));
}
