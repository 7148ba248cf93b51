//! An echo server on 127.0.0.1 with a process per connection.
//!
//! ```text
//! cargo run --release --example echo_server            # port 7878, runs until killed
//! cargo run --release --example echo_server -- 9000    # another port
//! BEAMLET_CI=1 cargo run --example echo_server         # self-test, then exit
//! ```
//!
//! Try it with `nc 127.0.0.1 7878`: every line you type comes back.
//!
//! The root process accepts connections and spawns a process for each; that process
//! reads and writes back until the peer closes. A read parks only its own process,
//! so thousands of idle connections cost a process each, not a thread each.
//!
//! With the environment variable `BEAMLET_CI=1` it instead starts the server (on an
//! ephemeral port unless one is given), connects 10 client processes to it, checks
//! that each gets back exactly what it sent, prints a summary and exits with status 0
//! (1 if anything went wrong).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use beamlet::net::{TcpListener, TcpStream};
use beamlet::{Runtime, receive_timeout, self_pid, send, spawn};
use common::cli::Param;

/// Clients of the self-test, and messages each sends.
const CLIENTS: usize = 10;
const MESSAGES: usize = 100;

/// How long the self-test waits for anything before giving up.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() {
    let ci = std::env::var("BEAMLET_CI").is_ok_and(|v| v == "1");
    let [port] = common::cli::ints(
        "echo_server",
        "echo_server: a TCP echo server on 127.0.0.1, a process per connection\n\
         (try: nc 127.0.0.1 7878).\n\n\
         Environment: BEAMLET_CI=1 runs a self-test against the server instead, then exits.",
        [Param::new(
            "PORT",
            if ci { 0 } else { 7878 },
            "the port (0: any free one)",
        )
        .max(65535)],
        false,
    );
    let port = u16::try_from(port).expect("PORT is at most 65535");
    let rt = Runtime::builder().build().unwrap_or_else(|e| {
        eprintln!("echo_server: cannot start the runtime: {e}");
        std::process::exit(1)
    });
    let outcome = rt.block_on(move || {
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        if ci {
            spawn(move || serve(&listener, false)).map_err(|e| e.to_string())?;
            self_test(addr)
        } else {
            eprintln!(
                "echo_server: listening on {addr} (try: nc 127.0.0.1 {})",
                addr.port()
            );
            serve(&listener, true);
            Ok(String::new())
        }
    });
    let code = match outcome {
        Ok(Ok(summary)) => {
            println!("{summary}");
            0
        }
        Ok(Err(e)) => {
            eprintln!("echo_server: {e}");
            1
        }
        Err(reason) => {
            eprintln!("echo_server: the root process exited: {reason:?}");
            1
        }
    };
    let _ = rt.shutdown();
    std::process::exit(code);
}

/// Accepts connections for ever, a process for each.
fn serve(listener: &TcpListener, verbose: bool) {
    loop {
        match listener.accept() {
            Ok((conn, peer)) => {
                if verbose {
                    eprintln!("echo_server: {peer} connected");
                }
                if let Err(e) = spawn(move || echo(conn, peer, verbose)) {
                    eprintln!("echo_server: cannot spawn a connection process: {e}");
                }
            }
            // At the descriptor limit `accept` naps until one is freed rather than
            // failing, so this is never a tight loop of EMFILE errors.
            Err(e) => eprintln!("echo_server: accept failed: {e}"),
        }
    }
}

/// Echoes one connection until the peer closes it.
fn echo(conn: TcpStream, peer: SocketAddr, verbose: bool) {
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Err(e) = conn.write_all(&buf[..n]) {
                    eprintln!("echo_server: writing to {peer}: {e}");
                    break;
                }
            }
            Err(e) => {
                eprintln!("echo_server: reading from {peer}: {e}");
                break;
            }
        }
    }
    if verbose {
        eprintln!("echo_server: {peer} disconnected");
    }
}

/// The self-test: `CLIENTS` processes each send `MESSAGES` messages and check the
/// echoes; returns the summary line.
fn self_test(addr: SocketAddr) -> Result<String, String> {
    let me = self_pid();
    let start = Instant::now();
    for c in 0..CLIENTS {
        spawn(move || {
            let r = client(addr, c).map_err(|e| format!("client {c}: {e}"));
            let _ = send(me, r);
        })
        .map_err(|e| e.to_string())?;
    }
    let mut bytes = 0;
    for _ in 0..CLIENTS {
        match receive_timeout::<Result<usize, String>>(PATIENCE) {
            Some(r) => bytes += r?,
            None => return Err(format!("a client did not finish within {PATIENCE:?}")),
        }
    }
    Ok(format!(
        "echo_server self-test: {CLIENTS} clients x {MESSAGES} messages ({bytes} bytes) \
         echoed correctly by {addr} in {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    ))
}

/// One client: sends numbered lines, checks each echo; returns the bytes echoed.
fn client(addr: SocketAddr, c: usize) -> std::io::Result<usize> {
    let s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(PATIENCE))?;
    s.set_nodelay(true)?;
    let mut total = 0;
    for i in 0..MESSAGES {
        let line = format!("client {c} message {i}\n");
        s.write_all(line.as_bytes())?;
        let mut back = vec![0u8; line.len()];
        s.read_exact(&mut back)?;
        if back != line.as_bytes() {
            return Err(std::io::Error::other(format!(
                "sent {line:?}, got {:?}",
                String::from_utf8_lossy(&back)
            )));
        }
        total += back.len();
    }
    Ok(total)
}
