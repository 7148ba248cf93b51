//! The application value: what is loaded ([`Application`], kept by the controller
//! as a `Spec` and an environment) and the restart types.
//!
//! 1. [`Application::new`] takes the name and the start function; the builder
//!    methods set the rest, with OTP's defaults (no dependencies, an infinite
//!    shutdown of the top supervisor).
//! 2. [`load`](super::load) hands it to the controller, which keeps the `Spec`
//!    shared with the masters and the environment in its own state.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use beamlet_runtime::{ExitReason, Pid};

use crate::behaviour::StartError;
use crate::supervisor::{Shutdown, StartFn, start_fn};

/// A value of an application's environment.
pub type EnvValue = Arc<dyn Any + Send + Sync>;

/// A stop callback.
pub(super) type Callback = Box<dyn Fn() + Send + Sync>;

/// What the controller keeps of an application (all but the environment).
pub(super) struct Spec {
    pub(super) name: String,
    pub(super) description: String,
    pub(super) version: String,
    pub(super) dependencies: Vec<String>,
    /// The start function, as a child spec's (run by the master with
    /// `supervisor::run_start`).
    pub(super) start: StartFn,
    pub(super) prep_stop: Option<Callback>,
    pub(super) stop: Option<Callback>,
    pub(super) shutdown: Shutdown,
}

/// An application to [`load`](super::load): its name, description, version, dependencies,
/// start function, stop callbacks and environment.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::application::Application;
/// use beamlet::otp::supervisor::{self, Shutdown, SupervisorFlags};
/// let app = Application::new("store", || supervisor::start_link(vec![], SupervisorFlags::default()))
///     .description("a key-value store")
///     .version("0.3.1")
///     .depends_on(["logger"])
///     .env("capacity", 100usize)
///     .on_stop(|| println!("store stopped"))
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
/// assert_eq!((app.name(), app.vsn()), ("store", "0.3.1"));
/// assert_eq!(app.dependencies(), ["logger"]);
/// ```
pub struct Application {
    pub(super) spec: Spec,
    pub(super) env: Vec<(String, EnvValue)>,
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("name", &self.spec.name)
            .field("version", &self.spec.version)
            .field("dependencies", &self.spec.dependencies)
            .field("shutdown", &self.spec.shutdown)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// An application named `name` whose `start` returns its top supervisor (or any
    /// process standing for the tree), started linked to the caller:
    /// `|| supervisor::start_link(..)`. No dependencies, an empty description and
    /// version, and an infinite shutdown (the top supervisor's children have their
    /// own timeouts).
    ///
    /// See [`Application`] for an example.
    pub fn new<F, P, E>(name: impl Into<String>, start: F) -> Application
    where
        F: Fn() -> Result<P, E> + Send + Sync + 'static,
        P: Into<Pid>,
        E: Into<StartError>,
    {
        Application {
            spec: Spec {
                name: name.into(),
                description: String::new(),
                version: String::new(),
                dependencies: Vec::new(),
                start: start_fn(start),
                prep_stop: None,
                stop: None,
                shutdown: Shutdown::Infinity,
            },
            env: Vec::new(),
        }
    }

    /// Sets the description.
    ///
    /// See [`Application`] for an example.
    pub fn description(mut self, description: impl Into<String>) -> Application {
        self.spec.description = description.into();
        self
    }

    /// Sets the version.
    ///
    /// See [`Application`] for an example.
    pub fn version(mut self, version: impl Into<String>) -> Application {
        self.spec.version = version.into();
        self
    }

    /// Adds applications that must run before this one starts.
    ///
    /// See [`Application`] for an example.
    pub fn depends_on<S: Into<String>>(mut self, apps: impl IntoIterator<Item = S>) -> Application {
        self.spec
            .dependencies
            .extend(apps.into_iter().map(Into::into));
        self
    }

    /// Sets an environment value (read with [`get_env`](super::get_env)).
    ///
    /// See [`Application`] for an example.
    pub fn env<T: Any + Send + Sync>(mut self, key: impl Into<String>, value: T) -> Application {
        self.env.push((key.into(), Arc::new(value)));
        self
    }

    /// Runs `f` in the master before the tree is stopped by [`stop`](super::stop) or a halt, or
    /// after it exited on its own, just before `stop` (as `prep_stop/1`). A panic
    /// in it is logged and the stop goes on.
    ///
    /// ```
    /// use beamlet::otp::application::Application;
    /// let _app = Application::new("a", || beamlet::spawn_link(|| ()))
    ///     .on_prep_stop(|| println!("about to stop"));
    /// ```
    pub fn on_prep_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Application {
        self.spec.prep_stop = Some(Box::new(f));
        self
    }

    /// Runs `f` in the master once the tree is gone (as `stop/1`), whether stopped
    /// or exited on its own. A panic in it is logged and the stop goes on.
    ///
    /// See [`Application`] for an example.
    pub fn on_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Application {
        self.spec.stop = Some(Box::new(f));
        self
    }

    /// How the top supervisor is stopped: `Shutdown` then, after a timeout, `Kill`
    /// (default `Infinity`: wait for it, as OTP's application master).
    ///
    /// See [`Application`] for an example.
    pub fn shutdown(mut self, how: Shutdown) -> Application {
        self.spec.shutdown = how;
        self
    }

    /// The name.
    ///
    /// See [`Application`] for an example.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The version (OTP's `vsn` key).
    ///
    /// See [`Application`] for an example.
    pub fn vsn(&self) -> &str {
        &self.spec.version
    }

    /// The dependencies.
    ///
    /// See [`Application`] for an example.
    pub fn dependencies(&self) -> &[String] {
        &self.spec.dependencies
    }
}

/// What happens when a started application's tree exits on its own (OTP's restart
/// types; a [`stop`](super::stop) is never such an exit).
///
/// ```
/// use beamlet::ExitReason;
/// use beamlet::otp::application::RestartType;
/// assert!(RestartType::Permanent.takes_down_on(&ExitReason::Normal));
/// assert!(!RestartType::Transient.takes_down_on(&ExitReason::Normal));
/// assert!(RestartType::Transient.takes_down_on(&ExitReason::Shutdown));
/// assert!(!RestartType::Temporary.takes_down_on(&ExitReason::Killed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartType {
    /// The exit, whatever its reason, halts the system: every other application
    /// is stopped and the runtime taken down. A failed start does too.
    Permanent,
    /// An exit with reason `Normal` is reported; any other reason (`Shutdown`
    /// included: a top supervisor that gave up exits with it) halts the system.
    Transient,
    /// The exit is reported; the other applications and the runtime run on (the
    /// default, as `application:start/1`).
    #[default]
    Temporary,
}

impl RestartType {
    /// Whether an exit of the tree with `reason` halts the system.
    ///
    /// See [`RestartType`] for an example.
    pub fn takes_down_on(self, reason: &ExitReason) -> bool {
        match self {
            RestartType::Permanent => true,
            RestartType::Transient => !reason.is_normal(),
            RestartType::Temporary => false,
        }
    }
}
