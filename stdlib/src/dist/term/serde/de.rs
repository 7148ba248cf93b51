//! Terms to Rust values through `serde::Deserialize` (the table is in the
//! parent module's header).
//!
//! [`TermDeserializer`] reads a borrowed term, so `&str` and `&[u8]` fields can
//! borrow from a received message's binaries and atoms. Where Erlang has two
//! spellings of one thing it accepts both: a string is a UTF-8 binary or a
//! charlist, "no value" is `undefined` or Elixir's `nil`, a field name is an
//! atom or a binary (Elixir maps with string keys). Everything else must have
//! exactly the shape the serializer writes.

use ::serde::de::{self, DeserializeSeed, Visitor};

use super::{ATOM_NEWTYPE, PID_NEWTYPE, SerdeError};
use crate::dist::term::Term;

/// Deserializes a value from one borrowed [`Term`].
pub(super) struct TermDeserializer<'de>(pub(super) &'de Term);

fn is_none(term: &Term) -> bool {
    term.is_atom("undefined") || term.is_atom("nil")
}

/// A charlist's text, if `items` are all code points.
fn charlist(items: &[Term]) -> Option<String> {
    items
        .iter()
        .map(|t| {
            t.as_int()
                .and_then(|c| char::from_u32(u32::try_from(c).ok()?))
        })
        .collect()
}

impl<'de> TermDeserializer<'de> {
    fn unexpected(&self, expected: &str) -> SerdeError {
        SerdeError::shape(expected, self.0)
    }

    fn integer<V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Int(v) => visitor.visit_i64(*v),
            // The narrowest visit first: serde's `u64` accepts `visit_u64` but not
            // `visit_i128`, whatever the value.
            Term::BigInt(big) => match (big.to_u128(), big.to_i128()) {
                (Some(v), _) if v <= u128::from(u64::MAX) => visitor.visit_u64(v as u64),
                (Some(v), _) => visitor.visit_u128(v),
                (None, Some(v)) => visitor.visit_i128(v),
                (None, None) => Err(self.unexpected("an integer of at most 128 bits")),
            },
            _ => Err(self.unexpected("an integer")),
        }
    }
}

impl<'de> de::Deserializer<'de> for TermDeserializer<'de> {
    type Error = SerdeError;

    /// For self-describing targets (`serde_json::Value`, untagged enums): atoms
    /// are strings except the booleans and the two "no value" atoms, tuples and
    /// lists are sequences.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Atom(a) if a == "true" => visitor.visit_bool(true),
            Term::Atom(a) if a == "false" => visitor.visit_bool(false),
            term if is_none(term) => visitor.visit_unit(),
            Term::Atom(a) => visitor.visit_borrowed_str(a.as_str()),
            Term::Int(_) | Term::BigInt(_) => self.integer(visitor),
            Term::Float(v) => visitor.visit_f64(*v),
            Term::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => visitor.visit_borrowed_str(text),
                Err(_) => visitor.visit_borrowed_bytes(bytes),
            },
            Term::List(items) | Term::Tuple(items) => visitor.visit_seq(Items::new(items)),
            Term::Map(pairs) => visitor.visit_map(Pairs::new(pairs)),
            _ => Err(self.unexpected("a term serde can read (not a pid, ref, port or fun)")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Atom(a) if a == "true" => visitor.visit_bool(true),
            Term::Atom(a) if a == "false" => visitor.visit_bool(false),
            _ => Err(self.unexpected("true or false")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        let code = self
            .0
            .as_int()
            .and_then(|c| char::from_u32(u32::try_from(c).ok()?));
        match code {
            Some(c) => visitor.visit_char(c),
            None => Err(self.unexpected("a code point")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => visitor.visit_borrowed_str(text),
                Err(_) => Err(self.unexpected("a UTF-8 binary")),
            },
            Term::List(items) => match charlist(items) {
                Some(text) => visitor.visit_string(text),
                None => Err(self.unexpected("a UTF-8 binary or a charlist")),
            },
            _ => Err(self.unexpected("a UTF-8 binary or a charlist")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Binary(bytes) => visitor.visit_borrowed_bytes(bytes),
            _ => Err(self.unexpected("a binary")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match is_none(self.0) {
            true => visitor.visit_none(),
            false => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.is_atom("ok") {
            true => visitor.visit_unit(),
            false => Err(self.unexpected("ok")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.0.is_atom(name) {
            true => visitor.visit_unit(),
            false => Err(SerdeError::shape_named("the atom", name, self.0)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match (name, self.0) {
            (ATOM_NEWTYPE, Term::Atom(a)) => {
                let name: de::value::BorrowedStrDeserializer<'de, SerdeError> =
                    de::value::BorrowedStrDeserializer::new(a.as_str());
                visitor.visit_newtype_struct(name)
            }
            (ATOM_NEWTYPE, _) => Err(self.unexpected("an atom")),
            (PID_NEWTYPE, Term::Pid(pid)) => {
                let parts = [pid.runtime_id(), pid.index(), pid.serial()];
                visitor.visit_newtype_struct(de::value::SeqDeserializer::new(parts.into_iter()))
            }
            (PID_NEWTYPE, _) => Err(self.unexpected("a pid")),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::List(items) => visitor.visit_seq(Items::new(items)),
            _ => Err(self.unexpected("a proper list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Tuple(items) if items.len() == len => visitor.visit_seq(Items::new(items)),
            _ => Err(SerdeError::shape_sized("a tuple of", len, self.0)),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Map(pairs) => visitor.visit_map(Pairs::new(pairs)),
            _ => Err(self.unexpected("a map")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Atom(a) => visitor.visit_enum(Variant {
                tag: a.as_str(),
                rest: &[],
            }),
            Term::Tuple(items) => match items.split_first() {
                Some((Term::Atom(a), rest)) => visitor.visit_enum(Variant {
                    tag: a.as_str(),
                    rest,
                }),
                _ => Err(self.unexpected("an atom or a tuple tagged with an atom")),
            },
            _ => Err(self.unexpected("an atom or a tuple tagged with an atom")),
        }
    }

    /// A field or variant name: an atom, a binary, or its index.
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Atom(a) => visitor.visit_borrowed_str(a.as_str()),
            Term::Binary(_) => self.deserialize_str(visitor),
            Term::Int(i) => match u64::try_from(*i) {
                Ok(index) => visitor.visit_u64(index),
                Err(_) => Err(self.unexpected("a field name")),
            },
            _ => Err(self.unexpected("a field name")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_unit()
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }
    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.integer(visitor)
    }

    /// A float; an integer is read as one too (Elixir's `1` where `1.0` was meant).
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Term::Float(v) => visitor.visit_f64(*v),
            Term::Int(_) | Term::BigInt(_) => self.integer(visitor),
            _ => Err(self.unexpected("a float")),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_f64(visitor)
    }
}

/// The items of a list or tuple, one at a time.
struct Items<'de> {
    items: std::slice::Iter<'de, Term>,
}

impl<'de> Items<'de> {
    fn new(items: &'de [Term]) -> Items<'de> {
        Items {
            items: items.iter(),
        }
    }
}

impl<'de> de::SeqAccess<'de> for Items<'de> {
    type Error = SerdeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        self.items
            .next()
            .map(|item| seed.deserialize(TermDeserializer(item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The pairs of a map, one at a time.
struct Pairs<'de> {
    pairs: std::slice::Iter<'de, (Term, Term)>,
    value: Option<&'de Term>,
}

impl<'de> Pairs<'de> {
    fn new(pairs: &'de [(Term, Term)]) -> Pairs<'de> {
        Pairs {
            pairs: pairs.iter(),
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for Pairs<'de> {
    type Error = SerdeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        let Some((key, value)) = self.pairs.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(TermDeserializer(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, SerdeError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| SerdeError::message("a map value asked for before its key"))?;
        seed.deserialize(TermDeserializer(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len())
    }
}

/// An enum value: its tag atom and the tuple's other elements.
struct Variant<'de> {
    tag: &'de str,
    rest: &'de [Term],
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = SerdeError;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self), SerdeError> {
        let tag: de::value::BorrowedStrDeserializer<'de, SerdeError> =
            de::value::BorrowedStrDeserializer::new(self.tag);
        Ok((seed.deserialize(tag)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'de> {
    type Error = SerdeError;

    fn unit_variant(self) -> Result<(), SerdeError> {
        match self.rest {
            [] => Ok(()),
            _ => Err(SerdeError::variant(self.tag, "a bare atom")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        match self.rest {
            [value] => seed.deserialize(TermDeserializer(value)),
            _ => Err(SerdeError::variant(self.tag, "{Tag, Value}")),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.rest.len() == len {
            true => visitor.visit_seq(Items::new(self.rest)),
            false => Err(SerdeError::variant(
                self.tag,
                "{Tag, Fields...} of the variant's arity",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.rest {
            [Term::Map(pairs)] => visitor.visit_map(Pairs::new(pairs)),
            _ => Err(SerdeError::variant(self.tag, "{Tag, #{Field => Value}}")),
        }
    }
}
