//! Links, monitors, exit signals and `trap_exit`: the public side of [`crate::signal`].

use std::fmt;
use std::sync::atomic::Ordering;

use crate::mailbox::Scan;
use crate::mailbox::node::Node;
use crate::process::ProcPtr;
use crate::scheduler::Relate;
use crate::scheduler::context::{self, with_context};
use crate::signal::{self, Signal};
use crate::{ExitReason, Pid, Ref, SpawnError, api, unwind};

/// The message a process trapping exits receives for an exit signal (as
/// `{'EXIT', From, Reason}`).
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{receive, spawn_link, trap_exit, Exit, ExitReason};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     trap_exit(true);
///     let child = spawn_link(|| panic!("boom")).unwrap();
///     let e = receive::<Exit>();
///     assert_eq!(e.from, child);
///     assert!(e.reason.is_panic());
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Exit {
    /// The process the signal came from (or the pid a link request was sent to).
    pub from: Pid,
    /// Its exit reason.
    pub reason: ExitReason,
}

/// The message a monitor delivers when the monitored process exits (as
/// `{'DOWN', Ref, process, Pid, Reason}`). Each monitor delivers at most one.
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{receive, spawn_monitor, Down, ExitReason};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let (pid, mref) = spawn_monitor(|| ()).unwrap();
///     let d = receive::<Down>();
///     assert_eq!((d.pid, d.monitor, d.reason), (pid, mref, ExitReason::Normal));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Down {
    /// The monitor that fired.
    pub monitor: MonitorRef,
    /// The monitored process.
    pub pid: Pid,
    /// Its exit reason (`NoProc` if it was already dead when monitored).
    pub reason: ExitReason,
}

/// Names one monitor.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorRef(pub(crate) Ref);

impl fmt::Debug for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Monitor<{}>", self.0.id())
    }
}

/// Why [`link`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The process does not exist (and the caller does not trap exits).
    NoProc,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("noproc: the process to link to does not exist")
    }
}

impl std::error::Error for LinkError {}

fn me() -> (ProcPtr, Pid) {
    with_context(|cx| cx.current.get().map(|p| (p, p.get().pid(cx.shared.id))))
        .flatten()
        .expect("beamlet: link/monitor functions must be called from a process")
}

/// Puts a message straight into the calling process's own queue.
fn self_message<M: Send + 'static>(p: ProcPtr, msg: M) {
    // SAFETY: the running process uses its own owned fields; no switch here.
    let owned = unsafe { p.get().owned() };
    owned.queue.push_back(Node::new(msg));
    p.get().publish_mailbox(owned);
}

/// Links the calling process to `pid` (both ways): when either exits abnormally, the
/// other gets an exit signal. Linking to oneself or to an existing link does nothing.
///
/// # Errors
///
/// If `pid` does not exist: a caller trapping exits gets an [`Exit`] message with
/// reason `NoProc` and `Ok`; any other caller gets [`LinkError::NoProc`] and lives on.
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{link, spawn, LinkError};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn(|| ()).unwrap();
///     beamlet_runtime::sleep(std::time::Duration::from_millis(10));
///     assert_eq!(link(pid), Err(LinkError::NoProc));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn link(pid: Pid) -> Result<(), LinkError> {
    let (p, me) = me();
    if pid == me || p.get().relations().links.contains(&pid) {
        return Ok(());
    }
    p.get().relations().links.insert(pid);
    let sent = api::deliver(pid, Signal::Link { from: me }.into_node()).is_ok();
    api::charge(crate::scheduler::SEND_COST);
    if sent {
        return Ok(());
    }
    p.get().relations().links.remove(&pid);
    if p.get().trap_exit.load(Ordering::Relaxed) {
        self_message(
            p,
            Exit {
                from: pid,
                reason: ExitReason::NoProc,
            },
        );
        Ok(())
    } else {
        Err(LinkError::NoProc)
    }
}

/// Removes the link to `pid`. When `unlink` returns, no exit signal from that link
/// will reach the caller (an [`Exit`] message already in the mailbox stays there).
///
/// ```
/// use beamlet_runtime::{spawn_link, unlink, receive_timeout, trap_exit, Exit};
/// use std::time::Duration;
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     trap_exit(true);
///     let child = spawn_link(|| { beamlet_runtime::sleep(Duration::from_millis(5)); panic!() }).unwrap();
///     unlink(child);
///     assert!(receive_timeout::<Exit>(Duration::from_millis(30)).is_none());
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn unlink(pid: Pid) {
    let (p, me) = me();
    if p.get().relations().links.remove(&pid) {
        let _ = api::deliver(pid, Signal::Unlink { from: me }.into_node());
        api::charge(crate::scheduler::SEND_COST);
    }
}

/// Sets whether the calling process traps exits; returns the previous setting. A
/// trapping process receives exit signals as [`Exit`] messages instead of dying
/// (except an `exit_pid(.., Kill)`, which cannot be trapped).
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert!(!beamlet_runtime::trap_exit(true));
///     assert!(beamlet_runtime::trap_exit(false));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn trap_exit(on: bool) -> bool {
    let (p, _) = me();
    // Relaxed: only this process writes the flag; others read it for introspection.
    p.get().trap_exit.swap(on, Ordering::Relaxed)
}

/// Ends the calling process with `reason` (as `exit/1`). Destructors run. Like
/// Erlang's `exit/1`, this unwinds and so can be caught by `catch_unwind`.
///
/// ```
/// use beamlet_runtime::{exit, spawn_monitor, receive, Down, ExitReason};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let (_, _) = spawn_monitor(|| exit(ExitReason::Shutdown)).unwrap();
///     assert_eq!(receive::<Down>().reason, ExitReason::Shutdown);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn exit(reason: ExitReason) -> ! {
    let _ = me();
    unwind::raise(reason)
}

/// Sends an exit signal with `reason` to `pid` (as `exit/2`). `Kill` cannot be
/// trapped and ends the process with `Killed`; `Normal` is ignored by a process that
/// does not trap exits; other reasons end a non-trapping process. A signal to a
/// process that does not exist is dropped.
///
/// ```
/// use beamlet_runtime::{exit_pid, receive, spawn_monitor, Down, ExitReason};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let (pid, _) = spawn_monitor(|| loop { beamlet_runtime::receive::<()>(); }).unwrap();
///     exit_pid(pid, ExitReason::Kill);
///     assert_eq!(receive::<Down>().reason, ExitReason::Killed);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn exit_pid(pid: Pid, reason: ExitReason) {
    let (p, me) = me();
    let sig = Signal::Exit {
        from: me,
        reason,
        link: false,
    };
    let _ = api::deliver(pid, sig.into_node());
    if pid == me {
        with_context(|cx| signal::drain(&cx.shared, p));
    }
    api::charge(crate::scheduler::SEND_COST);
}

/// Spawns a process linked to the caller; the link exists before the child runs.
///
/// # Errors
///
/// As [`spawn`](crate::spawn).
///
/// ```
/// use beamlet_runtime::{receive, spawn_link, trap_exit, Exit, ExitReason};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     trap_exit(true);
///     spawn_link(|| ()).unwrap();
///     assert_eq!(receive::<Exit>().reason, ExitReason::Normal);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn spawn_link<F: FnOnce() + Send + 'static>(f: F) -> Result<Pid, SpawnError> {
    spawn_related(Box::new(f), true, None, None, None)
}

/// Spawns a process monitored by the caller; the monitor exists before the child runs.
///
/// # Errors
///
/// As [`spawn`](crate::spawn).
pub fn spawn_monitor<F: FnOnce() + Send + 'static>(f: F) -> Result<(Pid, MonitorRef), SpawnError> {
    let m = MonitorRef(Ref::new());
    spawn_related(Box::new(f), false, Some(m), None, None).map(|pid| (pid, m))
}

/// Spawns a process linked to and monitored by the caller (Erlang's
/// `spawn_opt(F, [link, monitor])`): both exist before the child runs, so its `Down`
/// follows every message it sent, and it never runs unwatched.
///
/// # Errors
///
/// As [`spawn`](crate::spawn).
///
/// ```
/// use beamlet_runtime::{receive, spawn_link_monitor, trap_exit, Down, Exit, ExitReason};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     trap_exit(true);
///     let (pid, m) = spawn_link_monitor(|| ()).unwrap();
///     let down = receive::<Down>();
///     assert_eq!((down.monitor, down.reason), (m, ExitReason::Normal));
///     assert_eq!(receive::<Exit>().from, pid);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn spawn_link_monitor<F: FnOnce() + Send + 'static>(
    f: F,
) -> Result<(Pid, MonitorRef), SpawnError> {
    let m = MonitorRef(Ref::new());
    spawn_related(Box::new(f), true, Some(m), None, None).map(|pid| (pid, m))
}

pub(crate) fn spawn_related(
    f: Box<dyn FnOnce() + Send>,
    link: bool,
    monitor: Option<MonitorRef>,
    priority: Option<crate::Priority>,
    mailbox_limit: Option<crate::MailboxLimit>,
) -> Result<Pid, SpawnError> {
    let (parent, parent_pid) = me();
    let relate = Relate {
        parent,
        parent_pid,
        link,
        monitor,
        priority,
        mailbox_limit,
    };
    let r =
        with_context(|cx| cx.with_core(|core| cx.shared.spawn(core, f, Vec::new(), Some(relate))))
            .unwrap_or(Err(SpawnError::RuntimeGone));
    api::charge(crate::scheduler::SPAWN_COST);
    r
}

/// Monitors `pid`: when it exits (or at once, with `NoProc`, if it does not exist)
/// the caller receives one [`Down`] message.
///
/// ```
/// use beamlet_runtime::{monitor, receive, spawn, Down, ExitReason};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn(|| beamlet_runtime::sleep(std::time::Duration::from_millis(5))).unwrap();
///     let m = monitor(pid);
///     assert_eq!(receive::<Down>().monitor, m);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn monitor(pid: Pid) -> MonitorRef {
    let (p, me) = me();
    let m = MonitorRef(Ref::new());
    p.get().relations().monitors.insert(m, pid);
    let sig = Signal::Monitor {
        from: me,
        monitor: m,
    };
    if api::deliver(pid, sig.into_node()).is_err() {
        p.get().relations().monitors.remove(&m);
        self_message(
            p,
            Down {
                monitor: m,
                pid,
                reason: ExitReason::NoProc,
            },
        );
    }
    api::charge(crate::scheduler::SEND_COST);
    m
}

/// Removes a monitor. Returns `true` if it was active (no `Down` had been received
/// for it). After `demonitor` no `Down` for it arrives; with `flush`, one that had
/// already arrived is removed from the mailbox too.
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{demonitor, monitor, receive_timeout, spawn, Down};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn(|| ()).unwrap();
///     let m = monitor(pid);
///     demonitor(m, true);
///     assert!(receive_timeout::<Down>(Duration::from_millis(10)).is_none());
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn demonitor(monitor: MonitorRef, flush: bool) -> bool {
    let (p, _) = me();
    let target = p.get().relations().monitors.remove(&monitor);
    if let Some(pid) = target {
        let _ = api::deliver(pid, Signal::Demonitor { monitor }.into_node());
        api::charge(crate::scheduler::SEND_COST);
    }
    if flush {
        with_context(|cx| signal::drain(&cx.shared, p));
        // SAFETY: the running process uses its own owned fields; no switch here.
        let owned = unsafe { p.get().owned() };
        let mut n = 0;
        let mut is_it = |node: &Node| {
            node.downcast_ref::<Down>()
                .is_some_and(|d| d.monitor == monitor)
        };
        while let Scan::Found(node) = owned.queue.scan(None, &mut n, &mut is_it) {
            drop(node);
        }
        p.get().publish_mailbox(owned);
    }
    context::spend(1);
    target.is_some()
}
