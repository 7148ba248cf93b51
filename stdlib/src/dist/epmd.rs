//! An EPMD client: registering our node's name and port, and finding other nodes'.
//!
//! EPMD (`erts/doc/src/erl_dist_protocol.xml`, "EPMD Protocol") listens on port 4369
//! (or `ERL_EPMD_PORT`). Every request is a 2-byte big-endian length and the request;
//! replies carry no length. The exchanges:
//!
//! 1. Register ([`register`]): open a connection, send `ALIVE2_REQ`
//!    (`'x'`, port:16, node type:8 (77 normal, 72 hidden), protocol:8 (0 = TCP),
//!    highest:16, lowest:16 (both 6, distribution version 6), name length:16, name,
//!    extra length:16 (0)). EPMD answers `ALIVE2_X_RESP` (`'v'`, result:8,
//!    creation:32) or, if older, `ALIVE2_RESP` (`'y'`, result:8, creation:16). A
//!    non-zero result means the name is taken. The connection then stays open for
//!    the node's lifetime: EPMD unregisters the name when it closes, which is why
//!    [`EpmdRegistration`] owns the stream.
//! 2. Look up ([`port_please`]): a new connection, `PORT_PLEASE2_REQ` (`'z'`, name);
//!    EPMD answers `PORT2_RESP` (`'w'`, result:8, then if 0: port:16, node type:8,
//!    protocol:8, highest:16, lowest:16, name length:16, name, extra length:16,
//!    extra) and closes.
//! 3. List ([`names`]): `NAMES_REQ` (`'n'`); EPMD answers its port:32 and then lines
//!    `name NAME at port PORT\n` until it closes.
//!
//! Names here are the part of the node name before the `@`. Every read is bounded
//! by [`Epmd::timeout`].

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use beamlet_runtime::net::TcpStream;

/// EPMD's well-known port.
pub const DEFAULT_PORT: u16 = 4369;

/// How long one EPMD exchange may take: EPMD is local and answers at once, so a
/// few seconds only turns a wedged daemon into an error (arbitrary).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Distribution protocol version 6 (OTP 23+), the only one we speak.
const DIST_VERSION: u16 = 6;

/// The longest name EPMD accepts (`MAXSYMLEN` in `epmd_int.h`).
const MAX_NAME_LEN: usize = 255;

/// The most `names` output we read: EPMD writes one short line per node (arbitrary
/// bound against a hostile daemon).
const MAX_NAMES_REPLY: usize = 64 * 1024;

const ALIVE2_REQ: u8 = b'x';
const ALIVE2_RESP: u8 = b'y';
const ALIVE2_X_RESP: u8 = b'v';
const PORT_PLEASE2_REQ: u8 = b'z';
const PORT2_RESP: u8 = b'w';
const NAMES_REQ: u8 = b'n';
const NODE_TYPE_NORMAL: u8 = 77;
const NODE_TYPE_HIDDEN: u8 = 72;

/// Where EPMD listens, and how long to wait for it.
///
/// # Examples
///
/// ```
/// use std::net::Ipv4Addr;
/// use beamlet::otp::dist::epmd::Epmd;
/// let epmd = Epmd::new(Ipv4Addr::LOCALHOST.into()).port(4370);
/// assert_eq!(epmd.addr().port(), 4370);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epmd {
    host: IpAddr,
    port: u16,
    timeout: Duration,
}

impl Default for Epmd {
    /// EPMD on this host (127.0.0.1), as [`Epmd::new`].
    fn default() -> Self {
        Epmd::new(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

impl Epmd {
    /// EPMD on `host`, at `ERL_EPMD_PORT` if that is set to a port number (as `erl`
    /// reads it), else at 4369.
    pub fn new(host: IpAddr) -> Epmd {
        let port = std::env::var("ERL_EPMD_PORT")
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(DEFAULT_PORT);
        Epmd {
            host,
            port,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same EPMD at another port.
    pub fn port(self, port: u16) -> Epmd {
        Epmd { port, ..self }
    }

    /// The same EPMD with another bound on each exchange (5 s by default).
    pub fn timeout(self, timeout: Duration) -> Epmd {
        Epmd { timeout, ..self }
    }

    /// EPMD's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// Registers `name` (the part before `@`) as listening on `port`, as [`register`].
    ///
    /// # Errors
    ///
    /// As [`register`].
    pub fn register(
        &self,
        name: &str,
        port: u16,
        hidden: bool,
    ) -> Result<EpmdRegistration, EpmdError> {
        check_name(name)?;
        let stream = self.open()?;
        let node_type = if hidden {
            NODE_TYPE_HIDDEN
        } else {
            NODE_TYPE_NORMAL
        };
        let mut req = vec![ALIVE2_REQ];
        req.extend_from_slice(&port.to_be_bytes());
        req.extend_from_slice(&[node_type, 0]);
        req.extend_from_slice(&DIST_VERSION.to_be_bytes());
        req.extend_from_slice(&DIST_VERSION.to_be_bytes());
        push_str16(&mut req, name);
        req.extend_from_slice(&0u16.to_be_bytes());
        send_request(&stream, &req)?;
        let creation = read_alive_reply(&stream)?;
        // The registration lives as long as the connection; no further reads are
        // bounded by the exchange's timeout.
        stream.set_read_timeout(None).map_err(EpmdError::Io)?;
        Ok(EpmdRegistration { stream, creation })
    }

    /// Looks up the node `name` (the part before `@`), as [`port_please`].
    ///
    /// # Errors
    ///
    /// As [`port_please`].
    pub fn port_please(&self, name: &str) -> Result<NodePort, EpmdError> {
        check_name(name)?;
        let stream = self.open()?;
        let mut req = vec![PORT_PLEASE2_REQ];
        req.extend_from_slice(name.as_bytes());
        send_request(&stream, &req)?;
        let [tag, result] = read_array(&stream)?;
        if tag != PORT2_RESP {
            return Err(EpmdError::Protocol(EpmdProtocolError::UnexpectedTag(tag)));
        }
        if result != 0 {
            return Err(EpmdError::NotRegistered);
        }
        let [p1, p0, _node_type, _protocol, h1, h0, l1, l0] = read_array(&stream)?;
        Ok(NodePort {
            port: u16::from_be_bytes([p1, p0]),
            highest: u16::from_be_bytes([h1, h0]),
            lowest: u16::from_be_bytes([l1, l0]),
        })
    }

    /// The names EPMD knows and their ports, as [`names`].
    ///
    /// # Errors
    ///
    /// As [`names`].
    pub fn names(&self) -> Result<Vec<(String, u16)>, EpmdError> {
        let stream = self.open()?;
        send_request(&stream, &[NAMES_REQ])?;
        let _epmd_port: [u8; 4] = read_array(&stream)?;
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).map_err(io_error)?;
            if n == 0 {
                break;
            }
            if text.len() + n > MAX_NAMES_REPLY {
                return Err(EpmdError::Protocol(EpmdProtocolError::TooLong));
            }
            text.extend_from_slice(&buf[..n]);
        }
        parse_names(&text)
    }

    fn open(&self) -> Result<TcpStream, EpmdError> {
        let stream =
            TcpStream::connect_timeout(&self.addr(), self.timeout).map_err(|e| match e.kind() {
                io::ErrorKind::TimedOut => EpmdError::Timeout,
                _ => EpmdError::Unreachable(e),
            })?;
        stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .map_err(EpmdError::Io)?;
        Ok(stream)
    }
}

/// Registers our node with EPMD on this host ([`Epmd::default`]): `name` is the part
/// of the node name before `@`, `port` the one our distribution listener accepts on,
/// `hidden` whether the node is hidden (node type 72, else 77).
///
/// # Errors
///
/// [`EpmdError::Unreachable`] if no EPMD listens, [`EpmdError::NameTaken`] if a
/// node of that name is registered, [`EpmdError::InvalidName`],
/// [`EpmdError::Timeout`], [`EpmdError::Protocol`] for a reply we cannot read.
pub fn register(name: &str, port: u16, hidden: bool) -> Result<EpmdRegistration, EpmdError> {
    Epmd::default().register(name, port, hidden)
}

/// Asks EPMD on `host` for the port of node `name` (the part before `@`).
///
/// # Errors
///
/// [`EpmdError::NotRegistered`] if EPMD knows no such node; otherwise as
/// [`register`].
pub fn port_please(host: IpAddr, name: &str) -> Result<NodePort, EpmdError> {
    Epmd::new(host).port_please(name)
}

/// The names registered with EPMD on `host`, with their ports (as `net_adm:names/1`).
///
/// # Errors
///
/// As [`register`].
pub fn names(host: IpAddr) -> Result<Vec<(String, u16)>, EpmdError> {
    Epmd::new(host).names()
}

/// Our node's registration with EPMD: dropping it closes the connection, which
/// unregisters the name.
#[derive(Debug)]
pub struct EpmdRegistration {
    /// Held open, never read: EPMD keeps the name while it is open.
    stream: TcpStream,
    creation: u32,
}

impl EpmdRegistration {
    /// The creation EPMD assigned: it tells this incarnation of the node name from
    /// earlier ones, and goes into our pids, ports and references.
    pub fn creation(&self) -> u32 {
        self.creation
    }

    /// The connection to EPMD (to watch for EPMD going away).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

/// Where a node listens, as EPMD reports it (`PORT2_RESP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePort {
    /// The node's distribution port.
    pub port: u16,
    /// The highest distribution version it speaks.
    pub highest: u16,
    /// The lowest distribution version it speaks.
    pub lowest: u16,
}

/// Why an EPMD exchange failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EpmdError {
    /// No EPMD answered at the address (connection refused, no route, ...).
    Unreachable(io::Error),
    /// EPMD refused the registration: a node of that name is registered.
    NameTaken,
    /// EPMD knows no node of that name.
    NotRegistered,
    /// The name is empty, longer than 255 bytes, or contains `@`.
    InvalidName,
    /// EPMD did not answer in time.
    Timeout,
    /// EPMD's reply was not one we can read.
    Protocol(EpmdProtocolError),
    /// The connection failed after it was made.
    Io(io::Error),
}

/// What was wrong with an EPMD reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EpmdProtocolError {
    /// The reply started with this unexpected tag byte.
    UnexpectedTag(u8),
    /// EPMD closed the connection in the middle of a reply.
    Truncated,
    /// A `names` reply over 64 KiB.
    TooLong,
    /// A `names` line that is not `name NAME at port PORT`.
    BadNamesLine,
}

impl fmt::Display for EpmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EpmdError::Unreachable(e) => write!(f, "EPMD is unreachable: {e}"),
            EpmdError::NameTaken => f.write_str("the node name is already registered with EPMD"),
            EpmdError::NotRegistered => f.write_str("no node of that name is registered with EPMD"),
            EpmdError::InvalidName => f.write_str("invalid node name for EPMD"),
            EpmdError::Timeout => f.write_str("EPMD did not answer in time"),
            EpmdError::Protocol(e) => write!(f, "bad EPMD reply: {e}"),
            EpmdError::Io(e) => write!(f, "EPMD connection failed: {e}"),
        }
    }
}

impl std::error::Error for EpmdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EpmdError::Unreachable(e) | EpmdError::Io(e) => Some(e),
            EpmdError::Protocol(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for EpmdProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EpmdProtocolError::UnexpectedTag(t) => write!(f, "unexpected tag {t}"),
            EpmdProtocolError::Truncated => f.write_str("truncated reply"),
            EpmdProtocolError::TooLong => f.write_str("names reply too long"),
            EpmdProtocolError::BadNamesLine => f.write_str("malformed names line"),
        }
    }
}

impl std::error::Error for EpmdProtocolError {}

fn check_name(name: &str) -> Result<(), EpmdError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN || name.contains('@') {
        return Err(EpmdError::InvalidName);
    }
    Ok(())
}

fn push_str16(buf: &mut Vec<u8>, s: &str) {
    // check_name bounds the length to 255, so it fits in 16 bits.
    buf.extend_from_slice(&(s.len() as u16).to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// Sends `req` after its 2-byte length, in one write.
fn send_request(stream: &TcpStream, req: &[u8]) -> Result<(), EpmdError> {
    let len = u16::try_from(req.len()).map_err(|_| EpmdError::InvalidName)?;
    let mut wire = Vec::with_capacity(req.len() + 2);
    wire.extend_from_slice(&len.to_be_bytes());
    wire.extend_from_slice(req);
    stream.write_all(&wire).map_err(io_error)
}

/// `ALIVE2_X_RESP` or `ALIVE2_RESP`: the creation, or why not.
fn read_alive_reply(stream: &TcpStream) -> Result<u32, EpmdError> {
    let [tag, result] = read_array(stream)?;
    let creation = match tag {
        ALIVE2_X_RESP if result == 0 => u32::from_be_bytes(read_array(stream)?),
        ALIVE2_RESP if result == 0 => u32::from(u16::from_be_bytes(read_array(stream)?)),
        ALIVE2_X_RESP | ALIVE2_RESP => return Err(EpmdError::NameTaken),
        other => return Err(EpmdError::Protocol(EpmdProtocolError::UnexpectedTag(other))),
    };
    Ok(creation)
}

fn read_array<const N: usize>(stream: &TcpStream) -> Result<[u8; N], EpmdError> {
    let mut buf = [0u8; N];
    stream.read_exact(&mut buf).map_err(io_error)?;
    Ok(buf)
}

fn io_error(e: io::Error) -> EpmdError {
    match e.kind() {
        io::ErrorKind::TimedOut => EpmdError::Timeout,
        io::ErrorKind::UnexpectedEof => EpmdError::Protocol(EpmdProtocolError::Truncated),
        _ => EpmdError::Io(e),
    }
}

/// Parses `names` output: lines `name NAME at port PORT`.
fn parse_names(text: &[u8]) -> Result<Vec<(String, u16)>, EpmdError> {
    let bad = || EpmdError::Protocol(EpmdProtocolError::BadNamesLine);
    let text = std::str::from_utf8(text).map_err(|_| bad())?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let rest = line.strip_prefix("name ").ok_or_else(bad)?;
            let (name, port) = rest.rsplit_once(" at port ").ok_or_else(bad)?;
            Ok((name.to_owned(), port.trim().parse().map_err(|_| bad())?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lines_parse() {
        let text = b"name t1 at port 4000\nname rust_x at port 39999\n";
        assert_eq!(
            parse_names(text).unwrap(),
            vec![("t1".to_owned(), 4000), ("rust_x".to_owned(), 39999)]
        );
        assert!(parse_names(b"nonsense\n").is_err());
        assert!(parse_names(b"name a at port 99999\n").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("").is_err());
        assert!(check_name("a@b").is_err());
        assert!(check_name(&"a".repeat(256)).is_err());
        assert!(check_name("rust").is_ok());
    }
}
