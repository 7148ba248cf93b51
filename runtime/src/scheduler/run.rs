//! Running one process: resume it, then requeue, park, hibernate or retire it.
//!
//! Every step after the resume goes through `with_core`, and works without a core
//! too: a thread whose core was handed to another thread while the process ran (see
//! [`super::handoff`]) still finishes with the process it holds, using the shared
//! queues and pools instead of the core's.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;

use super::context::{self, WorkerContext};
use super::core::{Core, SLOT_CACHE, STACK_CACHE};
use super::{Placement, Shared};
use crate::ExitReason;
use crate::coroutine::{Outcome, ProcessCoroutine, ProcessYielder, Step, Suspend};
use crate::process::state::Wait;
use crate::process::{ProcPtr, Process};
use crate::signal;
use crate::unwind::{PanicPayload, classify_exit};

/// Runs one process until it suspends or finishes. The core is borrowed twice:
/// once to prepare the process, once to put it away; never while it runs.
pub(crate) fn run_process(cx: &WorkerContext, p: ProcPtr, inherit: bool) {
    let proc = p.get();
    proc.state.transition_to_running();
    if proc.hibernated.load(Ordering::Relaxed) && !wake_hibernated(cx, p) {
        return;
    }
    let Some(co) = cx.with_core(|core| prepare(cx, core, proc, inherit)) else {
        return cx.with_core(|core| finish(&cx.shared, core, p, ExitReason::SystemLimit));
    };
    let budget_before = context::budget();
    cx.current.set(Some(p));
    let (co, step) = co.resume();
    cx.current.set(None);
    let spent = (budget_before - context::budget()).max(0) as u64;
    let total = proc.reductions.load(Ordering::Relaxed) + spent;
    proc.reductions.store(total, Ordering::Relaxed);
    cx.with_core(|mut core| {
        if let Some(c) = core.as_deref_mut() {
            publish_switch(&cx.shared, c, None);
        }
        match step {
            Step::Suspended(s) => {
                // SAFETY: still Running and held by this scheduler.
                unsafe { proc.owned() }.coroutine = co;
                suspended(&cx.shared, core, p, s);
            }
            Step::Finished(outcome, stack) => {
                give_back_stack(&cx.shared, core.as_deref_mut(), stack.into_slot());
                match outcome {
                    Outcome::Exit(reason) => finish(&cx.shared, core, p, reason),
                    Outcome::Hibernate(entry) => hibernated(&cx.shared, core, p, entry),
                }
            }
        }
    });
}

/// A hibernated process was woken: act on its signals here, without giving it a
/// stack, and resume it only for a message (or to die unwinding nothing). Returns
/// `true` if it must run.
fn wake_hibernated(cx: &WorkerContext, p: ProcPtr) -> bool {
    let proc = p.get();
    let died = signal::drain_into(&cx.shared, p).or_else(|| {
        // SAFETY: Running: this scheduler holds the process exclusively.
        proc.kill_pending()
            .then(|| unsafe { proc.owned() }.kill_reason.clone())
            .map(|r| r.unwrap_or(ExitReason::Killed))
    });
    if let Some(reason) = died {
        cx.with_core(|core| finish(&cx.shared, core, p, reason));
        return false;
    }
    // SAFETY: as above.
    if unsafe { proc.owned() }.queue.len() > 0 {
        return true;
    }
    cx.with_core(|core| suspended(&cx.shared, core, p, Suspend::Wait));
    false
}

/// Gets a Running process ready to resume: its coroutine (built on a fresh stack
/// if it has none), its slice, and the published switch. `None` if no stack.
fn prepare(
    cx: &WorkerContext,
    mut core: Option<&mut Core>,
    proc: &Process,
    inherit: bool,
) -> Option<ProcessCoroutine> {
    // SAFETY: Running: this scheduler holds the process exclusively; the reference
    // is dropped before the process runs.
    let co = match unsafe { proc.owned() }.coroutine.take() {
        Some(co) => co,
        None => start_coroutine(&cx.shared, core.as_deref_mut(), proc)?,
    };
    if !inherit {
        context::set_budget(cx.shared.config.reductions);
    }
    if let Some(core) = core {
        proc.last_scheduler
            .store(core.index as u32, Ordering::Relaxed);
        publish_switch(&cx.shared, core, Some(proc));
    }
    Some(co)
}

/// Publishes entering (`Some`) or leaving (`None`) a process: the switch counter is
/// odd while a process runs, which is what the system monitor watches.
fn publish_switch(shared: &Shared, core: &mut Core, running: Option<&Process>) {
    // Odd while a process runs, even otherwise; always a new value, also when a core
    // comes from a thread that never got to mark its process's end.
    let want_odd = running.is_some();
    let s = core.stats.switches + 1;
    core.stats.switches = if (s % 2 == 1) == want_odd { s } else { s + 1 };
    let slot = &shared.slots[core.index];
    if let Some(p) = running {
        let packed = (u64::from(p.index) << 32) | u64::from(p.serial.load(Ordering::Relaxed));
        slot.running.store(packed, Ordering::Relaxed);
    }
    // Relaxed: the monitor only compares successive values.
    slot.switches.store(core.stats.switches, Ordering::Relaxed);
}

fn suspended(shared: &Shared, core: Option<&mut Core>, p: ProcPtr, s: Suspend) {
    let requeue = match s {
        Suspend::Yield => {
            p.get().state.transition_to_yielded();
            true
        }
        Suspend::Wait => p.get().state.transition_to_waiting() == Wait::Reschedule,
    };
    if requeue {
        shared.schedule(core, p, Placement::Back);
    }
}

fn hibernated(
    shared: &Shared,
    core: Option<&mut Core>,
    p: ProcPtr,
    entry: Box<dyn FnOnce() + Send>,
) {
    let proc = p.get();
    // SAFETY: Running and held by this scheduler.
    let owned = unsafe { proc.owned() };
    owned.entry = Some(entry);
    proc.hibernated.store(true, Ordering::Relaxed);
    let has_mail = owned.queue.len() > 0 || !proc.inbound.is_empty() || proc.kill_pending();
    if has_mail {
        proc.state.transition_to_yielded();
        shared.schedule(core, p, Placement::Back);
    } else {
        suspended(shared, core, p, Suspend::Wait);
    }
}

/// Builds the coroutine of a process that has no stack (first run or after
/// hibernation). `None` if no stack can be had.
fn start_coroutine(
    shared: &Shared,
    core: Option<&mut Core>,
    proc: &Process,
) -> Option<ProcessCoroutine> {
    let slot = take_stack(shared, core)?;
    let stack = shared.stacks.stack(slot);
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

fn take_stack(shared: &Shared, core: Option<&mut Core>) -> Option<usize> {
    match core {
        Some(core) => {
            if core.free_stacks.is_empty() {
                shared.stacks.acquire_batch(&mut core.free_stacks, 32);
            }
            core.free_stacks.pop()
        }
        None => {
            let mut one = Vec::with_capacity(1);
            shared.stacks.acquire_batch(&mut one, 1);
            one.pop()
        }
    }
}

fn give_back_stack(shared: &Shared, core: Option<&mut Core>, slot: usize) {
    match core {
        Some(core) => {
            core.free_stacks.push(slot);
            if core.free_stacks.len() > STACK_CACHE {
                let at = core.free_stacks.len() / 2;
                shared.stacks.release_batch(core.free_stacks.drain(at..));
            }
        }
        None => shared.stacks.release_batch([slot]),
    }
}

/// Retires an exited process: drops its mailbox, signals its links and monitors,
/// runs its exit hooks, frees the slot.
fn finish(shared: &Shared, mut core: Option<&mut Core>, p: ProcPtr, reason: ExitReason) {
    let proc = p.get();
    proc.state.transition_to_exiting();
    let pid = proc.pid(shared.id);
    // SAFETY: Exiting: this scheduler holds the process exclusively.
    let owned = unsafe { proc.owned() };
    owned.queue.clear();
    owned.entry = None;
    owned.kill_reason = None;
    owned.aliases.clear();
    let hooks = std::mem::take(&mut owned.exit_hooks);
    let notice = signal::on_exit(shared, core.as_deref_mut(), proc, pid, &reason);
    // The cleared queue and the closed inbound leave the count; the next occupant
    // starts from an empty mailbox (before the slot is freed for it).
    owned.drained = owned.drained.wrapping_add(notice.drained);
    proc.publish_mailbox(owned);
    shared
        .reductions
        .fetch_add(proc.reductions.load(Ordering::Relaxed), Ordering::Relaxed);
    // Release pairs with the Acquire serial check in `Shared::deliver`.
    proc.serial
        .store(pid.serial.wrapping_add(1), Ordering::Release);
    proc.state.transition_to_free();
    if !notice.observed {
        crate::report::exit(pid, &reason);
    }
    release_slot(shared, core, proc.index);
    shared.process_exited();
    for hook in hooks {
        hook(&reason);
    }
}

fn release_slot(shared: &Shared, core: Option<&mut Core>, index: u32) {
    match core {
        Some(core) => {
            core.free_slots.push(index);
            if core.free_slots.len() > SLOT_CACHE {
                let at = core.free_slots.len() / 2;
                shared.table.release_batch(core.free_slots.drain(at..));
            }
        }
        None => shared.table.release_batch([index]),
    }
}
