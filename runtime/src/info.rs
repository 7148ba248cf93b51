//! Process introspection from process code: `processes()`, `process_count()`,
//! `process_info()` and `for_each_process()` (the snapshots are read by the kernel,
//! see `kernel/info.rs`), `runtime_stats()` and `recent_system_events()`
//! (`kernel/stats.rs`), and `set_label()` / `set_behaviour()`, which a process calls
//! to describe itself in them.
//!
//! None of these stops a scheduler. A whole-runtime scan (`for_each_process`) reads
//! one slot at a time, holding that process's relations lock only while its name
//! and label are copied, and pays a reduction per process: in a process, a scan of
//! a million processes is preempted as any long loop is, so the schedulers keep
//! running everyone else.

use std::sync::Arc;

use crate::kernel::info::{Behaviour, ProcessInfo, ProcessSummary};
use crate::kernel::shared::Shared;
use crate::kernel::stats::{RuntimeStats, SystemEvent};
use crate::pid::Pid;
use crate::scheduler::context::{with_context, with_runtime, with_runtime_of};
use crate::scheduler::current::{Current, charge};

/// Every live process of the caller's runtime.
///
/// # Panics
///
/// Outside a process (use [`Runtime::processes`](crate::Runtime::processes)).
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| assert!(beamlet::processes().contains(&beamlet::self_pid()))).unwrap();
/// rt.shutdown();
/// ```
pub fn processes() -> Vec<Pid> {
    with_runtime(Shared::processes).expect("beamlet: processes() outside a process")
}

/// A snapshot of `pid`, or `None` if it is not alive. Reads published state; the
/// process is not interrupted.
///
/// ```
/// use beamlet::{process_info, register, self_pid, ProcessStatus};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     register("info_demo", self_pid()).unwrap();
///     let info = process_info(self_pid()).unwrap();
///     assert_eq!(info.status, ProcessStatus::Running);
///     assert_eq!(info.registered_name.as_deref(), Some("info_demo"));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn process_info(pid: Pid) -> Option<ProcessInfo> {
    with_runtime_of(pid, |s| s.process_info(pid)).flatten()
}

/// The number of live processes of the caller's runtime (as
/// `erlang:system_info(process_count)`); the caller counts. One atomic load, unlike
/// `processes().len()`.
///
/// # Panics
///
/// Outside a process (use [`Runtime::process_count`](crate::Runtime::process_count)).
///
/// ```
/// use beamlet_runtime::{process_count, receive, self_pid, send, spawn};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert_eq!(process_count(), 1);
///     let me = self_pid();
///     let child = spawn(move || { send(me, ()).unwrap(); receive::<()>(); }).unwrap();
///     receive::<()>();
///     assert_eq!(process_count(), 2);
///     send(child, ()).unwrap();
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn process_count() -> usize {
    with_runtime(Shared::process_count).expect("beamlet: process_count() outside a process")
}

/// Labels the calling process (as OTP 27's `proc_lib:set_label/1`): a name for
/// people, not for sending to (use [`register`](crate::register) for that), shown by
/// [`process_info`] and in the process's crash and error reports. Any number of
/// processes may share a label; setting it again replaces it.
///
/// # Panics
///
/// Outside a process.
///
/// ```
/// use beamlet_runtime::{process_info, self_pid, set_label};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     set_label(format!("conn {}", 42));
///     assert_eq!(process_info(self_pid()).unwrap().label.as_deref(), Some("conn 42"));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn set_label(label: impl Into<String>) {
    let me = Current::expect("set_label");
    Shared::set_label(me.process(), label.into());
}

/// Says which behaviour the calling process runs (as `proc_lib` records a process's
/// `'$initial_call'`), for [`process_info`], [`for_each_process`] and observers:
/// `kind` is the behaviour (`"gen_server"`, `"supervisor"`...), `module` the
/// callback type (`std::any::type_name::<T>()`). The behaviours of `beamlet::otp`
/// call it when they start; a hand-written behaviour loop may too. Setting it again
/// replaces it.
///
/// # Panics
///
/// Outside a process.
///
/// ```
/// use beamlet::{process_info, self_pid, set_behaviour, Behaviour};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     set_behaviour("my_loop", "demo::Counter");
///     let b = process_info(self_pid()).unwrap().behaviour;
///     assert_eq!(b, Some(Behaviour { kind: "my_loop", module: "demo::Counter" }));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn set_behaviour(kind: &'static str, module: &'static str) {
    let me = Current::expect("set_behaviour");
    Shared::set_behaviour(me.process(), Behaviour { kind, module });
}

/// Calls `f` with a [`ProcessSummary`] of every live process of the caller's
/// runtime, in slot order (as walking `processes()` with `process_info`, without
/// the vector of pids or the full snapshots).
///
/// The scan never stops the world: each process is read on its own, so processes
/// that spawn or exit meanwhile may or may not be seen, and each summary is as of
/// the moment it was read. It pays one reduction per process, so a scan of a
/// million processes is preempted as other long loops are. Do not hold a lock in
/// `f` that other processes need: the caller may be switched out between calls.
///
/// # Panics
///
/// Outside a process (use [`Runtime::for_each_process`](crate::Runtime::for_each_process)).
///
/// ```
/// use beamlet::{for_each_process, register, self_pid};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     register("scanner", self_pid()).unwrap();
///     let mut names = Vec::new();
///     for_each_process(|p| names.extend(p.registered_name.clone()));
///     assert_eq!(names, ["scanner"]);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn for_each_process(mut f: impl FnMut(&ProcessSummary)) {
    let shared: Arc<Shared> = with_context(|cx| cx.shared.clone())
        .expect("beamlet: for_each_process() outside a process");
    // The `Arc` is held across switches (a reference into the thread-local
    // context would not be); each summary is a copy, so no lock is held either.
    visit_processes(&shared, &mut f, true);
}

/// The scan of [`for_each_process`]; `preemptible` when run by a process.
pub(crate) fn visit_processes(
    shared: &Shared,
    f: &mut dyn FnMut(&ProcessSummary),
    preemptible: bool,
) {
    let mut index = 0;
    while index < shared.table_len() {
        if let Some(summary) = shared.summary(index) {
            f(&summary);
        }
        if preemptible {
            charge(1);
        }
        index += 1;
    }
}

/// Runtime-wide figures of the caller's runtime (as [`Runtime::stats`](crate::Runtime::stats)).
///
/// # Panics
///
/// Outside a process.
///
/// ```
/// let rt = beamlet::Runtime::builder().schedulers(2).build().unwrap();
/// rt.block_on(|| {
///     let s = beamlet::runtime_stats();
///     assert_eq!(s.schedulers.len(), 2);
///     assert!(s.processes >= 1 && s.spawned >= 1);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn runtime_stats() -> RuntimeStats {
    with_runtime(Shared::stats).expect("beamlet: runtime_stats() outside a process")
}

/// The system monitor's last events (up to 64), oldest first: long schedules and
/// the hand-offs of stuck schedulers' queues. Kept whether or not a process
/// subscribed with [`system_monitor`](crate::system_monitor); numbered, so a poller
/// can skip those it has seen.
///
/// # Panics
///
/// Outside a process.
///
/// ```
/// use std::time::Duration;
/// use beamlet::{recent_system_events, spawn, SystemEventKind};
/// let rt = beamlet::Runtime::builder().schedulers(2).build().unwrap();
/// rt.block_on(|| {
///     let hog = spawn(|| std::thread::sleep(Duration::from_millis(50))).unwrap();
///     beamlet::sleep(Duration::from_millis(200));
///     let events = recent_system_events();
///     assert!(events.iter().any(|e| e.pid == hog
///         && matches!(e.kind, SystemEventKind::LongSchedule { .. })));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn recent_system_events() -> Vec<SystemEvent> {
    with_runtime(Shared::system_events).expect("beamlet: recent_system_events() outside a process")
}
