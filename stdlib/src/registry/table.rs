//! The registry's table, shared by the registry process and every client.
//!
//! 1. Entries live in `N` key partitions (`RwLock<HashMap<K, Vec<(Pid, V)>>>`),
//!    chosen by the key's hash: a lookup read-locks one partition; registrations
//!    under different keys rarely meet.
//! 2. A pid index (`N` partitions of `Mutex<HashMap<Pid, Vec<K>>>`, chosen by the
//!    pid's hash) lists the keys each process holds, for `keys` and for removing a
//!    dead process's entries without a scan.
//! 3. Locks are leaves: no method holds two at once, and none calls into the
//!    runtime (so none can switch) while holding one. Liveness checks happen
//!    between locks.
//! 4. Only a process changes its own entries (registering, unregistering,
//!    updating); the registry process removes them once the process is dead
//!    ([`Table::purge`]), and a unique key held by a dead process may be taken over
//!    by another. Entries are always matched by pid, so a purge never removes a
//!    later holder's entry.
//! 5. Closing (the registry process ended) empties the table; clients check
//!    [`Table::is_closed`] first.
//! 6. A poisoned lock (a panic in a key's `Hash`/`Eq` or a value's `Clone`) is used
//!    as is: each change leaves the maps consistent.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use beamlet_runtime::{Pid, is_alive};

use super::Keys;

type Entries<V> = Vec<(Pid, V)>;

/// One key partition: the entries under each key.
type KeyPart<K, V> = RwLock<HashMap<K, Entries<V>>>;

/// One pid-index partition: the keys each process holds.
type PidPart<K> = Mutex<HashMap<Pid, Vec<K>>>;

/// The partitioned table of one registry.
pub(crate) struct Table<K, V> {
    kind: Keys,
    hasher: RandomState,
    by_key: Box<[KeyPart<K, V>]>,
    by_pid: Box<[PidPart<K>]>,
    owner: OnceLock<Pid>,
    closed: AtomicBool,
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a unique insert found under the key.
enum Found {
    Free,
    Held(Pid),
}

impl<K, V> Table<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    /// An empty table with `partitions` partitions (at least one).
    pub(crate) fn new(kind: Keys, partitions: usize) -> Table<K, V> {
        let n = partitions.max(1);
        Table {
            kind,
            hasher: RandomState::new(),
            by_key: (0..n).map(|_| RwLock::new(HashMap::new())).collect(),
            by_pid: (0..n).map(|_| Mutex::new(HashMap::new())).collect(),
            owner: OnceLock::new(),
            closed: AtomicBool::new(false),
        }
    }

    pub(crate) fn kind(&self) -> Keys {
        self.kind
    }

    pub(crate) fn partitions(&self) -> usize {
        self.by_key.len()
    }

    /// Records the registry process (once, in its `init`).
    pub(crate) fn set_owner(&self, pid: Pid) {
        let _ = self.owner.set(pid);
    }

    /// The registry process.
    pub(crate) fn owner(&self) -> Pid {
        *self
            .owner
            .get()
            .expect("the owner is set before the start returns")
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Marks the table closed and drops every entry.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for p in self.by_key.iter() {
            write(p).clear();
        }
        for p in self.by_pid.iter() {
            lock(p).clear();
        }
    }

    fn key_part<Q: Hash + ?Sized>(&self, key: &Q) -> &KeyPart<K, V> {
        let n = self.by_key.len();
        let i = if n == 1 {
            0
        } else {
            (self.hasher.hash_one(key) % n as u64) as usize
        };
        &self.by_key[i]
    }

    fn pid_part(&self, pid: Pid) -> &PidPart<K> {
        let n = self.by_pid.len();
        let i = if n == 1 {
            0
        } else {
            (self.hasher.hash_one(pid) % n as u64) as usize
        };
        &self.by_pid[i]
    }

    /// The first process holding `key` (the holder of a unique key), dead or alive.
    pub(crate) fn holder<Q>(&self, key: &Q) -> Option<Pid>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        read(self.key_part(key))
            .get(key)
            .and_then(|e| e.first())
            .map(|(p, _)| *p)
    }

    /// Adds `(pid, value)` under `key`. For unique keys, fails with the holder if a
    /// live process (or `pid` itself) holds the key; a dead holder's entry is
    /// replaced.
    pub(crate) fn insert(&self, key: K, pid: Pid, value: V) -> Result<(), Pid> {
        let part = self.key_part(&key);
        if self.kind == Keys::Duplicate {
            write(part).entry(key).or_default().push((pid, value));
            return Ok(());
        }
        loop {
            let holder = {
                let mut map = write(part);
                match unique_slot(&map, &key) {
                    Found::Free => {
                        map.insert(key, vec![(pid, value)]);
                        return Ok(());
                    }
                    Found::Held(h) if h == pid => return Err(h),
                    Found::Held(h) => h,
                }
            };
            if is_alive(holder) {
                return Err(holder);
            }
            let mut map = write(part);
            if let Some(entries) = map.get_mut(&key) {
                if entries.first().is_some_and(|(p, _)| *p == holder) {
                    *entries = vec![(pid, value)];
                    return Ok(());
                }
            }
            // The key changed hands meanwhile: look again.
        }
    }

    /// Removes `pid`'s entries under `key`; returns how many there were.
    pub(crate) fn remove<Q>(&self, key: &Q, pid: Pid) -> usize
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = write(self.key_part(key));
        let Some(entries) = map.get_mut(key) else {
            return 0;
        };
        let before = entries.len();
        entries.retain(|(p, _)| *p != pid);
        let removed = before - entries.len();
        if entries.is_empty() {
            map.remove(key);
        }
        removed
    }

    /// A copy of the entries under `key`, in registration order.
    pub(crate) fn entries<Q>(&self, key: &Q) -> Entries<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        read(self.key_part(key))
            .get(key)
            .cloned()
            .unwrap_or_default()
    }

    /// The value of `pid`'s entry under a unique `key`.
    pub(crate) fn unique_value<Q>(&self, key: &Q, pid: Pid) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = read(self.key_part(key));
        match map.get(key)?.as_slice() {
            [(p, v)] if *p == pid => Some(v.clone()),
            _ => None,
        }
    }

    /// Replaces the value of `pid`'s entry under a unique `key`; `false` if `pid`
    /// does not hold it.
    pub(crate) fn set_unique_value<Q>(&self, key: &Q, pid: Pid, value: V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = write(self.key_part(key));
        match map.get_mut(key).map(Vec::as_mut_slice) {
            Some([(p, v)]) if *p == pid => {
                *v = value;
                true
            }
            _ => false,
        }
    }

    /// The number of entries.
    pub(crate) fn count(&self) -> usize {
        let part =
            |p: &RwLock<HashMap<K, Entries<V>>>| read(p).values().map(Vec::len).sum::<usize>();
        self.by_key.iter().map(part).sum::<usize>()
    }

    /// `true` if `pid` is in the index (holds keys, or is registering its first).
    pub(crate) fn indexed(&self, pid: Pid) -> bool {
        lock(self.pid_part(pid)).contains_key(&pid)
    }

    /// Records that `pid` holds `key` (once more).
    pub(crate) fn index_add(&self, pid: Pid, key: K) {
        lock(self.pid_part(pid)).entry(pid).or_default().push(key);
    }

    /// Forgets that `pid` holds `key`; returns `true` if `pid` holds no key now
    /// (its index entry is then gone).
    pub(crate) fn index_remove<Q>(&self, pid: Pid, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = lock(self.pid_part(pid));
        let Some(keys) = map.get_mut(&pid) else {
            return false;
        };
        keys.retain(|k| k.borrow() != key);
        if keys.is_empty() {
            map.remove(&pid);
            return true;
        }
        false
    }

    /// The keys `pid` holds, in registration order (a key registered twice in a
    /// duplicate registry appears twice).
    pub(crate) fn keys_of(&self, pid: Pid) -> Vec<K> {
        lock(self.pid_part(pid))
            .get(&pid)
            .cloned()
            .unwrap_or_default()
    }

    /// Removes every entry of `pid` (a process that died).
    pub(crate) fn purge(&self, pid: Pid) {
        let keys = lock(self.pid_part(pid)).remove(&pid).unwrap_or_default();
        for key in &keys {
            self.remove(key, pid);
        }
    }
}

fn unique_slot<K: Eq + Hash, V>(map: &HashMap<K, Entries<V>>, key: &K) -> Found {
    match map.get(key).and_then(|e| e.first()) {
        Some((p, _)) => Found::Held(*p),
        None => Found::Free,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid() -> Pid {
        let rt = beamlet_runtime::Runtime::builder()
            .schedulers(1)
            .build()
            .unwrap();
        let p = rt.block_on(beamlet_runtime::self_pid).unwrap();
        let _ = rt.shutdown();
        p
    }

    #[test]
    fn duplicate_keys_keep_every_entry_and_purge_removes_only_the_pid() {
        let t: Table<String, u8> = Table::new(Keys::Duplicate, 4);
        let (a, b) = (pid(), pid());
        for (p, v) in [(a, 1), (b, 2), (a, 3)] {
            t.insert("k".into(), p, v).unwrap();
            t.index_add(p, "k".into());
        }
        assert_eq!(t.entries("k"), vec![(a, 1), (b, 2), (a, 3)]);
        assert_eq!(t.keys_of(a), vec!["k".to_string(), "k".to_string()]);
        t.purge(a);
        assert_eq!(t.entries("k"), vec![(b, 2)]);
        assert!(!t.indexed(a));
        assert_eq!(t.count(), 1);
    }

    #[test]
    fn a_dead_unique_holder_is_replaced_and_its_purge_spares_the_new_one() {
        let t: Table<&'static str, ()> = Table::new(Keys::Unique, 2);
        let (dead, next) = (pid(), pid());
        t.insert("k", dead, ()).unwrap();
        t.index_add(dead, "k");
        // `dead`'s runtime is gone, so it is not alive: the key is taken over.
        t.insert("k", next, ()).unwrap();
        assert_eq!(t.insert("k", next, ()), Err(next));
        t.purge(dead);
        assert_eq!(t.holder("k"), Some(next));
        assert_eq!(t.remove("k", next), 1);
        assert_eq!(t.count(), 0);
    }
}
