//! The distribution handshake (version 6, OTP 23+): two nodes prove they share a
//! cookie and exchange names, flags and creations, on a fresh TCP connection.
//!
//! The specification is erts' "Distribution Protocol" and `dist_util.erl`, which is
//! what an Erlang node runs. Every handshake message is a 2-byte length and the
//! message; integers are big-endian. Node A connects to node B.
//!
//! A, the initiator ([`connect`]):
//!
//! 1. `send_name`: `'N'`, flags:64, creation:32, name length:16, A's full name.
//! 2. `recv_status`: `'s'` and a status. `ok` and `ok_simultaneous` go on; `nok`
//!    (B is connecting to us and wins), `not_allowed` end the handshake; `alive`
//!    (B believes a connection from A is up) is answered `'s' "true"`, because a
//!    caller connecting means it has no live connection, and B goes on; `named:`
//!    is for dynamic names, which we never request, so it ends the handshake.
//! 3. `recv_challenge`: `'N'`, B's flags:64, challenge:32, creation:32, name
//!    length:16, B's name. The name must be the node we meant to reach and the flags
//!    must hold [`flags::MANDATORY`] (after expanding `MANDATORY_25_DIGEST`). An old
//!    `'n'` challenge means a version 5 peer, which we refuse.
//! 4. `send_challenge_reply`: `'r'`, A's challenge:32, `MD5(cookie ++ B's challenge
//!    in decimal)`.
//! 5. `recv_challenge_ack`: `'a'`, `MD5(cookie ++ A's challenge in decimal)`, which
//!    must match ours. An Erlang node whose cookie differs closes the connection
//!    here instead ([`HandshakeError::CookieRejected`]).
//!
//! B, the acceptor ([`accept`]):
//!
//! 1. `recv_name`: `'N'` as in A's step 1, or the old `'n'`, version:16, flags:32,
//!    name, that OTP 23 and 24 nodes send when they do not know our version. An
//!    `'n'` without `HANDSHAKE_23` is a version 5 peer, refused with `not_allowed`.
//!    The name must be `name@host`, the flags must hold [`flags::MANDATORY`] (only
//!    their low 32 bits for `'n'`), else `not_allowed`.
//! 2. `send_status`: the caller's [`AcceptDecision`] for this peer. `alive` waits for
//!    A's `'s' "true"` (go on) or `"false"` (give up).
//! 3. `send_challenge`: `'N'` as in A's step 3, with B's challenge.
//! 4. `recv_complement`, only after an `'n'` name: `'c'`, the high 32 bits of A's
//!    flags, A's creation:32.
//! 5. `recv_challenge_reply`: `'r'`, A's challenge, the digest of B's challenge,
//!    which must match ([`HandshakeError::BadCookie`], OTP's "Invalid challenge
//!    reply").
//! 6. `send_challenge_ack`: `'a'`, the digest of A's challenge.
//!
//! The whole handshake is bounded by [`HandshakeConfig::timeout`]; a message over
//! [`MAX_HANDSHAKE_MESSAGE`] bytes is refused before its body is read. Afterwards the
//! connection carries 4-byte length-prefixed packets ([`read_packet`], [`write_packet`]).

mod digest;
mod error;
mod packet;
mod wire;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use beamlet_runtime::net::TcpStream;

use super::flags;
use digest::{challenge, digest, digests_equal};
use wire::{Fields, Wire, node_name};

pub use error::{HandshakeError, ProtocolError, Refusal};
pub use packet::{DEFAULT_MAX_PACKET, FrameError, Packet, read_packet, write_packet, write_tick};
pub use wire::MAX_HANDSHAKE_MESSAGE;

/// What our side of a handshake says about itself.
#[derive(Clone, PartialEq, Eq)]
pub struct HandshakeConfig {
    /// Our full node name, `name@host` (`rust@127.0.0.1`).
    pub name: String,
    /// The cookie both nodes must share.
    pub cookie: String,
    /// Our creation, from [`EpmdRegistration::creation`](super::epmd::EpmdRegistration::creation).
    pub creation: u32,
    /// The flags we advertise, usually [`flags::advertised`].
    pub flags: u64,
    /// The bound on the whole handshake.
    pub timeout: Duration,
}

impl std::fmt::Debug for HandshakeConfig {
    // The cookie is a secret: it stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeConfig")
            .field("name", &self.name)
            .field("cookie", &"<hidden>")
            .field("creation", &self.creation)
            .field("flags", &format_args!("{:#x}", self.flags))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The peer, as a completed handshake knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshaken {
    /// Its full node name.
    pub peer_name: String,
    /// The flags it advertised (`MANDATORY_25_DIGEST` expanded); the connection uses
    /// those both sides advertised, `ours & peer_flags`.
    pub peer_flags: u64,
    /// Its creation.
    pub peer_creation: u32,
}

/// The status an acceptor sends a connecting node (`send_status`), decided by the
/// caller, who knows which connections are up or pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptDecision {
    /// `ok`: go on.
    Ok,
    /// `ok_simultaneous`: go on; we were connecting to the peer too and gave up ours.
    OkSimultaneous,
    /// `alive`: a connection from this node is up; the peer says whether to replace it.
    Alive,
    /// `not_allowed`: the node may not connect.
    NotAllowed,
    /// `nok`: we are connecting to the peer and win (the greater name wins).
    Nok,
}

/// A peer's name message (`send_name`).
struct PeerName {
    name: String,
    flags: u64,
    /// `None` after an old `'n'` message: it comes in the complement.
    creation: Option<u32>,
}

/// Initiates the handshake on `stream`, connected to node `peer` (its full name).
///
/// # Errors
///
/// [`HandshakeError::CookieRejected`] or [`HandshakeError::BadCookie`] if the cookies
/// differ, [`HandshakeError::Refused`] for a refusing status,
/// [`HandshakeError::MissingFlags`], [`HandshakeError::UnexpectedPeer`],
/// [`HandshakeError::Timeout`], [`HandshakeError::Closed`], and the other variants
/// for malformed messages.
///
/// # Examples
///
/// Two beamlet nodes, `a` connecting to `b`, in one runtime:
///
/// ```
/// use std::time::Duration;
/// use beamlet::net::{TcpListener, TcpStream};
/// use beamlet::otp::dist::{flags, handshake};
/// use handshake::{AcceptDecision, HandshakeConfig, HandshakeError};
/// let node = |name: &str, cookie: &str| HandshakeConfig {
///     name: name.into(),
///     cookie: cookie.into(),
///     creation: 1,
///     flags: flags::advertised(false),
///     timeout: Duration::from_secs(5),
/// };
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(move || {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = l.local_addr().unwrap();
///     // Linked: a failed assertion in `b` fails the example.
///     beamlet::spawn_link(move || {
///         let (s, _) = l.accept().unwrap();
///         let peer = handshake::accept(&s, &node("b@h", "c"), |_| AcceptDecision::Ok).unwrap();
///         assert_eq!(peer.peer_name, "a@h");
///         let (s, _) = l.accept().unwrap();
///         let bad = handshake::accept(&s, &node("b@h", "c"), |_| AcceptDecision::Ok);
///         assert!(matches!(bad, Err(HandshakeError::BadCookie)));
///     }).unwrap();
///     let s = TcpStream::connect(addr).unwrap();
///     let peer = handshake::connect(&s, &node("a@h", "c"), "b@h").unwrap();
///     assert_eq!(peer.peer_name, "b@h");
///     let s = TcpStream::connect(addr).unwrap();
///     let bad = handshake::connect(&s, &node("a@h", "wrong"), "b@h");
///     // b closes instead of acknowledging, as an Erlang node does.
///     assert!(matches!(bad, Err(HandshakeError::CookieRejected)));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn connect(
    stream: &TcpStream,
    config: &HandshakeConfig,
    peer: &str,
) -> Result<Handshaken, HandshakeError> {
    node_name(config.name.as_bytes())?;
    let wire = Wire::new(stream, Instant::now() + config.timeout);
    wire.send(&name_message(config))?;
    recv_status(&wire)?;
    let (theirs, their_challenge) = recv_challenge(&wire, peer)?;
    let ours = challenge().map_err(HandshakeError::Io)?;
    let mut reply = vec![b'r'];
    reply.extend_from_slice(&ours.to_be_bytes());
    reply.extend_from_slice(&digest(their_challenge, &config.cookie));
    wire.send(&reply)?;
    let ack = wire.recv().map_err(|e| match e {
        HandshakeError::Closed => HandshakeError::CookieRejected,
        e => e,
    })?;
    let mut f = Fields::new(&ack);
    f.tag(b'a')?;
    if !digests_equal(&digest(ours, &config.cookie), f.rest()) {
        return Err(HandshakeError::BadCookie);
    }
    wire.finish()?;
    Ok(theirs)
}

/// Answers the handshake of a node that connected to us on `stream`; `decide` gives
/// the status for the peer's name (see [`AcceptDecision`]).
///
/// # Errors
///
/// [`HandshakeError::BadCookie`] if the peer's digest is wrong,
/// [`HandshakeError::Refused`] if `decide` refused it (after telling the peer) or the
/// peer gave up after `alive`, [`HandshakeError::MissingFlags`],
/// [`HandshakeError::Version5Peer`], [`HandshakeError::BadName`],
/// [`HandshakeError::Timeout`], [`HandshakeError::Closed`], and the other variants
/// for malformed messages.
pub fn accept(
    stream: &TcpStream,
    config: &HandshakeConfig,
    decide: impl Fn(&str) -> AcceptDecision,
) -> Result<Handshaken, HandshakeError> {
    node_name(config.name.as_bytes())?;
    let wire = Wire::new(stream, Instant::now() + config.timeout);
    let mut peer = recv_name(&wire)?;
    send_decision(&wire, decide(&peer.name))?;
    let ours = challenge().map_err(HandshakeError::Io)?;
    wire.send(&challenge_message(config, ours))?;
    if peer.creation.is_none() {
        recv_complement(&wire, &mut peer)?;
    }
    let msg = wire.recv()?;
    let mut f = Fields::new(&msg);
    f.tag(b'r')?;
    let their_challenge = f.u32()?;
    if !digests_equal(&digest(ours, &config.cookie), f.rest()) {
        return Err(HandshakeError::BadCookie);
    }
    let mut ack = vec![b'a'];
    ack.extend_from_slice(&digest(their_challenge, &config.cookie));
    wire.send(&ack)?;
    wire.finish()?;
    Ok(Handshaken {
        peer_name: peer.name,
        peer_flags: peer.flags,
        peer_creation: peer.creation.unwrap_or(0),
    })
}

/// `'N'`, flags, creation, our name.
fn name_message(config: &HandshakeConfig) -> Vec<u8> {
    let mut msg = vec![b'N'];
    msg.extend_from_slice(&config.flags.to_be_bytes());
    msg.extend_from_slice(&config.creation.to_be_bytes());
    push_name(&mut msg, &config.name);
    msg
}

/// `'N'`, flags, our challenge, creation, our name.
fn challenge_message(config: &HandshakeConfig, ours: u32) -> Vec<u8> {
    let mut msg = vec![b'N'];
    msg.extend_from_slice(&config.flags.to_be_bytes());
    msg.extend_from_slice(&ours.to_be_bytes());
    msg.extend_from_slice(&config.creation.to_be_bytes());
    push_name(&mut msg, &config.name);
    msg
}

fn push_name(msg: &mut Vec<u8>, name: &str) {
    // A longer name makes the message too large to send, refused by `Wire::send`.
    let len = u16::try_from(name.len()).unwrap_or(u16::MAX);
    msg.extend_from_slice(&len.to_be_bytes());
    msg.extend_from_slice(name.as_bytes());
}

/// Initiator step 2.
fn recv_status(wire: &Wire<'_>) -> Result<(), HandshakeError> {
    let msg = wire.recv()?;
    let mut f = Fields::new(&msg);
    f.tag(b's')?;
    match f.rest() {
        b"ok" | b"ok_simultaneous" => Ok(()),
        b"nok" => Err(HandshakeError::Refused(Refusal::Nok)),
        b"not_allowed" => Err(HandshakeError::Refused(Refusal::NotAllowed)),
        b"alive" => wire.send(b"strue"),
        s if s.starts_with(b"named:") => Err(HandshakeError::Refused(Refusal::Named)),
        _ => Err(HandshakeError::Protocol(ProtocolError::UnknownStatus)),
    }
}

/// Initiator step 3: the peer as it describes itself, and its challenge.
fn recv_challenge(wire: &Wire<'_>, peer: &str) -> Result<(Handshaken, u32), HandshakeError> {
    let msg = wire.recv()?;
    let mut f = Fields::new(&msg);
    match f.u8()? {
        b'N' => {}
        b'n' => return Err(HandshakeError::Version5Peer),
        t => return Err(HandshakeError::Protocol(ProtocolError::UnexpectedTag(t))),
    }
    let peer_flags = flags::expand_mandatory_25(f.u64()?);
    let their_challenge = f.u32()?;
    let peer_creation = f.u32()?;
    let len = usize::from(f.u16()?);
    let peer_name = node_name(f.bytes(len)?)?;
    if peer_name != peer {
        return Err(HandshakeError::UnexpectedPeer(peer_name));
    }
    match flags::missing_mandatory(peer_flags) {
        0 => {}
        missing => return Err(HandshakeError::MissingFlags(missing)),
    }
    let theirs = Handshaken {
        peer_name,
        peer_flags,
        peer_creation,
    };
    Ok((theirs, their_challenge))
}

/// Acceptor step 1, refusing (with `not_allowed`) what we cannot take.
fn recv_name(wire: &Wire<'_>) -> Result<PeerName, HandshakeError> {
    let msg = wire.recv()?;
    let peer = parse_name(&msg)?;
    let not_allowed = |e: HandshakeError| {
        wire.send(b"snot_allowed")?;
        Err(e)
    };
    // An old `'n'` carries only the low 32 bits of the flags (`check_dflags/2`).
    let mask = match peer.creation {
        Some(_) => u64::MAX,
        None => u64::from(u32::MAX),
    };
    if peer.creation.is_none() && peer.flags & flags::HANDSHAKE_23 == 0 {
        return not_allowed(HandshakeError::Version5Peer);
    }
    if peer.flags & flags::NAME_ME != 0 {
        return not_allowed(HandshakeError::Refused(Refusal::Named));
    }
    match flags::missing_mandatory(peer.flags) & mask {
        0 => Ok(peer),
        missing => not_allowed(HandshakeError::MissingFlags(missing)),
    }
}

/// Parses `'N'` (version 6) or `'n'` (the old form) name messages.
fn parse_name(msg: &[u8]) -> Result<PeerName, HandshakeError> {
    let mut f = Fields::new(msg);
    match f.u8()? {
        b'N' => {
            let flags = flags::expand_mandatory_25(f.u64()?);
            let creation = f.u32()?;
            let len = usize::from(f.u16()?);
            let name = node_name(f.bytes(len)?)?;
            Ok(PeerName {
                name,
                flags,
                creation: Some(creation),
            })
        }
        b'n' => {
            let _version = f.u16()?;
            let flags = u64::from(f.u32()?);
            let name = node_name(f.rest())?;
            Ok(PeerName {
                name,
                flags,
                creation: None,
            })
        }
        t => Err(HandshakeError::Protocol(ProtocolError::UnexpectedTag(t))),
    }
}

/// Acceptor step 4, after an old `'n'` name: the high flags and the creation; the
/// flags are checked again, now all 64 bits (as `check_dflags/2` after
/// `recv_complement`).
fn recv_complement(wire: &Wire<'_>, peer: &mut PeerName) -> Result<(), HandshakeError> {
    let msg = wire.recv()?;
    let mut f = Fields::new(&msg);
    f.tag(b'c')?;
    peer.flags |= u64::from(f.u32()?) << 32;
    peer.creation = Some(f.u32()?);
    match flags::missing_mandatory(peer.flags) {
        0 => Ok(()),
        missing => Err(HandshakeError::MissingFlags(missing)),
    }
}

/// Acceptor step 2.
fn send_decision(wire: &Wire<'_>, decision: AcceptDecision) -> Result<(), HandshakeError> {
    match decision {
        AcceptDecision::Ok => wire.send(b"sok"),
        AcceptDecision::OkSimultaneous => wire.send(b"sok_simultaneous"),
        AcceptDecision::NotAllowed => {
            wire.send(b"snot_allowed")?;
            Err(HandshakeError::Refused(Refusal::NotAllowed))
        }
        AcceptDecision::Nok => {
            wire.send(b"snok")?;
            Err(HandshakeError::Refused(Refusal::Nok))
        }
        AcceptDecision::Alive => {
            wire.send(b"salive")?;
            let reply = wire.recv()?;
            let mut f = Fields::new(&reply);
            f.tag(b's')?;
            match f.rest() {
                b"true" => Ok(()),
                b"false" => Err(HandshakeError::Refused(Refusal::Alive)),
                _ => Err(HandshakeError::Protocol(ProtocolError::UnknownStatus)),
            }
        }
    }
}
