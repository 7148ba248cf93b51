//! Pids of processes on other nodes, and the hooks Erlang distribution is built on.
//!
//! Applications use the distribution layer, `beamlet::otp::dist` (feature `dist`):
//! it connects nodes, runs one process per connection, and encodes messages as
//! Erlang terms. This module is what that layer needs from the runtime:
//!
//! - [`pid`] / [`parts`]: a [`Pid`] can name a process on another node, and stays a
//!   small `Copy` value (the node's name and creation are interned once per OS
//!   process).
//! - [`set_route`] / [`clear_route`]: which local process carries the traffic for a
//!   connected node. Every delivery to a pid of that node — `send`, `link`,
//!   `monitor`, `exit_pid`, an exiting process's exit signals and `Down`s — reaches
//!   that process as an [`Outbound`] message, in send order.
//! - [`deliver`]: the connection process hands what the peer sent to local
//!   processes as the same signals a local sender makes, from the remote pid.
//!
//! The kernel's side of the protocol is stated in `kernel::remote`. `process_info`
//! and `is_alive` answer for local pids only, as on the BEAM.

use std::fmt;
use std::sync::Arc;

pub use crate::kernel::remote::{Outbound, Payload, RemoteSignal};
use crate::kernel::shared::Shared;
use crate::nodes;
use crate::pid::Pid;
use crate::scheduler::context::with_runtime;
use crate::scheduler::current;

/// The parts of a pid of another node, as the Erlang pid `{Node, Id, Serial, Creation}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemotePid {
    /// The node's name (`name@host`).
    pub node: Arc<str>,
    /// The node incarnation's creation.
    pub creation: u32,
    /// The pid's `ID`.
    pub id: u32,
    /// The pid's `Serial`.
    pub serial: u32,
}

/// The OS process already knows of 65,536 `(node, creation)` pairs (see [`pid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeTableFull;

impl fmt::Display for NodeTableFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("system_limit: too many distinct nodes in this OS process")
    }
}

impl std::error::Error for NodeTableFull {}

/// The pid `id`.`serial` of the process on incarnation `creation` of `node`.
///
/// # Errors
///
/// [`NodeTableFull`] when the pair would be the 65,537th the OS process learns of
/// (a bound against a peer that makes up node names without end).
///
/// ```
/// let far = beamlet::remote::pid("erl@127.0.0.1", 3, 85, 0).unwrap();
/// assert!(!far.is_local());
/// assert_eq!(far.to_string(), "<erl@127.0.0.1.85.0>");
/// let parts = beamlet::remote::parts(far).unwrap();
/// assert_eq!((&*parts.node, parts.creation, parts.id, parts.serial), ("erl@127.0.0.1", 3, 85, 0));
/// ```
pub fn pid(node: &str, creation: u32, id: u32, serial: u32) -> Result<Pid, NodeTableFull> {
    let n = nodes::intern(node, creation).ok_or(NodeTableFull)?;
    Ok(Pid::remote(n, id, serial))
}

/// The node, creation, id and serial of a pid of another node; `None` for a local pid.
pub fn parts(pid: Pid) -> Option<RemotePid> {
    let (node, creation) = nodes::get(pid.node_number()?)?;
    Some(RemotePid {
        node,
        creation,
        id: pid.index(),
        serial: pid.serial(),
    })
}

fn with_shared<R>(f: impl FnOnce(&Shared) -> R) -> R {
    with_runtime(f).expect("beamlet::remote: call from a process of the runtime")
}

/// Routes every delivery to pids of incarnation `creation` of `node` in the calling
/// process's runtime through the process `connection`, which receives each as an
/// [`Outbound`] message. Replaces an earlier route of `node`.
///
/// # Panics
///
/// Outside a process.
pub fn set_route(node: &str, creation: u32, connection: Pid) {
    with_shared(|s| s.routes.set(node, creation, connection));
}

/// Removes the route of `node` if `connection` still carries it; returns whether it
/// did. Deliveries to the node's pids fail with `NoProc` from then on (and `link` /
/// `monitor` answer `NoConnection`).
///
/// # Panics
///
/// Outside a process.
pub fn clear_route(node: &str, connection: Pid) -> bool {
    with_shared(|s| s.routes.clear(node, connection))
}

/// The process carrying `node`'s traffic in the calling process's runtime.
///
/// # Panics
///
/// Outside a process.
pub fn connection(node: &str) -> Option<Pid> {
    with_shared(|s| s.routes.connection_of_node(node))
}

/// The nodes the calling process's runtime has a route to.
///
/// # Panics
///
/// Outside a process.
pub fn routed_nodes() -> Vec<Arc<str>> {
    with_shared(|s| s.routes.nodes())
}

/// Hands a message or signal from another node to the local process `to`, as if
/// sent by the remote pid it names (`from`, or the `Down`'s `pid`).
///
/// # Errors
///
/// The signal back if `to` is dead (a `Link` or `Monitor` to a dead process is
/// answered `noproc` towards the remote sender, as a local one would be).
pub fn deliver(to: Pid, signal: RemoteSignal) -> Result<(), RemoteSignal> {
    current::deliver(to, signal.into_node())
        .map_err(|node| RemoteSignal::from_node(node).expect("a remote signal comes back as one"))
}
