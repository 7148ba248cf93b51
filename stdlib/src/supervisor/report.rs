//! The supervisor's reports (OTP's `supervisor:report_error/4`), written by the
//! supervisor's process before it acts on what it reports:
//!
//! - `child_terminated`: a child exited on its own — for a `permanent` child whatever
//!   the reason, for the others only for an abnormal one (not `normal`, `shutdown`,
//!   `{shutdown, _}`);
//! - `start_error`: a child failed to start (at the supervisor's start, by
//!   `start_child`/`restart_child`, or in a restart);
//! - `shutdown_error`: a child stopped by its supervisor did not exit with
//!   `shutdown` (`killed` after its timeout, or its own reason), or a brutally
//!   killed one not with `killed`;
//! - `shutdown` with `reached_max_restart_intensity`: the supervisor gives up.

use beamlet_runtime::{
    ExitReason, Pid, Report, ReportKind, registered_name, self_pid, write_report,
};

use super::{ChildSpec, Restart, Shutdown};
use crate::behaviour::StartError;

/// The reason of a supervisor's `shutdown` report: it exceeded its restart
/// intensity (OTP's `reached_max_restart_intensity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReachedMaxRestartIntensity;

/// Whether a child's own exit with `reason` is reported (`child_terminated`).
fn reports_exit(restart: Restart, reason: &ExitReason) -> bool {
    restart == Restart::Permanent || !reason.is_orderly()
}

/// Writes the `child_terminated` report of `spec`'s child `pid`, which exited on its
/// own with `reason`, if that exit is reported.
pub(crate) fn child_exited(spec: &ChildSpec, pid: Pid, reason: &ExitReason) {
    if reports_exit(spec.restart, reason) {
        child(ReportKind::ChildTerminated, reason.clone(), spec, Some(pid));
    }
}

/// Whether a child its supervisor stopped exited as it should: `shutdown`, or
/// `killed` when brutally killed; `normal` is fine for a child that is not
/// `permanent` (it had ended on its own), and `noproc` (already gone, its exit
/// reported when it happened).
pub(crate) fn clean_shutdown(spec: &ChildSpec, reason: &ExitReason) -> bool {
    match reason {
        ExitReason::Shutdown | ExitReason::NoProc => true,
        ExitReason::Killed => spec.shutdown == Shutdown::BrutalKill,
        ExitReason::Normal => spec.restart != Restart::Permanent,
        _ => false,
    }
}

/// Writes a report of `kind` about child `spec` (running as `pid`, if it has one)
/// with `reason`, from the supervisor's process.
pub(crate) fn child(kind: ReportKind, reason: ExitReason, spec: &ChildSpec, pid: Option<Pid>) {
    let me = self_pid();
    let name = registered_name(me);
    let child_pid = pid.map_or_else(|| "undefined".to_owned(), |p| p.to_string());
    let supervisor = name
        .as_deref()
        .map_or_else(|| me.to_string(), str::to_owned);
    let report = Report::new(kind, me, reason)
        .name(name)
        .field("supervisor", supervisor)
        .field("child_id", &spec.id)
        .field("child_pid", child_pid)
        .field("restart_type", format_args!("{:?}", spec.restart))
        .field("shutdown", format_args!("{:?}", spec.shutdown))
        .field("child_type", format_args!("{:?}", spec.kind));
    write_report(report);
}

/// The reason a `start_error` report gives for `error`.
pub(crate) fn start_reason(error: &StartError) -> ExitReason {
    match error {
        StartError::Stop(reason) => reason.clone(),
        other => ExitReason::custom(other.to_string()),
    }
}

/// Writes the `start_error` report of `spec`.
pub(crate) fn start_error(spec: &ChildSpec, error: &StartError) {
    child(ReportKind::StartError, start_reason(error), spec, None);
}

/// Writes the `shutdown_error` report of `spec` stopped as `pid` with `reason`,
/// unless that was a clean shutdown.
pub(crate) fn after_shutdown(spec: &ChildSpec, pid: Pid, reason: ExitReason) {
    if !clean_shutdown(spec, &reason) {
        child(ReportKind::ShutdownError, reason, spec, Some(pid));
    }
}

/// Writes the supervisor's `shutdown` report: `spec`'s exit was one restart too many.
pub(crate) fn gave_up(spec: &ChildSpec, pid: Option<Pid>) {
    let reason = ExitReason::custom(ReachedMaxRestartIntensity);
    child(ReportKind::SupervisorShutdown, reason, spec, pid);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_children_are_reported_for_any_exit_others_for_abnormal_ones() {
        let crash = ExitReason::custom("bad");
        assert!(reports_exit(Restart::Permanent, &ExitReason::Normal));
        assert!(reports_exit(Restart::Permanent, &ExitReason::Shutdown));
        assert!(!reports_exit(Restart::Transient, &ExitReason::Normal));
        assert!(!reports_exit(
            Restart::Temporary,
            &ExitReason::shutdown_with(1)
        ));
        assert!(reports_exit(Restart::Transient, &crash));
        assert!(reports_exit(Restart::Temporary, &ExitReason::Killed));
    }
}
