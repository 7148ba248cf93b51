//! The TCP listener: `accept` parks only the calling process.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use mio::Interest;

use super::tcp::TcpStream;
use super::wait::{self, Timeout, deadline, io_loop};
use crate::io::reactor::{Dir, IoHandle};

/// Pending connections a listener queues; the kernel caps it at `somaxconn` (4096 by
/// default since Linux 5.4). The standard library's 128 overflows when a thousand
/// clients connect at once, and an overflowing SYN is retried only after a second;
/// 1024 still overflowed now and then in `tcp_idle` when the acceptor fell behind.
const BACKLOG: i32 = 4096;

/// A TCP listening socket (as `gen_tcp:listen/2`).
///
/// [`accept`](TcpListener::accept) parks the calling process until a connection
/// arrives; its scheduler runs other processes meanwhile. The socket is closed when
/// the listener is dropped.
///
/// # Examples
///
/// An echo server, a process per connection:
///
/// ```
/// use std::io::{Read, Write};
/// use beamlet::net::{TcpListener, TcpStream};
/// use beamlet::spawn;
///
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let reply = rt.block_on(|| {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = listener.local_addr().unwrap();
///     spawn(move || loop {
///         let (mut conn, _) = listener.accept().unwrap();
///         spawn(move || {
///             let mut buf = [0u8; 1024];
///             while let Ok(n @ 1..) = conn.read(&mut buf) {
///                 conn.write_all(&buf[..n]).unwrap();
///             }
///         }).unwrap();
///     }).unwrap();
///     let mut client = TcpStream::connect(addr).unwrap();
///     client.write_all(b"hello").unwrap();
///     let mut reply = [0u8; 5];
///     client.read_exact(&mut reply).unwrap();
///     reply
/// }).unwrap();
/// assert_eq!(&reply, b"hello");
/// rt.shutdown();
/// ```
#[derive(Debug)]
pub struct TcpListener {
    sock: mio::net::TcpListener,
    io: IoHandle,
    accept_timeout: Timeout,
}

impl TcpListener {
    /// Binds a listener to `addr` (each resolved address is tried in turn).
    ///
    /// Resolving a host name blocks the scheduler while it runs; pass an IP address
    /// (or resolve in [`dirty_io`](crate::dirty_io)) to avoid that.
    ///
    /// # Errors
    ///
    /// The OS error of `bind`/`listen`; `Unsupported` when called outside a runtime's
    /// process.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::TcpListener;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// }).unwrap();
    /// // Outside a process there is no reactor to register with:
    /// assert!(TcpListener::bind("127.0.0.1:0").is_err());
    /// rt.shutdown();
    /// ```
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        wait::this_runtime()?;
        let std = std::net::TcpListener::bind(addr)?;
        std.set_nonblocking(true)?;
        raise_backlog(&std)?;
        let mut sock = mio::net::TcpListener::from_std(std);
        let io = wait::register(&mut sock, Interest::READABLE)?;
        Ok(TcpListener {
            sock,
            io,
            accept_timeout: Timeout::default(),
        })
    }

    /// Accepts a connection, parking the calling process until one arrives (or the
    /// accept timeout passes). The new stream is owned by the calling process.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`; `TimedOut` after the
    /// [accept timeout](TcpListener::set_accept_timeout); `Unsupported` outside a
    /// process of the listener's runtime. At the descriptor limit (`EMFILE`,
    /// `ENFILE`) `accept` does not fail: the process naps, backing off from 1 ms to
    /// 500 ms, until a descriptor is freed (or gives the error back when the accept
    /// timeout would pass first).
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    ///     let (server, peer) = listener.accept().unwrap();
    ///     assert_eq!(peer, client.local_addr().unwrap());
    ///     assert_eq!(server.peer_addr().unwrap(), peer);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let deadline = deadline(self.accept_timeout.get());
        let mut backoff = DESCRIPTOR_BACKOFF_MIN;
        loop {
            let accepted = io_loop(
                &self.io,
                Dir::Read,
                deadline,
                || self.sock.accept(),
                |_| false,
            );
            match accepted {
                Err(e) if out_of_descriptors(&e) => {
                    backoff = self.wait_for_a_descriptor(&e, backoff, deadline)?;
                }
                Err(e) => return Err(e),
                Ok((sock, addr)) => return Ok((TcpStream::adopt(sock)?, addr)),
            }
        }
    }

    /// At the descriptor limit the connection stays in the backlog and the listener
    /// stays readable, so retrying at once would spin: the process sleeps instead,
    /// doubling the nap up to [`DESCRIPTOR_BACKOFF_MAX`], until a descriptor is
    /// freed (as Go's `net/http` server does). Gives `e` back if the accept timeout
    /// would pass first. Logs the first nap of each episode only.
    fn wait_for_a_descriptor(
        &self,
        e: &io::Error,
        backoff: Duration,
        deadline: Option<std::time::Instant>,
    ) -> io::Result<Duration> {
        if deadline.is_some_and(|d| std::time::Instant::now() + backoff > d) {
            return Err(io::Error::new(e.kind(), e.to_string()));
        }
        if backoff == DESCRIPTOR_BACKOFF_MIN {
            log::warn!(target: "beamlet::net", "accept: {e}; retrying as descriptors are freed");
        }
        crate::time::sleep(backoff);
        Ok((backoff * 2).min(DESCRIPTOR_BACKOFF_MAX))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::TcpListener;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     assert!(l.local_addr().unwrap().ip().is_loopback());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// Sets how long [`accept`](TcpListener::accept) waits before failing with
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
    /// use beamlet::net::TcpListener;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     l.set_accept_timeout(Some(Duration::from_millis(5))).unwrap();
    ///     assert_eq!(l.accept_timeout(), Some(Duration::from_millis(5)));
    ///     let err = l.accept().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn set_accept_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.accept_timeout.set(timeout)
    }

    /// The accept timeout (see [`set_accept_timeout`](TcpListener::set_accept_timeout)).
    ///
    /// ```
    /// use beamlet::net::TcpListener;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| assert_eq!(TcpListener::bind("127.0.0.1:0").unwrap().accept_timeout(), None)).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn accept_timeout(&self) -> Option<Duration> {
        self.accept_timeout.get()
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.io.deregister(&mut self.sock);
    }
}

/// The first nap of an accept at the descriptor limit.
const DESCRIPTOR_BACKOFF_MIN: Duration = Duration::from_millis(1);
/// The longest nap of an accept at the descriptor limit.
const DESCRIPTOR_BACKOFF_MAX: Duration = Duration::from_millis(500);

/// The process or the system is out of descriptors (or of socket buffers), a state
/// that lasts until something is closed; not an error of this connection.
fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Sets the listen backlog to [`BACKLOG`]: Linux lets `listen` be called again on a
/// listening socket to change it, and neither std nor mio has a setter.
fn raise_backlog(sock: &std::net::TcpListener) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `listen` takes a plain fd and an integer and touches no memory of ours;
    // the fd is valid for the call because `sock` owns it and is borrowed across it.
    let r = unsafe { libc::listen(sock.as_raw_fd(), BACKLOG) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
