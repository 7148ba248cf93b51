//! Delivering a message or signal to a process, and making a woken process runnable.
//!
//! # Protocol of a delivery ([`Shared::deliver_admitted`])
//!
//! 1. **Route.** A pid of another runtime is handed to that runtime (looked up in
//!    the list of runtimes), a pid of another node to its connection process
//!    (`super::remote`); this is the one place a foreign pid is routed, so every
//!    sender — a process, a timer, the reactor, a plain thread — comes through here.
//! 2. **Check.** A slot whose serial is not the pid's (the process exited) or that is
//!    free refuses with `NoProc`. The node is stamped with the serial: a send that
//!    races with the exit and lands anyway is dropped by the slot's next occupant.
//! 3. **Admit.** An ordinary message meets the receiver's mailbox limit (see
//!    `mailbox::limit`); signals and runtime-made messages are always admitted.
//! 4. **Push** onto the receiver's inbound (one CAS). A closed inbound (the process
//!    is exiting) gives the node back: `NoProc`.
//! 5. **Wake** ([`Shared::wake`]): `RunState::notify`; if the process was waiting,
//!    the caller now owns it and queues it ([`Shared::schedule`]) — in the waker's
//!    next slot when the waker is a process of this core (a message from the running
//!    process: ping-pong pairs run back to back), else at the back of a run queue or
//!    on the injector.

use std::sync::atomic::Ordering;

use super::core::Core;
pub(crate) use super::refused::Refused;
use super::remote;
use super::runtimes;
use super::shared::Shared;
use super::signals::Signal;
use crate::io::reactor::Wake;
use crate::mailbox::limit::{self, Admission, Admit};
use crate::mailbox::node::{Kind, Node};
use crate::pid::Pid;
use crate::process::state::{EXITING, FREE, Notify};
use crate::process::{FLAG_KILL, FLAG_OVERFLOW, ProcPtr};

/// Where a woken process goes on the waker's core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The next slot (a message from the running process).
    Next,
    /// The back of the run queue (timers, yields).
    Back,
}

/// Delivers `node` to `pid` from a thread that is not one of `pid`'s runtime's
/// schedulers (or holds no core), subject to `admission`: routes through the list
/// of runtimes.
pub(crate) fn deliver_anywhere(pid: Pid, node: Node, admission: Admission) -> Result<(), Refused> {
    if !pid.is_local() {
        return remote::deliver_remote_anywhere(pid, node);
    }
    match runtimes::lookup(pid.runtime) {
        Some(shared) => shared.deliver_admitted(None, pid, node, admission),
        None => Err(Refused::NoProc(node)),
    }
}

impl Shared {
    /// Delivers `node` to `pid` and wakes it, past any mailbox limit (signals and
    /// runtime-made messages). Gives the node back if `pid` is dead.
    pub(crate) fn deliver(
        &self,
        core: Option<&mut Core>,
        pid: Pid,
        node: Node,
    ) -> Result<(), Node> {
        self.deliver_admitted(core, pid, node, Admission::Always)
            .map_err(Refused::into_node)
    }

    /// Delivers `node` to `pid` subject to its mailbox limit (and `admission`'s
    /// bound): steps 1–5 of the module protocol. Refusing a `Kill`-limited send
    /// kills the process.
    pub(crate) fn deliver_admitted(
        &self,
        mut core: Option<&mut Core>,
        pid: Pid,
        mut node: Node,
        admission: Admission,
    ) -> Result<(), Refused> {
        if pid.runtime != self.id {
            if !pid.is_local() {
                // Another node's pid: its connection process carries it.
                return self.deliver_remote(core, pid, node);
            }
            // Another runtime's pid: its own runtime delivers it, never this one.
            return deliver_anywhere(pid, node, admission);
        }
        let Some(p) = self.table.get(pid.index) else {
            return Err(Refused::NoProc(node));
        };
        // Acquire pairs with the Release serial bump at exit: a stale pid is refused.
        // A send racing with the exit may still land; the next occupant of the slot
        // drops it because the node carries the old serial.
        if p.serial.load(Ordering::Acquire) != pid.serial || p.state.load() == FREE {
            return Err(Refused::NoProc(node));
        }
        node.set_serial(pid.serial);
        if node.header().kind == Kind::Message {
            if admission != Admission::Always {
                node.set_sheddable();
            }
            match limit::admit(&p.inbound, &p.meter, &mut node, admission) {
                Admit::Accept => {}
                Admit::Refuse => return Err(Refused::MailboxFull(node)),
                Admit::RefuseAndKill => {
                    // The first sender to see the overflow sends the kill. AcqRel: the
                    // flag is a one-shot claim among concurrent senders.
                    if p.flags.fetch_or(FLAG_OVERFLOW, Ordering::AcqRel) & FLAG_OVERFLOW == 0 {
                        let kill = Signal::MailboxOverflow.into_node();
                        let _ = self.deliver(core.as_deref_mut(), pid, kill);
                    }
                    return Err(Refused::MailboxFull(node));
                }
            }
        }
        if let Err(node) = p.inbound.push(node) {
            if node.is_counted_message() {
                limit::uncount(&p.inbound);
            }
            return Err(Refused::NoProc(node));
        }
        self.wake(core, ProcPtr::new(p), Placement::Next);
        Ok(())
    }

    /// Notifies a process and, if it was waiting, makes it runnable.
    pub(crate) fn wake(&self, core: Option<&mut Core>, p: ProcPtr, placement: Placement) {
        if p.get().state.notify() == Notify::Schedule {
            self.schedule(core, p, placement);
        }
    }

    /// Puts a process that this thread now owns (Scheduled) into a run queue.
    pub(crate) fn schedule(&self, core: Option<&mut Core>, p: ProcPtr, placement: Placement) {
        match core {
            Some(c) => match placement {
                Placement::Next => {
                    if let Some(prev) = c.next.replace(p) {
                        c.run_queue.push(prev);
                        self.idle.notify_one();
                    }
                }
                Placement::Back => {
                    c.run_queue.push(p);
                    self.idle.notify_one();
                }
            },
            None => {
                self.injector.push(p);
                self.idle.notify_one();
            }
        }
    }

    /// Marks every live process killed and wakes it, from outside the schedulers
    /// (shutdown): each dies at its next runtime call, or at once if it waits.
    pub(crate) fn kill_all(&self) {
        for p in self.table.iter() {
            let s = p.state.load();
            if s != FREE && s != EXITING {
                // AcqRel: as every setter of FLAG_KILL (see `Process::kill_pending`).
                p.flags.fetch_or(FLAG_KILL, Ordering::AcqRel);
                self.wake(None, ProcPtr::new(p), Placement::Back);
            }
        }
    }

    /// `true` if `pid` names a live process of this runtime.
    pub(crate) fn is_alive(&self, pid: Pid) -> bool {
        pid.runtime == self.id && self.table.get(pid.index).is_some_and(|p| p.is_live(pid))
    }
}

/// The reactor thread reaches its runtime only through this (see `io::reactor`).
impl Wake for Shared {
    fn wake_process(&self, process: ProcPtr) {
        // From outside any scheduler: to the injector.
        self.wake(None, process, Placement::Back);
    }

    fn deliver_node(&self, to: Pid, node: Node) -> Result<(), Node> {
        self.deliver(None, to, node)
    }
}
