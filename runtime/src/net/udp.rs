//! UDP: a datagram socket whose blocking calls park only the calling process.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use mio::Interest;

use super::wait::{self, Timeout, deadline, io_loop};
use crate::io::reactor::{Dir, IoHandle};

/// A UDP socket (as `gen_udp`).
///
/// [`recv_from`](UdpSocket::recv_from) parks the calling process until a datagram
/// arrives, and [`send_to`](UdpSocket::send_to) while the send buffer is full; the
/// scheduler runs other processes meanwhile. Share it between processes through an
/// `Arc`: the calls take `&self`.
///
/// # Examples
///
/// ```
/// use beamlet::net::UdpSocket;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
///     a.send_to(b"datagram", b.local_addr().unwrap()).unwrap();
///     let mut buf = [0u8; 64];
///     let (n, from) = b.recv_from(&mut buf).unwrap();
///     assert_eq!((&buf[..n], from), (&b"datagram"[..], a.local_addr().unwrap()));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    sock: mio::net::UdpSocket,
    io: IoHandle,
    read_timeout: Timeout,
}

impl UdpSocket {
    /// Binds a socket to `addr` (each resolved address is tried in turn).
    ///
    /// # Errors
    ///
    /// The OS error of `bind` for the last address; `Unsupported` outside a runtime's
    /// process.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::UdpSocket;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     assert_ne!(s.local_addr().unwrap().port(), 0);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        wait::this_runtime()?;
        let mut last = None;
        for a in addr.to_socket_addrs()? {
            match mio::net::UdpSocket::bind(a) {
                Ok(sock) => return UdpSocket::adopt(sock),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")
        }))
    }

    fn adopt(mut sock: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        let io = wait::register(&mut sock, Interest::READABLE | Interest::WRITABLE)?;
        Ok(UdpSocket {
            sock,
            io,
            read_timeout: Timeout::default(),
        })
    }

    /// Sends `buf` as one datagram to `target` (its first resolved address).
    ///
    /// # Errors
    ///
    /// The OS error of `sendto` (a datagram too large is `InvalidInput` or
    /// `Other`, as the OS reports it); `Unsupported` outside a process of the
    /// socket's runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::UdpSocket;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     assert_eq!(s.send_to(b"to myself", s.local_addr().unwrap()).unwrap(), 9);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let to = target
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to send to"))?;
        io_loop(
            &self.io,
            Dir::Write,
            None,
            || self.sock.send_to(buf, to),
            |_| false,
        )
    }

    /// Receives one datagram into `buf`, parking the calling process until one
    /// arrives (or the read timeout passes). Returns its length (truncated to
    /// `buf.len()`) and sender.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`; `TimedOut` after the
    /// [read timeout](UdpSocket::set_read_timeout); `Unsupported` outside a process
    /// of the socket's runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::UdpSocket;
    /// use beamlet::spawn;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let addr = server.local_addr().unwrap();
    ///     spawn(move || {
    ///         let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///         c.send_to(b"late", addr).unwrap();
    ///     }).unwrap();
    ///     let mut buf = [0u8; 16];
    ///     let (n, _) = server.recv_from(&mut buf).unwrap(); // parks until it comes
    ///     assert_eq!(&buf[..n], b"late");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let deadline = deadline(self.read_timeout.get());
        io_loop(
            &self.io,
            Dir::Read,
            deadline,
            || self.sock.recv_from(buf),
            |_| false,
        )
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::UdpSocket;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     assert!(s.local_addr().unwrap().ip().is_loopback());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// Sets how long [`recv_from`](UdpSocket::recv_from) waits before failing with
    /// `TimedOut` (`None`, the default: for ever).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration (as `std::net`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::net::UdpSocket;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    ///     let err = s.recv_from(&mut [0u8; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.read_timeout.set(timeout)
    }

    /// The read timeout (see [`set_read_timeout`](UdpSocket::set_read_timeout)).
    ///
    /// ```
    /// use beamlet::net::UdpSocket;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| assert_eq!(UdpSocket::bind("127.0.0.1:0").unwrap().read_timeout(), None)).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout.get()
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        self.io.deregister(&mut self.sock);
    }
}
