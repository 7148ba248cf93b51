//! One distribution packet from the peer, parsed: a tick, or a control message
//! and its payload. Pure (no socket, no process), so the connection
//! (`connection/inbound.rs`), the unit tests and the fuzzer (`fuzz/`, target
//! `dist_packet`) run the same code on the same bytes.
//!
//! A packet, after its 4-byte length:
//!
//! 1. empty: a tick;
//! 2. otherwise the byte `112` (pass-through: no atom cache, no fragments, as
//!    neither is advertised), then a control term ([`Control`]), then a payload
//!    term exactly when the control message has one, and nothing after.
//!
//! Anything else is a [`BadPacket`] naming what was wrong; the connection closes
//! with it as the logged reason.

use std::fmt;

use super::control::{BadControl, Control};
use super::term::{self, DecodeError, Limits, LocalNode, Term};

/// A parsed packet.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned and matched at once, never stored: boxing would cost an allocation a packet"
)]
pub(crate) enum Packet {
    /// The empty packet.
    Tick,
    /// A control message, and its payload if it has one.
    Control(Control, Option<Term>),
}

/// Why a packet cannot be read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BadPacket {
    /// The first byte is not 112.
    Kind(u8),
    /// The control term does not decode.
    ControlTerm(DecodeError),
    /// The control term is not a control message this node knows.
    Control(BadControl),
    /// The payload term does not decode.
    Payload(DecodeError),
    /// Bytes after the last term.
    Trailing(usize),
}

impl fmt::Display for BadPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadPacket::Kind(kind) => write!(f, "packet of kind {kind}, not 112 (pass-through)"),
            BadPacket::ControlTerm(e) => write!(f, "control message: {e}"),
            BadPacket::Control(e) => write!(f, "{e}"),
            BadPacket::Payload(e) => write!(f, "payload: {e}"),
            BadPacket::Trailing(n) => write!(f, "{n} bytes after the last term"),
        }
    }
}

/// Parses one packet (its length already taken off).
pub(crate) fn parse(bytes: &[u8], local: &LocalNode, limits: &Limits) -> Result<Packet, BadPacket> {
    let Some((&kind, rest)) = bytes.split_first() else {
        return Ok(Packet::Tick);
    };
    if kind != 112 {
        return Err(BadPacket::Kind(kind));
    }
    let (control, used) = term::decode(rest, local, limits).map_err(BadPacket::ControlTerm)?;
    let (control, has_payload) = Control::parse(&control).map_err(BadPacket::Control)?;
    let rest = &rest[used..];
    let (payload, rest) = if has_payload {
        let (payload, used) = term::decode(rest, local, limits).map_err(BadPacket::Payload)?;
        (Some(payload), &rest[used..])
    } else {
        (None, rest)
    };
    match rest.len() {
        0 => Ok(Packet::Control(control, payload)),
        n => Err(BadPacket::Trailing(n)),
    }
}

/// The packet of `control` and `payload`, as the connection writes it (without
/// the length).
pub(crate) fn encode(
    control: &Control,
    payload: Option<&Term>,
    local: &LocalNode,
    out: &mut Vec<u8>,
) -> Result<(), term::EncodeError> {
    out.push(112);
    term::encode(&control.to_term(), local, out)?;
    payload.map_or(Ok(()), |p| term::encode(p, local, out))
}

/// The fuzzer's entry (built only under `cargo fuzz`, which sets `cfg(fuzzing)`):
/// parses `bytes` as a packet and checks that a parsed control message encodes
/// and parses back to itself. Returns whether the packet was accepted.
///
/// # Panics
///
/// When that round trip fails: a bug the fuzzer reports.
#[cfg(fuzzing)]
pub fn fuzz_packet(bytes: &[u8]) -> bool {
    let local = LocalNode {
        name: term::Atom::new("fuzz@host"),
        creation: 1,
        runtime: 0,
    };
    let limits = Limits::default();
    match parse(bytes, &local, &limits) {
        Ok(Packet::Tick) => true,
        Ok(Packet::Control(control, payload)) => {
            let mut again = Vec::new();
            encode(&control, payload.as_ref(), &local, &mut again)
                .expect("a parsed packet encodes");
            let back = parse(&again, &local, &limits).expect("our encoding parses");
            assert_eq!(back, Packet::Control(control, payload));
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
