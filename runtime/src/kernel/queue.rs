//! Run queues by priority (as the BEAM's `process_flag(priority, ...)`).
//!
//! Each core has one FIFO queue per priority; other cores steal from each, and the
//! runtime has one injector per priority. A scheduler takes `high` work first, then
//! `normal`; a `low` process still runs, just less often: every [`LOW_INTERVAL`]
//! picks from the normal queue, a waiting low process goes first, and it runs at
//! once when nothing of normal priority is runnable.

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use crate::process::ProcPtr;

/// Normal picks between two low ones when both are runnable (arbitrary; the BEAM
/// skips a low process 8 times in its normal queue).
pub(crate) const LOW_INTERVAL: u32 = 8;

fn level(p: ProcPtr) -> usize {
    usize::from(p.get().priority.load(std::sync::atomic::Ordering::Relaxed)).min(2)
}

/// A core's run queues.
#[derive(Debug)]
pub(crate) struct RunQueue {
    levels: [Worker<ProcPtr>; 3],
    normal_streak: u32,
}

/// The stealing side of one core's run queues.
#[derive(Debug)]
pub(crate) struct Remote {
    levels: [Stealer<ProcPtr>; 3],
}

/// The runtime-wide queues for processes made runnable outside any scheduler.
#[derive(Debug, Default)]
pub(crate) struct Injectors {
    levels: [Injector<ProcPtr>; 3],
}

fn steal_into(
    from: impl Fn(&Worker<ProcPtr>) -> Steal<ProcPtr>,
    to: &Worker<ProcPtr>,
) -> Option<ProcPtr> {
    loop {
        match from(to) {
            Steal::Success(p) => return Some(p),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

impl RunQueue {
    pub(crate) fn new() -> (RunQueue, Remote) {
        let levels = [Worker::new_fifo(), Worker::new_fifo(), Worker::new_fifo()];
        let remote = Remote {
            levels: [
                levels[0].stealer(),
                levels[1].stealer(),
                levels[2].stealer(),
            ],
        };
        (
            RunQueue {
                levels,
                normal_streak: 0,
            },
            remote,
        )
    }

    pub(crate) fn push(&self, p: ProcPtr) {
        self.levels[level(p)].push(p);
    }

    /// The next process by the priority rules of the module docs.
    pub(crate) fn pop(&mut self) -> Option<ProcPtr> {
        if let Some(p) = self.levels[2].pop() {
            return Some(p);
        }
        if self.normal_streak >= LOW_INTERVAL {
            self.normal_streak = 0;
            if let Some(p) = self.levels[0].pop() {
                return Some(p);
            }
        }
        if let Some(p) = self.levels[1].pop() {
            self.normal_streak += 1;
            return Some(p);
        }
        self.levels[0].pop()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.levels.iter().all(Worker::is_empty)
    }

    /// Steals a batch from another core, highest priority first; returns one.
    pub(crate) fn steal_from(&self, other: &Remote) -> Option<ProcPtr> {
        (0..3)
            .rev()
            .find_map(|l| steal_into(|w| other.levels[l].steal_batch_and_pop(w), &self.levels[l]))
    }

    /// Takes a batch from the injectors, highest priority first; returns one.
    pub(crate) fn steal_injected(&self, inj: &Injectors) -> Option<ProcPtr> {
        (0..3)
            .rev()
            .find_map(|l| steal_into(|w| inj.levels[l].steal_batch_and_pop(w), &self.levels[l]))
    }
}

impl Remote {
    pub(crate) fn is_empty(&self) -> bool {
        self.levels.iter().all(Stealer::is_empty)
    }

    pub(crate) fn len(&self) -> usize {
        self.levels.iter().map(Stealer::len).sum()
    }
}

impl Injectors {
    pub(crate) fn push(&self, p: ProcPtr) {
        self.levels[level(p)].push(p);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.levels.iter().all(Injector::is_empty)
    }
}
