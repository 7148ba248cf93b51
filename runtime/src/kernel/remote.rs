//! Deliveries to and from processes on other nodes: the kernel's side of Erlang
//! distribution.
//!
//! # Protocol
//!
//! 1. **Out.** A delivery to a pid of another node ([`Pid::is_local`] is false)
//!    reaches [`Shared::deliver_remote`] from the one routing point,
//!    `Shared::deliver_admitted`, so every sender — a process, an exiting process's
//!    links and monitors, a timer, a plain thread — comes through here. The pid's
//!    `(node, creation)` is looked up in this runtime's [`Routes`](super::routes)
//!    (then in the other runtimes' of the OS process, for a sender outside any);
//!    the message or signal is wrapped as an [`Outbound`] and queued, as an ordinary
//!    message, on the connection process, which encodes it for the wire. One
//!    queue per connection keeps the order of everything sent to one node, as the
//!    BEAM's per-pair order needs.
//! 2. **Refused.** With no route the node comes back as `NoProc`: a `send` fails
//!    with the message, and `link` / `monitor` answer `noconnection` at once.
//! 3. **In.** The connection process decodes what the peer sent and hands each
//!    message and signal to its local target with [`deliver_inbound`]: the same
//!    signals a local process sends, with the remote pid as their `from`, so links,
//!    monitors, `trap_exit` and aliases behave exactly as between local processes.
//! 4. **Lost.** When a connection ends, its process (which remembers the links and
//!    monitors that crossed it) delivers an `Exit` or `Down` with reason
//!    `NoConnection` for each, from the remote pid, then clears its route.

use super::core::Core;
use super::refused::Refused;
use super::runtimes;
use super::shared::Shared;
use super::signals::Signal;
use crate::exit::ExitReason;
use crate::mailbox::limit::Admission;
use crate::mailbox::node::{Kind, Node};
use crate::nodes;
use crate::pid::{MonitorRef, Pid, Ref};

/// A message's value, of a type known only to whoever takes it out.
pub struct Payload(Node);

impl Payload {
    /// Wraps `value`.
    pub fn new<T: Send + 'static>(value: T) -> Payload {
        Payload(Node::new(value))
    }

    /// Whether the value is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        self.0.is::<T>()
    }

    /// The value, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }

    /// Takes the value out if it is a `T`; else gives the payload back.
    ///
    /// # Errors
    ///
    /// The payload itself, when its value is not a `T`.
    pub fn downcast<T: 'static>(self) -> Result<T, Payload> {
        self.0.downcast::<T>().map_err(Payload)
    }

    /// The name of the value's type (for a log line about a value that cannot cross).
    pub fn type_name(&self) -> &'static str {
        self.0.type_name()
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Payload<{}>", self.type_name())
    }
}

/// A message or signal between a local process and a process on another node.
#[derive(Debug)]
pub enum RemoteSignal {
    /// An ordinary message.
    Message(Payload),
    /// An exit signal: `link` for a linked process's exit, else `exit_pid`'s.
    Exit {
        /// The process whose exit (or `exit_pid` call) this is.
        from: Pid,
        /// Its reason.
        reason: ExitReason,
        /// Whether it travels along a link.
        link: bool,
    },
    /// `from` links to the target.
    Link {
        /// The process that called `link`.
        from: Pid,
    },
    /// `from` unlinks from the target.
    Unlink {
        /// The process that called `unlink`.
        from: Pid,
    },
    /// `from` monitors the target.
    Monitor {
        /// The watcher.
        from: Pid,
        /// The monitor's reference.
        monitor: MonitorRef,
    },
    /// The watcher of `monitor` gave it up.
    Demonitor {
        /// The monitor.
        monitor: MonitorRef,
    },
    /// The process `pid` watched by `monitor` exited (or never existed).
    Down {
        /// The monitor.
        monitor: MonitorRef,
        /// The process that went down.
        pid: Pid,
        /// Why.
        reason: ExitReason,
    },
    /// A message through an alias of the target (kept only while the alias is active).
    Alias {
        /// The alias's tag.
        alias: Ref,
        /// The message.
        message: Payload,
    },
}

impl RemoteSignal {
    /// The signal a node carries; the node back for a signal that never crosses nodes.
    pub(crate) fn from_node(node: Node) -> Result<RemoteSignal, Node> {
        if node.header().kind != Kind::Signal {
            return Ok(RemoteSignal::Message(Payload(node)));
        }
        let sig = node.downcast::<Signal>()?;
        Ok(match sig {
            Signal::Exit { from, reason, link } => RemoteSignal::Exit { from, reason, link },
            Signal::Link { from } => RemoteSignal::Link { from },
            Signal::Unlink { from } => RemoteSignal::Unlink { from },
            Signal::Monitor { from, monitor } => RemoteSignal::Monitor { from, monitor },
            Signal::Demonitor { monitor } => RemoteSignal::Demonitor { monitor },
            Signal::Down {
                monitor,
                pid,
                reason,
            } => RemoteSignal::Down {
                monitor,
                pid,
                reason,
            },
            Signal::Alias { alias, message } => RemoteSignal::Alias {
                alias,
                message: Payload(message),
            },
            other @ Signal::MailboxOverflow => return Err(other.into_node()),
        })
    }

    /// The node a local process receives for this signal.
    pub(crate) fn into_node(self) -> Node {
        let sig = match self {
            RemoteSignal::Message(Payload(node)) => return node,
            RemoteSignal::Exit { from, reason, link } => Signal::Exit { from, reason, link },
            RemoteSignal::Link { from } => Signal::Link { from },
            RemoteSignal::Unlink { from } => Signal::Unlink { from },
            RemoteSignal::Monitor { from, monitor } => Signal::Monitor { from, monitor },
            RemoteSignal::Demonitor { monitor } => Signal::Demonitor { monitor },
            RemoteSignal::Down {
                monitor,
                pid,
                reason,
            } => Signal::Down {
                monitor,
                pid,
                reason,
            },
            RemoteSignal::Alias { alias, message } => Signal::Alias {
                alias,
                message: message.0,
            },
        };
        sig.into_node()
    }
}

/// What a connection process receives for each delivery to its node (step 1).
#[derive(Debug)]
pub struct Outbound {
    /// The pid on the other node.
    pub to: Pid,
    /// The message or signal.
    pub signal: RemoteSignal,
}

/// The connection process carrying `pid`'s node, in `shared`'s routes.
fn connection_in(shared: &Shared, pid: Pid) -> Option<Pid> {
    let (node, creation) = nodes::get(pid.node_number()?)?;
    shared.routes.connection(&node, creation)
}

/// Delivers `node` to a pid of another node from a thread with no runtime at hand:
/// through the first runtime of the OS process that routes it.
pub(crate) fn deliver_remote_anywhere(pid: Pid, node: Node) -> Result<(), Refused> {
    match runtimes::find(|shared| connection_in(shared, pid).is_some()) {
        Some(shared) => shared.deliver_remote(None, pid, node),
        None => Err(Refused::NoProc(node)),
    }
}

impl Shared {
    /// Step 1 of the module protocol: queues `node`, for `pid` on another node, on
    /// the connection process of `pid`'s node.
    pub(crate) fn deliver_remote(
        &self,
        core: Option<&mut Core>,
        pid: Pid,
        node: Node,
    ) -> Result<(), Refused> {
        let Some(connection) = connection_in(self, pid) else {
            return match runtimes::find(|s| s.id != self.id && connection_in(s, pid).is_some()) {
                Some(other) => other.deliver_remote(None, pid, node),
                None => Err(Refused::NoProc(node)),
            };
        };
        let signal = match RemoteSignal::from_node(node) {
            Ok(signal) => signal,
            // A mailbox overflow kill is a local signal; there is nothing to send.
            Err(_local_only) => return Ok(()),
        };
        let out = Node::new(Outbound { to: pid, signal });
        self.deliver_admitted(core, connection, out, Admission::Always)
            .map_err(|refused| {
                let back = refused.into_node().downcast::<Outbound>();
                let out = back.expect("the connection's node comes back as sent");
                Refused::NoProc(out.signal.into_node())
            })
    }
}
