//! The connection's packets after the handshake: a 4-byte big-endian length and the
//! packet; a zero length is a tick, which only keeps the connection alive.

use std::fmt;
use std::io;

use beamlet_runtime::net::TcpStream;

/// A bound for [`read_packet`] when the caller has none: 64 MiB, well over any
/// message Erlang nodes exchange without `FRAGMENTS` in practice, and refusing a
/// hostile length of gigabytes (arbitrary, tune with the connection).
pub const DEFAULT_MAX_PACKET: u32 = 64 * 1024 * 1024;

/// One packet read from a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// A zero-length packet: the peer is alive.
    Tick,
    /// A distribution message.
    Data(Vec<u8>),
}

/// Why reading or writing a packet failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FrameError {
    /// The peer announced a packet of `len` bytes, over the caller's `max`; nothing
    /// of it was read or allocated.
    TooLarge {
        /// The announced length.
        len: u32,
        /// The caller's bound.
        max: u32,
    },
    /// A packet over 4 GiB - 1 cannot be sent.
    TooLargeToSend(usize),
    /// The read timed out (the stream's read timeout).
    Timeout,
    /// The peer closed the connection (possibly mid-packet).
    Closed,
    /// The socket failed.
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { len, max } => {
                write!(f, "a packet of {len} bytes is over the bound of {max}")
            }
            FrameError::TooLargeToSend(n) => write!(f, "a packet of {n} bytes cannot be sent"),
            FrameError::Timeout => f.write_str("no packet arrived in time"),
            FrameError::Closed => f.write_str("the peer closed the connection"),
            FrameError::Io(e) => write!(f, "connection socket error: {e}"),
        }
    }
}

impl std::error::Error for FrameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FrameError::Io(e) => Some(e),
            _ => None,
        }
    }
}

fn frame_error(e: io::Error) -> FrameError {
    match e.kind() {
        io::ErrorKind::TimedOut => FrameError::Timeout,
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => FrameError::Closed,
        _ => FrameError::Io(e),
    }
}

/// Reads one packet; a length over `max_len` is refused before anything is
/// allocated for it. Blocks (parking the process) up to the stream's read timeout.
///
/// # Errors
///
/// [`FrameError::TooLarge`], [`FrameError::Closed`], [`FrameError::Timeout`],
/// [`FrameError::Io`].
pub fn read_packet(stream: &TcpStream, max_len: u32) -> Result<Packet, FrameError> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).map_err(frame_error)?;
    let len = u32::from_be_bytes(header);
    if len == 0 {
        return Ok(Packet::Tick);
    }
    if len > max_len {
        return Err(FrameError::TooLarge { len, max: max_len });
    }
    let len = usize::try_from(len).map_err(|_| FrameError::TooLarge { len, max: max_len })?;
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).map_err(frame_error)?;
    Ok(Packet::Data(body))
}

/// Writes `body` as one packet (its header and body in one write).
///
/// # Errors
///
/// [`FrameError::TooLargeToSend`] over 4 GiB - 1; otherwise the socket's error.
pub fn write_packet(stream: &TcpStream, body: &[u8]) -> Result<(), FrameError> {
    let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLargeToSend(body.len()))?;
    let mut wire = Vec::with_capacity(body.len() + 4);
    wire.extend_from_slice(&len.to_be_bytes());
    wire.extend_from_slice(body);
    stream.write_all(&wire).map_err(frame_error)
}

/// Writes a tick: a zero-length packet.
///
/// # Errors
///
/// The socket's error.
pub fn write_tick(stream: &TcpStream) -> Result<(), FrameError> {
    stream.write_all(&[0u8; 4]).map_err(frame_error)
}
