//! What a wheel entry does when it fires ([`TimerAction`]): kept apart from
//! [`super::timers`] because a core's wheel holds them, and the core must not
//! depend on the code that fires them.

use std::sync::Arc;

use crate::pid::Pid;
use crate::process::ProcPtr;
use crate::timer::TimerCell;

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
