//! Process introspection from process code: `processes()`, `process_count()`,
//! `process_info()` (the snapshot is read by the kernel, see `kernel/info.rs`), and
//! `set_label()`, which a process calls to name itself in them.

use crate::kernel::info::ProcessInfo;
use crate::kernel::shared::Shared;
use crate::pid::Pid;
use crate::scheduler::context::{with_runtime, with_runtime_of};
use crate::scheduler::current::Current;

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
