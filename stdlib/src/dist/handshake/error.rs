//! Why a handshake failed.

use std::fmt;
use std::io;

/// Why a distribution handshake failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer's digest does not match our challenge: its cookie is not ours (the
    /// accepting side's "Invalid challenge reply", or a wrong `challenge_ack`).
    BadCookie,
    /// The peer closed the connection instead of acknowledging our challenge reply:
    /// what an Erlang node does when our cookie is not its cookie.
    CookieRejected,
    /// The peer lacks these mandatory flags ([`flags::MANDATORY`](super::super::flags::MANDATORY)).
    MissingFlags(u64),
    /// The handshake refused the connection ([`Refusal`]).
    Refused(Refusal),
    /// A node name is not `name@host` (or not UTF-8).
    BadName,
    /// The node that answered is not the one we meant to reach.
    UnexpectedPeer(String),
    /// The peer speaks only distribution version 5 (before OTP 23).
    Version5Peer,
    /// A message was not one the protocol allows at this step.
    Protocol(ProtocolError),
    /// The handshake did not finish within [`HandshakeConfig::timeout`](super::HandshakeConfig::timeout).
    Timeout,
    /// The peer closed the connection.
    Closed,
    /// The socket failed.
    Io(io::Error),
}

/// The status that ended a handshake (`send_status` / `recv_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// `nok`: the accepting node is already connecting to us and wins.
    Nok,
    /// `not_allowed`: the accepting node does not allow us.
    NotAllowed,
    /// `alive` answered `false`: a connection between the nodes is already up.
    Alive,
    /// `named:`: the peer assigned a dynamic name, which we do not request.
    Named,
}

/// What was wrong with a handshake message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The message started with this tag where another was expected.
    UnexpectedTag(u8),
    /// The message is shorter than its fields.
    Truncated,
    /// A message of this length, over the bound on handshake messages.
    TooLarge(usize),
    /// An empty message.
    Empty,
    /// A status we do not know.
    UnknownStatus,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::BadCookie => f.write_str("the peer's cookie does not match ours"),
            HandshakeError::CookieRejected => f.write_str(
                "the peer closed the connection at the challenge: our cookie is not its cookie",
            ),
            HandshakeError::MissingFlags(m) => {
                write!(f, "the peer lacks mandatory distribution flags {m:#x}")
            }
            HandshakeError::Refused(r) => write!(f, "the handshake was refused: {r}"),
            HandshakeError::BadName => f.write_str("malformed node name"),
            HandshakeError::UnexpectedPeer(n) => write!(f, "an unexpected node answered: {n}"),
            HandshakeError::Version5Peer => {
                f.write_str("the peer speaks distribution version 5 (before OTP 23), not supported")
            }
            HandshakeError::Protocol(e) => write!(f, "bad handshake message: {e}"),
            HandshakeError::Timeout => f.write_str("the handshake timed out"),
            HandshakeError::Closed => f.write_str("the peer closed the connection"),
            HandshakeError::Io(e) => write!(f, "handshake socket error: {e}"),
        }
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandshakeError::Io(e) => Some(e),
            HandshakeError::Protocol(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Nok => "nok (a simultaneous connection won)",
            Refusal::NotAllowed => "not_allowed",
            Refusal::Alive => "alive (a connection is already up)",
            Refusal::Named => "named (dynamic names are not supported)",
        })
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::UnexpectedTag(t) => write!(f, "unexpected tag {t}"),
            ProtocolError::Truncated => f.write_str("truncated message"),
            ProtocolError::TooLarge(n) => write!(f, "message of {n} bytes is too large"),
            ProtocolError::Empty => f.write_str("empty message"),
            ProtocolError::UnknownStatus => f.write_str("unknown status"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// A socket error as a handshake error: timeouts and closes get their own variants.
pub(super) fn from_io(e: io::Error) -> HandshakeError {
    match e.kind() {
        io::ErrorKind::TimedOut => HandshakeError::Timeout,
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => HandshakeError::Closed,
        _ => HandshakeError::Io(e),
    }
}
