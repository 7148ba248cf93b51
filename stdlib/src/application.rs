//! Applications (as OTP's `application` and Elixir's `Application`): named units
//! with a version, dependencies and a supervision tree, started and stopped as a
//! whole by one application controller per runtime.
//!
//! # The contract
//!
//! ```text
//! Application::new(name, start)         start: runs in the application's master,
//!   .description(..) .version(..)              returns its top supervisor's pid,
//!   .depends_on(..) .env(k, v)                 started linked (start_link)
//!   .on_prep_stop(f) .on_stop(f) .shutdown(how)
//!
//! load(app)  ──> known to the controller (loaded_applications, get_env, put_env)
//! start(name, restart_type)
//!   ├─ order: dependencies first, depth first (unknown dependency, cycle ── error)
//!   ├─ each one not running: master spawned, start function run ── a failure stops
//!   │                                                              those this call
//!   │                                                              started, in reverse
//!   └─ Ok(names started by this call, in order)
//! stop(name) ──> prep_stop, top supervisor shut down (Shutdown, the application's
//!                timeout, then Kill; it stops its children in reverse start order),
//!                stop
//! the top supervisor exits on its own ──> prep_stop, stop, then by the restart type:
//!     Temporary: reported │ Transient: reported if Normal, else halt │ Permanent: halt
//! halt (also stop_system, and SIGTERM/SIGINT after stop_on_signals) ──> every
//!     running application stopped, newest first; await_halt / run return; every
//!     other process of the runtime is killed
//! ```
//!
//! # The protocol
//!
//! 1. The controller is a registered GenServer (`beamlet_application_controller`),
//!    started by the first call that needs it, unlinked from its caller: one per
//!    runtime, since registered names are. Its calls wait for ever, as OTP's.
//! 2. [`start`] runs in the caller (as `application:ensure_all_started/2`): it asks
//!    the controller for the start order, then starts each application in turn,
//!    with the same restart type. A dependency already running (or started
//!    meanwhile by another caller) is skipped.
//! 3. The controller starts one application by spawning its master (OTP's
//!    `application_master`), which runs the start function and links to the top
//!    supervisor. The controller goes on serving meanwhile, so a start function may
//!    use this module.
//! 4. [`stop`] asks the master to stop; the caller is answered once the master, and
//!    so the whole tree, is gone. A stop is never a termination: the restart type
//!    does not apply.
//! 5. A halt stops the applications one at a time, newest first (a start or stop
//!    in progress is waited for), then tells the processes that subscribed
//!    ([`watch_halt`], [`await_halt`], [`run`]) why, and kills every other
//!    process: the runtime is empty, as a BEAM node that stops. [`run`] then
//!    shuts the runtime down.
//!
//! # Departures from OTP
//!
//! - Applications are loaded from values ([`Application`]), not `.app` files; the
//!   start function is a closure rather than a callback module (its state lives in
//!   what the closures capture), and `prep_stop` and `stop` take no state.
//! - [`start`] has `ensure_all_started`'s semantics (dependencies are started);
//!   starting the application itself when it runs is still [`AlreadyStarted`]
//!   (use [`ensure_all_started`] for "fine if it runs").
//! - Stopping an application does not stop the applications depending on it (as
//!   OTP); they keep running without it.
//! - No included applications, start phases, distribution or `permit`.
//! - No group leaders: OTP kills every process of a stopped application; here a
//!   stop reaches the processes linked into the tree, and a process the
//!   application spawned unlinked outlives it (until a halt kills it).
//! - Halting cannot end the OS process or shut a [`Runtime`] down from inside
//!   it: processes are killed, and [`run`] (or the program) shuts the runtime down.
//! - Environment values are any `Clone + Send + Sync` value, read back by type.
//!
//! [`AlreadyStarted`]: ApplicationError::AlreadyStarted
//!
//! # Example
//!
//! ```
//! use beamlet::otp::application::{self, Application, RestartType};
//! use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
//! use beamlet::{receive, spawn_link, Runtime};
//!
//! fn tree() -> Result<beamlet::Pid, beamlet::otp::gen_server::StartError> {
//!     let worker = ChildSpec::worker("w", || spawn_link(|| loop { receive::<()>(); }));
//!     supervisor::start_link(vec![worker], SupervisorFlags::default()).map(Into::into)
//! }
//!
//! let rt = Runtime::builder().build().unwrap();
//! rt.block_on(|| {
//!     application::load(Application::new("logger", tree).version("1.0")).unwrap();
//!     application::load(Application::new("store", tree).depends_on(["logger"])).unwrap();
//!     let started = application::start("store", RestartType::Temporary).unwrap();
//!     assert_eq!(started, ["logger", "store"]);
//!     let names: Vec<_> = application::which_applications().unwrap()
//!         .into_iter().map(|a| a.name).collect();
//!     assert_eq!(names, ["store", "logger"]);
//!     application::stop("store").unwrap();
//!     application::stop("logger").unwrap();
//! }).unwrap();
//! rt.shutdown();
//! ```

mod controller;
mod deps;
mod master;
mod signals;
mod spec;

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use beamlet_runtime::{
    Down, ExitReason, Message, Pid, Runtime, demonitor, monitor, receive_select,
};

use crate::behaviour::{CallError, StartError, StartOptions};
use crate::gen_server::{self, ServerRef};
use controller::{Controller, HaltNotice, NAME, Request, Response};
pub use signals::stop_on_signals;
pub use spec::{Application, EnvValue, RestartType};
use spec::{Callback, Spec};

/// An application as [`which_applications`] and [`loaded_applications`] list it.
///
/// ```
/// use beamlet::otp::application::AppInfo;
/// let a = AppInfo { name: "store".into(), description: "kv".into(), version: "1.0".into() };
/// assert_eq!(a.to_string(), "store 1.0 (kv)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its version.
    pub version: String,
}

impl fmt::Display for AppInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.name, self.version, self.description)
    }
}

/// Why the system halted (see [`await_halt`] and [`run`]).
///
/// ```
/// use beamlet::otp::application::Halt;
/// assert_eq!(Halt::Requested.to_string(), "stop_system was called");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum Halt {
    /// A permanent application's tree exited, or a transient one's abnormally.
    Terminated {
        /// The application.
        app: String,
        /// Its tree's exit reason.
        reason: ExitReason,
    },
    /// A permanent application failed to start, or a transient one abnormally.
    StartFailed {
        /// The application.
        app: String,
        /// Why.
        error: StartError,
    },
    /// [`stop_system`] was called.
    Requested,
}

impl fmt::Display for Halt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Halt::Terminated { app, reason } => write!(f, "application {app} exited: {reason}"),
            Halt::StartFailed { app, error } => {
                write!(f, "application {app} failed to start: {error}")
            }
            Halt::Requested => f.write_str("stop_system was called"),
        }
    }
}

/// Why a request about applications failed.
///
/// ```
/// use beamlet::otp::application::ApplicationError;
/// let e = ApplicationError::AlreadyStarted("store".into());
/// assert_eq!(e.to_string(), "already_started: store");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ApplicationError {
    /// An application of that name is loaded already.
    AlreadyLoaded(String),
    /// No application of that name is loaded.
    NotLoaded(String),
    /// The application runs.
    AlreadyStarted(String),
    /// The application does not run (or is still starting).
    NotStarted(String),
    /// The application is being stopped.
    Stopping(String),
    /// The application runs or is starting or stopping, so it cannot be unloaded.
    Running(String),
    /// `app` depends on `dependency`, which is not loaded.
    UnknownDependency {
        /// The application naming the dependency.
        app: String,
        /// The dependency.
        dependency: String,
    },
    /// The dependencies form a cycle: this path, ending where it began.
    CircularDependency(Vec<String>),
    /// `app`'s dependency `dependency` does not run (it was stopped meanwhile).
    DependencyNotStarted {
        /// The application being started.
        app: String,
        /// The dependency.
        dependency: String,
    },
    /// The start function failed, panicked, or returned `Ignore`.
    StartFailed {
        /// The application.
        app: String,
        /// Why.
        error: StartError,
    },
    /// The system is halting: no application starts any more.
    Halting,
    /// The controller could not be reached.
    Controller(CallError),
    /// The controller could not be started.
    ControllerStart(StartError),
    /// The process [`run`] waits in was killed or panicked.
    RunAborted(ExitReason),
}

impl fmt::Display for ApplicationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ApplicationError::*;
        match self {
            AlreadyLoaded(a) => write!(f, "already_loaded: {a}"),
            NotLoaded(a) => write!(f, "not_loaded: {a}"),
            AlreadyStarted(a) => write!(f, "already_started: {a}"),
            NotStarted(a) => write!(f, "not_started: {a}"),
            Stopping(a) => write!(f, "stopping: {a} is being stopped"),
            Running(a) => write!(f, "running: {a} must be stopped first"),
            UnknownDependency { app, dependency } => {
                write!(f, "{app} depends on {dependency}, which is not loaded")
            }
            CircularDependency(path) => write!(f, "circular dependency: {}", path.join(" -> ")),
            DependencyNotStarted { app, dependency } => {
                write!(f, "{app} needs {dependency}, which does not run")
            }
            StartFailed { app, error } => write!(f, "{app} failed to start: {error}"),
            Halting => f.write_str("the system is halting"),
            Controller(e) => write!(f, "the application controller did not answer: {e}"),
            ControllerStart(e) => write!(f, "the application controller did not start: {e}"),
            RunAborted(r) => write!(f, "the process running the applications exited: {r}"),
        }
    }
}

impl std::error::Error for ApplicationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApplicationError::StartFailed { error, .. } => Some(error),
            ApplicationError::Controller(e) => Some(e),
            ApplicationError::ControllerStart(e) => Some(e),
            _ => None,
        }
    }
}

/// Calls of the controller wait for ever, as OTP's.
const INFINITY: Duration = Duration::MAX;

/// The runtime's controller, started if there is none yet (unlinked, so that it
/// outlives its first caller).
fn controller() -> Result<ServerRef<Controller>, ApplicationError> {
    if let Some(c) = ServerRef::<Controller>::whereis(NAME) {
        return Ok(c);
    }
    match gen_server::start_with::<Controller>((), StartOptions::new().name(NAME)) {
        Ok(c) => Ok(c),
        // Another process started it meanwhile.
        Err(StartError::AlreadyStarted(pid)) => Ok(ServerRef::from_pid(pid)),
        Err(e) => Err(ApplicationError::ControllerStart(e)),
    }
}

fn call(req: Request) -> Result<Response, ApplicationError> {
    gen_server::call_timeout(controller()?, req, INFINITY).map_err(ApplicationError::Controller)
}

fn done(req: Request) -> Result<(), ApplicationError> {
    match call(req)? {
        Response::Done(r) => r,
        other => unreachable!("answered {other:?} instead of Done"),
    }
}

fn apps(req: Request) -> Result<Vec<AppInfo>, ApplicationError> {
    match call(req)? {
        Response::Apps(a) => Ok(a),
        other => unreachable!("answered {other:?} instead of Apps"),
    }
}

/// Makes an application known to the runtime's controller (as
/// `application:load/1`).
///
/// # Errors
///
/// `AlreadyLoaded`, or the controller failed.
///
/// See the [module](self) example.
pub fn load(app: Application) -> Result<(), ApplicationError> {
    done(Request::Load(app))
}

/// Forgets a loaded application that does not run (as `application:unload/1`).
///
/// # Errors
///
/// `NotLoaded`, `Running`, or the controller failed.
///
/// ```
/// use beamlet::otp::application::{self, Application, ApplicationError};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     application::load(Application::new("a", || beamlet::spawn_link(|| ()))).unwrap();
///     application::unload("a").unwrap();
///     assert_eq!(application::unload("a"), Err(ApplicationError::NotLoaded("a".into())));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn unload(name: &str) -> Result<(), ApplicationError> {
    done(Request::Unload(name.to_owned()))
}

/// Starts a loaded application after the dependencies it needs that do not run
/// yet, all with `restart` (as `application:ensure_all_started/2`, see the
/// module's protocol); returns the applications this call started, in order. If
/// one fails, those this call started are stopped again, in reverse order.
///
/// # Errors
///
/// `AlreadyStarted` if `name` runs (or another caller started it meanwhile: the
/// dependencies this call started then stay, as it needs them); `NotLoaded`, `UnknownDependency`,
/// `CircularDependency` before anything starts; `StartFailed` from the first
/// start that failed; `Stopping` or `DependencyNotStarted` if a stop races with
/// the start; `Halting`; or the controller failed.
///
/// See the [module](self) example.
pub fn start(name: &str, restart: RestartType) -> Result<Vec<String>, ApplicationError> {
    let order = match call(Request::Plan(name.to_owned()))? {
        Response::Plan(r) => r?,
        other => unreachable!("answered {other:?} instead of Plan"),
    };
    let mut started = Vec::with_capacity(order.len());
    for app in order {
        match done(Request::Start(app.clone(), restart)) {
            Ok(()) => started.push(app),
            Err(ApplicationError::AlreadyStarted(_)) if app != name => {}
            // Started meanwhile by another caller: the dependencies this call
            // started are needed by it, so they stay.
            Err(e @ ApplicationError::AlreadyStarted(_)) => return Err(e),
            Err(e) => {
                for app in started.iter().rev() {
                    let _ = stop(app);
                }
                return Err(e);
            }
        }
    }
    Ok(started)
}

/// [`start`], where `name` running already is no error (it returns no names).
///
/// # Errors
///
/// As [`start`], but never `AlreadyStarted`.
///
/// ```
/// use beamlet::otp::application::{self, Application, RestartType};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let top = || beamlet::spawn_link(|| loop { beamlet::receive::<()>(); });
///     application::load(Application::new("a", top)).unwrap();
///     assert_eq!(application::ensure_all_started("a", RestartType::Temporary).unwrap(), ["a"]);
///     assert!(application::ensure_all_started("a", RestartType::Temporary).unwrap().is_empty());
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn ensure_all_started(
    name: &str,
    restart: RestartType,
) -> Result<Vec<String>, ApplicationError> {
    match start(name, restart) {
        Err(ApplicationError::AlreadyStarted(app)) if app == name => Ok(Vec::new()),
        other => other,
    }
}

/// Stops a running application (as `application:stop/1`): `prep_stop`, its tree,
/// `stop`; returns once the tree is gone. Applications depending on it keep
/// running.
///
/// # Errors
///
/// `NotLoaded`, `NotStarted`, or the controller failed.
///
/// See the [module](self) example.
pub fn stop(name: &str) -> Result<(), ApplicationError> {
    done(Request::Stop(name.to_owned()))
}

/// The running applications, newest first (as `application:which_applications/0`).
///
/// # Errors
///
/// The controller failed.
///
/// See the [module](self) example.
pub fn which_applications() -> Result<Vec<AppInfo>, ApplicationError> {
    apps(Request::Which)
}

/// The loaded applications, running or not, by name.
///
/// # Errors
///
/// The controller failed.
///
/// ```
/// use beamlet::otp::application::{self, Application};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     application::load(Application::new("b", || beamlet::spawn_link(|| ()))).unwrap();
///     application::load(Application::new("a", || beamlet::spawn_link(|| ()))).unwrap();
///     let names: Vec<_> = application::loaded_applications().unwrap().into_iter().map(|a| a.name).collect();
///     assert_eq!(names, ["a", "b"]);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn loaded_applications() -> Result<Vec<AppInfo>, ApplicationError> {
    apps(Request::Loaded)
}

/// An environment value of a loaded application, if it is set and is a `T` (as
/// `application:get_env/2`).
///
/// # Errors
///
/// `NotLoaded`, or the controller failed.
///
/// ```
/// use beamlet::otp::application::{self, Application};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let app = Application::new("a", || beamlet::spawn_link(|| ())).env("port", 8080u16);
///     application::load(app).unwrap();
///     assert_eq!(application::get_env::<u16>("a", "port"), Ok(Some(8080)));
///     assert_eq!(application::get_env::<String>("a", "port"), Ok(None));
///     application::put_env("a", "port", 9090u16).unwrap();
///     assert_eq!(application::get_env::<u16>("a", "port"), Ok(Some(9090)));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn get_env<T: Any + Clone>(app: &str, key: &str) -> Result<Option<T>, ApplicationError> {
    match call(Request::GetEnv(app.to_owned(), key.to_owned()))? {
        Response::Env(r) => Ok(r?.and_then(|v| v.downcast_ref::<T>().cloned())),
        other => unreachable!("answered {other:?} instead of Env"),
    }
}

/// Sets an environment value of a loaded application (as Elixir's
/// `Application.put_env/3`, OTP's `application:set_env/3`).
///
/// # Errors
///
/// `NotLoaded`, or the controller failed.
///
/// See [`get_env`] for an example.
pub fn put_env<T: Any + Send + Sync>(
    app: &str,
    key: impl Into<String>,
    value: T,
) -> Result<(), ApplicationError> {
    done(Request::PutEnv(app.to_owned(), key.into(), Arc::new(value)))
}

/// Halts the system in order (as `init:stop/0`): every running application is
/// stopped, newest first, then the subscribed processes ([`watch_halt`],
/// [`await_halt`], [`run`]) get [`Halt::Requested`] and every other process is
/// killed, the caller included unless it subscribed. Returns once the halt has
/// begun.
///
/// # Errors
///
/// The controller failed.
///
/// See [`run`] for an example.
pub fn stop_system() -> Result<(), ApplicationError> {
    done(Request::StopSystem)
}

/// Waits until the system halts (see the module's protocol) and says why. The
/// waiting process is not killed by the halt. To be sure to see a halt that
/// something this process does may cause, take a [`watch_halt`] first.
///
/// # Errors
///
/// The controller failed, or exited without halting (`Controller(Exit(..))`).
///
/// See [`watch_halt`] for an example of the same wait.
pub fn await_halt() -> Result<Halt, ApplicationError> {
    watch_halt()?.wait()
}

/// A subscription to the halt (see [`watch_halt`]).
#[derive(Debug)]
#[must_use = "the halt is only seen by waiting on the watch"]
pub struct HaltWatch {
    controller: Pid,
}

/// Subscribes the calling process to the halt: it is told of the halt (with
/// [`HaltWatch::wait`], in this same process: the notice goes to its mailbox) and
/// is not killed by it, however soon the halt comes.
///
/// # Errors
///
/// The controller failed.
///
/// ```
/// use beamlet::otp::application::{self, Application, Halt, RestartType};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let halt = rt.block_on(|| {
///     let watch = application::watch_halt().unwrap();
///     application::load(Application::new("a", || beamlet::spawn_link(|| ()))).unwrap();
///     // Its top exits at once, and it is permanent: the system halts.
///     application::start("a", RestartType::Permanent).unwrap();
///     watch.wait()
/// }).unwrap();
/// assert!(matches!(halt, Ok(Halt::Terminated { .. })));
/// rt.shutdown();
/// ```
pub fn watch_halt() -> Result<HaltWatch, ApplicationError> {
    let controller = controller()?;
    gen_server::call_timeout(controller, Request::Subscribe, INFINITY)
        .map_err(ApplicationError::Controller)?;
    Ok(HaltWatch {
        controller: controller.pid(),
    })
}

impl HaltWatch {
    /// Waits for the halt and says why.
    ///
    /// # Errors
    ///
    /// The controller exited without halting (`Controller(Exit(..))`).
    ///
    /// See [`watch_halt`] for an example.
    pub fn wait(self) -> Result<Halt, ApplicationError> {
        wait_halt(self.controller)
    }
}

/// Waits for the [`HaltNotice`] of a subscription to `controller`. The notice is
/// sent before the controller exits, so it is queued before the monitor's `Down`
/// (or is already there when the controller is gone before the monitor).
fn wait_halt(controller: Pid) -> Result<Halt, ApplicationError> {
    let mref = monitor(controller);
    let pred = |m: &Message| {
        m.is::<HaltNotice>() || m.downcast_ref::<Down>().is_some_and(|d| d.monitor == mref)
    };
    let msg = receive_select(None, pred, None).expect("no timeout");
    demonitor(mref, true);
    match msg.downcast::<HaltNotice>() {
        Ok(notice) => Ok(notice.0),
        Err(msg) => {
            let down = msg.downcast::<Down>().expect("a HaltNotice or the Down");
            Err(ApplicationError::Controller(CallError::Exit(down.reason)))
        }
    }
}

/// Runs applications as a program's `main` would (as a release boots): loads
/// `apps`, starts each (with its dependencies) in the order given with `restart`,
/// blocks the calling thread until the system halts, then shuts the runtime down.
/// With `Permanent`, an application whose tree exits ends `run`; with `Temporary`
/// it is only reported, and `run` goes on until [`stop_system`].
///
/// # Errors
///
/// The first load or start error (the runtime is shut down all the same), or
/// `RunAborted` if the waiting process was killed.
///
/// # Panics
///
/// When called from inside a process (as [`Runtime::block_on`]).
///
/// ```
/// use beamlet::otp::application::{self, Application, Halt, RestartType};
/// use beamlet::{receive, spawn, spawn_link, Runtime};
///
/// let rt = Runtime::builder().build().unwrap();
/// let app = Application::new("ticker", || {
///     // Asks for the halt once the application is up.
///     spawn(|| { application::stop_system().unwrap(); })?;
///     spawn_link(|| loop { receive::<()>(); })
/// });
/// assert_eq!(application::run(rt, vec![app], RestartType::Permanent), Ok(Halt::Requested));
/// ```
pub fn run(
    rt: Runtime,
    apps: Vec<Application>,
    restart: RestartType,
) -> Result<Halt, ApplicationError> {
    let outcome = rt.block_on(move || {
        // Subscribed first: a halt during the starts must not kill this process.
        let watch = watch_halt()?;
        let names: Vec<String> = apps.iter().map(|a| a.name().to_owned()).collect();
        for app in apps {
            load(app)?;
        }
        for name in &names {
            match ensure_all_started(name, restart) {
                Ok(_) => {}
                Err(ApplicationError::Halting) => break,
                Err(e) => return Err(e),
            }
        }
        watch.wait()
    });
    let _ = rt.shutdown();
    outcome.unwrap_or_else(|reason| Err(ApplicationError::RunAborted(reason)))
}
