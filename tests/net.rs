//! Network I/O: TCP and UDP through the reactor, on 127.0.0.1 only. Every test runs
//! under a deadline (`run`) and every blocking call a test makes has a timeout, so a
//! bug fails a test instead of hanging the suite. No test asserts a timing bound.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::mpsc;
use std::time::Duration;

use beamlet::net::{
    Active, TcpClosed, TcpData, TcpError, TcpListener, TcpPassive, TcpStream, UdpSocket,
};
use beamlet::{
    Down, ExitReason, Pid, Runtime, exit_pid, message_queue_len, monitor, receive, receive_timeout,
    self_pid, send, sleep, spawn,
};

/// How long any one wait in a test may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// Runs `f` as the root process of a fresh runtime; fails if it does not finish
/// within a minute (instead of hanging the test binary).
fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    run_with(Runtime::builder(), f)
}

fn run_with<T: Send + 'static>(
    builder: beamlet::RuntimeBuilder,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = builder.build().unwrap();
        let r = rt.block_on(f);
        let _ = rt.shutdown();
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(r) => r.unwrap_or_else(|reason| panic!("the root process exited: {reason:?}")),
        Err(_) => panic!("the test did not finish within a minute"),
    }
}

/// A listener on 127.0.0.1 whose connections are each echoed by a process of their own.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    spawn(move || {
        while let Ok((conn, _)) = listener.accept() {
            spawn(move || echo(conn)).unwrap();
        }
    })
    .unwrap();
    addr
}

fn echo(conn: TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = conn.read(&mut buf) {
        if conn.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// A connected pair: (client, accepted server side), with read timeouts set.
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        s.set_write_timeout(Some(PATIENCE)).unwrap();
    }
    (client, server)
}

#[test]
fn echo_round_trip() {
    run(|| {
        let addr = echo_server();
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        s.set_nodelay(true).unwrap();
        for i in 0..100u32 {
            let msg = format!("message number {i}");
            s.write_all(msg.as_bytes()).unwrap();
            let mut back = vec![0u8; msg.len()];
            s.read_exact(&mut back).unwrap();
            assert_eq!(back, msg.as_bytes());
        }
        // std::io::Write/Read through the traits work too.
        writeln!(s, "line").unwrap();
        let mut line = [0u8; 5];
        Read::read_exact(&mut s, &mut line).unwrap();
        assert_eq!(&line, b"line\n");
    });
}

#[test]
fn a_thousand_concurrent_connections() {
    const C: u32 = 1000;
    const M: u32 = 10;
    run(|| {
        let addr = echo_server();
        let me = self_pid();
        for c in 0..C {
            spawn(move || {
                let r = client_session(addr, c, M);
                send(me, (c, r.map_err(|e| e.to_string()))).unwrap();
            })
            .unwrap();
        }
        let mut ok = 0;
        for _ in 0..C {
            let (c, r) = receive_timeout::<(u32, Result<(), String>)>(PATIENCE)
                .expect("every client reports");
            r.unwrap_or_else(|e| panic!("client {c}: {e}"));
            ok += 1;
        }
        assert_eq!(ok, C);
    });
}

/// Connects, sends `m` messages tagged with `c`, checks each echo.
fn client_session(addr: SocketAddr, c: u32, m: u32) -> std::io::Result<()> {
    let s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(PATIENCE))?;
    for i in 0..m {
        let msg = format!("{c}:{i};");
        s.write_all(msg.as_bytes())?;
        let mut back = vec![0u8; msg.len()];
        s.read_exact(&mut back)?;
        assert_eq!(back, msg.as_bytes(), "client {c} got another's data");
    }
    Ok(())
}

#[test]
fn a_read_times_out_and_loses_no_data() {
    run(|| {
        let (client, server) = pair();
        server
            .set_read_timeout(Some(Duration::from_millis(30)))
            .unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            server.read(&mut buf).unwrap_err().kind(),
            ErrorKind::TimedOut
        );
        assert_eq!(
            server.read_exact(&mut buf).unwrap_err().kind(),
            ErrorKind::TimedOut
        );
        client.write_all(b"after").unwrap();
        server.set_read_timeout(Some(PATIENCE)).unwrap();
        let n = server.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"after");
        // A timed-out wait leaves no stale wake-up behind: a later receive with its
        // own timeout behaves.
        assert_eq!(receive_timeout::<u8>(Duration::from_millis(5)), None);
    });
}

#[test]
fn the_peer_closing_gives_eof_then_writes_fail() {
    run(|| {
        let (client, server) = pair();
        client.write_all(b"bye").unwrap();
        drop(client);
        let mut got = Vec::new();
        (&server).read_to_end(&mut got).unwrap();
        assert_eq!(got, b"bye");
        assert_eq!(server.read(&mut [0u8; 4]).unwrap(), 0, "EOF again");
        // Writing to a closed peer fails (RST comes back) rather than hanging.
        let err = (0..100)
            .find_map(|_| {
                sleep(Duration::from_millis(1));
                server.write(&[0u8; 1024]).err()
            })
            .expect("a write to a closed peer fails");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
            ),
            "{err:?}"
        );
    });
}

#[test]
fn a_peer_reset_is_an_error_not_a_hang() {
    run(|| {
        let (client, server) = pair();
        // Closing a socket with unread data makes Linux send RST instead of FIN.
        server.write_all(b"never read").unwrap();
        sleep(Duration::from_millis(20));
        drop(client);
        let err = server.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err:?}");
    });
}

#[test]
fn shutdown_write_gives_the_peer_eof_and_keeps_reading() {
    run(|| {
        let (client, server) = pair();
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(server.read(&mut [0u8; 4]).unwrap(), 0);
        server.write_all(b"still open").unwrap();
        let mut buf = [0u8; 10];
        client.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"still open");
    });
}

#[test]
fn a_process_killed_in_read_dies_and_its_socket_closes() {
    run(|| {
        let (client, server) = pair();
        let me = self_pid();
        let reader = spawn(move || {
            send(me, "reading").unwrap();
            let _ = server.read(&mut [0u8; 16]); // blocks: nobody writes
            send(me, "read returned").unwrap();
        })
        .unwrap();
        let m = monitor(reader);
        assert_eq!(receive_timeout::<&str>(PATIENCE), Some("reading"));
        sleep(Duration::from_millis(10));
        exit_pid(reader, ExitReason::Kill);
        let down = receive_timeout::<Down>(PATIENCE).expect("the reader dies");
        assert_eq!((down.monitor, down.reason), (m, ExitReason::Killed));
        assert_eq!(receive_timeout::<&str>(Duration::ZERO), None);
        // The stream was dropped as the process unwound: the peer sees EOF.
        assert_eq!(client.read(&mut [0u8; 4]).unwrap(), 0);
    });
}

#[test]
fn a_blocked_read_leaves_its_scheduler_to_others() {
    // One scheduler: if a read blocked the thread, the worker below would never run.
    run_with(Runtime::builder().schedulers(1), || {
        let (client, server) = pair();
        let me = self_pid();
        spawn(move || {
            let mut buf = [0u8; 5];
            server.read_exact(&mut buf).unwrap();
            send(me, buf).unwrap();
        })
        .unwrap();
        spawn(move || send(me, (0..1000u64).sum::<u64>()).unwrap()).unwrap();
        assert_eq!(receive_timeout::<u64>(PATIENCE), Some(499_500));
        client.write_all(b"hello").unwrap();
        assert_eq!(receive_timeout::<[u8; 5]>(PATIENCE), Some(*b"hello"));
    });
}

#[test]
fn a_big_transfer_parks_the_writer_until_the_reader_catches_up() {
    run_with(Runtime::builder().schedulers(1), || {
        let (client, server) = pair();
        let me = self_pid();
        const LEN: usize = 16 << 20;
        spawn(move || {
            let mut total = 0usize;
            let mut sum = 0u64;
            let mut buf = vec![0u8; 65536];
            while total < LEN {
                let n = server.read(&mut buf).unwrap();
                assert_ne!(n, 0);
                sum += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
                total += n;
            }
            send(me, (total, sum)).unwrap();
        })
        .unwrap();
        let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
        let want: u64 = data.iter().map(|&b| u64::from(b)).sum();
        client.write_all(&data).unwrap();
        assert_eq!(receive_timeout::<(usize, u64)>(PATIENCE), Some((LEN, want)));
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = TcpStream::connect(addr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn calls_outside_a_process_fail_instead_of_blocking() {
    let err = TcpListener::bind("127.0.0.1:0").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(
        UdpSocket::bind("127.0.0.1:0").unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let rt = Runtime::builder().build().unwrap();
    let (client, server) = rt.block_on(pair).unwrap();
    // Out here, a read that would block cannot park anything: it fails at once.
    assert_eq!(
        client.read(&mut [0u8; 4]).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        client.write(b"x").unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    // A process of another runtime cannot wait on this runtime's socket either.
    let other = Runtime::builder().build().unwrap();
    let r = other.block_on(move || server.read(&mut [0u8; 4]).map_err(|e| e.kind()));
    assert_eq!(r.unwrap(), Err(ErrorKind::Unsupported));
    drop(client); // dropping works anywhere
    let _ = other.shutdown();
    let _ = rt.shutdown();
}

#[test]
fn active_once_delivers_everything_in_order() {
    run(|| {
        let (client, server) = pair();
        spawn(move || {
            for i in 0..2000u32 {
                client.write_all(format!("{i:05};").as_bytes()).unwrap();
            }
        })
        .unwrap();
        let mut got = Vec::new();
        loop {
            server.set_active(Active::Once).unwrap();
            let m = beamlet::receive_select(
                None,
                |m| m.is::<TcpData>() || m.is::<TcpClosed>(),
                Some(PATIENCE),
            )
            .expect("data or close arrives");
            match m.downcast::<TcpData>() {
                Ok(d) => {
                    assert_eq!(d.socket, server.id());
                    got.extend(d.data);
                }
                Err(m) => {
                    assert_eq!(m.downcast::<TcpClosed>().unwrap().socket, server.id());
                    break;
                }
            }
        }
        let want: Vec<u8> = (0..2000u32)
            .flat_map(|i| format!("{i:05};").into_bytes())
            .collect();
        assert_eq!(got, want);
        // Closed: no more active mode.
        assert_eq!(
            server.set_active(Active::Once).unwrap_err().kind(),
            ErrorKind::NotConnected
        );
    });
}

#[test]
fn active_n_counts_down_then_goes_passive() {
    run(|| {
        let (client, server) = pair();
        server.set_active(Active::N(3)).unwrap();
        for i in 0..5u8 {
            client.write_all(&[i]).unwrap();
            sleep(Duration::from_millis(5)); // separate reads, so separate messages
        }
        let mut got = Vec::new();
        while got.len() < 3 {
            got.extend(receive_timeout::<TcpData>(PATIENCE).unwrap().data);
        }
        let passive = receive_timeout::<TcpPassive>(PATIENCE).unwrap();
        assert_eq!(passive.socket, server.id());
        // The rest stays in the socket for a passive read.
        let mut rest = [0u8; 8];
        let mut n = 0;
        while got.len() + n < 5 {
            n += server.read(&mut rest[n..]).unwrap();
        }
        got.extend(&rest[..n]);
        assert_eq!(got, [0, 1, 2, 3, 4]);
        // N(0) turns passive at once, with a TcpPassive.
        server.set_active(Active::N(0)).unwrap();
        assert!(receive_timeout::<TcpPassive>(PATIENCE).is_some());
    });
}

#[test]
fn reads_are_refused_while_active() {
    run(|| {
        let (_client, server) = pair();
        // A timed-out read leaves the socket marked not ready: the refusal must not
        // depend on the socket looking readable.
        server
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        assert_eq!(
            server.read(&mut [0u8; 4]).unwrap_err().kind(),
            ErrorKind::TimedOut
        );
        server.set_read_timeout(Some(PATIENCE)).unwrap();
        server.set_active(Active::On).unwrap();
        assert_eq!(
            server.read(&mut [0u8; 4]).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        server.set_active(Active::Off).unwrap();
        server
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        assert_eq!(
            server.read(&mut [0u8; 4]).unwrap_err().kind(),
            ErrorKind::TimedOut
        );
    });
}

#[test]
fn an_active_socket_reports_a_reset_then_the_close() {
    run(|| {
        let (client, server) = pair();
        server.write_all(b"unread").unwrap();
        sleep(Duration::from_millis(20));
        server.set_active(Active::On).unwrap();
        drop(client); // unread data: RST
        let e = receive_timeout::<TcpError>(PATIENCE).expect("an error message");
        assert_eq!(
            (e.socket, e.error),
            (server.id(), ErrorKind::ConnectionReset)
        );
        let c = receive_timeout::<TcpClosed>(PATIENCE).expect("then the close");
        assert_eq!(c.socket, server.id());
    });
}

/// What the new owner in the hand-off test reports.
struct Handled(Vec<u8>);

#[test]
fn ownership_hand_off_keeps_the_data_in_order() {
    run(|| {
        let (client, server) = pair();
        let me = self_pid();
        server.set_active(Active::On).unwrap();
        client.write_all(b"first;").unwrap();
        // Wait until some data sits in the old owner's mailbox.
        for _ in 0..1000 {
            if message_queue_len() > 0 {
                break;
            }
            sleep(Duration::from_millis(1));
        }
        assert!(message_queue_len() > 0, "data arrived before the hand-off");
        let handler = spawn(move || {
            let s: TcpStream = receive();
            let mut got = Vec::new();
            while let Some(m) = beamlet::receive_select(
                None,
                |m| m.is::<TcpData>() || m.is::<TcpClosed>(),
                Some(PATIENCE),
            ) {
                match m.downcast::<TcpData>() {
                    Ok(d) => got.extend(d.data),
                    Err(_) => break,
                }
            }
            send(me, Handled(got)).unwrap();
            drop(s);
        })
        .unwrap();
        server.controlling_process(handler).unwrap();
        send(handler, server).unwrap();
        client.write_all(b"second;").unwrap();
        drop(client);
        let Handled(got) = receive_timeout::<Handled>(PATIENCE).expect("handler reports");
        assert_eq!(got, b"first;second;");
        assert_eq!(message_queue_len(), 0, "nothing left with the old owner");
    });
}

#[test]
fn a_gen_server_style_loop_handles_socket_traffic_with_other_messages() {
    /// A request from outside the socket.
    struct Count(Pid);
    run(|| {
        let (client, server) = pair();
        let me = self_pid();
        let owner = spawn(move || {
            let s: TcpStream = receive();
            s.set_active(Active::Once).unwrap();
            let mut bytes = 0usize;
            loop {
                let m = beamlet::receive_any_timeout(PATIENCE).expect("a message");
                let m = match m.downcast::<TcpData>() {
                    Ok(d) => {
                        bytes += d.data.len();
                        s.write_all(&d.data).unwrap(); // echo, in the same loop
                        s.set_active(Active::Once).unwrap();
                        continue;
                    }
                    Err(m) => m,
                };
                match m.downcast::<Count>() {
                    Ok(Count(from)) => send(from, bytes).unwrap(),
                    Err(_) => return, // TcpClosed
                }
            }
        })
        .unwrap();
        server.controlling_process(owner).unwrap();
        send(owner, server).unwrap();
        let mut buf = [0u8; 3];
        for _ in 0..10 {
            client.write_all(b"abc").unwrap();
            client.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"abc");
        }
        send(owner, Count(me)).unwrap();
        assert_eq!(receive_timeout::<usize>(PATIENCE), Some(30));
    });
}

#[test]
fn token_reuse_under_churn_never_confuses_sockets() {
    const WORKERS: u32 = 8;
    const CYCLES: u32 = 10_000 / WORKERS;
    run(|| {
        let addr = echo_server();
        let me = self_pid();
        for w in 0..WORKERS {
            spawn(move || {
                for c in 0..CYCLES {
                    let s = TcpStream::connect(addr).unwrap();
                    s.set_read_timeout(Some(PATIENCE)).unwrap();
                    let tag = (w * CYCLES + c).to_le_bytes();
                    s.write_all(&tag).unwrap();
                    let mut back = [0u8; 4];
                    s.read_exact(&mut back).unwrap();
                    assert_eq!(back, tag);
                    drop(s); // frees the slot for the next connection
                }
                send(me, w).unwrap();
            })
            .unwrap();
        }
        for _ in 0..WORKERS {
            receive_timeout::<u32>(Duration::from_secs(50)).expect("a worker finished");
        }
    });
}

#[test]
fn udp_round_trip() {
    run(|| {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        server.set_read_timeout(Some(PATIENCE)).unwrap();
        spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = server.recv_from(&mut buf) {
                if server.send_to(&buf[..n], from).is_err() {
                    return;
                }
            }
        })
        .unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 1500];
        for i in 0..100u32 {
            let msg = i.to_be_bytes();
            client.send_to(&msg, addr).unwrap();
            // Loopback does not drop datagrams in practice; retry once if it did.
            let (n, from) = client
                .recv_from(&mut buf)
                .or_else(|_| {
                    client.send_to(&msg, addr)?;
                    client.recv_from(&mut buf)
                })
                .unwrap();
            assert_eq!((&buf[..n], from), (&msg[..], addr));
        }
        client
            .set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        assert_eq!(
            client.recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::TimedOut
        );
    });
}

/// Set in the child copy of this test binary that runs at a descriptor limit.
const FD_LIMIT_CHILD: &str = "BEAMLET_NET_FD_LIMIT_CHILD";

/// At the descriptor limit `accept` waits for a descriptor instead of failing at
/// once (which left callers spinning on `EMFILE`). Runs in a child process, since
/// the limit applies to the whole OS process.
#[test]
fn accept_at_the_descriptor_limit_waits_for_a_free_descriptor() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "fd_limit_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(FD_LIMIT_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("accepted at the limit"),
        "child: {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child's side: fill the descriptor table, connect, accept while another
/// process frees one descriptor 50 ms later.
#[test]
fn fd_limit_child() {
    if std::env::var(FD_LIMIT_CHILD).is_err() {
        return;
    }
    let rt = Runtime::builder().schedulers(1).build().unwrap();
    let r = rt.block_on(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        let limit = libc::rlimit {
            rlim_cur: open + 8,
            rlim_max: libc::RLIM_INFINITY,
        };
        // SAFETY: setrlimit reads the struct we pass and touches nothing else.
        let _ = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
        let mut filler = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            filler.push(f);
        }
        let spare = filler.pop().expect("some descriptors were free");
        spawn(move || {
            sleep(Duration::from_millis(50));
            drop(spare);
        })
        .unwrap();
        listener.set_accept_timeout(Some(PATIENCE)).unwrap();
        let accepted = listener.accept().map(|_| ());
        drop(filler);
        accepted
    });
    match r.unwrap() {
        Ok(()) => println!("accepted at the limit"),
        Err(e) => println!("accept failed: {e}"),
    }
    let _ = rt.shutdown();
}
