//! The observer's processes: the acceptor and one process per connection.
//!
//! 1. [`start`] binds in the caller (so a bind error is the caller's) and spawns
//!    the acceptor with the listener and the [`Shared`] configuration.
//! 2. The acceptor takes a connection [`Slot`] for each connection (an atomic
//!    count, released when the slot drops, so also when a connection's process
//!    panics or is killed): with none left it answers 503 itself and closes; with
//!    one it spawns the connection's process, not linked, so nothing that happens
//!    to a connection reaches the acceptor.
//! 3. A connection reads one request, answers it (or streams events), and closes
//!    gracefully: it stops writing, then reads and drops what the client still
//!    sends for a moment, so an answer to a request it did not read whole (431)
//!    is not lost to a reset.
//! 4. [`stop`] kills the acceptor and waits for its `Down`: the listener is closed
//!    as the acceptor unwinds. Connections notice at their next event tick (event
//!    streams) or end with their request.

use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use beamlet_runtime::net::{TcpListener, TcpStream};
use beamlet_runtime::{Down, ExitReason, Pid};

use super::http::{self, Limits, Response};
use super::routes::{self, Answer};
use super::sample::Sampler;
use super::{Config, Observer, ObserverError};

/// How long a write may wait for the client to read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long, in all, a closing connection drains what the client still sends.
const DRAIN_TIME: Duration = Duration::from_millis(200);
/// At most this much is drained before closing anyway.
const DRAIN_BYTES: usize = 1 << 20;

/// What every process of one observer shares.
pub(super) struct Shared {
    pub(super) config: Config,
    pub(super) limits: Limits,
    pub(super) sampler: Sampler,
    /// The acceptor, whose death ends event streams.
    pub(super) acceptor: std::sync::OnceLock<Pid>,
    connections: AtomicUsize,
}

impl Shared {
    fn new(config: Config) -> Shared {
        let limits = Limits {
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            max_body: 4 * 1024,
            deadline: config.header_deadline,
        };
        Shared {
            sampler: Sampler::new(config.sample_interval),
            config,
            limits,
            acceptor: std::sync::OnceLock::new(),
            connections: AtomicUsize::new(0),
        }
    }

    /// Whether the observer is still running (its acceptor alive).
    pub(super) fn running(&self) -> bool {
        self.acceptor
            .get()
            .is_some_and(|p| beamlet_runtime::is_alive(*p))
    }
}

/// One of the connections allowed at once; released on drop.
struct Slot(Arc<Shared>);

impl Slot {
    fn take(shared: &Arc<Shared>) -> Option<Slot> {
        let before = shared.connections.fetch_add(1, Ordering::AcqRel);
        if before >= shared.config.max_connections {
            shared.connections.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(shared.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Binds and spawns the acceptor (step 1).
pub(super) fn start(config: Config) -> Result<Observer, ObserverError> {
    let listener = TcpListener::bind(config.addr).map_err(ObserverError::Bind)?;
    let addr = listener.local_addr().map_err(ObserverError::Bind)?;
    let shared = Arc::new(Shared::new(config));
    let pid = beamlet_runtime::spawn(move || accept_loop(listener, shared))
        .map_err(ObserverError::Spawn)?;
    Ok(Observer { pid, addr })
}

/// The acceptor (step 2).
fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    beamlet_runtime::set_label("observer");
    let _ = shared.acceptor.set(beamlet_runtime::self_pid());
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            // A connection reset before it was taken, or the like: the next one.
            // `accept` itself waits out a lack of descriptors.
            Err(_) => {
                beamlet_runtime::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let Some(slot) = Slot::take(&shared) else {
            refuse(stream);
            continue;
        };
        let s = shared.clone();
        // A failed spawn drops the closure: the stream closes, the slot returns.
        let _ = beamlet_runtime::spawn(move || serve(stream, slot, s));
    }
}

/// Answers 503 to a connection over the limit. A new socket's send buffer is
/// empty, so the write does not wait.
fn refuse(stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let busy = Response::error(503, "too many connections");
    let _ = http::write_response(&stream, &busy);
    let _ = stream.shutdown(Shutdown::Both);
}

/// A connection's process (step 3).
fn serve(stream: TcpStream, slot: Slot, shared: Arc<Shared>) {
    beamlet_runtime::set_label("observer connection");
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    match http::read_request(&stream, &shared.limits) {
        Ok(req) => match routes::route(&req, &shared) {
            Answer::Response(resp) => {
                let _ = http::write_response(&stream, &resp);
            }
            Answer::Events => super::sample::stream_events(&stream, &shared),
        },
        Err(e) => {
            if let Some(resp) = e.response() {
                let _ = http::write_response(&stream, &resp);
            }
        }
    }
    close(&stream);
    drop(slot);
}

/// Closes gracefully (step 3).
fn close(stream: &TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let deadline = beamlet_runtime::now() + DRAIN_TIME;
    let mut buf = [0u8; 4096];
    let mut drained = 0;
    while drained < DRAIN_BYTES {
        let left = deadline.saturating_duration_since(beamlet_runtime::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut buf) {
            Ok(n @ 1..) => drained += n,
            _ => break,
        }
    }
}

/// Kills the acceptor `pid` and waits for its exit (step 4).
pub(super) fn stop(pid: Pid) {
    let mref = beamlet_runtime::monitor(pid);
    beamlet_runtime::exit_pid(pid, ExitReason::Kill);
    beamlet_runtime::receive_match::<Down>(|d| d.monitor == mref);
}
