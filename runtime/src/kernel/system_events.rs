//! The system monitor's recent events, kept for observers (see
//! [`recent_system_events`](crate::recent_system_events)): a short history in a
//! bounded queue, written by the monitor thread, read under the same lock.

use std::collections::VecDeque;
use std::time::Duration;

use crate::pid::Pid;

/// How many system-monitor events the runtime keeps.
pub(crate) const KEPT_EVENTS: usize = 64;

/// Something the system monitor noticed (as the messages `erlang:system_monitor/2`
/// sends), kept in a short history for observers: see
/// [`recent_system_events`](crate::recent_system_events).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemEvent {
    /// Its number: events are numbered from 1 in the order they happened, so a
    /// reader that polls can tell which ones it has seen.
    pub seq: u64,
    /// When it happened, as time since the runtime started.
    pub at: Duration,
    /// The process concerned.
    pub pid: Pid,
    /// What happened.
    pub kind: SystemEventKind,
}

/// What a [`SystemEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SystemEventKind {
    /// The process ran `duration` without a switch (the
    /// [`LongSchedule`](crate::LongSchedule) event).
    LongSchedule {
        /// How long it had run when it was noticed.
        duration: Duration,
    },
    /// The scheduler `core` was stuck in the process, so the system monitor handed
    /// its run queue to another thread.
    CoreHandedOff {
        /// The core that was handed over.
        core: usize,
    },
}

/// The kept events: a bounded queue, oldest first, with the last number given.
#[derive(Debug, Default)]
pub(crate) struct SystemEvents {
    kept: VecDeque<SystemEvent>,
    last_seq: u64,
}

impl SystemEvents {
    /// Keeps an event that happened at `at` (the oldest goes beyond [`KEPT_EVENTS`]).
    pub(crate) fn record(&mut self, at: Duration, pid: Pid, kind: SystemEventKind) {
        self.last_seq += 1;
        if self.kept.len() == KEPT_EVENTS {
            self.kept.pop_front();
        }
        let seq = self.last_seq;
        self.kept.push_back(SystemEvent { seq, at, pid, kind });
    }

    /// The kept events, oldest first.
    pub(crate) fn to_vec(&self) -> Vec<SystemEvent> {
        self.kept.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_events_go_and_numbers_keep_counting() {
        let mut events = SystemEvents::default();
        let kind = SystemEventKind::CoreHandedOff { core: 0 };
        for i in 0..100u64 {
            events.record(Duration::from_millis(i), Pid::NO_PROCESS, kind);
        }
        let kept = events.to_vec();
        assert_eq!(kept.len(), KEPT_EVENTS);
        assert_eq!(kept[0].seq, 100 - KEPT_EVENTS as u64 + 1);
        assert_eq!(kept.last().unwrap().seq, 100);
        assert_eq!(kept.last().unwrap().at, Duration::from_millis(99));
    }
}
