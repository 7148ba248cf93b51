//! Controlling the running process: paying reductions ([`reduce`]), yielding,
//! hibernating, its priority and pid, no-switch sections, and [`catch_exit`].
//!
//! # Reductions (the cost model)
//!
//! A process runs for a slice of [`RuntimeBuilder::reductions`] reductions (default
//! 4,000, as the BEAM) and then goes to the back of its run queue. Runtime calls pay:
//!
//! | call | reductions |
//! |---|---|
//! | `spawn` | 10 |
//! | `send` | 1 |
//! | `receive` (each message examined) | 1 |
//! | `send_after`, `cancel_timer`, `sleep` | 2 |
//! | `reduce(n)` | n |
//! | `yield_now` | the rest of the slice |
//!
//! Code that loops without calling the runtime must pay with [`reduce`] (or iterate
//! through [`Preemptible`](crate::Preemptible)), or it holds its scheduler for as long as it runs.
//!
//! # Switching and thread-bound values
//!
//! Any call that can switch (`receive*`, `sleep`, `yield_now`, `reduce`, `send`,
//! `spawn`, `hibernate`) may resume the process on another OS thread. Do not hold a
//! value bound to the OS thread across such a call: a `std::sync::MutexGuard`, an
//! `Rc`, a `RefCell` borrow of a thread-local, a reference into a thread-local. Wrap
//! such a section in [`NoSwitch`]: in debug builds a switch inside it panics.
//!
//! [`RuntimeBuilder::reductions`]: crate::RuntimeBuilder::reductions

use crate::coroutine::Suspend;
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::priority::Priority;
use crate::scheduler::context;
use crate::scheduler::current::{Current, slice_spent};
use crate::unwind::{self, HibernateUnwind, PanicPayload};

/// The pid of the calling process.
///
/// # Panics
///
/// When called outside a process.
///
/// # Examples
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let pid = rt.block_on(beamlet::self_pid).unwrap();
/// assert!(!rt.is_alive(pid));
/// rt.shutdown();
/// ```
pub fn self_pid() -> Pid {
    Current::get()
        .expect("beamlet: self_pid() called outside a process")
        .pid()
}

/// Spends `n` reductions; when the slice is spent the process yields.
///
/// This is how a loop that makes no other runtime call stays preemptible. It costs a
/// call, a thread-local decrement and a rarely taken branch (about a nanosecond).
/// Outside a process it does nothing.
///
/// # Examples
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let sum = rt.block_on(|| {
///     let mut s = 0u64;
///     for i in 0..1_000_000u64 {
///         beamlet::reduce(1);
///         s += i;
///     }
///     s
/// }).unwrap();
/// assert_eq!(sum, 499_999_500_000);
/// rt.shutdown();
/// ```
#[inline]
pub fn reduce(n: u32) {
    if context::spend(n.min(i32::MAX as u32) as i32) <= 0 {
        slice_spent();
    }
}

/// Sets the calling process's priority; returns the previous one (as
/// `process_flag(priority, P)`). See [`Priority`].
///
/// # Panics
///
/// Outside a process.
pub fn set_priority(priority: Priority) -> Priority {
    let me = Current::expect("set_priority");
    let old = me
        .process()
        .priority
        .swap(priority as u8, std::sync::atomic::Ordering::Relaxed);
    Priority::from_u8(old)
}

/// Gives up the rest of the slice: the process goes to the back of its run queue.
/// Outside a process, yields the OS thread.
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(beamlet::yield_now).unwrap();
/// rt.shutdown();
/// ```
pub fn yield_now() {
    match Current::get() {
        Some(mut me) => me.suspend(Suspend::Yield),
        None => std::thread::yield_now(),
    }
}

/// Hibernates the calling process (as `erlang:hibernate/3`): its stack is unwound
/// (destructors run) and returned to the pool, and when the next message arrives it
/// continues in `f` on a fresh stack. A hibernated process holds no stack. If a
/// message is already waiting, it continues at once.
///
/// # Examples
///
/// ```
/// use beamlet::{hibernate, receive, self_pid, send, spawn};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let got = rt.block_on(|| {
///     let me = self_pid();
///     let pid = spawn(move || hibernate(move || {
///         let n = receive::<u32>();
///         send(me, n * 2).unwrap();
///     })).unwrap();
///     send(pid, 21u32).unwrap();
///     receive::<u32>()
/// }).unwrap();
/// assert_eq!(got, 42);
/// rt.shutdown();
/// ```
pub fn hibernate<F: FnOnce() + Send + 'static>(f: F) -> ! {
    let _ = Current::expect("hibernate");
    unwind::raise_hibernate(Box::new(f))
}

/// Marks a section in which the process must not switch, because it holds a value
/// bound to its OS thread. In debug builds, a runtime call that would switch inside
/// the section panics; in release builds the guard costs nothing.
///
/// # Examples
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let _guard = beamlet::NoSwitch::enter();
///     // ... use a thread-local or a MutexGuard here, without receive/sleep/yield ...
/// }).unwrap();
/// rt.shutdown();
/// ```
///
/// The guard is bound to its thread's section, so it is not `Send`:
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<beamlet::NoSwitch>();
/// ```
#[derive(Debug)]
#[must_use = "the section ends when the guard is dropped"]
pub struct NoSwitch {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl NoSwitch {
    /// Enters a no-switch section until the guard is dropped.
    pub fn enter() -> NoSwitch {
        context::no_switch_depth(1);
        NoSwitch {
            _not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for NoSwitch {
    fn drop(&mut self) {
        context::no_switch_depth(-1);
    }
}

/// Runs `f`, turning a panic or an `exit` inside it into the exit reason it would
/// end the process with — the one dispatch point a behaviour needs to run its
/// `terminate` callback. A kill and a `hibernate` are not caught: they continue
/// unwinding, as they must.
///
/// # Examples
///
/// ```
/// use beamlet::{catch_exit, exit, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert_eq!(catch_exit(|| 5), Ok(5));
///     let r = catch_exit(|| -> () { panic!("bad state") });
///     assert!(matches!(r, Err(ExitReason::Panic(ref p)) if p.message() == "bad state"));
///     assert_eq!(catch_exit(|| exit(ExitReason::Shutdown)), Err(ExitReason::Shutdown));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn catch_exit<R>(f: impl FnOnce() -> R) -> Result<R, ExitReason> {
    let payload = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => return Ok(r),
        Err(payload) => payload,
    };
    let killed = Current::get().is_some_and(|me| me.process().kill_pending());
    if killed || payload.is::<HibernateUnwind>() {
        std::panic::resume_unwind(payload);
    }
    match unwind::classify_exit(payload, context::take_panic()) {
        PanicPayload::Exit(reason) => Err(reason),
        PanicPayload::Hibernate(_) => unreachable!("hibernation payloads are re-raised above"),
    }
}
