//! Writing reports from process code: the behaviours' reports go to the runtime's
//! [`ReportSink`](crate::ReportSink), and a behaviour marks its process so that the
//! runtime writes a crash report for it (see [`crate::report`]).

use crate::report::{Report, ReportSink};
use crate::scheduler::context::with_runtime;
use crate::scheduler::current::Current;

/// Writes `report` to the calling process's runtime's report sink (to
/// [`ReportSink::Auto`] outside a process). For behaviours and libraries that report
/// as OTP's do (a server terminating, a supervisor's child terminated).
///
/// ```
/// use beamlet::{ExitReason, Report, ReportKind, self_pid, write_report};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     write_report(Report::new(ReportKind::ChildTerminated, self_pid(), ExitReason::Killed));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn write_report(report: Report) {
    if with_runtime(|shared| shared.config.reports.write(&report)).is_none() {
        ReportSink::Auto.write(&report);
    }
}

/// Marks the calling process as started by a behaviour whose initial call is
/// `initial_call` (as proc_lib's `'$initial_call'`): if it then ends abnormally on
/// its own (not killed by a signal from another process), the runtime writes a
/// [`ReportKind::Crash`](crate::ReportKind::Crash) report with its links and
/// mailbox instead of the plain process error report. The behaviours of
/// `beamlet-stdlib` call this in their start.
///
/// # Panics
///
/// Outside a process.
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| beamlet::set_initial_call("my_server:init/1")).unwrap();
/// rt.shutdown();
/// ```
pub fn set_initial_call(initial_call: &'static str) {
    Current::expect("set_initial_call()")
        .held()
        .owned()
        .initial_call = Some(initial_call);
}
