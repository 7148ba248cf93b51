//! A stream's packet calls: choosing the framing ([`Packet`]) and reading and
//! writing whole packets in passive mode. The framing itself, and why one buffer
//! serves both modes, is in [`super::packet`]; active mode's use of it in
//! [`super::active`].

use std::io;
use std::ops::{Deref, DerefMut};
use std::sync::MutexGuard;
use std::sync::atomic::Ordering;

use super::packet::{Framer, Packet, PacketError, READ_CHUNK};
use super::tcp::{StreamInner, TcpStream};
use super::wait::{deadline, io_loop};
use crate::io::reactor::Dir;

/// The locked framer of a stream. Dropping it republishes whether reads must go
/// through the framer, so that the raw paths can skip the lock.
pub(crate) struct FramerGuard<'a> {
    inner: &'a StreamInner,
    framer: MutexGuard<'a, Framer>,
}

impl StreamInner {
    /// Locks the stream's framer. Never held across a wait; nested only inside the
    /// registration lock, never around it.
    pub(crate) fn framer(&self) -> FramerGuard<'_> {
        FramerGuard {
            inner: self,
            framer: self.framer.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

impl Deref for FramerGuard<'_> {
    type Target = Framer;
    fn deref(&self) -> &Framer {
        &self.framer
    }
}

impl DerefMut for FramerGuard<'_> {
    fn deref_mut(&mut self) -> &mut Framer {
        &mut self.framer
    }
}

impl Drop for FramerGuard<'_> {
    fn drop(&mut self) {
        // Release, under the lock: a reader that sees `false` sees the framer's state
        // that made it so (nothing buffered, raw).
        let framed = !self.framer.passes_through();
        self.inner.framed.store(framed, Ordering::Release);
    }
}

impl TcpStream {
    /// Sets how the stream's bytes are cut into packets (as
    /// `inet:setopts(S, [{packet, P}])`), for [`read_packet`](TcpStream::read_packet),
    /// [`write_packet`](TcpStream::write_packet) and active mode, where each
    /// [`TcpData`](crate::net::TcpData) is then one whole packet (and counts as one
    /// message for `Active::Once` and `Active::N`). Takes effect from the next packet;
    /// bytes already received are kept, so a protocol may switch, say from lines to
    /// raw bytes after a header, without losing any.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet_runtime::net::{Active, Packet, TcpData, TcpListener, TcpStream};
    /// use beamlet_runtime::receive_timeout;
    /// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (server, _) = l.accept().unwrap();
    ///     server.set_packet(Packet::Line);
    ///     assert_eq!(server.packet(), Packet::Line);
    ///     server.set_active(Active::On).unwrap();
    ///     client.write_all(b"GET /\nHost: x\n").unwrap();
    ///     let line = |m: TcpData| String::from_utf8(m.data).unwrap();
    ///     let t = Duration::from_secs(5);
    ///     assert_eq!(line(receive_timeout(t).unwrap()), "GET /\n");
    ///     assert_eq!(line(receive_timeout(t).unwrap()), "Host: x\n");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn set_packet(&self, packet: Packet) {
        self.inner.framer().set_packet(packet);
        // An active socket may have whole packets buffered already.
        if self.inner.active.load(Ordering::Acquire) {
            self.inner.io.kick();
        }
    }

    /// The stream's packet type (see [`set_packet`](TcpStream::set_packet)).
    ///
    /// ```
    /// use beamlet_runtime::net::{Packet, TcpListener, TcpStream};
    /// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let s = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     assert_eq!(s.packet(), Packet::Raw);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn packet(&self) -> Packet {
        self.inner.framer().packet()
    }

    /// Sets the longest packet accepted on receipt (as `{packet_size, N}`): the body
    /// for the length-prefixed types, the line with its newline for
    /// [`Packet::Line`]. A longer one fails the read with
    /// [`PacketError::TooLarge`] (in active mode: a
    /// [`TcpError`](crate::net::TcpError), then [`TcpClosed`](crate::net::TcpClosed)),
    /// as soon as the header or the bytes of the line so far show it, before the rest
    /// is read. `None` (the default, as the BEAM's 0) sets no limit: a peer that
    /// never ends its line, or announces a huge packet and sends it, is buffered
    /// whole, so set one for peers you do not trust. No effect on [`Packet::Raw`].
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet_runtime::net::{Packet, TcpListener, TcpStream};
    /// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (server, _) = l.accept().unwrap();
    ///     server.set_packet(Packet::Line);
    ///     server.set_packet_size(Some(1024));
    ///     assert_eq!(server.packet_size(), Some(1024));
    ///     client.write_all(&[b'x'; 2000]).unwrap(); // no newline in sight
    ///     let err = server.read_packet().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn set_packet_size(&self, max: Option<usize>) {
        self.inner.framer().set_max(max);
    }

    /// The packet size limit (see [`set_packet_size`](TcpStream::set_packet_size)).
    ///
    /// ```
    /// use beamlet_runtime::net::{TcpListener, TcpStream};
    /// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     assert_eq!(TcpStream::connect(l.local_addr().unwrap()).unwrap().packet_size(), None);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn packet_size(&self) -> Option<usize> {
        self.inner.framer().max()
    }

    /// Reads one whole packet (as `gen_tcp:recv(S, 0)` in a packet mode), parking the
    /// calling process until it has arrived: the body without its length header, or
    /// the line with its newline. `Ok(None)` at the end of the stream. In
    /// [`Packet::Raw`] a packet is what one read returns. The read timeout bounds the
    /// whole call.
    ///
    /// At the end of the stream a last line without its newline is returned as a
    /// packet; a length-prefixed packet cut short fails with
    /// [`PacketError::Truncated`] (the partial packet is dropped) and the next call
    /// returns `Ok(None)`.
    ///
    /// # Errors
    ///
    /// `InvalidData` with [`PacketError::TooLarge`] for a packet over the
    /// [limit](TcpStream::set_packet_size), and from then on (the stream's framing is
    /// lost); `UnexpectedEof` with [`PacketError::Truncated`]; otherwise as
    /// [`read`](TcpStream::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet_runtime::net::{Packet, TcpListener, TcpStream};
    /// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (server, _) = l.accept().unwrap();
    ///     server.set_packet(Packet::Line);
    ///     client.write_all(b"first\nsec").unwrap();
    ///     client.write_all(b"ond\nlast").unwrap();
    ///     drop(client);
    ///     assert_eq!(server.read_packet().unwrap().unwrap(), b"first\n");
    ///     assert_eq!(server.read_packet().unwrap().unwrap(), b"second\n");
    ///     assert_eq!(server.read_packet().unwrap().unwrap(), b"last");
    ///     assert_eq!(server.read_packet().unwrap(), None);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn read_packet(&self) -> io::Result<Option<Vec<u8>>> {
        let inner = &*self.inner;
        inner.check_passive()?;
        let deadline = deadline(self.read_timeout());
        // The lock is taken around each non-blocking read, never across the wait.
        let op = || {
            inner.check_passive()?;
            inner.framer().fill(&inner.sock)
        };
        loop {
            {
                let mut f = inner.framer();
                match f.next_packet() {
                    Ok(Some(p)) => return Ok(Some(p)),
                    Err(e) => return Err(e.into_read_error()),
                    Ok(None) if f.at_end() => return Ok(None),
                    Ok(None) => {}
                }
            }
            if io_loop(&inner.io, Dir::Read, deadline, op, |&n| n < READ_CHUNK)? == 0 {
                inner.framer().mark_eof();
            }
        }
    }

    /// Writes `body` as one packet of the stream's type (as `gen_tcp:send/2` in a
    /// packet mode): after its length header for the length-prefixed types, followed
    /// by a newline for [`Packet::Line`] (a newline inside `body` ends the line
    /// early: the peer reads two), as it is for [`Packet::Raw`]. The header and the
    /// body go out in one write. The write timeout bounds the whole call.
    ///
    /// # Errors
    ///
    /// `InvalidInput` with [`PacketError::TooLarge`] if the header cannot hold the
    /// length (over 255 bytes for `Len1`, 65,535 for `Len2`, 4 GiB - 1 for `Len4`);
    /// otherwise as [`write_all`](TcpStream::write_all).
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet_runtime::net::{Packet, TcpListener, TcpStream};
    /// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (server, _) = l.accept().unwrap();
    ///     client.set_packet(Packet::Len2);
    ///     client.write_packet(b"hi").unwrap();
    ///     let mut wire = [0u8; 4];
    ///     server.read_exact(&mut wire).unwrap();
    ///     assert_eq!(wire, [0, 2, b'h', b'i']);
    ///     let big = vec![0u8; 70_000];
    ///     assert!(client.write_packet(&big).is_err(), "over a 2-byte header");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn write_packet(&self, body: &[u8]) -> io::Result<()> {
        match self.packet() {
            Packet::Raw => self.write_all(body),
            packet => {
                let wire = packet
                    .frame(body)
                    .map_err(|e: PacketError| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                self.write_all(&wire)
            }
        }
    }
}
