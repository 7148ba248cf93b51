//! The connection's output: packets framed into one buffer and written in
//! batches, without ever blocking the connection for long on a full socket.
//!
//! # Why not write each packet as it is made
//!
//! A blocking write of each packet has two costs. One syscall per message, where
//! a burst of sends could share one. And a deadlock between two beamlet nodes
//! flooding each other: each connection blocks in a write the other never drains,
//! because the other is blocked in its own write and its socket, in active mode
//! with flow control, stops being read once 64 packets wait for it
//! (tests/dist_flood.rs). erl never blocks its reader on a write, and neither
//! may we.
//!
//! # Protocol
//!
//! 1. Every packet is appended to [`Output`] with its 4-byte length
//!    ([`Output::packet`]); nothing is written yet.
//! 2. The connection writes when its mailbox is empty (so a burst goes out in one
//!    write), or first, without waiting, once [`FLUSH_BYTES`] are pending or
//!    [`FLUSH_TURNS`] messages were taken since output became pending (so a
//!    mailbox that never empties cannot hold a reply back).
//! 3. A write takes what the socket accepts ([`Output::write_some`]); with an
//!    empty mailbox it waits for the socket at most [`WRITE_WAIT`], then looks at
//!    the mailbox again: the peer's packets and the `TcpPassive` that re-arms
//!    them are always taken in, whatever the state of the output.
//! 4. Past [`BUSY_BYTES`] pending the connection is busy (the BEAM's
//!    `busy_dist_port`): it takes only what keeps the socket moving (the peer's
//!    packets, flow control, ticks, its own requests to close) and leaves local
//!    deliveries in its mailbox until the output drains below the mark.

use std::io;
use std::time::Duration;

use beamlet_runtime::net::TcpStream;

/// Pending bytes past which the connection writes before it takes the next
/// message (step 2).
pub(super) const FLUSH_BYTES: usize = 64 * 1024;

/// Messages taken with output pending after which the connection writes before
/// it takes the next (step 2).
pub(super) const FLUSH_TURNS: u32 = 64;

/// Pending bytes past which local deliveries wait (step 4).
pub(super) const BUSY_BYTES: usize = 4 * 1024 * 1024;

/// The longest a write waits for a full socket before the mailbox is looked at
/// again (step 3).
pub(super) const WRITE_WAIT: Duration = Duration::from_millis(2);

/// "Do not wait": the shortest write timeout a socket takes (zero is refused, as
/// by std), so a full socket returns at once.
pub(super) const NO_WAIT: Duration = Duration::from_nanos(1);

/// A buffer of framed packets, written from `written` on.
#[derive(Debug, Default)]
pub(super) struct Output {
    buf: Vec<u8>,
    written: usize,
}

/// A buffer that grew past this for one large message is given back once empty.
const KEEP_CAPACITY: usize = 4 * FLUSH_BYTES;

impl Output {
    /// The bytes not yet written.
    pub(super) fn pending(&self) -> usize {
        self.buf.len() - self.written
    }

    /// Appends one packet whose body `fill` writes; `fill` failing leaves the
    /// buffer as it was. A body past `u32::MAX` bytes cannot be framed.
    pub(super) fn packet<E>(
        &mut self,
        fill: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), PacketError<E>> {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        if let Err(e) = fill(&mut self.buf) {
            self.buf.truncate(start);
            return Err(PacketError::Body(e));
        }
        let Ok(len) = u32::try_from(self.buf.len() - start - 4) else {
            self.buf.truncate(start);
            return Err(PacketError::TooLarge);
        };
        self.buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }

    /// Writes what `stream` takes within `wait` (step 3). A full socket is not an
    /// error: the bytes stay pending.
    ///
    /// # Errors
    ///
    /// The socket's own failures.
    pub(super) fn write_some(&mut self, stream: &TcpStream, wait: Duration) -> io::Result<()> {
        if self.pending() == 0 {
            return Ok(());
        }
        stream.set_write_timeout(Some(wait))?;
        match stream.write(&self.buf[self.written..]) {
            Ok(n) => self.written += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) => {}
            Err(e) => return Err(e),
        }
        if self.written == self.buf.len() {
            self.written = 0;
            self.buf.clear();
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::new();
            }
        }
        Ok(())
    }
}

/// Why [`Output::packet`] appended nothing.
#[derive(Debug)]
pub(super) enum PacketError<E> {
    /// The body could not be written.
    Body(E),
    /// The body is longer than a 4-byte length can say.
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_framed_and_a_failed_body_leaves_nothing() {
        let mut out = Output::default();
        out.packet(|b| {
            b.extend_from_slice(b"ab");
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(matches!(
            out.packet(|b| {
                b.push(9);
                Err(())
            }),
            Err(PacketError::Body(()))
        ));
        out.packet(|_| Ok::<(), ()>(())).unwrap();
        assert_eq!(out.buf, [0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0]);
        assert_eq!(out.pending(), 10);
    }
}
