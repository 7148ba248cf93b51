//! Mailboxes: a lock-free inbound stack shared by senders, and a private queue owned by
//! the receiving process.
//!
//! # Protocol
//!
//! 1. A sender links its node onto [`Inbound`] with one compare-and-swap (a Treiber
//!    stack push). It never blocks and never waits for the receiver.
//! 2. The receiver takes the whole stack with one swap and reverses it, which restores
//!    send order for every sender (a sender's later push is above its earlier one).
//! 3. The taken nodes are appended to the receiver's private [`Queue`]. Only the
//!    receiving process touches the queue, so selective receive (scan, unlink a match
//!    in the middle, keep the rest in order) needs no synchronisation.
//! 4. A [`Queue`] keeps an optional *mark*: the position of its tail when a request was
//!    sent. A receive that starts from the mark skips every older message, so a reply
//!    is found in time independent of how many unrelated messages wait (the BEAM's
//!    receive-mark optimisation).
//!
//! 5. A metered mailbox's length is counted without a lock (see [`limit`]): a sender
//!    adds one to [`Inbound::arrivals`] before it pushes a message (one relaxed add,
//!    on the cache line its push writes anyway); the owner publishes how many of
//!    those have left. Any thread reads the difference, undrained messages included.
//!
//! Messages from one process to another arrive in send order even while either
//! migrates between schedulers: the order is fixed by the sender's sequence of pushes
//! onto the receiver's single inbound stack.

pub(crate) mod limit;
pub(crate) mod node;

use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};

use crate::loom::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use node::{Header, Node};

/// The head value of a closed inbound: never a node address (nodes are aligned).
const CLOSED: *mut Header = ptr::without_provenance_mut(1);

/// The multi-producer side of a mailbox.
///
/// A mailbox is closed when its process exits: from then on pushes fail and give the
/// node back, so a sender learns that the process is gone (and a link or monitor
/// request can be answered with `noproc`) instead of the node lying in a dead slot.
///
/// What a sender touches sits together (the struct is 32-byte aligned, so one cache
/// line): the head it pushes onto, the count it adds to, the limit it reads. The
/// owner's frequently written count (`limit::Meter`) lives elsewhere, so a receive
/// does not take this line away from the senders.
#[derive(Debug)]
#[repr(C, align(32))]
pub(crate) struct Inbound {
    head: AtomicPtr<Header>,
    /// Messages (not signals) counted into this mailbox while it was metered,
    /// wrapping: a sender adds one before it pushes and takes it back if the push
    /// fails. Never reset, so it stays consistent across the slot's occupants (see
    /// [`limit::Meter`]).
    pub(crate) arrivals: AtomicU64,
    /// The packed mailbox limit and metering bit (see [`limit::MailboxLimit`]); 0
    /// is neither.
    limit: AtomicU64,
}

impl Inbound {
    pub(crate) fn new() -> Inbound {
        Inbound {
            head: AtomicPtr::new(ptr::null_mut()),
            arrivals: AtomicU64::new(0),
            limit: AtomicU64::new(0),
        }
    }

    /// Pushes a node. Lock-free: one CAS, retried only under contention. Gives the
    /// node back if the mailbox is closed.
    pub(crate) fn push(&self, node: Node) -> Result<(), Node> {
        let p = node.into_raw().as_ptr();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            if head == CLOSED {
                // SAFETY: `p` came from `into_raw` above and was never published.
                return Err(unsafe { Node::from_raw(NonNull::new_unchecked(p)) });
            }
            // SAFETY: we own `p` until the CAS below publishes it.
            unsafe { (*p).next = head };
            // Release pairs with the Acquire swap in `take_all`: the receiver sees the
            // node's contents and its `next` link.
            match self
                .head
                .compare_exchange_weak(head, p, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(h) => head = h,
            }
        }
    }

    /// `true` if no node is waiting. A hint: a concurrent push may land right after.
    pub(crate) fn is_empty(&self) -> bool {
        let h = self.head.load(Ordering::Relaxed);
        h.is_null() || h == CLOSED
    }

    /// Takes every waiting node, oldest first. Only the owner calls this, and only
    /// while the mailbox is open.
    pub(crate) fn take_all(&self) -> Drain {
        if self.is_empty() {
            return Drain {
                next: ptr::null_mut(),
            };
        }
        self.swap_out(ptr::null_mut())
    }

    /// Closes the mailbox (pushes fail from now on) and takes what was in it.
    pub(crate) fn close(&self) -> Drain {
        self.swap_out(CLOSED)
    }

    /// Reopens a closed mailbox for a new process in the slot.
    pub(crate) fn reopen(&self) {
        // Release: a sender that sees the open head also sees the new occupant's
        // serial, published before this by the spawner.
        let _ = self.head.compare_exchange(
            CLOSED,
            ptr::null_mut(),
            Ordering::Release,
            Ordering::Relaxed,
        );
    }

    fn swap_out(&self, new_head: *mut Header) -> Drain {
        // Acquire pairs with the Release CAS in `push`.
        let mut cur = self.head.swap(new_head, Ordering::Acquire);
        if cur == CLOSED {
            cur = ptr::null_mut();
        }
        let mut reversed: *mut Header = ptr::null_mut();
        while !cur.is_null() {
            // SAFETY: the swap made us the owner of every node of the chain.
            let next = unsafe { (*cur).next };
            // SAFETY: as above.
            unsafe { (*cur).next = reversed };
            reversed = cur;
            cur = next;
        }
        Drain { next: reversed }
    }
}

impl Drop for Inbound {
    fn drop(&mut self) {
        drop(self.close());
    }
}

/// Nodes taken from an [`Inbound`], oldest first. Unconsumed nodes are dropped.
#[derive(Debug)]
pub(crate) struct Drain {
    next: *mut Header,
}

impl Iterator for Drain {
    type Item = Node;

    fn next(&mut self) -> Option<Node> {
        let p = NonNull::new(self.next)?;
        // SAFETY: the drain owns its chain; each node is handed out exactly once.
        unsafe {
            self.next = (*p.as_ptr()).next;
            (*p.as_ptr()).next = ptr::null_mut();
            Some(Node::from_raw(p))
        }
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        for node in self.by_ref() {
            drop(node);
        }
    }
}

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
    fn inbound_preserves_order() {
        let inbound = Inbound::new();
        for i in 0..100 {
            inbound.push(msg(i)).unwrap();
        }
        let got: Vec<u32> = inbound
            .take_all()
            .map(|n| n.downcast::<u32>().unwrap())
            .collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert!(inbound.is_empty());
    }

    #[test]
    fn closed_inbound_refuses_and_reopens() {
        let inbound = Inbound::new();
        inbound.push(msg(1)).unwrap();
        assert_eq!(inbound.close().count(), 1);
        let back = inbound.push(msg(2)).unwrap_err();
        assert_eq!(back.downcast::<u32>().unwrap(), 2);
        assert!(inbound.is_empty());
        inbound.reopen();
        inbound.push(msg(3)).unwrap();
        assert_eq!(inbound.take_all().count(), 1);
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
