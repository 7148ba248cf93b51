//! The "terminating" report a behaviour writes before it exits with an abnormal
//! reason (OTP's `gen_server:error_info/8` and `gen_statem`'s), and what it knows of
//! the last message it took.
//!
//! The report goes to the runtime's report sink ([`beamlet_runtime::write_report`])
//! from the server's own process, before `exit`: so a caller waiting for it, or its
//! supervisor, learns of the exit only after the report is written.

use std::fmt;

use beamlet_runtime::{
    ExitReason, Pid, Report, ReportKind, is_alive, registered_name, self_pid, write_report,
};

/// The last message a behaviour took, as its terminating report names it: kinds
/// and types only (messages need not be `Debug`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) enum LastIn {
    /// Nothing yet (a crash in `init` or a first `continue`).
    #[default]
    None,
    /// A call of type `.0` from `.1`.
    Call(&'static str, Pid),
    /// A cast of type `.0`.
    Cast(&'static str),
    /// A message of type `.0`, for `handle_info` (or an event of a state machine).
    Info(&'static str),
    /// A timeout the behaviour set.
    Timeout,
    /// Another event of a state machine, by kind (`internal`, `state_timeout`...).
    Event(&'static str),
    /// A system message (`sys`).
    System,
}

impl LastIn {
    /// The client of the last message, if it was a call.
    pub(crate) fn client(self) -> Option<Pid> {
        match self {
            LastIn::Call(_, from) => Some(from),
            _ => None,
        }
    }
}

impl fmt::Display for LastIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LastIn::None => f.write_str("none"),
            LastIn::Call(ty, from) => write!(f, "call {ty} from {from}"),
            LastIn::Cast(ty) => write!(f, "cast {ty}"),
            LastIn::Info(ty) => write!(f, "info {ty}"),
            LastIn::Timeout => f.write_str("timeout"),
            LastIn::Event(kind) => f.write_str(kind),
            LastIn::System => f.write_str("system message"),
        }
    }
}

/// Writes the terminating report of the calling behaviour process, if `reason` is
/// abnormal (not `normal`, `shutdown` or `{shutdown, _}`); `state` is called only
/// then.
pub(crate) fn terminating(
    kind: ReportKind,
    reason: &ExitReason,
    last: LastIn,
    state: impl FnOnce() -> String,
) {
    if reason.is_orderly() {
        return;
    }
    let me = self_pid();
    let name = registered_name(me);
    let mut report = Report::new(kind, me, reason.clone())
        .name(name)
        .field("last_message", last)
        .field("state", state());
    if let Some(client) = last.client() {
        let alive = if is_alive(client) { "alive" } else { "dead" };
        report = report.field("client", format_args!("{client} ({alive})"));
    }
    write_report(report);
}
