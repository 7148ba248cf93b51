//! Back-pressure and load shedding: mailbox limits, and reading another process's
//! queue length.
//!
//! A mailbox is unbounded by default, as on the BEAM: a process that receives faster
//! than it can handle grows its queue until memory runs out. The ways out, in the
//! order to reach for them:
//!
//! 1. **Synchronous calls first.** A caller that waits for the reply (a
//!    `gen_server` call) cannot send the next request before the server took the
//!    last one: the producers slow to the consumer's pace by construction. Use
//!    asynchronous sends only where profiling says the wait costs too much.
//! 2. **Casts that turn synchronous under load**, for high-rate producers such as
//!    logging (the approach of Elixir's `Logger` and its `sync_threshold`):
//!    asynchronous while the consumer keeps up, acknowledged once its queue passes a
//!    threshold. Nothing is lost, and the producers slow down only when they must.
//!    The stdlib's `gen_server::CastGate` is built on [`send_bounded`] and
//!    [`message_queue_len_of`].
//! 3. **[`OverflowPolicy::DropNewest`] / [`OverflowPolicy::DropOldest`]** for lossy
//!    data where fresh beats complete: telemetry, metrics samples, progress
//!    updates. `DropNewest` refuses at the sender (who gets the message back in
//!    [`SendError::MailboxFull`] and can count the
//!    loss); `DropOldest` keeps the latest `max` and discards the stale ones.
//! 4. **[`OverflowPolicy::Kill`]** for a process that must never fall that far behind:
//!    a runaway is killed with [`ExitReason::MailboxOverflow`](crate::ExitReason) and
//!    its supervisor restarts it with an empty mailbox (as the BEAM's
//!    `max_heap_size`, which kills a process whose heap, mailbox included, grows too
//!    big).
//!
//! # What the limit counts and what it sheds
//!
//! 1. The length is the mailbox's whole content, as
//!    [`message_queue_len`](crate::message_queue_len) reports
//!    it (and [`message_queue_len_of`] from another process): messages not looked at yet included, and runtime-made messages too (`Down`,
//!    trapped `Exit`, replies through an [`Alias`](crate::Alias)).
//! 2. Only **ordinary sends** meet the policy: [`send`](fn@crate::send),
//!    [`Runtime::send`](crate::Runtime::send), [`send_named`](crate::send_named)
//!    (which drops a refused message silently, as its error only names an unknown
//!    name) and [`send_bounded`]. So `gen_server` calls and casts, and `sys`
//!    requests, can be refused: the stdlib's `gen::call` then fails at once with
//!    `CallError::MailboxFull` (the request will never be answered), a plain
//!    `gen_server::cast` is dropped.
//! 3. **Never refused or discarded**: signals (exits, links, monitors and their
//!    `Down`s), replies through an alias (so a process waiting in a `gen` call gets
//!    its reply), `send_after` timer messages, socket messages of active mode, and
//!    system-monitor events. They count in the length, so a mailbox full of them
//!    refuses every ordinary send.
//! 4. `DropOldest` discards the oldest ordinary messages when the process next looks
//!    at its mailbox (every receive, and every time it is resumed, so at least once
//!    a slice while it runs): between two looks the mailbox can hold more than `max`.
//!    `DropNewest` and `Kill` decide at the sender, so they hold at every moment.
//!
//! # Cost
//!
//! A send to a process with no limit whose length nobody reads costs one relaxed load
//! more than before (of the limit word, on the cache line the push writes anyway).
//! A *metered* mailbox, one with a limit or whose length was read with
//! [`message_queue_len_of`] or bounded with [`send_bounded`], pays one relaxed add
//! per message so that its length counts messages not looked at yet; a limit adds a
//! load of the published length. See `mailbox/limit.rs` for the counting protocol.

use crate::error::SendError;
use crate::mailbox::limit::Admission;
use crate::pid::Pid;
use crate::scheduler::context::with_runtime_of;
use crate::scheduler::current::Current;
use crate::send::send_admitted;

pub use crate::mailbox::limit::{MailboxLimit, OverflowPolicy};
pub use crate::spawn::spawn_limited;

/// Sets the calling process's mailbox limit (`None`: unbounded, the default); returns
/// the previous one. A `DropOldest` limit sheds the surplus at once.
///
/// Sends that race with the change may be judged by the old limit.
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// use beamlet::{send, self_pid, set_mailbox_limit, MailboxLimit, OverflowPolicy, SendError};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     set_mailbox_limit(Some(MailboxLimit::new(2, OverflowPolicy::DropNewest)));
///     send(self_pid(), 1u8).unwrap();
///     send(self_pid(), 2u8).unwrap();
///     assert!(matches!(send(self_pid(), 3u8), Err(SendError::MailboxFull(3))));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn set_mailbox_limit(limit: Option<MailboxLimit>) -> Option<MailboxLimit> {
    let mut me = Current::expect("set_mailbox_limit");
    let old = me.process().inbound.set_limit(limit);
    me.check_signals();
    if let Some(l) = limit
        && l.policy == OverflowPolicy::DropOldest
    {
        let mut held = me.held();
        if held.owned().queue.shed_oldest(l.max) > 0 {
            held.publish_mailbox();
        }
    }
    old
}

/// The calling process's mailbox limit.
///
/// # Panics
///
/// Outside a process.
pub fn mailbox_limit() -> Option<MailboxLimit> {
    Current::expect("mailbox_limit").process().inbound.limit()
}

/// The number of messages in `pid`'s mailbox (as `process_info(Pid,
/// message_queue_len)`), counting those it has not looked at yet; `None` if it is
/// not alive. Cheap: a few atomic loads, no lock, and the process is not interrupted.
///
/// The first call meters the mailbox (see the module's cost section): messages sent
/// before it are counted once the process has looked at its mailbox (at its next
/// receive or resume); from then on the count is exact.
///
/// # Examples
///
/// ```
/// use beamlet::{message_queue_len_of, send, spawn};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn(|| beamlet::sleep(std::time::Duration::from_secs(5))).unwrap();
///     assert_eq!(message_queue_len_of(pid), Some(0)); // meters the mailbox from now on
///     for i in 0..3u8 { send(pid, i).unwrap(); }
///     assert_eq!(message_queue_len_of(pid), Some(3)); // none looked at yet, all counted
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn message_queue_len_of(pid: Pid) -> Option<usize> {
    with_runtime_of(pid, |shared| shared.message_queue_len_of(pid)).flatten()
}

/// Sends `msg` only if `pid`'s mailbox holds fewer than `bound` messages (and its
/// own limit admits it). The check and the send are one atomic step, so concurrent
/// senders never admit more than `bound`: the primitive under a cast that turns
/// synchronous past a threshold. Meters the mailbox, as [`message_queue_len_of`].
///
/// # Errors
///
/// As [`send`](fn@crate::send); [`SendError::MailboxFull`] when `bound` is reached.
///
/// # Examples
///
/// ```
/// use beamlet::{send_bounded, self_pid, SendError};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send_bounded(self_pid(), 1u8, 1).unwrap();
///     assert!(matches!(send_bounded(self_pid(), 2u8, 1), Err(SendError::MailboxFull(2))));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn send_bounded<M: Send + 'static>(pid: Pid, msg: M, bound: usize) -> Result<(), SendError<M>> {
    send_admitted(pid, msg, Admission::Limited { bound: Some(bound) })
}
