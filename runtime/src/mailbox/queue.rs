//! The receiver-owned side of a mailbox: the private queue that selective receive
//! scans (the protocol is in [`super`], steps 3 and 4).

use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};

use super::node::{Header, Node};

/// A position in a [`Queue`] to resume scanning after: `None` = before the first node.
pub(crate) type Cursor = Option<NonNull<Header>>;

/// Outcome of [`Queue::scan`].
#[must_use]
pub(crate) enum Scan {
    /// A node matched and was unlinked.
    Found(Node),
    /// Nothing matched; `last` is where the next scan should resume.
    NotFound { last: Cursor },
}

/// The receiver-owned message queue (singly linked through the node headers).
#[derive(Debug)]
pub(crate) struct Queue {
    head: *mut Header,
    tail: *mut Header,
    len: usize,
    /// The receive mark: `Some(pos)` where `pos` is the cursor after which replies to
    /// the latest request can be; `mark_id` names that request.
    mark: Option<Cursor>,
    mark_id: u64,
    /// Bumped when [`Queue::shed_oldest`] removes nodes: a receive holding a cursor
    /// across a switch must rescan, since its cursor's node may be gone.
    epoch: u64,
}

// SAFETY: the queue owns its nodes (all `Send`); raw pointers are only its links.
unsafe impl Send for Queue {}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
            len: 0,
            mark: None,
            mark_id: 0,
            epoch: 0,
        }
    }
}

impl Queue {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push_back(&mut self, node: Node) {
        let p = node.into_raw().as_ptr();
        if self.tail.is_null() {
            self.head = p;
        } else {
            // SAFETY: `tail` is a node owned by this queue.
            unsafe { (*self.tail).next = p };
        }
        self.tail = p;
        self.len += 1;
    }

    /// Sets the mark at the current tail and names it `id`.
    pub(crate) fn set_mark(&mut self, id: u64) {
        self.mark = Some(NonNull::new(self.tail));
        self.mark_id = id;
    }

    /// The cursor of mark `id`, if it is still the current mark.
    pub(crate) fn mark(&self, id: u64) -> Cursor {
        match self.mark {
            Some(c) if self.mark_id == id => c,
            _ => None,
        }
    }

    /// Scans the nodes after `after` and unlinks the first for which `pred` holds.
    /// `examined` is increased by the number of nodes looked at.
    pub(crate) fn scan(
        &mut self,
        after: Cursor,
        examined: &mut usize,
        pred: &mut dyn FnMut(&Node) -> bool,
    ) -> Scan {
        let mut prev: *mut Header = after.map_or(ptr::null_mut(), |p| p.as_ptr());
        let mut cur = if prev.is_null() {
            self.head
        } else {
            // SAFETY: a cursor is always a node of this queue (see `unlink`).
            unsafe { (*prev).next }
        };
        while let Some(c) = NonNull::new(cur) {
            *examined += 1;
            // SAFETY: `c` is owned by the queue; the ManuallyDrop view lends it to
            // `pred` without giving up ownership.
            let view = ManuallyDrop::new(unsafe { Node::from_raw(c) });
            if pred(&view) {
                self.unlink(prev, c.as_ptr());
                // SAFETY: unlinked above, so ownership moves to the caller.
                return Scan::Found(unsafe { Node::from_raw(c) });
            }
            prev = cur;
            // SAFETY: `c` is a node of this queue.
            cur = unsafe { (*cur).next };
        }
        Scan::NotFound {
            last: NonNull::new(prev),
        }
    }

    fn unlink(&mut self, prev: *mut Header, cur: *mut Header) {
        // SAFETY: `cur` is a node of this queue and `prev` its predecessor (or null).
        let next = unsafe { (*cur).next };
        if prev.is_null() {
            self.head = next;
        } else {
            // SAFETY: as above.
            unsafe { (*prev).next = next };
        }
        if self.tail == cur {
            self.tail = prev;
        }
        if self.mark == Some(NonNull::new(cur)) {
            // Keep the mark on a live node: its predecessor now ends the old part.
            self.mark = Some(NonNull::new(prev));
        }
        // SAFETY: `cur` is being handed out; clear its link.
        unsafe { (*cur).next = ptr::null_mut() };
        self.len -= 1;
    }

    /// Changes whenever nodes were removed behind a receive's back (see `epoch`).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Drops the oldest sheddable nodes until at most `max` nodes remain or none is
    /// left to drop (a `DropOldest` limit). Returns how many were dropped. Each scan
    /// restarts at the head: what precedes the first sheddable node is the few
    /// runtime-made messages (`Down`, `Exit`, replies), which are kept.
    pub(crate) fn shed_oldest(&mut self, max: usize) -> usize {
        let mut dropped = 0;
        while self.len > max {
            let mut examined = 0;
            match self.scan(None, &mut examined, &mut |n| n.header().sheddable) {
                Scan::Found(node) => {
                    drop(node);
                    dropped += 1;
                }
                Scan::NotFound { .. } => break,
            }
        }
        if dropped > 0 {
            self.epoch = self.epoch.wrapping_add(1);
        }
        dropped
    }

    /// Removes every node.
    pub(crate) fn clear(&mut self) {
        let mut cur = self.head;
        while let Some(c) = NonNull::new(cur) {
            // SAFETY: every node of the chain is owned by the queue.
            cur = unsafe { (*cur).next };
            // SAFETY: as above; each node is dropped once.
            drop(unsafe { Node::from_raw(c) });
        }
        self.head = ptr::null_mut();
        self.tail = ptr::null_mut();
        self.len = 0;
        self.mark = None;
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn msg(v: u32) -> Node {
        Node::new(v)
    }

    fn take(q: &mut Queue, after: Cursor, want: u32) -> Option<u32> {
        let mut n = 0;
        match q.scan(after, &mut n, &mut |m| {
            m.downcast_ref::<u32>() == Some(&want)
        }) {
            Scan::Found(node) => node.downcast::<u32>().ok(),
            Scan::NotFound { .. } => None,
        }
    }

    #[test]
    fn selective_scan_keeps_the_rest_in_order() {
        let mut q = Queue::default();
        for i in 0..5 {
            q.push_back(msg(i));
        }
        assert_eq!(take(&mut q, None, 2), Some(2));
        assert_eq!(take(&mut q, None, 4), Some(4));
        let mut rest = Vec::new();
        for want in [0, 1, 3] {
            rest.push(take(&mut q, None, want).unwrap());
        }
        assert_eq!(rest, [0, 1, 3]);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn mark_skips_older_messages_and_survives_unlink() {
        let mut q = Queue::default();
        for i in 0..1000 {
            q.push_back(msg(i));
        }
        q.set_mark(7);
        q.push_back(msg(5000));
        let mut n = 0;
        let m = q.mark(7);
        match q.scan(m, &mut n, &mut |_| true) {
            Scan::Found(node) => assert_eq!(node.downcast::<u32>().unwrap(), 5000),
            Scan::NotFound { .. } => panic!("reply not found"),
        }
        assert_eq!(n, 1, "the scan started after the mark");
        // Removing the marked node moves the mark back; it stays valid.
        assert_eq!(take(&mut q, None, 999), Some(999));
        q.push_back(msg(6000));
        let m = q.mark(7);
        assert_eq!(take(&mut q, m, 6000), Some(6000));
        assert_eq!(q.mark(8), None);
    }
}
