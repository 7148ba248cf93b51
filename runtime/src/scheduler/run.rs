//! Running one process: resume it, then requeue, park, hibernate or retire it.
//!
//! Every step after the resume goes through `with_core`, and works without a core
//! too: a thread whose core was handed to another thread while the process ran (see
//! [`crate::kernel::handoff`]) still finishes with the process it holds, using the shared
//! queues and pools instead of the core's.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;

use super::context::{self, WorkerContext};
use super::current::{self, Current};
use crate::coroutine::{Outcome, ProcessCoroutine, ProcessYielder, Step, Suspend};
use crate::exit::ExitReason;
use crate::kernel::core::Core;
use crate::kernel::deliver::Placement;
use crate::kernel::shared::Shared;
use crate::kernel::signals;
use crate::process::state::Wait;
use crate::process::{Held, ProcPtr, Process};
use crate::stack::{self, DEEP_MARK};
use crate::unwind::{PanicPayload, classify_exit};

/// Runs one process until it suspends or finishes. The core is borrowed twice:
/// once to prepare the process, once to put it away; never while it runs. `then`
/// runs on the core in the second borrow (the worker picks its next process there,
/// saving a borrow per switch); its result, or `None` if the thread had no core then
/// or the process never ran.
pub(crate) fn run_process<R>(
    cx: &WorkerContext,
    p: ProcPtr,
    inherit: bool,
    then: impl FnOnce(&mut Core) -> R,
) -> Option<R> {
    let proc = p.get();
    proc.state.transition_to_running();
    // This scheduler's `Held` lives in this block only: it ends before the resume,
    // and a new one is made after the process switched out.
    let (co, budget_before) = {
        // SAFETY: the process is Running and this scheduler moved it there, so it is
        // holder 2 of `process::held`, and no other `Held` of it is alive.
        let mut held = unsafe { Held::assume(proc) };
        if proc.hibernated.load(Ordering::Relaxed) {
            match wake_hibernated(cx, held) {
                Some(h) => held = h,
                None => return None,
            }
        }
        match cx.with_core(|core| prepare(cx, core, &mut held, inherit)) {
            Some(prepared) => prepared,
            None => {
                cx.with_core(|core| cx.shared.retire(core, held, ExitReason::SystemLimit));
                return None;
            }
        }
    };
    #[cfg(feature = "tracing")]
    let span = span_of(proc);
    cx.current.set(Some(p));
    let (mut co, step) = {
        // Entered on this thread for this slice only (the guard is the thread's).
        #[cfg(feature = "tracing")]
        let _entered = span.as_ref().map(tracing::Span::enter);
        co.resume()
    };
    cx.current.set(None);
    let (budget_after, check) = context::leave_slice();
    // SAFETY: the process switched out (or finished) and is still Running (or
    // Exiting): this scheduler holds it again (holder 2), and the process's own
    // `Held`s ended before it switched.
    let mut held = unsafe { Held::assume(proc) };
    #[cfg(feature = "tracing")]
    {
        held.owned().span = span;
    }
    let spent = (budget_before - budget_after).max(0) as u64;
    let total = proc.reductions.load(Ordering::Relaxed) + spent;
    proc.reductions.store(total, Ordering::Relaxed);
    cx.with_core(|mut core| {
        if let Some(c) = core.as_deref_mut() {
            publish_switch(&cx.shared, c, None);
        }
        match step {
            Step::Suspended(s) => {
                let owned = held.owned();
                // Taken through a reference: the closure stays small enough to be
                // passed without a `memcpy` of the coroutine (see `with_core`).
                owned.coroutine = co.take();
                let left = ((owned.stack_top - check) / 1024) as u16;
                proc.stack_check.store(left, Ordering::Relaxed);
                suspended(&cx.shared, core.as_deref_mut(), p, s);
            }
            Step::Finished(outcome, stack) => {
                // The check dropped to the red zone: the process passed its deep mark.
                let red = usize::from(proc.stack_red.load(Ordering::Relaxed)) * 1024;
                let deep = check == held.owned().stack_top - red;
                cx.shared.give_back_stack(core.as_deref_mut(), stack, deep);
                match outcome {
                    Outcome::Exit(reason) => cx.shared.retire(core.as_deref_mut(), held, reason),
                    Outcome::Hibernate(entry) => {
                        hibernated(&cx.shared, core.as_deref_mut(), held, entry)
                    }
                }
            }
        }
        core.map(then)
    })
}

/// Takes the process's span out of its record for the slice (put back after it).
#[cfg(feature = "tracing")]
fn span_of(proc: &Process) -> Option<tracing::Span> {
    // SAFETY: called by the scheduler running `proc` (holder 2 of `process::held`)
    // between its borrows, before the resume: no other `Held` of it is alive.
    let mut held = unsafe { Held::assume(proc) };
    held.owned().span.take()
}

/// A hibernated process was woken: act on its signals here, without giving it a
/// stack, and resume it only for a message (or to die unwinding nothing). Gives
/// the process back if it must run.
fn wake_hibernated<'a>(cx: &WorkerContext, mut held: Held<'a>) -> Option<Held<'a>> {
    let died = signals::intake(&cx.shared, &mut held).or_else(|| {
        held.process().kill_pending().then(|| {
            held.owned()
                .kill_reason
                .clone()
                .unwrap_or(ExitReason::Killed)
        })
    });
    if let Some(reason) = died {
        cx.with_core(|core| cx.shared.retire(core, held, reason));
        return None;
    }
    if held.owned().queue.len() > 0 {
        return Some(held);
    }
    cx.with_core(|core| suspended(&cx.shared, core, held.ptr(), Suspend::Wait));
    None
}

/// Gets a Running process ready to resume: its coroutine (built on a fresh stack
/// if it has none), its slice and stack check (returning the slice's budget), and
/// the published switch. `None` if no stack.
fn prepare(
    cx: &WorkerContext,
    mut core: Option<&mut Core>,
    held: &mut Held<'_>,
    inherit: bool,
) -> Option<(ProcessCoroutine, i32)> {
    let proc = held.process();
    let co = match held.owned().coroutine.take() {
        Some(co) => co,
        None => start_coroutine(&cx.shared, core.as_deref_mut(), held)?,
    };
    if let Some(core) = core {
        proc.last_scheduler
            .store(core.index as u32, Ordering::Relaxed);
        publish_switch(&cx.shared, core, Some(proc));
    }
    let owned = held.owned();
    let budget = (!inherit).then_some(cx.shared.config.reductions);
    let check = usize::from(proc.stack_check.load(Ordering::Relaxed)) * 1024;
    let red = usize::from(proc.stack_red.load(Ordering::Relaxed)) * 1024;
    let top = owned.stack_top;
    let budget = context::enter_slice(budget, top - check, top - red);
    Some((co, budget))
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
    mut held: Held<'_>,
    entry: Box<dyn FnOnce() + Send>,
) {
    let proc = held.process();
    let owned = held.owned();
    owned.entry = Some(entry);
    proc.hibernated.store(true, Ordering::Relaxed);
    let has_mail = owned.queue.len() > 0 || !proc.inbound.is_empty() || proc.kill_pending();
    if has_mail {
        proc.state.transition_to_yielded();
        shared.schedule(core, held.ptr(), Placement::Back);
    } else {
        suspended(shared, core, held.ptr(), Suspend::Wait);
    }
}

/// Builds the coroutine of a process that has no stack (first run or after
/// hibernation). `None` if no stack can be had.
fn start_coroutine(
    shared: &Shared,
    core: Option<&mut Core>,
    held: &mut Held<'_>,
) -> Option<ProcessCoroutine> {
    let proc = held.process();
    let class = proc.stack_class.load(Ordering::Relaxed);
    let slot = shared.take_stack(core, class)?;
    let stack = shared.stacks.stack(class, slot);
    proc.hibernated.store(false, Ordering::Relaxed);
    // Whole KiB: usable is whole pages, and the red zone a quarter of that at most.
    let usable = stack.usable();
    let red = usable - stack::red_zone(usable);
    proc.stack_red.store((red / 1024) as u16, Ordering::Relaxed);
    // The deep mark, unless the stack is so small that the red zone is above it.
    let check = DEEP_MARK.min(red) / 1024;
    proc.stack_check.store(check as u16, Ordering::Relaxed);
    let owned = held.owned();
    owned.stack_top = corosensei::stack::Stack::base(&stack).get();
    let entry = owned.entry.take();
    Some(ProcessCoroutine::new(stack, move |y| {
        process_main(y, entry)
    }))
}

/// The bottom frame of every process.
fn process_main(y: &ProcessYielder, entry: Option<Box<dyn FnOnce() + Send>>) -> Outcome {
    Current::expect("a process's bottom frame")
        .held()
        .owned()
        .yielder = y;
    let result = catch_unwind(AssertUnwindSafe(|| {
        current::check_signals();
        if let Some(f) = entry {
            f();
        }
    }));
    let mut me = Current::expect("a process's bottom frame");
    let mut held = me.held();
    held.owned().yielder = std::ptr::null();
    match result {
        // A kill caught by the user's catch_unwind still ends the process.
        Ok(()) => match held.process().kill_pending() {
            true => Outcome::Exit(
                held.owned()
                    .kill_reason
                    .clone()
                    .unwrap_or(ExitReason::Killed),
            ),
            false => Outcome::Exit(ExitReason::Normal),
        },
        Err(payload) => match classify_exit(payload, context::take_panic()) {
            PanicPayload::Hibernate(f) => Outcome::Hibernate(f),
            PanicPayload::Exit(reason) => Outcome::Exit(reason),
        },
    }
}
