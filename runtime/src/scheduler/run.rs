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

/// Runs one process until it suspends or finishes.
pub(crate) fn run_process(cx: &WorkerContext, p: ProcPtr, inherit: bool) {
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
    let index = cx.core_index().unwrap_or(0);
    proc.last_scheduler.store(index as u32, Ordering::Relaxed);
    let budget_before = context::budget();
    cx.current.set(Some(p));
    publish_switch(cx, Some(proc));
    let (co, step) = co.resume();
    publish_switch(cx, None);
    cx.current.set(None);
    let spent = (budget_before - context::budget()).max(0) as u64;
    let total = proc.reductions.load(Ordering::Relaxed) + spent;
    proc.reductions.store(total, Ordering::Relaxed);
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

/// Publishes entering (`Some`) or leaving (`None`) a process: the switch counter is
/// odd while a process runs, which is what the system monitor watches.
fn publish_switch(cx: &WorkerContext, running: Option<&Process>) {
    cx.with_core(|core| {
        let Some(core) = core else { return };
        // Odd while a process runs, even otherwise; always a new value, also when a
        // core comes from a thread that never got to mark its process's end.
        let want_odd = running.is_some();
        let s = core.stats.switches + 1;
        core.stats.switches = if (s % 2 == 1) == want_odd { s } else { s + 1 };
        let slot = &cx.shared.slots[core.index];
        if let Some(p) = running {
            let packed = (u64::from(p.index) << 32) | u64::from(p.serial.load(Ordering::Relaxed));
            slot.running.store(packed, Ordering::Relaxed);
        }
        // Relaxed: the monitor only compares successive values.
        slot.switches.store(core.stats.switches, Ordering::Relaxed);
    });
}

fn suspended(cx: &WorkerContext, p: ProcPtr, s: Suspend) {
    let requeue = match s {
        Suspend::Yield => {
            p.get().state.transition_to_yielded();
            true
        }
        Suspend::Wait => p.get().state.transition_to_waiting() == Wait::Reschedule,
    };
    if requeue {
        cx.with_core(|core| cx.shared.schedule(core, p, Placement::Back));
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
        cx.with_core(|core| cx.shared.schedule(core, p, Placement::Back));
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
    cx.with_core(|core| match core {
        Some(core) => {
            if core.free_stacks.is_empty() {
                cx.shared.stacks.acquire_batch(&mut core.free_stacks, 32);
            }
            core.free_stacks.pop()
        }
        None => {
            let mut one = Vec::with_capacity(1);
            cx.shared.stacks.acquire_batch(&mut one, 1);
            one.pop()
        }
    })
}

fn give_back_stack(cx: &WorkerContext, slot: usize) {
    cx.with_core(|core| match core {
        Some(core) => {
            core.free_stacks.push(slot);
            if core.free_stacks.len() > STACK_CACHE {
                let at = core.free_stacks.len() / 2;
                cx.shared.stacks.release_batch(core.free_stacks.drain(at..));
            }
        }
        None => cx.shared.stacks.release_batch([slot]),
    });
}

/// Retires an exited process: drops its mailbox, signals its links and monitors,
/// runs its exit hooks, frees the slot.
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
    let notice = cx.with_core(|core| signal::on_exit(&cx.shared, core, proc, pid, &reason));
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
    cx.with_core(|core| release_slot(&cx.shared, core, proc.index));
    cx.shared.process_exited();
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
