//! Stack overflow in one process that never calls the runtime on its way down (a
//! runtime call in the red zone would end the process alone, see `tests/stacks.rs`):
//! the guard page is hit and the runtime aborts the OS process with a message naming
//! the overflowing pid and both likely causes — never silent corruption of a
//! neighbouring stack, never a hang. Each case runs in a child copy of this test
//! binary, since the expected outcome is an abort.

use std::process::Command;

use beamlet::Runtime;

const CHILD_ENV: &str = "BEAMLET_OVERFLOW_CHILD";

/// Recurses with a 1 KiB frame until the stack runs out.
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth as u8; 1024]);
    if depth == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + u64::from(frame[0])
}

fn overflow_in_process(reuse_first: bool) {
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    if reuse_first {
        // Cycle stacks through the pool so that the overflowing process runs on a
        // stack another process used before.
        rt.block_on(|| {
            for _ in 0..10_000 {
                beamlet::spawn(|| {}).unwrap();
            }
        })
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = rt.block_on(|| recurse(0));
    unreachable!("the overflow must abort");
}

fn run_child(case: &str) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, case)
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    (
        out.status.signal(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Entry point of the child copies; does nothing in the parent run.
#[test]
fn child() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("fresh") => overflow_in_process(false),
        Ok("reused") => overflow_in_process(true),
        _ => {}
    }
}

fn assert_aborted_naming_pid(case: &str) {
    let (signal, stderr) = run_child(case);
    assert_eq!(
        signal,
        Some(libc_sigabrt()),
        "child must abort; stderr: {stderr}"
    );
    assert!(
        stderr.contains("beamlet: process <") && stderr.contains("overflowed its stack"),
        "stderr names the process: {stderr}"
    );
    assert!(
        stderr.contains("recurses without bound")
            && stderr.contains("SpawnOpts::stack_size")
            && stderr.contains("StartOptions::stack_size")
            && stderr.contains("RuntimeBuilder::stack_size"),
        "stderr names both causes and the options: {stderr}"
    );
}

fn libc_sigabrt() -> i32 {
    6
}

#[test]
fn overflow_on_a_fresh_stack_aborts_naming_the_pid() {
    assert_aborted_naming_pid("fresh");
}

#[test]
fn overflow_on_a_reused_stack_aborts_naming_the_pid() {
    assert_aborted_naming_pid("reused");
}
