//! Crash and supervisor reports: what the runtime and the OTP behaviours write when a
//! process crashes, a server terminates abnormally or a supervisor acts, and where it
//! goes ([`ReportSink`]).
//!
//! # Which reports, when (as OTP 25)
//!
//! 1. [`ReportKind::ProcessError`], the emulator's "Error in process ... with exit
//!    value": a plain process (not started by a behaviour) ended by a panic or a
//!    stack overflow — the analogue of an `error`/`throw` exception. Not for an
//!    [`exit`](crate::exit) with any reason, not for a kill from outside.
//! 2. [`ReportKind::Crash`], proc_lib's crash report: a process started by a
//!    behaviour (it called [`set_initial_call`](crate::set_initial_call)) ended
//!    abnormally on its own — any reason but `normal`, `shutdown`, `{shutdown, _}`,
//!    and not by an exit signal from another process. It names the initial call,
//!    the links, the message queue length and whether it trapped exits.
//! 3. The behaviours' own reports, written by the behaviour before its process exits:
//!    [`ServerTerminating`](ReportKind::ServerTerminating),
//!    [`StateMachineTerminating`](ReportKind::StateMachineTerminating),
//!    [`HandlerCrashed`](ReportKind::HandlerCrashed), and the supervisor's
//!    [`ChildTerminated`](ReportKind::ChildTerminated),
//!    [`StartError`](ReportKind::StartError),
//!    [`ShutdownError`](ReportKind::ShutdownError) and
//!    [`SupervisorShutdown`](ReportKind::SupervisorShutdown).
//!
//! Both process reports are written before the exit's links and monitors are told,
//! so whoever learns of the crash (a caller's error, a supervisor's restart) does so
//! after its report is out.
//!
//! # Where they go
//!
//! The runtime's [`ReportSink`] ([`RuntimeBuilder::reports`](crate::RuntimeBuilder::reports)):
//! by default ([`ReportSink::Auto`]) through the `log` facade when a logger is
//! installed and enabled for target `beamlet::crash` at `error` level, else to
//! stderr — so a program that installed no logger still sees its crashes, as
//! Elixir's console backend does. Through `log`, every report is one `error` record
//! of target `beamlet::crash` whose key-values carry the fields (`kind`, `pid`,
//! `name`, `reason`, and the kind's own, such as `last_message` or `child_id`).
//! Under the `tracing` feature, `Auto` prefers a `tracing` subscriber interested in
//! that target: each report is then one `error` event with the same fields,
//! structured (`ReportSink::Tracing`).

use std::fmt;
use std::sync::Arc;

#[cfg(feature = "tracing")]
mod tracing_events;

use crate::exit::ExitReason;
use crate::pid::Pid;

/// The `log` target of every report.
pub const TARGET: &str = "beamlet::crash";

/// What a [`Report`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReportKind {
    /// A plain process ended by a panic or a stack overflow (the emulator's
    /// "Error in process").
    ProcessError,
    /// A process started by a behaviour ended abnormally (proc_lib's crash report).
    Crash,
    /// A `gen_server` terminates with an abnormal reason.
    ServerTerminating,
    /// A `gen_statem` terminates with an abnormal reason.
    StateMachineTerminating,
    /// A `gen_event` handler crashed or returned a bad value, and was removed.
    HandlerCrashed,
    /// A supervisor's child exited (abnormally, or a `permanent` one for any reason).
    ChildTerminated,
    /// A supervisor's child failed to start.
    StartError,
    /// A child did not stop with `shutdown` when its supervisor stopped it.
    ShutdownError,
    /// A supervisor gave up: its restart intensity was reached.
    SupervisorShutdown,
}

impl ReportKind {
    /// The kind's name in OTP's vocabulary (`crash_report`, `child_terminated`...).
    ///
    /// ```
    /// use beamlet::ReportKind;
    /// assert_eq!(ReportKind::ChildTerminated.as_str(), "child_terminated");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::ProcessError => "process_error",
            ReportKind::Crash => "crash_report",
            ReportKind::ServerTerminating => "gen_server_terminate",
            ReportKind::StateMachineTerminating => "gen_statem_terminate",
            ReportKind::HandlerCrashed => "gen_event_handler_crashed",
            ReportKind::ChildTerminated => "child_terminated",
            ReportKind::StartError => "start_error",
            ReportKind::ShutdownError => "shutdown_error",
            ReportKind::SupervisorShutdown => "shutdown",
        }
    }
}

/// One report: what happened, to whom, why, and the kind's own fields.
///
/// ```
/// use beamlet::{ExitReason, Pid, Report, ReportKind};
/// let r = Report::new(ReportKind::ChildTerminated, Pid::NO_PROCESS, ExitReason::Killed)
///     .field("child_id", "worker");
/// assert_eq!(r.get("child_id"), Some("worker"));
/// assert!(r.to_string().contains("child_terminated"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// What the report is about.
    pub kind: ReportKind,
    /// The process that crashed, or the supervisor/server that reports.
    pub pid: Pid,
    /// That process's registered name, if it had one.
    pub name: Option<Arc<str>>,
    /// The exit reason the report is about (a child's, for a supervisor report).
    pub reason: ExitReason,
    /// The kind's fields, in order: `last_message`, `state`, `child_id`, `links`...
    pub fields: Vec<(&'static str, String)>,
}

impl Report {
    /// A report with no name and no fields.
    pub fn new(kind: ReportKind, pid: Pid, reason: ExitReason) -> Report {
        Report {
            kind,
            pid,
            name: None,
            reason,
            fields: Vec::new(),
        }
    }

    /// Sets the registered name.
    #[must_use]
    pub fn name(mut self, name: Option<Arc<str>>) -> Report {
        self.name = name;
        self
    }

    /// Adds a field.
    #[must_use]
    pub fn field(mut self, key: &'static str, value: impl fmt::Display) -> Report {
        self.fields.push((key, value.to_string()));
        self
    }

    /// The value of field `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    fn headline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = Who(self.pid, self.name.as_deref());
        match self.kind {
            ReportKind::ProcessError => write!(f, "Error in process {who} with exit value: "),
            ReportKind::Crash => write!(f, "crash_report: process {who} crashed: "),
            ReportKind::ServerTerminating => write!(f, "** Generic server {who} terminating: "),
            ReportKind::StateMachineTerminating => {
                write!(f, "** State machine {who} terminating: ")
            }
            ReportKind::HandlerCrashed => {
                write!(f, "** gen_event handler in {who} crashed: ")
            }
            kind => write!(f, "supervisor {who}, {}: ", kind.as_str()),
        }?;
        write!(f, "{}", self.reason)
    }
}

/// A pid with its registered name, as reports print it.
struct Who<'a>(Pid, Option<&'a str>);

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Display for Report {
    /// The headline, then one indented `key: value` line per field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.headline(f)?;
        for (k, v) in &self.fields {
            write!(f, "\n    {k}: {v}")?;
        }
        Ok(())
    }
}

/// The key-values of a report's `log` record.
struct Fields<'a>(&'a Report, &'a str, &'a str);

impl log::kv::Source for Fields<'_> {
    fn visit<'kvs>(
        &'kvs self,
        v: &mut dyn log::kv::VisitSource<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let Fields(r, pid, reason) = self;
        v.visit_pair("kind".into(), r.kind.as_str().into())?;
        v.visit_pair("pid".into(), (*pid).into())?;
        if let Some(name) = r.name.as_deref() {
            v.visit_pair("name".into(), name.into())?;
        }
        v.visit_pair("reason".into(), (*reason).into())?;
        for (k, value) in &r.fields {
            v.visit_pair((*k).into(), value.as_str().into())?;
        }
        Ok(())
    }
}

/// Where a runtime's reports go ([`RuntimeBuilder::reports`](crate::RuntimeBuilder::reports)).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use beamlet::{ReportSink, Runtime};
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// let rt = Runtime::builder()
///     .reports(ReportSink::custom(move |r| s.lock().unwrap().push(r.kind)))
///     .build()
///     .unwrap();
/// let _ = rt.block_on(|| -> () { panic!("boom") });
/// rt.shutdown();
/// assert_eq!(*seen.lock().unwrap(), [beamlet::ReportKind::ProcessError]);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum ReportSink {
    /// Through `tracing` if the feature is on and a subscriber is interested in
    /// [`TARGET`] at `error`; else through `log` if a logger is enabled for it; else
    /// stderr.
    #[default]
    Auto,
    /// Always as `tracing` events (feature `tracing`; nothing is written if no
    /// subscriber is installed).
    #[cfg(feature = "tracing")]
    Tracing,
    /// Always through `log` (nothing is written if no logger is installed).
    Log,
    /// Always to stderr, one write per report.
    Stderr,
    /// Nowhere.
    Off,
    /// To a function, called on the thread of the process that reports; it must
    /// not block for long and must not call switching runtime functions.
    Custom(Arc<dyn Fn(&Report) + Send + Sync>),
}

impl ReportSink {
    /// A [`ReportSink::Custom`] calling `f`.
    pub fn custom(f: impl Fn(&Report) + Send + Sync + 'static) -> ReportSink {
        ReportSink::Custom(Arc::new(f))
    }

    /// `true` for [`ReportSink::Off`]: reports need not even be built.
    pub(crate) fn is_off(&self) -> bool {
        matches!(self, ReportSink::Off)
    }

    /// Writes `report` here.
    pub(crate) fn write(&self, report: &Report) {
        match self {
            #[cfg(feature = "tracing")]
            ReportSink::Auto if tracing_events::enabled() => tracing_events::write(report),
            #[cfg(feature = "tracing")]
            ReportSink::Tracing => tracing_events::write(report),
            ReportSink::Auto if log::log_enabled!(target: TARGET, log::Level::Error) => {
                to_log(report)
            }
            ReportSink::Auto | ReportSink::Stderr => eprintln!("=ERROR REPORT==== {report}"),
            ReportSink::Log => to_log(report),
            ReportSink::Off => {}
            ReportSink::Custom(f) => f(report),
        }
    }
}

impl fmt::Debug for ReportSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReportSink::Auto => "Auto",
            #[cfg(feature = "tracing")]
            ReportSink::Tracing => "Tracing",
            ReportSink::Log => "Log",
            ReportSink::Stderr => "Stderr",
            ReportSink::Off => "Off",
            ReportSink::Custom(_) => "Custom(..)",
        })
    }
}

fn to_log(report: &Report) {
    let pid = report.pid.to_string();
    let reason = report.reason.to_string();
    let fields = Fields(report, &pid, &reason);
    let logger = log::logger();
    logger.log(
        &log::Record::builder()
            .level(log::Level::Error)
            .target(TARGET)
            .module_path_static(Some(module_path!()))
            .key_values(&fields)
            .args(format_args!("{report}"))
            .build(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_prints_its_headline_and_fields() {
        let r = Report::new(
            ReportKind::Crash,
            Pid::NO_PROCESS,
            ExitReason::StackOverflow,
        )
        .name(Some("kv".into()))
        .field("message_queue_len", 3);
        let text = r.to_string();
        assert!(text.starts_with("crash_report: process kv ("), "{text}");
        assert!(text.contains("stack_overflow"), "{text}");
        assert!(text.ends_with("\n    message_queue_len: 3"), "{text}");
    }

    #[test]
    fn log_key_values_carry_every_field() {
        struct Keys(Vec<String>);
        impl<'kvs> log::kv::VisitSource<'kvs> for Keys {
            fn visit_pair(
                &mut self,
                k: log::kv::Key<'kvs>,
                v: log::kv::Value<'kvs>,
            ) -> Result<(), log::kv::Error> {
                self.0.push(format!("{k}={v}"));
                Ok(())
            }
        }
        let r = Report::new(
            ReportKind::ChildTerminated,
            Pid::NO_PROCESS,
            ExitReason::Killed,
        )
        .field("child_id", "w1");
        let mut keys = Keys(Vec::new());
        log::kv::Source::visit(&Fields(&r, "<0.0.0>", "killed"), &mut keys).unwrap();
        assert_eq!(
            keys.0,
            [
                "kind=child_terminated",
                "pid=<0.0.0>",
                "reason=killed",
                "child_id=w1"
            ]
        );
    }
}
