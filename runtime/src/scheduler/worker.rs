//! The scheduler loop.
//!
//! # One round
//!
//! 1. Fire due timers of this core (and adopt timers armed from outside).
//! 2. Pick a process: every [`INJECTOR_INTERVAL`] rounds the injector first (so it is
//!    never starved); then the next slot if the current slice has reductions left;
//!    then the local run queue; then the injector; then a steal from a random victim.
//! 3. Run it until it suspends or finishes, then requeue it, park it or retire it.
//! 4. With nothing to run: spin briefly (stealing), release surplus pooled stacks,
//!    then park until a notify or the next timer deadline (see [`super::idle`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_deque::Steal;
use crossbeam_utils::Backoff;

use super::context::{self, WorkerContext};
use super::core::{Core, SLOT_CACHE, STACK_CACHE};
use super::{Placement, Shared};
use crate::ExitReason;
use crate::coroutine::{Outcome, ProcessCoroutine, ProcessYielder, Step, Suspend};
use crate::process::state::Wait;
use crate::process::{ProcPtr, Process};
use crate::signal;
use crate::stack::KEEP_RESIDENT;
use crate::timer;
use crate::unwind::{PanicPayload, classify_exit};

/// Rounds between looks at the injector ahead of the local queue (as Go's 61).
const INJECTOR_INTERVAL: u64 = 61;

/// The thread body of a scheduler.
pub(crate) fn run(cx: &WorkerContext) {
    let _alt = crate::stack::guard::AltStack::ensure();
    set_timer_slack();
    context::enter(cx, || {
        while !cx.shared.stopping.load(Ordering::Acquire) {
            let picked = {
                let mut core = cx.core.borrow_mut();
                core.tick = core.tick.wrapping_add(1);
                fire_timers(&cx.shared, &mut core);
                pick(&cx.shared, &mut core)
            };
            match picked {
                Some((p, inherit)) => run_process(cx, p, inherit),
                None => idle(cx),
            }
        }
    });
}

/// Asks the kernel for precise timer wake-ups on this thread (the default 50 µs slack
/// would be most of a 1 ms timer's lateness budget).
fn set_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and affects only this thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
}

fn fire_timers(shared: &Shared, core: &mut Core) {
    shared.adopt_remote_timers(core);
    if core.timers.is_empty() {
        return;
    }
    let now = timer::now_tick(shared.epoch, Instant::now());
    let mut due = Vec::new();
    core.timers.poll(now, |action| due.push(action));
    for action in due {
        shared.fire_timer(Some(core), action);
    }
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
    loop {
        match shared.injector.steal_batch_and_pop(&core.run_queue) {
            Steal::Success(p) => return Some(p),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
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
        loop {
            match shared.stealers[victim].steal_batch_and_pop(&core.run_queue) {
                Steal::Success(p) => {
                    core.stats.steals += 1;
                    return Some(p);
                }
                Steal::Empty => break,
                Steal::Retry => continue,
            }
        }
    }
    None
}

/// `true` if there is anything this worker could run now.
fn has_work(shared: &Shared, core: &Core) -> bool {
    if !core.run_queue.is_empty() || core.next.is_some() || !shared.injector.is_empty() {
        return true;
    }
    if shared.has_remote_timers.load(Ordering::Acquire) {
        return true;
    }
    if let Some(t) = core.timers.next_deadline() {
        if t <= timer::now_tick(shared.epoch, Instant::now()) {
            return true;
        }
    }
    shared
        .stealers
        .iter()
        .enumerate()
        .any(|(i, s)| i != core.index && !s.is_empty())
}

fn idle(cx: &WorkerContext) {
    let shared = &cx.shared;
    let backoff = Backoff::new();
    while !backoff.is_completed() {
        if has_work(shared, &cx.core.borrow()) || shared.stopping.load(Ordering::Acquire) {
            return;
        }
        backoff.snooze();
    }
    release_caches(cx);
    shared.stacks.trim(KEEP_RESIDENT);
    shared.idle.register(cx.index);
    let deadline = {
        let core = cx.core.borrow();
        if has_work(shared, &core) || shared.stopping.load(Ordering::Acquire) {
            None
        } else {
            Some(core.timers.next_deadline())
        }
    };
    if let Some(deadline) = deadline {
        cx.core.borrow_mut().stats.parks += 1;
        match deadline {
            Some(t) => cx
                .parker
                .park_deadline(timer::tick_instant(shared.epoch, t)),
            None => cx.parker.park(),
        }
    }
    shared.idle.unregister(cx.index);
}

/// Hands everything this core holds back when its thread stops.
pub(crate) fn retire(cx: &WorkerContext) {
    release_caches(cx);
    let mut core = cx.core.borrow_mut();
    let dropped: Vec<_> = core.timers.drain().collect();
    drop(core);
    drop(dropped);
}

/// Returns this core's cached slots and stacks to the shared pools, so memory can be
/// trimmed and other cores can use them.
fn release_caches(cx: &WorkerContext) {
    let mut core = cx.core.borrow_mut();
    let shared = &cx.shared;
    if !core.free_stacks.is_empty() {
        shared.stacks.release_batch(core.free_stacks.drain(..));
    }
    if !core.free_slots.is_empty() {
        shared.table.release_batch(core.free_slots.drain(..));
    }
}

/// Runs one process until it suspends or finishes.
fn run_process(cx: &WorkerContext, p: ProcPtr, inherit: bool) {
    let proc = p.get();
    proc.state.transition_to_running();
    // SAFETY: Running: this scheduler holds the process exclusively; the reference
    // is dropped before the process runs.
    let co = match unsafe { proc.owned() }.coroutine.take() {
        Some(co) => co,
        None => match start_coroutine(cx, proc) {
            Some(co) => co,
            None => return finish(cx, p, ExitReason::SystemLimit),
        },
    };
    if !inherit {
        context::set_budget(cx.shared.config.reductions);
    }
    proc.last_scheduler
        .store(cx.index as u32, Ordering::Relaxed);
    let budget_before = context::budget();
    cx.current.set(Some(p));
    let (co, step) = co.resume();
    cx.current.set(None);
    let spent = (budget_before - context::budget()).max(0) as u64;
    let total = proc.reductions.load(Ordering::Relaxed) + spent;
    proc.reductions.store(total, Ordering::Relaxed);
    {
        let mut core = cx.core.borrow_mut();
        core.stats.switches += 1;
        cx.shared.switches[cx.index].store(core.stats.switches, Ordering::Relaxed);
    }
    match step {
        Step::Suspended(s) => {
            // SAFETY: still Running and held by this scheduler.
            unsafe { proc.owned() }.coroutine = co;
            suspended(cx, p, s);
        }
        Step::Finished(outcome, stack) => {
            give_back_stack(cx, stack.into_slot());
            match outcome {
                Outcome::Exit(reason) => finish(cx, p, reason),
                Outcome::Hibernate(entry) => hibernated(cx, p, entry),
            }
        }
    }
}

fn suspended(cx: &WorkerContext, p: ProcPtr, s: Suspend) {
    let mut core = cx.core.borrow_mut();
    match s {
        Suspend::Yield => {
            p.get().state.transition_to_yielded();
            cx.shared.schedule(Some(&mut core), p, Placement::Back);
        }
        Suspend::Wait => {
            if p.get().state.transition_to_waiting() == Wait::Reschedule {
                cx.shared.schedule(Some(&mut core), p, Placement::Back);
            }
        }
    }
}

fn hibernated(cx: &WorkerContext, p: ProcPtr, entry: Box<dyn FnOnce() + Send>) {
    let proc = p.get();
    // SAFETY: Running and held by this scheduler.
    let owned = unsafe { proc.owned() };
    owned.entry = Some(entry);
    proc.hibernated.store(true, Ordering::Relaxed);
    let has_mail = owned.queue.len() > 0 || !proc.inbound.is_empty() || proc.kill_pending();
    if has_mail {
        proc.state.transition_to_yielded();
        cx.shared
            .schedule(Some(&mut cx.core.borrow_mut()), p, Placement::Back);
    } else {
        suspended(cx, p, Suspend::Wait);
    }
}

/// Builds the coroutine of a process that has no stack (first run or after
/// hibernation). `None` if no stack can be had.
fn start_coroutine(cx: &WorkerContext, proc: &Process) -> Option<ProcessCoroutine> {
    let slot = take_stack(cx)?;
    let stack = cx.shared.stacks.stack(slot);
    proc.hibernated.store(false, Ordering::Relaxed);
    // SAFETY: Running and held by this scheduler.
    let owned = unsafe { proc.owned() };
    owned.stack_top = corosensei::stack::Stack::base(&stack).get();
    let entry = owned.entry.take();
    Some(ProcessCoroutine::new(stack, move |y| {
        process_main(y, entry)
    }))
}

/// The bottom frame of every process.
fn process_main(y: &ProcessYielder, entry: Option<Box<dyn FnOnce() + Send>>) -> Outcome {
    let p = context::current_process().expect("a process runs under a scheduler");
    // SAFETY: the process itself is running; no other reference to `owned` is alive.
    unsafe { p.get().owned() }.yielder = y;
    let result = catch_unwind(AssertUnwindSafe(|| {
        crate::api::check_signals();
        if let Some(f) = entry {
            f();
        }
    }));
    let p = context::current_process().expect("a process runs under a scheduler");
    // SAFETY: as above.
    unsafe { p.get().owned() }.yielder = std::ptr::null();
    match result {
        Ok(()) => match p.get().kill_pending() {
            // A kill caught by the user's catch_unwind still ends the process.
            true => Outcome::Exit(kill_reason(p)),
            false => Outcome::Exit(ExitReason::Normal),
        },
        Err(payload) => match classify_exit(payload) {
            PanicPayload::Hibernate(f) => Outcome::Hibernate(f),
            PanicPayload::Exit(reason) => Outcome::Exit(reason),
        },
    }
}

fn kill_reason(p: ProcPtr) -> ExitReason {
    // SAFETY: called by the running process itself.
    unsafe { p.get().owned() }
        .kill_reason
        .clone()
        .unwrap_or(ExitReason::Killed)
}

fn take_stack(cx: &WorkerContext) -> Option<usize> {
    let mut core = cx.core.borrow_mut();
    if core.free_stacks.is_empty() {
        cx.shared.stacks.acquire_batch(&mut core.free_stacks, 32);
    }
    core.free_stacks.pop()
}

fn give_back_stack(cx: &WorkerContext, slot: usize) {
    let mut core = cx.core.borrow_mut();
    core.free_stacks.push(slot);
    if core.free_stacks.len() > STACK_CACHE {
        let half = core.free_stacks.len() / 2;
        let at = core.free_stacks.len() - half;
        cx.shared.stacks.release_batch(core.free_stacks.drain(at..));
    }
}

/// Retires an exited process: drops its mailbox, runs its exit hooks, frees the slot.
fn finish(cx: &WorkerContext, p: ProcPtr, reason: ExitReason) {
    let proc = p.get();
    proc.state.transition_to_exiting();
    let pid = proc.pid(cx.shared.id);
    // SAFETY: Exiting: this scheduler holds the process exclusively.
    let owned = unsafe { proc.owned() };
    owned.queue.clear();
    owned.entry = None;
    owned.kill_reason = None;
    owned.aliases.clear();
    let hooks = std::mem::take(&mut owned.exit_hooks);
    let notice = signal::on_exit(&cx.shared, &mut cx.core.borrow_mut(), proc, pid, &reason);
    cx.shared
        .reductions
        .fetch_add(proc.reductions.load(Ordering::Relaxed), Ordering::Relaxed);
    // Release pairs with the Acquire serial check in `Shared::deliver`.
    proc.serial
        .store(pid.serial.wrapping_add(1), Ordering::Release);
    proc.state.transition_to_free();
    if !notice.observed {
        crate::report::exit(pid, &reason);
    }
    release_slot(cx, proc.index);
    cx.shared.process_exited();
    for hook in hooks {
        hook(&reason);
    }
}

fn release_slot(cx: &WorkerContext, index: u32) {
    let mut core = cx.core.borrow_mut();
    core.free_slots.push(index);
    if core.free_slots.len() > SLOT_CACHE {
        let half = core.free_slots.len() / 2;
        let at = core.free_slots.len() - half;
        cx.shared.table.release_batch(core.free_slots.drain(at..));
    }
}
