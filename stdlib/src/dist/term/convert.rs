//! Rust values to terms and back: [`ToTerm`] and [`FromTerm`].
//!
//! | Rust | term | notes |
//! |---|---|---|
//! | `bool` | `true` / `false` | |
//! | integers | integer | range-checked back; `i128`/`u128` use big integers |
//! | `f32`, `f64` | float | an integer is not a float (as in Erlang) |
//! | `String`, `&str`, `Arc<str>` | UTF-8 binary | an Elixir string; back also from a charlist |
//! | [`Binary`] | binary | `Vec<u8>` itself is a list of integers |
//! | `Vec<T>` | list | |
//! | tuples up to 8 | tuple | |
//! | `HashMap`, `BTreeMap` | map | |
//! | [`Pid`], [`Atom`] | pid, atom | |
//! | `()` | `ok` | what an Erlang function with nothing to return gives |
//! | `Option<T>` | `undefined` / the value | OTP's convention; Elixir's `nil` read as `None` too |
//! | `Result<T, E>` | `{ok, T}` / `{error, E}` | |
//!
//! [`FromTerm`] reads from a borrowed term (a received message is matched, not
//! consumed), so strings and binaries are copied out of it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use super::{Atom, Pid, Term};

/// A value that becomes a term.
///
/// ```
/// use beamlet::otp::dist::term::ToTerm;
/// assert_eq!(Ok::<u8, String>(1).to_term().to_string(), "{ok,1}");
/// assert_eq!(vec![Some("a"), None].to_term().to_string(), r#"[<<"a">>,undefined]"#);
/// ```
pub trait ToTerm {
    /// The term for `self`.
    fn to_term(&self) -> Term;
}

/// A value read back from a term.
///
/// ```
/// use beamlet::otp::dist::term::{FromTerm, Term};
/// let t = Term::tuple([Term::atom("ok"), Term::Int(7)]);
/// assert_eq!(Result::<u8, Term>::from_term(&t), Ok(Ok(7)));
/// let err = u8::from_term(&Term::Int(300)).unwrap_err();
/// assert_eq!(err.to_string(), "expected an integer in u8's range, found 300");
/// ```
pub trait FromTerm: Sized {
    /// Reads `term` as `Self`.
    ///
    /// # Errors
    ///
    /// [`FromTermError`] when the term has another shape or is out of range.
    fn from_term(term: &Term) -> Result<Self, FromTermError>;
}

/// A term that is not what a [`FromTerm`] expected: what it wanted, and (the
/// beginning of) what it found, in Erlang syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromTermError {
    expected: Cow<'static, str>,
    found: String,
}

/// How much of the term found is kept, in characters: enough to recognise it.
const FOUND_CHARS: usize = 80;

impl FromTermError {
    /// `expected` was wanted, `found` was there.
    ///
    /// ```
    /// use beamlet::otp::dist::term::{FromTermError, Term};
    /// let e = FromTermError::new("a binary", &Term::Int(1));
    /// assert_eq!((e.expected(), e.found()), ("a binary", "1"));
    /// ```
    pub fn new(expected: impl Into<Cow<'static, str>>, found: &Term) -> FromTermError {
        FromTermError {
            expected: expected.into(),
            found: cut_found(found),
        }
    }

    /// What was expected ("a binary", "a tuple of 2", ...).
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// The term found, in Erlang syntax, cut after 80 characters.
    pub fn found(&self) -> &str {
        &self.found
    }
}

/// `found` in Erlang syntax, cut after [`FOUND_CHARS`] characters.
pub(super) fn cut_found(found: &Term) -> String {
    let mut found = found.to_string();
    if let Some((cut, _)) = found.char_indices().nth(FOUND_CHARS) {
        found.truncate(cut);
        found.push_str("...");
    }
    found
}

impl fmt::Display for FromTermError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, found {}", self.expected, self.found)
    }
}

impl std::error::Error for FromTermError {}

/// Bytes that travel as a binary (a `Vec<u8>` is a list of integers).
///
/// ```
/// use beamlet::otp::dist::term::{Binary, FromTerm, Term, ToTerm};
/// assert_eq!(Binary(vec![1, 2]).to_term(), Term::Binary(vec![1, 2]));
/// assert_eq!(Binary::from_term(&Term::binary("a")), Ok(Binary(b"a".to_vec())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Binary(pub Vec<u8>);

impl ToTerm for Term {
    fn to_term(&self) -> Term {
        self.clone()
    }
}

impl FromTerm for Term {
    fn from_term(term: &Term) -> Result<Term, FromTermError> {
        Ok(term.clone())
    }
}

impl<T: ToTerm + ?Sized> ToTerm for &T {
    fn to_term(&self) -> Term {
        (**self).to_term()
    }
}

impl ToTerm for bool {
    fn to_term(&self) -> Term {
        Term::atom(if *self { "true" } else { "false" })
    }
}

impl FromTerm for bool {
    fn from_term(term: &Term) -> Result<bool, FromTermError> {
        match term.as_atom().map(Atom::as_str) {
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            _ => Err(FromTermError::new("true or false", term)),
        }
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl ToTerm for $t {
            fn to_term(&self) -> Term {
                Term::from_i128(*self as i128)
            }
        }

        impl FromTerm for $t {
            fn from_term(term: &Term) -> Result<$t, FromTermError> {
                let wide = match term {
                    Term::Int(v) => Some(i128::from(*v)),
                    Term::BigInt(b) => b.to_i128(),
                    _ => None,
                };
                wide.and_then(|v| <$t>::try_from(v).ok()).ok_or_else(|| {
                    FromTermError::new(concat!("an integer in ", stringify!($t), "'s range"), term)
                })
            }
        }
    )*};
}

integers!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, usize);

impl ToTerm for u128 {
    fn to_term(&self) -> Term {
        Term::from_u128(*self)
    }
}

impl FromTerm for u128 {
    fn from_term(term: &Term) -> Result<u128, FromTermError> {
        let value = match term {
            Term::Int(v) => u128::try_from(*v).ok(),
            Term::BigInt(b) => b.to_u128(),
            _ => None,
        };
        value.ok_or_else(|| FromTermError::new("an integer in u128's range", term))
    }
}

impl ToTerm for f64 {
    fn to_term(&self) -> Term {
        Term::Float(*self)
    }
}

impl FromTerm for f64 {
    fn from_term(term: &Term) -> Result<f64, FromTermError> {
        match term {
            Term::Float(v) => Ok(*v),
            _ => Err(FromTermError::new("a float", term)),
        }
    }
}

impl ToTerm for f32 {
    fn to_term(&self) -> Term {
        Term::Float(f64::from(*self))
    }
}

/// Rounds to the nearest `f32`, as a cast does.
impl FromTerm for f32 {
    fn from_term(term: &Term) -> Result<f32, FromTermError> {
        f64::from_term(term).map(|v| v as f32)
    }
}

impl ToTerm for str {
    fn to_term(&self) -> Term {
        Term::binary(self)
    }
}

impl ToTerm for String {
    fn to_term(&self) -> Term {
        Term::binary(self)
    }
}

impl ToTerm for Arc<str> {
    fn to_term(&self) -> Term {
        Term::binary(&**self)
    }
}

/// A UTF-8 binary, or a charlist (a list of code points).
impl FromTerm for String {
    fn from_term(term: &Term) -> Result<String, FromTermError> {
        let text = match term {
            Term::Binary(bytes) => String::from_utf8(bytes.clone()).ok(),
            Term::List(items) => items
                .iter()
                .map(|t| {
                    t.as_int()
                        .and_then(|c| char::from_u32(u32::try_from(c).ok()?))
                })
                .collect(),
            _ => None,
        };
        text.ok_or_else(|| FromTermError::new("a UTF-8 binary or a charlist", term))
    }
}

impl FromTerm for Arc<str> {
    fn from_term(term: &Term) -> Result<Arc<str>, FromTermError> {
        String::from_term(term).map(Arc::from)
    }
}

impl ToTerm for Binary {
    fn to_term(&self) -> Term {
        Term::Binary(self.0.clone())
    }
}

impl FromTerm for Binary {
    fn from_term(term: &Term) -> Result<Binary, FromTermError> {
        match term {
            Term::Binary(bytes) => Ok(Binary(bytes.clone())),
            _ => Err(FromTermError::new("a binary", term)),
        }
    }
}

impl<T: ToTerm> ToTerm for [T] {
    fn to_term(&self) -> Term {
        Term::List(self.iter().map(ToTerm::to_term).collect())
    }
}

impl<T: ToTerm> ToTerm for Vec<T> {
    fn to_term(&self) -> Term {
        self.as_slice().to_term()
    }
}

impl<T: FromTerm> FromTerm for Vec<T> {
    fn from_term(term: &Term) -> Result<Vec<T>, FromTermError> {
        match term {
            Term::List(items) => items.iter().map(T::from_term).collect(),
            _ => Err(FromTermError::new("a proper list", term)),
        }
    }
}

macro_rules! tuples {
    ($($n:literal => ($($name:ident $idx:tt),+);)*) => {$(
        impl<$($name: ToTerm),+> ToTerm for ($($name,)+) {
            fn to_term(&self) -> Term {
                Term::Tuple(vec![$(self.$idx.to_term()),+])
            }
        }

        impl<$($name: FromTerm),+> FromTerm for ($($name,)+) {
            fn from_term(term: &Term) -> Result<Self, FromTermError> {
                match term.as_tuple() {
                    Some(items) if items.len() == $n => Ok(($($name::from_term(&items[$idx])?,)+)),
                    _ => Err(FromTermError::new(concat!("a tuple of ", $n), term)),
                }
            }
        }
    )*};
}

tuples! {
    1 => (A 0);
    2 => (A 0, B 1);
    3 => (A 0, B 1, C 2);
    4 => (A 0, B 1, C 2, D 3);
    5 => (A 0, B 1, C 2, D 3, E 4);
    6 => (A 0, B 1, C 2, D 3, E 4, F 5);
    7 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
}

fn map_pairs<'a, K, V>(
    term: &'a Term,
) -> Result<impl Iterator<Item = Result<(K, V), FromTermError>> + 'a, FromTermError>
where
    K: FromTerm + 'a,
    V: FromTerm + 'a,
{
    match term {
        Term::Map(pairs) => Ok(pairs
            .iter()
            .map(|(k, v)| Ok((K::from_term(k)?, V::from_term(v)?)))),
        _ => Err(FromTermError::new("a map", term)),
    }
}

impl<K: ToTerm, V: ToTerm, S> ToTerm for HashMap<K, V, S> {
    fn to_term(&self) -> Term {
        Term::Map(
            self.iter()
                .map(|(k, v)| (k.to_term(), v.to_term()))
                .collect(),
        )
    }
}

impl<K: FromTerm + Eq + Hash, V: FromTerm> FromTerm for HashMap<K, V> {
    fn from_term(term: &Term) -> Result<HashMap<K, V>, FromTermError> {
        map_pairs(term)?.collect()
    }
}

impl<K: ToTerm, V: ToTerm> ToTerm for BTreeMap<K, V> {
    fn to_term(&self) -> Term {
        Term::Map(
            self.iter()
                .map(|(k, v)| (k.to_term(), v.to_term()))
                .collect(),
        )
    }
}

impl<K: FromTerm + Ord, V: FromTerm> FromTerm for BTreeMap<K, V> {
    fn from_term(term: &Term) -> Result<BTreeMap<K, V>, FromTermError> {
        map_pairs(term)?.collect()
    }
}

impl ToTerm for Pid {
    fn to_term(&self) -> Term {
        Term::Pid(*self)
    }
}

impl FromTerm for Pid {
    fn from_term(term: &Term) -> Result<Pid, FromTermError> {
        term.as_pid()
            .ok_or_else(|| FromTermError::new("a pid", term))
    }
}

impl ToTerm for Atom {
    fn to_term(&self) -> Term {
        Term::Atom(self.clone())
    }
}

impl FromTerm for Atom {
    fn from_term(term: &Term) -> Result<Atom, FromTermError> {
        term.as_atom()
            .cloned()
            .ok_or_else(|| FromTermError::new("an atom", term))
    }
}

/// The atom `ok`.
impl ToTerm for () {
    fn to_term(&self) -> Term {
        Term::atom("ok")
    }
}

impl FromTerm for () {
    fn from_term(term: &Term) -> Result<(), FromTermError> {
        match term.is_atom("ok") {
            true => Ok(()),
            false => Err(FromTermError::new("ok", term)),
        }
    }
}

/// `None` is `undefined`, as OTP's records and options write "no value".
impl<T: ToTerm> ToTerm for Option<T> {
    fn to_term(&self) -> Term {
        match self {
            Some(v) => v.to_term(),
            None => Term::atom("undefined"),
        }
    }
}

/// `undefined` and Elixir's `nil` are `None`: an `Option<Atom>` therefore never
/// reads those two atoms as `Some`.
impl<T: FromTerm> FromTerm for Option<T> {
    fn from_term(term: &Term) -> Result<Option<T>, FromTermError> {
        if term.is_atom("undefined") || term.is_atom("nil") {
            return Ok(None);
        }
        T::from_term(term).map(Some)
    }
}

impl<T: ToTerm, E: ToTerm> ToTerm for Result<T, E> {
    fn to_term(&self) -> Term {
        match self {
            Ok(v) => Term::tuple([Term::atom("ok"), v.to_term()]),
            Err(e) => Term::tuple([Term::atom("error"), e.to_term()]),
        }
    }
}

impl<T: FromTerm, E: FromTerm> FromTerm for Result<T, E> {
    fn from_term(term: &Term) -> Result<Result<T, E>, FromTermError> {
        match term.as_tuple() {
            Some([tag, v]) if tag.is_atom("ok") => T::from_term(v).map(Ok),
            Some([tag, e]) if tag.is_atom("error") => E::from_term(e).map(Err),
            _ => Err(FromTermError::new("{ok, _} or {error, _}", term)),
        }
    }
}
