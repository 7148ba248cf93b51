//! The deterministic simulation scheduler: the loop of a runtime built with
//! [`RuntimeBuilder::simulation`](crate::RuntimeBuilder::simulation).
//!
//! One scheduler thread holds the only core; there is no system monitor, no spare
//! thread, no stealing, and the thread parks only when nothing at all is pending.
//!
//! # One round
//!
//! 1. Adopt timers armed from outside, and fire the timers due at the virtual now
//!    (see [`crate::timer::clock`]).
//! 2. Move every runnable process — the next slot, the run queue, the injector, in
//!    that order — into the ready set, by priority.
//! 3. If nothing is ready and a timer is pending, advance the virtual clock to the
//!    earliest timer slot and go back to 1: an idle system jumps straight to its next
//!    deadline, so a 5 s timeout costs no wall time. If nothing is ready and no timer
//!    is pending, park until a thread outside the runtime makes work (a `block_on`
//!    root, `Runtime::send`, shutdown).
//! 4. Pick one ready process with the seeded PRNG ([`SplitMix64`]): uniformly among
//!    the highest priority level that has one (a ready `Low` process is picked over
//!    `Normal` ones with probability 1/([`LOW_INTERVAL`] + 1), standing in for the
//!    normal scheduler's every-eighth pick). Give it a slice: the configured
//!    reductions, or — one slice in [`SHORT_SLICE_ODDS`] — between 1 and
//!    [`SHORT_SLICE_MAX`] reductions, so the seed also chooses where a process is
//!    preempted. Run it until it suspends or exits.
//!
//! Ready processes wait in the loop's own ready set, not in the core's run queue, so
//! `RuntimeStats::run_queue_lengths` of a simulated runtime reads zero.
//!
//! # Why a seed replays exactly
//!
//! Everything a round depends on is made by this one thread in an order fixed by the
//! program and the seed: run-queue pushes, timer insertions (a wheel slot fires in
//! insertion order), pid slot reuse, and the order of the exit signals a process
//! sends (sorted in simulated runtimes, see `kernel::signals::on_exit`). What still comes from
//! outside — a `Runtime::send` or `Runtime::spawn` from another thread while the
//! simulation runs, `Instant::now()` read by user code — is not replayed; network
//! I/O is refused and dirty jobs run while the scheduler waits (see
//! [`RuntimeBuilder::simulation`](crate::RuntimeBuilder::simulation)).

use std::sync::atomic::Ordering;

use super::context::{self, WorkerContext};
use super::{run, worker};
use crate::kernel::core::Core;
use crate::kernel::queue::LOW_INTERVAL;
use crate::kernel::shared::Shared;
use crate::process::ProcPtr;
use crate::stack::guard::AltStack;
use crate::timer::clock::VirtualClock;
use crate::timer::wheel::TICK_NANOS;

/// One slice in this many is cut short (step 4).
pub(crate) const SHORT_SLICE_ODDS: u64 = 4;
/// The longest cut-short slice, in reductions.
pub(crate) const SHORT_SLICE_MAX: u64 = 32;

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, well-mixed PRNG whose whole state
/// is one `u64`, so any seed (0 included) is a good one.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The simulation's scheduling state, owned by the scheduler thread.
struct Sim {
    rng: SplitMix64,
    /// Runnable processes by priority level (`Priority as usize`).
    ready: [Vec<ProcPtr>; 3],
    reductions: i32,
}

/// The thread body of a simulated runtime's only scheduler.
pub(crate) fn thread_main(cx: &WorkerContext, seed: u64) {
    let _alt = AltStack::ensure();
    cx.adopt(0);
    let clock = cx
        .shared
        .clock
        .clone()
        .expect("a simulated runtime has a virtual clock");
    let mut sim = Sim {
        rng: SplitMix64::new(seed),
        ready: [Vec::new(), Vec::new(), Vec::new()],
        reductions: cx.shared.config.reductions,
    };
    context::enter(cx, || {
        // Acquire pairs with the shutdown's SeqCst store: a thread that sees it stops.
        while !cx.shared.stopping.load(Ordering::Acquire) {
            let picked = cx.with_core(|core| {
                let core = core.expect("nothing takes a simulated runtime's core");
                sim.next(&cx.shared, core, &clock)
            });
            match picked {
                // The slice was set by `next`: the process inherits it.
                Some(p) => {
                    let _ = run::run_process(cx, p, true, |_| ());
                }
                None => park(cx),
            }
        }
        worker::release_core_caches(cx);
    });
}

impl Sim {
    /// Steps 1–4: the process to run next with its slice set, or `None` when
    /// nothing is ready and no timer is pending.
    fn next(&mut self, shared: &Shared, core: &mut Core, clock: &VirtualClock) -> Option<ProcPtr> {
        loop {
            fire_due(shared, core, clock);
            self.collect(shared, core);
            if let Some(p) = self.pick() {
                context::set_budget(self.slice());
                return Some(p);
            }
            // Nothing can run before the next timer: jump to it. `poll` has fired
            // every slot starting at or before now, so this moves forward.
            let tick = core.timers.next_deadline()?;
            clock.advance_to(tick.saturating_mul(TICK_NANOS));
        }
    }

    /// Step 2.
    fn collect(&mut self, shared: &Shared, core: &mut Core) {
        if let Some(p) = core.next.take() {
            self.push(p);
        }
        loop {
            while let Some(p) = core.run_queue.pop() {
                self.push(p);
            }
            match core.run_queue.steal_injected(&shared.injector) {
                Some(p) => self.push(p),
                None => break,
            }
        }
    }

    fn push(&mut self, p: ProcPtr) {
        let level = usize::from(p.get().priority.load(Ordering::Relaxed)).min(2);
        self.ready[level].push(p);
    }

    /// Step 4, the process.
    fn pick(&mut self) -> Option<ProcPtr> {
        let [low, normal, high] = &self.ready;
        let level = if !high.is_empty() {
            2
        } else if !normal.is_empty() {
            let low_turn = !low.is_empty() && self.rng.below(u64::from(LOW_INTERVAL) + 1) == 0;
            if low_turn { 0 } else { 1 }
        } else if !low.is_empty() {
            0
        } else {
            return None;
        };
        let candidates = &mut self.ready[level];
        let i = self.rng.below(candidates.len() as u64) as usize;
        Some(candidates.swap_remove(i))
    }

    /// Step 4, the slice.
    fn slice(&mut self) -> i32 {
        if self.rng.below(SHORT_SLICE_ODDS) == 0 {
            let short = 1 + self.rng.below(SHORT_SLICE_MAX) as i32;
            short.min(self.reductions)
        } else {
            self.reductions
        }
    }
}

/// Step 1.
fn fire_due(shared: &Shared, core: &mut Core, clock: &VirtualClock) {
    shared.fire_due(core, || clock.nanos() / TICK_NANOS);
}

/// Waits for work from outside the runtime (step 3, second case).
fn park(cx: &WorkerContext) {
    let shared = &cx.shared;
    cx.with_core(|core| {
        let Some(core) = core else { return };
        shared.idle.register(core.index);
        let pending = core.next.is_some()
            || !core.run_queue.is_empty()
            || !shared.injector.is_empty()
            || shared.has_remote_timers.load(Ordering::Acquire);
        // `has_remote_timers` (above) pairs with the Release in `Shared::arm_timer`;
        // `stopping` with the shutdown's SeqCst store.
        if !pending && !shared.stopping.load(Ordering::Acquire) {
            core.stats.parks += 1;
            core.parker.park();
        }
        shared.idle.unregister(core.index);
    });
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn splitmix_is_reproducible_and_seed_dependent() {
        let draw = |seed| {
            let mut r = SplitMix64::new(seed);
            (0..8).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        // The reference output of SplitMix64 for seed 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = SplitMix64::new(42);
        assert!((0..10_000).all(|_| r.below(7) < 7));
    }
}
