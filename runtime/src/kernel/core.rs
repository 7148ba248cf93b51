//! `Core`: the movable part of a scheduler — its run queue, next slot, timers and caches.
//!
//! A core is owned by exactly one scheduler thread at a time. Keeping it apart from
//! the thread (the `WorkerContext`) is what lets a stuck thread hand its core to a
//! fresh one later without moving any process.

use crossbeam_utils::sync::Parker;

use super::queue::RunQueue;
use super::timer_action::TimerAction;
use crate::process::ProcPtr;
use crate::timer::wheel::Wheel;

/// Free process slots kept per core before returning half to the table.
pub(crate) const SLOT_CACHE: usize = 512;
/// Free stacks kept per core before returning half to the pool.
pub(crate) const STACK_CACHE: usize = 256;
/// Cached stacks per core that may keep the low pages a deep process touched (see
/// `Shared::give_back_stack`): 8 × at most 192 KiB of a default stack ≈ 1.5 MiB.
pub(crate) const DEEP_CACHED: usize = 8;

/// Per-core counters, read by `Runtime::stats`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CoreStats {
    /// Process resumes (context switches into a process).
    pub(crate) switches: u64,
    /// Processes taken from another core's queue.
    pub(crate) steals: u64,
    /// Times the thread parked.
    pub(crate) parks: u64,
}

/// The movable state of one scheduler.
#[derive(Debug)]
pub(crate) struct Core {
    /// Which core this is: its slot in `Shared::slots`, `stealers` and `idle`.
    pub(crate) index: usize,
    /// FIFO run queues by priority; other cores steal from their fronts.
    pub(crate) run_queue: RunQueue,
    /// A process woken by the one running here, run next (ping-pong pairs). It shares
    /// the remaining slice of the process that woke it, so a pair cannot starve the
    /// queue: when the slice is spent it goes to the back.
    pub(crate) next: Option<ProcPtr>,
    /// Timers armed by processes running on this core (no lock: the core is held).
    pub(crate) timers: Wheel<TimerAction>,
    /// Timers cancelled by exits here since the wheel was last swept.
    pub(crate) dead_timers: usize,
    /// Free process slots cached for spawns here (at most `SLOT_CACHE` plus a batch).
    pub(crate) free_slots: Vec<u32>,
    /// Free stacks cached for first runs here (at most `STACK_CACHE` plus a batch).
    pub(crate) free_stacks: Vec<usize>,
    /// How many of `free_stacks` carry the deep tag (at most `DEEP_CACHED`).
    pub(crate) deep_stacks: usize,
    /// Xorshift state for picking a steal victim.
    pub(crate) rng: u32,
    /// Scheduling rounds so far (the injector is looked at first every so often).
    pub(crate) tick: u64,
    /// Counters for `Runtime::stats`; `switches` is also published in the core's slot.
    pub(crate) stats: CoreStats,
    /// Where the thread holding this core parks; its unparker is in `Shared::idle`,
    /// under the core's index, so a wake-up reaches whichever thread holds the core.
    pub(crate) parker: Parker,
}

impl Core {
    pub(crate) fn new(index: usize, run_queue: RunQueue, parker: Parker) -> Core {
        Core {
            index,
            run_queue,
            next: None,
            timers: Wheel::new(),
            dead_timers: 0,
            free_slots: Vec::new(),
            free_stacks: Vec::new(),
            deep_stacks: 0,
            rng: 0x9e37_79b9 ^ (index as u32).wrapping_mul(0x85eb_ca6b) | 1,
            tick: 0,
            stats: CoreStats::default(),
            parker,
        }
    }

    /// A fast xorshift for picking steal victims.
    pub(crate) fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }
}
