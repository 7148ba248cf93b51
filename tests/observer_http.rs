//! The observer's HTTP handling against bad and hostile requests: malformed request
//! lines, oversized and too many headers, unknown paths and wrong methods, a client
//! that stalls halfway (slowloris), the connection limit, and a flood of garbage
//! after which the runtime still serves. The client is `tests/common/http.rs`
//! (plain `std::net` from the test thread).

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use beamlet::Runtime;
use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init};
use beamlet::otp::observer::{self, Config, Observer};
use common::http::{self, Reply};

/// A runtime with an observer on a free loopback port.
fn observed(config: Config) -> (Runtime, Observer, SocketAddr) {
    let rt = common::runtime();
    let obs = observer::start_in(&rt, config).expect("observer starts");
    let addr = obs.local_addr();
    (rt, obs, addr)
}

fn local() -> Config {
    Config::new(([127, 0, 0, 1], 0))
}

fn finish(rt: Runtime, obs: Observer) {
    obs.stop();
    common::stop(rt);
}

fn error_of(reply: &Reply) -> String {
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_malformed_request_line_is_400() {
    common::watchdog(common::PATIENCE, || {
        let (rt, obs, addr) = observed(local());
        for bad in [
            &b"NOT HTTP AT ALL\r\n\r\n"[..],
            b"GET\x01/ HTTP/1.1\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
        ] {
            let reply = http::raw(addr, bad);
            assert_eq!(reply.status, 400, "{bad:?}");
            assert_eq!(error_of(&reply), "malformed request");
        }
        let te = "POST /api/process/1.1.1/send HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(http::raw(addr, te.as_bytes()).status, 400);
        finish(rt, obs);
    });
}

#[test]
fn oversized_and_too_many_headers_are_431() {
    common::watchdog(common::PATIENCE, || {
        let (rt, obs, addr) = observed(local());
        let big = format!("X-Big: {}", "a".repeat(20 * 1024));
        let reply = http::request(addr, "GET", "/api/config", &[&big], b"");
        assert_eq!(reply.status, 431);
        assert_eq!(error_of(&reply), "request headers too large");

        let many: Vec<String> = (0..100).map(|i| format!("X-H{i}: v")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let reply = http::request(addr, "GET", "/api/config", &many, b"");
        assert_eq!(reply.status, 431);
        assert_eq!(error_of(&reply), "too many request headers");

        // Just under the limits is served.
        let some: Vec<String> = (0..50).map(|i| format!("X-H{i}: v")).collect();
        let some: Vec<&str> = some.iter().map(String::as_str).collect();
        assert_eq!(
            http::request(addr, "GET", "/api/config", &some, b"").status,
            200
        );
        finish(rt, obs);
    });
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405() {
    common::watchdog(common::PATIENCE, || {
        let (rt, obs, addr) = observed(local().actions(true));
        for path in [
            "/nope",
            "/api",
            "/api/processes/extra",
            "/api/process/1.2.3/explode",
        ] {
            let reply = http::get(addr, path);
            assert_eq!(reply.status, 404, "{path}");
            assert_eq!(reply.header("content-type"), Some("application/json"));
        }
        let reply = http::post(addr, "/api/processes", b"");
        assert_eq!(reply.status, 405);
        assert_eq!(reply.header("allow"), Some("GET"));
        assert_eq!(http::request(addr, "DELETE", "/", &[], b"").status, 405);
        let reply = http::get(addr, "/api/process/1.2.3/kill");
        assert_eq!(reply.status, 405);
        assert_eq!(reply.header("allow"), Some("POST"));
        finish(rt, obs);
    });
}

#[test]
fn a_request_body_over_4_kib_is_413() {
    common::watchdog(common::PATIENCE, || {
        let (rt, obs, addr) = observed(local().actions(true));
        let body = vec![b'x'; 5000];
        let reply = http::post(addr, "/api/process/1.1.1/send", &body);
        assert_eq!(reply.status, 413);
        finish(rt, obs);
    });
}

#[test]
fn a_client_that_stalls_halfway_is_dropped_at_the_deadline() {
    common::watchdog(common::PATIENCE, || {
        let config = local().header_deadline(Duration::from_millis(200));
        let (rt, obs, addr) = observed(config);
        let mut s = http::connect(addr);
        s.write_all(b"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .unwrap();
        // The server closes without an answer; the read ends (EOF) well before the
        // client's own hang guard.
        let mut rest = Vec::new();
        let read = s.read_to_end(&mut rest);
        assert!(read.is_ok(), "closed, not timed out on our side: {read:?}");
        assert!(rest.is_empty(), "no answer to half a request: {rest:?}");
        // The observer still serves.
        assert_eq!(http::get(addr, "/api/config").status, 200);
        finish(rt, obs);
    });
}

#[test]
fn connections_over_the_limit_get_503() {
    common::watchdog(common::PATIENCE, || {
        let (rt, obs, addr) = observed(local().max_connections(2));
        // Two clients that hold their connection open (half a request each). The
        // acceptor takes connections in order, so both hold a slot before the
        // third is accepted.
        let mut held: Vec<_> = (0..2).map(|_| http::connect(addr)).collect();
        for s in &mut held {
            s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        }
        let reply = http::get(addr, "/api/config");
        assert_eq!(reply.status, 503);
        assert_eq!(error_of(&reply), "too many connections");
        // Once they finish, the slots are free again.
        for mut s in held {
            s.write_all(b"Host: 127.0.0.1\r\n\r\n").unwrap();
            assert_eq!(http::read_reply(&mut s).status, 200);
        }
        assert_eq!(http::get(addr, "/api/config").status, 200);
        finish(rt, obs);
    });
}

/// A server that answers calls: the runtime's health after the flood.
struct Echo;

impl GenServer for Echo {
    type Args = ();
    type Call = u32;
    type Reply = u32;
    type Cast = ();
    type Continue = ();
    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Echo)
    }
    fn handle_call(&mut self, n: u32, _: Caller<u32>) -> CallReply<u32, ()> {
        CallReply::Reply(n + 1)
    }
}

#[test]
fn a_flood_of_garbage_leaves_the_runtime_serving() {
    common::watchdog(Duration::from_secs(120), || {
        let config = local().header_deadline(Duration::from_millis(500));
        let (rt, obs, addr) = observed(config);
        let echo = rt
            .block_on(|| gen_server::start::<Echo>(()).unwrap())
            .unwrap();
        // A fixed pseudo-random byte stream (xorshift), so a failure replays.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut byte = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        };
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let garbage: Vec<Vec<u8>> = (0..25)
                    .map(|i| (0..(64 + 97 * (i + t) % 3000)).map(|_| byte()).collect())
                    .collect();
                std::thread::spawn(move || {
                    for g in garbage {
                        let Ok(mut s) = std::net::TcpStream::connect(addr) else {
                            continue;
                        };
                        s.set_read_timeout(Some(common::PATIENCE)).unwrap();
                        let _ = s.write_all(&g);
                        let _ = s.shutdown(std::net::Shutdown::Write);
                        let _ = s.read_to_end(&mut Vec::new());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let answer = rt.block_on(move || gen_server::call(echo, 41)).unwrap();
        assert_eq!(answer, Ok(42));
        assert_eq!(http::get(addr, "/api/config").status, 200);
        let acceptor = obs.pid();
        assert!(rt.block_on(move || beamlet::is_alive(acceptor)).unwrap());
        finish(rt, obs);
    });
}

#[test]
fn a_connection_killed_midway_leaves_the_acceptor_serving() {
    common::watchdog(common::PATIENCE, || {
        let (rt, obs, addr) = observed(local().actions(true).max_connections(2));
        // A connection that stalls halfway, whose process the observer lists.
        let mut stalled = http::connect(addr);
        stalled.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let conn = loop {
            let t = http::get(addr, "/api/processes?filter=observer+connection").json();
            // The listing's own connection runs the scan; the stalled one waits.
            let rows = t["rows"].as_array().unwrap();
            if let Some(r) = rows.iter().find(|r| r["status"] == "waiting") {
                break r["pid"].as_str().unwrap().to_string();
            }
        };
        let path = conn.trim_matches(['<', '>']);
        let kill = http::post(addr, &format!("/api/process/{path}/kill"), b"");
        assert_eq!(kill.status, 200);
        // Killed, its connection closes without an answer; its slot is free again
        // (two connections at once are still allowed), and the acceptor serves.
        let mut rest = Vec::new();
        let _ = stalled.read_to_end(&mut rest);
        assert!(rest.is_empty(), "{rest:?}");
        let mut held = http::connect(addr);
        held.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        assert_eq!(http::get(addr, "/api/config").status, 200);
        held.write_all(b"Host: 127.0.0.1\r\n\r\n").unwrap();
        assert_eq!(http::read_reply(&mut held).status, 200);
        let acceptor = obs.pid();
        assert!(rt.block_on(move || beamlet::is_alive(acceptor)).unwrap());
        finish(rt, obs);
    });
}

#[test]
fn a_client_that_expects_100_continue_is_told_to_go_on() {
    common::watchdog(common::PATIENCE, || {
        let (rt, obs, addr) = observed(local().actions(true));
        let (tx, rx) = std::sync::mpsc::channel();
        let target = rt
            .spawn(move || {
                let m = beamlet::receive::<observer::ObserverMessage>();
                tx.send(m.0).unwrap();
            })
            .unwrap();
        let path = target.to_string().trim_matches(['<', '>']).to_string();
        let body = "x".repeat(2000);
        let mut s = http::connect(addr);
        let head = format!(
            "POST /api/process/{path}/send HTTP/1.1\r\nHost: {addr}\r\nExpect: 100-continue\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let mut go = [0u8; 25];
        s.read_exact(&mut go).unwrap();
        assert_eq!(&go, b"HTTP/1.1 100 Continue\r\n\r\n");
        s.write_all(body.as_bytes()).unwrap();
        assert_eq!(http::read_reply(&mut s).status, 200);
        assert_eq!(rx.recv_timeout(common::PATIENCE).unwrap(), body);
        finish(rt, obs);
    });
}
