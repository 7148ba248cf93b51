//! A timer's shared state ([`TimerCell`]), its public handle ([`TimerRef`]), and
//! what it delivers ([`TimerPayload`]).
//!
//! Cancellation is lazy: [`cancel_timer`](crate::cancel_timer) flips the cell from
//! pending to cancelled (one CAS, from any thread) and drops the message; the wheel
//! entry is discarded when its slot comes round. Exactly one of fire and cancel wins.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::clock::{self, VirtualClock};
// Loom's types under `cfg(loom)`: `tests::loom_timer` checks cancel against fire.
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicU8, Ordering};
use crate::mailbox::node::Node;

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

/// State shared between a `send_after` timer and its [`TimerRef`].
#[derive(Debug)]
pub(crate) struct TimerCell {
    state: AtomicU8,
    deadline: Instant,
    /// The message, taken by whichever of fire and cancel wins.
    message: Mutex<Option<TimerPayload>>,
    /// The virtual clock `deadline` is on, for a simulated runtime's timer.
    clock: Option<Arc<VirtualClock>>,
}

/// What a timer delivers.
pub(crate) enum TimerPayload {
    /// A `send_after` message, delivered as it is.
    Message(Node),
    /// A `start_timer` message, built when the timer fires around the timer's own
    /// handle. Built then rather than at arming so the cell never holds a message
    /// that holds the cell (an `Arc` cycle that would leak an unfired timer).
    Tagged(Box<dyn FnOnce(TimerRef) -> Node + Send>),
}

impl From<Node> for TimerPayload {
    fn from(node: Node) -> TimerPayload {
        TimerPayload::Message(node)
    }
}

impl std::fmt::Debug for TimerPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimerPayload::Message(_) => f.write_str("Message"),
            TimerPayload::Tagged(_) => f.write_str("Tagged"),
        }
    }
}

/// A handle to a `send_after` or `start_timer` timer, for
/// [`cancel_timer`](crate::cancel_timer) and [`read_timer`](crate::read_timer).
///
/// Two handles are equal when they name the same timer (clones of one handle), which
/// is how a [`TimerMessage`](crate::TimerMessage) or a
/// [`TimerCancelled`](crate::TimerCancelled) is matched with its timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet::{cancel_timer, receive_timeout, self_pid, send_after};
/// let rt = beamlet::Runtime::builder().schedulers(1).build().unwrap();
/// rt.block_on(|| {
///     let t = send_after(Duration::from_secs(60), self_pid(), "late");
///     assert!(cancel_timer(&t).is_some(), "cancelled before it fired");
///     assert_eq!(receive_timeout::<&str>(Duration::from_millis(5)), None);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone)]
pub struct TimerRef {
    pub(crate) cell: Arc<TimerCell>,
}

impl PartialEq for TimerRef {
    fn eq(&self, other: &TimerRef) -> bool {
        Arc::ptr_eq(&self.cell, &other.cell)
    }
}

impl Eq for TimerRef {}

impl std::hash::Hash for TimerRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.cell).hash(state);
    }
}

impl TimerCell {
    pub(crate) fn new(
        deadline: Instant,
        message: impl Into<TimerPayload>,
        clock: Option<Arc<VirtualClock>>,
    ) -> Arc<TimerCell> {
        Arc::new(TimerCell {
            state: AtomicU8::new(PENDING),
            deadline,
            message: Mutex::new(Some(message.into())),
            clock,
        })
    }

    fn left(&self) -> Duration {
        self.deadline
            .saturating_duration_since(clock::now_on(self.clock.as_deref()))
    }

    /// Claims the message for delivery; `None` if the timer was cancelled.
    pub(crate) fn fire(self: &Arc<TimerCell>) -> Option<Node> {
        // AcqRel: exactly one of `fire` and `cancel` wins the CAS.
        self.state
            .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        let payload = self
            .message
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        Some(match payload {
            TimerPayload::Message(node) => node,
            TimerPayload::Tagged(build) => build(TimerRef { cell: self.clone() }),
        })
    }

    /// Cancels; the time that was left, or `None` if it already fired or was cancelled.
    pub(crate) fn cancel(&self) -> Option<Duration> {
        self.state
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        drop(
            self.message
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        Some(self.left())
    }

    /// Neither fired nor cancelled.
    pub(crate) fn is_pending(&self) -> bool {
        self.state.load(Ordering::Acquire) == PENDING
    }

    /// Time left if still pending.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        (self.state.load(Ordering::Acquire) == PENDING).then(|| self.left())
    }
}
