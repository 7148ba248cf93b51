//! The scheduler thread's context, reachable from process code through thread-locals.
//!
//! Every thread-local of the runtime is read through one of the `#[inline(never)]`
//! accessors below, each followed by a compiler fence. A process can migrate to
//! another OS thread at any switch; an inlined thread-local access could let the
//! compiler keep the old thread's slot address in a register across that switch. An
//! opaque call recomputes the address every time. No accessor hands out a reference
//! that outlives the closure it is given, so no runtime code can hold one across a
//! switch, and [`with_context`] marks its dynamic extent so that a switch inside it
//! panics in debug builds.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{Ordering, compiler_fence};

use crate::kernel::core::Core;
use crate::kernel::handoff::{CoreSlot, Enter};
use crate::kernel::runtimes;
use crate::kernel::shared::Shared;
use crate::pid::Pid;
use crate::process::ProcPtr;

/// A scheduler thread's context: its runtime and the core it holds, if any.
#[derive(Debug)]
pub(crate) struct WorkerContext {
    pub(crate) shared: Arc<Shared>,
    /// The core this thread holds the lease of, if any: index and lease epoch.
    core: Cell<Option<(usize, u64)>>,
    /// Set while the core is lent to a `with_core` closure (no nested loans).
    lent: Cell<bool>,
    /// The process being run, if any.
    pub(crate) current: Cell<Option<ProcPtr>>,
}

impl WorkerContext {
    pub(crate) fn new(shared: Arc<Shared>) -> WorkerContext {
        WorkerContext {
            shared,
            core: Cell::new(None),
            lent: Cell::new(false),
            current: Cell::new(None),
        }
    }

    /// Takes the lease of core `index` (handed over by the builder or the monitor).
    pub(crate) fn adopt(&self, index: usize) {
        let epoch = self.shared.slots[index].adopt();
        self.core.set(Some((index, epoch)));
    }

    /// The index of the core held, if any (it may have been taken since).
    pub(crate) fn core_index(&self) -> Option<usize> {
        self.core.get().map(|(i, _)| i)
    }

    /// Runs `f` with this thread's core, or with `None` if it holds none (a core taken
    /// away by the monitor is noticed here; see [`crate::kernel::handoff`]).
    pub(crate) fn with_core<R>(&self, f: impl FnOnce(Option<&mut Core>) -> R) -> R {
        let Some((index, epoch)) = self.core.get() else {
            return f(None);
        };
        let slot = &self.shared.slots[index];
        if slot.enter(epoch) == Enter::Lost {
            self.core.set(None);
            return f(None);
        }
        assert!(!self.lent.get(), "beamlet: nested core borrow");
        struct Loan<'a>(&'a Cell<bool>, &'a CoreSlot);
        impl Drop for Loan<'_> {
            fn drop(&mut self) {
                self.0.set(false);
                self.1.leave();
            }
        }
        self.lent.set(true);
        let _loan = Loan(&self.lent, slot);
        // SAFETY: `enter` succeeded, so this thread holds the core's lease: nobody
        // else touches the core until `leave`, and `lent` rules out a second loan.
        f(Some(unsafe { &mut *slot.core_ptr().as_ptr() }))
    }
}

thread_local! {
    static CONTEXT: Cell<*const WorkerContext> = const { Cell::new(std::ptr::null()) };
    /// Reductions left in the current slice.
    static BUDGET: Cell<i32> = const { Cell::new(i32::MAX) };
    /// Depth of sections in which a switch is forbidden (`with_context`, `NoSwitch`).
    static NO_SWITCH: Cell<u32> = const { Cell::new(0) };
    /// The last panic's message and location, recorded by the panic hook.
    static LAST_PANIC: RefCell<Option<(String, Option<String>)>> = const { RefCell::new(None) };
}

/// Installs `cx` as this thread's context for the duration of `f`.
pub(crate) fn enter<R>(cx: &WorkerContext, f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CONTEXT.with(|c| c.set(std::ptr::null()));
        }
    }
    CONTEXT.with(|c| c.set(cx));
    let _reset = Reset;
    f()
}

/// Runs `f` with this thread's scheduler context, if it is a scheduler thread.
#[inline(never)]
pub(crate) fn with_context<R>(f: impl FnOnce(&WorkerContext) -> R) -> Option<R> {
    let p = CONTEXT.with(|c| c.get());
    compiler_fence(Ordering::SeqCst);
    if p.is_null() {
        return None;
    }
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            NO_SWITCH.with(|d| d.set(d.get() - 1));
        }
    }
    // Debug builds count the extent so that `check_switch` can catch a switch in it.
    let _depth = cfg!(debug_assertions).then(|| {
        NO_SWITCH.with(|d| d.set(d.get() + 1));
        Depth
    });
    // SAFETY: the context lives on the scheduler thread's stack for as long as the
    // thread schedules (see `enter`); we are on that thread, and the reference does
    // not escape `f`, during which no switch happens (checked in `check_switch`).
    Some(f(unsafe { &*p }))
}

/// Runs `f` with the runtime of this scheduler thread, if it is one.
pub(crate) fn with_runtime<R>(f: impl FnOnce(&Shared) -> R) -> Option<R> {
    with_context(|cx| f(&cx.shared))
}

/// Runs `f` with the runtime `pid` belongs to: this thread's own first (no lock on
/// the list of runtimes), else the list's. `None` if that runtime is gone.
pub(crate) fn with_runtime_of<R>(pid: Pid, f: impl FnOnce(&Shared) -> R) -> Option<R> {
    let mut f = Some(f);
    let local = with_context(|cx| {
        (cx.shared.id == pid.runtime).then(|| (f.take().expect("called once"))(&cx.shared))
    })
    .flatten();
    if local.is_some() {
        return local;
    }
    let f = f?;
    runtimes::lookup(pid.runtime).map(|shared| f(&shared))
}

/// The process running on this thread, if any.
#[inline(never)]
pub(crate) fn current_process() -> Option<ProcPtr> {
    let r = with_context(|cx| cx.current.get()).flatten();
    compiler_fence(Ordering::SeqCst);
    r
}

/// The running process's pid, for the fault handler: reads only plain memory.
#[inline(never)]
pub(crate) fn current_pid_for_signal() -> Option<Pid> {
    let p = CONTEXT.with(|c| c.get());
    if p.is_null() {
        return None;
    }
    // SAFETY: as in `with_context`; the handler runs on the faulting thread.
    let cx = unsafe { &*p };
    cx.current.get().map(|proc| proc.get().pid(cx.shared.id))
}

/// Spends `n` reductions; returns what is left of the slice.
#[inline(never)]
pub(crate) fn spend(n: i32) -> i32 {
    let left = BUDGET.with(|b| {
        let v = b.get().saturating_sub(n);
        b.set(v);
        v
    });
    compiler_fence(Ordering::SeqCst);
    left
}

/// Reductions left in the slice.
#[inline(never)]
pub(crate) fn budget() -> i32 {
    let v = BUDGET.with(|b| b.get());
    compiler_fence(Ordering::SeqCst);
    v
}

/// Starts a slice of `n` reductions.
#[inline(never)]
pub(crate) fn set_budget(n: i32) {
    BUDGET.with(|b| b.set(n));
    compiler_fence(Ordering::SeqCst);
}

/// Enters (`+1`) or leaves (`-1`) a section in which switching is forbidden.
#[inline(never)]
pub(crate) fn no_switch_depth(delta: i32) {
    NO_SWITCH.with(|d| d.set(d.get().wrapping_add_signed(delta)));
    compiler_fence(Ordering::SeqCst);
}

/// Panics if the current thread may not switch away from the running process.
#[inline(never)]
pub(crate) fn check_switch() {
    let depth = NO_SWITCH.with(|d| d.get());
    compiler_fence(Ordering::SeqCst);
    if std::thread::panicking() {
        // The panic count is per thread: switching now would hand it to the next
        // process. A panic here would abort anyway (panic while unwinding), so say
        // why and abort.
        eprintln!(
            "beamlet: a process called a switching runtime function (receive, sleep, \
             yield) from a destructor while unwinding; aborting"
        );
        std::process::abort();
    }
    if cfg!(debug_assertions) && depth != 0 {
        panic!("beamlet: switch attempted inside a NoSwitch section or runtime context borrow");
    }
}

/// Records a panic's message and location (called by the panic hook).
#[inline(never)]
pub(crate) fn record_panic(message: String, location: Option<String>) {
    LAST_PANIC.with(|l| *l.borrow_mut() = Some((message, location)));
    compiler_fence(Ordering::SeqCst);
}

/// Takes the last recorded panic.
#[inline(never)]
pub(crate) fn take_panic() -> Option<(String, Option<String>)> {
    let r = LAST_PANIC.with(|l| l.borrow_mut().take());
    compiler_fence(Ordering::SeqCst);
    r
}
