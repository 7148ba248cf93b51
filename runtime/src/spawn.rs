//! Spawning processes: [`spawn_opt`] and the shorthands over it ([`spawn`],
//! [`spawn_link`], [`spawn_monitor`], [`spawn_link_monitor`], [`spawn_priority`],
//! [`spawn_limited`]), as `erlang:spawn_opt/2` and its relatives.
//!
//! Everything a process has from birth — its link and monitor to the spawner, its
//! priority, its mailbox limit — is set before it can run or be sent to, so the
//! child can never exit unobserved and no message escapes its limit (see
//! `kernel::spawn`).
//!
//! Every spawn function is `#[track_caller]`: the process records where it was
//! spawned (file, line and column of the call), for
//! [`ProcessInfo::spawned_at`](crate::ProcessInfo::spawned_at) and crash reports,
//! at the cost of one store. A wrapper of its own that spawns should be
//! `#[track_caller]` too, so that the site is its caller's.

use std::num::NonZeroUsize;
use std::panic::Location;

use crate::error::SpawnError;
use crate::kernel::spawn::Birth;
use crate::mailbox::limit::MailboxLimit;
use crate::pid::{MonitorRef, Pid, Ref};
use crate::priority::Priority;
use crate::scheduler::current::{self, Current};

/// Options of [`spawn_opt`] (as `erlang:spawn_opt/2`'s option list). The default
/// spawns an unrelated process of normal priority with no mailbox limit.
///
/// ```
/// use beamlet::{receive, spawn_opt, Down, Priority, SpawnOpts};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let opts = SpawnOpts { monitor: true, priority: Some(Priority::High), ..SpawnOpts::default() };
///     let (pid, monitor) = spawn_opt(|| (), opts).unwrap();
///     let down = receive::<Down>();
///     assert_eq!((down.pid, Some(down.monitor)), (pid, monitor));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpawnOpts {
    /// Link the new process to the caller (`link`).
    pub link: bool,
    /// Monitor the new process from the caller (`monitor`); the reference is returned.
    pub monitor: bool,
    /// Its priority from the start (`{priority, P}`); `Normal` if `None`.
    pub priority: Option<Priority>,
    /// Its mailbox limit from the start (as `{max_heap_size, ..}` bounds a heap).
    pub mailbox_limit: Option<MailboxLimit>,
    /// Usable stack bytes at least (as `{min_heap_size, ..}` sizes a heap); the
    /// runtime's [`stack_size`](crate::RuntimeBuilder::stack_size) if `None`. Sizes
    /// come in classes (powers of two from
    /// [`MIN_STACK_SIZE`](crate::MIN_STACK_SIZE) to
    /// [`MAX_STACK_SIZE`](crate::MAX_STACK_SIZE), and the runtime's
    /// default); the process gets the smallest that holds the request. Above the
    /// maximum, the spawn fails with [`SpawnError::StackSize`]. Only the pages a
    /// process touches cost memory, so a large stack is cheap until it is used.
    ///
    /// ```
    /// use beamlet::{process_info, receive, self_pid, send, spawn_opt, SpawnOpts};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let me = self_pid();
    ///     let opts = SpawnOpts { stack_size: Some(3 << 20), ..SpawnOpts::default() };
    ///     let (pid, _) = spawn_opt(move || { send(me, ()).unwrap(); receive::<()>(); }, opts).unwrap();
    ///     receive::<()>();
    ///     assert_eq!(process_info(pid).unwrap().stack_reserved, 4 << 20);
    ///     send(pid, ()).unwrap();
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub stack_size: Option<usize>,
}

/// Spawns a process running `f` with `opts`, on the calling process's runtime;
/// returns its pid and, with `opts.monitor`, the monitor's reference.
///
/// # Errors
///
/// As [`spawn`].
///
/// # Panics
///
/// With `link` or `monitor`, when called outside a process (there is nobody to
/// relate the child to).
#[track_caller]
pub fn spawn_opt<F>(f: F, opts: SpawnOpts) -> Result<(Pid, Option<MonitorRef>), SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    let monitor = opts.monitor.then(|| MonitorRef(Ref::new()));
    let parent = (opts.link || opts.monitor).then(|| {
        let me = Current::expect("spawn_opt with link or monitor");
        (me.ptr(), me.pid())
    });
    let birth = Birth {
        parent,
        link: opts.link,
        monitor,
        priority: opts.priority,
        mailbox_limit: opts.mailbox_limit,
        // A request of 0 bytes gets the smallest class, as one of 1 byte does.
        stack_size: opts
            .stack_size
            .map(|b| NonZeroUsize::MIN.saturating_add(b.saturating_sub(1))),
        exit_hook: None,
        site: Some(Location::caller()),
    };
    current::spawn(Box::new(f), birth).map(|pid| (pid, monitor))
}

/// Spawns a process running `f`, on the calling process's runtime.
///
/// The new process is queued at the back of the caller's run queue; it gets a stack
/// when it first runs. Returning from `f` exits with reason `Normal`; a panic exits
/// with `Panic`.
///
/// # Errors
///
/// [`SpawnError::SystemLimit`] when the process table is full,
/// [`SpawnError::RuntimeGone`] during shutdown, [`SpawnError::NotInProcess`] on a
/// thread that runs no process (use [`Runtime::spawn`](crate::Runtime::spawn) from
/// plain threads).
///
/// # Examples
///
/// ```
/// use beamlet::{receive, self_pid, send, spawn};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let n = rt.block_on(|| {
///     let me = self_pid();
///     spawn(move || { send(me, 41u32 + 1).unwrap(); }).unwrap();
///     receive::<u32>()
/// }).unwrap();
/// assert_eq!(n, 42);
/// rt.shutdown();
/// ```
#[track_caller]
pub fn spawn<F>(f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    current::spawn(Box::new(f), Birth::at(Location::caller()))
}

/// Spawns a process linked to the caller; the link exists before the child runs.
///
/// # Errors
///
/// As [`spawn`](fn@crate::spawn).
///
/// ```
/// use beamlet::{receive, spawn_link, trap_exit, Exit, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     trap_exit(true);
///     spawn_link(|| ()).unwrap();
///     assert_eq!(receive::<Exit>().reason, ExitReason::Normal);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn spawn_link<F: FnOnce() + Send + 'static>(f: F) -> Result<Pid, SpawnError> {
    let opts = SpawnOpts {
        link: true,
        ..SpawnOpts::default()
    };
    spawn_opt(f, opts).map(|(pid, _)| pid)
}

/// Spawns a process monitored by the caller; the monitor exists before the child runs.
///
/// # Errors
///
/// As [`spawn`](fn@crate::spawn).
#[track_caller]
pub fn spawn_monitor<F: FnOnce() + Send + 'static>(f: F) -> Result<(Pid, MonitorRef), SpawnError> {
    let opts = SpawnOpts {
        monitor: true,
        ..SpawnOpts::default()
    };
    spawn_monitored(f, opts)
}

/// Spawns a process linked to and monitored by the caller (Erlang's
/// `spawn_opt(F, [link, monitor])`): both exist before the child runs, so its `Down`
/// follows every message it sent, and it never runs unwatched.
///
/// # Errors
///
/// As [`spawn`](fn@crate::spawn).
///
/// ```
/// use beamlet::{receive, spawn_link_monitor, trap_exit, Down, Exit, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     trap_exit(true);
///     let (pid, m) = spawn_link_monitor(|| ()).unwrap();
///     let down = receive::<Down>();
///     assert_eq!((down.monitor, down.reason), (m, ExitReason::Normal));
///     assert_eq!(receive::<Exit>().from, pid);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn spawn_link_monitor<F: FnOnce() + Send + 'static>(
    f: F,
) -> Result<(Pid, MonitorRef), SpawnError> {
    let opts = SpawnOpts {
        link: true,
        monitor: true,
        ..SpawnOpts::default()
    };
    spawn_monitored(f, opts)
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
/// use beamlet::{process_info, spawn_priority, Priority};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn_priority(Priority::Low, || beamlet::sleep(std::time::Duration::from_millis(50))).unwrap();
///     assert_eq!(process_info(pid).unwrap().priority, Priority::Low);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn spawn_priority<F>(priority: Priority, f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    let opts = SpawnOpts {
        priority: Some(priority),
        ..SpawnOpts::default()
    };
    spawn_opt(f, opts).map(|(pid, _)| pid)
}

/// Spawns a process with a mailbox limit from its start (as `spawn_opt` with
/// `{max_heap_size, ..}`): no send can reach it before the limit is in force.
///
/// # Errors
///
/// As [`spawn`](fn@crate::spawn).
///
/// # Examples
///
/// ```
/// use beamlet::{monitor, receive, spawn_limited, send, Down, ExitReason, MailboxLimit, OverflowPolicy};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let limit = MailboxLimit::new(1, OverflowPolicy::Kill);
///     let pid = spawn_limited(limit, || beamlet::sleep(std::time::Duration::from_secs(5))).unwrap();
///     let m = monitor(pid);
///     send(pid, 1u8).unwrap();
///     assert!(send(pid, 2u8).is_err());
///     assert_eq!(receive::<Down>().reason, ExitReason::MailboxOverflow);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn spawn_limited<F>(limit: MailboxLimit, f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    let opts = SpawnOpts {
        mailbox_limit: Some(limit),
        ..SpawnOpts::default()
    };
    spawn_opt(f, opts).map(|(pid, _)| pid)
}

/// `spawn_opt` with `monitor` set: the reference is always there.
#[track_caller]
fn spawn_monitored<F>(f: F, opts: SpawnOpts) -> Result<(Pid, MonitorRef), SpawnError>
where
    F: FnOnce() + Send + 'static,
{
    spawn_opt(f, opts).map(|(pid, m)| (pid, m.expect("monitor requested")))
}
