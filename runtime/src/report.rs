//! Crash reports, through the `log` facade.
//!
//! `log` rather than `tracing`: it is the smaller dependency, every logging backend
//! (including `tracing` via `tracing-log`) consumes it, and a crash report is a single
//! event with no span structure to carry.

use crate::exit::ExitReason;
use crate::pid::Pid;

/// Reports a process exit: abnormal exits are logged at `error` level under the
/// `beamlet::crash` target, like the BEAM's crash reports.
pub(crate) fn exit(pid: Pid, reason: &ExitReason) {
    if reason.is_orderly() || reason.is_killed() {
        return;
    }
    match reason {
        ExitReason::Panic(p) => log::error!(
            target: "beamlet::crash",
            "process {pid} crashed: panic {:?} at {}",
            p.message(),
            p.location().unwrap_or("<unknown>")
        ),
        other => log::error!(target: "beamlet::crash", "process {pid} exited: {other}"),
    }
}
