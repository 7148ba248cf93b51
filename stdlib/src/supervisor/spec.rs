//! Child specifications and supervisor flags, with their validation.
//!
//! 1. A [`ChildSpec`] says how to start a child (a function returning its pid,
//!    linked to the caller: the supervisor) and how to restart and stop it; the
//!    defaults are Elixir's (permanent; workers get 5000 ms to shut down,
//!    supervisors infinity).
//! 2. [`SupervisorFlags`] default to Elixir's: one_for_one, 3 restarts in 5 seconds,
//!    no automatic shutdown.
//! 3. [`validate`] checks specs before anything starts: unique ids, and significant
//!    children only where OTP allows them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beamlet_runtime::{ExitReason, Pid};

use crate::behaviour::{StartError, try_dispatch};

/// The function that starts a child: runs in the supervisor and returns the pid of
/// a process linked to it (`Err(StartError::Ignore)` for `ignore`).
///
/// ```
/// use std::sync::Arc;
/// use beamlet::otp::supervisor::StartFn;
/// let f: StartFn = Arc::new(|| Ok(beamlet::spawn_link(|| ())?));
/// let _ = f;
/// ```
pub type StartFn = Arc<dyn Fn() -> Result<Pid, StartError> + Send + Sync>;

/// Runs a start function in the calling process (a supervisor starting a child, an
/// application master its tree); a panic or an `exit` in it is a failed start with
/// that reason.
pub(crate) fn run_start(start: &StartFn) -> Result<Pid, StartError> {
    try_dispatch(|| start()).unwrap_or_else(|reason| Err(StartError::Stop(reason)))
}

/// A [`StartFn`] from any function returning something that converts into a pid
/// and an error that converts into a [`StartError`] (child specs, applications).
pub(crate) fn start_fn<F, P, E>(start: F) -> StartFn
where
    F: Fn() -> Result<P, E> + Send + Sync + 'static,
    P: Into<Pid>,
    E: Into<StartError>,
{
    Arc::new(move || start().map(Into::into).map_err(Into::into))
}

/// When a terminated child is restarted.
///
/// ```
/// use beamlet::otp::supervisor::Restart;
/// assert_eq!(Restart::default(), Restart::Permanent);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Always.
    #[default]
    Permanent,
    /// Only after an abnormal exit (not `Normal`, `Shutdown` or `ShutdownWith`).
    Transient,
    /// Never; its spec is removed once it terminates.
    Temporary,
}

impl Restart {
    /// Whether a child of this restart type that exited with `reason` is restarted.
    pub(crate) fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_orderly(),
            Restart::Temporary => false,
        }
    }
}

/// How a child is stopped.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::supervisor::Shutdown;
/// assert_eq!(Shutdown::default(), Shutdown::Timeout(Duration::from_millis(5000)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Killed at once with `Kill`.
    BrutalKill,
    /// Sent `Shutdown`, and killed if it has not exited within the duration.
    Timeout(Duration),
    /// Sent `Shutdown` and waited for, however long it takes (for supervisors).
    Infinity,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::Timeout(Duration::from_millis(5000))
    }
}

/// Whether a child is a worker or a supervisor.
///
/// ```
/// use beamlet::otp::supervisor::ChildKind;
/// assert_eq!(ChildKind::default(), ChildKind::Worker);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChildKind {
    /// A worker.
    #[default]
    Worker,
    /// A supervisor.
    Supervisor,
}

/// A per-child restart delay that doubles with each restart in a row, from
/// `initial` up to `max` (off unless set). A child that ran for at least `max`
/// before terminating starts again from `initial`. The supervisor waits with
/// `send_after`, so it stays responsive meanwhile.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::supervisor::Backoff;
/// let b = Backoff { initial: Duration::from_millis(10), max: Duration::from_secs(1) };
/// assert_eq!(b.delay(0), Duration::from_millis(10));
/// assert_eq!(b.delay(3), Duration::from_millis(80));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The largest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay before the restart that follows `in_a_row` earlier ones.
    ///
    /// See [`Backoff`] for an example.
    pub fn delay(&self, in_a_row: u32) -> Duration {
        let factor = 1u32.checked_shl(in_a_row.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// How to start, restart and stop one child (as OTP's `child_spec()` map).
///
/// ```
/// use beamlet::otp::supervisor::{ChildSpec, ChildKind, Restart};
/// use beamlet::{receive, spawn_link};
/// let spec = ChildSpec::worker("ticker", || spawn_link(|| loop { receive::<()>(); }))
///     .restart(Restart::Transient);
/// assert_eq!(spec.id, "ticker");
/// assert_eq!(spec.kind, ChildKind::Worker);
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    /// The child's name within its supervisor.
    pub id: String,
    /// Starts the child (see [`StartFn`]).
    pub start: StartFn,
    /// When to restart it.
    pub restart: Restart,
    /// How to stop it.
    pub shutdown: Shutdown,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Whether its own termination counts for the supervisor's `auto_shutdown`.
    pub significant: bool,
    /// An optional growing delay before each restart.
    pub backoff: Option<Backoff>,
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .field("significant", &self.significant)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl ChildSpec {
    /// A permanent worker with a 5000 ms shutdown. `start` returns anything that
    /// converts into a pid (a [`Pid`], a `ServerRef`) or a start error (a
    /// `StartError`, a `SpawnError`): `|| spawn_link(..)` or
    /// `|| gen_server::start_link::<S>(..)`.
    ///
    /// See [`ChildSpec`] for an example.
    pub fn worker<F, P, E>(id: impl Into<String>, start: F) -> ChildSpec
    where
        F: Fn() -> Result<P, E> + Send + Sync + 'static,
        P: Into<Pid>,
        E: Into<StartError>,
    {
        ChildSpec {
            id: id.into(),
            start: start_fn(start),
            restart: Restart::Permanent,
            shutdown: Shutdown::default(),
            kind: ChildKind::Worker,
            significant: false,
            backoff: None,
        }
    }

    /// A permanent supervisor child with an infinite shutdown.
    ///
    /// ```
    /// use beamlet::otp::supervisor::{self, ChildKind, ChildSpec, Shutdown, SupervisorFlags};
    /// let spec = ChildSpec::supervisor("sub", || supervisor::start_link(vec![], SupervisorFlags::default()));
    /// assert_eq!((spec.kind, spec.shutdown), (ChildKind::Supervisor, Shutdown::Infinity));
    /// ```
    pub fn supervisor<F, P, E>(id: impl Into<String>, start: F) -> ChildSpec
    where
        F: Fn() -> Result<P, E> + Send + Sync + 'static,
        P: Into<Pid>,
        E: Into<StartError>,
    {
        ChildSpec {
            kind: ChildKind::Supervisor,
            shutdown: Shutdown::Infinity,
            ..ChildSpec::worker(id, start)
        }
    }

    /// Sets the restart type.
    ///
    /// ```
    /// use beamlet::otp::supervisor::{ChildSpec, Restart};
    /// let s = ChildSpec::worker("w", || beamlet::spawn_link(|| ())).restart(Restart::Temporary);
    /// assert_eq!(s.restart, Restart::Temporary);
    /// ```
    pub fn restart(mut self, restart: Restart) -> ChildSpec {
        self.restart = restart;
        self
    }

    /// Sets how the child is stopped.
    ///
    /// ```
    /// use beamlet::otp::supervisor::{ChildSpec, Shutdown};
    /// let s = ChildSpec::worker("w", || beamlet::spawn_link(|| ())).shutdown(Shutdown::BrutalKill);
    /// assert_eq!(s.shutdown, Shutdown::BrutalKill);
    /// ```
    pub fn shutdown(mut self, shutdown: Shutdown) -> ChildSpec {
        self.shutdown = shutdown;
        self
    }

    /// Marks the child significant (see [`AutoShutdown`]).
    ///
    /// ```
    /// use beamlet::otp::supervisor::ChildSpec;
    /// let s = ChildSpec::worker("w", || beamlet::spawn_link(|| ())).significant(true);
    /// assert!(s.significant);
    /// ```
    pub fn significant(mut self, significant: bool) -> ChildSpec {
        self.significant = significant;
        self
    }

    /// Sets a restart backoff.
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet::otp::supervisor::{Backoff, ChildSpec};
    /// let b = Backoff { initial: Duration::from_millis(10), max: Duration::from_secs(1) };
    /// let s = ChildSpec::worker("w", || beamlet::spawn_link(|| ())).backoff(b);
    /// assert_eq!(s.backoff, Some(b));
    /// ```
    pub fn backoff(mut self, backoff: Backoff) -> ChildSpec {
        self.backoff = Some(backoff);
        self
    }
}

impl ChildSpec {
    /// Whether a child of this spec that started at `started` and exits now ran long
    /// enough (its backoff's `max`) for its backoff to start afresh.
    pub(crate) fn backoff_resets(&self, started: Instant) -> bool {
        self.backoff
            .is_some_and(|b| beamlet_runtime::now().saturating_duration_since(started) >= b.max)
    }
}

/// Which children are restarted when one terminates.
///
/// ```
/// use beamlet::otp::supervisor::Strategy;
/// assert_eq!(Strategy::default(), Strategy::OneForOne);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Only that child.
    #[default]
    OneForOne,
    /// All children: the others are terminated (in reverse start order), then all
    /// are started again in order.
    OneForAll,
    /// That child and the children started after it.
    RestForOne,
}

/// When the supervisor shuts itself down because significant children terminated
/// on their own (not when it terminated them).
///
/// ```
/// use beamlet::otp::supervisor::AutoShutdown;
/// assert_eq!(AutoShutdown::default(), AutoShutdown::Never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoShutdown {
    /// Never (significant children are then invalid).
    #[default]
    Never,
    /// As soon as any significant child terminates.
    AnySignificant,
    /// Once every significant child has terminated.
    AllSignificant,
}

/// A supervisor's settings (as OTP's `sup_flags()`); the default is Elixir's.
///
/// ```
/// use beamlet::otp::supervisor::{Strategy, SupervisorFlags};
/// let f = SupervisorFlags { strategy: Strategy::RestForOne, ..Default::default() };
/// assert_eq!((f.max_restarts, f.max_seconds), (3, 5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupervisorFlags {
    /// The restart strategy.
    pub strategy: Strategy,
    /// At most this many restarts ...
    pub max_restarts: u32,
    /// ... within this many seconds; one more shuts the supervisor down.
    pub max_seconds: u64,
    /// Automatic shutdown on significant children's termination.
    pub auto_shutdown: AutoShutdown,
}

impl Default for SupervisorFlags {
    fn default() -> Self {
        SupervisorFlags {
            strategy: Strategy::OneForOne,
            max_restarts: 3,
            max_seconds: 5,
            auto_shutdown: AutoShutdown::Never,
        }
    }
}

impl SupervisorFlags {
    /// The default flags with `strategy`.
    ///
    /// ```
    /// use beamlet::otp::supervisor::{Strategy, SupervisorFlags};
    /// assert_eq!(SupervisorFlags::strategy(Strategy::OneForAll).strategy, Strategy::OneForAll);
    /// ```
    pub fn strategy(strategy: Strategy) -> SupervisorFlags {
        SupervisorFlags {
            strategy,
            ..SupervisorFlags::default()
        }
    }

    /// The restart window.
    ///
    /// ```
    /// use beamlet::otp::supervisor::SupervisorFlags;
    /// assert_eq!(SupervisorFlags::default().period().as_secs(), 5);
    /// ```
    pub fn period(&self) -> Duration {
        Duration::from_secs(self.max_seconds)
    }
}

/// Why a child spec was refused.
///
/// ```
/// use beamlet::otp::supervisor::SpecError;
/// assert_eq!(SpecError::DuplicateId("a".into()).to_string(), "duplicate child id \"a\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// Two specs share this id.
    DuplicateId(String),
    /// A significant child must be transient or temporary.
    SignificantPermanent(String),
    /// Significant children need an `auto_shutdown` other than `Never`.
    SignificantWithoutAutoShutdown(String),
    /// The restart window (`max_seconds`) is zero: no restart would ever count
    /// against the intensity, so a crashing child would restart for ever (OTP
    /// requires a period of at least one second).
    ZeroMaxSeconds,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::DuplicateId(id) => write!(f, "duplicate child id {id:?}"),
            SpecError::SignificantPermanent(id) => {
                write!(f, "child {id:?} is significant and permanent")
            }
            SpecError::SignificantWithoutAutoShutdown(id) => {
                write!(f, "child {id:?} is significant but auto_shutdown is never")
            }
            SpecError::ZeroMaxSeconds => f.write_str("max_seconds must be at least 1"),
        }
    }
}

impl std::error::Error for SpecError {}

/// Checks one spec against the flags.
pub(crate) fn check(spec: &ChildSpec, auto: AutoShutdown) -> Result<(), SpecError> {
    match (spec.significant, spec.restart, auto) {
        (true, Restart::Permanent, _) => Err(SpecError::SignificantPermanent(spec.id.clone())),
        (true, _, AutoShutdown::Never) => {
            Err(SpecError::SignificantWithoutAutoShutdown(spec.id.clone()))
        }
        _ => Ok(()),
    }
}

/// Checks a list of specs: each valid, ids unique.
///
/// ```
/// use beamlet::otp::supervisor::{validate, ChildSpec, SpecError, AutoShutdown};
/// use beamlet::spawn_link;
/// let a = || ChildSpec::worker("a", || spawn_link(|| ()));
/// assert_eq!(validate(&[a(), a()], AutoShutdown::Never), Err(SpecError::DuplicateId("a".into())));
/// ```
///
/// # Errors
///
/// The first problem found.
pub fn validate(specs: &[ChildSpec], auto: AutoShutdown) -> Result<(), SpecError> {
    let mut seen = std::collections::HashSet::new();
    for spec in specs {
        check(spec, auto)?;
        if !seen.insert(spec.id.as_str()) {
            return Err(SpecError::DuplicateId(spec.id.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_max() {
        let b = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
        };
        let delays: Vec<u128> = (0..6).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 100, 100]);
    }

    #[test]
    fn backoff_never_overflows() {
        let b = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(60));
        assert_eq!(b.delay(40), Duration::from_secs(60));
    }

    #[test]
    fn significant_children_need_a_non_permanent_restart_and_auto_shutdown() {
        let spec = |r| {
            ChildSpec::worker("s", || Err::<Pid, _>(StartError::Ignore))
                .restart(r)
                .significant(true)
        };
        let any = AutoShutdown::AnySignificant;
        assert!(check(&spec(Restart::Transient), any).is_ok());
        assert!(check(&spec(Restart::Temporary), AutoShutdown::AllSignificant).is_ok());
        assert!(check(&spec(Restart::Permanent), any).is_err());
        assert!(check(&spec(Restart::Transient), AutoShutdown::Never).is_err());
    }
}
