//! The scheduler loop.
//!
//! # One round
//!
//! 1. Fire due timers of this core (and adopt timers armed from outside).
//! 2. Pick a process: every [`INJECTOR_INTERVAL`] rounds the injector first (so it is
//!    never starved); then the next slot if the current slice has reductions left;
//!    then the local run queue; then the injector; then a steal from a random victim.
//! 3. Run it until it suspends or finishes ([`super::run`]).
//! 4. With nothing to run: spin briefly (stealing), release surplus pooled stacks,
//!    then park until a notify or the next timer deadline (see [`crate::idle`]).
//!
//! A thread whose core was taken by the system monitor while it ran a process (see
//! [`crate::kernel::handoff`]) finishes with that process without a core, then waits as a
//! spare thread until the monitor hands it a core again.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_utils::Backoff;

use super::context::{self, WorkerContext};
use super::run;
use crate::kernel::core::Core;
use crate::kernel::deliver::Placement;
use crate::kernel::shared::Shared;
use crate::process::ProcPtr;
use crate::stack::KEEP_RESIDENT;
use crate::stack::guard::AltStack;
use crate::timer::{clock, wheel};

/// How long an idle scheduler keeps looking for work before it parks (as the BEAM's
/// scheduler busy wait): a wake-up from a parked thread costs tens of microseconds on
/// a virtual machine, far more than a message round trip.
const IDLE_SPIN: std::time::Duration = std::time::Duration::from_micros(50);

/// Rounds between looks at the injector ahead of the local queue (as Go's 61).
const INJECTOR_INTERVAL: u64 = 61;

/// The thread body of a scheduler: holds core `first` (or starts as a spare).
pub(crate) fn thread_main(cx: &WorkerContext, first: Option<usize>) {
    let _alt = AltStack::ensure();
    set_timer_slack();
    if let Some(i) = first {
        cx.adopt(i);
    }
    context::enter(cx, || {
        // What the last process's put-away chose next (see `run::run_process`).
        let mut picked: Option<Option<(ProcPtr, bool)>> = None;
        // Acquire pairs with the shutdown's SeqCst store: a thread that sees it stops.
        while !cx.shared.stopping.load(Ordering::Acquire) {
            if cx.core_index().is_none() {
                match cx.shared.spares.wait_for_core(&cx.shared.stopping) {
                    Some(i) => cx.adopt(i),
                    None => break,
                }
                continue;
            }
            let now = picked
                .take()
                .or_else(|| cx.with_core(|core| core.map(|c| next(&cx.shared, c))));
            match now {
                Some(Some((p, inherit))) => {
                    picked = run::run_process(cx, p, inherit, |c| next(&cx.shared, c));
                }
                Some(None) => idle(cx),
                None => {}
            }
        }
        // A process chosen as the loop stopped goes back to a queue, not nowhere.
        if let Some(Some((p, _))) = picked {
            cx.with_core(|core| cx.shared.schedule(core, p, Placement::Back));
        }
        release_core_caches(cx);
    });
}

/// One scheduling round on the core: count it, fire due timers, choose the next
/// process (`None`: nothing to run).
fn next(shared: &Shared, core: &mut Core) -> Option<(ProcPtr, bool)> {
    core.tick = core.tick.wrapping_add(1);
    fire_timers(shared, core);
    pick(shared, core)
}

/// Asks the kernel for precise timer wake-ups on this thread (the default 50 µs slack
/// would be most of a 1 ms timer's lateness budget).
fn set_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and affects only this thread;
    // the unused arguments are passed as zeros so the kernel (and valgrind) read no
    // uninitialised registers.
    unsafe {
        libc::prctl(
            libc::PR_SET_TIMERSLACK,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
}

fn fire_timers(shared: &Shared, core: &mut Core) {
    shared.fire_due(core, || now_tick(shared));
}

/// This round's tick, from the raw monotonic clock (see `wheel::raw_now_tick`).
#[inline]
fn now_tick(shared: &Shared) -> u64 {
    wheel::raw_now_tick(shared.epoch_nanos, clock::monotonic_nanos())
}

/// Chooses the next process. `true` in the result means it inherits the slice.
fn pick(shared: &Shared, core: &mut Core) -> Option<(ProcPtr, bool)> {
    if core.tick % INJECTOR_INTERVAL == 0 {
        if let Some(p) = steal_injector(shared, core) {
            return Some((p, false));
        }
    }
    if let Some(p) = core.next.take() {
        if context::budget() > 0 {
            return Some((p, true));
        }
        core.run_queue.push(p);
    }
    if let Some(p) = core.run_queue.pop() {
        return Some((p, false));
    }
    steal_injector(shared, core)
        .or_else(|| steal_other(shared, core))
        .map(|p| (p, false))
}

fn steal_injector(shared: &Shared, core: &mut Core) -> Option<ProcPtr> {
    core.run_queue.steal_injected(&shared.injector)
}

fn steal_other(shared: &Shared, core: &mut Core) -> Option<ProcPtr> {
    let n = shared.stealers.len();
    if n <= 1 {
        return None;
    }
    let start = core.next_random() as usize % n;
    for i in 0..n {
        let victim = (start + i) % n;
        if victim == core.index {
            continue;
        }
        if let Some(p) = core.run_queue.steal_from(&shared.stealers[victim]) {
            core.stats.steals += 1;
            return Some(p);
        }
    }
    None
}

/// `true` if there is anything this worker could run now.
fn has_work(shared: &Shared, core: &Core) -> bool {
    if !core.run_queue.is_empty() || core.next.is_some() || !shared.injector.is_empty() {
        return true;
    }
    // Acquire pairs with the Release in `Shared::arm_timer`.
    if shared.has_remote_timers.load(Ordering::Acquire) {
        return true;
    }
    if let Some(t) = core.timers.next_deadline() {
        if t <= now_tick(shared) {
            return true;
        }
    }
    shared
        .stealers
        .iter()
        .enumerate()
        .any(|(i, s)| i != core.index && !s.is_empty())
}

/// Looks for work for a while, then parks; the time spent here is the core's idle
/// time (`Runtime::stats`' scheduler utilisation, as the BEAM's
/// `scheduler_wall_time`, which also counts the busy wait as idle). The period is
/// published as it begins, so a core parked for long counts as idle meanwhile.
fn idle(cx: &WorkerContext) {
    let shared = &cx.shared;
    let since_epoch = || clock::monotonic_nanos().saturating_sub(shared.epoch_nanos);
    let Some(index) = cx.core_index() else { return };
    shared.slots[index].idle_begins(since_epoch());
    spin_then_park(cx, Instant::now() + IDLE_SPIN);
    // The core is still this thread's: only a thread running a process loses it.
    shared.slots[index].idle_ends(since_epoch());
}

fn spin_then_park(cx: &WorkerContext, until: Instant) {
    let shared = &cx.shared;
    let backoff = Backoff::new();
    loop {
        let busy = cx.with_core(|c| c.is_none_or(|core| has_work(shared, core)));
        // Acquire pairs with the shutdown's SeqCst store: a thread that sees it stops.
        if busy || shared.stopping.load(Ordering::Acquire) {
            return;
        }
        if backoff.is_completed() && Instant::now() >= until {
            break;
        }
        backoff.snooze();
    }
    cx.with_core(|core| {
        if let Some(core) = core {
            shared.release_caches(core);
            shared.stacks.trim(KEEP_RESIDENT);
            park(shared, core);
        }
    });
}

/// Steps 1–3 of the idle protocol, then the park itself.
fn park(shared: &Shared, core: &mut Core) {
    shared.idle.register(core.index);
    if !has_work(shared, core) && !shared.stopping.load(Ordering::Acquire) {
        core.stats.parks += 1;
        match core.timers.next_deadline() {
            Some(t) => core
                .parker
                .park_deadline(wheel::tick_instant(shared.epoch, t)),
            None => core.parker.park(),
        }
    }
    shared.idle.unregister(core.index);
}

/// Hands what this thread's core caches back when the thread stops.
pub(crate) fn release_core_caches(cx: &WorkerContext) {
    cx.with_core(|core| {
        if let Some(core) = core {
            cx.shared.release_caches(core);
            let dropped: Vec<_> = core.timers.drain().collect();
            drop(dropped);
        }
    });
}
