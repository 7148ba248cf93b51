//! [`SocketId`]: the name of a socket in active-mode messages.

use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies a socket in active-mode messages ([`TcpData`](crate::net::TcpData) and
/// the others), as a port does on the BEAM. Unique for the life of the OS process.
///
/// # Examples
///
/// ```
/// use beamlet::net::{TcpListener, TcpStream};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let a = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
///     let (b, _) = listener.accept().unwrap();
///     assert_ne!(a.id(), b.id());
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(u64);

impl SocketId {
    pub(crate) fn next() -> SocketId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SocketId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}
