//! Rust values to terms through `serde::Serialize` (the table is in the parent
//! module's header).
//!
//! [`TermSerializer`] returns the term it builds; the compound states collect
//! their parts into a `Vec` and close it into a list, tuple or map. Two
//! newtype names are recognised so that atoms and pids keep their Erlang type
//! inside derived types: [`ATOM_NEWTYPE`] (written by `Atom`'s `Serialize`) and
//! [`PID_NEWTYPE`] (written by [`super::pid`]).

use ::serde::ser::{self, Serialize};

use super::{ATOM_NEWTYPE, PID_NEWTYPE, SerdeError};
use crate::dist::term::{Atom, Pid, Term};

/// Serializes one value into a [`Term`].
pub(super) struct TermSerializer;

fn atom(name: &str) -> Term {
    Term::Atom(Atom::new(name))
}

/// `{Variant, ...items}`: how Erlang tags a value with its kind.
fn tagged(variant: &str, items: Vec<Term>) -> Term {
    let mut tuple = Vec::with_capacity(items.len() + 1);
    tuple.push(atom(variant));
    tuple.extend(items);
    Term::Tuple(tuple)
}

/// The term of a newtype marked [`ATOM_NEWTYPE`]: its string as an atom.
fn atom_of(inner: Term) -> Result<Term, SerdeError> {
    match inner {
        Term::Binary(bytes) => match String::from_utf8(bytes) {
            Ok(name) => Ok(atom(&name)),
            Err(_) => Err(SerdeError::message("an atom's name is not UTF-8")),
        },
        other => Err(SerdeError::message(format!(
            "an atom's name is {other}, not a string"
        ))),
    }
}

/// The term of a newtype marked [`PID_NEWTYPE`]: `(runtime, index, serial)`.
fn pid_of(inner: Term) -> Result<Term, SerdeError> {
    let part = |t: &Term| t.as_int().and_then(|v| u32::try_from(v).ok());
    if let Term::Tuple(parts) = &inner
        && let [runtime, index, serial] = parts.as_slice()
        && let (Some(r), Some(i), Some(s)) = (part(runtime), part(index), part(serial))
    {
        return Ok(Term::Pid(Pid::from_parts(r, i, s)));
    }
    Err(SerdeError::message(format!("a pid's parts are {inner}")))
}

impl ser::Serializer for TermSerializer {
    type Ok = Term;
    type Error = SerdeError;
    type SerializeSeq = Items;
    type SerializeTuple = Items;
    type SerializeTupleStruct = Items;
    type SerializeTupleVariant = Items;
    type SerializeMap = Pairs;
    type SerializeStruct = Pairs;
    type SerializeStructVariant = Pairs;

    fn serialize_bool(self, v: bool) -> Result<Term, SerdeError> {
        Ok(atom(if v { "true" } else { "false" }))
    }
    fn serialize_i8(self, v: i8) -> Result<Term, SerdeError> {
        Ok(Term::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Term, SerdeError> {
        Ok(Term::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Term, SerdeError> {
        Ok(Term::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Term, SerdeError> {
        Ok(Term::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Term, SerdeError> {
        Ok(Term::from_i128(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Term, SerdeError> {
        Ok(Term::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Term, SerdeError> {
        Ok(Term::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Term, SerdeError> {
        Ok(Term::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Term, SerdeError> {
        Ok(Term::from_u128(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Term, SerdeError> {
        Ok(Term::from_u128(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Term, SerdeError> {
        Ok(Term::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Term, SerdeError> {
        Ok(Term::Float(v))
    }
    /// A code point, as Erlang's `$a` is the integer 97.
    fn serialize_char(self, v: char) -> Result<Term, SerdeError> {
        Ok(Term::Int(u32::from(v).into()))
    }
    fn serialize_str(self, v: &str) -> Result<Term, SerdeError> {
        Ok(Term::binary(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Term, SerdeError> {
        Ok(Term::binary(v))
    }
    fn serialize_none(self) -> Result<Term, SerdeError> {
        Ok(atom("undefined"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Term, SerdeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Term, SerdeError> {
        Ok(atom("ok"))
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Term, SerdeError> {
        Ok(atom(name))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Term, SerdeError> {
        Ok(atom(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Term, SerdeError> {
        let inner = value.serialize(TermSerializer)?;
        match name {
            ATOM_NEWTYPE => atom_of(inner),
            PID_NEWTYPE => pid_of(inner),
            _ => Ok(inner),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Term, SerdeError> {
        Ok(tagged(variant, vec![value.serialize(TermSerializer)?]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Items, SerdeError> {
        Ok(Items::new(Shape::List, len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<Items, SerdeError> {
        Ok(Items::new(Shape::Tuple, len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Items, SerdeError> {
        Ok(Items::new(Shape::Tuple, len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Items, SerdeError> {
        Ok(Items::new(Shape::Variant(variant), len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Pairs, SerdeError> {
        Ok(Pairs::new(None, len.unwrap_or(0)))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Pairs, SerdeError> {
        Ok(Pairs::new(None, len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Pairs, SerdeError> {
        Ok(Pairs::new(Some(variant), len))
    }
}

/// What a run of items closes into.
enum Shape {
    List,
    Tuple,
    /// `{Variant, items...}`.
    Variant(&'static str),
}

/// The state of a sequence, tuple or tuple variant being serialized.
pub(super) struct Items {
    shape: Shape,
    items: Vec<Term>,
}

impl Items {
    fn new(shape: Shape, len: usize) -> Items {
        // `len` comes from the value being serialized, not from the network; the
        // cap only keeps a lying `size_hint` from reserving much.
        let items = Vec::with_capacity(len.min(4096));
        Items { shape, items }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.items.push(value.serialize(TermSerializer)?);
        Ok(())
    }

    fn close(self) -> Term {
        match self.shape {
            Shape::List => Term::List(self.items),
            Shape::Tuple => Term::Tuple(self.items),
            Shape::Variant(variant) => tagged(variant, self.items),
        }
    }
}

macro_rules! items_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Items {
            type Ok = Term;
            type Error = SerdeError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
                self.push(value)
            }
            fn end(self) -> Result<Term, SerdeError> {
                Ok(self.close())
            }
        }
    )*};
}

items_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// The state of a map, struct or struct variant being serialized.
pub(super) struct Pairs {
    variant: Option<&'static str>,
    pairs: Vec<(Term, Term)>,
    key: Option<Term>,
}

impl Pairs {
    fn new(variant: Option<&'static str>, len: usize) -> Pairs {
        let pairs = Vec::with_capacity(len.min(4096));
        Pairs {
            variant,
            pairs,
            key: None,
        }
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), SerdeError> {
        self.pairs
            .push((atom(key), value.serialize(TermSerializer)?));
        Ok(())
    }

    fn close(self) -> Term {
        let map = Term::Map(self.pairs);
        match self.variant {
            Some(variant) => tagged(variant, vec![map]),
            None => map,
        }
    }
}

impl ser::SerializeMap for Pairs {
    type Ok = Term;
    type Error = SerdeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerdeError> {
        self.key = Some(key.serialize(TermSerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| SerdeError::message("a map value without its key"))?;
        self.pairs.push((key, value.serialize(TermSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Term, SerdeError> {
        Ok(self.close())
    }
}

/// Field names are atoms, as an Elixir struct's keys (struct fields the
/// serializer skips are left out, as absent keys).
macro_rules! pairs_impl {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Pairs {
            type Ok = Term;
            type Error = SerdeError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), SerdeError> {
                self.field(key, value)
            }
            fn end(self) -> Result<Term, SerdeError> {
                Ok(self.close())
            }
        }
    )*};
}

pairs_impl!(SerializeStruct, SerializeStructVariant);
