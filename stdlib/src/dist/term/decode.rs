//! The decoder: one `131`-prefixed term off untrusted bytes.
//!
//! The walk is a loop over an explicit stack of open compound terms
//! ([`Frame`]), never native recursion:
//!
//! 1. Read one tag. A leaf (atom, number, binary, pid, ...) becomes a value; a
//!    compound with elements checks its count against the bytes left, pushes a
//!    frame (refused past [`Limits::max_depth`]) and goes back to 1.
//! 2. Hand the value to the innermost frame. A frame that is complete becomes a
//!    value in turn, is popped and handed to the frame below; one still waiting
//!    goes back to 1.
//! 3. A value with no frame below is the term: return it with the bytes read.
//!
//! Space reserved for a frame's elements is capped at [`PREALLOC_CAP`]: counts
//! are checked against the bytes left, but every open frame could claim them
//! all, and nesting would multiply the claim.

use std::collections::HashSet;
use std::fmt;

use beamlet_runtime::remote;

use super::tags::*;
use super::{Atom, ErlPort, ErlRef, Limits, LocalNode, Pid, Term};

/// The most elements reserved up front for a list, tuple or map; beyond it the
/// vector grows with the elements actually decoded. Arbitrary: enough for
/// typical messages to decode without regrowing.
const PREALLOC_CAP: usize = 256;

/// Why bytes are not a term: the cause, and the byte offset where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    position: usize,
    cause: DecodeCause,
}

/// What was wrong with the bytes (see [`DecodeError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeCause {
    /// The bytes end inside the term.
    UnexpectedEnd,
    /// The term runs past [`Limits::max_bytes`].
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The first byte is not the version byte 131.
    BadVersion(u8),
    /// A tag this decoder does not know (nor OTP 25 sends).
    UnknownTag(u8),
    /// ATOM_CACHE_REF: we never advertise the atom cache, so a peer must not use it.
    AtomCacheRef,
    /// A compressed term (tag 80): refused, a zip bomb in waiting; distribution
    /// never compresses on its own.
    Compressed,
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// An atom longer than [`Limits::max_atom_len`] characters.
    AtomTooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// A UTF-8 atom whose bytes are not UTF-8.
    InvalidUtf8Atom,
    /// A tag where an atom must be (a pid's node, an export's module).
    NotAnAtom(u8),
    /// A FLOAT_EXT whose text is not a number.
    BadFloat,
    /// A NaN or infinite float, which Erlang does not have.
    NonFiniteFloat,
    /// A big integer of more than [`Limits::max_big_bytes`] bytes.
    BigTooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// A big integer's sign byte that is neither 0 nor 1.
    BadBigSign(u8),
    /// A BIT_BINARY_EXT whose bit count does not fit its length.
    BadBitBinary {
        /// The bit count.
        bits: u8,
        /// The byte length.
        len: u32,
    },
    /// A count of elements or bytes that the bytes left cannot hold.
    CountExceedsInput {
        /// The count read.
        count: u64,
        /// The bytes left after it.
        left: usize,
    },
    /// A reference of 0 or more than 5 words.
    BadRefLen(u16),
    /// A map with the same key twice.
    DuplicateMapKey,
    /// A NEW_FUN_EXT whose size cannot hold its own size field.
    BadFunSize(u32),
    /// An EXPORT_EXT arity that is not a SMALL_INTEGER_EXT.
    BadExportArity,
    /// A pid of a node the runtime's node table has no room for.
    NodeTableFull,
}

impl DecodeError {
    /// The byte offset (from the `131`) where the problem was seen.
    ///
    /// ```
    /// use beamlet::otp::dist::term::{decode, Atom, DecodeCause, Limits, LocalNode};
    /// let local = LocalNode { name: Atom::new("a@h"), creation: 1, runtime: 0 };
    /// let err = decode(&[131, 104, 1, 200], &local, &Limits::default()).unwrap_err();
    /// assert_eq!((err.position(), err.cause()), (3, &DecodeCause::UnknownTag(200)));
    /// ```
    pub fn position(&self) -> usize {
        self.position
    }

    /// What was wrong.
    pub fn cause(&self) -> &DecodeCause {
        &self.cause
    }
}

impl fmt::Display for DecodeCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeCause::*;
        match self {
            UnexpectedEnd => f.write_str("the bytes end inside the term"),
            TooLarge { max } => write!(f, "the term is longer than {max} bytes"),
            BadVersion(v) => write!(f, "version byte {v}, not 131"),
            UnknownTag(t) => write!(f, "unknown tag {t}"),
            AtomCacheRef => f.write_str("atom cache reference, but no atom cache was agreed"),
            Compressed => f.write_str("compressed term refused"),
            TooDeep { max } => write!(f, "nested deeper than {max}"),
            AtomTooLong { chars } => write!(f, "atom of {chars} characters"),
            InvalidUtf8Atom => f.write_str("UTF-8 atom with invalid UTF-8"),
            NotAnAtom(t) => write!(f, "tag {t} where an atom must be"),
            BadFloat => f.write_str("FLOAT_EXT text is not a number"),
            NonFiniteFloat => f.write_str("float is NaN or infinite"),
            BigTooLarge { len } => write!(f, "big integer of {len} bytes"),
            BadBigSign(s) => write!(f, "big integer sign byte {s}"),
            BadBitBinary { bits, len } => write!(f, "bitstring of {len} bytes with {bits} bits"),
            CountExceedsInput { count, left } => {
                write!(f, "count {count} but only {left} bytes left")
            }
            BadRefLen(n) => write!(f, "reference of {n} words"),
            DuplicateMapKey => f.write_str("map with a duplicate key"),
            BadFunSize(n) => write!(f, "fun of size {n}"),
            BadExportArity => f.write_str("export arity is not a small integer"),
            NodeTableFull => f.write_str("pid of a node the node table has no room for"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad external term at byte {}: {}",
            self.position, self.cause
        )
    }
}

impl std::error::Error for DecodeError {}

/// Reads one term, `131` first, from the start of `bytes`; returns it and the
/// number of bytes it took (what follows, such as a distribution message's second
/// term, is left alone). Pids of `local` come back as local pids.
///
/// # Errors
///
/// See [`DecodeCause`]. Nothing in `bytes` can make it panic, allocate more than
/// a small multiple of the bytes read, or recurse.
///
/// # Examples
///
/// ```
/// use beamlet::otp::dist::term::{decode, Atom, Limits, LocalNode, Term};
/// let local = LocalNode { name: Atom::new("a@h"), creation: 1, runtime: 0 };
/// let bytes = [131, 104, 2, 119, 2, b'o', b'k', 97, 1, 131, 106];
/// let (term, used) = decode(&bytes, &local, &Limits::default()).unwrap();
/// assert_eq!(term, Term::tuple([Term::atom("ok"), Term::Int(1)]));
/// assert_eq!(used, 9);
/// assert_eq!(decode(&bytes[used..], &local, &Limits::default()).unwrap(), (Term::nil(), 2));
/// ```
pub fn decode(
    bytes: &[u8],
    local: &LocalNode,
    limits: &Limits,
) -> Result<(Term, usize), DecodeError> {
    let window = &bytes[..bytes.len().min(limits.max_bytes)];
    let mut reader = Reader {
        bytes: window,
        pos: 0,
        truncated: window.len() < bytes.len(),
        max_bytes: limits.max_bytes,
        local,
        limits,
    };
    let version = reader.u8()?;
    if version != VERSION {
        return Err(reader.error_at(0, DecodeCause::BadVersion(version)));
    }
    let term = reader.term()?;
    Ok((term, reader.pos))
}

/// An open compound term waiting for its elements.
enum Frame {
    /// A tuple with `left` elements still to come.
    Tuple { items: Vec<Term>, left: usize },
    /// A list with `left` elements still to come, then its tail.
    List { items: Vec<Term>, left: usize },
    /// A map with `left` pairs still to come; `key` is a pair's first half.
    Map {
        pairs: Vec<(Term, Term)>,
        key: Option<Term>,
        left: usize,
        start: usize,
    },
}

/// What handing a value to a frame did.
enum Accepted {
    /// The frame waits for more.
    Pending,
    /// The frame is complete: this is its term.
    Done(Term),
}

impl Frame {
    fn accept(&mut self, value: Term) -> Result<Accepted, DecodeCause> {
        match self {
            Frame::Tuple { items, left } => {
                items.push(value);
                *left -= 1;
                Ok(if *left == 0 {
                    Accepted::Done(Term::Tuple(std::mem::take(items)))
                } else {
                    Accepted::Pending
                })
            }
            Frame::List { items, left } if *left > 0 => {
                items.push(value);
                *left -= 1;
                Ok(Accepted::Pending)
            }
            Frame::List { items, .. } => {
                Ok(Accepted::Done(Term::improper(std::mem::take(items), value)))
            }
            Frame::Map {
                key: key @ None, ..
            } => {
                *key = Some(value);
                Ok(Accepted::Pending)
            }
            Frame::Map {
                pairs, key, left, ..
            } => {
                if let Some(k) = key.take() {
                    pairs.push((k, value));
                }
                *left -= 1;
                if *left > 0 {
                    return Ok(Accepted::Pending);
                }
                if has_duplicate_key(pairs) {
                    return Err(DecodeCause::DuplicateMapKey);
                }
                Ok(Accepted::Done(Term::Map(std::mem::take(pairs))))
            }
        }
    }

    /// Where a complete frame's problem is reported: a map's tag.
    fn start(&self) -> Option<usize> {
        match self {
            Frame::Map { start, .. } => Some(*start),
            _ => None,
        }
    }
}

/// Pairwise for small maps, a hash set beyond (maps of untrusted size).
fn has_duplicate_key(pairs: &[(Term, Term)]) -> bool {
    if pairs.len() <= 16 {
        return pairs
            .iter()
            .enumerate()
            .any(|(i, (k, _))| pairs[..i].iter().any(|(other, _)| other == k));
    }
    let mut seen = HashSet::with_capacity(pairs.len());
    !pairs.iter().all(|(k, _)| seen.insert(k))
}

/// The bytes being decoded and where the reading is.
struct Reader<'a> {
    /// The input, cut at `max_bytes`.
    bytes: &'a [u8],
    pos: usize,
    /// Whether the input went on past the cut: running out is then `TooLarge`.
    truncated: bool,
    max_bytes: usize,
    local: &'a LocalNode,
    limits: &'a Limits,
}

/// What reading one tag gave.
enum Item {
    Value(Term),
    Open(Frame),
}

impl<'a> Reader<'a> {
    fn error_at(&self, position: usize, cause: DecodeCause) -> DecodeError {
        DecodeError { position, cause }
    }

    fn end_error(&self) -> DecodeError {
        let cause = if self.truncated {
            DecodeCause::TooLarge {
                max: self.max_bytes,
            }
        } else {
            DecodeCause::UnexpectedEnd
        };
        self.error_at(self.pos, cause)
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.left() {
            return Err(self.end_error());
        }
        let bytes = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Checks that `count` items of at least `each` bytes fit in what is left,
    /// before anything is allocated for them.
    fn check_count(&self, count: u64, each: u64, at: usize) -> Result<usize, DecodeError> {
        let left = self.left();
        match count.checked_mul(each) {
            Some(need) if need <= left as u64 => Ok(count as usize),
            _ if self.truncated => Err(self.error_at(
                at,
                DecodeCause::TooLarge {
                    max: self.max_bytes,
                },
            )),
            _ => Err(self.error_at(at, DecodeCause::CountExceedsInput { count, left })),
        }
    }

    /// The walk of the module header: steps 1 to 3.
    fn term(&mut self) -> Result<Term, DecodeError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let start = self.pos;
            let mut value = match self.item()? {
                Item::Value(v) => v,
                Item::Open(frame) => {
                    if stack.len() >= self.limits.max_depth {
                        let max = self.limits.max_depth;
                        return Err(self.error_at(start, DecodeCause::TooDeep { max }));
                    }
                    stack.push(frame);
                    continue;
                }
            };
            loop {
                let Some(frame) = stack.last_mut() else {
                    return Ok(value);
                };
                let at = frame.start().unwrap_or(start);
                match frame.accept(value).map_err(|c| self.error_at(at, c))? {
                    Accepted::Pending => break,
                    Accepted::Done(done) => {
                        stack.pop();
                        value = done;
                    }
                }
            }
        }
    }

    /// One tag and what follows it, up to the first element of a compound.
    fn item(&mut self) -> Result<Item, DecodeError> {
        let start = self.pos;
        let tag = self.u8()?;
        let value = match tag {
            SMALL_TUPLE_EXT => {
                let n = u64::from(self.u8()?);
                return self.open_tuple(n, start);
            }
            LARGE_TUPLE_EXT => {
                let n = u64::from(self.u32()?);
                return self.open_tuple(n, start);
            }
            LIST_EXT => {
                // n elements and the tail, each at least a byte.
                let n = u64::from(self.u32()?);
                let n = self.check_count(n + 1, 1, start)? - 1;
                let items = Vec::with_capacity(n.min(PREALLOC_CAP));
                return Ok(Item::Open(Frame::List { items, left: n }));
            }
            MAP_EXT => {
                let n = u64::from(self.u32()?);
                let n = self.check_count(n, 2, start)?;
                if n == 0 {
                    return Ok(Item::Value(Term::Map(Vec::new())));
                }
                let pairs = Vec::with_capacity(n.min(PREALLOC_CAP));
                return Ok(Item::Open(Frame::Map {
                    pairs,
                    key: None,
                    left: n,
                    start,
                }));
            }
            NIL_EXT => Term::nil(),
            STRING_EXT => {
                let n = usize::from(self.u16()?);
                let bytes = self.take(n)?;
                Term::List(bytes.iter().map(|&b| Term::Int(i64::from(b))).collect())
            }
            _ => self.leaf(tag, start)?,
        };
        Ok(Item::Value(value))
    }

    fn open_tuple(&mut self, n: u64, start: usize) -> Result<Item, DecodeError> {
        let n = self.check_count(n, 1, start)?;
        if n == 0 {
            return Ok(Item::Value(Term::Tuple(Vec::new())));
        }
        let items = Vec::with_capacity(n.min(PREALLOC_CAP));
        Ok(Item::Open(Frame::Tuple { items, left: n }))
    }

    /// A term with no sub-terms, its tag already read.
    fn leaf(&mut self, tag: u8, start: usize) -> Result<Term, DecodeError> {
        Ok(match tag {
            SMALL_INTEGER_EXT => Term::Int(i64::from(self.u8()?)),
            INTEGER_EXT => Term::Int(i64::from(self.u32()? as i32)),
            SMALL_BIG_EXT => {
                let n = usize::from(self.u8()?);
                self.big(n, start)?
            }
            LARGE_BIG_EXT => {
                let n = self.u32()?;
                let n = self.check_count(u64::from(n), 1, start)?;
                self.big(n, start)?
            }
            NEW_FLOAT_EXT => {
                let bits = self.u64()?;
                self.float(f64::from_bits(bits), start)?
            }
            FLOAT_EXT => self.float_text(start)?,
            ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT => {
                Term::Atom(self.atom_body(tag, start)?)
            }
            BINARY_EXT => {
                let n = self.u32()?;
                let n = self.check_count(u64::from(n), 1, start)?;
                Term::Binary(self.take(n)?.to_vec())
            }
            BIT_BINARY_EXT => self.bit_binary(start)?,
            PID_EXT | NEW_PID_EXT => self.pid(tag, start)?,
            REFERENCE_EXT | NEW_REFERENCE_EXT | NEWER_REFERENCE_EXT => {
                self.reference(tag, start)?
            }
            PORT_EXT | NEW_PORT_EXT | V4_PORT_EXT => self.port(tag)?,
            EXPORT_EXT => self.export(start)?,
            NEW_FUN_EXT => self.fun(start)?,
            ATOM_CACHE_REF => return Err(self.error_at(start, DecodeCause::AtomCacheRef)),
            COMPRESSED => return Err(self.error_at(start, DecodeCause::Compressed)),
            other => return Err(self.error_at(start, DecodeCause::UnknownTag(other))),
        })
    }

    fn big(&mut self, n: usize, start: usize) -> Result<Term, DecodeError> {
        if n > self.limits.max_big_bytes {
            return Err(self.error_at(start, DecodeCause::BigTooLarge { len: n }));
        }
        let negative = match self.u8()? {
            0 => false,
            1 => true,
            sign => return Err(self.error_at(start, DecodeCause::BadBigSign(sign))),
        };
        Ok(Term::big_int(negative, self.take(n)?.to_vec()))
    }

    fn float(&self, v: f64, start: usize) -> Result<Term, DecodeError> {
        if !v.is_finite() {
            return Err(self.error_at(start, DecodeCause::NonFiniteFloat));
        }
        Ok(Term::Float(v))
    }

    /// FLOAT_EXT: 31 bytes of `%.20e` text, padded with NULs.
    fn float_text(&mut self, start: usize) -> Result<Term, DecodeError> {
        let raw = self.take(31)?;
        let text = raw.split(|&b| b == 0).next().unwrap_or(&[]);
        let parsed = std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok());
        match parsed {
            Some(v) => self.float(v, start),
            None => Err(self.error_at(start, DecodeCause::BadFloat)),
        }
    }

    /// An atom where only an atom may be (a node name, an export's parts).
    fn atom(&mut self) -> Result<Atom, DecodeError> {
        let start = self.pos;
        match self.u8()? {
            tag @ (ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT) => {
                self.atom_body(tag, start)
            }
            ATOM_CACHE_REF => Err(self.error_at(start, DecodeCause::AtomCacheRef)),
            other => Err(self.error_at(start, DecodeCause::NotAnAtom(other))),
        }
    }

    /// The length and name after an atom tag; the old tags are Latin-1.
    fn atom_body(&mut self, tag: u8, start: usize) -> Result<Atom, DecodeError> {
        let len = match tag {
            SMALL_ATOM_EXT | SMALL_ATOM_UTF8_EXT => usize::from(self.u8()?),
            _ => usize::from(self.u16()?),
        };
        let bytes = self.take(len)?;
        let latin1: String;
        let name: &str = if matches!(tag, ATOM_EXT | SMALL_ATOM_EXT) {
            latin1 = bytes.iter().map(|&b| char::from(b)).collect();
            &latin1
        } else {
            std::str::from_utf8(bytes)
                .map_err(|_| self.error_at(start, DecodeCause::InvalidUtf8Atom))?
        };
        let chars = name.chars().count();
        if chars > self.limits.max_atom_len {
            return Err(self.error_at(start, DecodeCause::AtomTooLong { chars }));
        }
        Ok(super::atom::recent(name))
    }

    /// Len == 0 exactly when bits == 0 (as erts checks); 8 bits is a binary.
    fn bit_binary(&mut self, start: usize) -> Result<Term, DecodeError> {
        let len = self.u32()?;
        let bits = self.u8()?;
        if (bits == 0) != (len == 0) || bits > 8 {
            return Err(self.error_at(start, DecodeCause::BadBitBinary { bits, len }));
        }
        let n = self.check_count(u64::from(len), 1, start)?;
        let mut bytes = self.take(n)?.to_vec();
        if bits == 0 || bits == 8 {
            return Ok(Term::Binary(bytes));
        }
        if let Some(last) = bytes.last_mut() {
            *last &= 0xffu8 << (8 - bits);
        }
        Ok(Term::BitBinary { bytes, bits })
    }

    fn pid(&mut self, tag: u8, start: usize) -> Result<Term, DecodeError> {
        let node = self.atom()?;
        let id = self.u32()?;
        let serial = self.u32()?;
        let creation = match tag {
            PID_EXT => u32::from(self.u8()?),
            _ => self.u32()?,
        };
        if node == self.local.name && creation == self.local.creation {
            return Ok(Term::Pid(Pid::from_parts(self.local.runtime, id, serial)));
        }
        match remote::pid(node.as_str(), creation, id, serial) {
            Ok(pid) => Ok(Term::Pid(pid)),
            Err(remote::NodeTableFull) => Err(self.error_at(start, DecodeCause::NodeTableFull)),
        }
    }

    fn reference(&mut self, tag: u8, start: usize) -> Result<Term, DecodeError> {
        if tag == REFERENCE_EXT {
            let node = self.atom()?;
            let id = self.u32()?;
            let creation = u32::from(self.u8()?);
            let ids = vec![id];
            return Ok(Term::Ref(ErlRef {
                node,
                creation,
                ids,
            }));
        }
        let len = self.u16()?;
        if !(1..=5).contains(&len) {
            return Err(self.error_at(start, DecodeCause::BadRefLen(len)));
        }
        let node = self.atom()?;
        let creation = match tag {
            NEW_REFERENCE_EXT => u32::from(self.u8()?),
            _ => self.u32()?,
        };
        let ids = (0..len).map(|_| self.u32()).collect::<Result<_, _>>()?;
        Ok(Term::Ref(ErlRef {
            node,
            creation,
            ids,
        }))
    }

    fn port(&mut self, tag: u8) -> Result<Term, DecodeError> {
        let node = self.atom()?;
        let (id, creation) = match tag {
            PORT_EXT => (u64::from(self.u32()?), u32::from(self.u8()?)),
            NEW_PORT_EXT => (u64::from(self.u32()?), self.u32()?),
            _ => (self.u64()?, self.u32()?),
        };
        Ok(Term::Port(ErlPort { node, id, creation }))
    }

    fn export(&mut self, start: usize) -> Result<Term, DecodeError> {
        let module = self.atom()?;
        let function = self.atom()?;
        if self.u8()? != SMALL_INTEGER_EXT {
            return Err(self.error_at(start, DecodeCause::BadExportArity));
        }
        let arity = self.u8()?;
        Ok(Term::Export {
            module,
            function,
            arity,
        })
    }

    /// NEW_FUN_EXT, kept whole: its size counts itself but not the tag.
    fn fun(&mut self, start: usize) -> Result<Term, DecodeError> {
        let size = self.u32()?;
        let Some(rest) = size.checked_sub(4) else {
            return Err(self.error_at(start, DecodeCause::BadFunSize(size)));
        };
        let rest = self.check_count(u64::from(rest), 1, start)?;
        self.take(rest)?;
        Ok(Term::Fun(self.bytes[start..self.pos].to_vec()))
    }
}
