//! Bad input from the network on an established distribution connection: a
//! malformed term, an oversized frame, an unknown control message and a wrong
//! packet kind each close that connection (with a logged reason) and nothing else;
//! the node goes on accepting and serving.

mod common;

use std::time::Duration;

use beamlet::net::TcpStream;
use beamlet::otp::dist::handshake::{self, HandshakeConfig};
use beamlet::otp::dist::term::Term;
use beamlet::otp::dist::{self, NodeConfig, flags};
use beamlet::{Runtime, receive_timeout, register, self_pid, spawn};
use common::PATIENCE;

/// A node with an echo process, listening on the returned port.
fn node(name: &str) -> (Runtime, u16) {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    let n = name.to_string();
    let port = rt
        .block_on(move || {
            let node = dist::start(NodeConfig::new(&n).cookie("c").without_epmd(0)).unwrap();
            let echo = spawn(|| {
                loop {
                    let t = beamlet::receive::<Term>();
                    if let Some([Term::Pid(from), msg]) = t.as_tuple() {
                        let _ =
                            dist::send_term(*from, &Term::tuple([Term::atom("echo"), msg.clone()]));
                    }
                }
            })
            .unwrap();
            register("echo", echo).unwrap();
            node.port()
        })
        .unwrap();
    (rt, port)
}

/// Connects to the node as `evil@127.0.0.1`, completes the handshake, writes
/// `bytes` raw, and says whether the node then closed the connection.
fn closes_after(port: u16, peer: &str, bytes: Vec<u8>) -> bool {
    let client = Runtime::builder().schedulers(1).build().unwrap();
    let peer = peer.to_string();
    let closed = client
        .block_on(move || {
            let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let config = HandshakeConfig {
                name: "evil@127.0.0.1".into(),
                cookie: "c".into(),
                creation: 9,
                flags: flags::advertised(true),
                timeout: Duration::from_secs(5),
            };
            handshake::connect(&stream, &config, &peer).unwrap();
            stream.write_all(&bytes).unwrap();
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            // Ticks may come first; the end of the stream is what counts.
            loop {
                match handshake::read_packet(&stream, 1 << 20) {
                    Ok(_) => continue,
                    Err(handshake::FrameError::Closed) => return true,
                    Err(_) => return false,
                }
            }
        })
        .unwrap();
    let _ = client.shutdown();
    closed
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// The node still answers a well-behaved node after the attacks.
fn still_serves(port: u16, name: &str) {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    let peer = name.to_string();
    let got = rt
        .block_on(move || {
            let config = NodeConfig::new("good@127.0.0.1")
                .cookie("c")
                .without_epmd(0)
                .peer_port(port);
            dist::start(config).unwrap();
            let hello = Term::tuple([Term::Pid(self_pid()), Term::atom("still")]);
            dist::send_named("echo", &peer, &hello).unwrap();
            receive_timeout::<Term>(PATIENCE)
        })
        .unwrap();
    assert_eq!(
        got,
        Some(Term::tuple([Term::atom("echo"), Term::atom("still")]))
    );
    let _ = rt.shutdown();
}

#[test]
fn each_kind_of_bad_packet_closes_only_its_connection() {
    let name = "hostile@127.0.0.1";
    let (rt, port) = node(name);
    // A term with an unknown tag.
    assert!(closes_after(port, name, framed(&[112, 131, 255, 1, 2, 3])));
    // A frame far over the size limit (only its header is ever sent).
    assert!(closes_after(
        port,
        name,
        0xffff_fff0u32.to_be_bytes().to_vec()
    ));
    // A packet that is not pass-through (the atom cache, never advertised).
    assert!(closes_after(port, name, framed(&[68, 0])));
    // A well-formed control tuple with an unknown operation: {99}.
    assert!(closes_after(
        port,
        name,
        framed(&[112, 131, 104, 1, 97, 99])
    ));
    // A list claiming 2^32-1 elements in 10 bytes.
    assert!(closes_after(
        port,
        name,
        framed(&[112, 131, 108, 255, 255, 255, 255, 106])
    ));
    still_serves(port, name);
    assert_eq!(rt.shutdown().stuck, 0);
}

#[test]
fn a_silent_peer_is_dropped_after_four_ticks_and_a_ticking_one_is_kept() {
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    let port = rt
        .block_on(|| {
            let config = NodeConfig::new("ticker@127.0.0.1")
                .cookie("c")
                .without_epmd(0)
                .net_ticktime(Duration::from_millis(400));
            dist::start(config).unwrap().port()
        })
        .unwrap();
    // A peer that completes the handshake, then says nothing at all.
    assert!(closes_after(port, "ticker@127.0.0.1", Vec::new()));
    // A beamlet node with the same ticktime, idle for five ticktimes, stays.
    let peer = Runtime::builder().schedulers(1).build().unwrap();
    let still = peer
        .block_on(move || {
            let config = NodeConfig::new("ticked@127.0.0.1")
                .cookie("c")
                .without_epmd(0)
                .peer_port(port)
                .net_ticktime(Duration::from_millis(400));
            dist::start(config).unwrap();
            dist::connect_node("ticker@127.0.0.1").unwrap();
            beamlet::sleep(Duration::from_secs(2));
            dist::nodes()
        })
        .unwrap();
    assert_eq!(
        still.iter().map(|n| &**n).collect::<Vec<_>>(),
        ["ticker@127.0.0.1"]
    );
    let _ = peer.shutdown();
    let _ = rt.shutdown();
}
