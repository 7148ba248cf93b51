//! Packet framing (`{packet, 1|2|4}` and `{packet, line}`) in passive and active
//! mode: packets cut across many small writes, several in one write, the end of
//! the stream inside a packet, packets over the limit, switching framing midway.
//! On 127.0.0.1 only; every wait has a timeout. No timing assertions.

mod common;

use std::io::ErrorKind;

use beamlet::net::{
    Active, Packet, PacketError, TcpClosed, TcpData, TcpError, TcpListener, TcpPassive, TcpStream,
};
use beamlet::{Message, receive_select, spawn};

use common::{PATIENCE, run};

/// A connected pair: (client, accepted server side), with timeouts set and no
/// Nagle delay (so that small writes go out as they are made).
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        s.set_write_timeout(Some(PATIENCE)).unwrap();
        s.set_nodelay(true).unwrap();
    }
    (client, server)
}

/// The packets the tests send: empty, short, and long enough to span reads.
fn bodies() -> Vec<Vec<u8>> {
    vec![
        b"".to_vec(),
        b"one".to_vec(),
        (0..250u8).collect(),
        b"two".to_vec(),
    ]
}

/// The wire bytes of `bodies` framed as `packet`.
fn wire(packet: Packet, bodies: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in bodies {
        match packet {
            Packet::Len1 => out.push(b.len() as u8),
            Packet::Len2 => out.extend((b.len() as u16).to_be_bytes()),
            Packet::Len4 => out.extend((b.len() as u32).to_be_bytes()),
            _ => unreachable!("length-prefixed only"),
        }
        out.extend(b);
    }
    out
}

/// The next active-mode message of any kind, as one enum.
#[derive(Debug, PartialEq)]
enum Event {
    Data(Vec<u8>),
    Error(ErrorKind),
    Closed,
    Passive,
}

fn next_event() -> Event {
    let tcp = |m: &Message| {
        m.is::<TcpData>() || m.is::<TcpError>() || m.is::<TcpClosed>() || m.is::<TcpPassive>()
    };
    let m = receive_select(None, tcp, Some(PATIENCE)).expect("an active-mode message");
    let m = match m.downcast::<TcpData>() {
        Ok(d) => return Event::Data(d.data),
        Err(m) => m,
    };
    let m = match m.downcast::<TcpError>() {
        Ok(e) => return Event::Error(e.error),
        Err(m) => m,
    };
    match m.downcast::<TcpClosed>() {
        Ok(_) => Event::Closed,
        Err(_) => Event::Passive,
    }
}

fn packet_error(e: &std::io::Error) -> Option<&PacketError> {
    e.get_ref().and_then(|e| e.downcast_ref::<PacketError>())
}

/// Writes `bytes` a few at a time from another process, then closes.
fn trickle(client: TcpStream, bytes: Vec<u8>, step: usize) {
    spawn(move || {
        for chunk in bytes.chunks(step) {
            client.write_all(chunk).unwrap();
        }
    })
    .unwrap();
}

#[test]
fn length_prefixed_packets_split_across_many_small_writes_arrive_whole_passive() {
    run(|| {
        for packet in [Packet::Len1, Packet::Len2, Packet::Len4] {
            let (client, server) = pair();
            server.set_packet(packet);
            trickle(client, wire(packet, &bodies()), 3);
            for body in bodies() {
                assert_eq!(server.read_packet().unwrap(), Some(body), "{packet:?}");
            }
            assert_eq!(server.read_packet().unwrap(), None, "then the end");
        }
    });
}

#[test]
fn length_prefixed_packets_split_across_many_small_writes_arrive_whole_active() {
    run(|| {
        for packet in [Packet::Len1, Packet::Len2, Packet::Len4] {
            let (client, server) = pair();
            server.set_packet(packet);
            server.set_active(Active::On).unwrap();
            trickle(client, wire(packet, &bodies()), 3);
            for body in bodies() {
                assert_eq!(next_event(), Event::Data(body), "{packet:?}");
            }
            assert_eq!(next_event(), Event::Closed);
        }
    });
}

#[test]
fn several_packets_in_one_write_come_one_per_read_and_one_per_message() {
    run(|| {
        let (client, server) = pair();
        server.set_packet(Packet::Len4);
        client.set_packet(Packet::Len4);
        let all = wire(Packet::Len4, &bodies());
        client.write_all(&all).unwrap();
        // `Once` hands out one packet per call: the others wait in the stream's
        // buffer, with nothing more to read from the socket.
        for body in bodies().into_iter().take(2) {
            server.set_active(Active::Once).unwrap();
            assert_eq!(next_event(), Event::Data(body));
        }
        // `N(1)` counts packets, not reads.
        server.set_active(Active::N(1)).unwrap();
        assert_eq!(next_event(), Event::Data(bodies()[2].clone()));
        assert_eq!(next_event(), Event::Passive);
        // And the last one is read passively, from the same buffer.
        assert_eq!(server.read_packet().unwrap(), Some(bodies()[3].clone()));
        client.write_packet(b"after").unwrap();
        assert_eq!(server.read_packet().unwrap().unwrap(), b"after");
    });
}

#[test]
fn lines_in_many_writes_and_a_last_line_without_newline_passive() {
    run(|| {
        let (client, server) = pair();
        server.set_packet(Packet::Line);
        trickle(client, b"alpha\n\nbeta gamma\nlast".to_vec(), 2);
        let mut got = Vec::new();
        while let Some(line) = server.read_packet().unwrap() {
            got.push(String::from_utf8(line).unwrap());
        }
        assert_eq!(got, ["alpha\n", "\n", "beta gamma\n", "last"]);
        assert_eq!(server.read_packet().unwrap(), None, "the end stays the end");
    });
}

#[test]
fn lines_in_many_writes_and_a_last_line_without_newline_active() {
    run(|| {
        let (client, server) = pair();
        server.set_packet(Packet::Line);
        trickle(client, b"alpha\n\nbeta gamma\nlast".to_vec(), 2);
        let mut got = Vec::new();
        loop {
            server.set_active(Active::Once).unwrap();
            match next_event() {
                Event::Data(line) => got.push(String::from_utf8(line).unwrap()),
                Event::Closed => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(got, ["alpha\n", "\n", "beta gamma\n", "last"]);
    });
}

#[test]
fn a_packet_cut_short_by_the_end_of_the_stream_is_an_error_passive() {
    run(|| {
        let (client, server) = pair();
        server.set_packet(Packet::Len2);
        client
            .write_all(&[0, 3, b'o', b'k', b'!', 0, 9, b'x'])
            .unwrap();
        drop(client);
        assert_eq!(server.read_packet().unwrap().unwrap(), b"ok!");
        let err = server.read_packet().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
        assert_eq!(
            packet_error(&err),
            Some(&PacketError::Truncated { received: 3 })
        );
        assert_eq!(
            server.read_packet().unwrap(),
            None,
            "the partial packet is gone"
        );
    });
}

#[test]
fn a_packet_cut_short_by_the_end_of_the_stream_is_an_error_active() {
    run(|| {
        let (client, server) = pair();
        server.set_packet(Packet::Len2);
        server.set_active(Active::On).unwrap();
        client
            .write_all(&[0, 3, b'o', b'k', b'!', 0, 9, b'x'])
            .unwrap();
        drop(client);
        assert_eq!(next_event(), Event::Data(b"ok!".to_vec()));
        assert_eq!(next_event(), Event::Error(ErrorKind::UnexpectedEof));
        assert_eq!(next_event(), Event::Closed);
    });
}

#[test]
fn a_packet_over_the_limit_is_refused_for_good_passive() {
    run(|| {
        let (client, server) = pair();
        server.set_packet(Packet::Len4);
        server.set_packet_size(Some(100));
        client.set_packet(Packet::Len4);
        client.write_packet(&[1; 100]).unwrap();
        client.write_packet(&[2; 101]).unwrap();
        assert_eq!(
            server.read_packet().unwrap().unwrap(),
            [1; 100],
            "at the limit"
        );
        let too_large = PacketError::TooLarge { len: 101, max: 100 };
        for _ in 0..2 {
            let err = server.read_packet().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidData);
            assert_eq!(packet_error(&err), Some(&too_large));
        }
        // A line is over the limit as soon as its bytes so far show it.
        let (client, server) = pair();
        server.set_packet(Packet::Line);
        server.set_packet_size(Some(8));
        client.write_all(b"1234567\n123456789").unwrap(); // the second never ends
        assert_eq!(server.read_packet().unwrap().unwrap(), b"1234567\n");
        let err = server.read_packet().unwrap_err();
        assert!(matches!(
            packet_error(&err),
            Some(PacketError::TooLarge { max: 8, .. })
        ));
        drop(client);
    });
}

#[test]
fn a_packet_over_the_limit_is_an_error_then_the_close_active() {
    run(|| {
        let (client, server) = pair();
        server.set_packet(Packet::Len1);
        server.set_packet_size(Some(4));
        server.set_active(Active::On).unwrap();
        client.write_all(&[2, b'o', b'k', 200]).unwrap();
        assert_eq!(next_event(), Event::Data(b"ok".to_vec()));
        assert_eq!(next_event(), Event::Error(ErrorKind::InvalidData));
        assert_eq!(next_event(), Event::Closed);
        assert_eq!(
            server.set_active(Active::Once).unwrap_err().kind(),
            ErrorKind::NotConnected
        );
    });
}

#[test]
fn switching_from_lines_to_raw_keeps_the_bytes_already_received() {
    run(|| {
        let (client, server) = pair();
        server.set_packet(Packet::Line);
        client.write_all(b"length: 10\n0123456789rest").unwrap();
        assert_eq!(server.read_packet().unwrap().unwrap(), b"length: 10\n");
        server.set_packet(Packet::Raw);
        let mut body = [0u8; 10];
        server.read_exact(&mut body).unwrap();
        assert_eq!(&body, b"0123456789");
        server.set_active(Active::Once).unwrap();
        assert_eq!(next_event(), Event::Data(b"rest".to_vec()));
    });
}

#[test]
fn write_packet_frames_for_every_type_and_refuses_what_the_header_cannot_hold() {
    run(|| {
        for packet in [
            Packet::Raw,
            Packet::Len1,
            Packet::Len2,
            Packet::Len4,
            Packet::Line,
        ] {
            let (client, server) = pair();
            client.set_packet(packet);
            server.set_packet(packet);
            client.write_packet(b"hello").unwrap();
            let mut want = b"hello".to_vec();
            if packet == Packet::Line {
                want.push(b'\n'); // a line keeps its newline
            }
            assert_eq!(server.read_packet().unwrap(), Some(want), "{packet:?}");
        }
        let (client, _server) = pair();
        client.set_packet(Packet::Len1);
        let err = client.write_packet(&[0; 256]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            packet_error(&err),
            Some(&PacketError::TooLarge { len: 256, max: 255 })
        );
    });
}
