//! The TCP stream: reads and writes park only the calling process. The listener is in
//! [`super::listener`], active mode in [`super::active`].

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::Interest;

use super::packet::Framer;
use super::socket::SocketId;
use super::wait::{self, Timeout, current, deadline, io_loop};
use crate::io::reactor::{Dir, IoHandle};
use crate::pid::Pid;
use crate::scheduler::current::Current;

/// A TCP connection (as a `gen_tcp` socket).
///
/// Reads and writes park the calling process on `WouldBlock`; its scheduler runs
/// other processes meanwhile. The calls take `&self`, and `Read`/`Write` are also
/// implemented for `&TcpStream`, so one process can read while another writes to a
/// stream shared through an `Arc`. Dropping the stream closes the connection; a
/// process killed while blocked in a call dies at once, and its stream is closed as
/// it unwinds.
///
/// A stream belongs to its runtime: using it from a plain thread or from a process of
/// another runtime fails with `Unsupported` rather than blocking a thread.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use beamlet::net::{TcpListener, TcpStream};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let mut a = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
///     let (mut b, _) = listener.accept().unwrap();
///     a.write_all(b"ping").unwrap();
///     let mut buf = [0u8; 4];
///     b.read_exact(&mut buf).unwrap();
///     assert_eq!(&buf, b"ping");
///     drop(a);
///     assert_eq!(b.read(&mut buf).unwrap(), 0, "EOF once the peer closed");
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug)]
pub struct TcpStream {
    pub(crate) inner: Arc<StreamInner>,
}

/// The shared part of a stream: the active-mode pump holds it too while it reads.
#[derive(Debug)]
pub(crate) struct StreamInner {
    pub(crate) sock: mio::net::TcpStream,
    pub(crate) io: IoHandle,
    pub(crate) id: SocketId,
    /// Whether active mode is on; written under the registration lock, read by the
    /// passive calls to refuse themselves.
    pub(crate) active: AtomicBool,
    /// The packet framing and the bytes it holds (see [`super::packet`]); locked
    /// through [`StreamInner::framer`] only, alone or inside the registration lock.
    pub(crate) framer: Mutex<Framer>,
    /// Whether reads must go through the framer (not raw, or bytes buffered): kept
    /// by the framer guard, read without the lock by the raw fast paths.
    pub(crate) framed: AtomicBool,
    read_timeout: Timeout,
    write_timeout: Timeout,
}

impl Drop for StreamInner {
    fn drop(&mut self) {
        self.io.deregister(&mut self.sock);
    }
}

/// The calling process's pid, if any.
pub(crate) fn current_pid() -> Option<Pid> {
    Current::get().map(|me| me.pid())
}

impl TcpStream {
    /// Registers a connected (or connecting) socket; the calling process owns it.
    pub(crate) fn adopt(mut sock: mio::net::TcpStream) -> io::Result<TcpStream> {
        let io = wait::register(&mut sock, Interest::READABLE | Interest::WRITABLE)?;
        io.lock().owner = current_pid();
        let inner = StreamInner {
            sock,
            io,
            id: SocketId::next(),
            active: AtomicBool::new(false),
            framer: Mutex::default(),
            framed: AtomicBool::new(false),
            read_timeout: Timeout::default(),
            write_timeout: Timeout::default(),
        };
        Ok(TcpStream {
            inner: Arc::new(inner),
        })
    }

    /// Connects to `addr` (each resolved address in turn), parking the calling
    /// process until the connection is established or fails. The calling process
    /// owns the stream.
    ///
    /// Resolving a host name blocks the scheduler while it runs; pass an IP address
    /// (or resolve in [`dirty_io`](crate::dirty_io)) to avoid that.
    ///
    /// # Errors
    ///
    /// The connection error of the last address tried (`ConnectionRefused`, ...);
    /// `Unsupported` outside a process.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let s = TcpStream::connect(addr).unwrap();
    ///     assert_eq!(s.peer_addr().unwrap(), addr);
    ///     drop(listener);
    ///     let err = TcpStream::connect(addr).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for a in addr.to_socket_addrs()? {
            match TcpStream::connect_until(a, None) {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        }))
    }

    /// Connects to `addr`, failing with `TimedOut` if that takes longer than
    /// `timeout` (as `std::net::TcpStream::connect_timeout`).
    ///
    /// # Errors
    ///
    /// As [`connect`](TcpStream::connect), and `TimedOut`; `InvalidInput` for a zero
    /// timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(5)).is_ok());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        TcpStream::connect_until(*addr, deadline(Some(timeout)))
    }

    fn connect_until(addr: SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
        let runtime = wait::this_runtime()?;
        current(runtime)?;
        let stream = TcpStream::adopt(mio::net::TcpStream::connect(addr)?)?;
        let inner = &stream.inner;
        io_loop(
            &inner.io,
            Dir::Write,
            deadline,
            || inner.connected(),
            |_| false,
        )?;
        Ok(stream)
    }

    /// Reads into `buf`, parking the calling process until data (or EOF) arrives.
    /// `Ok(0)` means the peer closed its side (or `buf` is empty).
    ///
    /// # Errors
    ///
    /// The OS error (`ConnectionReset`, ...); `TimedOut` after the
    /// [read timeout](TcpStream::set_read_timeout); `InvalidInput` while active mode is
    /// on; `Unsupported` outside a process of the stream's runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (b, _) = l.accept().unwrap();
    ///     a.write(b"abc").unwrap();
    ///     let mut buf = [0u8; 16];
    ///     let n = b.read(&mut buf).unwrap();
    ///     assert_eq!(&buf[..n], b"abc");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_until(buf, deadline(self.inner.read_timeout.get()))
    }

    fn read_until(&self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<usize> {
        let len = buf.len();
        let inner = &*self.inner;
        inner.check_passive()?;
        // Bytes a packet read left behind come first.
        if inner.framed.load(Ordering::Acquire) {
            let n = inner.framer().take_bytes(buf);
            if n > 0 || len == 0 {
                return Ok(n);
            }
        }
        // And at every try: active mode may be switched on while this waits.
        let op = || {
            inner.check_passive()?;
            (&inner.sock).read(buf)
        };
        io_loop(&inner.io, Dir::Read, deadline, op, |&n| n < len)
    }

    /// Writes from `buf`, parking the calling process while the send buffer is full.
    /// Returns how many bytes were written (at least one, unless `buf` is empty).
    ///
    /// # Errors
    ///
    /// The OS error (`BrokenPipe`, `ConnectionReset`, ...); `TimedOut` after the
    /// [write timeout](TcpStream::set_write_timeout); `Unsupported` outside a process
    /// of the stream's runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     assert_eq!(a.write(b"hello").unwrap(), 5);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.write_until(buf, deadline(self.inner.write_timeout.get()))
    }

    fn write_until(&self, buf: &[u8], deadline: Option<Instant>) -> io::Result<usize> {
        let len = buf.len();
        let sock = &self.inner.sock;
        io_loop(
            &self.inner.io,
            Dir::Write,
            deadline,
            || (&*sock).write(buf),
            |&n| n < len,
        )
    }

    /// Reads exactly `buf.len()` bytes. The read timeout bounds the whole call (as
    /// `gen_tcp:recv/3` with a length), not each underlying read.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the peer closes first (what was read is lost, as with
    /// `std::io::Read::read_exact`); otherwise as [`read`](TcpStream::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (b, _) = l.accept().unwrap();
    ///     a.write_all(b"12").unwrap();
    ///     a.write_all(b"34").unwrap();
    ///     let mut buf = [0u8; 4];
    ///     b.read_exact(&mut buf).unwrap();
    ///     assert_eq!(&buf, b"1234");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn read_exact(&self, mut buf: &mut [u8]) -> io::Result<()> {
        let deadline = deadline(self.inner.read_timeout.get());
        while !buf.is_empty() {
            match self.read_until(buf, deadline)? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "failed to fill whole buffer",
                    ));
                }
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Writes all of `buf`. The write timeout bounds the whole call.
    ///
    /// # Errors
    ///
    /// `WriteZero` if the socket accepts no more; otherwise as
    /// [`write`](TcpStream::write).
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (b, _) = l.accept().unwrap();
    ///     let big = vec![7u8; 1 << 20];
    ///     let reader = beamlet::spawn(move || {
    ///         let mut got = vec![0u8; 1 << 20];
    ///         b.read_exact(&mut got).unwrap();
    ///         assert!(got.iter().all(|&x| x == 7));
    ///     }).unwrap();
    ///     a.write_all(&big).unwrap(); // parks while the reader catches up
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        let deadline = deadline(self.inner.write_timeout.get());
        while !buf.is_empty() {
            match self.write_until(buf, deadline)? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "failed to write whole buffer",
                    ));
                }
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Shuts down the read side, the write side or both (the peer then reads EOF
    /// after the data already sent).
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown` (`NotConnected`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (b, _) = l.accept().unwrap();
    ///     a.write_all(b"last words").unwrap();
    ///     a.shutdown(Shutdown::Write).unwrap();
    ///     let mut got = Vec::new();
    ///     std::io::Read::read_to_end(&mut &b, &mut got).unwrap();
    ///     assert_eq!(got, b"last words");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.sock.shutdown(how)
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` once the connection is gone, or another OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), l.local_addr().unwrap());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.sock.peer_addr()
    }

    /// The local address of the stream.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (b, _) = l.accept().unwrap();
    ///     assert_eq!(a.local_addr().unwrap(), b.peer_addr().unwrap());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.sock.local_addr()
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     a.set_nodelay(true).unwrap();
    ///     assert!(a.nodelay().unwrap());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.sock.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     assert!(!TcpStream::connect(l.local_addr().unwrap()).unwrap().nodelay().unwrap());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.sock.nodelay()
    }

    /// Sets how long a read may wait before failing with `TimedOut` (`None`, the
    /// default: for ever). A timed-out read loses no data: the next read gets it.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration (as `std::net`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     a.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    ///     let err = a.read(&mut [0u8; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.read_timeout.set(timeout)
    }

    /// The read timeout (see [`set_read_timeout`](TcpStream::set_read_timeout)).
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     assert_eq!(TcpStream::connect(l.local_addr().unwrap()).unwrap().read_timeout(), None);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn read_timeout(&self) -> Option<Duration> {
        self.inner.read_timeout.get()
    }

    /// Sets how long a write may wait for buffer space before failing with
    /// `TimedOut` (`None`, the default: for ever).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     a.set_write_timeout(Some(Duration::from_millis(20))).unwrap();
    ///     // Nobody reads: the buffers fill up, then the write times out.
    ///     let err = a.write_all(&vec![0u8; 64 << 20]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.write_timeout.set(timeout)
    }

    /// The write timeout (see [`set_write_timeout`](TcpStream::set_write_timeout)).
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     assert_eq!(TcpStream::connect(l.local_addr().unwrap()).unwrap().write_timeout(), None);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn write_timeout(&self) -> Option<Duration> {
        self.inner.write_timeout.get()
    }

    /// The stream's id, as carried by its active-mode messages.
    ///
    /// ```
    /// use beamlet::net::{TcpListener, TcpStream};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     assert_eq!(a.id(), a.id());
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn id(&self) -> SocketId {
        self.inner.id
    }
}

impl StreamInner {
    /// Whether a non-blocking connect has finished: `WouldBlock` while in progress.
    fn connected(&self) -> io::Result<()> {
        if let Some(e) = self.sock.take_error()? {
            return Err(e);
        }
        match self.sock.peer_addr() {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                Err(io::ErrorKind::WouldBlock.into())
            }
            Err(e) => Err(e),
        }
    }

    /// Passive calls are refused while active mode delivers the data as messages.
    pub(crate) fn check_passive(&self) -> io::Result<()> {
        if self.active.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "beamlet: read on a socket in active mode (its data arrives as messages)",
            ));
        }
        Ok(())
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        // The pump holds the other reference to `inner`: drop it so that the socket
        // closes now. No message is sent for a close by the owner (as on the BEAM).
        let pump = self.inner.io.lock().active.take();
        drop(pump);
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::read(self, buf)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::read(self, buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        TcpStream::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        TcpStream::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
