//! The functions a process calls: spawn, send, receive, timers, yielding.
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
//! through [`Preemptible`]), or it holds its scheduler for as long as it runs.
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

use std::time::{Duration, Instant};

use crate::coroutine::Suspend;
use crate::mailbox::limit::Admission;
use crate::mailbox::node::Node;
use crate::mailbox::{Cursor, Scan};
use crate::process::ProcPtr;
use crate::scheduler::context::{self, with_context};
use crate::scheduler::{Placement, Refused, SEND_COST, SPAWN_COST, TIMER_COST};
use crate::signal;
use crate::timer::{TimerAction, TimerCell, TimerRef};
use crate::unwind;
use crate::{ExitReason, Pid, SendError, SpawnError, registry};

/// Spawns a process running `f`, on the calling process's runtime.
///
/// The new process is queued at the back of the caller's run queue; it gets a stack
/// when it first runs. Returning from `f` exits with reason `Normal`; a panic exits
/// with `Panic`.
///
/// # Errors
///
/// [`SpawnError::SystemLimit`] when the process table is full,
/// [`SpawnError::RuntimeGone`] during shutdown or outside any runtime (use
/// [`Runtime::spawn`](crate::Runtime::spawn) from plain threads).
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{receive, self_pid, send, spawn};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let n = rt.block_on(|| {
///     let me = self_pid();
///     spawn(move || { send(me, 41u32 + 1).unwrap(); }).unwrap();
///     receive::<u32>()
/// }).unwrap();
/// assert_eq!(n, 42);
/// rt.shutdown();
/// ```
pub fn spawn<F>(f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    check_signals();
    let r = with_context(|cx| {
        cx.with_core(|core| cx.shared.spawn(core, Box::new(f), Vec::new(), None))
    })
    .unwrap_or(Err(SpawnError::RuntimeGone));
    charge(SPAWN_COST);
    r
}

/// The pid of the calling process.
///
/// # Panics
///
/// When called outside a process.
///
/// # Examples
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let pid = rt.block_on(beamlet_runtime::self_pid).unwrap();
/// assert!(!rt.is_alive(pid));
/// rt.shutdown();
/// ```
pub fn self_pid() -> Pid {
    with_context(|cx| cx.current.get().map(|p| p.get().pid(cx.shared.id)))
        .flatten()
        .expect("beamlet: self_pid() called outside a process")
}

/// Sends `msg` to `pid`. Never blocks.
///
/// Messages from one process to another arrive in the order they were sent.
///
/// # Errors
///
/// [`SendError::NoProc`] with the message if the process is known to be dead. As on
/// the BEAM a send to a dead pid is otherwise a no-op: a send racing with the
/// receiver's exit may succeed and the message is then dropped.
///
/// [`SendError::MailboxFull`] if the receiver has a [`MailboxLimit`](crate::MailboxLimit)
/// with policy `DropNewest` (or `Kill`) and its mailbox holds `max` messages (see
/// [`set_mailbox_limit`](crate::set_mailbox_limit)).
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{receive, self_pid, send};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let got = rt.block_on(|| {
///     send(self_pid(), String::from("hello")).unwrap();
///     receive::<String>()
/// }).unwrap();
/// assert_eq!(got, "hello");
/// rt.shutdown();
/// ```
pub fn send<M: Send + 'static>(pid: Pid, msg: M) -> Result<(), SendError<M>> {
    send_admitted(pid, msg, Admission::Limited { bound: None })
}

/// Sends subject to `admission`; gives the message back typed.
pub(crate) fn send_admitted<M: Send + 'static>(
    pid: Pid,
    msg: M,
    admission: Admission,
) -> Result<(), SendError<M>> {
    let r = deliver_admitted(pid, Node::new(msg), admission);
    charge(SEND_COST);
    r.map_err(|refused| {
        let full = matches!(refused, Refused::MailboxFull(_));
        let m = refused
            .into_node()
            .downcast::<M>()
            .expect("node holds an M");
        if full {
            SendError::MailboxFull(m)
        } else {
            SendError::NoProc(m)
        }
    })
}

/// Delivers a node to `pid` from whatever thread this is, past any mailbox limit.
pub(crate) fn deliver(pid: Pid, node: Node) -> Result<(), Node> {
    deliver_admitted(pid, node, Admission::Always).map_err(Refused::into_node)
}

/// Delivers a node to `pid` from whatever thread this is, subject to `admission`.
pub(crate) fn deliver_admitted(pid: Pid, node: Node, admission: Admission) -> Result<(), Refused> {
    let mut node = Some(node);
    let mut killed = false;
    let local = with_context(|cx| {
        // A kill caught by user code is re-raised here, before the send happens.
        killed = cx.current.get().is_some_and(|p| p.get().kill_pending());
        (cx.shared.id == pid.runtime && !killed).then(|| {
            let n = node.take().expect("taken once");
            cx.with_core(|core| cx.shared.deliver_admitted(core, pid, n, admission))
        })
    })
    .flatten();
    if killed {
        check_signals();
    }
    if let Some(r) = local {
        return r;
    }
    let node = node.expect("not delivered locally");
    match registry::lookup(pid.runtime) {
        Some(shared) => shared.deliver_admitted(None, pid, node, admission),
        None => Err(Refused::NoProc(node)),
    }
}

/// `true` if `pid` names a process that has not exited.
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| assert!(beamlet_runtime::is_alive(beamlet_runtime::self_pid()))).unwrap();
/// rt.shutdown();
/// ```
pub fn is_alive(pid: Pid) -> bool {
    // The caller's own runtime first: no lock on the runtimes list.
    if let Some(alive) =
        with_context(|cx| (cx.shared.id == pid.runtime).then(|| cx.shared.is_alive(pid))).flatten()
    {
        return alive;
    }
    registry::lookup(pid.runtime).is_some_and(|s| s.is_alive(pid))
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
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let sum = rt.block_on(|| {
///     let mut s = 0u64;
///     for i in 0..1_000_000u64 {
///         beamlet_runtime::reduce(1);
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

/// Pays `n` reductions from runtime code.
pub(crate) fn charge(n: i32) {
    if context::spend(n) <= 0 {
        slice_spent();
    }
}

#[cold]
#[inline(never)]
fn slice_spent() {
    if context::current_process().is_some() {
        suspend(Suspend::Yield);
    } else {
        context::set_budget(i32::MAX);
    }
}

/// Spawns a process with the given priority from its start (as `spawn_opt` with
/// `{priority, P}`).
///
/// # Errors
///
/// As [`spawn`].
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{process_info, spawn_priority, Priority};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn_priority(Priority::Low, || beamlet_runtime::sleep(std::time::Duration::from_millis(50))).unwrap();
///     assert_eq!(process_info(pid).unwrap().priority, Priority::Low);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn spawn_priority<F>(priority: crate::Priority, f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    crate::link::spawn_related(Box::new(f), false, None, Some(priority), None)
}

/// Sets the calling process's priority; returns the previous one (as
/// `process_flag(priority, P)`). See [`Priority`](crate::Priority).
///
/// # Panics
///
/// Outside a process.
pub fn set_priority(priority: crate::Priority) -> crate::Priority {
    let p = current_or_panic("set_priority");
    let old = p
        .get()
        .priority
        .swap(priority as u8, std::sync::atomic::Ordering::Relaxed);
    crate::Priority::from_u8(old)
}

/// Gives up the rest of the slice: the process goes to the back of its run queue.
/// Outside a process, yields the OS thread.
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(beamlet_runtime::yield_now).unwrap();
/// rt.shutdown();
/// ```
pub fn yield_now() {
    if context::current_process().is_some() {
        suspend(Suspend::Yield);
    } else {
        std::thread::yield_now();
    }
}

/// Switches away from the running process. The process resumes when its scheduler
/// picks it again (maybe on another thread); then pending signals are acted on.
pub(crate) fn suspend(s: Suspend) {
    suspend_raw(s);
    check_signals();
}

/// Switches away; the caller acts on signals afterwards. Publishes the stack depth
/// for `process_info` on the way out.
#[inline(never)]
fn suspend_raw(s: Suspend) {
    context::check_switch();
    let probe = 0u8;
    let sp = std::ptr::addr_of!(probe) as usize;
    let y = with_context(|cx| {
        let p = cx.current.get()?;
        // SAFETY: the running process reads its own owned fields; no other reference.
        let owned = unsafe { p.get().owned() };
        let used = owned.stack_top.saturating_sub(sp).min(u32::MAX as usize);
        p.get()
            .stack_used
            .store(used as u32, std::sync::atomic::Ordering::Relaxed);
        Some(owned.yielder)
    })
    .flatten()
    .expect("beamlet: a switching call was made outside a process");
    // SAFETY: the yielder lives on this coroutine's stack and stays valid while the
    // coroutine runs, which it does: we are on it. No thread-local borrow is live.
    unsafe { (*y).suspend(s) };
}

/// Acts on signals that arrived while the process ran or waited: a pending kill
/// unwinds the process (again, if user code caught the first unwind).
pub(crate) fn check_signals() {
    with_context(|cx| {
        let Some(p) = cx.current.get() else {
            return;
        };
        if !p.get().inbound.is_empty() {
            signal::drain(&cx.shared, p);
        }
        if p.get().kill_pending() {
            // SAFETY: the running process reads its own owned fields.
            let reason = unsafe { p.get().owned() }
                .kill_reason
                .clone()
                .unwrap_or(ExitReason::Killed);
            unwind::raise(reason);
        }
    });
}

fn current_or_panic(what: &str) -> ProcPtr {
    context::current_process().unwrap_or_else(|| panic!("beamlet: {what} called outside a process"))
}

/// Where a receive starts scanning.
#[derive(Clone, Copy)]
enum Start {
    Head,
    Mark(u64),
}

/// The receive engine: moves arrivals into the private queue, scans new messages
/// once each, waits, and gives up at `deadline`.
fn receive_node(
    pred: &mut dyn FnMut(&Node) -> bool,
    deadline: Option<Instant>,
    start: Start,
) -> Option<Node> {
    let p = current_or_panic("receive");
    let proc = p.get();
    // The resume point, and the queue epoch it belongs to: a `DropOldest` shed
    // during a switch may have freed the cursor's node, so a changed epoch rescans.
    let mut cursor: Option<(Cursor, u64)> = None;
    loop {
        check_signals();
        // SAFETY: the running process uses its own owned fields; the borrow ends
        // before any switch below.
        let owned = unsafe { proc.owned() };
        let epoch = owned.queue.epoch();
        let after = match (cursor, start) {
            (Some((c, e)), _) if e == epoch => c,
            (_, Start::Mark(id)) => owned.queue.mark(id),
            (_, Start::Head) => None,
        };
        let mut examined = 0;
        let scan = owned.queue.scan(after, &mut examined, pred);
        match scan {
            Scan::Found(node) => {
                proc.publish_mailbox(owned);
                charge(examined as i32);
                return Some(node);
            }
            Scan::NotFound { last } => cursor = Some((last, epoch)),
        }
        if context::spend(examined as i32) <= 0 {
            suspend_raw(Suspend::Yield);
            continue;
        }
        if let Some(d) = deadline {
            if crate::now() >= d {
                return None;
            }
            arm_wake(p, d);
        }
        suspend_raw(Suspend::Wait);
    }
}

/// Makes sure `p` is woken no later than `deadline`. Cheap when a wake-up at or
/// before it is already armed (the usual case for repeated call timeouts): the
/// process may then be woken early, and its wait loop arms again. A wake-up left
/// armed after the wait ends costs one spurious wake-up at most.
pub(crate) fn arm_wake(p: ProcPtr, deadline: Instant) {
    use std::sync::atomic::Ordering;
    let proc = p.get();
    let serial = proc.serial.load(Ordering::Relaxed);
    with_context(|cx| {
        let tick = crate::timer::deadline_tick(cx.shared.epoch, deadline).max(1);
        let mut cur = proc.armed_tick.load(Ordering::Acquire);
        loop {
            if cur != 0 && cur <= tick {
                return;
            }
            match proc
                .armed_tick
                .compare_exchange(cur, tick, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        let action = TimerAction::Wake {
            process: p,
            serial,
            tick,
        };
        cx.with_core(|core| cx.shared.arm_timer(core, deadline, action));
    });
}

/// `timeout` from now on the runtime's clock (virtual in a simulated runtime).
fn deadline_after(timeout: Duration) -> Instant {
    crate::timer::clock::deadline_after(crate::now(), timeout)
}

fn take<T: 'static>(node: Node) -> T {
    node.downcast::<T>().expect("matched by type")
}

/// Receives the oldest message of type `T`, waiting for one. Messages of other types
/// stay in the mailbox, in order.
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{receive, self_pid, send};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send(self_pid(), "skipped").unwrap();
///     send(self_pid(), 7u8).unwrap();
///     assert_eq!(receive::<u8>(), 7);
///     assert_eq!(receive::<&str>(), "skipped");
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn receive<T: Send + 'static>() -> T {
    take(receive_node(&mut |n| n.is::<T>(), None, Start::Head).expect("no deadline"))
}

/// Receives the oldest `T` for which `pred` holds (selective receive).
///
/// ```
/// use beamlet_runtime::{receive_match, self_pid, send};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     for i in 0..5u32 { send(self_pid(), i).unwrap(); }
///     assert_eq!(receive_match(|n: &u32| *n > 2), 3);
///     assert_eq!(receive_match(|_: &u32| true), 0);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn receive_match<T: Send + 'static>(mut pred: impl FnMut(&T) -> bool) -> T {
    let mut m = |n: &Node| n.downcast_ref::<T>().is_some_and(&mut pred);
    take(receive_node(&mut m, None, Start::Head).expect("no deadline"))
}

/// Receives a `T`, or `None` after `timeout` (as `receive ... after`).
///
/// ```
/// use std::time::Duration;
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| beamlet_runtime::receive_timeout::<u32>(Duration::from_millis(2))).unwrap();
/// assert_eq!(r, None);
/// rt.shutdown();
/// ```
pub fn receive_timeout<T: Send + 'static>(timeout: Duration) -> Option<T> {
    let d = deadline_after(timeout);
    receive_node(&mut |n| n.is::<T>(), Some(d), Start::Head).map(take)
}

/// Selective receive with a timeout.
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{receive_match_timeout, self_pid, send};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send(self_pid(), 1u32).unwrap();
///     assert_eq!(receive_match_timeout(|n: &u32| *n == 2, Duration::from_millis(1)), None);
///     assert_eq!(receive_match_timeout(|n: &u32| *n == 1, Duration::ZERO), Some(1));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn receive_match_timeout<T: Send + 'static>(
    mut pred: impl FnMut(&T) -> bool,
    timeout: Duration,
) -> Option<T> {
    let d = deadline_after(timeout);
    let mut m = |n: &Node| n.downcast_ref::<T>().is_some_and(&mut pred);
    receive_node(&mut m, Some(d), Start::Head).map(take)
}

/// Takes a `T` if one is already in the mailbox; never waits.
///
/// ```
/// use beamlet_runtime::{self_pid, send, try_receive};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert_eq!(try_receive::<u32>(), None);
///     send(self_pid(), 5u32).unwrap();
///     assert_eq!(try_receive::<u32>(), Some(5));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn try_receive<T: Send + 'static>() -> Option<T> {
    receive_node(&mut |n| n.is::<T>(), Some(crate::now()), Start::Head).map(take)
}

/// A message of any type, as taken by [`receive_any`].
///
/// ```
/// use beamlet_runtime::{receive_any, self_pid, send};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send(self_pid(), 3.5f64).unwrap();
///     let m = receive_any();
///     assert!(m.is::<f64>());
///     assert_eq!(m.downcast::<f64>().unwrap(), 3.5);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug)]
#[repr(transparent)]
pub struct Message(Node);

impl Message {
    /// Wraps a value as a type-erased message (for example to hand a behaviour's
    /// `handle_info` something that did not come from the mailbox).
    ///
    /// ```
    /// let m = beamlet_runtime::Message::new(7u8);
    /// assert_eq!(m.downcast::<u8>().unwrap(), 7);
    /// ```
    pub fn new<T: Send + 'static>(value: T) -> Message {
        Message(Node::new(value))
    }

    fn from_node_ref(node: &Node) -> &Message {
        // SAFETY: `Message` is a `repr(transparent)` wrapper of `Node`.
        unsafe { &*(node as *const Node).cast::<Message>() }
    }

    /// `true` if the message is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        self.0.is::<T>()
    }

    /// A reference to the message if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }

    /// The message as a `T`, or the message back.
    pub fn downcast<T: 'static>(self) -> Result<T, Message> {
        self.0.downcast().map_err(Message)
    }
}

/// Receives the oldest message, whatever its type.
pub fn receive_any() -> Message {
    Message(receive_node(&mut |_| true, None, Start::Head).expect("no deadline"))
}

/// Receives the oldest message of any type, or `None` after `timeout`.
///
/// ```
/// use std::time::Duration;
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// assert!(rt.block_on(|| beamlet_runtime::receive_any_timeout(Duration::ZERO)).unwrap().is_none());
/// rt.shutdown();
/// ```
pub fn receive_any_timeout(timeout: Duration) -> Option<Message> {
    receive_node(&mut |_| true, Some(deadline_after(timeout)), Start::Head).map(Message)
}

/// The general selective receive: the oldest message (of any type) for which `pred`
/// holds, scanning only messages that arrived after `after` if given, waiting at most
/// `timeout` (forever if `None`). The predicate must not call into the runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{receive_select, self_pid, send};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     send(self_pid(), 1u8).unwrap();
///     send(self_pid(), "two").unwrap();
///     let m = receive_select(None, |m| m.is::<&str>() || m.is::<u64>(), Some(Duration::ZERO));
///     assert_eq!(m.unwrap().downcast::<&str>().unwrap(), "two");
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn receive_select(
    after: Option<MailboxMark>,
    mut pred: impl FnMut(&Message) -> bool,
    timeout: Option<Duration>,
) -> Option<Message> {
    let d = timeout.map(deadline_after);
    let start = after.map_or(Start::Head, |m| Start::Mark(m.0));
    let mut m = |n: &Node| pred(Message::from_node_ref(n));
    receive_node(&mut m, d, start).map(Message)
}

/// A position in the caller's mailbox: every message that arrives later is after it.
///
/// Take a mark just before sending a request, then look for the reply with
/// [`receive_match_after`]: messages that were already queued are not scanned, so the
/// reply is found in constant time however long the mailbox is.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{mailbox_mark, receive_match_after, self_pid, send, Ref};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     for i in 0..10_000u32 { send(self_pid(), i).unwrap(); }
///     let tag = Ref::new();
///     let mark = mailbox_mark();
///     send(self_pid(), (tag, "reply")).unwrap();
///     let r = receive_match_after(mark, |(t, _): &(Ref, &str)| *t == tag, Some(Duration::from_secs(5)));
///     assert_eq!(r.map(|r| r.1), Some("reply"));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxMark(u64);

/// Marks the current end of the caller's mailbox (see [`MailboxMark`]).
///
/// # Panics
///
/// Outside a process.
pub fn mailbox_mark() -> MailboxMark {
    let p = current_or_panic("mailbox_mark");
    check_signals();
    // SAFETY: the running process uses its own owned fields; no switch here.
    let owned = unsafe { p.get().owned() };
    let id = crate::Ref::new().id();
    owned.queue.set_mark(id);
    MailboxMark(id)
}

/// Selective receive of messages that arrived after `mark`, with an optional timeout.
/// If the mark was superseded by a newer one, the whole mailbox is scanned (still
/// correct, just not constant time).
pub fn receive_match_after<T: Send + 'static>(
    mark: MailboxMark,
    mut pred: impl FnMut(&T) -> bool,
    timeout: Option<Duration>,
) -> Option<T> {
    let d = timeout.map(deadline_after);
    let mut m = |n: &Node| n.downcast_ref::<T>().is_some_and(&mut pred);
    receive_node(&mut m, d, Start::Mark(mark.0)).map(take)
}

/// Number of messages waiting in the caller's mailbox.
///
/// ```
/// use beamlet_runtime::{message_queue_len, self_pid, send};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| { send(self_pid(), 1u8).unwrap(); assert_eq!(message_queue_len(), 1); }).unwrap();
/// rt.shutdown();
/// ```
pub fn message_queue_len() -> usize {
    let p = current_or_panic("message_queue_len");
    check_signals();
    // SAFETY: the running process uses its own owned fields; no switch here.
    unsafe { p.get().owned() }.queue.len()
}

/// Suspends the calling process for `duration`; other processes run meanwhile.
/// Messages that arrive stay in the mailbox. Outside a process, sleeps the OS thread.
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let t = Instant::now();
/// rt.block_on(|| beamlet_runtime::sleep(Duration::from_millis(3))).unwrap();
/// assert!(t.elapsed() >= Duration::from_millis(3));
/// rt.shutdown();
/// ```
pub fn sleep(duration: Duration) {
    let Some(p) = context::current_process() else {
        std::thread::sleep(duration);
        return;
    };
    charge(TIMER_COST);
    let deadline = deadline_after(duration);
    while crate::now() < deadline {
        arm_wake(p, deadline);
        suspend(Suspend::Wait);
    }
}

/// Sends `msg` to `pid` after `delay` (as `erlang:send_after/3`). The message is
/// dropped if `pid` is dead by then.
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{receive, self_pid, send_after};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let got = rt.block_on(|| {
///     send_after(Duration::from_millis(2), self_pid(), "tick");
///     receive::<&str>()
/// }).unwrap();
/// assert_eq!(got, "tick");
/// rt.shutdown();
/// ```
pub fn send_after<M: Send + 'static>(delay: Duration, pid: Pid, msg: M) -> TimerRef {
    let mut node = Some(Node::new(msg));
    let local = with_context(|cx| {
        let n = node.take().expect("armed once");
        cx.with_core(|core| cx.shared.send_after(core, delay, pid, n))
    });
    if let Some(timer) = local {
        charge(TIMER_COST);
        return timer;
    }
    let n = node.take().expect("armed once");
    match registry::lookup(pid.runtime) {
        Some(shared) => shared.send_after(None, delay, pid, n),
        None => {
            // No such runtime: a timer that has already fired, its message dropped.
            let cell = TimerCell::new(Instant::now(), n, None);
            drop(cell.fire());
            TimerRef { cell }
        }
    }
}

/// Cancels a `send_after` timer. Returns the time that was left, or `None` if the
/// timer had already fired (or was cancelled before).
pub fn cancel_timer(timer: &TimerRef) -> Option<Duration> {
    timer.cell.cancel()
}

/// Time left before a `send_after` timer fires, or `None` if it fired or was cancelled.
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{read_timer, self_pid, send_after};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let t = send_after(Duration::from_secs(10), self_pid(), ());
///     assert!(read_timer(&t).unwrap() > Duration::from_secs(9));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn read_timer(timer: &TimerRef) -> Option<Duration> {
    timer.cell.remaining()
}

/// Hibernates the calling process (as `erlang:hibernate/3`): its stack is unwound
/// (destructors run) and returned to the pool, and when the next message arrives it
/// continues in `f` on a fresh stack. A hibernated process holds no stack. If a
/// message is already waiting, it continues at once.
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{hibernate, receive, self_pid, send, spawn};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
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
    let _ = current_or_panic("hibernate");
    unwind::raise_hibernate(Box::new(f))
}

/// Marks a section in which the process must not switch, because it holds a value
/// bound to its OS thread. In debug builds, a runtime call that would switch inside
/// the section panics; in release builds the guard costs nothing.
///
/// # Examples
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let _guard = beamlet_runtime::NoSwitch::enter();
///     // ... use a thread-local or a MutexGuard here, without receive/sleep/yield ...
/// }).unwrap();
/// rt.shutdown();
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

/// Wakes a process from outside its runtime's schedulers (used by shutdown).
pub(crate) fn wake_remote(shared: &crate::scheduler::Shared, p: ProcPtr) {
    shared.wake(None, p, Placement::Back);
}
