//! Handshake messages on the wire: each is a 2-byte big-endian length and the
//! message, whose first byte is its tag. [`Wire`] reads and writes them under the
//! handshake's one deadline; [`Fields`] takes a received message apart without
//! trusting its lengths.

use std::time::Instant;

use beamlet_runtime::net::TcpStream;

use super::error::{HandshakeError, ProtocolError, from_io};

/// The longest handshake message we accept. The largest legitimate one is a
/// challenge: 19 bytes and a node name (at most 255 + 1 + a host name); 4 KiB leaves
/// room for any host name and refuses a peer that would make us buffer more.
pub const MAX_HANDSHAKE_MESSAGE: usize = 4096;

/// A stream during the handshake, with the instant the whole handshake must end.
pub(super) struct Wire<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl<'a> Wire<'a> {
    pub(super) fn new(stream: &'a TcpStream, deadline: Instant) -> Wire<'a> {
        Wire { stream, deadline }
    }

    /// Bounds the next socket call by what is left of the handshake's time.
    fn arm(&self) -> Result<(), HandshakeError> {
        let left = self
            .deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(HandshakeError::Timeout)?;
        self.stream
            .set_read_timeout(Some(left))
            .and_then(|()| self.stream.set_write_timeout(Some(left)))
            .map_err(HandshakeError::Io)
    }

    /// Sends one message (its length header and body in one write).
    pub(super) fn send(&self, msg: &[u8]) -> Result<(), HandshakeError> {
        let len = u16::try_from(msg.len())
            .map_err(|_| HandshakeError::Protocol(ProtocolError::TooLarge(msg.len())))?;
        let mut wire = Vec::with_capacity(msg.len() + 2);
        wire.extend_from_slice(&len.to_be_bytes());
        wire.extend_from_slice(msg);
        self.arm()?;
        self.stream.write_all(&wire).map_err(from_io)
    }

    /// Receives one message; refuses an empty one or one over
    /// [`MAX_HANDSHAKE_MESSAGE`] before reading its body.
    pub(super) fn recv(&self) -> Result<Vec<u8>, HandshakeError> {
        self.arm()?;
        let mut header = [0u8; 2];
        self.stream.read_exact(&mut header).map_err(from_io)?;
        let len = usize::from(u16::from_be_bytes(header));
        if len == 0 {
            return Err(HandshakeError::Protocol(ProtocolError::Empty));
        }
        if len > MAX_HANDSHAKE_MESSAGE {
            return Err(HandshakeError::Protocol(ProtocolError::TooLarge(len)));
        }
        let mut body = vec![0u8; len];
        self.arm()?;
        self.stream.read_exact(&mut body).map_err(from_io)?;
        Ok(body)
    }

    /// Leaves the stream without the handshake's timeouts, for the connection.
    pub(super) fn finish(self) -> Result<(), HandshakeError> {
        self.stream
            .set_read_timeout(None)
            .and_then(|()| self.stream.set_write_timeout(None))
            .map_err(HandshakeError::Io)
    }
}

/// A cursor over a received message's fields.
pub(super) struct Fields<'m> {
    rest: &'m [u8],
}

impl<'m> Fields<'m> {
    pub(super) fn new(msg: &'m [u8]) -> Fields<'m> {
        Fields { rest: msg }
    }

    pub(super) fn bytes(&mut self, n: usize) -> Result<&'m [u8], HandshakeError> {
        if self.rest.len() < n {
            return Err(HandshakeError::Protocol(ProtocolError::Truncated));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], HandshakeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> Result<u8, HandshakeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, HandshakeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(super) fn u32(&mut self) -> Result<u32, HandshakeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, HandshakeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// The bytes not yet taken.
    pub(super) fn rest(&self) -> &'m [u8] {
        self.rest
    }

    /// Expects the tag `tag` first.
    pub(super) fn tag(&mut self, tag: u8) -> Result<(), HandshakeError> {
        match self.u8()? {
            t if t == tag => Ok(()),
            t => Err(HandshakeError::Protocol(ProtocolError::UnexpectedTag(t))),
        }
    }
}

/// A node name that is `name@host` with both parts non-empty, as
/// `dist_util:is_name_ok/2` requires.
pub(crate) fn node_name(bytes: &[u8]) -> Result<String, HandshakeError> {
    let name = std::str::from_utf8(bytes).map_err(|_| HandshakeError::BadName)?;
    match name.split_once('@') {
        Some((alive, host)) if !alive.is_empty() && !host.is_empty() && !host.contains('@') => {
            Ok(name.to_owned())
        }
        _ => Err(HandshakeError::BadName),
    }
}
