//! Links, monitors, exit signals and `trap_exit`: the public side of
//! [`crate::kernel::signals`], whose module docs state the protocol.
//!
//! Each call updates the caller's own relations, then sends the matching signal
//! through the running process's door; a request to a dead process is answered at
//! once (a `noproc` exit or `Down`), as the BEAM does.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::error::LinkError;
use crate::exit::{Down, Exit, ExitReason};
use crate::kernel::signals::Signal;
use crate::limits::SEND_COST;
use crate::mailbox::node::Node;
use crate::mailbox::queue::Scan;
use crate::pid::{MonitorRef, Pid, Ref};
use crate::scheduler::context;
use crate::scheduler::current::{self, Current, charge};
use crate::unwind;

fn me() -> Current {
    Current::get().expect("beamlet: link/monitor functions must be called from a process")
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
/// use beamlet::{link, spawn, LinkError};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn(|| ()).unwrap();
///     beamlet::sleep(std::time::Duration::from_millis(10));
///     assert_eq!(link(pid), Err(LinkError::NoProc));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn link(pid: Pid) -> Result<(), LinkError> {
    let mut me = me();
    let my_pid = me.pid();
    if pid == my_pid || me.process().relations().links.contains(&pid) {
        return Ok(());
    }
    me.process().relations().links.insert(pid);
    let sent = current::deliver(pid, Signal::Link { from: my_pid }.into_node()).is_ok();
    charge(SEND_COST);
    if sent {
        return Ok(());
    }
    me.process().relations().links.remove(&pid);
    // A pid of another node is refused only when its node is not connected.
    let (reason, error) = if pid.is_local() {
        (ExitReason::NoProc, LinkError::NoProc)
    } else {
        (ExitReason::NoConnection, LinkError::NoConnection)
    };
    if me.process().trap_exit.load(Ordering::Relaxed) {
        let exit = Exit { from: pid, reason };
        me.push_self_message(Node::new(exit));
        Ok(())
    } else {
        Err(error)
    }
}

/// Removes the link to `pid`. When `unlink` returns, no exit signal from that link
/// will reach the caller (an [`Exit`] message already in the mailbox stays there).
///
/// ```
/// use beamlet::{spawn_link, unlink, receive_timeout, trap_exit, Exit};
/// use std::time::Duration;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     trap_exit(true);
///     let child = spawn_link(|| { beamlet::sleep(Duration::from_millis(5)); panic!() }).unwrap();
///     unlink(child);
///     assert!(receive_timeout::<Exit>(Duration::from_millis(30)).is_none());
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn unlink(pid: Pid) {
    let me = me();
    if me.process().relations().links.remove(&pid) {
        let _ = current::deliver(pid, Signal::Unlink { from: me.pid() }.into_node());
        charge(SEND_COST);
    }
}

/// Sets whether the calling process traps exits; returns the previous setting. A
/// trapping process receives exit signals as [`Exit`] messages instead of dying
/// (except an `exit_pid(.., Kill)`, which cannot be trapped).
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert!(!beamlet::trap_exit(true));
///     assert!(beamlet::trap_exit(false));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn trap_exit(on: bool) -> bool {
    // Relaxed: only this process writes the flag; others read it for introspection.
    me().process().trap_exit.swap(on, Ordering::Relaxed)
}

/// Ends the calling process with `reason` (as `exit/1`). Destructors run. Like
/// Erlang's `exit/1`, this unwinds and so can be caught by `catch_unwind`.
///
/// ```
/// use beamlet::{exit, spawn_monitor, receive, Down, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let (_, _) = spawn_monitor(|| exit(ExitReason::Shutdown)).unwrap();
///     assert_eq!(receive::<Down>().reason, ExitReason::Shutdown);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn exit(reason: ExitReason) -> ! {
    // A kill (or a fatal exit signal) that already arrived wins over this reason.
    me().check_signals();
    unwind::raise(reason)
}

/// Sends an exit signal with `reason` to `pid` (as `exit/2`). `Kill` cannot be
/// trapped and ends the process with `Killed`; `Normal` is ignored by a process that
/// does not trap exits; other reasons end a non-trapping process. A signal to a
/// process that does not exist is dropped.
///
/// ```
/// use beamlet::{exit_pid, receive, spawn_monitor, Down, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let (pid, _) = spawn_monitor(|| loop { beamlet::receive::<()>(); }).unwrap();
///     exit_pid(pid, ExitReason::Kill);
///     assert_eq!(receive::<Down>().reason, ExitReason::Killed);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn exit_pid(pid: Pid, reason: ExitReason) {
    let mut me = me();
    let my_pid = me.pid();
    let sig = Signal::Exit {
        from: my_pid,
        reason,
        link: false,
    };
    let _ = current::deliver(pid, sig.into_node());
    if pid == my_pid {
        me.intake();
    }
    charge(SEND_COST);
}

/// Monitors `pid`: when it exits (or at once, with `NoProc`, if it does not exist)
/// the caller receives one [`Down`] message.
///
/// ```
/// use beamlet::{monitor, receive, spawn, Down, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn(|| beamlet::sleep(std::time::Duration::from_millis(5))).unwrap();
///     let m = monitor(pid);
///     assert_eq!(receive::<Down>().monitor, m);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn monitor(pid: Pid) -> MonitorRef {
    monitor_as(pid, None)
}

/// Monitors the process registered as `name` (as `erlang:monitor(process, Name)`):
/// the name is looked up once, now, and the monitor then follows that process even
/// if it unregisters. Its [`Down`] carries the name in [`Down::name`]. If no process
/// is registered as `name`, a `Down` with reason `NoProc`, the name and
/// [`Pid::NO_PROCESS`] arrives at once.
///
/// # Panics
///
/// Outside a process.
///
/// ```
/// use beamlet::{monitor_name, receive, register, spawn, Down, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let m = monitor_name("nobody");
///     let d = receive::<Down>();
///     assert_eq!((d.monitor, d.reason, d.name.as_deref()), (m, ExitReason::NoProc, Some("nobody")));
///
///     let pid = spawn(|| { beamlet::receive::<()>(); }).unwrap();
///     register("worker", pid).unwrap();
///     monitor_name("worker");
///     beamlet::send(pid, ()).unwrap();
///     let d = receive::<Down>();
///     assert_eq!((d.pid, d.name.as_deref()), (pid, Some("worker")));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn monitor_name(name: &str) -> MonitorRef {
    let name: Arc<str> = name.into();
    match crate::names::whereis(&name) {
        Some(pid) => monitor_as(pid, Some(name)),
        None => {
            let mut me = me();
            let m = MonitorRef(Ref::new());
            me.push_self_message(Node::new(Down {
                monitor: m,
                pid: Pid::NO_PROCESS,
                name: Some(name),
                reason: ExitReason::NoProc,
            }));
            charge(SEND_COST);
            m
        }
    }
}

/// Monitors `pid`; a `Down` for it will carry `name`.
fn monitor_as(pid: Pid, name: Option<Arc<str>>) -> MonitorRef {
    let mut me = me();
    let m = MonitorRef(Ref::new());
    {
        let mut relations = me.process().relations();
        relations.monitors.insert(m, pid);
        if let Some(name) = &name {
            relations.rare().monitor_names.insert(m, name.clone());
        }
    }
    let sig = Signal::Monitor {
        from: me.pid(),
        monitor: m,
    };
    if current::deliver(pid, sig.into_node()).is_err() {
        me.process().relations().forget_monitor(&m);
        let reason = if pid.is_local() {
            ExitReason::NoProc
        } else {
            ExitReason::NoConnection
        };
        let down = Down {
            monitor: m,
            pid,
            name,
            reason,
        };
        me.push_self_message(Node::new(down));
    }
    charge(SEND_COST);
    m
}

/// Removes a monitor. Returns `true` if it was active (no `Down` had been received
/// for it). After `demonitor` no `Down` for it arrives; with `flush`, one that had
/// already arrived is removed from the mailbox too.
///
/// ```
/// use std::time::Duration;
/// use beamlet::{demonitor, monitor, receive_timeout, spawn, Down};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let pid = spawn(|| ()).unwrap();
///     let m = monitor(pid);
///     demonitor(m, true);
///     assert!(receive_timeout::<Down>(Duration::from_millis(10)).is_none());
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn demonitor(monitor: MonitorRef, flush: bool) -> bool {
    let mut me = me();
    let target = {
        let mut relations = me.process().relations();
        let pid = relations.monitors.get(&monitor).copied();
        relations.forget_monitor(&monitor);
        pid
    };
    if let Some(pid) = target {
        let _ = current::deliver(pid, Signal::Demonitor { monitor }.into_node());
        charge(SEND_COST);
    }
    if flush {
        me.intake();
        let mut held = me.held();
        let mut n = 0;
        let mut is_it = |node: &Node| {
            node.downcast_ref::<Down>()
                .is_some_and(|d| d.monitor == monitor)
        };
        while let Scan::Found(node) = held.owned().queue.scan(None, &mut n, &mut is_it) {
            drop(node);
        }
        held.publish_mailbox();
    }
    context::spend(1);
    target.is_some()
}
