//! Counting a mailbox's messages from any thread, and admitting sends under a limit.
//!
//! # The count
//!
//! 1. Every message (not a signal) pushed onto an [`Inbound`] was first counted by
//!    its sender in [`Inbound::arrivals`] (`fetch_add(1)`, relaxed; taken back if the
//!    push fails because the process is gone).
//! 2. The holder of the process (the process itself, or its scheduler at exit)
//!    counts in its private `drained` every counted node it takes off the inbound,
//!    whatever becomes of it (queued, or dropped as stale or at exit), and after any
//!    change publishes `departed = drained − queue length` ([`Meter::publish`]).
//!    Messages it queues itself (`Down`, trapped `Exit`, alias replies) raise the
//!    queue length and so lower `departed`: they count without anyone's `arrivals`.
//! 3. Any thread reads the length as `arrivals − departed` ([`Meter::len`]): the
//!    undrained messages plus the private queue. Reading `departed` first (Acquire)
//!    then `arrivals` cannot go below zero: every node the holder had drained when
//!    it published was counted before it was pushed, so it is in the `arrivals` read
//!    after (the push's Release, the drain's Acquire and the publish's Release chain).
//!
//! Both counters wrap and are never reset: a slot's next occupant inherits them, and
//! a message racing with an exit (counted, then dropped as stale by the next occupant)
//! still leaves through `drained`. A cost of one relaxed add per send, on the line the
//! push writes anyway; nothing for signals.
//!
//! # Admission ([`admit`])
//!
//! A limited send adds its one to `arrivals` first and compares the value it replaced
//! (minus `departed`) with the limit: the add is the reservation, so concurrent
//! senders see distinct lengths and no more than `max` messages are admitted past a
//! length of zero. A refused message takes its one back. `departed` may be stale
//! (lower), so a send can be refused while a receive is freeing a place: the limit
//! errs towards shedding, never towards admitting too many.

use crate::loom::sync::atomic::{AtomicU64, Ordering};

use super::Inbound;

/// What happens to a message sent to a process whose mailbox holds `max` messages.
///
/// ```
/// use beamlet_runtime::{MailboxLimit, OverflowPolicy};
/// let l = MailboxLimit { max: 1000, policy: OverflowPolicy::DropOldest };
/// assert_eq!(l.policy, OverflowPolicy::DropOldest);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OverflowPolicy {
    /// The new message is refused: `send` gives it back in
    /// [`SendError::MailboxFull`](crate::SendError::MailboxFull).
    DropNewest,
    /// The new message is accepted and the oldest ordinary message is discarded
    /// when the process next looks at its mailbox (each `receive`, and each time it
    /// is resumed): between two looks the mailbox can hold more than `max`.
    DropOldest,
    /// The process is killed with [`ExitReason::MailboxOverflow`](crate::ExitReason)
    /// (untrappable, as the BEAM's `max_heap_size` kill); the message that found the
    /// mailbox full, and every later one, is refused with `MailboxFull`.
    Kill,
}

/// A per-process mailbox limit (see [`set_mailbox_limit`](crate::set_mailbox_limit)).
///
/// ```
/// use beamlet_runtime::{MailboxLimit, OverflowPolicy};
/// let l = MailboxLimit::new(64, OverflowPolicy::DropNewest);
/// assert_eq!(l.max, 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MailboxLimit {
    /// The length (as [`message_queue_len`](crate::message_queue_len) counts it) at
    /// which ordinary sends meet the policy. At most 2^61 − 1.
    pub max: usize,
    /// What happens to a send that finds `max` messages queued.
    pub policy: OverflowPolicy,
}

impl MailboxLimit {
    /// A limit of `max` messages with `policy`.
    pub const fn new(max: usize, policy: OverflowPolicy) -> MailboxLimit {
        MailboxLimit { max, policy }
    }

    const MAX: u64 = (1 << 61) - 1;

    /// Packed for one atomic word: 0 is no limit, otherwise `max << 2 | policy`
    /// with the policy as 1..=3.
    fn pack(limit: Option<MailboxLimit>) -> u64 {
        let Some(l) = limit else { return 0 };
        let code = match l.policy {
            OverflowPolicy::DropNewest => 1,
            OverflowPolicy::DropOldest => 2,
            OverflowPolicy::Kill => 3,
        };
        ((l.max as u64).min(Self::MAX) << 2) | code
    }

    fn unpack(word: u64) -> Option<MailboxLimit> {
        let policy = match word & 3 {
            1 => OverflowPolicy::DropNewest,
            2 => OverflowPolicy::DropOldest,
            3 => OverflowPolicy::Kill,
            _ => return None,
        };
        let max = usize::try_from(word >> 2).unwrap_or(usize::MAX);
        Some(MailboxLimit { max, policy })
    }
}

impl Inbound {
    /// The mailbox limit; written by the holder (or the spawner), read by senders.
    pub(crate) fn limit(&self) -> Option<MailboxLimit> {
        MailboxLimit::unpack(self.limit.load(Ordering::Relaxed))
    }

    /// Sets the limit; returns the previous one.
    pub(crate) fn set_limit(&self, limit: Option<MailboxLimit>) -> Option<MailboxLimit> {
        MailboxLimit::unpack(
            self.limit
                .swap(MailboxLimit::pack(limit), Ordering::Relaxed),
        )
    }
}

/// The holder's half of the count (see the module docs): kept off the inbound's
/// cache line, since the holder writes it at every receive.
#[derive(Debug)]
pub(crate) struct Meter {
    /// `drained − queue length`, published by the holder (wrapping).
    departed: AtomicU64,
}

impl Meter {
    pub(crate) fn new() -> Meter {
        Meter {
            departed: AtomicU64::new(0),
        }
    }

    /// Publishes the holder's view: `drained` counted nodes taken, `queued` in its
    /// private queue.
    pub(crate) fn publish(&self, drained: u64, queued: usize) {
        // Release pairs with the Acquire in `len`.
        self.departed
            .store(drained.wrapping_sub(queued as u64), Ordering::Release);
    }

    /// Messages in the mailbox, undrained ones included.
    pub(crate) fn len(&self, inbound: &Inbound) -> usize {
        let departed = self.departed.load(Ordering::Acquire);
        let arrivals = inbound.arrivals.load(Ordering::Relaxed);
        clamp(arrivals.wrapping_sub(departed))
    }
}

#[cfg(loom)]
impl Meter {
    /// `true` if the raw difference read now is "negative" (what `len` clamps).
    pub(crate) fn reads_negative(&self, inbound: &Inbound) -> bool {
        let departed = self.departed.load(Ordering::Acquire);
        inbound
            .arrivals
            .load(Ordering::Relaxed)
            .wrapping_sub(departed)
            > u64::MAX / 2
    }
}

/// A wrapped difference as a length: a transiently "negative" one reads as zero.
fn clamp(diff: u64) -> usize {
    if diff > u64::MAX / 2 {
        0
    } else {
        usize::try_from(diff).unwrap_or(usize::MAX)
    }
}

/// What a send is subject to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Always admitted (runtime-made messages: timers, sockets, system monitor).
    Always,
    /// The process's limit, and the sender's own `bound` if any (`send_bounded`).
    Limited { bound: Option<usize> },
}

/// The verdict on one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Admit {
    /// Counted; push it.
    Accept,
    /// Not counted; give the message back as `MailboxFull`.
    Refuse,
    /// Not counted; refuse it, and kill the process (a `Kill` limit was hit).
    RefuseAndKill,
}

/// Counts a message for `inbound` and decides whether it may be pushed.
pub(crate) fn admit(inbound: &Inbound, meter: &Meter, admission: Admission) -> Admit {
    let before = inbound.arrivals.fetch_add(1, Ordering::Relaxed);
    let Admission::Limited { bound } = admission else {
        return Admit::Accept;
    };
    let limit = inbound.limit();
    if limit.is_none() && bound.is_none() {
        return Admit::Accept;
    }
    let len = clamp(before.wrapping_sub(meter.departed.load(Ordering::Acquire)));
    let verdict = match limit {
        Some(l) if len >= l.max => match l.policy {
            OverflowPolicy::DropNewest => Admit::Refuse,
            OverflowPolicy::DropOldest => Admit::Accept,
            OverflowPolicy::Kill => Admit::RefuseAndKill,
        },
        _ => Admit::Accept,
    };
    let verdict = match bound {
        Some(b) if len >= b && verdict == Admit::Accept => Admit::Refuse,
        _ => verdict,
    };
    if verdict != Admit::Accept {
        uncount(inbound);
    }
    verdict
}

/// Takes back a count whose message was not pushed.
pub(crate) fn uncount(inbound: &Inbound) {
    inbound.arrivals.fetch_sub(1, Ordering::Relaxed);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn pack_round_trips() {
        for policy in [
            OverflowPolicy::DropNewest,
            OverflowPolicy::DropOldest,
            OverflowPolicy::Kill,
        ] {
            for max in [0, 1, 1000, MailboxLimit::MAX as usize] {
                let l = Some(MailboxLimit { max, policy });
                assert_eq!(MailboxLimit::unpack(MailboxLimit::pack(l)), l);
            }
        }
        assert_eq!(MailboxLimit::unpack(MailboxLimit::pack(None)), None);
    }

    #[test]
    fn drop_newest_admits_exactly_max() {
        let inbound = Inbound::new();
        let meter = Meter::new();
        let _ = inbound.set_limit(Some(MailboxLimit::new(3, OverflowPolicy::DropNewest)));
        let lim = Admission::Limited { bound: None };
        let got: Vec<Admit> = (0..5).map(|_| admit(&inbound, &meter, lim)).collect();
        assert_eq!(&got[..3], &[Admit::Accept; 3]);
        assert_eq!(&got[3..], &[Admit::Refuse; 2]);
        assert_eq!(meter.len(&inbound), 3);
        // The owner drains all three and receives one: one place is free again.
        meter.publish(3, 2);
        assert_eq!(meter.len(&inbound), 2);
        assert_eq!(admit(&inbound, &meter, lim), Admit::Accept);
        assert_eq!(admit(&inbound, &meter, Admission::Always), Admit::Accept);
        assert_eq!(meter.len(&inbound), 4);
    }

    #[test]
    fn own_messages_count_without_arrivals() {
        let inbound = Inbound::new();
        let meter = Meter::new();
        // Nothing drained, but two `Down`s queued by the owner itself.
        meter.publish(0, 2);
        assert_eq!(meter.len(&inbound), 2);
        let bounded = Admission::Limited { bound: Some(2) };
        assert_eq!(admit(&inbound, &meter, bounded), Admit::Refuse);
        assert_eq!(meter.len(&inbound), 2);
    }
}
