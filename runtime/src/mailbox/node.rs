//! Type-erased message envelopes with an intrusive link: one allocation per message.
//!
//! An envelope is `#[repr(C)] Envelope<T> { header: Header, value: T }`. The header
//! carries the link used by both mailbox queues, the serial of the process the message
//! was sent to (stale messages for a previous occupant of a slot are dropped), and a
//! static vtable with the value's `TypeId` and drop function (and, for a
//! [`Headed`] type sent with its head readable, how to read that head). A `Node` owns one
//! envelope and is the only way to reach its value. Small envelopes live in blocks
//! recycled through per-thread free lists ([`super::pool`]), larger ones are boxed.

use std::alloc::Layout;
use std::any::TypeId;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use super::pool;

/// What a node carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A user message, visible to `receive`.
    Message,
    /// A runtime signal (exit, link, monitor, ...), acted on when the mailbox is
    /// drained and never seen by `receive`.
    Signal,
}

pub(crate) struct VTable {
    type_id: fn() -> TypeId,
    /// For reports and debugging (`Message::type_name`).
    type_name: fn() -> &'static str,
    /// Drops the whole envelope. Safety: the pointer is an owned `Envelope<T>`.
    drop_envelope: unsafe fn(NonNull<Header>),
    /// Set only for a [`Headed`] type built with [`Node::headed`].
    head: Option<HeadReader>,
}

/// How to read the head of a [`Headed`] value without knowing its type.
#[derive(Clone, Copy)]
struct HeadReader {
    /// The `TypeId` of `T::Head`.
    type_id: fn() -> TypeId,
    /// Writes a copy of the head to `out`. Safety: the pointer is a live
    /// `Envelope<T>`, and `out` is valid for a write of a `T::Head`.
    read: unsafe fn(NonNull<Header>, out: *mut u8),
}

/// A message type with a *head*: a small `Copy` summary (a reply address, a
/// protocol tag) that a receiver can read from a [`Message`](crate::Message) with
/// [`head`](crate::Message::head) without knowing the message's type, as an Erlang
/// process can match `{'$gen_call', From, _}` whatever the request. Only a message
/// sent with [`send_headed`](crate::send_headed) has its head readable; sent with
/// [`send`](crate::send) it is an ordinary message.
///
/// ```
/// use beamlet::{Headed, receive_any, self_pid, send_headed};
/// struct Job<T> { id: u32, work: T }
/// impl<T: Send + 'static> Headed for Job<T> {
///     type Head = u32;
///     fn head(&self) -> u32 { self.id }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send_headed(self_pid(), Job { id: 7, work: vec![1.5f64] }).unwrap();
///     let m = receive_any();
///     // Readable without naming `Job<Vec<f64>>`:
///     assert_eq!(m.head::<u32>(), Some(7));
///     assert_eq!(m.downcast::<Job<Vec<f64>>>().unwrap().work, [1.5]);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub trait Headed: Send + 'static {
    /// The head's type.
    type Head: Copy + 'static;
    /// The head of this message.
    fn head(&self) -> Self::Head;
}

#[repr(C)]
pub(crate) struct Header {
    /// Next node in whichever queue holds this node. Written only by the node's owner
    /// before it publishes the node (see `Inbound::push`).
    pub(crate) next: *mut Header,
    pub(crate) serial: u32,
    pub(crate) kind: Kind,
    /// Sent with a limited send (`send`, `Runtime::send`): a `DropOldest` mailbox
    /// limit may discard it. Runtime-made messages never are.
    pub(crate) sheddable: bool,
    /// Counted in the receiver's `arrivals` by its sender (the mailbox was metered):
    /// whoever disposes of it counts it out (see `mailbox::limit`).
    pub(crate) counted: bool,
    vtable: &'static VTable,
}

#[repr(C)]
struct Envelope<T> {
    header: Header,
    value: T,
}

trait HasVTable {
    const VTABLE: VTable;
}

/// Where envelopes of a type live: a pooled block's size class, or `None` for a
/// `Box` of their own.
trait Placed {
    const CLASS: Option<usize>;
}

impl<T> Placed for Envelope<T> {
    const CLASS: Option<usize> = pool::class_of(Layout::new::<Envelope<T>>());
}

/// Moves `env` into a pooled block or a box; returns its header.
fn place<T>(env: Envelope<T>) -> NonNull<Header> {
    let Some(class) = <Envelope<T> as Placed>::CLASS else {
        return NonNull::from(Box::leak(Box::new(env))).cast();
    };
    let Some(block) = pool::take(class) else {
        std::alloc::handle_alloc_error(pool::block_layout(class))
    };
    let p = block.cast::<Envelope<T>>();
    // SAFETY: the block is ours, at least as large as an `Envelope<T>` and aligned
    // for it (`class_of` checks both); it is uninitialised, so it is written whole.
    unsafe { p.as_ptr().write(env) };
    p.cast()
}

/// Frees the memory of an envelope whose value was dropped or moved out.
///
/// # Safety
///
/// `p` must come from `place::<T>` and its value must be dead; `p` is not used after.
unsafe fn unplace<T>(p: NonNull<Envelope<T>>) {
    match <Envelope<T> as Placed>::CLASS {
        // SAFETY: per the contract the block came from `pool::take(class)` (the
        // class is a constant of `T`) and nothing uses it any more.
        Some(class) => unsafe { pool::give(class, p.cast()) },
        // SAFETY: per the contract `p` was leaked from a `Box<Envelope<T>>`; its
        // value is dead, so it is freed as uninitialised memory.
        None => drop(unsafe { Box::from_raw(p.as_ptr().cast::<MaybeUninit<Envelope<T>>>()) }),
    }
}

impl<T: Send + 'static> HasVTable for T {
    const VTABLE: VTable = VTable {
        type_id: TypeId::of::<T>,
        type_name: std::any::type_name::<T>,
        drop_envelope: drop_envelope::<T>,
        head: None,
    };
}

/// The vtable of a [`Headed`] type sent with its head readable: as its plain one,
/// plus the head reader.
trait HasHeadedVTable {
    const VTABLE: VTable;
}

impl<T: Headed> HasHeadedVTable for T {
    const VTABLE: VTable = VTable {
        head: Some(HeadReader {
            type_id: TypeId::of::<T::Head>,
            read: read_head::<T>,
        }),
        ..<T as HasVTable>::VTABLE
    };
}

/// # Safety
///
/// `h` must be the header of a live envelope made by `place::<T>`, and `out` valid
/// for a write of a `T::Head`.
unsafe fn read_head<T: Headed>(h: NonNull<Header>, out: *mut u8) {
    // SAFETY: per the contract `h` starts a live `Envelope<T>` (the header is the
    // first field of a repr(C) struct) and `out` can hold a `T::Head`.
    unsafe {
        let value = &(*h.cast::<Envelope<T>>().as_ptr()).value;
        out.cast::<T::Head>().write(value.head());
    }
}

/// # Safety
///
/// `h` must be the header of an owned envelope made by `place::<T>`, not used
/// afterwards.
unsafe fn drop_envelope<T>(h: NonNull<Header>) {
    let p = h.cast::<Envelope<T>>();
    // SAFETY: per the contract, `h` is the start of an owned `Envelope<T>` (the header
    // is the first field of a repr(C) struct): its value is dropped once, then its
    // memory freed.
    unsafe {
        std::ptr::drop_in_place(&raw mut (*p.as_ptr()).value);
        unplace(p);
    }
}

/// An owned envelope.
pub(crate) struct Node(NonNull<Header>);

// SAFETY: a Node is only built from `T: Send` values (see `Node::new`), and owns its
// envelope exclusively, so moving it to another thread moves a `Send` value.
unsafe impl Send for Node {}

impl Node {
    /// Boxes a message into an envelope.
    pub(crate) fn new<T: Send + 'static>(value: T) -> Node {
        Node::with_kind(value, Kind::Message)
    }

    /// Boxes a message whose head stays readable ([`Node::head`]).
    pub(crate) fn headed<T: Headed>(value: T) -> Node {
        Node::with_vtable(value, Kind::Message, &<T as HasHeadedVTable>::VTABLE)
    }

    /// Boxes `value` into an envelope of the given kind.
    pub(crate) fn with_kind<T: Send + 'static>(value: T, kind: Kind) -> Node {
        Node::with_vtable(value, kind, &<T as HasVTable>::VTABLE)
    }

    /// `vtable` must be `T`'s (plain or headed).
    fn with_vtable<T: Send + 'static>(value: T, kind: Kind, vtable: &'static VTable) -> Node {
        Node(place(Envelope {
            header: Header {
                next: std::ptr::null_mut(),
                serial: 0,
                kind,
                sheddable: false,
                counted: false,
                vtable,
            },
            value,
        }))
    }

    /// The name of the value's type.
    pub(crate) fn type_name(&self) -> &'static str {
        (self.header().vtable.type_name)()
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the node owns a live envelope whose first field is the header.
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn set_serial(&mut self, serial: u32) {
        // SAFETY: the node owns its envelope exclusively (&mut self).
        unsafe { self.0.as_mut().serial = serial };
    }

    pub(crate) fn set_sheddable(&mut self) {
        // SAFETY: the node owns its envelope exclusively (&mut self).
        unsafe { self.0.as_mut().sheddable = true };
    }

    pub(crate) fn set_counted(&mut self) {
        // SAFETY: the node owns its envelope exclusively (&mut self).
        unsafe { self.0.as_mut().counted = true };
    }

    /// `true` if this is a message its sender counted (see `mailbox::limit`).
    pub(crate) fn is_counted_message(&self) -> bool {
        self.header().kind == Kind::Message && self.header().counted
    }

    /// `true` if the value is a `T`.
    pub(crate) fn is<T: 'static>(&self) -> bool {
        (self.header().vtable.type_id)() == TypeId::of::<T>()
    }

    /// A copy of the value's head, if it was made by [`Node::headed`] with a head of
    /// type `H`.
    pub(crate) fn head<H: Copy + 'static>(&self) -> Option<H> {
        let reader = self.header().vtable.head?;
        if (reader.type_id)() != TypeId::of::<H>() {
            return None;
        }
        let mut out = MaybeUninit::<H>::uninit();
        // SAFETY: a vtable has a reader only if made by `Node::headed::<T>`, so the
        // node owns a live `Envelope<T>`; its `T::Head` is `H` (checked above), so
        // `out` can hold it, and after the write it is initialised.
        unsafe {
            (reader.read)(self.0, out.as_mut_ptr().cast::<u8>());
            Some(out.assume_init())
        }
    }

    /// The value, if it is a `T`.
    pub(crate) fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        if self.is::<T>() {
            // SAFETY: the type check above proves the envelope is an `Envelope<T>`.
            Some(unsafe { &(*self.0.as_ptr().cast::<Envelope<T>>()).value })
        } else {
            None
        }
    }

    /// Takes the value out if it is a `T`, freeing the envelope.
    pub(crate) fn downcast<T: 'static>(self) -> Result<T, Node> {
        if !self.is::<T>() {
            return Err(self);
        }
        let p = self.into_raw().cast::<Envelope<T>>();
        // SAFETY: the type check proves `p` is an owned `Envelope<T>` made by
        // `place`; released from the Node, its value is moved out and its memory
        // freed exactly once, here.
        unsafe {
            let value = std::ptr::read(&raw const (*p.as_ptr()).value);
            unplace(p);
            Ok(value)
        }
    }

    /// Releases ownership; the caller must rebuild the node with `from_raw`.
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let p = self.0;
        std::mem::forget(self);
        p
    }

    /// # Safety
    ///
    /// `p` must come from `Node::into_raw` and be owned by the caller.
    pub(crate) unsafe fn from_raw(p: NonNull<Header>) -> Node {
        Node(p)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let drop_fn = self.header().vtable.drop_envelope;
        // SAFETY: the node owns the envelope, which was boxed by `Node::new` with the
        // vtable of its own type.
        unsafe { drop_fn(self.0) };
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("serial", &self.header().serial)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn downcast_and_drop() {
        let n = Node::new(42u64);
        assert!(n.is::<u64>());
        assert!(!n.is::<u32>());
        let n = n.downcast::<u32>().unwrap_err();
        assert_eq!(n.downcast::<u64>().unwrap(), 42);

        let a = Arc::new(());
        let n = Node::new(a.clone());
        assert_eq!(Arc::strong_count(&a), 2);
        drop(n);
        assert_eq!(Arc::strong_count(&a), 1);
    }

    struct Job<T>(u16, T);

    impl<T: Send + 'static> Headed for Job<T> {
        type Head = u16;
        fn head(&self) -> u16 {
            self.0
        }
    }

    #[test]
    fn a_head_is_read_only_from_a_headed_node_and_as_its_type() {
        let headed = Node::headed(Job(9, [7u64; 40]));
        assert_eq!(headed.head::<u16>(), Some(9));
        assert_eq!(headed.head::<u32>(), None);
        assert!(headed.is::<Job<[u64; 40]>>());
        assert_eq!(
            headed.downcast::<Job<[u64; 40]>>().ok().map(|j| j.1[39]),
            Some(7)
        );
        let plain = Node::new(Job(9, ()));
        assert_eq!(plain.head::<u16>(), None);
        assert_eq!(Node::new(3u16).head::<u16>(), None);
    }
}
