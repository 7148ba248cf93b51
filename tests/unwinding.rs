//! A process must never switch out while its thread is unwinding (the panic count is
//! per thread and would leak to the next process): a destructor that calls `receive`
//! during a panic makes the runtime abort with a clear message. Runs in a child copy
//! of this test binary, since the expected outcome is an abort.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use beamlet::Runtime;

const CHILD_ENV: &str = "BEAMLET_UNWIND_CHILD";

/// Calls `receive` from its destructor.
struct ReceivesOnDrop;

impl Drop for ReceivesOnDrop {
    fn drop(&mut self) {
        let _ = beamlet::receive_timeout::<u8>(Duration::from_millis(1));
    }
}

/// Entry point of the child copy; does nothing in the parent run.
#[test]
fn child() {
    if std::env::var_os(CHILD_ENV).is_some() {
        let rt = Runtime::builder().schedulers(1).build().unwrap();
        let _ = rt.block_on(|| {
            let _guard = ReceivesOnDrop;
            panic!("unwinding with a guard that receives");
        });
        unreachable!("the switch during unwinding must abort");
    }
}

#[test]
fn a_switch_while_unwinding_aborts_with_a_clear_message() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(6), "aborted; stderr: {stderr}");
    assert!(
        stderr.contains("while unwinding"),
        "the message says why: {stderr}"
    );
}
