//! The multi-producer side of a mailbox: a lock-free stack of nodes (the protocol is
//! in [`super`], steps 1, 2 and 5).

use std::ptr::{self, NonNull};

use super::node::{Header, Node};
use crate::loom::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

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
    /// [`Meter`](super::limit::Meter)).
    pub(crate) arrivals: AtomicU64,
    /// The packed mailbox limit and metering bit (see [`MailboxLimit`](super::limit::MailboxLimit)); 0
    /// is neither.
    pub(super) limit: AtomicU64,
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn msg(v: u32) -> Node {
        Node::new(v)
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
}
