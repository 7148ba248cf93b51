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
use beamlet_runtime::{
    ExitReason, Message, MonitorRef, Pid, Ref, receive_any, receive_any_timeout, receive_select,
    self_pid, send_after,
};

use super::control::{Control, Proc};
use super::handshake::Handshaken;
use super::node::NodeState;
use super::packet;
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
    /// Packets not yet written (`output.rs`).
    out: Output,
    /// Messages taken while output was pending and not written (`output.rs`).
    turns_unwritten: u32,
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
        out: Output::default(),
        turns_unwritten: 0,
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
            let msg = match self.next_message() {
                Ok(msg) => msg,
                Err(closed) => return closed,
            };
            if let Err(closed) = self.handle(msg) {
                return closed;
            }
        }
    }

    /// The next message to handle, the output written meanwhile (`output.rs`,
    /// steps 2–4).
    fn next_message(&mut self) -> Result<Message, Closed> {
        loop {
            let pending = self.out.pending();
            if pending == 0 {
                return Ok(receive_any());
            }
            let ready = if pending > output::BUSY_BYTES {
                receive_select(None, keeps_socket_moving, Some(Duration::ZERO))
            } else {
                receive_any_timeout(Duration::ZERO)
            };
            match ready {
                Some(msg) => {
                    self.turns_unwritten += 1;
                    if pending >= output::FLUSH_BYTES || self.turns_unwritten >= output::FLUSH_TURNS
                    {
                        self.write_some(output::NO_WAIT)?;
                    }
                    return Ok(msg);
                }
                None => self.write_some(output::WRITE_WAIT)?,
            }
        }
    }

    /// Before a local `disconnect_node`: what was sent before it goes out first, if
    /// the socket takes it within [`DRAIN_WAIT`].
    fn drain_output(&mut self) {
        let deadline = std::time::Instant::now() + DRAIN_WAIT;
        while self.out.pending() > 0 && std::time::Instant::now() < deadline {
            if self.write_some(output::WRITE_WAIT).is_err() {
                return;
            }
        }
    }

    fn write_some(&mut self, wait: Duration) -> Result<(), Closed> {
        self.turns_unwritten = 0;
        self.out
            .write_some(&self.stream, wait)
            .map_err(|e| Closed::Socket(e.to_string()))
    }

    fn handle(&mut self, msg: Message) -> Result<(), Closed> {
        let msg = match msg.downcast::<Outbound>() {
            Ok(out) => return self.outbound(out),
            Err(other) => other,
        };
        let msg = match msg.downcast::<TcpData>() {
            Ok(data) => return self.packet(&data.data),
            Err(other) => other,
        };
        if msg.is::<Tick>() {
            self.tick()
        } else if msg.is::<TcpPassive>() {
            self.stream
                .set_active(Active::N(64))
                .map_err(|e| Closed::Socket(e.to_string()))
        } else if msg.is::<TcpClosed>() {
            Err(Closed::Socket("closed by the peer".into()))
        } else if let Some(e) = msg.downcast_ref::<TcpError>() {
            Err(Closed::Socket(format!("{:?}", e.error)))
        } else if let Ok(req) = msg.downcast::<Request>() {
            self.request(req)
        } else {
            Ok(())
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
            self.write_tick();
        }
        self.wrote = false;
        send_after(self.node.config.tick(), self.me, Tick);
        Ok(())
    }

    /// Queues a tick, the empty packet (written with the rest, `output.rs`).
    fn write_tick(&mut self) {
        self.wrote = true;
        let _ = self.out.packet(|_| Ok::<(), ()>(()));
    }

    /// Encodes one control message and its payload into the output.
    fn send_control(&mut self, control: &Control, payload: Option<&Term>) -> Result<(), Closed> {
        let local = &self.node.local;
        let queued = self
            .out
            .packet(|buf| packet::encode(control, payload, local, buf));
        match queued {
            Ok(()) => self.wrote = true,
            // A local value that cannot be written (a pid of a runtime that is not
            // this node, a 4 GiB message): the one message is lost, the
            // connection lives.
            Err(PacketError::Body(e)) => {
                log::warn!("dist: to {}: dropped {control:?}: {e}", self.peer.peer_name);
            }
            Err(PacketError::TooLarge) => {
                log::warn!(
                    "dist: to {}: dropped {control:?}: over 4 GiB",
                    self.peer.peer_name
                );
            }
        }
        Ok(())
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
            Request::Disconnect => {
                self.drain_output();
                Err(Closed::Disconnected)
            }
        }
    }
}

mod inbound;
mod outbound;
mod output;

use output::{Output, PacketError};

/// How long a closing connection tries to write what is pending.
const DRAIN_WAIT: Duration = Duration::from_secs(1);

/// What a busy connection still takes (`output.rs`, step 4): what keeps its
/// socket moving, and its own requests (a `disconnect_node` must not wait).
fn keeps_socket_moving(msg: &Message) -> bool {
    msg.is::<TcpData>()
        || msg.is::<TcpPassive>()
        || msg.is::<TcpClosed>()
        || msg.is::<TcpError>()
        || msg.is::<Tick>()
        || msg.is::<Request>()
}

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
