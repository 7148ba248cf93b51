//! A supervisor's children in start order, indexed by id and by running pid, so
//! that a restart costs the same whatever the number of siblings.
//!
//! 1. The children live in a `Vec`, in start order (strategies and shutdown need
//!    the order).
//! 2. Two maps give a child's position from its id and from its pid while it
//!    runs. A child's pid changes only through [`Children::set_pid`], which keeps
//!    the pid map right.
//! 3. Removing a child (rare: a temporary child, `delete_child`) shifts the later
//!    ones; their positions are rewritten in both maps.

use std::collections::HashMap;
use std::time::Instant;

use beamlet_runtime::Pid;

use super::{ChildPid, ChildSpec};

/// One supervised child.
#[derive(Debug)]
pub(super) struct Child {
    pub(super) spec: ChildSpec,
    pid: ChildPid,
    /// Restarts in a row, for the backoff.
    pub(super) in_a_row: u32,
    pub(super) started: Instant,
}

impl Child {
    pub(super) fn new(spec: ChildSpec, pid: ChildPid) -> Child {
        Child {
            spec,
            pid,
            in_a_row: 0,
            started: beamlet_runtime::now(),
        }
    }

    pub(super) fn pid(&self) -> ChildPid {
        self.pid
    }
}

/// The children and their indices.
#[derive(Debug, Default)]
pub(super) struct Children {
    list: Vec<Child>,
    by_id: HashMap<String, usize>,
    by_pid: HashMap<Pid, usize>,
}

impl Children {
    pub(super) fn with_capacity(n: usize) -> Children {
        Children {
            list: Vec::with_capacity(n),
            by_id: HashMap::with_capacity(n),
            by_pid: HashMap::with_capacity(n),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn iter(&self) -> std::slice::Iter<'_, Child> {
        self.list.iter()
    }

    pub(super) fn get(&self, i: usize) -> &Child {
        &self.list[i]
    }

    /// The child at `i`, to change anything but its pid.
    pub(super) fn get_mut(&mut self, i: usize) -> &mut Child {
        &mut self.list[i]
    }

    /// The position of the child with this id.
    pub(super) fn index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The position of the child running as `pid`.
    pub(super) fn index_of_pid(&self, pid: Pid) -> Option<usize> {
        self.by_pid.get(&pid).copied()
    }

    /// Appends a child (its id must be new).
    pub(super) fn push(&mut self, child: Child) {
        let i = self.list.len();
        self.by_id.insert(child.spec.id.clone(), i);
        if let ChildPid::Running(pid) = child.pid {
            self.by_pid.insert(pid, i);
        }
        self.list.push(child);
    }

    /// Sets the process of the child at `i`.
    pub(super) fn set_pid(&mut self, i: usize, pid: ChildPid) {
        if let ChildPid::Running(old) = self.list[i].pid {
            self.by_pid.remove(&old);
        }
        if let ChildPid::Running(new) = pid {
            self.by_pid.insert(new, i);
        }
        self.list[i].pid = pid;
    }

    /// Removes the child at `i`; the later ones move up.
    pub(super) fn remove(&mut self, i: usize) -> Child {
        self.set_pid(i, ChildPid::Undefined);
        let child = self.list.remove(i);
        self.by_id.remove(&child.spec.id);
        for (j, c) in self.list.iter().enumerate().skip(i) {
            self.by_id.insert(c.spec.id.clone(), j);
            if let ChildPid::Running(pid) = c.pid {
                self.by_pid.insert(pid, j);
            }
        }
        child
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pids(n: usize) -> Vec<Pid> {
        let rt = beamlet_runtime::Runtime::builder()
            .schedulers(1)
            .build()
            .unwrap();
        let pids = rt
            .block_on(move || {
                (0..n)
                    .map(|_| beamlet_runtime::spawn(|| ()).unwrap())
                    .collect()
            })
            .unwrap();
        let _ = rt.shutdown();
        pids
    }

    fn spec(id: &str) -> ChildSpec {
        ChildSpec::worker(id, || beamlet_runtime::spawn_link(|| ()))
    }

    #[test]
    fn indices_follow_pids_and_removals() {
        let p = pids(4);
        let mut c = Children::default();
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            c.push(Child::new(spec(id), ChildPid::Running(p[i])));
        }
        assert_eq!(c.index_of_pid(p[1]), Some(1));
        c.set_pid(1, ChildPid::Running(p[3]));
        assert_eq!(
            (c.index_of_pid(p[1]), c.index_of_pid(p[3])),
            (None, Some(1))
        );
        let removed = c.remove(0);
        assert_eq!(removed.spec.id, "a");
        assert_eq!(c.index_of_pid(p[0]), None);
        assert_eq!(
            (c.index("b"), c.index("c"), c.index("a")),
            (Some(0), Some(1), None)
        );
        assert_eq!(
            (c.index_of_pid(p[3]), c.index_of_pid(p[2])),
            (Some(0), Some(1))
        );
        c.set_pid(1, ChildPid::Restarting);
        assert_eq!(c.index_of_pid(p[2]), None);
        assert_eq!(c.len(), 2);
    }
}
