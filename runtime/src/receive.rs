//! Receiving: the receive engine and its forms — [`receive`], [`receive_match`]
//! (selective receive), [`receive_timeout`], [`try_receive`], [`receive_any`],
//! [`receive_select`], marks ([`mailbox_mark`], [`receive_match_after`]) — and
//! [`message_queue_len`]. Waiting for one of several message types is
//! [`receive!`](crate::receive!) (typed arms, guards, `after`), built on
//! [`receive_select`] (see `receive/arms.rs`).
//!
//! # Protocol of a receive ([`receive_node`])
//!
//! 1. Act on arrived signals, moving arrived messages into the private queue.
//! 2. Scan the private queue from the resume point (the head, a mark, or where the
//!    last scan of this receive stopped, if the queue's epoch is unchanged), paying
//!    one reduction per message examined. A match is taken out and returned.
//! 3. If the slice is spent, yield and go to 1.
//! 4. At the deadline, give up (`None`); else arm a wake-up for it.
//! 5. Wait (suspend until a message, a signal or the wake-up), then go to 1.

mod arms;

use std::time::{Duration, Instant};

use crate::coroutine::Suspend;
use crate::mailbox::node::Node;
use crate::mailbox::queue::{Cursor, Scan};
use crate::pid::Ref;
use crate::scheduler::context;
use crate::scheduler::current::{Current, charge};
use crate::time::{deadline_after, now};

/// Where a receive starts scanning.
#[derive(Clone, Copy)]
enum Start {
    Head,
    Mark(u64),
}

/// The receive engine (the module protocol): moves arrivals into the private queue,
/// scans new messages once each, waits, and gives up at `deadline`.
fn receive_node(
    pred: &mut dyn FnMut(&Node) -> bool,
    deadline: Option<Instant>,
    start: Start,
) -> Option<Node> {
    let mut me = Current::expect("receive");
    // The resume point, and the queue epoch it belongs to: a `DropOldest` shed
    // during a switch may have freed the cursor's node, so a changed epoch rescans.
    let mut cursor: Option<(Cursor, u64)> = None;
    loop {
        me.check_signals();
        let mut examined = 0;
        let found = {
            let mut held = me.held();
            let queue = &mut held.owned().queue;
            let epoch = queue.epoch();
            let after = match (cursor, start) {
                (Some((c, e)), _) if e == epoch => c,
                (_, Start::Mark(id)) => queue.mark(id),
                (_, Start::Head) => None,
            };
            match queue.scan(after, &mut examined, pred) {
                Scan::Found(node) => {
                    held.publish_mailbox();
                    Some(node)
                }
                Scan::NotFound { last } => {
                    cursor = Some((last, epoch));
                    None
                }
            }
        };
        if let Some(node) = found {
            charge(examined as i32);
            return Some(node);
        }
        if context::spend(examined as i32) <= 0 {
            me.suspend_raw(Suspend::Yield);
            continue;
        }
        if let Some(d) = deadline {
            if now() >= d {
                return None;
            }
            me.arm_wake(d);
        }
        me.suspend_raw(Suspend::Wait);
    }
}

fn take<T: 'static>(node: Node) -> T {
    node.downcast::<T>().expect("matched by type")
}

/// Receives the oldest message of type `T`, waiting for one. Messages of other types
/// stay in the mailbox, in order.
///
/// # Examples
///
/// ```
/// use beamlet::{receive, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send(self_pid(), "skipped").unwrap();
///     send(self_pid(), 7u8).unwrap();
///     assert_eq!(receive::<u8>(), 7);
///     assert_eq!(receive::<&str>(), "skipped");
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn receive<T: Send + 'static>() -> T {
    take(receive_node(&mut |n| n.is::<T>(), None, Start::Head).expect("no deadline"))
}

/// Receives the oldest `T` for which `pred` holds (selective receive).
///
/// ```
/// use beamlet::{receive_match, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     for i in 0..5u32 { send(self_pid(), i).unwrap(); }
///     assert_eq!(receive_match(|n: &u32| *n > 2), 3);
///     assert_eq!(receive_match(|_: &u32| true), 0);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn receive_match<T: Send + 'static>(mut pred: impl FnMut(&T) -> bool) -> T {
    let mut m = |n: &Node| n.downcast_ref::<T>().is_some_and(&mut pred);
    take(receive_node(&mut m, None, Start::Head).expect("no deadline"))
}

/// Receives a `T`, or `None` after `timeout` (as `receive ... after`).
///
/// ```
/// use std::time::Duration;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| beamlet::receive_timeout::<u32>(Duration::from_millis(2))).unwrap();
/// assert_eq!(r, None);
/// rt.shutdown();
/// ```
pub fn receive_timeout<T: Send + 'static>(timeout: Duration) -> Option<T> {
    let d = deadline_after(timeout);
    receive_node(&mut |n| n.is::<T>(), Some(d), Start::Head).map(take)
}

/// Selective receive with a timeout.
///
/// ```
/// use std::time::Duration;
/// use beamlet::{receive_match_timeout, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send(self_pid(), 1u32).unwrap();
///     assert_eq!(receive_match_timeout(|n: &u32| *n == 2, Duration::from_millis(1)), None);
///     assert_eq!(receive_match_timeout(|n: &u32| *n == 1, Duration::ZERO), Some(1));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn receive_match_timeout<T: Send + 'static>(
    mut pred: impl FnMut(&T) -> bool,
    timeout: Duration,
) -> Option<T> {
    let d = deadline_after(timeout);
    let mut m = |n: &Node| n.downcast_ref::<T>().is_some_and(&mut pred);
    receive_node(&mut m, Some(d), Start::Head).map(take)
}

/// Takes a `T` if one is already in the mailbox; never waits.
///
/// ```
/// use beamlet::{self_pid, send, try_receive};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert_eq!(try_receive::<u32>(), None);
///     send(self_pid(), 5u32).unwrap();
///     assert_eq!(try_receive::<u32>(), Some(5));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn try_receive<T: Send + 'static>() -> Option<T> {
    receive_node(&mut |n| n.is::<T>(), Some(now()), Start::Head).map(take)
}

/// A message of any type, as taken by [`receive_any`].
///
/// ```
/// use beamlet::{receive_any, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send(self_pid(), 3.5f64).unwrap();
///     let m = receive_any();
///     assert!(m.is::<f64>());
///     assert_eq!(m.downcast::<f64>().unwrap(), 3.5);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug)]
#[repr(transparent)]
pub struct Message(Node);

impl Message {
    /// Wraps a value as a type-erased message (for example to hand a behaviour's
    /// `handle_info` something that did not come from the mailbox).
    ///
    /// ```
    /// let m = beamlet::Message::new(7u8);
    /// assert_eq!(m.downcast::<u8>().unwrap(), 7);
    /// ```
    pub fn new<T: Send + 'static>(value: T) -> Message {
        Message(Node::new(value))
    }

    fn from_node_ref(node: &Node) -> &Message {
        // SAFETY: `Message` is a `repr(transparent)` wrapper of `Node`.
        unsafe { &*(node as *const Node).cast::<Message>() }
    }

    /// The name of the message's type (as [`std::any::type_name`]), for reports.
    ///
    /// ```
    /// let m = beamlet::Message::new(7u8);
    /// assert_eq!(m.type_name(), "u8");
    /// ```
    pub fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    /// `true` if the message is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        self.0.is::<T>()
    }

    /// A reference to the message if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }

    /// A copy of the message's head, if it is a [`Headed`](crate::Headed) message
    /// with a head of type `H` sent with [`send_headed`](crate::send_headed);
    /// whatever the message's own type.
    ///
    /// See [`Headed`](crate::Headed) for an example.
    pub fn head<H: Copy + 'static>(&self) -> Option<H> {
        self.0.head()
    }

    /// The message as a `T`, or the message back.
    pub fn downcast<T: 'static>(self) -> Result<T, Message> {
        self.0.downcast().map_err(Message)
    }
}

/// Receives the oldest message, whatever its type.
pub fn receive_any() -> Message {
    Message(receive_node(&mut |_| true, None, Start::Head).expect("no deadline"))
}

/// Receives the oldest message of any type, or `None` after `timeout`.
///
/// ```
/// use std::time::Duration;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// assert!(rt.block_on(|| beamlet::receive_any_timeout(Duration::ZERO)).unwrap().is_none());
/// rt.shutdown();
/// ```
pub fn receive_any_timeout(timeout: Duration) -> Option<Message> {
    receive_node(&mut |_| true, Some(deadline_after(timeout)), Start::Head).map(Message)
}

/// The general selective receive: the oldest message (of any type) for which `pred`
/// holds, scanning only messages that arrived after `after` if given, waiting at most
/// `timeout` (forever if `None`). The predicate must not call into the runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet::{receive_select, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send(self_pid(), 1u8).unwrap();
///     send(self_pid(), "two").unwrap();
///     let m = receive_select(None, |m| m.is::<&str>() || m.is::<u64>(), Some(Duration::ZERO));
///     assert_eq!(m.unwrap().downcast::<&str>().unwrap(), "two");
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn receive_select(
    after: Option<MailboxMark>,
    mut pred: impl FnMut(&Message) -> bool,
    timeout: Option<Duration>,
) -> Option<Message> {
    let d = timeout.map(deadline_after);
    let start = after.map_or(Start::Head, |m| Start::Mark(m.0));
    let mut m = |n: &Node| pred(Message::from_node_ref(n));
    receive_node(&mut m, d, start).map(Message)
}

/// A position in the caller's mailbox: every message that arrives later is after it.
///
/// Take a mark just before sending a request, then look for the reply with
/// [`receive_match_after`]: messages that were already queued are not scanned, so the
/// reply is found in constant time however long the mailbox is.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet::{mailbox_mark, receive_match_after, self_pid, send, Ref};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     for i in 0..10_000u32 { send(self_pid(), i).unwrap(); }
///     let tag = Ref::new();
///     let mark = mailbox_mark();
///     send(self_pid(), (tag, "reply")).unwrap();
///     let r = receive_match_after(mark, |(t, _): &(Ref, &str)| *t == tag, Some(Duration::from_secs(5)));
///     assert_eq!(r.map(|r| r.1), Some("reply"));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxMark(u64);

/// Marks the current end of the caller's mailbox (see [`MailboxMark`]).
///
/// # Panics
///
/// Outside a process.
pub fn mailbox_mark() -> MailboxMark {
    let mut me = Current::expect("mailbox_mark");
    me.check_signals();
    let id = Ref::new().id();
    me.held().owned().queue.set_mark(id);
    MailboxMark(id)
}

/// Selective receive of messages that arrived after `mark`, with an optional timeout.
/// If the mark was superseded by a newer one, the whole mailbox is scanned (still
/// correct, just not constant time).
pub fn receive_match_after<T: Send + 'static>(
    mark: MailboxMark,
    mut pred: impl FnMut(&T) -> bool,
    timeout: Option<Duration>,
) -> Option<T> {
    let d = timeout.map(deadline_after);
    let mut m = |n: &Node| n.downcast_ref::<T>().is_some_and(&mut pred);
    receive_node(&mut m, d, Start::Mark(mark.0)).map(take)
}

/// Number of messages waiting in the caller's mailbox.
///
/// ```
/// use beamlet::{message_queue_len, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| { send(self_pid(), 1u8).unwrap(); assert_eq!(message_queue_len(), 1); }).unwrap();
/// rt.shutdown();
/// ```
pub fn message_queue_len() -> usize {
    let mut me = Current::expect("message_queue_len");
    me.check_signals();
    me.held().owned().queue.len()
}
