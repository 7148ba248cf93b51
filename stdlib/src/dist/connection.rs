//! The connection process: one per connected node, the only reader and writer of
//! its socket.
//!
//! # Protocol
//!
//! 1. **Up.** The node's acceptor or `connect_node` runs the handshake in this
//!    process, then [`run`] sets the socket to 4-byte packets in active mode and
//!    sets the runtime's route of the peer to this process (`beamlet::remote`).
//! 2. **One mailbox, in order.** Everything arrives here as a message: the peer's
//!    packets (`TcpData`), every local delivery to a pid of the peer
//!    (`remote::Outbound`), the node's requests ([`Request`]), and the tick timer.
//!    Taking them one at a time keeps each pair's order on both directions, and
//!    a link's or monitor's set-up can never be overtaken by a later message.
//! 3. **Out.** An outbound message (a [`Term`]) or signal becomes a control message
//!    (and payload), encoded and written. Links and monitors that cross are
//!    remembered ([`Crossing`]).
//! 4. **In.** A packet is decoded against the term limits; a control message
//!    becomes the matching local delivery (`remote::deliver`), from the remote pid.
//!    A malformed packet, an oversized frame or an unknown operation closes the
//!    connection with a logged reason: the peer is broken, and guessing is worse.
//! 5. **Ticks.** Every `tick` (a quarter of `net_ticktime`) a tick is written if
//!    nothing else was; after four ticks with nothing heard the peer is taken for
//!    dead, as `net_kernel` does.
//! 6. **Down.** However the connection ends, the route is cleared first (so no new
//!    delivery is queued here), then each crossing link gets an `Exit` and each
//!    crossing monitor a `Down`, with reason `noconnection`, from the remote pid.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use beamlet_runtime::net::{Active, Packet, TcpClosed, TcpData, TcpError, TcpPassive, TcpStream};
use beamlet_runtime::remote::{self, Outbound, RemoteSignal};
use beamlet_runtime::{ExitReason, MonitorRef, Pid, Ref, receive_any, self_pid, send_after};

use super::control::{Control, Proc};
use super::handshake::Handshaken;
use super::node::NodeState;
use super::reason;
use super::term::{self, ErlRef, Term};

/// What a local process asks of a connection besides ordinary deliveries.
#[derive(Debug)]
pub(crate) enum Request {
    /// `{Name, Node} ! Msg`.
    SendNamed {
        from: Pid,
        name: term::Atom,
        message: Term,
    },
    /// A reply to an Erlang alias (`[alias | Ref]` in a call's tag).
    AliasSend {
        from: Pid,
        alias: ErlRef,
        message: Term,
    },
    /// The name the next monitor of the stand-in pid `serial` stands for (see
    /// `api::call`).
    NameFor { serial: u32, name: term::Atom },
    /// Close the connection (`disconnect_node`).
    Disconnect,
}

/// The tick timer's message.
#[derive(Debug)]
struct Tick;

/// Links and monitors that cross this connection (step 3), so that its loss can
/// fire them (step 6).
#[derive(Debug, Default)]
struct Crossing {
    /// (local, remote) pairs linked across.
    links: HashSet<(Pid, Pid)>,
    /// Monitors held by local watchers, by their tag: (watcher, target).
    watching: HashMap<Ref, (Pid, Proc)>,
    /// Monitors held by remote watchers on local processes, by the peer's reference:
    /// (local target, remote watcher, the local monitor tag).
    watched: HashMap<ErlRef, (Pid, Pid, Ref)>,
    /// The peer's reference of each `watched` monitor, by local tag.
    watched_tags: HashMap<Ref, ErlRef>,
}

/// Why a connection ended.
pub(crate) enum Closed {
    /// The peer closed the socket, or it failed.
    Socket(String),
    /// Nothing heard for four ticks.
    TickTimeout,
    /// The peer sent something this node cannot read.
    BadInput(String),
    /// A local `disconnect_node`.
    Disconnected,
}

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Closed::Socket(why) => write!(f, "socket: {why}"),
            Closed::TickTimeout => f.write_str("net_tick_timeout: nothing heard for 4 ticks"),
            Closed::BadInput(why) => write!(f, "bad input from the peer: {why}"),
            Closed::Disconnected => f.write_str("disconnected"),
        }
    }
}

struct Connection {
    node: Arc<NodeState>,
    stream: TcpStream,
    peer: Handshaken,
    /// The flags both sides have.
    flags: u64,
    me: Pid,
    crossing: Crossing,
    heard: bool,
    silent_ticks: u32,
    wrote: bool,
    next_unlink_id: u64,
    /// Names that stand-in pids stand for, until their monitor is sent.
    stand_ins: HashMap<u32, term::Atom>,
}

/// Steps 1–6: serves the connection to `peer` over `stream` until it ends.
pub(crate) fn run(
    node: Arc<NodeState>,
    stream: TcpStream,
    peer: Handshaken,
    on_up: impl FnOnce(),
) -> Closed {
    let me = self_pid();
    stream.set_packet(Packet::Len4);
    stream.set_packet_size(Some(node.config.max_packet));
    let flags = node.flags & peer.peer_flags;
    let mut c = Connection {
        node,
        stream,
        peer,
        flags,
        me,
        crossing: Crossing::default(),
        heard: false,
        silent_ticks: 0,
        wrote: false,
        next_unlink_id: 1,
        stand_ins: HashMap::new(),
    };
    remote::set_route(&c.peer.peer_name, c.peer.peer_creation, me);
    c.node
        .connected(&c.peer.peer_name, me, c.peer.peer_creation);
    on_up();
    let closed = match c.stream.set_active(Active::N(64)) {
        Ok(()) => c.serve(),
        Err(e) => Closed::Socket(e.to_string()),
    };
    c.down();
    closed
}

impl Connection {
    fn serve(&mut self) -> Closed {
        send_after(self.node.config.tick(), self.me, Tick);
        loop {
            let msg = receive_any();
            let msg = match msg.downcast::<Outbound>() {
                Ok(out) => match self.outbound(out) {
                    Ok(()) => continue,
                    Err(closed) => return closed,
                },
                Err(other) => other,
            };
            let msg = match msg.downcast::<TcpData>() {
                Ok(data) => match self.packet(&data.data) {
                    Ok(()) => continue,
                    Err(closed) => return closed,
                },
                Err(other) => other,
            };
            if msg.is::<Tick>() {
                if let Err(closed) = self.tick() {
                    return closed;
                }
            } else if msg.is::<TcpPassive>() {
                if let Err(e) = self.stream.set_active(Active::N(64)) {
                    return Closed::Socket(e.to_string());
                }
            } else if msg.is::<TcpClosed>() {
                return Closed::Socket("closed by the peer".into());
            } else if let Some(e) = msg.downcast_ref::<TcpError>() {
                return Closed::Socket(format!("{:?}", e.error));
            } else if let Ok(req) = msg.downcast::<Request>()
                && let Err(closed) = self.request(req)
            {
                return closed;
            }
        }
    }

    fn tick(&mut self) -> Result<(), Closed> {
        if self.heard {
            self.silent_ticks = 0;
        } else {
            self.silent_ticks += 1;
            if self.silent_ticks >= 4 {
                return Err(Closed::TickTimeout);
            }
        }
        self.heard = false;
        if !self.wrote {
            self.write(&[])?;
        }
        self.wrote = false;
        send_after(self.node.config.tick(), self.me, Tick);
        Ok(())
    }

    fn write(&mut self, packet: &[u8]) -> Result<(), Closed> {
        self.wrote = true;
        self.stream
            .write_packet(packet)
            .map_err(|e| Closed::Socket(e.to_string()))
    }

    /// Encodes and writes one control message and its payload.
    fn send_control(&mut self, control: &Control, payload: Option<&Term>) -> Result<(), Closed> {
        let mut packet = vec![112u8];
        let local = &self.node.local;
        let encoded = term::encode(&control.to_term(), local, &mut packet)
            .and_then(|()| payload.map_or(Ok(()), |p| term::encode(p, local, &mut packet)));
        match encoded {
            Ok(()) => self.write(&packet),
            Err(e) => {
                // A local value that cannot be written (a pid of a runtime that is
                // not this node): the one message is lost, the connection lives.
                log::warn!("dist: to {}: dropped {control:?}: {e}", self.peer.peer_name);
                Ok(())
            }
        }
    }

    /// An exit reason as the peer wants it: in the payload when it can take that.
    fn exit_form(&self, reason: &ExitReason) -> (Option<Term>, Option<Term>) {
        let term = reason::to_term(reason);
        if self.flags & super::flags::EXIT_PAYLOAD != 0 {
            (None, Some(term))
        } else {
            (Some(term), None)
        }
    }

    fn request(&mut self, req: Request) -> Result<(), Closed> {
        match req {
            Request::SendNamed {
                from,
                name,
                message,
            } => self.send_control(&Control::RegSend { from, to: name }, Some(&message)),
            Request::AliasSend {
                from,
                alias,
                message,
            } => self.send_control(&Control::AliasSend { from, alias }, Some(&message)),
            Request::NameFor { serial, name } => {
                self.stand_ins.insert(serial, name);
                Ok(())
            }
            Request::Disconnect => Err(Closed::Disconnected),
        }
    }
}

mod inbound;
mod outbound;

impl Connection {
    /// Step 6: the route goes first, then every crossing link and monitor fires.
    fn down(&mut self) {
        remote::clear_route(&self.peer.peer_name, self.me);
        self.node.disconnected(&self.peer.peer_name, self.me);
        let crossing = std::mem::take(&mut self.crossing);
        for (local, far) in crossing.links {
            let exit = RemoteSignal::Exit {
                from: far,
                reason: ExitReason::NoConnection,
                link: true,
            };
            let _ = remote::deliver(local, exit);
        }
        for (tag, (watcher, target)) in crossing.watching {
            let pid = match target {
                Proc::Pid(p) => p,
                Proc::Name(_) => Pid::NO_PROCESS,
            };
            let down = RemoteSignal::Down {
                monitor: MonitorRef::from_tag(tag),
                pid,
                reason: ExitReason::NoConnection,
            };
            let _ = remote::deliver(watcher, down);
        }
        for (_, (target, _, tag)) in crossing.watched {
            let demonitor = RemoteSignal::Demonitor {
                monitor: MonitorRef::from_tag(tag),
            };
            let _ = remote::deliver(target, demonitor);
        }
    }
}

/// How long a tick lasts for `net_ticktime`.
pub(crate) fn tick_of(ticktime: Duration) -> Duration {
    (ticktime / 4).max(Duration::from_millis(10))
}
