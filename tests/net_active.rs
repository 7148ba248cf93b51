//! Active mode's owner: whoever turns active mode on receives the data, and
//! `controlling_process` hands a stream on. On 127.0.0.1 only; every wait has a
//! timeout, so a bug fails a test instead of hanging it. No timing assertions.

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use beamlet::net::{Active, TcpData, TcpListener, TcpStream};
use beamlet::{
    Message, Runtime, message_queue_len, receive, receive_select, self_pid, send, sleep, spawn,
};

use common::{PATIENCE, run};

/// A connected pair: (client, accepted server side), with read timeouts set.
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    (client, server)
}

/// What a handler process reports: the bytes it received as messages.
struct Got(Vec<u8>);

/// Receives `TcpData` until `n` bytes came.
fn collect(n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        let m = beamlet::receive_timeout::<TcpData>(PATIENCE).expect("data arrives");
        got.extend(m.data);
    }
    got
}

/// Whether the caller's mailbox holds any `TcpData` now.
fn has_data() -> bool {
    let data = |m: &Message| m.is::<TcpData>();
    receive_select(None, data, Some(Duration::ZERO)).is_some()
}

#[test]
fn set_active_in_the_process_the_stream_moved_to_makes_it_the_owner() {
    run(|| {
        let (client, server) = pair();
        let me = self_pid();
        spawn(move || {
            server.set_active(Active::On).unwrap();
            send(me, ()).unwrap();
            send(me, Got(collect(5))).unwrap();
            drop(server);
        })
        .unwrap();
        receive::<()>(); // active mode is on, in the handler
        client.write_all(b"hello").unwrap();
        let Got(got) = beamlet::receive_timeout::<Got>(PATIENCE).expect("the handler reports");
        assert_eq!(got, b"hello");
        assert!(!has_data(), "nothing was delivered to the acceptor");
    });
}

#[test]
fn a_process_holding_the_stream_can_hand_it_on_without_owning_it() {
    run(|| {
        let (client, server) = pair();
        // Active for the acceptor, then given away before any data came.
        server.set_active(Active::On).unwrap();
        let me = self_pid();
        let last = spawn(move || {
            send(me, Got(collect(4))).unwrap();
        })
        .unwrap();
        let middle = spawn(move || {
            let s: TcpStream = receive();
            s.controlling_process(last).unwrap();
            send(me, s).unwrap(); // back, to keep it open
        })
        .unwrap();
        send(middle, server).unwrap();
        let _server: TcpStream = beamlet::receive_timeout(PATIENCE).expect("stream back");
        client.write_all(b"data").unwrap();
        let Got(got) = beamlet::receive_timeout::<Got>(PATIENCE).expect("the last one reports");
        assert_eq!(got, b"data");
        assert!(!has_data(), "nothing was delivered to the acceptor");
    });
}

#[test]
fn messages_already_delivered_stay_with_the_previous_owner() {
    run(|| {
        let (client, server) = pair();
        server.set_active(Active::Once).unwrap();
        client.write_all(b"first").unwrap();
        for _ in 0..1000 {
            if message_queue_len() > 0 {
                break;
            }
            sleep(Duration::from_millis(1));
        }
        assert!(message_queue_len() > 0, "the first data arrived here");
        let me = self_pid();
        spawn(move || {
            server.set_active(Active::On).unwrap();
            send(me, ()).unwrap();
            send(me, Got(collect(6))).unwrap();
        })
        .unwrap();
        receive::<()>();
        client.write_all(b"second").unwrap();
        let Got(got) = beamlet::receive_timeout::<Got>(PATIENCE).expect("the new owner reports");
        assert_eq!(got, b"second");
        assert_eq!(collect(5), b"first", "the old owner kept its message");
    });
}

#[test]
fn set_active_outside_a_process_fails_instead_of_losing_the_data() {
    let rt = Runtime::builder().build().unwrap();
    let (client, server) = rt.block_on(pair).unwrap();
    assert_eq!(
        server.set_active(Active::Once).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    drop((client, server));
    let _ = rt.shutdown();
}
