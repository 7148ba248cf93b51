//! The panic hook and stderr: with no logger installed, a process's panic is still
//! reported (on stderr, once, without the default hook's "thread panicked"); a panic
//! hook the user installed before the runtime was built still sees process panics,
//! and the exit reason still carries the message. Each case runs in a child copy of
//! this test binary (`--nocapture`, so that libtest installs no hook of its own),
//! since a panic hook and a logger are OS-process-wide.

use std::process::Command;

use beamlet::{Down, ExitReason, Runtime, receive, spawn_monitor};

const CHILD_ENV: &str = "BEAMLET_PANIC_HOOK_CHILD";

fn crash_one_process() -> ExitReason {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let reason = rt
        .block_on(|| {
            spawn_monitor(|| panic!("child boom")).unwrap();
            receive::<Down>().reason
        })
        .unwrap();
    let _ = rt.shutdown();
    reason
}

/// Entry point of the child copies; does nothing in the parent run.
#[test]
fn child() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("default") => {
            crash_one_process();
        }
        Ok("user_hook") => {
            std::panic::set_hook(Box::new(|info| {
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .copied()
                    .unwrap_or("?");
                eprintln!("USER HOOK: {msg}");
            }));
            match crash_one_process() {
                ExitReason::Panic(p) if p.message() == "child boom" => eprintln!("REASON OK"),
                other => eprintln!("REASON WRONG: {other:?}"),
            }
        }
        _ => {}
    }
}

fn run_child(case: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, case)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn without_a_logger_a_process_panic_is_reported_once_on_stderr() {
    let stderr = run_child("default");
    assert_eq!(
        stderr.matches("=ERROR REPORT==== Error in process").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("child boom"), "{stderr}");
    assert!(
        !stderr.contains("panicked at"),
        "the default hook stays quiet: {stderr}"
    );
}

#[test]
fn a_hook_installed_before_build_sees_process_panics() {
    let stderr = run_child("user_hook");
    assert!(stderr.contains("USER HOOK: child boom"), "{stderr}");
    assert!(stderr.contains("REASON OK"), "{stderr}");
}
