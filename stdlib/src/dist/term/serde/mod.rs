//! Rust types to terms and back through serde: `#[derive(Serialize, Deserialize)]`
//! on a message type, then [`to_term`] / [`from_term`], or the [`Serde`] wrapper
//! wherever a [`ToTerm`] / [`FromTerm`] is asked for (a `GenServer`'s `Call`
//! served to Erlang by `dist::export`, a `dist::send_term`).
//!
//! The mapping is the one an Erlang or Elixir programmer writes by hand:
//!
//! | Rust (serde data model) | term | example |
//! |---|---|---|
//! | `bool` | `true` / `false` | |
//! | integers | integer (big when past `i64`) | |
//! | `f32`, `f64` | float (an integer is read as a float too) | |
//! | `char` | integer, its code point | `$a` is `97` |
//! | `String`, `&str` | UTF-8 binary (back also from a charlist) | `<<"hi">>` |
//! | bytes (`serde_bytes`) | binary | |
//! | `Option<T>` | `undefined` / the value (back also from `nil`) | |
//! | `()` | `ok` | |
//! | unit struct `Ping` | atom `'Ping'` | |
//! | newtype struct `Id(u32)` | the inner value | `7` |
//! | tuple struct, tuple | tuple | `{1, 2}` |
//! | struct | map with atom keys | `#{name => <<"a">>, age => 3}` |
//! | `Vec`, sequences | list | `[1, 2]` |
//! | maps | map | |
//! | unit variant `E::Get` | atom | `'Get'` |
//! | newtype variant `E::Put(v)` | `{Variant, V}` | `{'Put', 1}` |
//! | tuple variant `E::Move(x, y)` | `{Variant, X, Y}` | `{'Move', 1, 2}` |
//! | struct variant `E::Set { k }` | `{Variant, #{k => K}}` | |
//! | [`Atom`] | atom | |
//! | [`Pid`](crate::dist::term::Pid) with `#[serde(with = "...serde::pid")]` ([`pid`]) | pid | |
//!
//! Names are used as serde gives them; `#[serde(rename_all = "snake_case")]`
//! on an enum makes its variants the atoms Erlang code matches on (`get`,
//! `{put, V}`). A field name is read back from an atom or a binary, so a map
//! from Elixir with string keys fills a struct too. Terms serde has no place
//! for (refs, ports, funs, improper lists, bitstrings) are an error on the way
//! in; keep a [`Term`] and [`FromTerm`] for those.
//!
//! ```
//! use beamlet::otp::dist::term::serde::{from_term, to_term};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename_all = "snake_case")]
//! enum Command {
//!     Stop,
//!     Add(i64),
//!     Rename { name: String },
//! }
//!
//! let term = to_term(&Command::Rename { name: "x".into() }).unwrap();
//! assert_eq!(term.to_string(), r#"{rename,#{name=><<"x">>}}"#);
//! assert_eq!(to_term(&Command::Stop).unwrap().to_string(), "stop");
//! assert_eq!(from_term::<Command>(&to_term(&Command::Add(2)).unwrap()).unwrap(), Command::Add(2));
//! ```

mod de;
pub mod pid;
mod ser;
#[cfg(test)]
mod tests;

use std::fmt;

use ::serde::de::{Deserialize, DeserializeOwned, Deserializer, Visitor};
use ::serde::ser::{Serialize, Serializer};

use super::convert::cut_found;
use super::{Atom, FromTerm, FromTermError, Term, ToTerm};

/// The newtype name `Atom` serializes under, so the term serializer makes an
/// atom of the string (other formats see a plain string).
const ATOM_NEWTYPE: &str = "$beamlet::Atom";

/// The newtype name [`pid`] serializes under.
const PID_NEWTYPE: &str = "$beamlet::Pid";

/// `value` as a term.
///
/// # Errors
///
/// What `value`'s `Serialize` reports (derived ones report nothing; a
/// hand-written one may), or a pid or atom marker holding something else.
///
/// ```
/// use beamlet::otp::dist::term::serde::to_term;
/// assert_eq!(to_term(&(1, "a", vec![true])).unwrap().to_string(), r#"{1,<<"a">>,[true]}"#);
/// ```
pub fn to_term<T: Serialize + ?Sized>(value: &T) -> Result<Term, SerdeError> {
    value.serialize(ser::TermSerializer)
}

/// A `T` read from `term`, borrowing its strings and bytes where `T` does.
///
/// # Errors
///
/// [`SerdeError`] when the term does not have the shape `T` maps to.
///
/// ```
/// use beamlet::otp::dist::term::{Term, serde::from_term};
/// let t = Term::tuple([Term::Int(1), Term::binary("a")]);
/// assert_eq!(from_term::<(u8, &str)>(&t).unwrap(), (1, "a"));
/// assert!(from_term::<(u8, &str)>(&Term::Int(1)).is_err());
/// ```
pub fn from_term<'de, T: Deserialize<'de>>(term: &'de Term) -> Result<T, SerdeError> {
    T::deserialize(de::TermDeserializer(term))
}

/// A serde value where a [`ToTerm`] / [`FromTerm`] is asked for.
///
/// # Panics
///
/// `to_term` panics if `T`'s `Serialize` reports an error, which derived
/// implementations never do; use [`to_term`] to get the error instead.
///
/// ```
/// use beamlet::otp::dist::term::{FromTerm, Term, ToTerm, serde::Serde};
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Point { x: i32, y: i32 }
///
/// let term = Serde(Point { x: 1, y: 2 }).to_term();
/// assert_eq!(term.to_string(), "#{x=>1,y=>2}");
/// assert_eq!(Serde::<Point>::from_term(&term).unwrap().0, Point { x: 1, y: 2 });
/// let err = Serde::<Point>::from_term(&Term::Int(3)).unwrap_err();
/// assert!(err.to_string().contains("found 3"), "{err}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Serde<T>(pub T);

impl<T: Serialize> ToTerm for Serde<T> {
    fn to_term(&self) -> Term {
        match to_term(&self.0) {
            Ok(term) => term,
            Err(e) => panic!("{}'s Serialize failed: {e}", std::any::type_name::<T>()),
        }
    }
}

impl<T: DeserializeOwned> FromTerm for Serde<T> {
    fn from_term(term: &Term) -> Result<Serde<T>, FromTermError> {
        from_term(term).map(Serde).map_err(|e| {
            let expected = format!("{} ({e})", std::any::type_name::<T>());
            FromTermError::new(expected, term)
        })
    }
}

/// A term that is not what a serde type maps to, or a `Serialize` /
/// `Deserialize` implementation's own complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerdeError {
    message: String,
}

impl SerdeError {
    fn message(message: impl Into<String>) -> SerdeError {
        SerdeError {
            message: message.into(),
        }
    }

    /// `expected` was wanted where `found` is.
    fn shape(expected: &str, found: &Term) -> SerdeError {
        SerdeError::message(format!("expected {expected}, found {}", cut_found(found)))
    }

    fn shape_named(what: &str, name: &str, found: &Term) -> SerdeError {
        SerdeError::shape(&format!("{what} {name}"), found)
    }

    fn shape_sized(what: &str, len: usize, found: &Term) -> SerdeError {
        SerdeError::shape(&format!("{what} {len}"), found)
    }

    /// The variant `tag` in a shape its kind does not have.
    fn variant(tag: &str, expected: &str) -> SerdeError {
        SerdeError::message(format!("variant {tag}: expected {expected}"))
    }
}

impl fmt::Display for SerdeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SerdeError {}

impl ::serde::ser::Error for SerdeError {
    fn custom<M: fmt::Display>(message: M) -> SerdeError {
        SerdeError::message(message.to_string())
    }
}

impl ::serde::de::Error for SerdeError {
    fn custom<M: fmt::Display>(message: M) -> SerdeError {
        SerdeError::message(message.to_string())
    }
}

/// An atom in a term; its name as a string elsewhere.
impl Serialize for Atom {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(ATOM_NEWTYPE, self.as_str())
    }
}

impl<'de> Deserialize<'de> for Atom {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Atom, D::Error> {
        deserializer.deserialize_newtype_struct(ATOM_NEWTYPE, AtomVisitor)
    }
}

struct AtomVisitor;

impl<'de> Visitor<'de> for AtomVisitor {
    type Value = Atom;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an atom")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, name: D) -> Result<Atom, D::Error> {
        String::deserialize(name).map(Atom::from)
    }

    /// Formats that drop the newtype (JSON) hand the name over directly.
    fn visit_str<E: ::serde::de::Error>(self, name: &str) -> Result<Atom, E> {
        Ok(Atom::new(name))
    }
}
