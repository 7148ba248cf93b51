//! Erlang terms and the external term format (ETF), the bytes of every
//! distribution message.
//!
//! - [`Term`]: an Erlang value as a Rust enum; [`Atom`], [`BigInt`], [`ErlRef`],
//!   [`ErlPort`] for the parts. Its `PartialEq` is Erlang's exact equality
//!   (`=:=`), its `Display` Erlang syntax.
//! - [`encode`] / [`decode`]: the codec, `131` then the term, with the tags
//!   OTP 25 writes; every tag it can send is read.
//! - [`ToTerm`] / [`FromTerm`]: Rust values to and from terms; [`serde`]: the
//!   same for any `Serialize` / `Deserialize` type (derived structs and enums).
//!
//! # Why our own codec
//!
//! The `eetf` crate was the obvious choice and was set aside: it allocates from
//! length fields read off the wire (`Vec::with_capacity(count)` with a `u32`
//! count: a 10-byte frame can ask for tens of GiB and abort the OS process), it
//! recurses without a depth bound (a beamlet process runs on a small stack), and
//! its term has no place for beamlet's local pids, so every message would be
//! converted twice.
//!
//! # Decoding untrusted bytes
//!
//! [`decode`] is written for bytes from the network:
//!
//! 1. A count or size is checked against the bytes left before anything is
//!    allocated (each element takes at least one byte), and the space reserved
//!    up front is capped, so memory grows only with bytes actually read.
//! 2. Nesting is walked with an explicit work stack, not native recursion, and
//!    bounded by [`Limits::max_depth`]; atoms, big integers and the whole term
//!    are bounded by the other [`Limits`].
//! 3. Anything malformed is a [`DecodeError`] with its byte position; nothing
//!    panics.
//!
//! # Pids
//!
//! A pid of the local node ([`LocalNode`]) travels as NEW_PID_EXT with the
//! node's name and creation and comes back as the same local [`Pid`]; a pid of
//! another node is a remote pid of the runtime (`beamlet::remote`).

mod atom;
mod bigint;
mod convert;
mod decode;
mod display;
mod encode;
mod equality;
pub mod serde;
mod tags;
#[cfg(test)]
mod tests;

pub use atom::Atom;
pub use beamlet_runtime::Pid;
pub use bigint::BigInt;
pub use convert::{Binary, FromTerm, FromTermError, ToTerm};
pub use decode::{DecodeCause, DecodeError, decode};
pub use encode::{EncodeError, encode};

/// An Erlang term.
///
/// Normal forms the decoder produces and the constructors keep (a term built by
/// hand outside them may compare unequal to its decoded copy):
/// an integer that fits `i64` is [`Int`](Term::Int); nil is the empty
/// [`List`](Term::List); an [`ImproperList`](Term::ImproperList) has at least one
/// element and a tail that is not a list; a [`BitBinary`](Term::BitBinary) has
/// 1 to 7 bits in its last byte, the unused low bits zero.
///
/// Encoding, decoding, `Display` and `PartialEq` walk terms with explicit stacks;
/// `Clone` and `Drop` recurse (a decoded term is at most [`Limits::max_depth`]
/// deep; dropping the deepest fits a 64 KiB stack, cloning it may not).
///
/// # Examples
///
/// ```
/// use beamlet::otp::dist::term::Term;
/// let t = Term::tuple([Term::atom("ok"), Term::binary("hi"), Term::list([Term::Int(1), Term::Int(2)])]);
/// assert_eq!(t.to_string(), r#"{ok,<<"hi">>,[1,2]}"#);
/// assert_eq!(t.as_tuple().unwrap()[0].as_atom().unwrap(), "ok");
/// assert_ne!(Term::Int(1), Term::Float(1.0)); // =:=, not ==
/// ```
#[derive(Clone)]
pub enum Term {
    /// An atom.
    Atom(Atom),
    /// An integer that fits `i64`.
    Int(i64),
    /// An integer that does not fit `i64`.
    BigInt(BigInt),
    /// A float (always finite: Erlang has no NaN or infinity).
    Float(f64),
    /// A binary (a whole number of bytes).
    Binary(Vec<u8>),
    /// A bitstring whose last byte holds only `bits` (1 to 7) bits, the high ones.
    BitBinary {
        /// The bytes, the last one partial.
        bytes: Vec<u8>,
        /// How many high bits of the last byte belong to the bitstring (1 to 7).
        bits: u8,
    },
    /// A proper list; the empty list is nil (`[]`).
    List(Vec<Term>),
    /// An improper list `[a, b | tail]`: at least one element, and a tail that
    /// is not a list.
    ImproperList(Vec<Term>, Box<Term>),
    /// A tuple.
    Tuple(Vec<Term>),
    /// A map, as its pairs (keys distinct, order not significant).
    Map(Vec<(Term, Term)>),
    /// A process identifier, local or of another node.
    Pid(Pid),
    /// A reference, from any node.
    Ref(ErlRef),
    /// A port identifier, from any node.
    Port(ErlPort),
    /// An external fun `fun Module:Function/Arity`.
    Export {
        /// The module.
        module: Atom,
        /// The function.
        function: Atom,
        /// The arity.
        arity: u8,
    },
    /// A fun (NEW_FUN_EXT) kept as its encoding, tag byte included, and
    /// re-encoded verbatim: beamlet cannot call it, only pass it on.
    Fun(Vec<u8>),
}

/// A reference of any node (NEWER_REFERENCE_EXT's fields).
///
/// ```
/// use beamlet::otp::dist::term::{Atom, ErlRef, Term};
/// let r = Term::Ref(ErlRef { node: Atom::new("a@h"), creation: 1, ids: vec![1, 2, 3] });
/// assert!(r.to_string().starts_with("#Ref<"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ErlRef {
    /// The node that made it.
    pub node: Atom,
    /// The node's creation (its incarnation).
    pub creation: u32,
    /// The reference's words, 1 to 5.
    pub ids: Vec<u32>,
}

/// A port identifier of any node (V4_PORT_EXT's fields).
///
/// ```
/// use beamlet::otp::dist::term::{Atom, ErlPort, Term};
/// let p = Term::Port(ErlPort { node: Atom::new("a@h"), id: 7, creation: 1 });
/// assert_eq!(p.to_string(), "#Port<a@h.7>");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ErlPort {
    /// The node the port belongs to.
    pub node: Atom,
    /// The port's number.
    pub id: u64,
    /// The node's creation.
    pub creation: u32,
}

/// This node as the codec sees it: the name and creation its pids carry on the
/// wire, and the runtime whose pids are its own.
///
/// ```
/// use beamlet::otp::dist::term::{Atom, LocalNode};
/// let rt = beamlet::Runtime::builder().schedulers(1).build().unwrap();
/// let local = LocalNode { name: Atom::new("beamlet@host"), creation: 1, runtime: rt.id() };
/// assert_eq!(local.name, "beamlet@host");
/// rt.shutdown();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalNode {
    /// The node's name (`name@host`).
    pub name: Atom,
    /// The node's creation, agreed with EPMD / the handshake.
    pub creation: u32,
    /// The number of the runtime whose pids are this node's ([`Pid::runtime_id`]).
    pub runtime: u32,
}

/// Bounds [`decode`] holds untrusted bytes to.
///
/// ```
/// use beamlet::otp::dist::term::Limits;
/// let tight = Limits { max_depth: 16, ..Limits::default() };
/// assert_eq!(tight.max_atom_len, 255);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The deepest nesting of lists, tuples, maps and improper tails accepted.
    pub max_depth: usize,
    /// The longest atom accepted, in characters (Erlang's own limit is 255).
    pub max_atom_len: usize,
    /// The most bytes one term may take, tag 131 included.
    pub max_bytes: usize,
    /// The longest big-integer magnitude accepted, in bytes.
    pub max_big_bytes: usize,
}

/// 256 levels: far deeper than any real message (a gen_server call is 4), and
/// the deepest term, printed, compared and dropped by recursive code, still fits
/// a process's stack many times over (tested in a process).
pub const DEFAULT_MAX_DEPTH: usize = 256;

/// 64 MiB: larger than any message a sane peer sends in one piece, small enough
/// that the terms decoded from it fit in memory.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// 16 KiB (131072 bits): integers of that size arise in real code (crypto,
/// factorials); larger ones are more likely an attack on whoever computes with
/// them.
pub const DEFAULT_MAX_BIG_BYTES: usize = 16 << 10;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_atom_len: 255,
            max_bytes: DEFAULT_MAX_BYTES,
            max_big_bytes: DEFAULT_MAX_BIG_BYTES,
        }
    }
}

impl Term {
    /// The atom `name`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::atom("ok").to_string(), "ok");
    /// ```
    pub fn atom(name: &str) -> Term {
        Term::Atom(Atom::new(name))
    }

    /// A tuple of `items`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::tuple([Term::Int(1)]).to_string(), "{1}");
    /// ```
    pub fn tuple(items: impl IntoIterator<Item = Term>) -> Term {
        Term::Tuple(items.into_iter().collect())
    }

    /// A proper list of `items`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::list([]).to_string(), "[]");
    /// ```
    pub fn list(items: impl IntoIterator<Item = Term>) -> Term {
        Term::List(items.into_iter().collect())
    }

    /// Nil, the empty list `[]`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::nil(), Term::list([]));
    /// ```
    pub fn nil() -> Term {
        Term::List(Vec::new())
    }

    /// The list `[items... | tail]` in normal form: a list tail is appended, and
    /// no items give `tail` itself.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// let l = Term::improper([Term::Int(1)], Term::Int(2));
    /// assert_eq!(l.to_string(), "[1|2]");
    /// assert_eq!(Term::improper([Term::Int(1)], Term::list([Term::Int(2)])).to_string(), "[1,2]");
    /// ```
    pub fn improper(items: impl IntoIterator<Item = Term>, tail: Term) -> Term {
        let mut items: Vec<Term> = items.into_iter().collect();
        match tail {
            Term::List(rest) => {
                items.extend(rest);
                Term::List(items)
            }
            Term::ImproperList(rest, tail) => {
                items.extend(rest);
                Term::ImproperList(items, tail)
            }
            tail if items.is_empty() => tail,
            tail => Term::ImproperList(items, Box::new(tail)),
        }
    }

    /// A binary of `bytes` (a `&str` gives its UTF-8, as an Elixir string).
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::binary("hi"), Term::Binary(b"hi".to_vec()));
    /// ```
    pub fn binary(bytes: impl AsRef<[u8]>) -> Term {
        Term::Binary(bytes.as_ref().to_vec())
    }

    /// A map of `pairs`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// let m = Term::map([(Term::atom("a"), Term::Int(1))]);
    /// assert_eq!(m.to_string(), "#{a=>1}");
    /// ```
    pub fn map(pairs: impl IntoIterator<Item = (Term, Term)>) -> Term {
        Term::Map(pairs.into_iter().collect())
    }

    /// The atom, if this is one.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::atom("ok").as_atom().map(|a| a.as_str()), Some("ok"));
    /// assert!(Term::Int(1).as_atom().is_none());
    /// ```
    pub fn as_atom(&self) -> Option<&Atom> {
        match self {
            Term::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is the atom `name`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert!(Term::atom("ok").is_atom("ok"));
    /// ```
    pub fn is_atom(&self, name: &str) -> bool {
        self.as_atom().is_some_and(|a| a.as_str() == name)
    }

    /// The elements, if this is a tuple.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::tuple([Term::Int(1)]).as_tuple(), Some(&[Term::Int(1)][..]));
    /// ```
    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The elements, if this is a proper list (nil included).
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::nil().as_list(), Some(&[][..]));
    /// ```
    pub fn as_list(&self) -> Option<&[Term]> {
        match self {
            Term::List(items) => Some(items),
            _ => None,
        }
    }

    /// The bytes, if this is a binary.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::binary("hi").as_binary(), Some(&b"hi"[..]));
    /// ```
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Term::Binary(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The integer, if this is one that fits `i64`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::Int(3).as_int(), Some(3));
    /// ```
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Term::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The pid, if this is one.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert!(Term::Int(3).as_pid().is_none());
    /// ```
    pub fn as_pid(&self) -> Option<Pid> {
        match self {
            Term::Pid(pid) => Some(*pid),
            _ => None,
        }
    }

    /// The value under `key`, if this is a map holding it (`=:=` on keys).
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// let m = Term::map([(Term::atom("a"), Term::Int(1))]);
    /// assert_eq!(m.map_get(&Term::atom("a")), Some(&Term::Int(1)));
    /// assert_eq!(m.map_get(&Term::atom("b")), None);
    /// ```
    pub fn map_get(&self, key: &Term) -> Option<&Term> {
        match self {
            Term::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl From<Atom> for Term {
    fn from(atom: Atom) -> Term {
        Term::Atom(atom)
    }
}

impl From<Pid> for Term {
    fn from(pid: Pid) -> Term {
        Term::Pid(pid)
    }
}
