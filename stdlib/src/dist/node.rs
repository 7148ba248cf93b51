//! The node: this runtime's name in the cluster, its listener, its EPMD
//! registration and its connections (OTP's `net_kernel`).
//!
//! # Protocol
//!
//! 1. [`start`] (from a process of the runtime) binds the listener, registers the
//!    name and port with EPMD (unless [`NodeConfig::without_epmd`]), and spawns the
//!    acceptor, which holds the registration: EPMD forgets the node when it exits.
//! 2. Each accepted socket gets a process of its own, which runs the handshake's
//!    accepting side and then serves the connection (`super::connection`). A
//!    second connection from a node already connected replaces the first (the
//!    peer restarted; the old one is dead but has not noticed yet).
//! 3. [`connect_node`] looks the peer up in EPMD (or takes its port from
//!    [`NodeConfig::peer_port`]), connects and runs the initiating side in a new
//!    connection process, and waits for the handshake's outcome. Concurrent calls
//!    for one node wait for the same attempt.
//! 4. The node's state is kept per runtime, so every process of the runtime finds
//!    it ([`node`], [`nodes`], [`super::send`]).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamlet_runtime::net::{TcpListener, TcpStream};
use beamlet_runtime::{Pid, dirty_io, receive_timeout, self_pid, send, spawn};

use super::connection::{self, Closed};
use super::epmd::{self, EpmdError};
use super::exports::Export;
use super::flags;
use super::handshake::{self, AcceptDecision, HandshakeConfig, HandshakeError, Handshaken};
use super::rpc;
use super::term::{Atom, Limits, LocalNode};

/// How a node starts (see [`start`]).
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::dist::NodeConfig;
/// let config = NodeConfig::new("rust@127.0.0.1")
///     .cookie("secret")
///     .net_ticktime(Duration::from_secs(10))
///     .without_epmd(0);
/// assert_eq!(config.name(), "rust@127.0.0.1");
/// ```
#[derive(Clone)]
pub struct NodeConfig {
    name: String,
    cookie: String,
    hidden: bool,
    epmd: bool,
    port: u16,
    peer_port: Option<u16>,
    ticktime: Duration,
    handshake_timeout: Duration,
    pub(crate) limits: Limits,
    pub(crate) max_packet: usize,
}

impl fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeConfig")
            .field("name", &self.name)
            .field("hidden", &self.hidden)
            .field("epmd", &self.epmd)
            .field("port", &self.port)
            .field("ticktime", &self.ticktime)
            .finish_non_exhaustive()
    }
}

impl NodeConfig {
    /// A hidden node named `name` (`name@host`; a long name with an IP address
    /// needs no DNS), registered with EPMD, with the cookie `nocookie`, OTP's
    /// `net_ticktime` of 60 s and a 7 s handshake timeout (OTP's `setup_time`).
    pub fn new(name: &str) -> NodeConfig {
        NodeConfig {
            name: name.to_string(),
            cookie: "nocookie".into(),
            hidden: true,
            epmd: true,
            port: 0,
            peer_port: None,
            ticktime: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(7),
            limits: Limits::default(),
            max_packet: handshake::DEFAULT_MAX_PACKET as usize,
        }
    }

    /// The magic cookie both sides must share.
    pub fn cookie(mut self, cookie: &str) -> NodeConfig {
        self.cookie = cookie.to_string();
        self
    }

    /// A published (visible) node rather than a hidden one: it appears in the peers'
    /// `nodes()`, not only in `nodes(hidden)`.
    pub fn published(mut self) -> NodeConfig {
        self.hidden = false;
        self
    }

    /// Listens on `port` (0: any) and does not register with EPMD, as erl's
    /// `-erl_epmd_port` setups; peers must be told the port.
    pub fn without_epmd(mut self, port: u16) -> NodeConfig {
        self.epmd = false;
        self.port = port;
        self
    }

    /// Listens on `port` (0, the default: any free port).
    pub fn port(mut self, port: u16) -> NodeConfig {
        self.port = port;
        self
    }

    /// Connects to every peer on `port` instead of asking EPMD (for peers started
    /// without EPMD).
    pub fn peer_port(mut self, port: u16) -> NodeConfig {
        self.peer_port = Some(port);
        self
    }

    /// `net_kernel`'s `net_ticktime`: a peer not heard from for this long is dead.
    pub fn net_ticktime(mut self, ticktime: Duration) -> NodeConfig {
        self.ticktime = ticktime;
        self
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn tick(&self) -> Duration {
        connection::tick_of(self.ticktime)
    }
}

/// Why a node did not start or a connection did not come up.
#[derive(Debug)]
pub enum NodeError {
    /// The name is not `name@host`.
    BadName(String),
    /// The runtime is a node already.
    AlreadyStarted,
    /// The listener could not be bound, or a connection could not be made.
    Io(std::io::Error),
    /// EPMD refused or could not be reached.
    Epmd(EpmdError),
    /// The handshake failed (a wrong cookie is [`HandshakeError::BadCookie`] or
    /// [`HandshakeError::CookieRejected`]).
    Handshake(HandshakeError),
    /// The runtime is not a node ([`start`] was not called).
    NotStarted,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::BadName(n) => write!(f, "bad node name {n:?}: expected name@host"),
            NodeError::AlreadyStarted => f.write_str("the runtime is a node already"),
            NodeError::Io(e) => write!(f, "distribution socket: {e}"),
            NodeError::Epmd(e) => write!(f, "epmd: {e}"),
            NodeError::Handshake(e) => write!(f, "handshake: {e}"),
            NodeError::NotStarted => f.write_str("the runtime is not a node (dist::start)"),
        }
    }
}

impl std::error::Error for NodeError {}

/// A node's shared state: what every connection of the runtime reads.
pub(crate) struct NodeState {
    pub(crate) local: LocalNode,
    pub(crate) config: NodeConfig,
    pub(crate) flags: u64,
    /// Connected nodes: name → (connection process, peer creation).
    connections: Mutex<HashMap<String, (Pid, u32)>>,
    /// Attempts under way: name → processes waiting for the outcome.
    connecting: Mutex<HashMap<String, Vec<Pid>>>,
    exports: Mutex<HashMap<String, Arc<dyn Export>>>,
    /// Functions other nodes may call (`rpc.rs`).
    functions: Mutex<rpc::Functions>,
    /// The group leader of the calls this node makes (`rpc::call`).
    group_leader: Pid,
    /// `monitor_node` watchers: name → processes told [`NodeDown`] when it goes.
    node_watchers: Mutex<HashMap<String, Vec<Pid>>>,
}

impl fmt::Debug for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeState({})", self.local.name)
    }
}

/// The nodes of the OS process's runtimes, by runtime number.
static NODES: Mutex<Vec<(u32, Arc<NodeState>)>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The calling process's runtime's node.
pub(crate) fn state() -> Result<Arc<NodeState>, NodeError> {
    let rt = self_pid().runtime_id();
    lock(&NODES)
        .iter()
        .find(|(id, _)| *id == rt)
        .map(|(_, s)| s.clone())
        .ok_or(NodeError::NotStarted)
}

impl NodeState {
    pub(crate) fn connected(&self, peer: &str, connection: Pid, creation: u32) {
        let old = lock(&self.connections).insert(peer.to_string(), (connection, creation));
        if let Some((old, _)) = old
            && old != connection
        {
            let _ = send(old, connection::Request::Disconnect);
        }
    }

    pub(crate) fn disconnected(&self, peer: &str, connection: Pid) {
        let mut conns = lock(&self.connections);
        if conns.get(peer).is_some_and(|(c, _)| *c == connection) {
            conns.remove(peer);
            drop(conns);
            let watchers = lock(&self.node_watchers).remove(peer).unwrap_or_default();
            let node: Arc<str> = peer.into();
            for w in watchers {
                let _ = send(w, NodeDown { node: node.clone() });
            }
        }
    }

    /// The connection process and creation of `peer`, if connected.
    pub(crate) fn connection(&self, peer: &str) -> Option<(Pid, u32)> {
        lock(&self.connections).get(peer).copied()
    }

    pub(crate) fn export(&self, name: &str) -> Option<Arc<dyn Export>> {
        lock(&self.exports).get(name).cloned()
    }

    pub(crate) fn add_export(&self, name: &str, export: Arc<dyn Export>) {
        lock(&self.exports).insert(name.to_string(), export);
    }

    pub(crate) fn add_function(&self, module: &str, function: &str, f: rpc::Function) {
        let key = (module.to_string(), function.to_string());
        lock(&self.functions).insert(key, f);
    }

    pub(crate) fn function(&self, module: &str, function: &str) -> Option<rpc::Function> {
        let key = (module.to_string(), function.to_string());
        lock(&self.functions).get(&key).cloned()
    }

    pub(crate) fn group_leader(&self) -> Pid {
        self.group_leader
    }

    fn handshake_config(&self) -> HandshakeConfig {
        HandshakeConfig {
            name: self.config.name.clone(),
            cookie: self.config.cookie.clone(),
            creation: self.local.creation,
            flags: self.flags,
            timeout: self.config.handshake_timeout,
        }
    }
}

/// A running node (see [`start`]).
#[derive(Debug, Clone)]
pub struct Node {
    name: Arc<str>,
    port: u16,
    acceptor: Pid,
}

impl Node {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The acceptor process (killing it stops new connections and unregisters
    /// from EPMD).
    pub fn acceptor(&self) -> Pid {
        self.acceptor
    }
}

fn host_of(name: &str) -> Result<&str, NodeError> {
    match name.split_once('@') {
        Some((n, h)) if !n.is_empty() && !h.is_empty() && !h.contains('@') => Ok(h),
        _ => Err(NodeError::BadName(name.to_string())),
    }
}

/// Starts the calling process's runtime as the node `config` names (as
/// `net_kernel:start/2`). Call it from a process.
///
/// # Errors
///
/// [`NodeError`]: a bad name, a runtime that is a node already, a port that cannot
/// be bound, or EPMD's refusal (say the name is taken).
pub fn start(config: NodeConfig) -> Result<Node, NodeError> {
    let host = host_of(&config.name)?;
    let alive = config
        .name
        .split('@')
        .next()
        .unwrap_or_default()
        .to_string();
    let rt = self_pid().runtime_id();
    if state().is_ok() {
        return Err(NodeError::AlreadyStarted);
    }
    let bind_ip: IpAddr = host.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let listener =
        TcpListener::bind(SocketAddr::new(bind_ip, config.port)).map_err(NodeError::Io)?;
    let port = listener.local_addr().map_err(NodeError::Io)?.port();
    let registration = if config.epmd {
        Some(epmd::register(&alive, port, config.hidden).map_err(NodeError::Epmd)?)
    } else {
        None
    };
    let creation = registration
        .as_ref()
        .map_or_else(fresh_creation, |r| r.creation());
    let group_leader = spawn(rpc::group_leader)
        .map_err(|e| NodeError::Io(std::io::Error::other(e.to_string())))?;
    let state = Arc::new(NodeState {
        local: LocalNode {
            name: Atom::new(&config.name),
            creation,
            runtime: rt,
        },
        flags: flags::advertised(config.hidden),
        config,
        connections: Mutex::default(),
        connecting: Mutex::default(),
        exports: Mutex::default(),
        functions: Mutex::default(),
        group_leader,
        node_watchers: Mutex::default(),
    });
    rpc::start_rex(&state);
    lock(&NODES).push((rt, state.clone()));
    let listed = Listed(rt);
    let for_acceptor = state.clone();
    let acceptor = spawn(move || {
        let _listed = listed;
        accept_loop(for_acceptor, listener, registration)
    })
    .map_err(|e| NodeError::Io(std::io::Error::other(e.to_string())))?;
    Ok(Node {
        name: state.local.name.to_arc(),
        port,
        acceptor,
    })
}

/// A creation for a node without EPMD: any value but 0..=3 (the old 2-bit range).
fn fresh_creation() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos.max(4)
}

fn accept_loop(
    state: Arc<NodeState>,
    listener: TcpListener,
    registration: Option<epmd::EpmdRegistration>,
) {
    let _registered = registration;
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, say: wait instead of spinning on the error.
                log::warn!("dist: {}: accept: {e}", state.local.name);
                beamlet_runtime::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let state = state.clone();
        let _ = spawn(move || accept_one(state, stream));
    }
}

/// The node's entry in [`NODES`], held by its acceptor: the acceptor ends only
/// when its runtime shuts down (or it is killed), and the node with it. Dropped
/// with the acceptor's closure too, should it never run.
struct Listed(u32);

impl Drop for Listed {
    fn drop(&mut self) {
        lock(&NODES).retain(|(rt, _)| *rt != self.0);
    }
}

fn accept_one(state: Arc<NodeState>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    match handshake::accept(&stream, &state.handshake_config(), |_| AcceptDecision::Ok) {
        Ok(peer) => serve(state, stream, peer, || ()),
        Err(e) => log::warn!(
            "dist: {}: refused an incoming connection: {e}",
            state.local.name
        ),
    }
}

fn serve(state: Arc<NodeState>, stream: TcpStream, peer: Handshaken, on_up: impl FnOnce()) {
    let name = peer.peer_name.clone();
    let closed = connection::run(state.clone(), stream, peer, on_up);
    match closed {
        Closed::Disconnected => {}
        other => log::info!(
            "dist: {}: connection to {name} ended: {other}",
            state.local.name
        ),
    }
}

/// The outcome of an attempt, sent to every waiter.
#[derive(Debug)]
struct Attempt(Arc<str>, Result<(), Arc<NodeError>>);

/// Connects to `peer` (`name@host`) if not connected (as `net_kernel:connect_node/1`).
///
/// # Errors
///
/// [`NodeError`]: this runtime is not a node, EPMD does not know the peer, the
/// connection is refused, or the handshake fails (a wrong cookie).
pub fn connect_node(peer: &str) -> Result<(), Arc<NodeError>> {
    let state = state().map_err(Arc::new)?;
    if state.connection(peer).is_some() {
        return Ok(());
    }
    let host = host_of(peer).map_err(Arc::new)?.to_string();
    let me = self_pid();
    let first = {
        let mut connecting = lock(&state.connecting);
        let waiters = connecting.entry(peer.to_string()).or_default();
        waiters.push(me);
        waiters.len() == 1
    };
    if first {
        let (state, peer) = (state.clone(), peer.to_string());
        let _ = spawn(move || connect_and_serve(state, peer, host));
    }
    let patience = state.config.handshake_timeout * 2 + Duration::from_secs(5);
    loop {
        match receive_timeout::<Attempt>(patience) {
            Some(Attempt(name, result)) if &*name == peer => return result,
            Some(_) => {}
            None => return Err(Arc::new(NodeError::Handshake(HandshakeError::Timeout))),
        }
    }
}

fn connect_and_serve(state: Arc<NodeState>, peer: String, host: String) {
    let outcome = connect_to(&state, &peer, &host);
    let waiters = lock(&state.connecting).remove(&peer).unwrap_or_default();
    let name: Arc<str> = peer.as_str().into();
    let (stream, shaken) = match outcome {
        Ok(ok) => ok,
        Err(e) => {
            let e = Arc::new(e);
            for w in waiters {
                let _ = send(w, Attempt(name.clone(), Err(e.clone())));
            }
            return;
        }
    };
    // The waiters hear of it once the route is set, so their next send finds it.
    serve(state, stream, shaken, move || {
        for w in waiters {
            let _ = send(w, Attempt(name.clone(), Ok(())));
        }
    });
}

fn connect_to(
    state: &NodeState,
    peer: &str,
    host: &str,
) -> Result<(TcpStream, Handshaken), NodeError> {
    let ip = resolve(host)?;
    let alive = peer.split('@').next().unwrap_or_default();
    let port = match state.config.peer_port {
        Some(p) => p,
        None => epmd::port_please(ip, alive).map_err(NodeError::Epmd)?.port,
    };
    let addr = SocketAddr::new(ip, port);
    let stream =
        TcpStream::connect_timeout(&addr, state.config.handshake_timeout).map_err(NodeError::Io)?;
    let _ = stream.set_nodelay(true);
    let shaken = handshake::connect(&stream, &state.handshake_config(), peer)
        .map_err(NodeError::Handshake)?;
    Ok((stream, shaken))
}

/// The host's address: an IP literal at once, a name on a dirty I/O scheduler
/// (resolving blocks).
fn resolve(host: &str) -> Result<IpAddr, NodeError> {
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    let h = host.to_string();
    let found = dirty_io(move || (h.as_str(), 0).to_socket_addrs().map(|mut a| a.next()))
        .map_err(|e| NodeError::Io(std::io::Error::other(e.to_string())))?
        .map_err(NodeError::Io)?;
    found
        .map(|a| a.ip())
        .ok_or_else(|| NodeError::Io(std::io::Error::other(format!("{host}: no address"))))
}

/// This runtime's node name (`node()`); `None` if it is not a node.
pub fn node() -> Option<Arc<str>> {
    state().ok().map(|s| s.local.name.to_arc())
}

/// The connected nodes (`nodes(connected)`).
pub fn nodes() -> Vec<Arc<str>> {
    match state() {
        Ok(s) => lock(&s.connections)
            .keys()
            .map(|k| Arc::from(k.as_str()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Closes the connection to `peer` (as `erlang:disconnect_node/1`); its links and
/// monitors fire with `noconnection`. Returns whether it was connected.
pub fn disconnect_node(peer: &str) -> bool {
    let Ok(s) = state() else { return false };
    match s.connection(peer) {
        Some((c, _)) => send(c, connection::Request::Disconnect).is_ok(),
        None => false,
    }
}

/// The message [`monitor_node`] sends when the connection to `node` is gone (as
/// `{nodedown, Node}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDown {
    /// The node.
    pub node: Arc<str>,
}

/// Watches the connection to `peer` (as `erlang:monitor_node(Node, true)`): the
/// caller gets one [`NodeDown`] when it ends. A peer that is not connected is
/// connected first; if that fails the `NodeDown` comes at once. Each call asks for
/// one more `NodeDown`.
pub fn monitor_node(peer: &str) {
    let me = self_pid();
    let down = || {
        let _ = send(me, NodeDown { node: peer.into() });
    };
    let Ok(state) = state() else { return down() };
    if connect_node(peer).is_err() {
        return down();
    }
    lock(&state.node_watchers)
        .entry(peer.to_string())
        .or_default()
        .push(me);
    // The connection may have ended between the connect and the registration.
    if state.connection(peer).is_none()
        && let Some(w) = lock(&state.node_watchers).get_mut(peer)
        && let Some(i) = w.iter().position(|p| *p == me)
    {
        w.swap_remove(i);
        down();
    }
}

/// Stops watching `peer` (as `erlang:monitor_node(Node, false)`): removes one of
/// the caller's watches.
pub fn demonitor_node(peer: &str) {
    let me = self_pid();
    if let Ok(state) = state()
        && let Some(w) = lock(&state.node_watchers).get_mut(peer)
        && let Some(i) = w.iter().position(|p| *p == me)
    {
        w.swap_remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(rt: u32) -> bool {
        lock(&NODES).iter().any(|(id, _)| *id == rt)
    }

    #[test]
    fn a_node_is_unlisted_when_its_runtime_shuts_down() {
        let rt = beamlet_runtime::Runtime::builder()
            .schedulers(1)
            .build()
            .unwrap();
        let id = rt.id();
        rt.block_on(|| start(NodeConfig::new("unlisted@127.0.0.1").without_epmd(0)).map(|_| ()))
            .unwrap()
            .unwrap();
        assert!(listed(id));
        let _ = rt.shutdown();
        assert!(!listed(id));
    }
}
