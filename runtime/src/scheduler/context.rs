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
    ///
    /// Always inlined: it runs twice on every switch, and as a call it cost 58
    /// instructions a ping-pong round trip (callgrind). It reads no thread-local,
    /// so inlining it caches nothing across a switch.
    #[inline(always)]
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

/// The running process's slice: its reductions left, and its stack check (see
/// [`spend`]). One thread-local, so that the check costs no second lookup.
struct Slice {
    budget: Cell<i32>,
    /// [`spend`] looks closer when the stack pointer is below this: first the deep
    /// mark, then (once passed) the red zone's top. 0 outside a process.
    check: Cell<usize>,
    /// The red zone's top: below it the process is about to overflow.
    red: Cell<usize>,
    /// Set when a call found the stack in the red zone (not while unwinding): the
    /// process must end with `StackOverflow` before it switches again.
    overflow: Cell<bool>,
}

thread_local! {
    static CONTEXT: Cell<*const WorkerContext> = const { Cell::new(std::ptr::null()) };
    static SLICE: Slice = const {
        Slice {
            budget: Cell::new(i32::MAX),
            check: Cell::new(0),
            red: Cell::new(0),
            overflow: Cell::new(false),
        }
    };
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
///
/// Every runtime call a process makes comes here, so this is also where the stack is
/// checked: one compare of the stack pointer against the slice's `check`. Below it,
/// [`stack_low`] records that the process went deep and, in the red zone, reports the
/// slice as spent so that the caller switches — and the switch
/// ([`Current::suspend_raw`](super::current::Current::suspend_raw)) ends the process
/// with `StackOverflow` instead.
#[inline(never)]
pub(crate) fn spend(n: i32) -> i32 {
    let sp = stack_pointer();
    let (left, low) = SLICE.with(|s| {
        let v = s.budget.get().saturating_sub(n);
        s.budget.set(v);
        (v, sp < s.check.get())
    });
    compiler_fence(Ordering::SeqCst);
    // A tail call, so that the common path saves no registers.
    if low { stack_low(sp, left) } else { left }
}

/// The current stack pointer. Read from the register where we can: the address of a
/// local costs a stack frame and a store, a quarter of `reduce(1)`'s time (`micro`).
#[inline(always)]
fn stack_pointer() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: copies the stack pointer register into a general register; reads
        // and writes no memory and changes no flags.
        unsafe {
            std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        sp
    }
    #[cfg(target_arch = "aarch64")]
    {
        let sp: usize;
        // SAFETY: as above, for aarch64's `sp`.
        unsafe {
            std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        sp
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let probe = 0u8;
        std::hint::black_box(std::ptr::addr_of!(probe)) as usize
    }
}

/// The stack pointer is below the slice's check: the deep mark the first time (the
/// check drops to the red zone; the stack's low pages are released when the process
/// gives it back), else the red zone. A process already unwinding is let through:
/// its destructors may call the runtime, and a second unwind would abort.
#[cold]
#[inline(never)]
fn stack_low(sp: usize, left: i32) -> i32 {
    let overflow = SLICE.with(|s| {
        s.check.set(s.red.get());
        let overflow = sp < s.red.get() && !std::thread::panicking();
        if overflow {
            s.overflow.set(true);
        }
        overflow
    });
    compiler_fence(Ordering::SeqCst);
    if overflow { left.min(0) } else { left }
}

/// Reductions left in the slice.
#[inline(never)]
pub(crate) fn budget() -> i32 {
    let v = SLICE.with(|s| s.budget.get());
    compiler_fence(Ordering::SeqCst);
    v
}

/// Starts a slice of `n` reductions.
#[inline(never)]
pub(crate) fn set_budget(n: i32) {
    SLICE.with(|s| s.budget.set(n));
    compiler_fence(Ordering::SeqCst);
}

/// Enters the slice of the process about to be resumed: a fresh budget if `budget`
/// is given (else the slice goes on), and its stack check armed with `check` as it
/// left it (its deep mark, or its red zone if it went deep) and `red`, its red
/// zone's top. Returns the budget. One call per resume, with [`leave_slice`].
#[inline(never)]
pub(crate) fn enter_slice(budget: Option<i32>, check: usize, red: usize) -> i32 {
    let v = SLICE.with(|s| {
        if let Some(b) = budget {
            s.budget.set(b);
        }
        s.check.set(check);
        s.red.set(red);
        s.overflow.set(false);
        s.budget.get()
    });
    compiler_fence(Ordering::SeqCst);
    v
}

/// Leaves the slice after the process switched out: disarms the stack check and
/// returns the budget left and the process's `check` (equal to its red zone's top
/// if it went below its deep mark).
#[inline(never)]
pub(crate) fn leave_slice() -> (i32, usize) {
    let v = SLICE.with(|s| {
        s.red.set(0);
        (s.budget.get(), s.check.replace(0))
    });
    compiler_fence(Ordering::SeqCst);
    v
}

/// Whether a runtime call of the running process found its stack in the red zone.
#[inline(never)]
pub(crate) fn stack_overflowed() -> bool {
    let v = SLICE.with(|s| s.overflow.get());
    compiler_fence(Ordering::SeqCst);
    v
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
