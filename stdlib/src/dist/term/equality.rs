//! Erlang's exact equality (`=:=`) and a hash consistent with it.
//!
//! Integers and floats never compare equal (`1 =:= 1.0` is false); floats compare
//! by bits, so `0.0 =:= -0.0` is false as in OTP 27. Maps compare as sets of
//! pairs, whatever their order; their hash is order-independent to match.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::Term;

/// Walked with an explicit stack of pairs still to compare, not recursion (the
/// deepest decoded term compares on a small process stack); only map keys out
/// of order fall back to a recursive set comparison.
impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        let mut pending = vec![(self, other)];
        while let Some((a, b)) = pending.pop() {
            if !shallow_eq(a, b, &mut pending) {
                return false;
            }
        }
        true
    }
}

/// Compares `a` and `b` down to their elements, which are pushed on `pending`.
fn shallow_eq<'a>(a: &'a Term, b: &'a Term, pending: &mut Vec<(&'a Term, &'a Term)>) -> bool {
    use Term::*;
    match (a, b) {
        (List(a), List(b)) | (Tuple(a), Tuple(b)) => push_pairs(a, b, pending),
        (ImproperList(a, x), ImproperList(b, y)) => {
            pending.push((x, y));
            push_pairs(a, b, pending)
        }
        (Map(a), Map(b)) if a.len() != b.len() => false,
        (Map(a), Map(b)) if a.iter().zip(b).all(|((k, _), (l, _))| k == l) => {
            pending.extend(a.iter().zip(b).map(|((_, v), (_, w))| (v, w)));
            true
        }
        (Map(a), Map(b)) => maps_equal(a, b),
        (a, b) => leaf_eq(a, b),
    }
}

fn push_pairs<'a>(a: &'a [Term], b: &'a [Term], pending: &mut Vec<(&'a Term, &'a Term)>) -> bool {
    if a.len() != b.len() {
        return false;
    }
    pending.extend(a.iter().zip(b));
    true
}

fn leaf_eq(a: &Term, b: &Term) -> bool {
    use Term::*;
    match (a, b) {
        (Atom(a), Atom(b)) => a == b,
        (Int(a), Int(b)) => a == b,
        (BigInt(a), BigInt(b)) => a == b,
        (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
        (Binary(a), Binary(b)) => a == b,
        (BitBinary { bytes: a, bits: x }, BitBinary { bytes: b, bits: y }) => a == b && x == y,
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

impl Eq for Term {}

/// Same pairs in any order; keys are distinct in a map, so matching each pair of
/// `a` in `b` suffices once the lengths agree.
fn maps_equal(a: &[(Term, Term)], b: &[(Term, Term)]) -> bool {
    a.len() == b.len() && a.iter().all(|pair| b.contains(pair))
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
