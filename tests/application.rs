//! Application: the rules of OTP's `application` (start order, stop order, restart
//! types, typed errors), one per test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamlet::otp::application::{self, AppInfo, Application, ApplicationError, Halt, RestartType};
use beamlet::otp::gen_server::{self, GenServer, Init, StartError};
use beamlet::otp::supervisor::{self, ChildSpec, FailedToStartChild, Shutdown, SupervisorFlags};
use beamlet::{
    ExitReason, Pid, exit_pid, is_alive, processes, receive, sleep, spawn, spawn_link, trap_exit,
};
use common::{run, runtime, watchdog};

/// What the processes of a test write down, in order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A message no one sends: waiting for it hangs until killed.
struct Never;

/// A worker that writes its `terminate` into the log (it traps exits, so its
/// supervisor's shutdown runs `terminate`); a hanging one never returns from it.
struct Worker {
    name: &'static str,
    log: Log,
    hang: bool,
}

impl GenServer for Worker {
    type Args = (&'static str, Log, bool);
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init((name, log, hang): Self::Args) -> Init<Self, ()> {
        Init::Ok(Worker { name, log, hang })
    }

    fn terminate(&mut self, _: &ExitReason) {
        if self.hang {
            self.log.push(format!("{} hangs", self.name));
            receive::<Never>();
        }
        self.log.push(self.name);
    }
}

fn worker(name: &'static str, log: &Log) -> ChildSpec {
    let log = log.clone();
    ChildSpec::worker(name, move || {
        gen_server::start_link::<Worker>((name, log.clone(), false))
    })
}

/// A supervisor of `children`, as an application's start function.
fn tree(children: Vec<ChildSpec>) -> impl Fn() -> Result<Pid, StartError> + Send + Sync {
    move || supervisor::start_link(children.clone(), SupervisorFlags::default()).map(Pid::from)
}

/// An application whose start writes its name and whose stop writes "<name>
/// stopped".
fn logged(name: &'static str, log: &Log) -> Application {
    let (at_start, at_stop) = (log.clone(), log.clone());
    Application::new(name, move || {
        at_start.push(name);
        tree(vec![])()
    })
    .on_stop(move || at_stop.push(format!("{name} stopped")))
}

fn names(apps: Vec<AppInfo>) -> Vec<String> {
    apps.into_iter().map(|a| a.name).collect()
}

fn running() -> Vec<String> {
    names(application::which_applications().unwrap())
}

#[test]
fn dependencies_start_first_in_order() {
    run(|| {
        let log = Log::default();
        let base = logged("base", &log).env("greeting", "hello".to_string());
        application::load(base).unwrap();
        application::load(logged("mid", &log).depends_on(["base"])).unwrap();
        let top_log = log.clone();
        // A start function may use the API: the controller serves during starts.
        let top = Application::new("top", move || {
            let greeting = application::get_env::<String>("base", "greeting").unwrap();
            top_log.push(format!("top reads {}", greeting.unwrap()));
            tree(vec![])()
        })
        .depends_on(["mid", "base"]);
        application::load(top).unwrap();
        let started = application::start("top", RestartType::Temporary).unwrap();
        assert_eq!(started, ["base", "mid", "top"]);
        assert_eq!(log.take(), ["base", "mid", "top reads hello"]);
        assert_eq!(running(), ["top", "mid", "base"]);
    });
}

#[test]
fn stop_shuts_the_tree_down_in_reverse_start_order() {
    run(|| {
        let log = Log::default();
        let children = vec![worker("a", &log), worker("b", &log), worker("c", &log)];
        let (before, after) = (log.clone(), log.clone());
        let app = Application::new("abc", tree(children))
            .on_prep_stop(move || before.push("prep_stop"))
            .on_stop(move || after.push("stop"));
        application::load(app).unwrap();
        application::start("abc", RestartType::Temporary).unwrap();
        application::stop("abc").unwrap();
        assert_eq!(log.take(), ["prep_stop", "c", "b", "a", "stop"]);
        assert!(running().is_empty());
        assert_eq!(
            application::stop("abc"),
            Err(ApplicationError::NotStarted("abc".into()))
        );
    });
}

#[test]
fn which_applications_lists_name_description_and_version() {
    run(|| {
        let info = |name: &str, description: &str, version: &str| AppInfo {
            name: name.into(),
            description: description.into(),
            version: version.into(),
        };
        let logger = Application::new("logger", tree(vec![]))
            .description("writes lines")
            .version("1.2.0");
        let store = Application::new("store", tree(vec![]))
            .description("keeps values")
            .version("0.4.1")
            .depends_on(["logger"]);
        application::load(logger).unwrap();
        application::load(store).unwrap();
        assert!(application::which_applications().unwrap().is_empty());
        application::start("store", RestartType::Temporary).unwrap();
        assert_eq!(
            application::which_applications().unwrap(),
            [
                info("store", "keeps values", "0.4.1"),
                info("logger", "writes lines", "1.2.0")
            ]
        );
        assert_eq!(names(application::loaded_applications().unwrap()).len(), 2);
    });
}

#[test]
fn starting_a_started_application_is_an_error() {
    run(|| {
        application::load(Application::new("solo", tree(vec![]))).unwrap();
        application::start("solo", RestartType::Temporary).unwrap();
        assert_eq!(
            application::start("solo", RestartType::Temporary),
            Err(ApplicationError::AlreadyStarted("solo".into()))
        );
        assert_eq!(
            application::ensure_all_started("solo", RestartType::Temporary),
            Ok(vec![])
        );
        assert_eq!(
            application::load(Application::new("solo", tree(vec![]))),
            Err(ApplicationError::AlreadyLoaded("solo".into()))
        );
        assert_eq!(
            application::unload("solo"),
            Err(ApplicationError::Running("solo".into()))
        );
    });
}

#[test]
fn a_failing_start_is_a_typed_error_and_leaves_nothing_running() {
    run(|| {
        let log = Log::default();
        application::load(logged("dep", &log)).unwrap();
        let refuses = ChildSpec::worker("refuses", || {
            Err::<Pid, _>(StartError::Stop(ExitReason::custom("no")))
        });
        let children = vec![worker("fine", &log), refuses];
        application::load(Application::new("bad", tree(children)).depends_on(["dep"])).unwrap();
        application::load(Application::new("panics", || -> Result<Pid, StartError> {
            panic!("no start")
        }))
        .unwrap();
        let before = processes().len();
        match application::start("bad", RestartType::Temporary) {
            Err(ApplicationError::StartFailed { app, error }) => {
                assert_eq!(app, "bad");
                let failed = FailedToStartChild::of(&error).expect("a child failed");
                assert_eq!(failed.id, "refuses");
            }
            other => panic!("expected StartFailed, got {other:?}"),
        }
        // "dep" was started by that call, so it was stopped again.
        assert_eq!(log.take(), ["dep", "fine", "dep stopped"]);
        match application::start("panics", RestartType::Temporary) {
            Err(ApplicationError::StartFailed {
                error: StartError::Stop(reason),
                ..
            }) => assert!(reason.is_panic()),
            other => panic!("expected a panic, got {other:?}"),
        }
        assert!(running().is_empty());
        assert_eq!(processes().len(), before);
    });
}

#[test]
fn unknown_and_circular_dependencies_are_typed_errors() {
    run(|| {
        let app = |name: &str, deps: &[&str]| {
            Application::new(name, tree(vec![])).depends_on(deps.iter().copied())
        };
        application::load(app("web", &["db"])).unwrap();
        application::load(app("x", &["y"])).unwrap();
        application::load(app("y", &["x"])).unwrap();
        assert_eq!(
            application::start("web", RestartType::Temporary),
            Err(ApplicationError::UnknownDependency {
                app: "web".into(),
                dependency: "db".into()
            })
        );
        assert_eq!(
            application::start("x", RestartType::Temporary),
            Err(ApplicationError::CircularDependency(vec![
                "x".into(),
                "y".into(),
                "x".into()
            ]))
        );
        assert_eq!(
            application::start("nope", RestartType::Temporary),
            Err(ApplicationError::NotLoaded("nope".into()))
        );
        assert!(running().is_empty());
    });
}

#[test]
fn stopping_a_dependency_leaves_its_dependents_running() {
    run(|| {
        let log = Log::default();
        application::load(logged("base", &log)).unwrap();
        application::load(logged("user", &log).depends_on(["base"])).unwrap();
        application::start("user", RestartType::Temporary).unwrap();
        application::stop("base").unwrap();
        assert_eq!(running(), ["user"]);
        // Starting "user"'s dependency alone works again.
        assert_eq!(
            application::start("base", RestartType::Temporary).unwrap(),
            ["base"]
        );
    });
}

#[test]
fn a_child_hanging_in_terminate_is_killed_after_its_timeout() {
    run(|| {
        let log = Log::default();
        let hang_log = log.clone();
        let hanging = ChildSpec::worker("b", move || {
            gen_server::start_link::<Worker>(("b", hang_log.clone(), true))
        })
        .shutdown(Shutdown::Timeout(Duration::from_millis(50)));
        let children = vec![worker("a", &log), hanging, worker("c", &log)];
        application::load(Application::new("hangs", tree(children))).unwrap();
        let before = processes().len();
        application::start("hangs", RestartType::Temporary).unwrap();
        application::stop("hangs").unwrap();
        assert_eq!(log.take(), ["c", "b hangs", "a"]);
        assert_eq!(processes().len(), before);
    });
}

#[test]
fn a_top_ignoring_shutdown_is_killed_after_the_application_timeout() {
    run(|| {
        let top = Arc::new(Mutex::new(None));
        let seen = top.clone();
        let stubborn = Application::new("stubborn", move || {
            let pid = spawn_link(|| {
                trap_exit(true);
                receive::<Never>();
            })?;
            *seen.lock().unwrap() = Some(pid);
            Ok::<_, StartError>(pid)
        })
        .shutdown(Shutdown::Timeout(Duration::from_millis(50)));
        application::load(stubborn).unwrap();
        application::start("stubborn", RestartType::Temporary).unwrap();
        let pid = top.lock().unwrap().expect("started");
        application::stop("stubborn").unwrap();
        assert!(!is_alive(pid));
    });
}

/// An application whose top process is made to exit with `reason` (by a helper
/// process) once started; the helper then runs `after`.
fn exits_with(
    name: &'static str,
    reason: ExitReason,
    after: impl Fn() + Send + Sync + Clone + 'static,
) -> Application {
    Application::new(name, move || {
        let top = spawn_link(|| {
            receive::<()>();
        })?;
        let (reason, after) = (reason.clone(), after.clone());
        spawn(move || {
            match reason {
                // A normal exit signal is ignored: the top returns instead.
                ExitReason::Normal => beamlet::send(top, ()).unwrap(),
                reason => exit_pid(top, reason),
            }
            after();
        })?;
        Ok::<_, StartError>(top)
    })
}

/// Waits until `app` no longer runs (its exit was handled by the controller).
fn wait_gone(app: &str) {
    while running().iter().any(|a| a == app) {
        sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_permanent_application_exit_ends_run() {
    let log = Log::default();
    let base = logged("base", &log);
    let crash = ExitReason::custom("crash");
    let (before, after) = (log.clone(), log.clone());
    let main = exits_with("main", crash.clone(), || ())
        .depends_on(["base"])
        .on_prep_stop(move || before.push("main prep_stop"))
        .on_stop(move || after.push("main stopped"));
    let halt = watchdog(Duration::from_secs(60), move || {
        application::run(runtime(), vec![base, main], RestartType::Permanent)
    });
    assert_eq!(
        halt,
        Ok(Halt::Terminated {
            app: "main".into(),
            reason: crash
        })
    );
    // main's callbacks ran as its tree exited; base was stopped on the way down.
    assert_eq!(
        log.take(),
        ["base", "main prep_stop", "main stopped", "base stopped"]
    );
}

#[test]
fn a_temporary_application_exit_is_only_reported() {
    let log = Log::default();
    let (other, seen) = (logged("other", &log), log.clone());
    let temp = exits_with("temp", ExitReason::custom("crash"), move || {
        wait_gone("temp");
        seen.push(format!("running: {:?}", running()));
        application::stop_system().unwrap();
    });
    let halt = watchdog(Duration::from_secs(60), move || {
        application::run(runtime(), vec![other, temp], RestartType::Temporary)
    });
    assert_eq!(halt, Ok(Halt::Requested));
    assert_eq!(
        log.take(),
        ["other", "running: [\"other\"]", "other stopped"]
    );
}

#[test]
fn a_transient_application_exiting_normally_is_only_reported() {
    let log = Log::default();
    let seen = log.clone();
    let transient = exits_with("calm", ExitReason::Normal, move || {
        wait_gone("calm");
        seen.push("calm gone");
        application::stop_system().unwrap();
    });
    let halt = watchdog(Duration::from_secs(60), move || {
        application::run(runtime(), vec![transient], RestartType::Transient)
    });
    assert_eq!(halt, Ok(Halt::Requested));
    assert_eq!(log.take(), ["calm gone"]);
}

#[test]
fn a_permanent_application_that_fails_to_start_fails_run() {
    let refuses = Application::new("refuses", || {
        Err::<Pid, _>(StartError::Stop(ExitReason::custom("no")))
    });
    let result = watchdog(Duration::from_secs(60), move || {
        application::run(runtime(), vec![refuses], RestartType::Permanent)
    });
    assert_eq!(
        result,
        Err(ApplicationError::StartFailed {
            app: "refuses".into(),
            error: StartError::Stop(ExitReason::custom("no"))
        })
    );
}

#[test]
fn a_halt_stops_applications_newest_first_and_kills_other_processes() {
    run(|| {
        let log = Log::default();
        let watch = application::watch_halt().unwrap();
        application::load(logged("first", &log)).unwrap();
        application::load(logged("second", &log)).unwrap();
        application::start("first", RestartType::Temporary).unwrap();
        application::start("second", RestartType::Temporary).unwrap();
        let bystander = spawn(|| {
            receive::<Never>();
        })
        .unwrap();
        spawn(|| application::stop_system().unwrap()).unwrap();
        assert_eq!(watch.wait(), Ok(Halt::Requested));
        assert_eq!(
            log.take(),
            ["first", "second", "second stopped", "first stopped"]
        );
        // Everything but this process is killed (the controller exits too).
        while processes().len() > 1 {
            sleep(Duration::from_millis(1));
        }
        assert!(!is_alive(bystander));
    });
}

#[test]
fn concurrent_starts_start_each_application_once() {
    run(|| {
        let log = Log::default();
        application::load(logged("base", &log)).unwrap();
        application::load(logged("top", &log).depends_on(["base"])).unwrap();
        let me = beamlet::self_pid();
        for _ in 0..2 {
            spawn(move || {
                let r = application::start("top", RestartType::Temporary);
                beamlet::send(me, r).unwrap();
            })
            .unwrap();
        }
        let mut results = [
            receive::<Result<Vec<String>, ApplicationError>>(),
            receive::<Result<Vec<String>, ApplicationError>>(),
        ];
        results.sort_by_key(|r| r.is_err());
        // The winner started "top" (and maybe "base"); the other lost the race
        // for "top" and left what it started running.
        assert_eq!(results[0].as_ref().unwrap().last().unwrap(), "top");
        assert_eq!(
            results[1],
            Err(ApplicationError::AlreadyStarted("top".into()))
        );
        assert_eq!(log.take(), ["base", "top"]);
        assert_eq!(running(), ["top", "base"]);
    });
}
