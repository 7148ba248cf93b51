//! The live observer (as Erlang's `observer` and Phoenix LiveDashboard): a web page
//! and a JSON API, served by the runtime's own processes, showing the processes,
//! the supervision trees, the schedulers and the load of the runtime it runs in.
//! Behind the `observer` cargo feature.
//!
//! ```
//! use beamlet::otp::observer::{self, Config};
//! let rt = beamlet::Runtime::builder().build().unwrap();
//! // Port 0: any free port; a real setup names one, e.g. ([127, 0, 0, 1], 4000).
//! let obs = observer::start_in(&rt, Config::new(([127, 0, 0, 1], 0))).unwrap();
//! println!("open http://{}/", obs.local_addr());
//! obs.stop();
//! rt.shutdown();
//! ```
//!
//! # How it is built
//!
//! - [`start`] binds the listener in the caller and spawns one acceptor process
//!   (labelled `observer`), which spawns one process per connection (labelled
//!   `observer connection`), at most [`Config::max_connections`] at once: a further
//!   connection gets 503 and is closed. Connection processes are not linked to the
//!   acceptor, so a panic in one ends only that connection.
//! - Each connection reads one request under limits (`http`: 16 KiB of headers, 64
//!   headers, a [header deadline](Config::header_deadline)), answers it (`routes`)
//!   and closes; `GET /api/events` instead streams server-sent events until the
//!   client leaves or the observer stops.
//! - The runtime-wide figures come from a sampler process (`sample`) that runs
//!   only while someone looks: started by a request, it samples once per
//!   [interval](Config::sample_interval) and exits when no request came for a few
//!   intervals and no event stream is open. An observer nobody looks at is one
//!   process parked in `accept`.
//! - The process table (`table`) visits the processes and keeps only the rows of
//!   the page asked for, in a bounded heap; the supervision trees (`tree`) are
//!   walked with `which_children` calls, each with a short timeout.
//!
//! # Endpoints
//!
//! `GET /` (the page), `GET /api/system`, `GET /api/events` (server-sent events),
//! `GET /api/processes?sort=&order=&filter=&offset=&limit=`, `GET /api/process/<pid>`,
//! `GET /api/tree`, `GET /api/config`, and the actions `POST
//! /api/process/<pid>/{kill,suspend,resume,send}`. Pids are written `1.5.0` or
//! `<1.5.0>` in paths, `"<1.5.0>"` in JSON. Every JSON answer has
//! `Cache-Control: no-store`; an error is `{"error": "..."}` with its status.
//!
//! - `/api/system`: `uptime_ms`, `process_count`, `spawned`, `exited`,
//!   `spawn_rate` and `exit_rate` (per second over the last interval),
//!   `reductions`, `context_switches`, `schedulers` (`id`, `utilisation` 0..1 over
//!   the last interval, `run_queue`), `dirty_schedulers` (`id`, `kind` `cpu` or
//!   `io`, `utilisation`), `memory` (`rss`, `stacks_carved`, `stacks_pooled`),
//!   `timers_pending`, `sockets_open`, `io_polls`, `events` (`seq`, `at_ms`, `pid`,
//!   `kind` `long_schedule` with `duration_ms` or `core_handed_off` with `core`).
//! - `/api/events`: `event: system` with that JSON as `data` once per interval,
//!   and `: keepalive` comments.
//! - `/api/processes`: `total`, `matched`, `offset`, `limit`, `sort`, `order`,
//!   `rows`; `sort` is one of `pid`, `name`, `status`, `reductions` (the default),
//!   `message_queue_len`, `memory`, `behaviour`; `order` `asc` or `desc` (the
//!   default); `limit` 50 by default, at most 500. A row: `pid`, `name`, `label`,
//!   `status` (`running`, `runnable`, `waiting`, `hibernated`, `dirty`),
//!   `reductions`, `message_queue_len`, `memory`, `behaviour`, `module`,
//!   `initial_call` (`file:line:column`), `parent`.
//! - `/api/process/<pid>`: a row's fields and `links`, `monitors`, `monitored_by`,
//!   `trap_exit`, `priority`, `scheduler`, `stack_used`, `stack_reserved`,
//!   `mailbox_limit` (`max`, `policy`) or null, `status_detail` (`behaviour`,
//!   `module`, `suspended`, `state`, from [`sys::get_status`](crate::sys::get_status))
//!   or null for a process that runs no behaviour.
//! - `/api/tree`: `roots`, each `pid`, `name`, `kind` (`supervisor`),
//!   `application`, `behaviour` (`supervisor` or `dynamic_supervisor`),
//!   `children`; a child: `id`, `pid` (null when not running), `kind` (`worker`
//!   or `supervisor`), `restart`, `name`, `children` (and a supervisor's
//!   `behaviour`); `children_omitted` past 200.
//! - `/api/config`: `actions`, `version`. The actions answer `{"ok": true}`.
//!
//! # Security
//!
//! The observer shows every process's name, state text and mailbox size, and with
//! actions on it kills and suspends processes: it is a debugging tool for a
//! developer's machine. So:
//!
//! - It binds 127.0.0.1 unless told otherwise; any other address needs
//!   [`Config::allow_remote`] *and* a [`Config::token`], or [`start`] fails. The
//!   token is not encryption: beyond loopback, put it behind TLS (a reverse proxy).
//! - With a token every request needs `Authorization: Bearer <token>` or
//!   `?token=<token>` (401 otherwise), compared in constant time.
//! - Actions are off unless [`Config::actions`]; off, they answer 403.
//! - A request whose `Origin` header names another site is refused (403): a page on
//!   another site cannot make the developer's browser act on the observer. Without
//!   a token, a request must name a loopback `Host` (403 otherwise), so DNS
//!   rebinding cannot read the API either.
//! - Hostile requests cost only their own process: oversized or too many headers
//!   get 431, a request not complete by the header deadline is dropped, the
//!   connection count is bounded.

mod actions;
mod http;
mod json;
mod pids;
mod routes;
mod sample;
mod server;
mod table;
mod tree;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use beamlet_runtime::{ExitReason, Pid, Runtime, RuntimeHandle, SpawnError};

/// How an observer is started: where it listens and what it allows.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::observer::Config;
/// let config = Config::new(([127, 0, 0, 1], 4000))
///     .actions(true)
///     .sample_interval(Duration::from_millis(500));
/// assert_eq!(config.addr().port(), 4000);
/// ```
#[derive(Clone)]
pub struct Config {
    addr: SocketAddr,
    actions: bool,
    token: Option<String>,
    allow_remote: bool,
    sample_interval: Duration,
    header_deadline: Duration,
    max_connections: usize,
}

impl Config {
    /// Listens on `addr` (a `SocketAddr`, or `([127, 0, 0, 1], 4000)`); port 0 picks
    /// a free port ([`Observer::local_addr`] tells which). Actions off, no token,
    /// loopback only, a sample a second, a 10 s header deadline, 64 connections.
    pub fn new(addr: impl Into<SocketAddr>) -> Config {
        Config {
            addr: addr.into(),
            actions: false,
            token: None,
            allow_remote: false,
            sample_interval: Duration::from_secs(1),
            header_deadline: Duration::from_secs(10),
            max_connections: 64,
        }
    }

    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the page may kill, suspend, resume and send to processes (off by
    /// default: refused with 403).
    pub fn actions(mut self, on: bool) -> Config {
        self.actions = on;
        self
    }

    /// Requires `Authorization: Bearer <token>` or `?token=<token>` on every request.
    /// An empty token is no token (it would admit an empty `?token=`).
    ///
    /// ```
    /// use beamlet::otp::observer::{self, Config, ObserverError};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// let remote = Config::new(([0, 0, 0, 0], 0)).allow_remote(true);
    /// let r = observer::start_in(&rt, remote.token(""));
    /// assert!(matches!(r, Err(ObserverError::RemoteWithoutToken(_))));
    /// rt.shutdown();
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Config {
        self.token = Some(token.into()).filter(|t| !t.is_empty());
        self
    }

    /// Allows a non-loopback address (which also needs a [token](Config::token)).
    pub fn allow_remote(mut self, allow: bool) -> Config {
        self.allow_remote = allow;
        self
    }

    /// How often the system figures are sampled (and rates computed over), and the
    /// event stream's period; 1 s by default, at least 10 ms.
    pub fn sample_interval(mut self, interval: Duration) -> Config {
        self.sample_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How long a client has to send a whole request (headers and body) after it
    /// connects: 10 s by default, so a client that stalls halfway (slowloris) is
    /// dropped.
    pub fn header_deadline(mut self, deadline: Duration) -> Config {
        self.header_deadline = deadline;
        self
    }

    /// How many connections are served at once (64 by default, at least 1); a
    /// further one gets 503 and is closed.
    pub fn max_connections(mut self, n: usize) -> Config {
        self.max_connections = n.max(1);
        self
    }
}

impl Default for Config {
    /// `127.0.0.1:4000`, as [`Config::new`] sets it up.
    fn default() -> Config {
        Config::new(([127, 0, 0, 1], 4000))
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("actions", &self.actions)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("allow_remote", &self.allow_remote)
            .field("sample_interval", &self.sample_interval)
            .field("header_deadline", &self.header_deadline)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Why an observer did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum ObserverError {
    /// The address is not a loopback one and [`Config::allow_remote`] is off.
    RemoteNotAllowed(SocketAddr),
    /// A non-loopback address without a [`Config::token`].
    RemoteWithoutToken(SocketAddr),
    /// Binding the listener failed (address in use, not available...).
    Bind(io::Error),
    /// The acceptor process could not be spawned.
    Spawn(SpawnError),
    /// The process [`start_in`] ran `start` in exited first.
    Exited(ExitReason),
}

impl fmt::Display for ObserverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObserverError::RemoteNotAllowed(a) => {
                write!(f, "observer: {a} is not loopback; allow_remote is off")
            }
            ObserverError::RemoteWithoutToken(a) => {
                write!(f, "observer: {a} is not loopback and no token is set")
            }
            ObserverError::Bind(e) => write!(f, "observer: bind failed: {e}"),
            ObserverError::Spawn(e) => write!(f, "observer: spawn failed: {e}"),
            ObserverError::Exited(r) => write!(f, "observer: the starter exited: {r}"),
        }
    }
}

impl std::error::Error for ObserverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ObserverError::Bind(e) => Some(e),
            _ => None,
        }
    }
}

/// What the page's "send message" action delivers to a process: the text typed,
/// as a message of this type (receive it, or match it in `handle_info`).
///
/// ```
/// use beamlet::otp::observer::ObserverMessage;
/// let m = ObserverMessage("ping".to_string());
/// assert_eq!(m.0, "ping");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObserverMessage(pub String);

/// A running observer. Dropping it leaves the observer running; [`Observer::stop`]
/// stops it.
#[derive(Debug)]
pub struct Observer {
    pid: Pid,
    addr: SocketAddr,
}

impl Observer {
    /// The address it listens on (with the port chosen for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its acceptor process.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Stops the observer and waits until its listener is closed; open connections
    /// end at their next read or event (within a sample interval). Works from a
    /// process and from a plain thread.
    pub fn stop(self) {
        let pid = self.pid;
        if RuntimeHandle::current().is_some() {
            server::stop(pid);
            return;
        }
        let join = RuntimeHandle::of(pid).map(|h| h.run(move || server::stop(pid)));
        if let Some(Ok(join)) = join {
            // The stopper only kills and waits for a `Down`: it cannot fail.
            let _ = RuntimeHandle::wait(join);
        }
    }
}

/// Starts an observer from a process: binds `config`'s address and spawns the
/// acceptor (see the [module](self)).
///
/// # Errors
///
/// [`ObserverError::RemoteNotAllowed`] / [`RemoteWithoutToken`](ObserverError::RemoteWithoutToken)
/// for a non-loopback address without both options, [`Bind`](ObserverError::Bind)
/// if the address cannot be bound (with `Unsupported` outside a process: use
/// [`start_in`] there), [`Spawn`](ObserverError::Spawn).
///
/// ```
/// use beamlet::otp::observer::{self, Config, ObserverError};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let remote = Config::new(([0, 0, 0, 0], 0)).allow_remote(true);
///     assert!(matches!(observer::start(remote), Err(ObserverError::RemoteWithoutToken(_))));
///     let obs = observer::start(Config::new(([127, 0, 0, 1], 0))).unwrap();
///     assert!(beamlet::is_alive(obs.pid()));
///     obs.stop();
/// }).unwrap();
/// // Outside a process there is no reactor to listen with.
/// let outside = observer::start(Config::new(([127, 0, 0, 1], 0)));
/// assert!(matches!(outside, Err(ObserverError::Bind(e)) if e.kind() == std::io::ErrorKind::Unsupported));
/// rt.shutdown();
/// ```
pub fn start(config: Config) -> Result<Observer, ObserverError> {
    let addr = config.addr;
    if !addr.ip().is_loopback() {
        if !config.allow_remote {
            return Err(ObserverError::RemoteNotAllowed(addr));
        }
        if config.token.is_none() {
            return Err(ObserverError::RemoteWithoutToken(addr));
        }
    }
    server::start(config)
}

/// [`start`] from outside the runtime's processes (main, a test).
///
/// # Errors
///
/// As [`start`]; [`Exited`](ObserverError::Exited) if the process it runs in could
/// not finish.
///
/// See the [module](self) for an example.
pub fn start_in(rt: &Runtime, config: Config) -> Result<Observer, ObserverError> {
    rt.block_on(move || start(config))
        .unwrap_or_else(|reason| Err(ObserverError::Exited(reason)))
}
