//! The OS-process-wide table of other nodes' incarnations, so that a [`Pid`] of a
//! process on another node stays a small `Copy` value.
//!
//! An Erlang pid is `{Node, Id, Serial, Creation}`. beamlet's [`Pid`] has three
//! 32-bit fields; a pid of another node keeps `Id` and `Serial` in the index and
//! serial fields and, in the runtime field, [`REMOTE`] plus the number of its
//! `(Node, Creation)` pair in this table. Interning is the only write:
//!
//! 1. A decoder that meets a pid of another node calls [`intern`] with the node's
//!    name and creation; the pair gets a number once and keeps it for the life of the
//!    OS process (a later incarnation of the same node is a new pair, so pids of a
//!    restarted node never reach its new processes, as on the BEAM).
//! 2. The table holds at most [`MAX_NODES`] pairs: a peer that sends pids of ever
//!    new made-up nodes gets an error, not unbounded growth (the BEAM's atom table
//!    has the same kind of bound).
//! 3. Readers ([`get`]) take the read lock; pids of other nodes are printed, encoded
//!    and routed through it, never on a local path.
//!
//! [`Pid`]: crate::Pid

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The runtime-field bit of a pid of another node.
pub(crate) const REMOTE: u32 = 1 << 31;

/// The most `(node, creation)` pairs one OS process learns about.
pub(crate) const MAX_NODES: usize = 1 << 16;

#[derive(Default)]
struct Table {
    entries: Vec<(Arc<str>, u32)>,
    numbers: HashMap<(Arc<str>, u32), u32>,
}

static TABLE: RwLock<Option<Table>> = RwLock::new(None);

/// The number of `(name, creation)`, given one if it has none; `None` when the table
/// is full.
pub(crate) fn intern(name: &str, creation: u32) -> Option<u32> {
    let key: (Arc<str>, u32) = (name.into(), creation);
    if let Some(table) = TABLE.read().unwrap_or_else(|e| e.into_inner()).as_ref()
        && let Some(&n) = table.numbers.get(&key)
    {
        return Some(n);
    }
    let mut guard = TABLE.write().unwrap_or_else(|e| e.into_inner());
    let table = guard.get_or_insert_with(Table::default);
    if let Some(&n) = table.numbers.get(&key) {
        return Some(n);
    }
    if table.entries.len() >= MAX_NODES {
        return None;
    }
    let n = table.entries.len() as u32;
    table.entries.push(key.clone());
    table.numbers.insert(key, n);
    Some(n)
}

/// The node name and creation numbered `n`.
pub(crate) fn get(n: u32) -> Option<(Arc<str>, u32)> {
    let guard = TABLE.read().unwrap_or_else(|e| e.into_inner());
    guard.as_ref()?.entries.get(n as usize).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_keeps_its_number_and_a_new_creation_gets_another() {
        let a = intern("a@host", 1).unwrap();
        assert_eq!(intern("a@host", 1), Some(a));
        let b = intern("a@host", 2).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            get(a).map(|(n, c)| (n.to_string(), c)),
            Some(("a@host".into(), 1))
        );
        assert_eq!(get(b).map(|(_, c)| c), Some(2));
    }
}
