//! Bad input: every builder option with an invalid value fails `build` with its own
//! typed error (never a panic, never a silent clamp), the boundary values build, and
//! the API's absurd-but-meaningful timeouts (`Duration::MAX` as "for ever", zero as
//! "don't wait") work without overflowing a deadline.

use std::time::Duration;

use beamlet::{
    BuildError, MAX_PROCESSES, MAX_STACK_SIZE, MIN_STACK_SIZE, Runtime, RuntimeBuilder,
    cancel_timer, receive_timeout, self_pid, send, send_after, sleep, spawn,
};

mod common;
use common::{PATIENCE, stop, watchdog};

/// A small runtime's builder: few threads, few process slots.
fn small() -> RuntimeBuilder {
    Runtime::builder()
        .schedulers(1)
        .dirty_cpu_schedulers(1)
        .dirty_io_schedulers(1)
        .max_processes(64)
}

fn build_err(b: RuntimeBuilder) -> BuildError {
    match b.build() {
        Ok(rt) => {
            stop(rt);
            panic!("an invalid setting built a runtime")
        }
        Err(e) => {
            assert!(!e.to_string().is_empty(), "{e:?} explains itself");
            e
        }
    }
}

/// Builds `b`, runs one process on it and shuts it down.
fn builds_and_runs(b: RuntimeBuilder) {
    let rt = b.build().expect("a valid setting builds");
    assert_eq!(rt.block_on(|| 6 * 7).unwrap(), 42);
    stop(rt);
}

#[test]
fn zero_schedulers_is_refused() {
    assert!(matches!(
        build_err(small().schedulers(0)),
        BuildError::ZeroSchedulers
    ));
}

#[test]
fn a_simulation_on_several_schedulers_is_refused() {
    match build_err(small().simulation(7).schedulers(2)) {
        BuildError::SimulationSchedulers(n) => assert_eq!(n, 2),
        e => panic!("{e:?}"),
    }
    builds_and_runs(small().simulation(7));
}

#[test]
fn empty_dirty_pools_are_refused() {
    assert!(matches!(
        build_err(small().dirty_cpu_schedulers(0)),
        BuildError::ZeroDirtySchedulers
    ));
    assert!(matches!(
        build_err(small().dirty_io_schedulers(0)),
        BuildError::ZeroDirtySchedulers
    ));
}

#[test]
fn stack_sizes_outside_the_bounds_are_refused() {
    for bytes in [0, 1, MIN_STACK_SIZE - 1, MAX_STACK_SIZE + 1, usize::MAX] {
        match build_err(small().stack_size(bytes)) {
            BuildError::StackSize(b) => assert_eq!(b, bytes),
            e => panic!("stack_size({bytes}): {e:?}"),
        }
    }
}

#[test]
fn stack_sizes_at_the_bounds_build() {
    builds_and_runs(small().stack_size(MIN_STACK_SIZE));
    builds_and_runs(small().stack_size(MAX_STACK_SIZE));
    // Not a multiple of the page size: rounded up.
    builds_and_runs(small().stack_size(MIN_STACK_SIZE + 1));
}

#[test]
fn reductions_outside_the_counter_are_refused() {
    assert!(matches!(
        build_err(small().reductions(0)),
        BuildError::ZeroReductions
    ));
    let too_many = i32::MAX as u32 + 1;
    for n in [too_many, u32::MAX] {
        match build_err(small().reductions(n)) {
            BuildError::Reductions(r) => assert_eq!(r, n),
            e => panic!("reductions({n}): {e:?}"),
        }
    }
    builds_and_runs(small().reductions(1));
    builds_and_runs(small().reductions(i32::MAX as u32));
}

#[test]
fn process_limits_outside_the_bounds_are_refused() {
    for n in [0, MAX_PROCESSES + 1, usize::MAX] {
        match build_err(small().max_processes(n)) {
            BuildError::MaxProcesses(m) => assert_eq!(m, n),
            e => panic!("max_processes({n}): {e:?}"),
        }
    }
    // One slot: the root process fits, a second spawn hits the limit.
    let rt = small().max_processes(1).build().unwrap();
    let second = rt.block_on(|| spawn(|| {})).unwrap();
    assert_eq!(second, Err(beamlet::SpawnError::SystemLimit));
    stop(rt);
}

#[test]
fn long_schedule_below_a_millisecond_is_refused() {
    for t in [Duration::ZERO, Duration::from_micros(999)] {
        match build_err(small().long_schedule(t)) {
            BuildError::LongSchedule(d) => assert_eq!(d, t),
            e => panic!("long_schedule({t:?}): {e:?}"),
        }
    }
    builds_and_runs(small().long_schedule(Duration::from_millis(1)));
    builds_and_runs(small().long_schedule(Duration::MAX));
}

#[test]
fn zero_shutdown_timeout_is_refused_and_max_waits_for_ever() {
    assert!(matches!(
        build_err(small().shutdown_timeout(Duration::ZERO)),
        BuildError::ZeroShutdownTimeout
    ));
    // `Duration::MAX` must not overflow the shutdown deadline; a live process is
    // killed and waited for.
    watchdog(PATIENCE, || {
        let rt = small().shutdown_timeout(Duration::MAX).build().unwrap();
        let pid = rt.spawn(|| sleep(Duration::MAX)).unwrap();
        assert!(rt.is_alive(pid));
        let report = rt.shutdown();
        assert_eq!((report.killed, report.stuck), (1, 0));
    });
}

#[test]
fn a_thread_name_with_a_nul_byte_is_refused() {
    match build_err(small().thread_name("sched\0x")) {
        BuildError::ThreadName(n) => assert_eq!(n, "sched\0x"),
        e => panic!("{e:?}"),
    }
    builds_and_runs(small().thread_name("Ünïcode-名前"));
}

#[test]
fn the_first_invalid_setting_is_reported_whatever_the_others() {
    // Several bad settings at once still give a typed error, not a panic.
    let e = build_err(
        small()
            .schedulers(0)
            .stack_size(0)
            .reductions(0)
            .max_processes(0),
    );
    assert!(matches!(
        e,
        BuildError::ZeroSchedulers
            | BuildError::StackSize(0)
            | BuildError::ZeroReductions
            | BuildError::MaxProcesses(0)
    ));
}

#[test]
fn extreme_timeouts_mean_for_ever_and_now() {
    watchdog(PATIENCE, || {
        let rt = small().build().unwrap();
        rt.block_on(|| {
            // Zero: don't wait.
            assert_eq!(receive_timeout::<u8>(Duration::ZERO), None);
            sleep(Duration::ZERO);
            // `Duration::MAX`: wait for ever, without overflowing a deadline.
            let me = self_pid();
            spawn(move || send(me, 7u8).unwrap()).unwrap();
            assert_eq!(receive_timeout::<u8>(Duration::MAX), Some(7));
            let t = send_after(Duration::MAX, me, 8u8);
            let left = cancel_timer(&t).expect("pending until cancelled");
            assert!(left > Duration::from_secs(365 * 24 * 3600));
            assert_eq!(receive_timeout::<u8>(Duration::from_millis(10)), None);
            // A timer with a zero delay fires at once.
            send_after(Duration::ZERO, me, 9u8);
            assert_eq!(receive_timeout::<u8>(PATIENCE), Some(9));
        })
        .unwrap();
        stop(rt);
    });
}

#[test]
fn spawn_outside_a_process_says_so_while_the_runtime_lives() {
    let rt = small().build().unwrap();
    let err = beamlet::spawn(|| ()).unwrap_err();
    assert_eq!(err, beamlet::SpawnError::NotInProcess);
    assert!(err.to_string().contains("Runtime::spawn"), "{err}");
    // The same from a dirty thread, which runs no process either.
    let from_dirty = rt
        .block_on(|| beamlet::dirty_cpu(|| beamlet::spawn(|| ()).unwrap_err()))
        .unwrap();
    assert_eq!(from_dirty, Ok(beamlet::SpawnError::NotInProcess));
    assert_eq!(rt.shutdown().killed, 0);
}

#[test]
fn dirty_cpu_outside_a_process_names_itself() {
    let panic = std::panic::catch_unwind(|| beamlet::dirty_cpu(|| 1)).unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("dirty_cpu called outside a process"), "{msg}");
}
