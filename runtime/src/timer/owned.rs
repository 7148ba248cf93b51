//! The `send_after` timers a process set to itself, cancelled when it exits.
//!
//! On the BEAM a timer addressed to a pid dies with that process: `read_timer`
//! answers `false` at once and the message's memory is freed. Here a process keeps
//! the cells of the timers it sets *to itself* in its owned state (no lock: only
//! its holder touches it), and its exit cancels each one: the message is dropped at
//! once and [`read_timer`](crate::read_timer) returns `None`. Timers a process sets
//! to another pid are not its own and stay armed.
//!
//! A process that set no timer pays nothing at exit (an empty `Vec`). The list is
//! pruned of fired and cancelled cells whenever it doubles, so a long-lived process
//! that sets a timer per request keeps it as long as its live timers, not its
//! history. The wheel entries of cancelled timers are swept by their core
//! ([`crate::kernel`]'s `Shared::forget_timers`) once they are the majority.

use std::sync::Arc;

use super::cell::TimerCell;

/// Live timers below which the list is never pruned.
const PRUNE_FLOOR: usize = 16;

/// The timers a process set to itself.
#[derive(Debug, Default)]
pub(crate) struct OwnTimers {
    cells: Vec<Arc<TimerCell>>,
    /// The length at which to prune next.
    prune_at: usize,
}

impl OwnTimers {
    /// Remembers a timer the process set to itself.
    pub(crate) fn push(&mut self, cell: Arc<TimerCell>) {
        if self.cells.len() >= self.prune_at.max(PRUNE_FLOOR) {
            self.cells.retain(|c| c.is_pending());
            // Amortised O(1): the next prune waits until the live ones double.
            self.prune_at = self.cells.len() * 2;
        }
        self.cells.push(cell);
    }

    /// Cancels every timer still pending (at exit); how many were. Frees the list.
    pub(crate) fn cancel_all(&mut self) -> usize {
        let cells = std::mem::take(&mut self.cells);
        self.prune_at = 0;
        cells.iter().filter(|c| c.cancel().is_some()).count()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.cells.len()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::mailbox::node::Node;

    fn cell(secs: u64) -> Arc<TimerCell> {
        TimerCell::new(
            Instant::now() + Duration::from_secs(secs),
            Node::new(()),
            None,
        )
    }

    #[test]
    fn cancel_all_cancels_the_pending_ones_only() {
        let mut own = OwnTimers::default();
        let (a, b) = (cell(60), cell(60));
        own.push(a.clone());
        own.push(b.clone());
        assert!(b.fire().is_some());
        assert_eq!(own.cancel_all(), 1);
        assert_eq!(a.remaining(), None);
        assert_eq!(own.len(), 0);
    }

    #[test]
    fn fired_timers_are_pruned_so_the_list_tracks_live_ones() {
        let mut own = OwnTimers::default();
        for _ in 0..10_000 {
            let c = cell(60);
            own.push(c.clone());
            drop(c.fire());
        }
        assert!(own.len() <= 2 * PRUNE_FLOOR, "kept {}", own.len());
    }
}
