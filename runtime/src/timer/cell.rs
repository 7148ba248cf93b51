//! A timer's shared state ([`TimerCell`]), its public handle ([`TimerRef`]), and what
//! a wheel entry does when it fires ([`TimerAction`]).
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
use crate::pid::Pid;
use crate::process::ProcPtr;

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

/// State shared between a `send_after` timer and its [`TimerRef`].
#[derive(Debug)]
pub(crate) struct TimerCell {
    state: AtomicU8,
    deadline: Instant,
    /// The message, taken by whichever of fire and cancel wins.
    message: Mutex<Option<Node>>,
    /// The virtual clock `deadline` is on, for a simulated runtime's timer.
    clock: Option<Arc<VirtualClock>>,
}

/// What a wheel entry does when it fires.
#[derive(Debug)]
pub(crate) enum TimerAction {
    /// Wake a process at a deadline tick, if this is still its armed wake-up.
    Wake {
        process: ProcPtr,
        serial: u32,
        tick: u64,
    },
    /// Deliver a `send_after` message.
    Send { to: Pid, cell: Arc<TimerCell> },
}

/// A handle to a `send_after` timer, for [`cancel_timer`](crate::cancel_timer) and
/// [`read_timer`](crate::read_timer).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{cancel_timer, receive_timeout, self_pid, send_after};
/// let rt = beamlet_runtime::Runtime::builder().schedulers(1).build().unwrap();
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

impl TimerCell {
    pub(crate) fn new(
        deadline: Instant,
        message: Node,
        clock: Option<Arc<VirtualClock>>,
    ) -> Arc<TimerCell> {
        Arc::new(TimerCell {
            state: AtomicU8::new(PENDING),
            deadline,
            message: Mutex::new(Some(message)),
            clock,
        })
    }

    fn left(&self) -> Duration {
        self.deadline
            .saturating_duration_since(clock::now_on(self.clock.as_deref()))
    }

    /// Claims the message for delivery; `None` if the timer was cancelled.
    pub(crate) fn fire(&self) -> Option<Node> {
        // AcqRel: exactly one of `fire` and `cancel` wins the CAS.
        self.state
            .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        self.message
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
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

    /// Time left if still pending.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        (self.state.load(Ordering::Acquire) == PENDING).then(|| self.left())
    }
}
