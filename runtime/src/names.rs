//! Registered names (as `register/2`, `whereis/1`, `Name ! Msg`), one table per
//! runtime (kept by the kernel: `kernel/name_table.rs`).

use std::sync::Arc;

use crate::error::{RegisterError, SendError, UnknownName};
use crate::kernel::shared::Shared;
use crate::pid::Pid;
use crate::scheduler::context::{with_runtime, with_runtime_of};
use crate::send::send;

fn with_shared<R>(f: impl FnOnce(&Shared) -> R) -> R {
    with_runtime(f)
        .expect("beamlet: name functions must be called from a process (or use Runtime's)")
}

/// Registers `pid` under `name` in the caller's runtime. The name is released when
/// the process exits.
///
/// # Errors
///
/// [`RegisterError`] if the name is taken, the process has a name, or it is dead.
///
/// # Examples
///
/// ```
/// use beamlet::{register, self_pid, send_named, receive, whereis};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     register("me", self_pid()).unwrap();
///     assert_eq!(whereis("me"), Some(self_pid()));
///     send_named("me", 5u8).unwrap();
///     assert_eq!(receive::<u8>(), 5);
/// }).unwrap();
/// assert_eq!(rt.whereis("me"), None);
/// rt.shutdown();
/// ```
pub fn register(name: &str, pid: Pid) -> Result<(), RegisterError> {
    with_shared(|s| s.register_name(name, pid))
}

/// Removes a registration; returns the pid that held the name, if any.
pub fn unregister(name: &str) -> Option<Pid> {
    with_shared(|s| s.unregister_name(name))
}

/// The pid registered under `name`, if any.
pub fn whereis(name: &str) -> Option<Pid> {
    with_shared(|s| s.names.whereis(name))
}

/// The name `pid` is registered under, if it is alive and has one (as
/// `process_info(Pid, registered_name)`; cheaper than [`process_info`](crate::process_info)).
///
/// ```
/// use beamlet::{register, registered_name, self_pid};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert_eq!(registered_name(self_pid()), None);
///     register("me", self_pid()).unwrap();
///     assert_eq!(registered_name(self_pid()).as_deref(), Some("me"));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn registered_name(pid: Pid) -> Option<Arc<str>> {
    with_runtime_of(pid, |s| s.registered_name(pid)).flatten()
}

/// Every registered name of the caller's runtime.
pub fn registered() -> Vec<String> {
    with_shared(|s| s.names.registered())
}

/// Sends `msg` to the process registered as `name`.
///
/// # Errors
///
/// [`UnknownName`] (with the message) if no process holds the name. A message the
/// process's mailbox limit refuses is dropped without an error (use [`whereis`] and
/// [`send`](fn@crate::send) to learn of it).
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| beamlet::send_named("nobody", 1u8)).unwrap();
/// assert_eq!(r, Err(beamlet::UnknownName(1u8)));
/// rt.shutdown();
/// ```
pub fn send_named<M: Send + 'static>(name: &str, msg: M) -> Result<(), UnknownName<M>> {
    match whereis(name) {
        Some(pid) => send(pid, msg).or_else(|e| match e {
            // A message shed by a full mailbox is dropped, as the limit decided.
            SendError::MailboxFull(_) => Ok(()),
            SendError::NoProc(m) => Err(UnknownName(m)),
        }),
        None => Err(UnknownName(msg)),
    }
}
