//! Process introspection from process code: `processes()`, `process_info()` (the
//! snapshot is read by the kernel, see `kernel/info.rs`).

use crate::kernel::info::ProcessInfo;
use crate::kernel::shared::Shared;
use crate::pid::Pid;
use crate::scheduler::context::{with_runtime, with_runtime_of};

/// Every live process of the caller's runtime.
///
/// # Panics
///
/// Outside a process (use [`Runtime::processes`](crate::Runtime::processes)).
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| assert!(beamlet_runtime::processes().contains(&beamlet_runtime::self_pid()))).unwrap();
/// rt.shutdown();
/// ```
pub fn processes() -> Vec<Pid> {
    with_runtime(Shared::processes).expect("beamlet: processes() outside a process")
}

/// A snapshot of `pid`, or `None` if it is not alive. Reads published state; the
/// process is not interrupted.
///
/// ```
/// use beamlet_runtime::{process_info, register, self_pid, ProcessStatus};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
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
