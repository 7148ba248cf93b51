//! Stopping children (OTP's `supervisor:shutdown/2`), one at a time or all at once.
//!
//! One child ([`shutdown_child`]):
//! 1. Monitor it, so that its exit is seen even if it is already dead (`NoProc`).
//! 2. `BrutalKill`: send `Kill`. Otherwise send `Shutdown` and wait for the `Down`
//!    up to the timeout (`Infinity`: for ever); on expiry send `Kill`.
//! 3. Wait for the `Down`, then remove the `Exit` the link left (the supervisor
//!    traps exits), so that the termination is not mistaken for a crash.
//!
//! All at once ([`shutdown_all`], for dynamic supervisors with many children):
//! 1. Monitor and signal every child first.
//! 2. Collect `Down`s (and the links' `Exit`s) as they come, killing the children
//!    whose timeout expired, earliest deadline first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use beamlet_runtime::{
    Down, Exit, ExitReason, MailboxMark, Message, MonitorRef, Pid, exit_pid, mailbox_mark, monitor,
    receive_select,
};

use super::Shutdown;
use crate::behaviour::{flush_exit, wait_down, wait_down_for};

/// Stops one child; returns its exit reason.
pub(crate) fn shutdown_child(pid: Pid, how: Shutdown) -> ExitReason {
    let mark = mailbox_mark();
    let mref = monitor(pid);
    let reason = match how {
        Shutdown::BrutalKill => {
            exit_pid(pid, ExitReason::Kill);
            wait_down(mark, mref)
        }
        Shutdown::Timeout(t) => {
            exit_pid(pid, ExitReason::Shutdown);
            wait_down_for(mark, mref, Some(t)).unwrap_or_else(|| {
                exit_pid(pid, ExitReason::Kill);
                wait_down(mark, mref)
            })
        }
        Shutdown::Infinity => {
            exit_pid(pid, ExitReason::Shutdown);
            wait_down(mark, mref)
        }
    };
    // The child may have died before the mark, so look everywhere.
    flush_exit(None, pid);
    reason
}

/// Stops many children at once; returns when all have exited.
pub(crate) fn shutdown_all(children: &[(Pid, Shutdown)]) {
    let mark = mailbox_mark();
    let now = beamlet_runtime::now();
    let mut pending: HashMap<MonitorRef, Pid> = HashMap::with_capacity(children.len());
    let mut deadlines: BTreeMap<Instant, Vec<MonitorRef>> = BTreeMap::new();
    for &(pid, how) in children {
        let mref = monitor(pid);
        pending.insert(mref, pid);
        match how {
            Shutdown::BrutalKill => exit_pid(pid, ExitReason::Kill),
            Shutdown::Infinity => exit_pid(pid, ExitReason::Shutdown),
            Shutdown::Timeout(t) => {
                exit_pid(pid, ExitReason::Shutdown);
                // A timeout past the end of time is `Infinity`.
                if let Some(deadline) = now.checked_add(t) {
                    deadlines.entry(deadline).or_default().push(mref);
                }
            }
        }
    }
    let pids: HashSet<Pid> = pending.values().copied().collect();
    while !pending.is_empty() {
        let next = deadlines.first_key_value().map(|(&d, _)| d);
        match take_down(mark, &pending, &pids, next) {
            Some(mref) => {
                pending.remove(&mref);
            }
            None => kill_overdue(&mut deadlines, &pending),
        }
    }
}

/// Takes the next `Down` of a pending monitor, or `None` at `deadline`. The
/// children's `Exit`s are taken on the way, so that they do not pile up after the
/// mark and make every later scan longer.
fn take_down(
    mark: MailboxMark,
    pending: &HashMap<MonitorRef, Pid>,
    pids: &HashSet<Pid>,
    deadline: Option<Instant>,
) -> Option<MonitorRef> {
    let pred = |m: &Message| {
        m.downcast_ref::<Down>()
            .is_some_and(|d| pending.contains_key(&d.monitor))
            || m.downcast_ref::<Exit>()
                .is_some_and(|e| pids.contains(&e.from))
    };
    loop {
        let wait = deadline.map(|d| d.saturating_duration_since(beamlet_runtime::now()));
        let msg = receive_select(Some(mark), pred, wait)?;
        if let Ok(down) = msg.downcast::<Down>() {
            return Some(down.monitor);
        }
    }
}

/// Kills the children whose deadline has passed and that have not exited.
fn kill_overdue(
    deadlines: &mut BTreeMap<Instant, Vec<MonitorRef>>,
    pending: &HashMap<MonitorRef, Pid>,
) {
    let now = beamlet_runtime::now();
    while let Some(entry) = deadlines.first_entry() {
        if *entry.key() > now {
            break;
        }
        for mref in entry.remove() {
            if let Some(&pid) = pending.get(&mref) {
                exit_pid(pid, ExitReason::Kill);
            }
        }
    }
}
