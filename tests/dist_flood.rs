//! Two beamlet nodes flooding each other at once with large messages: both
//! connections must keep reading while they write, or each blocks in a write the
//! other never drains.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use beamlet::otp::dist::term::Term;
use beamlet::otp::dist::{self, NodeConfig};
use beamlet::{Runtime, receive, receive_timeout, register, self_pid, spawn};

const MESSAGES: i64 = 400;
const BYTES: usize = 256 * 1024;

fn node(name: &str, peer_port: Option<u16>) -> (Runtime, u16) {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let name = name.to_string();
    let port = rt
        .block_on(move || {
            let mut config = NodeConfig::new(&name).cookie("flood").without_epmd(0);
            if let Some(p) = peer_port {
                config = config.peer_port(p);
            }
            let node = dist::start(config).unwrap();
            register("sink", spawn(sink).unwrap()).unwrap();
            node.port()
        })
        .unwrap();
    (rt, port)
}

/// Counts `MESSAGES` binaries, then tells `{done, From}`'s `From`.
fn sink() {
    let report_to = match receive::<Term>().as_tuple() {
        Some([_, Term::Pid(p)]) => *p,
        other => panic!("{other:?}"),
    };
    let mut bytes = 0;
    for _ in 0..MESSAGES {
        bytes += receive::<Term>().as_binary().map_or(0, <[u8]>::len);
    }
    dist::send_term(report_to, &Term::Int(bytes as i64)).unwrap();
}

/// Starts a process on `rt` that floods `peer`'s sink; its outcome arrives on the channel.
fn flood(rt: &Runtime, peer: String) -> mpsc::Receiver<Option<Term>> {
    let (tx, rx) = mpsc::channel();
    rt.spawn(move || {
        let hello = Term::tuple([Term::atom("report_to"), Term::Pid(self_pid())]);
        dist::send_named("sink", &peer, &hello).unwrap();
        let payload = Term::Binary(vec![7; BYTES]);
        for _ in 0..MESSAGES {
            dist::send_named("sink", &peer, &payload).unwrap();
        }
        tx.send(receive_timeout::<Term>(Duration::from_secs(120)))
            .unwrap();
    })
    .unwrap();
    rx
}

#[test]
fn two_nodes_flooding_each_other_both_get_everything() {
    let (b, b_port) = node("floodb@127.0.0.1", None);
    let (a, _) = node("flooda@127.0.0.1", Some(b_port));
    a.block_on(|| dist::connect_node("floodb@127.0.0.1").unwrap())
        .unwrap();
    let to_b = flood(&a, "floodb@127.0.0.1".into());
    let to_a = flood(&b, "flooda@127.0.0.1".into());
    let expected = Some(Term::Int(MESSAGES * BYTES as i64));
    let patience = Duration::from_secs(150);
    assert_eq!(to_b.recv_timeout(patience).unwrap(), expected);
    assert_eq!(to_a.recv_timeout(patience).unwrap(), expected);
    let _ = a.shutdown();
    let _ = b.shutdown();
}
