//! [`SmallMap`] and [`SmallSet`]: the maps of a process's relations (links,
//! monitors, aliases), a vector scanned linearly while small and a hash map once
//! large.
//!
//! Almost every process holds a handful of links and monitors at a time — a
//! `gen_server` call adds and removes one monitor and one alias on the caller and
//! one monitor on the server — and for a handful, a scan of one cache line beats
//! hashing and probing (each hash-map insert or remove costs tens of instructions).
//! A process that gathers more than [`SPILL`] entries (a server monitored by
//! thousands of callers, a supervisor linked to thousands of children) moves them
//! to a hash map for good, so no operation is ever worse than O(1) expected plus a
//! scan of [`SPILL`] entries.

use std::collections::HashMap;
use std::collections::hash_map;
use std::hash::Hash;

/// A fast hasher for runtime-made keys (pids, references): they are not chosen by an
/// adversary, so a multiply-rotate mix is enough, and the hasher carries no random
/// state (keeping the empty sets of a million processes small).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type IdBuild = std::hash::BuildHasherDefault<IdHasher>;

/// Entries kept in the vector at most; the next insert moves them to a hash map.
pub(crate) const SPILL: usize = 16;

/// A map with `Copy` keys, small-first (see the module docs).
#[derive(Debug)]
pub(crate) enum SmallMap<K, V> {
    Small(Vec<(K, V)>),
    Big(HashMap<K, V, IdBuild>),
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap::Small(Vec::new())
    }
}

impl<K: Copy + Eq + Hash, V> SmallMap<K, V> {
    /// Inserts `v` under `k`; returns the value it replaces.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self {
            SmallMap::Small(entries) => {
                if let Some(e) = entries.iter_mut().find(|e| e.0 == k) {
                    return Some(std::mem::replace(&mut e.1, v));
                }
                if entries.len() < SPILL {
                    entries.push((k, v));
                    return None;
                }
                let mut big: HashMap<K, V, IdBuild> =
                    HashMap::with_capacity_and_hasher(2 * SPILL, IdBuild::default());
                big.extend(entries.drain(..));
                big.insert(k, v);
                *self = SmallMap::Big(big);
                None
            }
            SmallMap::Big(map) => map.insert(k, v),
        }
    }

    /// Removes `k`; returns its value.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        match self {
            SmallMap::Small(entries) => {
                let i = entries.iter().position(|e| e.0 == *k)?;
                Some(entries.swap_remove(i).1)
            }
            SmallMap::Big(map) => map.remove(k),
        }
    }

    /// The value under `k`.
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        match self {
            SmallMap::Small(entries) => entries.iter().find(|e| e.0 == *k).map(|e| &e.1),
            SmallMap::Big(map) => map.get(k),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        match self {
            SmallMap::Small(entries) => entries.len(),
            SmallMap::Big(map) => map.len(),
        }
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> Iter<'_, K, V> {
        match self {
            SmallMap::Small(entries) => Iter::Small(entries.iter()),
            SmallMap::Big(map) => Iter::Big(map.iter()),
        }
    }

    /// Every value, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    /// Removes every entry (a spilled map stays a hash map, with its memory).
    pub(crate) fn clear(&mut self) {
        match self {
            SmallMap::Small(entries) => entries.clear(),
            SmallMap::Big(map) => map.clear(),
        }
    }
}

/// The entries of a [`SmallMap`].
#[derive(Debug)]
pub(crate) enum Iter<'a, K, V> {
    Small(std::slice::Iter<'a, (K, V)>),
    Big(hash_map::Iter<'a, K, V>),
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(it) => it.next().map(|(k, v)| (k, v)),
            Iter::Big(it) => it.next(),
        }
    }
}

/// A set with `Copy` members, small-first (a [`SmallMap`] to `()`).
#[derive(Debug)]
pub(crate) struct SmallSet<K>(SmallMap<K, ()>);

impl<K> Default for SmallSet<K> {
    fn default() -> Self {
        SmallSet(SmallMap::default())
    }
}

impl<K: Copy + Eq + Hash> SmallSet<K> {
    /// Adds `k`; `true` if it was not there.
    pub(crate) fn insert(&mut self, k: K) -> bool {
        self.0.insert(k, ()).is_none()
    }

    /// Removes `k`; `true` if it was there.
    pub(crate) fn remove(&mut self, k: &K) -> bool {
        self.0.remove(k).is_some()
    }

    pub(crate) fn contains(&self, k: &K) -> bool {
        self.0.get(k).is_some()
    }

    /// Every member, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a `std` map, across the spill: the same answers to every operation.
    #[test]
    fn behaves_as_a_hash_map_below_and_above_the_spill() {
        let mut small: SmallMap<u64, u64> = SmallMap::default();
        let mut model: std::collections::HashMap<u64, u64> = Default::default();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for step in 0..20_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Keys from a range that grows, so the map spills midway.
            let k = seed % (4 + step / 200);
            match seed % 3 {
                0 | 1 => assert_eq!(small.insert(k, step), model.insert(k, step)),
                _ => assert_eq!(small.remove(&k), model.remove(&k)),
            }
            assert_eq!(small.get(&k), model.get(&k));
            assert_eq!(small.len(), model.len());
        }
        assert!(matches!(small, SmallMap::Big(_)), "the test never spilled");
        let mut got: Vec<_> = small.iter().map(|(&k, &v)| (k, v)).collect();
        let mut want: Vec<_> = model.into_iter().collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn a_small_map_is_no_bigger_than_a_hash_map() {
        // The process record keeps three of them; the enum fits in the hash map's
        // own size (its tag rides in a niche).
        assert_eq!(
            std::mem::size_of::<SmallMap<crate::pid::MonitorRef, crate::pid::Pid>>(),
            std::mem::size_of::<HashMap<crate::pid::MonitorRef, crate::pid::Pid, IdBuild>>(),
        );
    }

    #[test]
    fn a_set_says_whether_it_changed() {
        let mut s: SmallSet<u32> = SmallSet::default();
        assert!(s.insert(1));
        assert!(!s.insert(1));
        assert!(s.contains(&1));
        assert!(s.remove(&1));
        assert!(!s.remove(&1));
        for i in 0..100 {
            s.insert(i);
        }
        assert_eq!(s.iter().count(), 100);
        s.clear();
        assert_eq!(s.iter().count(), 0);
    }
}
