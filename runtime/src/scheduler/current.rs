//! The one door for the running process: everything runtime code does *as* the
//! process that is running on this thread goes through here.
//!
//! # Protocol
//!
//! 1. A public call takes a [`Current`] ([`Current::get`], or [`Current::expect`]
//!    where only a process may call). It names the process running on this thread
//!    and is `!Send`: it stays on the process's own stack (migrating with it) and is
//!    never stored anywhere else.
//! 2. Its owned fields (private queue, aliases, kill reason, yielder) are reached
//!    through [`Current::held`], the only place the running process makes its
//!    [`Held`] (holder 3 of [`crate::process::held`]). The borrow of a `Held` ends
//!    before the process switches: switching ([`Current::suspend`]) takes the
//!    `Current` by `&mut`, so the borrow checker rules out a `Held` live across it.
//! 3. Everything else a process does to the runtime — pay reductions ([`charge`]),
//!    act on arrived signals ([`Current::check_signals`]), arm a wake-up
//!    ([`Current::arm_wake`]), deliver ([`deliver`], [`deliver_admitted`]), spawn
//!    ([`spawn`]), arm a timer ([`send_after`]) — passes the kernel this thread's
//!    core, borrowed for the call only (`WorkerContext::with_core`), and never holds
//!    a thread-local borrow across a switch.
//! 4. A kill that arrived while the process computed is acted on before a delivery
//!    or a spawn has any effect: those calls check for one first.

use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::context::{self, with_context};
use crate::coroutine::Suspend;
use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::kernel::deliver::{Refused, deliver_anywhere};
use crate::kernel::runtimes;
use crate::kernel::signals;
use crate::kernel::spawn::Birth;
use crate::kernel::timers::TimerAction;
use crate::limits::SPAWN_COST;
use crate::mailbox::limit::Admission;
use crate::mailbox::node::Node;
use crate::pid::Pid;
use crate::process::{FLAG_KILL, Held, ProcPtr, Process};
use crate::timer::wheel;
use crate::timer::{TimerCell, TimerPayload, TimerRef};
use crate::unwind;

/// The process running on this thread (see the module protocol).
#[derive(Debug)]
pub(crate) struct Current {
    ptr: ProcPtr,
    runtime: u32,
    _not_send: PhantomData<*const ()>,
}

impl Current {
    /// The process running on this thread, if it is a process.
    #[inline]
    pub(crate) fn get() -> Option<Current> {
        with_context(|cx| {
            cx.current.get().map(|ptr| Current {
                ptr,
                runtime: cx.shared.id,
                _not_send: PhantomData,
            })
        })
        .flatten()
    }

    /// The running process, for calls only a process may make.
    ///
    /// # Panics
    ///
    /// Outside a process, naming `what` was called.
    pub(crate) fn expect(what: &str) -> Current {
        Current::get().unwrap_or_else(|| panic!("beamlet: {what} called outside a process"))
    }

    /// The process record (its remote fields).
    pub(crate) fn process(&self) -> &Process {
        self.ptr.get()
    }

    /// A pointer to the record, for timers and relations.
    pub(crate) fn ptr(&self) -> ProcPtr {
        self.ptr
    }

    /// The running process's pid.
    pub(crate) fn pid(&self) -> Pid {
        self.process().pid(self.runtime)
    }

    /// Exclusive access to the process's owned fields, until the next switch at the
    /// latest (step 2 of the module protocol).
    pub(crate) fn held(&mut self) -> Held<'_> {
        // SAFETY: a `Current` is made only on the thread running the process, for that
        // process (holder 3 of `process::held`). The `Held` borrows `self` mutably, so
        // the process cannot switch while it lives (switching takes `&mut self`), and
        // runtime code makes one `Held` at a time: each caller drops it before calling
        // anything that makes another.
        unsafe { Held::assume(self.ptr.get()) }
    }

    /// Takes in the arrivals (messages queued, signals acted on). A fatal signal marks
    /// the process killed; [`Current::check_signals`] raises it.
    pub(crate) fn intake(&mut self) {
        let mut held = self.held();
        with_context(|cx| signals::intake(&cx.shared, &mut held));
    }

    /// Acts on signals that arrived while the process ran or waited: a pending kill
    /// unwinds the process (again, if user code caught the first unwind) — unless it
    /// is unwinding already (a destructor calling the runtime): a second unwind
    /// would abort the OS process, and the process ends when this one finishes.
    pub(crate) fn check_signals(&mut self) {
        if !self.process().inbound.is_empty() {
            self.intake();
        }
        if self.process().kill_pending() && !std::thread::panicking() {
            let reason = self.held().owned().kill_reason.clone();
            unwind::raise(reason.unwrap_or(ExitReason::Killed));
        }
    }

    /// Switches away from the running process; when it resumes (maybe on another
    /// thread), pending signals are acted on.
    pub(crate) fn suspend(&mut self, s: Suspend) {
        self.suspend_raw(s);
        self.check_signals();
    }

    /// Switches away; the caller acts on signals afterwards. Publishes the stack depth
    /// for `process_info` on the way out.
    #[inline(never)]
    pub(crate) fn suspend_raw(&mut self, s: Suspend) {
        if std::thread::panicking() {
            return wait_unwinding(s);
        }
        if context::stack_overflowed() {
            return self.mark_overflow();
        }
        context::check_switch();
        let probe = 0u8;
        let sp = std::ptr::addr_of!(probe) as usize;
        let yielder = {
            let mut held = self.held();
            let process = held.process();
            let owned = held.owned();
            let used = owned.stack_top.saturating_sub(sp).min(u32::MAX as usize);
            process.stack_used.store(used as u32, Ordering::Relaxed);
            owned.yielder
        };
        assert!(
            !yielder.is_null(),
            "beamlet: a process switched outside its coroutine"
        );
        // SAFETY: the yielder lives on this coroutine's stack and stays valid while the
        // coroutine runs, which it does: we are on it. No `Held` and no thread-local
        // borrow is live (both ended above).
        unsafe { (*yielder).suspend(s) };
    }

    /// A runtime call found the stack in its red zone: instead of switching, the
    /// process is marked killed with `StackOverflow` (unless another kill is pending
    /// already), which the caller's [`Current::check_signals`] raises at once. As a
    /// kill, it unwinds (destructors run on the red zone) and a `catch_unwind` in user
    /// code cannot keep the process alive: its next runtime call raises it again.
    #[cold]
    fn mark_overflow(&mut self) {
        let mut held = self.held();
        let proc = held.process();
        if !proc.kill_pending() {
            held.owned().kill_reason = Some(ExitReason::StackOverflow);
        }
        // AcqRel: as every setter of FLAG_KILL (see `Process::kill_pending`).
        proc.flags.fetch_or(FLAG_KILL, Ordering::AcqRel);
    }

    /// Makes sure the process is woken no later than `deadline`. Cheap when a wake-up
    /// at or before it is already armed (the usual case for repeated call timeouts):
    /// the process may then be woken early, and its wait loop arms again. A wake-up
    /// left armed after the wait ends costs one spurious wake-up at most.
    pub(crate) fn arm_wake(&self, deadline: Instant) {
        let proc = self.process();
        let serial = proc.serial.load(Ordering::Relaxed);
        with_context(|cx| {
            let tick = wheel::deadline_tick(cx.shared.epoch, deadline).max(1);
            // AcqRel/Acquire: pairs with the disarming CAS in `Shared::fire_timer`, so
            // exactly one of an earlier and a later deadline wins the slot.
            let mut cur = proc.armed_tick.load(Ordering::Acquire);
            loop {
                if cur != 0 && cur <= tick {
                    return;
                }
                match proc.armed_tick.compare_exchange(
                    cur,
                    tick,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => cur = actual,
                }
            }
            let action = TimerAction::Wake {
                process: self.ptr,
                serial,
                tick,
            };
            cx.with_core(|core| cx.shared.arm_timer(core, deadline, action));
        });
    }

    /// Queues `node` straight into the process's own private queue (a message the
    /// runtime makes for the process itself, such as `noproc` answers).
    pub(crate) fn push_self_message(&mut self, node: Node) {
        let mut held = self.held();
        held.owned().queue.push_back(node);
        held.publish_mailbox();
    }
}

/// What a switch does while the process unwinds (its destructors call the runtime):
/// it may not switch — the panic count is the thread's, and would pass to the next
/// process — so a yield is skipped (with a fresh slice) and a wait blocks the
/// scheduler thread for a moment, as any blocking call does (the system monitor hands
/// its queue to a spare thread if it lasts). Callers wait in loops that re-check
/// their condition and deadline, so they return as they would have.
#[cold]
fn wait_unwinding(s: Suspend) {
    context::set_budget(with_context(|cx| cx.shared.config.reductions).unwrap_or(i32::MAX));
    if s == Suspend::Wait {
        std::thread::sleep(UNWINDING_WAIT);
    }
}

/// How long a wait made while unwinding blocks before its caller looks again.
const UNWINDING_WAIT: Duration = Duration::from_micros(200);

/// Pays `n` reductions from runtime code; when the slice is spent the process yields.
#[inline]
pub(crate) fn charge(n: i32) {
    if context::spend(n) <= 0 {
        slice_spent();
    }
}

/// The slice is spent: a process yields (acting on its signals when it resumes);
/// outside a process there is no slice, so the budget is refilled.
#[cold]
#[inline(never)]
pub(crate) fn slice_spent() {
    match Current::get() {
        Some(mut cur) => cur.suspend(Suspend::Yield),
        None => context::set_budget(i32::MAX),
    }
}

/// [`Current::check_signals`] if this thread runs a process.
pub(crate) fn check_signals() {
    if let Some(mut cur) = Current::get() {
        cur.check_signals();
    }
}

/// Delivers a node to `pid` from whatever thread this is, past any mailbox limit.
pub(crate) fn deliver(pid: Pid, node: Node) -> Result<(), Node> {
    deliver_admitted(pid, node, Admission::Always).map_err(Refused::into_node)
}

/// Delivers a node to `pid` from whatever thread this is, subject to `admission`:
/// with this thread's core when it is a scheduler (the kernel routes a foreign pid),
/// else through the list of runtimes. A kill pending on the running process is
/// raised first (step 4).
pub(crate) fn deliver_admitted(pid: Pid, node: Node, admission: Admission) -> Result<(), Refused> {
    let mut node = Some(node);
    let mut deliver_here = || {
        with_context(|cx| {
            let n = node.take().expect("taken once");
            cx.with_core(|core| cx.shared.deliver_admitted(core, pid, n, admission))
        })
    };
    match pending_signals() {
        // Outside any scheduler: routed through the list of runtimes.
        None => {}
        Some(false) => return deliver_here().expect("on a scheduler"),
        Some(true) => {
            check_signals();
            return deliver_here().expect("on a scheduler");
        }
    }
    deliver_anywhere(pid, node.expect("not delivered locally"), admission)
}

/// On a scheduler thread: whether the running process (if any) has arrivals or a
/// pending kill to act on before its next call takes effect. `None` elsewhere.
#[inline]
fn pending_signals() -> Option<bool> {
    with_context(|cx| {
        cx.current.get().is_some_and(|p| {
            let p = p.get();
            p.kill_pending() || !p.inbound.is_empty()
        })
    })
}

/// Spawns on this thread's runtime, after acting on pending signals (step 4), and
/// pays for it. [`SpawnError::NotInProcess`] on a thread that runs no process.
pub(crate) fn spawn(entry: Box<dyn FnOnce() + Send>, birth: Birth) -> Result<Pid, SpawnError> {
    check_signals();
    let r = with_context(|cx| {
        let spawner = cx.current.get().map(|p| p.get().pid(cx.shared.id));
        cx.with_core(|core| cx.shared.spawn(core, spawner, entry, birth))
    })
    .unwrap_or(Err(SpawnError::NotInProcess));
    charge(SPAWN_COST);
    r
}

/// Arms a `send_after` timer: on this thread's core when it is a scheduler (the
/// message is routed when the timer fires), else on the wheel of `pid`'s runtime
/// from outside.
///
/// A timer a process sets to itself is its own: it is cancelled when the process
/// exits ([`crate::timer::owned`]).
pub(crate) fn send_after(delay: Duration, pid: Pid, node: TimerPayload) -> TimerRef {
    let mut node = Some(node);
    let local = with_context(|cx| {
        let n = node.take().expect("armed once");
        cx.with_core(|core| cx.shared.send_after(core, delay, pid, n))
    });
    if let Some(timer) = local {
        if let Some(mut me) = Current::get().filter(|me| me.pid() == pid) {
            me.held().owned().timers.push(timer.cell.clone());
        }
        return timer;
    }
    let n = node.take().expect("armed once");
    match runtimes::lookup(pid.runtime) {
        Some(shared) => shared.send_after(None, delay, pid, n),
        None => {
            // No such runtime: a timer that has already fired, its message dropped.
            let cell = TimerCell::new(Instant::now(), n, None);
            drop(cell.fire());
            TimerRef { cell }
        }
    }
}
