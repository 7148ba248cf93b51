//! The report a process's own exit gets, decided and built while it retires (see
//! [`crate::report`] for the rules), before its links and monitors are told.
//!
//! 1. A process killed from outside (by an exit signal, or by the runtime's
//!    shutdown: its kill flag is set) gets none: nothing in it saw an exception,
//!    as on the BEAM. A stack overflow caught by the red-zone check is raised as a
//!    kill but is the process's own: it is reported.
//! 2. A process started by a behaviour (an initial call is set) gets a crash report
//!    for any reason but `normal`, `shutdown` and `{shutdown, _}`.
//! 3. A plain process gets the error report for a panic or a stack overflow only
//!    (an `exit` with a reason of its own is not an error).

use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::{Owned, Process};
use crate::report::{Report, ReportKind};

/// The report for `proc`'s exit with `reason`, if it gets one. Reads its owned
/// fields, so it runs before retiring clears them.
pub(crate) fn for_exit(
    proc: &Process,
    owned: &Owned,
    pid: Pid,
    reason: &ExitReason,
) -> Option<Report> {
    // A stack overflow caught at a runtime call is raised as a kill, but it is the
    // process's own failure: it is reported like a panic.
    if proc.kill_pending() && !matches!(reason, ExitReason::StackOverflow) {
        return None;
    }
    match owned.initial_call {
        Some(call) if !reason.is_orderly() => Some(crash_report(proc, owned, pid, reason, call)),
        Some(_) => None,
        None if matches!(reason, ExitReason::Panic(_) | ExitReason::StackOverflow) => {
            let (name, label) = {
                let rel = proc.relations();
                (rel.name.clone(), rel.label().map(Box::from))
            };
            let report = Report::new(ReportKind::ProcessError, pid, reason.clone()).name(name);
            Some(origin(report, proc, label))
        }
        None => None,
    }
}

fn crash_report(
    proc: &Process,
    owned: &Owned,
    pid: Pid,
    reason: &ExitReason,
    initial_call: &'static str,
) -> Report {
    let (name, label, links) = {
        let rel = proc.relations();
        let mut links: Vec<Pid> = rel.links.iter().copied().collect();
        links.sort_unstable();
        (rel.name.clone(), rel.label().map(Box::from), links)
    };
    let links = links
        .iter()
        .map(Pid::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let report = Report::new(ReportKind::Crash, pid, reason.clone())
        .name(name)
        .field("initial_call", initial_call)
        .field("links", format_args!("[{links}]"))
        .field("message_queue_len", owned.queue.len())
        .field(
            "trap_exit",
            proc.trap_exit.load(std::sync::atomic::Ordering::Relaxed),
        );
    origin(report, proc, label)
}

/// Adds where the process came from: its label (if it set one) and its spawn site.
/// Cheap enough for every report: a clone of a short string and a formatted
/// location, at a crash only.
fn origin(report: Report, proc: &Process, label: Option<Box<str>>) -> Report {
    let report = match label {
        Some(l) => report.field("label", l),
        None => report,
    };
    match proc.spawn_site() {
        Some(site) => report.field("spawned_at", site),
        None => report,
    }
}
