//! Network I/O: TCP and UDP sockets whose blocking calls park only the calling
//! process while its scheduler runs others. Each runtime has a reactor thread that
//! polls the sockets (mio, edge-triggered) and wakes the processes waiting on them;
//! the wait/wake protocol and its lock reasoning are in `crate::io`.
//! Active mode ([`TcpStream::set_active`]) delivers a
//! socket's data to its owner's mailbox instead, as the BEAM's `{active, once}`; the
//! owner is the process that last called `set_active` (or was named by
//! [`TcpStream::controlling_process`]). A stream can cut its bytes into packets
//! ([`TcpStream::set_packet`]: length-prefixed or lines, as `{packet, N}` and
//! `{packet, line}`), read whole with [`TcpStream::read_packet`] or delivered one
//! message per packet in active mode.
//!
//! ```
//! use std::io::{Read, Write};
//! use beamlet::net::{TcpListener, TcpStream};
//! let rt = beamlet::Runtime::builder().build().unwrap();
//! rt.block_on(|| {
//!     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
//!     let (mut server, _) = listener.accept().unwrap();
//!     client.write_all(b"hi").unwrap();
//!     let mut buf = [0u8; 2];
//!     server.read_exact(&mut buf).unwrap();
//!     assert_eq!(&buf, b"hi");
//! }).unwrap();
//! rt.shutdown();
//! ```

mod active;
mod framed;
mod listener;
mod packet;
mod socket;
mod tcp;
mod udp;
mod wait;

pub use active::{Active, TcpClosed, TcpData, TcpError, TcpPassive};
pub use listener::TcpListener;
pub use packet::{Packet, PacketError};
pub use socket::SocketId;
pub use tcp::TcpStream;
pub use udp::UdpSocket;
