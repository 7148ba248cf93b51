//! Time and timers for processes: [`now`], [`sleep`], [`send_after`],
//! [`start_timer`], [`cancel_timer`], [`cancel_timer_async`], [`read_timer`].
//!
//! Deadlines are on the runtime's clock ([`now`]): the OS clock, or the virtual
//! clock of a simulated runtime. A process waits for a deadline by arming a wake-up
//! (`Current::arm_wake`) and suspending; `send_after` arms a wheel entry that
//! delivers through a `TimerCell`, which `cancel_timer` and `read_timer` share.

use std::time::{Duration, Instant};

use crate::coroutine::Suspend;
use crate::limits::TIMER_COST;
use crate::mailbox::node::Node;
use crate::pid::Pid;
use crate::scheduler::context::with_runtime;
use crate::scheduler::current::{self, Current, charge};
use crate::timer::clock;
use crate::timer::{TimerPayload, TimerRef};

/// The runtime's current time (as `erlang:monotonic_time/0`).
///
/// In a process of a runtime built with
/// [`simulation`](crate::RuntimeBuilder::simulation) this is the runtime's virtual
/// clock, which stands still while processes run and jumps to the next timer
/// deadline when none is runnable; everywhere else it is `Instant::now()`. Measure
/// time with it, not with `Instant::now()`, in code that should replay exactly in a
/// simulation. A virtual instant is only comparable with instants from the same
/// clock: it starts at the runtime's start and does not follow the OS clock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet::{now, sleep, Runtime};
/// let rt = Runtime::builder().simulation(7).build().unwrap();
/// let slept = rt.block_on(|| {
///     let t0 = now();
///     sleep(Duration::from_secs(3600)); // an hour of virtual time, no wall time
///     now() - t0
/// }).unwrap();
/// assert!(slept >= Duration::from_secs(3600));
/// assert!(slept < Duration::from_secs(3601));
/// rt.shutdown();
/// ```
#[inline]
pub fn now() -> Instant {
    if clock::simulating() {
        return simulated_now();
    }
    Instant::now()
}

#[cold]
#[inline(never)]
fn simulated_now() -> Instant {
    with_runtime(|shared| shared.now()).unwrap_or_else(Instant::now)
}

/// `timeout` from now on the runtime's clock (virtual in a simulated runtime).
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    clock::deadline_after(now(), timeout)
}

/// Suspends the calling process for `duration`; other processes run meanwhile.
/// Messages that arrive stay in the mailbox. Outside a process, sleeps the OS thread.
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let t = Instant::now();
/// rt.block_on(|| beamlet::sleep(Duration::from_millis(3))).unwrap();
/// assert!(t.elapsed() >= Duration::from_millis(3));
/// rt.shutdown();
/// ```
pub fn sleep(duration: Duration) {
    let Some(mut me) = Current::get() else {
        std::thread::sleep(duration);
        return;
    };
    charge(TIMER_COST);
    let deadline = deadline_after(duration);
    while now() < deadline {
        me.arm_wake(deadline);
        me.suspend(Suspend::Wait);
    }
}

/// Sends `msg` to `pid` after `delay` (as `erlang:send_after/3`). The message is
/// dropped if `pid` is dead by then.
///
/// ```
/// use std::time::Duration;
/// use beamlet::{receive, self_pid, send_after};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let got = rt.block_on(|| {
///     send_after(Duration::from_millis(2), self_pid(), "tick");
///     receive::<&str>()
/// }).unwrap();
/// assert_eq!(got, "tick");
/// rt.shutdown();
/// ```
pub fn send_after<M: Send + 'static>(delay: Duration, pid: Pid, msg: M) -> TimerRef {
    let timer = current::send_after(delay, pid, Node::new(msg).into());
    charge(TIMER_COST);
    timer
}

/// The message a [`start_timer`] timer delivers: `{timeout, TimerRef, Msg}` on the
/// BEAM. `timer` equals the [`TimerRef`] `start_timer` returned, so a receiver can
/// tell its timers apart (and a stale one from the current one).
#[derive(Debug)]
pub struct TimerMessage<M> {
    /// The timer that fired.
    pub timer: TimerRef,
    /// The message given to `start_timer`.
    pub msg: M,
}

/// Sends [`TimerMessage { timer, msg }`](TimerMessage) to `pid` after `delay` (as
/// `erlang:start_timer/3`), where `timer` is the handle returned here. As with
/// [`send_after`], the message is dropped if `pid` is dead by then, and a timer a
/// process starts to itself is cancelled when it exits.
///
/// ```
/// use std::time::Duration;
/// use beamlet::{receive, self_pid, start_timer, TimerMessage};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let stale = start_timer(Duration::from_millis(1), self_pid(), "first");
///     let current = start_timer(Duration::from_millis(2), self_pid(), "second");
///     let a = receive::<TimerMessage<&str>>();
///     let b = receive::<TimerMessage<&str>>();
///     assert!(a.timer == stale && a.msg == "first");
///     assert!(b.timer == current && b.msg == "second");
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn start_timer<M: Send + 'static>(delay: Duration, pid: Pid, msg: M) -> TimerRef {
    let build = Box::new(move |timer| Node::new(TimerMessage { timer, msg }));
    let timer = current::send_after(delay, pid, TimerPayload::Tagged(build));
    charge(TIMER_COST);
    timer
}

/// Cancels a `send_after` or `start_timer` timer. Returns the time that was left, or
/// `None` if the timer had already fired (or was cancelled before).
pub fn cancel_timer(timer: &TimerRef) -> Option<Duration> {
    timer.cell.cancel()
}

/// What [`cancel_timer_async`] sends the caller: `{cancel_timer, TimerRef, Result}`
/// on the BEAM, with `left` `None` where Erlang says `false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerCancelled {
    /// The timer that was cancelled.
    pub timer: TimerRef,
    /// The time that was left, or `None` if it had fired or was cancelled before.
    pub left: Option<Duration>,
}

/// Cancels a timer and reports the outcome as a message to the calling process
/// instead of returning it (as `erlang:cancel_timer(T, [{async, true}])`), so code
/// written around the asynchronous form ports directly. The cancellation itself
/// takes effect before this returns: the timer's message is never delivered after.
///
/// # Panics
///
/// Outside a process (there is no mailbox to report to).
///
/// ```
/// use std::time::Duration;
/// use beamlet::{cancel_timer_async, receive, self_pid, send_after, TimerCancelled};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let t = send_after(Duration::from_secs(60), self_pid(), "never");
///     cancel_timer_async(&t);
///     let report = receive::<TimerCancelled>();
///     assert!(report.timer == t);
///     assert!(report.left.unwrap() > Duration::from_secs(59));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn cancel_timer_async(timer: &TimerRef) {
    let me = Current::expect("cancel_timer_async").pid();
    let left = timer.cell.cancel();
    let report = TimerCancelled {
        timer: timer.clone(),
        left,
    };
    // To itself, from a live process: only its own kill can stop this delivery.
    let _ = crate::send::send(me, report);
}

/// Time left before a `send_after` timer fires, or `None` if it fired or was cancelled.
///
/// ```
/// use std::time::Duration;
/// use beamlet::{read_timer, self_pid, send_after};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let t = send_after(Duration::from_secs(10), self_pid(), ());
///     assert!(read_timer(&t).unwrap() > Duration::from_secs(9));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn read_timer(timer: &TimerRef) -> Option<Duration> {
    timer.cell.remaining()
}
