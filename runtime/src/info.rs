//! Process introspection: `processes()`, `process_info()`.

use std::sync::atomic::Ordering;

use crate::Pid;
use crate::process::Process;
use crate::process::state::{EXITING, FREE, NOTIFIED, RUNNING, SCHEDULED, WAITING};
use crate::scheduler::Shared;
use crate::scheduler::context::with_context;

/// What a process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessStatus {
    /// Running on a scheduler now.
    Running,
    /// In a run queue.
    Runnable,
    /// Blocked in `receive`, `sleep` or another wait.
    Waiting,
    /// Hibernated: waiting, and holding no stack.
    Hibernated,
    /// Exiting.
    Exiting,
}

/// A snapshot of one process (as `erlang:process_info/1`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// The process.
    pub pid: Pid,
    /// What it is doing.
    pub status: ProcessStatus,
    /// Messages in its mailbox. For a metered mailbox (one with a limit, or whose
    /// length was read with [`message_queue_len_of`](crate::message_queue_len_of))
    /// this includes the messages it has not looked at yet; otherwise it is the
    /// count as of its last look (messages sent since are not counted yet).
    pub message_queue_len: usize,
    /// Its mailbox limit, if any (see [`set_mailbox_limit`](crate::set_mailbox_limit)).
    pub mailbox_limit: Option<crate::MailboxLimit>,
    /// Reductions spent, as of its last switch.
    pub reductions: u64,
    /// Bytes of stack in use at its last switch (0 if it holds no stack).
    pub stack_used: usize,
    /// Bytes of stack reserved for it (0 if it holds no stack).
    pub stack_reserved: usize,
    /// Estimated bytes of memory it holds: its record, touched stack pages, and
    /// queued messages' envelopes (not what message values own on the heap).
    pub memory: usize,
    /// Linked processes.
    pub links: Vec<Pid>,
    /// Processes it monitors.
    pub monitors: Vec<Pid>,
    /// Processes monitoring it.
    pub monitored_by: Vec<Pid>,
    /// Its registered name.
    pub registered_name: Option<String>,
    /// Whether it traps exits.
    pub trap_exit: bool,
    /// The scheduler it last ran on.
    pub scheduler: usize,
    /// Its priority.
    pub priority: crate::Priority,
}

impl Shared {
    /// The mailbox length of `pid`, if it is alive: no lock. Meters the mailbox.
    pub(crate) fn message_queue_len_of(&self, pid: Pid) -> Option<usize> {
        if pid.runtime != self.id {
            return None;
        }
        let p = self.table.get(pid.index)?;
        p.inbound.meter_on();
        let len = p.mailbox_len();
        // Checked after the read: a slot that changed occupant meanwhile reads as
        // dead (a length read across an exit is a best-effort value anyway).
        let alive = p.serial.load(Ordering::Acquire) == pid.serial
            && !matches!(p.state.load(), FREE | EXITING);
        alive.then_some(len)
    }

    pub(crate) fn processes(&self) -> Vec<Pid> {
        self.table
            .iter()
            .filter(|p| !matches!(p.state.load(), FREE | EXITING))
            .map(|p| p.pid(self.id))
            .collect()
    }

    pub(crate) fn process_info(&self, pid: Pid) -> Option<ProcessInfo> {
        if pid.runtime != self.id {
            return None;
        }
        let p = self.table.get(pid.index)?;
        let rel = p.relations();
        if p.serial.load(Ordering::Acquire) != pid.serial {
            return None;
        }
        let status = status(p)?;
        let holds_stack = !p.hibernated.load(Ordering::Relaxed);
        let stack_used = if holds_stack {
            p.stack_used.load(Ordering::Relaxed) as usize
        } else {
            0
        };
        let queue = p.mailbox_len();
        let page = crate::stack::page_size();
        Some(ProcessInfo {
            pid,
            status,
            message_queue_len: queue,
            mailbox_limit: p.inbound.limit(),
            reductions: p.reductions.load(Ordering::Relaxed),
            stack_used,
            stack_reserved: if holds_stack {
                self.config.stack_size
            } else {
                0
            },
            memory: std::mem::size_of::<Process>() + stack_used.div_ceil(page) * page + queue * 48,
            links: rel.links.iter().copied().collect(),
            monitors: rel.monitors.values().copied().collect(),
            monitored_by: rel.monitored_by.values().copied().collect(),
            registered_name: rel.name.as_ref().map(|n| n.to_string()),
            trap_exit: p.trap_exit.load(Ordering::Relaxed),
            scheduler: p.last_scheduler.load(Ordering::Relaxed) as usize,
            priority: crate::Priority::from_u8(p.priority.load(Ordering::Relaxed)),
        })
    }
}

fn status(p: &Process) -> Option<ProcessStatus> {
    Some(match p.state.load() {
        RUNNING | NOTIFIED => ProcessStatus::Running,
        SCHEDULED => ProcessStatus::Runnable,
        WAITING if p.hibernated.load(Ordering::Relaxed) => ProcessStatus::Hibernated,
        WAITING => ProcessStatus::Waiting,
        EXITING => ProcessStatus::Exiting,
        _ => return None,
    })
}

/// Every live process of the caller's runtime.
///
/// # Panics
///
/// Outside a process (use [`Runtime::processes`](crate::Runtime::processes)).
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| assert!(beamlet_runtime::processes().contains(&beamlet_runtime::self_pid()))).unwrap();
/// rt.shutdown();
/// ```
pub fn processes() -> Vec<Pid> {
    with_context(|cx| cx.shared.processes()).expect("beamlet: processes() outside a process")
}

/// A snapshot of `pid`, or `None` if it is not alive. Reads published state; the
/// process is not interrupted.
///
/// ```
/// use beamlet_runtime::{process_info, register, self_pid, ProcessStatus};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     register("info_demo", self_pid()).unwrap();
///     let info = process_info(self_pid()).unwrap();
///     assert_eq!(info.status, ProcessStatus::Running);
///     assert_eq!(info.registered_name.as_deref(), Some("info_demo"));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn process_info(pid: Pid) -> Option<ProcessInfo> {
    if let Some(r) =
        with_context(|cx| (cx.shared.id == pid.runtime).then(|| cx.shared.process_info(pid)))
            .flatten()
    {
        return r;
    }
    crate::registry::lookup(pid.runtime).and_then(|s| s.process_info(pid))
}
