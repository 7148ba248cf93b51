//! Active mode (the BEAM's `{active, once}` and `{active, N}`): a socket's data
//! arrives in its owner's mailbox as messages.
//!
//! # Design: the reactor thread pumps
//!
//! There is no pump process. When an event makes an active socket readable, the
//! reactor thread itself reads it (non-blocking) and delivers [`TcpData`] to the
//! owner, under the socket's registration lock. This is what the BEAM's inet driver
//! does in its check-I/O step, and it beats a pump process per socket on every count:
//! no extra process (stack, record) per connection, no extra switch per message, and
//! a single reader under a lock, so the data arrives in the order it was read with no
//! further machinery. Each socket gets at most [`PUMP_READS`] reads per reactor
//! round; a socket with more data goes back on the reactor's backlog for the next
//! round, so one busy peer cannot hold the reactor. A socket whose readiness arrived
//! while it was passive is read when it becomes active: `set_active` puts it on the
//! backlog and wakes the reactor.
//!
//! With a packet type set ([`TcpStream::set_packet`]) the pump reads into the
//! stream's framer (`net::packet`) and delivers whole packets, one message each; a
//! packet left there when the count runs out is delivered after the next
//! `set_active`, which wakes the reactor for it even if the socket has nothing new.
//!
//! Flow control is the BEAM's: `Once` delivers one message and turns passive; `N(n)`
//! delivers up to `n` more, then turns passive and sends [`TcpPassive`]. Data that
//! is not read stays in the kernel's buffer, and TCP's window pushes back on the peer.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::socket::SocketId;
use super::tcp::{StreamInner, TcpStream, current_pid};
use super::wait::{self, outside_process};
use crate::io::reactor::{Dir, Pump, RegState, Wake};
use crate::mailbox::node::Node;
use crate::pid::Pid;
use crate::receive::{Message, receive_select};
use crate::send::send;

/// Steps (a packet from the framer, or one read) of one socket per reactor round at
/// most.
pub(crate) const PUMP_READS: usize = 16;

/// How a socket delivers incoming data (see [`TcpStream::set_active`]).
///
/// # Examples
///
/// A process that handles its socket in its message loop, one message at a time:
///
/// ```
/// use std::time::Duration;
/// use beamlet::net::{Active, TcpData, TcpListener, TcpStream};
/// use beamlet::receive_timeout;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
///     let (server, _) = l.accept().unwrap();
///     server.set_active(Active::Once).unwrap();
///     client.write_all(b"hi").unwrap();
///     let msg = receive_timeout::<TcpData>(Duration::from_secs(5)).unwrap();
///     assert_eq!((msg.socket, &msg.data[..]), (server.id(), &b"hi"[..]));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Active {
    /// Passive: the data is read with [`TcpStream::read`].
    Off,
    /// Deliver one message, then turn passive (`{active, once}`).
    Once,
    /// Deliver `n` more messages (added to the count left, as `{active, N}`), then
    /// turn passive and send [`TcpPassive`]. A count of zero turns passive at once
    /// (and sends `TcpPassive`).
    N(u32),
    /// Deliver every message as it comes (`{active, true}`): no flow control, so a
    /// fast peer can fill the owner's mailbox. Prefer `Once` or `N`.
    On,
}

/// Data that arrived on an active socket, in order (`{tcp, Socket, Data}`).
///
/// ```
/// use std::time::Duration;
/// use beamlet::net::{Active, TcpData, TcpListener, TcpStream};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
///     let (server, _) = l.accept().unwrap();
///     server.set_active(Active::On).unwrap();
///     client.write_all(b"streamed").unwrap();
///     let mut got = Vec::new();
///     while got.len() < 8 {
///         let m = beamlet::receive_timeout::<TcpData>(Duration::from_secs(5)).unwrap();
///         assert_eq!(m.socket, server.id());
///         got.extend(m.data);
///     }
///     assert_eq!(got, b"streamed");
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpData {
    /// The socket the data came from.
    pub socket: SocketId,
    /// The bytes: in [`Packet::Raw`](crate::net::Packet::Raw) as one read returned
    /// them (message boundaries of the peer are not kept: TCP is a byte stream);
    /// with [`set_packet`](TcpStream::set_packet), one whole packet.
    pub data: Vec<u8>,
}

/// The peer closed the connection (`{tcp_closed, Socket}`); no more messages follow.
///
/// ```
/// use std::time::Duration;
/// use beamlet::net::{Active, TcpClosed, TcpListener, TcpStream};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
///     let (server, _) = l.accept().unwrap();
///     server.set_active(Active::Once).unwrap();
///     drop(client);
///     let closed = beamlet::receive_timeout::<TcpClosed>(Duration::from_secs(5));
///     assert_eq!(closed, Some(TcpClosed { socket: server.id() }));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpClosed {
    /// The socket whose peer closed.
    pub socket: SocketId,
}

/// A read on an active socket failed (`{tcp_error, Socket, Reason}`); a
/// [`TcpClosed`] follows.
///
/// ```
/// use std::time::Duration;
/// use beamlet::net::{Active, TcpError, TcpListener, TcpStream};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
///     let (server, _) = l.accept().unwrap();
///     server.write_all(b"never read").unwrap();
///     beamlet::sleep(Duration::from_millis(20));
///     server.set_active(Active::Once).unwrap();
///     drop(client); // closed with unread data: the kernel resets the connection
///     let e = beamlet::receive_timeout::<TcpError>(Duration::from_secs(5)).unwrap();
///     assert_eq!((e.socket, e.error), (server.id(), std::io::ErrorKind::ConnectionReset));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpError {
    /// The socket that failed.
    pub socket: SocketId,
    /// What went wrong (`ConnectionReset`, ...).
    pub error: io::ErrorKind,
}

/// An `Active::N` count ran out: the socket is passive now (`{tcp_passive, Socket}`).
///
/// ```
/// use std::time::Duration;
/// use beamlet::net::{Active, TcpData, TcpListener, TcpPassive, TcpStream};
/// use beamlet::receive_timeout;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
///     let (server, _) = l.accept().unwrap();
///     server.set_active(Active::N(1)).unwrap();
///     client.write_all(b"x").unwrap();
///     assert!(receive_timeout::<TcpData>(Duration::from_secs(5)).is_some());
///     let p = receive_timeout::<TcpPassive>(Duration::from_secs(5));
///     assert_eq!(p, Some(TcpPassive { socket: server.id() }));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPassive {
    /// The socket that turned passive.
    pub socket: SocketId,
}

/// The active-mode state of a stream, in its registration (as its [`Pump`]).
#[derive(Debug)]
pub(crate) struct ActiveState {
    mode: Active,
    /// Keeps the socket open while the reactor reads it; dropped by
    /// `TcpStream::drop`, which breaks the cycle through the registration.
    stream: Arc<StreamInner>,
    /// `TcpClosed` was delivered: nothing more will be.
    closed: bool,
}

/// What one step of the pump gave.
enum Got {
    /// A packet (in raw mode: what one read returned).
    Data(Vec<u8>),
    /// Bytes went into the framer, or the read was interrupted: step again.
    More,
    Eof,
    Blocked,
    Failed(io::ErrorKind),
}

impl Pump for ActiveState {
    /// Reads the socket and delivers to its owner, at most [`PUMP_READS`] steps.
    /// Runs on the reactor thread only, with the registration locked.
    fn pump(&mut self, st: &mut RegState, owner: Pid, wake: &dyn Wake, scratch: &mut [u8]) -> bool {
        for _ in 0..PUMP_READS {
            if self.closed || self.mode == Active::Off {
                return false;
            }
            let id = self.stream.id;
            let delivered = match self.step(st, scratch) {
                Got::Data(data) => {
                    deliver(wake, owner, TcpData { socket: id, data })
                        && self.count_down(wake, owner)
                }
                Got::More => continue,
                Got::Blocked => return false,
                Got::Eof => self.close(wake, owner, None),
                Got::Failed(kind) => self.close(wake, owner, Some(kind)),
            };
            if !delivered {
                self.set_mode(Active::Off);
                return false;
            }
        }
        true
    }
}

impl ActiveState {
    /// One step: a packet already in the framer, else one read of the socket. A
    /// raw stream with nothing buffered skips the framer (and its lock).
    fn step(&mut self, st: &mut RegState, scratch: &mut [u8]) -> Got {
        let stream = &*self.stream;
        let mut framer = stream
            .framed
            .load(Ordering::Acquire)
            .then(|| stream.framer());
        if let Some(f) = &mut framer {
            match f.next_packet() {
                Ok(Some(p)) => return Got::Data(p),
                Err(e) => return Got::Failed(e.into_read_error().kind()),
                Ok(None) if f.at_end() => return Got::Eof,
                Ok(None) => {}
            }
        }
        if st.ready & Dir::Read.ready_mask() == 0 {
            return Got::Blocked;
        }
        match (&stream.sock).read(scratch) {
            Ok(0) => match &mut framer {
                Some(f) => {
                    f.mark_eof();
                    Got::More
                }
                None => Got::Eof,
            },
            Ok(n) => {
                // A short read drained the socket. The reactor is the only
                // dispatcher, so no event can slip in between: clearing is safe.
                if n < scratch.len() {
                    st.clear_now(Dir::Read);
                }
                match &mut framer {
                    Some(f) => {
                        f.push(&scratch[..n]);
                        Got::More
                    }
                    None => Got::Data(scratch[..n].to_vec()),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                st.clear_now(Dir::Read);
                Got::Blocked
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Got::More,
            Err(e) => Got::Failed(e.kind()),
        }
    }
}

fn deliver<M: Send + 'static>(wake: &dyn Wake, to: Pid, msg: M) -> bool {
    wake.deliver_node(to, Node::new(msg)).is_ok()
}

/// The stream's active-mode state in its (locked) registration, if it has one.
fn state(st: &mut RegState) -> Option<&mut ActiveState> {
    let pump: &mut dyn std::any::Any = st.active.as_deref_mut()?;
    pump.downcast_mut::<ActiveState>()
}

impl ActiveState {
    fn set_mode(&mut self, mode: Active) {
        self.mode = mode;
        let on = mode != Active::Off && !self.closed;
        // Release pairs with the Acquire in `TcpStream`'s passive calls: a caller that
        // sees the stream passive also sees the pump's mode that made it so.
        self.stream.active.store(on, Ordering::Release);
    }

    /// One message was delivered: counts it. `false` if the owner is gone.
    fn count_down(&mut self, wake: &dyn Wake, owner: Pid) -> bool {
        match self.mode {
            Active::Once => self.set_mode(Active::Off),
            Active::N(1) => {
                self.set_mode(Active::Off);
                return deliver(
                    wake,
                    owner,
                    TcpPassive {
                        socket: self.stream.id,
                    },
                );
            }
            Active::N(n) => self.mode = Active::N(n - 1),
            Active::On | Active::Off => {}
        }
        true
    }

    /// Delivers the end of the stream: an error (if any), then `TcpClosed`.
    fn close(&mut self, wake: &dyn Wake, owner: Pid, error: Option<io::ErrorKind>) -> bool {
        let socket = self.stream.id;
        self.closed = true;
        self.set_mode(Active::Off);
        if let Some(error) = error {
            deliver(wake, owner, TcpError { socket, error });
        }
        deliver(wake, owner, TcpClosed { socket })
    }
}

/// The mode after asking for `req` in mode `cur`, and whether the change turns the
/// socket passive with a [`TcpPassive`] (an `N` count reaching zero).
fn combine(cur: Active, req: Active) -> (Active, bool) {
    match req {
        Active::N(n) => {
            let base = match cur {
                Active::N(c) => c,
                _ => 0,
            };
            match base.saturating_add(n) {
                0 => (Active::Off, true),
                total => (Active::N(total), false),
            }
        }
        other => (other, false),
    }
}

impl TcpStream {
    /// Switches active mode (as `inet:setopts(S, [{active, A}])`): with `Once`, `N`
    /// or `On`, incoming data is delivered to the owner's mailbox as [`TcpData`]
    /// messages, in order, followed by [`TcpClosed`] when the peer closes (and
    /// [`TcpError`] before it if a read fails). While active, [`read`](TcpStream::read)
    /// is refused. Writes work in any mode.
    ///
    /// The calling process becomes the stream's owner, the one that receives the
    /// messages: whoever turns active mode on gets the data, so a stream accepted by
    /// one process and moved into another works as it reads. (On the BEAM the
    /// controlling process stays the acceptor until `gen_tcp:controlling_process/2`;
    /// in Rust, holding the stream is what entitles a process to it.) Messages
    /// already delivered to a previous owner stay in its mailbox; to hand a stream
    /// on while data is flowing without losing any, the owner calls
    /// [`controlling_process`](TcpStream::controlling_process), which moves them.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the stream already delivered [`TcpClosed`]; `Unsupported`
    /// outside a process of the stream's runtime (there is no mailbox to deliver to).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::net::{Active, TcpData, TcpListener, TcpStream};
    /// use beamlet::receive_timeout;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (server, _) = l.accept().unwrap();
    ///     let mut got = Vec::new();
    ///     for chunk in [&b"one "[..], b"two ", b"three"] {
    ///         client.write_all(chunk).unwrap();
    ///         server.set_active(Active::Once).unwrap();
    ///         got.extend(receive_timeout::<TcpData>(Duration::from_secs(5)).unwrap().data);
    ///     }
    ///     assert_eq!(got, b"one two three");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn set_active(&self, mode: Active) -> io::Result<()> {
        let inner = &self.inner;
        let me = wait::current(inner.io.runtime())?.pid();
        let mut st = inner.io.lock();
        st.owner = Some(me);
        let ready = st.ready & Dir::Read.ready_mask() != 0;
        if st.active.is_none() {
            st.active = Some(Box::new(ActiveState {
                mode: Active::Off,
                stream: inner.clone(),
                closed: false,
            }));
        }
        let pump = state(&mut st).expect("a stream's pump is its ActiveState");
        if pump.closed {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "beamlet: the connection is closed (TcpClosed was delivered)",
            ));
        }
        let (mode, now_passive) = combine(pump.mode, mode);
        pump.set_mode(mode);
        drop(st);
        if now_passive {
            let _ = send(me, TcpPassive { socket: inner.id });
        }
        // Whole packets may wait in the framer even with nothing more to read.
        if mode != Active::Off && (ready || inner.framed.load(Ordering::Acquire)) {
            inner.io.kick();
        }
        Ok(())
    }

    /// Makes `pid` the stream's owner (as `gen_tcp:controlling_process/2`): active-mode
    /// messages go to it from now on, in the mode the stream is in. If the caller is
    /// the owner, the messages for this stream already in its mailbox are moved to
    /// `pid` first, so `pid` sees the data in order: this is the way to hand on a
    /// stream while it is active. Send the `TcpStream` itself to `pid` as well, so
    /// that it can use and close it.
    ///
    /// Unlike on the BEAM, any process holding the stream may call this (as any may
    /// take the stream over with [`set_active`](TcpStream::set_active)): holding the
    /// stream is the right to it. A caller that is not the owner has no messages of
    /// the stream to move; those already delivered to the previous owner stay there.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `pid` belongs to another runtime; `Unsupported` outside a
    /// process.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::net::{Active, TcpData, TcpListener, TcpStream};
    /// use beamlet::{receive, receive_timeout, self_pid, send, spawn};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (server, _) = l.accept().unwrap();
    ///     let me = self_pid();
    ///     let handler = spawn(move || {
    ///         let s: TcpStream = receive();
    ///         s.set_active(Active::Once).unwrap();
    ///         let m = receive_timeout::<TcpData>(Duration::from_secs(5)).unwrap();
    ///         send(me, m.data).unwrap();
    ///     }).unwrap();
    ///     server.controlling_process(handler).unwrap();
    ///     send(handler, server).unwrap();
    ///     client.write_all(b"for the handler").unwrap();
    ///     assert_eq!(receive::<Vec<u8>>(), b"for the handler");
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn controlling_process(&self, pid: Pid) -> io::Result<()> {
        let me = current_pid().ok_or_else(outside_process)?;
        if pid.runtime != self.inner.io.runtime() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "beamlet: the new owner belongs to another runtime",
            ));
        }
        let paused = {
            let mut st = self.inner.io.lock();
            let was_owner = st.owner == Some(me);
            st.owner = Some(pid);
            match state(&mut st) {
                Some(p) if was_owner && pid != me => std::mem::replace(&mut p.mode, Active::Off),
                _ => return Ok(()),
            }
        };
        // Paused: no delivery can overtake the messages moved here.
        forward(self.inner.id, pid);
        let mut st = self.inner.io.lock();
        let ready =
            st.ready & Dir::Read.ready_mask() != 0 || self.inner.framed.load(Ordering::Acquire);
        if let Some(p) = state(&mut st) {
            if p.mode == Active::Off && !p.closed {
                p.mode = paused;
                drop(st);
                if paused != Active::Off && ready {
                    self.inner.io.kick();
                }
            }
        }
        Ok(())
    }
}

/// Moves the caller's messages of socket `id` to `to`, oldest first.
fn forward(id: SocketId, to: Pid) {
    let mine = |m: &Message| socket_of(m) == Some(id);
    while let Some(m) = receive_select(None, mine, Some(Duration::ZERO)) {
        resend(m, to);
    }
}

/// Sends an active-mode message on, typed as it was. A new owner that died
/// meanwhile just loses it.
fn resend(m: Message, to: Pid) {
    let m = match m.downcast::<TcpData>() {
        Ok(x) => {
            let _ = send(to, x);
            return;
        }
        Err(m) => m,
    };
    let m = match m.downcast::<TcpClosed>() {
        Ok(x) => {
            let _ = send(to, x);
            return;
        }
        Err(m) => m,
    };
    let m = match m.downcast::<TcpError>() {
        Ok(x) => {
            let _ = send(to, x);
            return;
        }
        Err(m) => m,
    };
    if let Ok(x) = m.downcast::<TcpPassive>() {
        let _ = send(to, x);
    }
}

/// The socket an active-mode message is about, if it is one.
fn socket_of(m: &Message) -> Option<SocketId> {
    m.downcast_ref::<TcpData>()
        .map(|d| d.socket)
        .or_else(|| m.downcast_ref::<TcpClosed>().map(|c| c.socket))
        .or_else(|| m.downcast_ref::<TcpError>().map(|e| e.socket))
        .or_else(|| m.downcast_ref::<TcpPassive>().map(|p| p.socket))
}
