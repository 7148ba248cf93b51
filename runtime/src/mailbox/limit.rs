//! Counting a mailbox's messages from any thread, and admitting sends under a limit.
//!
//! # The count
//!
//! Counting is on only for a *metered* mailbox: one with a limit, or whose length
//! another process asked for ([`message_queue_len_of`](crate::message_queue_len_of),
//! [`send_bounded`](crate::send_bounded)). An unmetered send pays one relaxed load
//! of the limit word, on the cache line its push writes anyway, and nothing else.
//!
//! 1. A sender to a metered mailbox adds one to [`Inbound::arrivals`] before it
//!    pushes (`fetch_add(1)`, relaxed; taken back if the push fails because the
//!    process is gone) and marks the node `counted`.
//! 2. The holder of the process (the process itself, or its scheduler at exit)
//!    counts in its private `drained` every counted node it takes off the inbound,
//!    whatever becomes of it (queued, or dropped as stale or at exit), and after any
//!    change publishes `departed = drained − queue length` ([`Meter::publish`]).
//!    Every queued message counts through the queue length: uncounted ones, and the
//!    ones it queues itself (`Down`, trapped `Exit`, alias replies).
//! 3. Any thread reads the length as `arrivals − departed` ([`Meter::len`]): the
//!    counted undrained messages plus the private queue. Reading `departed` first
//!    (Acquire) then `arrivals` cannot go below zero: every counted node the holder
//!    had drained when it published was counted before it was pushed, so it is in
//!    the `arrivals` read after (the push's Release, the drain's Acquire and the
//!    publish's Release chain).
//! 4. Messages pushed while the mailbox was not yet metered are invisible until the
//!    holder next drains (every receive, every resume); from then on the count is
//!    exact. A limit set at spawn is exact from the start.
//!
//! Both counters wrap and are never reset, and the per-node mark says which nodes
//! count: a slot's next occupant inherits the counters, metering can start at any
//! time, and a message racing with an exit (counted, then dropped as stale) still
//! leaves through `drained`.
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

use super::inbound::Inbound;
use super::node::Node;

/// The limit word's bit that turns counting on (set with any limit, and by readers).
const METERED: u64 = 4;

/// What happens to a message sent to a process whose mailbox holds `max` messages.
///
/// ```
/// use beamlet::{MailboxLimit, OverflowPolicy};
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
/// use beamlet::{MailboxLimit, OverflowPolicy};
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

    const MAX: u64 = (1 << 60) - 1;

    /// Packed for one atomic word: 0 is no limit, otherwise `max << 3 | METERED |
    /// policy` with the policy as 1..=3.
    fn pack(limit: Option<MailboxLimit>) -> u64 {
        let Some(l) = limit else { return 0 };
        let code = match l.policy {
            OverflowPolicy::DropNewest => 1,
            OverflowPolicy::DropOldest => 2,
            OverflowPolicy::Kill => 3,
        };
        ((l.max as u64).min(Self::MAX) << 3) | METERED | code
    }

    fn unpack(word: u64) -> Option<MailboxLimit> {
        let policy = match word & 3 {
            1 => OverflowPolicy::DropNewest,
            2 => OverflowPolicy::DropOldest,
            3 => OverflowPolicy::Kill,
            _ => return None,
        };
        let max = usize::try_from(word >> 3).unwrap_or(usize::MAX);
        Some(MailboxLimit { max, policy })
    }
}

impl Inbound {
    /// The mailbox limit; written by the holder (or the spawner), read by senders.
    pub(crate) fn limit(&self) -> Option<MailboxLimit> {
        MailboxLimit::unpack(self.limit.load(Ordering::Relaxed))
    }

    /// Sets the limit (metering stays on once on); returns the previous one.
    pub(crate) fn set_limit(&self, limit: Option<MailboxLimit>) -> Option<MailboxLimit> {
        let new = MailboxLimit::pack(limit);
        let mut cur = self.limit.load(Ordering::Relaxed);
        loop {
            // A CAS, not a store: a reader may be setting METERED concurrently.
            match self.limit.compare_exchange_weak(
                cur,
                new | (cur & METERED),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(old) => return MailboxLimit::unpack(old),
                Err(actual) => cur = actual,
            }
        }
    }

    /// No limit and no metering: a fresh slot occupant's mailbox (by the spawner,
    /// before the pid is published).
    pub(crate) fn reset_limit(&self) {
        self.limit.store(0, Ordering::Relaxed);
    }

    /// Turns counting on (for a reader of the length, or a bounded send).
    pub(crate) fn meter_on(&self) {
        if self.limit.load(Ordering::Relaxed) & METERED == 0 {
            self.limit.fetch_or(METERED, Ordering::Relaxed);
        }
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

/// Decides whether `node` may be pushed to `inbound`, counting it if the mailbox is
/// metered (and marking it so). Inlined: the common case (unmetered, no bound) is
/// one load and a branch in the sender.
#[inline]
pub(crate) fn admit(
    inbound: &Inbound,
    meter: &Meter,
    node: &mut Node,
    admission: Admission,
) -> Admit {
    let word = inbound.limit.load(Ordering::Relaxed);
    let unbounded = matches!(
        admission,
        Admission::Always | Admission::Limited { bound: None }
    );
    if word == 0 && unbounded {
        return Admit::Accept;
    }
    admit_metered(inbound, meter, node, admission, word)
}

/// [`admit`] for a metered mailbox or a bounded send.
#[inline(never)]
fn admit_metered(
    inbound: &Inbound,
    meter: &Meter,
    node: &mut Node,
    admission: Admission,
    word: u64,
) -> Admit {
    let bound = match admission {
        Admission::Limited { bound } => bound,
        Admission::Always => None,
    };
    if word == 0 {
        inbound.meter_on();
    }
    let before = inbound.arrivals.fetch_add(1, Ordering::Relaxed);
    node.set_counted();
    let limit = match admission {
        Admission::Limited { .. } => MailboxLimit::unpack(word),
        Admission::Always => None,
    };
    if limit.is_none() && bound.is_none() {
        return Admit::Accept;
    }
    // Acquire pairs with the owner's Release in `Meter::publish`: the departures
    // counted are no more than the arrivals this sender already saw.
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
        let got: Vec<Admit> = (0..5)
            .map(|i| admit(&inbound, &meter, &mut Node::new(i), lim))
            .collect();
        assert_eq!(&got[..3], &[Admit::Accept; 3]);
        assert_eq!(&got[3..], &[Admit::Refuse; 2]);
        assert_eq!(meter.len(&inbound), 3);
        // The owner drains all three and receives one: one place is free again.
        meter.publish(3, 2);
        assert_eq!(meter.len(&inbound), 2);
        assert_eq!(
            admit(&inbound, &meter, &mut Node::new(5), lim),
            Admit::Accept
        );
        let mut runtime_made = Node::new(6);
        let always = Admission::Always;
        assert_eq!(
            admit(&inbound, &meter, &mut runtime_made, always),
            Admit::Accept
        );
        assert!(
            runtime_made.header().counted,
            "a metered mailbox counts every message"
        );
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
        assert_eq!(
            admit(&inbound, &meter, &mut Node::new(0), bounded),
            Admit::Refuse
        );
        assert_eq!(meter.len(&inbound), 2);
    }

    #[test]
    fn unmetered_sends_are_not_counted_until_metering_starts() {
        let inbound = Inbound::new();
        let meter = Meter::new();
        let lim = Admission::Limited { bound: None };
        let mut quiet = Node::new(1u8);
        assert_eq!(admit(&inbound, &meter, &mut quiet, lim), Admit::Accept);
        assert!(!quiet.header().counted);
        inbound.meter_on();
        assert_eq!(inbound.limit(), None, "metering is not a limit");
        let mut loud = Node::new(2u8);
        assert_eq!(admit(&inbound, &meter, &mut loud, lim), Admit::Accept);
        assert!(loud.header().counted);
        assert_eq!(meter.len(&inbound), 1);
        // Setting and clearing a limit keeps metering on.
        let l = MailboxLimit::new(9, OverflowPolicy::Kill);
        assert_eq!(inbound.set_limit(Some(l)), None);
        assert_eq!(inbound.set_limit(None), Some(l));
        let mut still = Node::new(3u8);
        let _ = admit(&inbound, &meter, &mut still, lim);
        assert!(still.header().counted);
    }
}
