//! Signals: exits, links, monitors — delivered through the mailbox, in send order.
//!
//! # Protocol
//!
//! Every signal travels through the receiver's inbound mailbox, like a message, so
//! signals and messages from one process to another keep their send order. A signal
//! is acted on when the receiver takes in its inbound ([`intake`]: at every `receive`,
//! and every time the process is resumed), never by the sender:
//!
//! 1. `Link { from }`: add `from` to the links. `Unlink { from }`: remove it.
//! 2. `Exit { from, reason, link }`: for a link exit, ignored unless `from` is still
//!    linked (so after `unlink` returns no exit from that link arrives). Then: an
//!    `exit_pid(.., Kill)` kills untrappably (reason `Killed`); a trapping process
//!    gets an [`Exit`] message; `Normal` is ignored (unless sent by the
//!    process to itself); any other reason ends the process with that reason.
//! 3. `Monitor { from, monitor }`: record the watcher. `Demonitor { monitor }`: forget.
//! 4. `Down { .. }`: becomes a [`Down`] message only if the monitor is
//!    still active, and deactivates it — so each monitor yields at most one `Down`,
//!    and none after `demonitor` returns.
//! 5. `Alias { alias, message }`: the message is queued only if the alias is still
//!    active (as OTP 24's process aliases), so a reply that arrives after its caller
//!    gave up is dropped rather than left in the mailbox.
//! 6. `MailboxOverflow`: sent by the first send that found the mailbox full under a
//!    `Kill` limit; ends the process untrappably with that reason (as the BEAM's
//!    `max_heap_size` kill).
//!
//! After an intake the process publishes its mailbox length, and a `DropOldest` limit
//! discards the oldest ordinary messages beyond `max` (see [`crate::mailbox::limit`]).
//!
//! When a process exits, the scheduler ([`on_exit`]): closes the mailbox (later
//! sends fail at the sender), answers the link and monitor requests found in it with
//! `noproc`, sends an exit signal to every link with its exit reason (a process
//! killed from outside exits with `Killed`; one that called `exit(Kill)` itself
//! spreads `Kill`, which a trapping link receives as a message and which kills a
//! non-trapping one with `Kill`, as on the BEAM)
//! and a `Down` to every watcher, and removes the monitors it held. A request that
//! finds the mailbox already closed is answered by the requester itself.

use std::sync::atomic::Ordering;

use super::core::Core;
use super::shared::Shared;
use crate::exit::{Down, Exit, ExitReason};
use crate::mailbox::limit::OverflowPolicy;
use crate::mailbox::node::{Kind, Node};
use crate::pid::{MonitorRef, Pid, Ref};
use crate::process::small_map::SmallMap;
use crate::process::{FLAG_KILL, Held, Process};

/// A runtime signal (see the module protocol).
#[derive(Debug)]
pub(crate) enum Signal {
    Exit {
        from: Pid,
        reason: ExitReason,
        link: bool,
    },
    Link {
        from: Pid,
    },
    Unlink {
        from: Pid,
    },
    Monitor {
        from: Pid,
        monitor: MonitorRef,
    },
    Demonitor {
        monitor: MonitorRef,
    },
    Down {
        monitor: MonitorRef,
        pid: Pid,
        reason: ExitReason,
    },
    /// A message sent to an alias: kept only if the alias is still active.
    Alias {
        alias: Ref,
        message: Node,
    },
    /// A send found the mailbox full under a `Kill` limit: die, untrappably, with
    /// `MailboxOverflow`.
    MailboxOverflow,
}

impl Signal {
    pub(crate) fn into_node(self) -> Node {
        Node::with_kind(self, Kind::Signal)
    }
}

/// Answers a signal that reached a process that no longer exists (`dead`): link and
/// monitor requests get `noproc`, everything else is dropped.
pub(crate) fn bounce(shared: &Shared, core: Option<&mut Core>, dead: Pid, node: Node) {
    if node.header().kind != Kind::Signal {
        return;
    }
    let Ok(sig) = node.downcast::<Signal>() else {
        return;
    };
    let reply = match sig {
        Signal::Link { from } => Some((
            from,
            Signal::Exit {
                from: dead,
                reason: ExitReason::NoProc,
                link: true,
            },
        )),
        Signal::Monitor { from, monitor } => Some((
            from,
            Signal::Down {
                monitor,
                pid: dead,
                reason: ExitReason::NoProc,
            },
        )),
        _ => None,
    };
    if let Some((to, sig)) = reply {
        // A requester that is itself gone needs no answer.
        let _ = shared.deliver(core, to, sig.into_node());
    }
}

/// Moves every arrival into the private queue — messages queued, signals acted on —
/// for a process held by the caller (the process itself, or the scheduler for a
/// hibernated one). Returns the reason to exit with if a signal ends the process;
/// the process is then marked killed (`FLAG_KILL`, `kill_reason`).
pub(crate) fn intake(shared: &Shared, held: &mut Held<'_>) -> Option<ExitReason> {
    let proc = held.process();
    if proc.inbound.is_empty() {
        return None;
    }
    let me = proc.pid(shared.id);
    let mut die: Option<ExitReason> = None;
    let mut drained = 0u64;
    let arrivals = proc.inbound.take_all();
    // Read now, while the swap has just brought the inbound's line here: senders
    // take it back while the loop runs.
    let limit = proc.inbound.limit();
    for node in arrivals {
        if node.is_counted_message() {
            drained += 1;
        }
        if node.header().serial != me.serial {
            let stale = Pid::new(me.runtime, me.index, node.header().serial);
            bounce(shared, None, stale, node);
        } else if node.header().kind == Kind::Message {
            held.owned().queue.push_back(node);
        } else if let Ok(sig) = node.downcast::<Signal>() {
            if let Some(reason) = act(held, me, sig) {
                die.get_or_insert(reason);
            }
        }
    }
    let owned = held.owned();
    owned.drained = owned.drained.wrapping_add(drained);
    if let Some(limit) = limit
        && limit.policy == OverflowPolicy::DropOldest
    {
        let _ = owned.queue.shed_oldest(limit.max);
    }
    proc.publish_mailbox(owned);
    if let Some(reason) = &die {
        owned.kill_reason = Some(reason.clone());
        // AcqRel: as every setter of FLAG_KILL (see `Process::kill_pending`).
        proc.flags.fetch_or(FLAG_KILL, Ordering::AcqRel);
    }
    die
}

/// Acts on one signal; returns the reason to die with, if it is fatal.
fn act(held: &mut Held<'_>, me: Pid, sig: Signal) -> Option<ExitReason> {
    let proc = held.process();
    match sig {
        Signal::Exit { from, reason, link } => on_exit_signal(held, me, from, reason, link),
        Signal::Link { from } => {
            proc.relations().links.insert(from);
            None
        }
        Signal::Unlink { from } => {
            proc.relations().links.remove(&from);
            None
        }
        Signal::Monitor { from, monitor } => {
            proc.relations().monitored_by.insert(monitor, from);
            None
        }
        Signal::Demonitor { monitor } => {
            proc.relations().monitored_by.remove(&monitor);
            None
        }
        Signal::Alias { alias, message } => {
            let owned = held.owned();
            if owned.aliases.contains(&alias) {
                owned.queue.push_back(message);
            }
            None
        }
        Signal::MailboxOverflow => Some(ExitReason::MailboxOverflow),
        Signal::Down {
            monitor,
            pid,
            reason,
        } => {
            let forgotten = proc.relations().forget_monitor(&monitor);
            if let Some(name) = forgotten {
                let down = Down {
                    monitor,
                    pid,
                    name,
                    reason,
                };
                held.owned().queue.push_back(Node::new(down));
            }
            None
        }
    }
}

fn on_exit_signal(
    held: &mut Held<'_>,
    me: Pid,
    from: Pid,
    reason: ExitReason,
    link: bool,
) -> Option<ExitReason> {
    let proc = held.process();
    if link && !proc.relations().links.remove(&from) {
        return None;
    }
    if !link && matches!(reason, ExitReason::Kill) {
        return Some(ExitReason::Killed);
    }
    if proc.trap_exit.load(Ordering::Relaxed) {
        held.owned()
            .queue
            .push_back(Node::new(Exit { from, reason }));
        return None;
    }
    match reason {
        ExitReason::Normal if from != me => None,
        other => Some(other),
    }
}

/// The exit signals an exiting process sends.
struct Observers<'a> {
    me: Pid,
    /// The reason links receive: the exit reason itself.
    link_reason: ExitReason,
    reason: &'a ExitReason,
}

impl Observers<'_> {
    /// Signals links, then watchers, and withdraws the monitors the process held.
    fn signal(
        &self,
        shared: &Shared,
        mut core: Option<&mut Core>,
        links: impl IntoIterator<Item = Pid>,
        watchers: impl IntoIterator<Item = (MonitorRef, Pid)>,
        held: impl IntoIterator<Item = (MonitorRef, Pid)>,
    ) {
        for to in links {
            let sig = Signal::Exit {
                from: self.me,
                reason: self.link_reason.clone(),
                link: true,
            };
            let _ = shared.deliver(core.as_deref_mut(), to, sig.into_node());
        }
        for (monitor, to) in watchers {
            let sig = Signal::Down {
                monitor,
                pid: self.me,
                reason: self.reason.clone(),
            };
            let _ = shared.deliver(core.as_deref_mut(), to, sig.into_node());
        }
        for (monitor, to) in held {
            let sig = Signal::Demonitor { monitor };
            let _ = shared.deliver(core.as_deref_mut(), to, sig.into_node());
        }
    }
}

/// What the exit path found.
pub(crate) struct ExitNotice {
    /// Counted messages taken off the closed inbound (for the mailbox count).
    pub(crate) drained: u64,
}

/// Runs on the scheduler when a process has exited: closes its mailbox, answers
/// pending requests, signals links and watchers, releases its name.
pub(crate) fn on_exit(
    shared: &Shared,
    mut core: Option<&mut Core>,
    proc: &Process,
    me: Pid,
    reason: &ExitReason,
) -> ExitNotice {
    let relations = std::mem::take(&mut *proc.relations());
    if let Some(name) = &relations.name {
        shared.names.release(name, me);
    }
    let mut drained = 0u64;
    for node in proc.inbound.close() {
        if node.is_counted_message() {
            drained += 1;
        }
        bounce(shared, core.as_deref_mut(), me, node);
    }
    let observers = Observers {
        me,
        // Unchanged, `Kill` included: a process that called `exit(Kill)` itself
        // spreads `kill` (an `exit_pid(.., Kill)` from outside already made its
        // reason `Killed`).
        link_reason: reason.clone(),
        reason,
    };
    if shared.is_simulated() {
        // Hash order depends on the values of pids (which carry the runtime number)
        // and references (from a process-wide counter), which differ between runs;
        // sorted order depends only on the replayed schedule, so a seed replays.
        let mut links: Vec<Pid> = relations.links.iter().copied().collect();
        let pairs =
            |m: &SmallMap<MonitorRef, Pid>| m.iter().map(|(&r, &p)| (r, p)).collect::<Vec<_>>();
        let mut watchers = pairs(&relations.monitored_by);
        let mut held = pairs(&relations.monitors);
        links.sort_unstable();
        watchers.sort_unstable();
        held.sort_unstable();
        observers.signal(shared, core, links, watchers, held);
    } else {
        let links = relations.links.iter().copied();
        let watchers = relations.monitored_by.iter().map(|(&m, &p)| (m, p));
        let held = relations.monitors.iter().map(|(&m, &p)| (m, p));
        observers.signal(shared, core, links, watchers, held);
    }
    ExitNotice { drained }
}
