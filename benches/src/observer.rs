//! The observer's cost in any benchmark, set from the environment:
//!
//! - `BEAMLET_OBSERVER=ADDR` (e.g. `127.0.0.1:0`) starts the observer on the
//!   benchmark's runtime ([`crate::runtime`]), with nobody looking: its idle cost.
//! - `BEAMLET_OBSERVER_POLL=1` also looks at it as an open page does: a plain thread
//!   holds the event stream (`/api/events`) open and fetches the first page of the
//!   process table and the supervision trees once a second.
//!
//! [`crate::shutdown`] stops the poller and the observer before the runtime.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use beamlet::Runtime;
use beamlet::otp::observer::{self, Config, Observer};

/// What [`attach`] started, stopped by [`detach`].
struct Attached {
    observer: Observer,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

static ATTACHED: Mutex<Option<Attached>> = Mutex::new(None);

/// Starts the observer on `rt` (and its poller) if the environment asks for it.
pub fn attach(rt: &Runtime) {
    let Ok(addr) = std::env::var("BEAMLET_OBSERVER") else {
        return;
    };
    let addr: SocketAddr = addr
        .parse()
        .unwrap_or_else(|e| crate::fail(format_args!("BEAMLET_OBSERVER={addr}: {e}")));
    let observer = observer::start_in(rt, Config::new(addr))
        .unwrap_or_else(|e| crate::fail(format_args!("starting the observer: {e}")));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    if std::env::var("BEAMLET_OBSERVER_POLL").is_ok_and(|v| v == "1") {
        let at = observer.local_addr();
        let s = stop.clone();
        threads.push(std::thread::spawn(move || hold_event_stream(at, &s)));
        let s = stop.clone();
        threads.push(std::thread::spawn(move || poll_pages(at, &s)));
    }
    *ATTACHED.lock().unwrap_or_else(|e| e.into_inner()) = Some(Attached {
        observer,
        stop,
        threads,
    });
}

/// Stops what [`attach`] started.
pub fn detach() {
    let Some(a) = ATTACHED.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    a.stop.store(true, Ordering::Relaxed);
    a.observer.stop();
    for t in a.threads {
        let _ = t.join();
    }
}

/// Reads the event stream until told to stop (the observer closes it on stop).
fn hold_event_stream(at: SocketAddr, stop: &AtomicBool) {
    let Ok(mut s) = TcpStream::connect(at) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = write!(s, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
}

/// Fetches what an open page refreshes every second.
fn poll_pages(at: SocketAddr, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        for path in ["/api/processes?sort=reductions&limit=50", "/api/tree"] {
            get(at, path);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// One GET, its answer read to the end and dropped.
fn get(at: SocketAddr, path: &str) {
    let Ok(mut s) = TcpStream::connect(at) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
}
