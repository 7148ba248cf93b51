//! Erlang's exact equality (`=:=`) and a hash consistent with it.
//!
//! Integers and floats never compare equal (`1 =:= 1.0` is false); floats compare
//! by bits, so `0.0 =:= -0.0` is false as in OTP 27. Maps compare as sets of
//! pairs, whatever their order; their hash is order-independent to match.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::Term;

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        use Term::*;
        match (self, other) {
            (Atom(a), Atom(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (BigInt(a), BigInt(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Binary(a), Binary(b)) => a == b,
            (BitBinary { bytes: a, bits: x }, BitBinary { bytes: b, bits: y }) => a == b && x == y,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (ImproperList(a, x), ImproperList(b, y)) => a == b && x == y,
            (Map(a), Map(b)) => maps_equal(a, b),
            (Pid(a), Pid(b)) => a == b,
            (Ref(a), Ref(b)) => a == b,
            (Port(a), Port(b)) => a == b,
            (
                Export {
                    module: m1,
                    function: f1,
                    arity: a1,
                },
                Export {
                    module: m2,
                    function: f2,
                    arity: a2,
                },
            ) => m1 == m2 && f1 == f2 && a1 == a2,
            (Fun(a), Fun(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Term {}

/// Same pairs in any order; keys are distinct in a map, so matching each pair of
/// `a` in `b` suffices once the lengths agree. Same order is tried first: it is
/// what a decoded copy of an encoded map has.
fn maps_equal(a: &[(Term, Term)], b: &[(Term, Term)]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a == b {
        return true;
    }
    a.iter().all(|pair| b.contains(pair))
}

impl Hash for Term {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Term::Atom(a) => a.hash(state),
            Term::Int(v) => v.hash(state),
            Term::BigInt(b) => b.hash(state),
            Term::Float(f) => f.to_bits().hash(state),
            Term::Binary(b) => b.hash(state),
            Term::BitBinary { bytes, bits } => (bytes, bits).hash(state),
            Term::List(items) | Term::Tuple(items) => items.hash(state),
            Term::ImproperList(items, tail) => (items, tail).hash(state),
            Term::Map(pairs) => hash_map_pairs(pairs, state),
            Term::Pid(p) => p.hash(state),
            Term::Ref(r) => r.hash(state),
            Term::Port(p) => p.hash(state),
            Term::Export {
                module,
                function,
                arity,
            } => (module, function, arity).hash(state),
            Term::Fun(raw) => raw.hash(state),
        }
    }
}

/// The sum of the pairs' own hashes: independent of their order.
fn hash_map_pairs<H: Hasher>(pairs: &[(Term, Term)], state: &mut H) {
    let sum = pairs.iter().fold(0u64, |acc, pair| {
        let mut h = DefaultHasher::new();
        pair.hash(&mut h);
        acc.wrapping_add(h.finish())
    });
    pairs.len().hash(state);
    sum.hash(state);
}
