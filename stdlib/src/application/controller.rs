//! The application controller (OTP's `application_controller`): one registered
//! process per runtime holding the loaded applications and the running ones.
//!
//! 1. It is a [`GenServer`] trapping exits, registered as [`NAME`], started by the
//!    first call of the module's API that needs it, unlinked from that caller.
//! 2. A start is asynchronous, as OTP's: the controller checks the request, spawns
//!    the application's master linked and goes on serving (so a start function may
//!    itself call the controller); the caller is answered when the master reports
//!    [`MasterStarted`] or exits.
//! 3. A stop is asynchronous the same way: [`StopApp`] goes to the master, and the
//!    callers are answered when the master exits.
//! 4. A master's exit while its application runs is a termination: the restart type
//!    decides (temporary: reported; transient: reported if `Normal`; otherwise the
//!    system halts). A failed start of a permanent application, or of a transient one
//!    for an abnormal reason, halts the system too.
//! 5. A halt stops the running applications one at a time, newest first, refuses
//!    new starts, sends [`HaltNotice`] to the subscribed processes (those waiting in
//!    [`await_halt`](super::await_halt)), kills every other process of the runtime
//!    (the node going down) and ends the controller.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use beamlet_runtime::{
    Exit, ExitReason, Message, Pid, exit_pid, processes, self_pid, send, spawn_link,
};

use super::deps::{self, OrderError};
use super::master::{self, MasterStarted, StartFailure, StopApp};
use super::{AppInfo, Application, ApplicationError, EnvValue, Halt, RestartType, Spec};
use crate::behaviour::StartError;
use crate::gen_server::{CallReply, Caller, GenServer, Init, NoReply};

/// The controller's registered name.
pub(super) const NAME: &str = "beamlet_application_controller";

/// The controller's requests (its `Call` type).
#[derive(Debug)]
pub(super) enum Request {
    Load(Application),
    Unload(String),
    /// The applications to start, in order, for a start of this one.
    Plan(String),
    /// Start one application whose dependencies run.
    Start(String, RestartType),
    Stop(String),
    Which,
    Loaded,
    GetEnv(String, String),
    PutEnv(String, String, EnvValue),
    StopSystem,
    /// Tell the caller of the halt, and spare it.
    Subscribe,
}

/// The controller's replies (its `Reply` type).
#[derive(Debug)]
pub(super) enum Response {
    Done(Result<(), ApplicationError>),
    Plan(Result<Vec<String>, ApplicationError>),
    Apps(Vec<AppInfo>),
    Env(Result<Option<EnvValue>, ApplicationError>),
}

/// Controller → subscribers: the system halted, for this reason.
#[derive(Debug)]
pub(super) struct HaltNotice(pub(super) Halt);

/// A loaded application.
struct Loaded {
    spec: Arc<Spec>,
    env: HashMap<String, EnvValue>,
}

/// Where a started application is in its life.
enum Phase {
    /// Its master runs the start function; these callers wait.
    Starting(Vec<Caller<Response>>),
    Running,
    /// Its master stops the tree; these callers wait.
    Stopping(Vec<Caller<Response>>),
}

/// An application with a master.
struct Entry {
    name: String,
    master: Pid,
    restart: RestartType,
    phase: Phase,
}

/// The controller's state.
pub(super) struct Controller {
    loaded: HashMap<String, Loaded>,
    /// Applications with a master; running ones in the order their starts
    /// finished (a halt stops them from the end).
    entries: Vec<Entry>,
    /// Why the system is halting, once it is.
    halting: Option<Halt>,
    /// Processes told of the halt and spared by it.
    subscribers: Vec<Pid>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("loaded", &self.loaded.len())
            .field("entries", &self.entries.len())
            .field("halting", &self.halting)
            .finish_non_exhaustive()
    }
}

impl GenServer for Controller {
    type Args = ();
    type Call = Request;
    type Reply = Response;
    type Cast = std::convert::Infallible;
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Controller {
            loaded: HashMap::new(),
            entries: Vec::new(),
            halting: None,
            subscribers: Vec::new(),
        })
    }

    fn handle_call(&mut self, req: Request, from: Caller<Response>) -> CallReply<Response, ()> {
        let reply = match req {
            Request::Load(app) => Response::Done(self.load(app)),
            Request::Unload(name) => Response::Done(self.unload(&name)),
            Request::Plan(name) => Response::Plan(self.plan(&name)),
            Request::Start(name, restart) => match self.start(name, restart, from) {
                Some(r) => Response::Done(r),
                None => return CallReply::NoReply,
            },
            Request::Stop(name) => match self.stop(&name, from) {
                Some(r) => Response::Done(r),
                None => return CallReply::NoReply,
            },
            Request::Which => Response::Apps(self.which()),
            Request::Loaded => Response::Apps(self.loaded_infos()),
            Request::GetEnv(app, key) => Response::Env(self.get_env(&app, &key)),
            Request::PutEnv(app, key, value) => Response::Done(self.put_env(&app, key, value)),
            Request::StopSystem => {
                self.begin_halt(Halt::Requested);
                if let NoReply::Stop(reason) = self.continue_halt() {
                    return CallReply::Stop(reason, Response::Done(Ok(())));
                }
                Response::Done(Ok(()))
            }
            Request::Subscribe => {
                self.subscribers.push(from.pid());
                Response::Done(Ok(()))
            }
        };
        CallReply::Reply(reply)
    }

    fn handle_cast(&mut self, msg: std::convert::Infallible) -> NoReply<()> {
        match msg {}
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        let msg = match msg.downcast::<MasterStarted>() {
            Ok(started) => return self.on_started(started.master),
            Err(m) => m,
        };
        match msg.downcast::<Exit>() {
            Ok(e) => self.on_exit(e.from, e.reason),
            Err(_) => NoReply::Ok,
        }
    }
}

fn reply_all(waiters: Vec<Caller<Response>>, result: Result<(), ApplicationError>) {
    for w in waiters {
        crate::behaviour::reply(w, Response::Done(result.clone()));
    }
}

impl Controller {
    fn entry(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    fn is_running(&self, name: &str) -> bool {
        self.entry(name)
            .is_some_and(|i| matches!(self.entries[i].phase, Phase::Running))
    }

    fn info(spec: &Spec) -> AppInfo {
        AppInfo {
            name: spec.name.clone(),
            description: spec.description.clone(),
            version: spec.version.clone(),
        }
    }

    fn load(&mut self, app: Application) -> Result<(), ApplicationError> {
        let name = app.spec.name.clone();
        if self.loaded.contains_key(&name) {
            return Err(ApplicationError::AlreadyLoaded(name));
        }
        let loaded = Loaded {
            spec: Arc::new(app.spec),
            env: app.env.into_iter().collect(),
        };
        self.loaded.insert(name, loaded);
        Ok(())
    }

    fn unload(&mut self, name: &str) -> Result<(), ApplicationError> {
        if !self.loaded.contains_key(name) {
            return Err(ApplicationError::NotLoaded(name.to_owned()));
        }
        if self.entry(name).is_some() {
            return Err(ApplicationError::Running(name.to_owned()));
        }
        self.loaded.remove(name);
        Ok(())
    }

    /// The applications to start for `name`: the dependencies not running yet,
    /// then `name`.
    fn plan(&self, name: &str) -> Result<Vec<String>, ApplicationError> {
        if self.is_running(name) {
            return Err(ApplicationError::AlreadyStarted(name.to_owned()));
        }
        let deps_of = |a: &str| self.loaded.get(a).map(|l| l.spec.dependencies.as_slice());
        let order = deps::start_order(name, deps_of).map_err(|e| match e {
            OrderError::NotLoaded(app) => ApplicationError::NotLoaded(app),
            OrderError::Unknown { app, dependency } => {
                ApplicationError::UnknownDependency { app, dependency }
            }
            OrderError::Cycle(path) => ApplicationError::CircularDependency(path),
        })?;
        Ok(order
            .into_iter()
            .filter(|a| a == name || !self.is_running(a))
            .collect())
    }

    /// Starts `name` (its dependencies must run); `None` when the answer comes later.
    fn start(
        &mut self,
        name: String,
        restart: RestartType,
        from: Caller<Response>,
    ) -> Option<Result<(), ApplicationError>> {
        if self.halting.is_some() {
            return Some(Err(ApplicationError::Halting));
        }
        let Some(loaded) = self.loaded.get(&name) else {
            return Some(Err(ApplicationError::NotLoaded(name)));
        };
        if let Some(i) = self.entry(&name) {
            return match &mut self.entries[i].phase {
                Phase::Running => Some(Err(ApplicationError::AlreadyStarted(name))),
                Phase::Starting(waiters) => {
                    waiters.push(from);
                    None
                }
                Phase::Stopping(_) => Some(Err(ApplicationError::Stopping(name))),
            };
        }
        let missing = loaded
            .spec
            .dependencies
            .iter()
            .find(|d| !self.is_running(d));
        if let Some(dependency) = missing {
            let dependency = dependency.clone();
            return Some(Err(ApplicationError::DependencyNotStarted {
                app: name,
                dependency,
            }));
        }
        let (spec, controller) = (loaded.spec.clone(), self_pid());
        match spawn_link(move || master::run(spec, controller)) {
            Ok(master) => {
                self.entries.push(Entry {
                    name,
                    master,
                    restart,
                    phase: Phase::Starting(vec![from]),
                });
                None
            }
            Err(e) => Some(Err(ApplicationError::StartFailed {
                app: name,
                error: StartError::Spawn(e),
            })),
        }
    }

    /// Stops `name`; `None` when the answer comes later.
    fn stop(&mut self, name: &str, from: Caller<Response>) -> Option<Result<(), ApplicationError>> {
        if !self.loaded.contains_key(name) {
            return Some(Err(ApplicationError::NotLoaded(name.to_owned())));
        }
        let Some(i) = self.entry(name) else {
            return Some(Err(ApplicationError::NotStarted(name.to_owned())));
        };
        let entry = &mut self.entries[i];
        match &mut entry.phase {
            Phase::Starting(_) => Some(Err(ApplicationError::NotStarted(name.to_owned()))),
            Phase::Running => {
                let _ = send(entry.master, StopApp);
                entry.phase = Phase::Stopping(vec![from]);
                None
            }
            Phase::Stopping(waiters) => {
                waiters.push(from);
                None
            }
        }
    }

    /// Running applications, newest first (as OTP's `which_applications`).
    fn which(&self) -> Vec<AppInfo> {
        self.entries
            .iter()
            .rev()
            .filter(|e| matches!(e.phase, Phase::Running))
            .filter_map(|e| self.loaded.get(&e.name))
            .map(|l| Self::info(&l.spec))
            .collect()
    }

    /// Loaded applications, by name.
    fn loaded_infos(&self) -> Vec<AppInfo> {
        let mut all: Vec<AppInfo> = self.loaded.values().map(|l| Self::info(&l.spec)).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    fn get_env(&self, app: &str, key: &str) -> Result<Option<EnvValue>, ApplicationError> {
        let loaded = self
            .loaded
            .get(app)
            .ok_or_else(|| ApplicationError::NotLoaded(app.to_owned()))?;
        Ok(loaded.env.get(key).cloned())
    }

    fn put_env(&mut self, app: &str, key: String, value: EnvValue) -> Result<(), ApplicationError> {
        let loaded = self
            .loaded
            .get_mut(app)
            .ok_or_else(|| ApplicationError::NotLoaded(app.to_owned()))?;
        loaded.env.insert(key, value);
        Ok(())
    }

    /// A master reports a successful start.
    fn on_started(&mut self, master: Pid) -> NoReply<()> {
        let Some(i) = self.entries.iter().position(|e| e.master == master) else {
            return NoReply::Ok;
        };
        let mut entry = self.entries.remove(i);
        if let Phase::Starting(waiters) = std::mem::replace(&mut entry.phase, Phase::Running) {
            let mut waiters = waiters.into_iter();
            if let Some(first) = waiters.next() {
                crate::behaviour::reply(first, Response::Done(Ok(())));
            }
            let already = Err(ApplicationError::AlreadyStarted(entry.name.clone()));
            reply_all(waiters.collect(), already);
        }
        log::info!(target: "beamlet::application", "application {} started", entry.name);
        if self.halting.is_some() {
            let _ = send(entry.master, StopApp);
            entry.phase = Phase::Stopping(Vec::new());
        }
        self.entries.push(entry);
        NoReply::Ok
    }

    /// A master exited: a failed start, a finished stop, or a termination.
    fn on_exit(&mut self, pid: Pid, reason: ExitReason) -> NoReply<()> {
        let Some(i) = self.entries.iter().position(|e| e.master == pid) else {
            return NoReply::Ok;
        };
        let entry = self.entries.remove(i);
        let app = entry.name;
        match entry.phase {
            Phase::Starting(waiters) => {
                let error = StartFailure::of(&reason).unwrap_or(StartError::Stop(reason));
                log::info!(target: "beamlet::application", "application {app} failed to start: {error}");
                let fatal = match entry.restart {
                    RestartType::Permanent => true,
                    RestartType::Transient => error != StartError::Stop(ExitReason::Normal),
                    RestartType::Temporary => false,
                };
                let failed = ApplicationError::StartFailed {
                    app: app.clone(),
                    error: error.clone(),
                };
                reply_all(waiters, Err(failed));
                if fatal {
                    self.begin_halt(Halt::StartFailed { app, error });
                }
            }
            Phase::Running => {
                log::info!(target: "beamlet::application", "application {app} exited: {reason}, type: {:?}", entry.restart);
                if entry.restart.takes_down_on(&reason) {
                    self.begin_halt(Halt::Terminated { app, reason });
                }
            }
            Phase::Stopping(waiters) => {
                log::info!(target: "beamlet::application", "application {app} stopped");
                reply_all(waiters, Ok(()));
            }
        }
        self.continue_halt()
    }

    fn begin_halt(&mut self, cause: Halt) {
        if self.halting.is_none() {
            self.halting = Some(cause);
        }
    }

    /// The next step of a halt: wait for a start or stop in progress, else stop the
    /// newest running application, else finish.
    fn continue_halt(&mut self) -> NoReply<()> {
        if self.halting.is_none() {
            return NoReply::Ok;
        }
        if self
            .entries
            .iter()
            .any(|e| !matches!(e.phase, Phase::Running))
        {
            return NoReply::Ok;
        }
        if let Some(newest) = self.entries.last_mut() {
            let _ = send(newest.master, StopApp);
            newest.phase = Phase::Stopping(Vec::new());
            return NoReply::Ok;
        }
        self.finish_halt();
        NoReply::Stop(ExitReason::Shutdown)
    }

    /// Every application is down: tell the subscribers, kill every other process.
    fn finish_halt(&mut self) {
        let cause = self.halting.clone().expect("halting");
        let mut spared: HashSet<Pid> = self.subscribers.iter().copied().collect();
        spared.insert(self_pid());
        for &pid in &self.subscribers {
            let _ = send(pid, HaltNotice(cause.clone()));
        }
        for pid in processes() {
            if !spared.contains(&pid) {
                exit_pid(pid, ExitReason::Kill);
            }
        }
    }
}
