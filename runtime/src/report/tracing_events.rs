//! Reports as `tracing` events (feature `tracing`): one `error` event of target
//! [`TARGET`](super::TARGET) per report, its fields structured (`kind`, `pid`,
//! `name`, `reason`, and the kind's own: `child_id`, `last_message`...), so that a
//! `tracing-subscriber` layer, OpenTelemetry or tokio-console sees them as data.
//!
//! A `tracing` event's field names are fixed where it is written, so every field a
//! report kind has is named here; a field a future kind adds that is not listed
//! travels in `other` (`key=value; ...`) rather than being lost.

use super::Report;

/// The field names of every report kind (each appears once, as `Option<&str>`:
/// `tracing` records an absent field as nothing at all).
const KNOWN: [&str; 14] = [
    "last_message",
    "state",
    "client",
    "initial_call",
    "links",
    "message_queue_len",
    "trap_exit",
    "supervisor",
    "child_id",
    "child_pid",
    "restart_type",
    "shutdown",
    "child_type",
    "handler",
];

/// Whether a `tracing` subscriber wants reports (for [`ReportSink::Auto`](super::ReportSink::Auto)).
pub(super) fn enabled() -> bool {
    tracing::enabled!(target: "beamlet::crash", tracing::Level::ERROR)
}

/// Writes `report` as one event.
pub(super) fn write(report: &Report) {
    let get = |k: &str| report.get(k);
    let other = others(report);
    tracing::error!(
        target: "beamlet::crash",
        kind = report.kind.as_str(),
        pid = %report.pid,
        name = report.name.as_deref(),
        reason = %report.reason,
        last_message = get("last_message"),
        state = get("state"),
        client = get("client"),
        initial_call = get("initial_call"),
        links = get("links"),
        message_queue_len = get("message_queue_len"),
        trap_exit = get("trap_exit"),
        supervisor = get("supervisor"),
        child_id = get("child_id"),
        child_pid = get("child_pid"),
        restart_type = get("restart_type"),
        shutdown = get("shutdown"),
        child_type = get("child_type"),
        handler = get("handler"),
        other = other.as_deref(),
        "{report}"
    );
}

/// The fields not in [`KNOWN`], as `key=value; ...`, if any.
fn others(report: &Report) -> Option<String> {
    let rest: Vec<String> = report
        .fields
        .iter()
        .filter(|(k, _)| !KNOWN.contains(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    (!rest.is_empty()).then(|| rest.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitReason;
    use crate::pid::Pid;
    use crate::report::ReportKind;

    #[test]
    fn unknown_fields_travel_in_other() {
        let r = Report::new(ReportKind::Crash, Pid::NO_PROCESS, ExitReason::Killed)
            .field("child_id", "w")
            .field("novel", 1)
            .field("newer", "x");
        assert_eq!(others(&r).as_deref(), Some("novel=1; newer=x"));
    }
}
