//! The encoder: `131`, then the term with the tags OTP 25 writes.
//!
//! Terms are walked with an explicit stack of pending terms, so a deep term
//! built by hand cannot overflow a process's stack. For a list, the tail goes on
//! the stack first, then the elements in reverse, so they pop in wire order.

use std::fmt;

use super::tags::*;
use super::{Atom, ErlPort, ErlRef, LocalNode, Pid, Term};

/// Why a term could not be encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum EncodeError {
    /// A pid of another runtime in this OS process: it has no node name to travel
    /// under.
    ForeignPid(Pid),
    /// An atom of more than 255 characters, which Erlang refuses.
    AtomTooLong(Atom),
    /// NaN or an infinity: Erlang has no such float.
    NonFiniteFloat(f64),
    /// A bitstring with `bits` not in 1 to 8, or no bytes.
    BadBitBinary {
        /// The bit count given.
        bits: u8,
        /// The number of bytes given.
        len: usize,
    },
    /// A [`Term::Fun`] whose bytes are not a NEW_FUN_EXT (tag 112, then its size).
    BadFun,
    /// A length beyond the format's 32 bits (a binary, list, tuple or map of 4 Gi
    /// elements or more), or a reference of more than 65535 words.
    TooLong {
        /// What was too long ("binary", "list", ...).
        what: &'static str,
        /// Its length.
        len: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::ForeignPid(pid) => {
                write!(f, "pid {pid} belongs to another runtime, not this node")
            }
            EncodeError::AtomTooLong(a) => {
                write!(
                    f,
                    "atom of {} characters (at most 255)",
                    a.as_str().chars().count()
                )
            }
            EncodeError::NonFiniteFloat(v) => write!(f, "float {v} is not finite"),
            EncodeError::BadBitBinary { bits, len } => {
                write!(f, "bitstring of {len} bytes with {bits} bits in the last")
            }
            EncodeError::BadFun => f.write_str("fun bytes are not a NEW_FUN_EXT encoding"),
            EncodeError::TooLong { what, len } => write!(f, "{what} of length {len} is too long"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Appends `131` and the encoding of `term` to `out`; pids of `local`'s runtime
/// are written as `local`'s.
///
/// On error, `out` holds a partial encoding past its original length; truncate
/// it back if it is reused.
///
/// # Errors
///
/// See [`EncodeError`].
///
/// # Examples
///
/// ```
/// use beamlet::otp::dist::term::{encode, Atom, LocalNode, Term};
/// let local = LocalNode { name: Atom::new("a@h"), creation: 1, runtime: 0 };
/// let mut out = Vec::new();
/// encode(&Term::tuple([Term::atom("ok"), Term::Int(1)]), &local, &mut out).unwrap();
/// assert_eq!(out, [131, 104, 2, 119, 2, b'o', b'k', 97, 1]);
/// ```
pub fn encode(term: &Term, local: &LocalNode, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.push(VERSION);
    let nil = Term::nil();
    let mut pending: Vec<&Term> = vec![term];
    while let Some(term) = pending.pop() {
        match term {
            Term::List(items) if !items.is_empty() => {
                if !write_string_ext(items, out) {
                    write_len(out, LIST_EXT, items.len(), "list")?;
                    pending.push(&nil);
                    pending.extend(items.iter().rev());
                }
            }
            Term::ImproperList(items, tail) => {
                write_len(out, LIST_EXT, items.len(), "list")?;
                pending.push(tail);
                pending.extend(items.iter().rev());
            }
            Term::Tuple(items) => {
                match u8::try_from(items.len()) {
                    Ok(n) => out.extend([SMALL_TUPLE_EXT, n]),
                    Err(_) => write_len(out, LARGE_TUPLE_EXT, items.len(), "tuple")?,
                }
                pending.extend(items.iter().rev());
            }
            Term::Map(pairs) => {
                write_len(out, MAP_EXT, pairs.len(), "map")?;
                for (k, v) in pairs.iter().rev() {
                    pending.push(v);
                    pending.push(k);
                }
            }
            leaf => write_leaf(leaf, local, out)?,
        }
    }
    Ok(())
}

/// A list of 1 to 65535 integers in 0..=255 as STRING_EXT, as OTP writes it;
/// `false` (nothing written) for any other list.
fn write_string_ext(items: &[Term], out: &mut Vec<u8>) -> bool {
    let Ok(len) = u16::try_from(items.len()) else {
        return false;
    };
    let bytes = || {
        items
            .iter()
            .map(|t| t.as_int().and_then(|v| u8::try_from(v).ok()))
    };
    if !bytes().all(|b| b.is_some()) {
        return false;
    }
    out.push(STRING_EXT);
    out.extend(len.to_be_bytes());
    out.extend(bytes().flatten());
    true
}

fn write_len(
    out: &mut Vec<u8>,
    tag: u8,
    len: usize,
    what: &'static str,
) -> Result<(), EncodeError> {
    let n = u32::try_from(len).map_err(|_| EncodeError::TooLong { what, len })?;
    out.push(tag);
    out.extend(n.to_be_bytes());
    Ok(())
}

/// A term with no sub-terms (nil among them).
fn write_leaf(term: &Term, local: &LocalNode, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match term {
        Term::Atom(a) => write_atom(out, a)?,
        Term::Int(v) => write_int(out, *v),
        Term::BigInt(b) => write_big(out, b.is_negative(), b.magnitude())?,
        Term::Float(v) if v.is_finite() => {
            out.push(NEW_FLOAT_EXT);
            out.extend(v.to_bits().to_be_bytes());
        }
        Term::Float(v) => return Err(EncodeError::NonFiniteFloat(*v)),
        Term::Binary(bytes) => {
            write_len(out, BINARY_EXT, bytes.len(), "binary")?;
            out.extend_from_slice(bytes);
        }
        Term::BitBinary { bytes, bits } => write_bits(out, bytes, *bits)?,
        Term::List(_) => out.push(NIL_EXT),
        Term::Pid(pid) => write_pid(out, *pid, local)?,
        Term::Ref(r) => write_ref(out, r)?,
        Term::Port(p) => write_port(out, p)?,
        Term::Export {
            module,
            function,
            arity,
        } => {
            out.push(EXPORT_EXT);
            write_atom(out, module)?;
            write_atom(out, function)?;
            out.extend([SMALL_INTEGER_EXT, *arity]);
        }
        Term::Fun(raw) => write_fun(out, raw)?,
        Term::ImproperList(..) | Term::Tuple(_) | Term::Map(_) => {
            unreachable!("compound terms are walked by `encode`")
        }
    }
    Ok(())
}

fn write_atom(out: &mut Vec<u8>, atom: &Atom) -> Result<(), EncodeError> {
    let name = atom.as_str();
    if name.chars().count() > 255 {
        return Err(EncodeError::AtomTooLong(atom.clone()));
    }
    match u8::try_from(name.len()) {
        Ok(n) => out.extend([SMALL_ATOM_UTF8_EXT, n]),
        Err(_) => {
            // At most 255 characters of at most 4 bytes: fits u16.
            out.push(ATOM_UTF8_EXT);
            out.extend((name.len() as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

fn write_int(out: &mut Vec<u8>, v: i64) {
    if let Ok(small) = u8::try_from(v) {
        out.extend([SMALL_INTEGER_EXT, small]);
    } else if let Ok(int) = i32::try_from(v) {
        out.push(INTEGER_EXT);
        out.extend(int.to_be_bytes());
    } else {
        let magnitude = v.unsigned_abs().to_le_bytes();
        let used = 8 - magnitude.iter().rev().take_while(|&&b| b == 0).count();
        // A value past i32's range has a nonzero magnitude of 4 to 8 bytes.
        out.extend([SMALL_BIG_EXT, used as u8, u8::from(v < 0)]);
        out.extend_from_slice(&magnitude[..used]);
    }
}

fn write_big(out: &mut Vec<u8>, negative: bool, magnitude: &[u8]) -> Result<(), EncodeError> {
    match u8::try_from(magnitude.len()) {
        Ok(n) => out.extend([SMALL_BIG_EXT, n]),
        Err(_) => write_len(out, LARGE_BIG_EXT, magnitude.len(), "big integer")?,
    }
    out.push(u8::from(negative));
    out.extend_from_slice(magnitude);
    Ok(())
}

/// 8 bits in the last byte is a whole binary; the unused low bits are written
/// as zero, as the BEAM keeps them.
fn write_bits(out: &mut Vec<u8>, bytes: &[u8], bits: u8) -> Result<(), EncodeError> {
    if bits == 8 && !bytes.is_empty() {
        write_len(out, BINARY_EXT, bytes.len(), "binary")?;
        out.extend_from_slice(bytes);
        return Ok(());
    }
    let Some((last, whole)) = bytes.split_last() else {
        return Err(EncodeError::BadBitBinary { bits, len: 0 });
    };
    if !(1..8).contains(&bits) {
        return Err(EncodeError::BadBitBinary {
            bits,
            len: bytes.len(),
        });
    }
    write_len(out, BIT_BINARY_EXT, bytes.len(), "bitstring")?;
    out.push(bits);
    out.extend_from_slice(whole);
    out.push(last & (0xffu8 << (8 - bits)));
    Ok(())
}

fn write_pid(out: &mut Vec<u8>, pid: Pid, local: &LocalNode) -> Result<(), EncodeError> {
    out.push(NEW_PID_EXT);
    if pid.is_local() {
        if pid.runtime_id() != local.runtime {
            return Err(EncodeError::ForeignPid(pid));
        }
        write_atom(out, &local.name)?;
        out.extend(pid.index().to_be_bytes());
        out.extend(pid.serial().to_be_bytes());
        out.extend(local.creation.to_be_bytes());
        return Ok(());
    }
    let parts = beamlet_runtime::remote::parts(pid).ok_or(EncodeError::ForeignPid(pid))?;
    write_atom(out, &Atom::from(parts.node))?;
    out.extend(parts.id.to_be_bytes());
    out.extend(parts.serial.to_be_bytes());
    out.extend(parts.creation.to_be_bytes());
    Ok(())
}

fn write_ref(out: &mut Vec<u8>, r: &ErlRef) -> Result<(), EncodeError> {
    let len = u16::try_from(r.ids.len()).map_err(|_| EncodeError::TooLong {
        what: "reference",
        len: r.ids.len(),
    })?;
    out.push(NEWER_REFERENCE_EXT);
    out.extend(len.to_be_bytes());
    write_atom(out, &r.node)?;
    out.extend(r.creation.to_be_bytes());
    r.ids.iter().for_each(|id| out.extend(id.to_be_bytes()));
    Ok(())
}

fn write_port(out: &mut Vec<u8>, p: &ErlPort) -> Result<(), EncodeError> {
    out.push(V4_PORT_EXT);
    write_atom(out, &p.node)?;
    out.extend(p.id.to_be_bytes());
    out.extend(p.creation.to_be_bytes());
    Ok(())
}

/// The fun's own bytes, checked to be a NEW_FUN_EXT whose size field (which
/// counts itself, not the tag) matches.
fn write_fun(out: &mut Vec<u8>, raw: &[u8]) -> Result<(), EncodeError> {
    match raw {
        [NEW_FUN_EXT, a, b, c, d, ..]
            if u32::from_be_bytes([*a, *b, *c, *d]) as usize == raw.len() - 1 =>
        {
            out.extend_from_slice(raw);
            Ok(())
        }
        _ => Err(EncodeError::BadFun),
    }
}
