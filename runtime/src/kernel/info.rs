//! Introspection on the kernel side: the snapshot types of `process_info` and how
//! they are read from published state, without interrupting the process (its owned
//! fields are never read; only atomics and its relations' lock).

use std::panic::Location;
use std::sync::atomic::Ordering;

use super::shared::Shared;
use crate::mailbox::limit::MailboxLimit;
use crate::pid::Pid;
use crate::priority::Priority;
use crate::process::record::Relations;
use crate::process::state::{EXITING, FREE, NOTIFIED, RUNNING, SCHEDULED, WAITING};
use crate::process::{FLAG_DIRTY, Process};

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
    /// Waiting for a job it gave a dirty scheduler
    /// ([`dirty_cpu`](crate::dirty_cpu), [`dirty_io`](crate::dirty_io)) to finish.
    Dirty,
}

impl ProcessStatus {
    /// The status as one lower-case word (`"running"`, `"runnable"`, `"waiting"`,
    /// `"hibernated"`, `"dirty"`), as observers and logs print it.
    ///
    /// ```
    /// assert_eq!(beamlet::ProcessStatus::Waiting.as_str(), "waiting");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessStatus::Running => "running",
            ProcessStatus::Runnable => "runnable",
            ProcessStatus::Waiting => "waiting",
            ProcessStatus::Hibernated => "hibernated",
            ProcessStatus::Dirty => "dirty",
        }
    }
}

/// The behaviour a process runs, as it announced it with
/// [`set_behaviour`](crate::set_behaviour) (OTP keeps the same in `proc_lib`'s
/// `'$initial_call'`): every behaviour of `beamlet::otp` announces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Behaviour {
    /// The kind of behaviour: `"gen_server"`, `"supervisor"`, `"gen_statem"`...
    pub kind: &'static str,
    /// The callback module: the type implementing the behaviour's trait, as
    /// `std::any::type_name` names it.
    pub module: &'static str,
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
    pub mailbox_limit: Option<MailboxLimit>,
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
    pub priority: Priority,
    /// Where it was spawned: the file, line and column of the `spawn` call (every
    /// spawn function is `#[track_caller]`), as `initial_call` names the function on
    /// the BEAM. A process started through a wrapper that is not `#[track_caller]`
    /// shows the wrapper's call. `None` only for a process spawned by the runtime
    /// itself.
    pub spawned_at: Option<&'static Location<'static>>,
    /// The label it gave itself with [`set_label`](crate::set_label) (as OTP 27's
    /// `proc_lib:set_label/1`).
    pub label: Option<String>,
    /// The process that spawned it, if a process of this runtime did (as
    /// `process_info(Pid, parent)`); it may have exited since.
    pub parent: Option<Pid>,
    /// The behaviour it runs, if it announced one.
    pub behaviour: Option<Behaviour>,
}

/// A light snapshot of one process: what a process table shows (see
/// [`for_each_process`](crate::for_each_process)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessSummary {
    /// The process.
    pub pid: Pid,
    /// What it is doing.
    pub status: ProcessStatus,
    /// Reductions spent, as of its last switch.
    pub reductions: u64,
    /// Messages in its mailbox (as [`ProcessInfo::message_queue_len`]).
    pub message_queue_len: usize,
    /// Estimated bytes it holds (as [`ProcessInfo::memory`]).
    pub memory: usize,
    /// Its registered name.
    pub registered_name: Option<String>,
    /// Its label.
    pub label: Option<String>,
    /// The behaviour it runs, if it announced one.
    pub behaviour: Option<Behaviour>,
    /// The process that spawned it.
    pub parent: Option<Pid>,
    /// Where it was spawned.
    pub spawned_at: Option<&'static Location<'static>>,
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

    /// Live processes (as `Runtime::process_count`).
    pub(crate) fn process_count(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// Sets the label of `p`, the calling process.
    pub(crate) fn set_label(p: &Process, label: String) {
        p.relations().rare().label = Some(label.into_boxed_str());
    }

    /// Records the behaviour of `p`, the calling process.
    pub(crate) fn set_behaviour(p: &Process, b: Behaviour) {
        p.relations().rare().behaviour = Some((b.kind, b.module));
    }

    /// The summary of the process in slot `index`, if one lives there: its
    /// relations' lock is held for the copy of its name, label and behaviour.
    pub(crate) fn summary(&self, index: u32) -> Option<ProcessSummary> {
        let p = self.table.get(index)?;
        let rel = p.relations();
        let pid = p.pid(self.id);
        let status = status(p)?;
        let queue = p.mailbox_len();
        Some(ProcessSummary {
            pid,
            status,
            reductions: p.reductions.load(Ordering::Relaxed),
            message_queue_len: queue,
            memory: memory(stack_used(p), queue),
            registered_name: rel.name.as_ref().map(|n| n.to_string()),
            label: rel.label().map(str::to_owned),
            behaviour: behaviour(&rel),
            parent: p.parent(self.id),
            spawned_at: p.spawn_site(),
        })
    }

    /// Slots in the process table (live or free): the bound of `summary`'s index.
    pub(crate) fn table_len(&self) -> u32 {
        self.table.len()
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
        // Acquire pairs with the Release serial bump at exit: a stale pid has no info.
        if p.serial.load(Ordering::Acquire) != pid.serial {
            return None;
        }
        let status = status(p)?;
        let holds_stack = !p.hibernated.load(Ordering::Relaxed);
        let stack_used = stack_used(p);
        let queue = p.mailbox_len();
        Some(ProcessInfo {
            pid,
            status,
            message_queue_len: queue,
            mailbox_limit: p.inbound.limit(),
            reductions: p.reductions.load(Ordering::Relaxed),
            stack_used,
            stack_reserved: if holds_stack {
                self.stacks.usable(p.stack_class.load(Ordering::Relaxed))
            } else {
                0
            },
            memory: memory(stack_used, queue),
            links: rel.links.iter().copied().collect(),
            monitors: rel.monitors.values().copied().collect(),
            monitored_by: rel.monitored_by.values().copied().collect(),
            registered_name: rel.name.as_ref().map(|n| n.to_string()),
            trap_exit: p.trap_exit.load(Ordering::Relaxed),
            scheduler: p.last_scheduler.load(Ordering::Relaxed) as usize,
            priority: Priority::from_u8(p.priority.load(Ordering::Relaxed)),
            spawned_at: p.spawn_site(),
            label: rel.label().map(str::to_owned),
            parent: p.parent(self.id),
            behaviour: behaviour(&rel),
        })
    }
}

/// Bytes of stack `p` used at its last switch (0 if it holds no stack).
fn stack_used(p: &Process) -> usize {
    if p.hibernated.load(Ordering::Relaxed) {
        0
    } else {
        p.stack_used.load(Ordering::Relaxed) as usize
    }
}

/// The estimate of [`ProcessInfo::memory`]: the record, touched stack pages, and the
/// envelopes of queued messages.
fn memory(stack_used: usize, queue: usize) -> usize {
    let page = crate::stack::page_size();
    std::mem::size_of::<Process>() + stack_used.div_ceil(page) * page + queue * 48
}

fn behaviour(rel: &Relations) -> Option<Behaviour> {
    let (kind, module) = rel.rare.as_ref()?.behaviour?;
    Some(Behaviour { kind, module })
}

fn status(p: &Process) -> Option<ProcessStatus> {
    let dirty = p.flags.load(Ordering::Relaxed) & FLAG_DIRTY != 0;
    Some(match p.state.load() {
        RUNNING | NOTIFIED | WAITING if dirty => ProcessStatus::Dirty,
        RUNNING | NOTIFIED => ProcessStatus::Running,
        SCHEDULED => ProcessStatus::Runnable,
        WAITING if p.hibernated.load(Ordering::Relaxed) => ProcessStatus::Hibernated,
        WAITING => ProcessStatus::Waiting,
        // Exiting (no longer alive, as `is_alive` and `processes` say) or free: no
        // info, as `process_info/1` of a dead pid is `undefined`.
        _ => return None,
    })
}
