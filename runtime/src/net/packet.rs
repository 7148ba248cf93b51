//! Packet framing (the BEAM's `{packet, N}` and `{packet, line}`): cutting a TCP
//! byte stream into whole packets, for active mode (one message per packet) and for
//! [`TcpStream::read_packet`](crate::net::TcpStream::read_packet).
//!
//! # Design: one buffer per stream, shared by both modes
//!
//! Bytes read from the socket but not yet handed out as a packet wait in the
//! stream's [`Framer`], behind a small mutex of its own. Both readers use it: the
//! reactor thread when it pumps an active socket (it takes the framer's lock while
//! holding the registration's, the only order in which the two are ever nested) and
//! a process in a passive read (which takes the framer's lock alone, and only around
//! a non-blocking read, never across a wait). So switching between active and
//! passive mode, or between packet types, loses nothing: a packet half received in
//! one mode is finished in the other, and bytes left over when a stream goes back to
//! [`Packet::Raw`] come out first.
//!
//! The framer never allocates by what a header claims, only by what arrived: a peer
//! announcing a 4 GiB packet costs the bytes it actually sends, and with
//! [`TcpStream::set_packet_size`](crate::net::TcpStream::set_packet_size) not even
//! those.

use std::fmt;
use std::io;

/// How a stream's bytes are cut into packets (as `inet:setopts(S, [{packet, P}])`).
/// Set with [`TcpStream::set_packet`](crate::net::TcpStream::set_packet).
///
/// # Examples
///
/// Length-prefixed messages, each delivered whole whatever the reads cut:
///
/// ```
/// use beamlet_runtime::net::{Packet, TcpListener, TcpStream};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
///     let (server, _) = l.accept().unwrap();
///     client.set_packet(Packet::Len4);
///     server.set_packet(Packet::Len4);
///     client.write_packet(b"one").unwrap();
///     client.write_packet(b"two").unwrap();
///     assert_eq!(server.read_packet().unwrap().unwrap(), b"one");
///     assert_eq!(server.read_packet().unwrap().unwrap(), b"two");
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Packet {
    /// No framing (`{packet, raw}`, the default): a packet is whatever one read
    /// returned.
    #[default]
    Raw,
    /// A 1-byte length, then that many bytes (`{packet, 1}`).
    Len1,
    /// A 2-byte big-endian length, then that many bytes (`{packet, 2}`).
    Len2,
    /// A 4-byte big-endian length, then that many bytes (`{packet, 4}`).
    Len4,
    /// A line ending in `\n`, which is part of the packet (`{packet, line}`). At the
    /// end of the stream a last line without its newline is a packet too, as
    /// `BufRead::lines` sees it.
    Line,
}

impl Packet {
    /// The bytes of the length header, for the length-prefixed types.
    fn header(self) -> Option<usize> {
        match self {
            Packet::Len1 => Some(1),
            Packet::Len2 => Some(2),
            Packet::Len4 => Some(4),
            Packet::Raw | Packet::Line => None,
        }
    }

    /// The longest body the header can announce.
    fn header_max(self) -> usize {
        match self {
            Packet::Len1 => u8::MAX as usize,
            Packet::Len2 => u16::MAX as usize,
            Packet::Len4 => u32::MAX as usize,
            Packet::Raw | Packet::Line => usize::MAX,
        }
    }

    /// `body` framed for the wire: the length header first, or the newline after.
    ///
    /// # Errors
    ///
    /// [`PacketError::TooLarge`] if the header cannot hold the length.
    pub(crate) fn frame(self, body: &[u8]) -> Result<Vec<u8>, PacketError> {
        let len = body.len();
        let Some(n) = self.header() else {
            let mut out = Vec::with_capacity(len + 1);
            out.extend_from_slice(body);
            if self == Packet::Line {
                out.push(b'\n');
            }
            return Ok(out);
        };
        if len > self.header_max() {
            return Err(PacketError::TooLarge {
                len,
                max: self.header_max(),
            });
        }
        let mut out = Vec::with_capacity(n + len);
        out.extend_from_slice(&(len as u64).to_be_bytes()[8 - n..]);
        out.extend_from_slice(body);
        Ok(out)
    }
}

/// Why a stream's bytes did not make a packet.
///
/// It comes inside an `io::Error` (`InvalidData` for `TooLarge` on receipt,
/// `InvalidInput` on a write, `UnexpectedEof` for `Truncated`): get it back with
/// `err.get_ref().and_then(|e| e.downcast_ref::<PacketError>())`. In active mode a
/// [`TcpError`](crate::net::TcpError) with that kind is delivered, then
/// [`TcpClosed`](crate::net::TcpClosed).
///
/// # Examples
///
/// ```
/// use beamlet_runtime::net::{Packet, PacketError, TcpListener, TcpStream};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
///     let (server, _) = l.accept().unwrap();
///     server.set_packet(Packet::Len2);
///     server.set_packet_size(Some(4));
///     client.write_all(&[0, 5, b'h', b'e', b'l', b'l', b'o']).unwrap();
///     let err = server.read_packet().unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
///     let why = err.get_ref().and_then(|e| e.downcast_ref::<PacketError>());
///     assert_eq!(why, Some(&PacketError::TooLarge { len: 5, max: 4 }));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PacketError {
    /// A packet longer than the limit (`emsgsize` on the BEAM): the
    /// [packet size](crate::net::TcpStream::set_packet_size) on receipt, what the
    /// length header holds on a write. For a line still without its newline, `len`
    /// counts the bytes so far and the newline still to come. The stream cannot find the next packet after this one,
    /// so every later read of a packet fails the same way.
    TooLarge {
        /// The packet's length (its body, without the header).
        len: usize,
        /// The limit it broke.
        max: usize,
    },
    /// The stream ended inside a length-prefixed packet (on the BEAM the receiver
    /// just sees `closed`); the partial packet is dropped.
    Truncated {
        /// The bytes of the partial packet that had arrived, header included.
        received: usize,
    },
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::TooLarge { len, max } => {
                write!(f, "a packet of {len} bytes is over the limit of {max}")
            }
            PacketError::Truncated { received } => write!(
                f,
                "the stream ended inside a packet ({received} bytes of it had arrived)"
            ),
        }
    }
}

impl std::error::Error for PacketError {}

impl PacketError {
    /// The `io::Error` a read returns for this error.
    pub(crate) fn into_read_error(self) -> io::Error {
        let kind = match self {
            PacketError::TooLarge { .. } => io::ErrorKind::InvalidData,
            PacketError::Truncated { .. } => io::ErrorKind::UnexpectedEof,
        };
        io::Error::new(kind, self)
    }
}

/// Bytes a passive packet read asks the socket for at once.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// A stream's framing state: its packet type, its limit and the bytes received but
/// not yet handed out (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Framer {
    packet: Packet,
    max: Option<usize>,
    buf: Vec<u8>,
    /// Bytes of `buf` already handed out (dropped when they are half of it).
    start: usize,
    /// In line mode, bytes after `start` known to hold no newline.
    scanned: usize,
    /// A packet was too large: the stream has lost its framing for good.
    broken: Option<PacketError>,
    /// The socket read its end: what is buffered is all there will be.
    eof: bool,
}

impl Framer {
    pub(crate) fn packet(&self) -> Packet {
        self.packet
    }

    pub(crate) fn set_packet(&mut self, packet: Packet) {
        self.packet = packet;
        self.scanned = 0;
    }

    pub(crate) fn max(&self) -> Option<usize> {
        self.max
    }

    pub(crate) fn set_max(&mut self, max: Option<usize>) {
        self.max = max;
    }

    /// Whether no received byte waits here.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.buf.len()
    }

    /// Whether a read should bypass the framer: raw and nothing buffered.
    pub(crate) fn passes_through(&self) -> bool {
        self.packet == Packet::Raw && self.is_empty() && self.broken.is_none()
    }

    /// Appends bytes read from the socket.
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(data);
    }

    /// Reads once from `src` into the buffer (at most [`READ_CHUNK`] bytes): the
    /// passive read's way in, so that no byte is held outside the framer.
    pub(crate) fn fill(&mut self, mut src: impl io::Read) -> io::Result<usize> {
        self.compact();
        let old = self.buf.len();
        self.buf.resize(old + READ_CHUNK, 0);
        let r = src.read(&mut self.buf[old..]);
        self.buf.truncate(old + *r.as_ref().unwrap_or(&0));
        r
    }

    /// Takes up to `out.len()` buffered bytes, whatever the packet type (a plain
    /// `read` after framing was used). Returns how many.
    pub(crate) fn take_bytes(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.buf.len() - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.consume(n);
        n
    }

    /// The next whole packet, if one is buffered.
    ///
    /// # Errors
    ///
    /// [`PacketError::TooLarge`] if the next packet is over the limit (and from then
    /// on: the stream's framing is lost).
    pub(crate) fn next_packet(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        let found = match self.packet.header() {
            None if self.packet == Packet::Raw => self.raw(),
            None => self.line(),
            Some(n) => self.prefixed(n),
        };
        match found {
            Err(e) => {
                self.broken = Some(e.clone());
                Err(e)
            }
            Ok(None) if self.eof => self.finish(),
            found => found,
        }
    }

    /// Records that the socket read its end.
    pub(crate) fn mark_eof(&mut self) {
        self.eof = true;
    }

    /// Whether the stream ended and every packet was handed out.
    pub(crate) fn at_end(&self) -> bool {
        self.eof && self.is_empty()
    }

    /// What is left when the stream ends: a last line without its newline (or raw
    /// bytes) is one more packet; a partial length-prefixed packet is an error.
    fn finish(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        let left = self.buf.len() - self.start;
        if left == 0 {
            return Ok(None);
        }
        if self.packet.header().is_some() {
            self.consume(left);
            return Err(PacketError::Truncated { received: left });
        }
        Ok(Some(self.cut(left)))
    }

    fn raw(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        let left = self.buf.len() - self.start;
        Ok((left > 0).then(|| self.cut(left)))
    }

    fn line(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        let from = self.start + self.scanned;
        match self.buf[from..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let len = self.scanned + i + 1;
                self.check(len)?;
                Ok(Some(self.cut(len)))
            }
            None => {
                self.scanned = self.buf.len() - self.start;
                // A line already over the limit fails now, not when its newline
                // comes: otherwise an endless line would fill the memory.
                self.check(self.scanned + 1)?;
                Ok(None)
            }
        }
    }

    fn prefixed(&mut self, n: usize) -> Result<Option<Vec<u8>>, PacketError> {
        let avail = &self.buf[self.start..];
        if avail.len() < n {
            return Ok(None);
        }
        let mut be = [0u8; 8];
        be[8 - n..].copy_from_slice(&avail[..n]);
        let len = u64::from_be_bytes(be) as usize;
        self.check(len)?;
        if avail.len() - n < len {
            return Ok(None);
        }
        self.consume(n);
        Ok(Some(self.cut(len)))
    }

    /// Fails if a packet of `len` bytes is over the limit.
    fn check(&self, len: usize) -> Result<(), PacketError> {
        match self.max {
            Some(max) if len > max => Err(PacketError::TooLarge { len, max }),
            _ => Ok(()),
        }
    }

    /// Takes the next `len` buffered bytes as a packet.
    fn cut(&mut self, len: usize) -> Vec<u8> {
        let p = self.buf[self.start..self.start + len].to_vec();
        self.consume(len);
        p
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.scanned = 0;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Drops the bytes handed out once they are half of the buffer: each byte is
    /// moved at most once on average.
    fn compact(&mut self) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer(packet: Packet, max: Option<usize>) -> Framer {
        let mut f = Framer::default();
        f.set_packet(packet);
        f.set_max(max);
        f
    }

    fn all(f: &mut Framer) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| f.next_packet().unwrap()).collect()
    }

    #[test]
    fn length_prefixed_packets_come_out_whole_however_the_bytes_arrive() {
        for (packet, n) in [(Packet::Len1, 1), (Packet::Len2, 2), (Packet::Len4, 4)] {
            let wire: Vec<u8> = [&b"ab"[..], b"", b"cde"]
                .iter()
                .flat_map(|p| packet.frame(p).unwrap())
                .collect();
            assert_eq!(wire.len(), 5 + 3 * n);
            let mut f = framer(packet, None);
            let mut got = Vec::new();
            for b in &wire {
                f.push(std::slice::from_ref(b));
                got.extend(all(&mut f));
            }
            assert_eq!(got, [&b"ab"[..], b"", b"cde"], "{packet:?}");
            assert!(f.is_empty());
        }
    }

    #[test]
    fn lines_keep_their_newline_and_the_last_one_may_lack_it() {
        let mut f = framer(Packet::Line, None);
        f.push(b"one\ntw");
        assert_eq!(all(&mut f), [b"one\n"]);
        f.push(b"o\n\nthree");
        assert_eq!(all(&mut f), [&b"two\n"[..], b"\n"]);
        assert_eq!(f.next_packet(), Ok(None), "not at the end yet");
        f.mark_eof();
        assert_eq!(f.next_packet().unwrap().unwrap(), b"three");
        assert_eq!(f.next_packet(), Ok(None));
        assert!(f.at_end());
    }

    #[test]
    fn a_packet_over_the_limit_breaks_the_framing_for_good() {
        let mut f = framer(Packet::Len4, Some(3));
        f.push(&[0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 4]);
        assert_eq!(f.next_packet().unwrap().unwrap(), [1, 2, 3]);
        let e = PacketError::TooLarge { len: 4, max: 3 };
        assert_eq!(
            f.next_packet(),
            Err(e.clone()),
            "known from the header alone"
        );
        f.push(&[1, 2, 3, 4]);
        f.mark_eof();
        assert_eq!(f.next_packet(), Err(e));
    }

    #[test]
    fn an_endless_line_fails_before_its_newline() {
        let mut f = framer(Packet::Line, Some(4));
        f.push(b"abcd\n"); // 5 bytes with the newline: over
        assert_eq!(
            f.next_packet(),
            Err(PacketError::TooLarge { len: 5, max: 4 })
        );
        let mut f = framer(Packet::Line, Some(4));
        f.push(b"abc\nabcd");
        assert_eq!(f.next_packet().unwrap().unwrap(), b"abc\n");
        assert_eq!(
            f.next_packet(),
            Err(PacketError::TooLarge { len: 5, max: 4 })
        );
    }

    #[test]
    fn a_partial_packet_at_the_end_is_truncated() {
        let mut f = framer(Packet::Len2, None);
        f.push(&[0, 9, 1, 2]);
        assert_eq!(f.next_packet(), Ok(None));
        f.mark_eof();
        assert_eq!(f.next_packet(), Err(PacketError::Truncated { received: 4 }));
        assert_eq!(f.next_packet(), Ok(None), "dropped");
        assert!(f.at_end());
    }

    #[test]
    fn switching_to_raw_hands_out_what_was_left() {
        let mut f = framer(Packet::Line, None);
        f.push(b"header\nbody bytes");
        assert_eq!(all(&mut f), [b"header\n"]);
        f.set_packet(Packet::Raw);
        assert!(!f.passes_through());
        let mut out = [0u8; 4];
        assert_eq!(f.take_bytes(&mut out), 4);
        assert_eq!(&out, b"body");
        assert_eq!(all(&mut f), [b" bytes"]);
        assert!(f.passes_through());
    }

    #[test]
    fn a_header_too_small_for_the_body_refuses_the_write() {
        assert_eq!(
            Packet::Len1.frame(&[0; 256]),
            Err(PacketError::TooLarge { len: 256, max: 255 })
        );
        assert_eq!(Packet::Len2.frame(b"hi").unwrap(), [0, 2, b'h', b'i']);
        assert_eq!(Packet::Line.frame(b"hi").unwrap(), b"hi\n");
        assert_eq!(Packet::Raw.frame(b"hi").unwrap(), b"hi");
    }

    #[test]
    fn the_buffer_is_compacted_as_packets_leave() {
        let mut f = framer(Packet::Len1, None);
        for i in 0..1000u32 {
            f.push(&[1, i as u8]);
            assert_eq!(f.next_packet().unwrap().unwrap(), [i as u8]);
            assert!(f.buf.len() <= 2, "consumed bytes are dropped");
        }
        f.push(&[1, 7, 1]);
        assert_eq!(all(&mut f), [[7]]);
        f.push(&[8]);
        assert_eq!(all(&mut f), [[8]]);
    }
}
