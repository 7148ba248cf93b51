//! SIGTERM and SIGINT with `application::stop_on_signals`: the signal stops the
//! running applications newest first (their stop callbacks run in that order) and
//! `run` returns, as `init:stop/0`; a signal nobody receives any more has its
//! default action. Each case runs in a child copy of this test binary, which sends
//! the signal to itself, since signal dispositions are OS-process-wide.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::{Arc, Mutex};

use beamlet::otp::application::{self, Application, RestartType};
use beamlet::{Runtime, receive, spawn, spawn_link};

const CHILD_ENV: &str = "BEAMLET_SIGNAL_CHILD";

/// An application whose stop callback records its name in `stopped`.
fn app(name: &'static str, stopped: &Arc<Mutex<Vec<&'static str>>>) -> Application {
    let stopped = stopped.clone();
    Application::new(name, || {
        spawn_link(|| {
            loop {
                receive::<()>();
            }
        })
    })
    .on_stop(move || stopped.lock().unwrap().push(name))
}

/// Sends `sig` to this OS process once both applications run.
fn signal_when_up(sig: libc::c_int) -> Application {
    Application::new("signaller", move || {
        spawn(move || {
            while application::which_applications().unwrap().len() < 3 {
                beamlet::sleep(std::time::Duration::from_millis(1));
            }
            // SAFETY: `kill` sends a signal to this process; no memory is touched.
            unsafe { libc::kill(libc::getpid(), sig) };
        })?;
        spawn_link(|| {
            loop {
                receive::<()>();
            }
        })
    })
}

/// Runs three applications until `sig` stops them; prints what happened.
fn run_until(sig: libc::c_int) {
    let stopped = Arc::new(Mutex::new(Vec::new()));
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    application::stop_on_signals(&rt).unwrap();
    let apps = vec![
        app("first", &stopped),
        app("second", &stopped),
        signal_when_up(sig),
    ];
    let halt = application::run(rt, apps, RestartType::Permanent);
    eprintln!("HALT {halt:?}");
    eprintln!("STOPPED {:?}", stopped.lock().unwrap());
}

/// Entry point of the child copies; does nothing in the parent run.
#[test]
fn child() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("term") => run_until(libc::SIGTERM),
        Ok("int") => run_until(libc::SIGINT),
        Ok("after") => {
            run_until(libc::SIGTERM);
            // The watcher is gone with its runtime: the default action again.
            // SAFETY: as in `signal_when_up`.
            unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            std::thread::sleep(std::time::Duration::from_secs(30));
            eprintln!("STILL ALIVE");
        }
        _ => {}
    }
}

fn run_child(case: &str) -> (std::process::ExitStatus, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, case)
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The child `case` sent itself a signal: it halted as asked, after stopping the
/// applications newest first, and exited cleanly.
fn assert_stopped_in_order(case: &str) {
    let (status, stderr) = run_child(case);
    assert!(status.success(), "{status:?} {stderr}");
    assert!(stderr.contains("HALT Ok(Requested)"), "{stderr}");
    assert!(
        stderr.contains(r#"STOPPED ["second", "first"]"#),
        "{stderr}"
    );
}

#[test]
fn sigterm_stops_the_applications_newest_first_and_run_returns() {
    assert_stopped_in_order("term");
}

#[test]
fn sigint_does_the_same() {
    assert_stopped_in_order("int");
}

#[test]
fn a_signal_after_the_halt_has_its_default_action() {
    let (status, stderr) = run_child("after");
    assert!(stderr.contains("HALT Ok(Requested)"), "{stderr}");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?} {stderr}");
    assert!(!stderr.contains("STILL ALIVE"), "{stderr}");
}
