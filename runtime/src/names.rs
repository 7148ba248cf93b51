//! Registered names (as `register/2`, `whereis/1`, `Name ! Msg`), one table per runtime.
//!
//! Lock order: the name table, then a process's relations. The exit path takes the
//! relations first, releases them, then the table, so the two never nest the other way.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use crate::scheduler::Shared;
use crate::scheduler::context::with_context;
use crate::{Pid, SendError, api};

/// The name table of a runtime.
#[derive(Debug, Default)]
pub(crate) struct Names {
    map: RwLock<HashMap<Arc<str>, Pid>>,
}

/// Why [`register`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// The name is taken by this process.
    NameTaken(Pid),
    /// The process already has a name.
    AlreadyRegistered(String),
    /// The process does not exist.
    NoProc,
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::NameTaken(p) => write!(f, "the name is registered to {p}"),
            RegisterError::AlreadyRegistered(n) => write!(f, "the process is registered as {n:?}"),
            RegisterError::NoProc => f.write_str("noproc: the process does not exist"),
        }
    }
}

impl std::error::Error for RegisterError {}

/// A send to a name nobody holds (the BEAM raises `badarg`); the message comes back.
#[derive(PartialEq, Eq)]
pub struct UnknownName<M>(pub M);

impl<M> fmt::Debug for UnknownName<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnknownName(..)")
    }
}

impl<M> fmt::Display for UnknownName<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no process is registered under that name")
    }
}

impl<M> std::error::Error for UnknownName<M> {}

impl Names {
    pub(crate) fn register(
        &self,
        shared: &Shared,
        name: &str,
        pid: Pid,
    ) -> Result<(), RegisterError> {
        if pid.runtime != shared.id {
            return Err(RegisterError::NoProc);
        }
        let proc = shared.table.get(pid.index).ok_or(RegisterError::NoProc)?;
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&holder) = map.get(name) {
            return Err(RegisterError::NameTaken(holder));
        }
        let mut rel = proc.relations();
        // Checked under the relations lock: the exit path marks the process Exiting
        // before it takes the relations, so a name set here is always released.
        if !shared.is_alive(pid) {
            return Err(RegisterError::NoProc);
        }
        if let Some(n) = &rel.name {
            return Err(RegisterError::AlreadyRegistered(n.to_string()));
        }
        let name: Arc<str> = Arc::from(name);
        rel.name = Some(name.clone());
        map.insert(name, pid);
        Ok(())
    }

    pub(crate) fn unregister(&self, shared: &Shared, name: &str) -> Option<Pid> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let pid = map.remove(name)?;
        if let Some(proc) = shared.table.get(pid.index) {
            let mut rel = proc.relations();
            if proc.serial.load(Ordering::Acquire) == pid.serial {
                rel.name = None;
            }
        }
        Some(pid)
    }

    /// Removes `name` if it still maps to `pid` (process exit).
    pub(crate) fn release(&self, name: &str, pid: Pid) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.get(name) == Some(&pid) {
            map.remove(name);
        }
    }

    pub(crate) fn whereis(&self, name: &str) -> Option<Pid> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
    }

    pub(crate) fn registered(&self) -> Vec<String> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.keys().map(|k| k.to_string()).collect()
    }
}

fn with_shared<R>(f: impl FnOnce(&Shared) -> R) -> R {
    with_context(|cx| f(&cx.shared))
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
/// use beamlet_runtime::{register, self_pid, send_named, receive, whereis};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
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
    with_shared(|s| s.names.register(s, name, pid))
}

/// Removes a registration; returns the pid that held the name, if any.
pub fn unregister(name: &str) -> Option<Pid> {
    with_shared(|s| s.names.unregister(s, name))
}

/// The pid registered under `name`, if any.
pub fn whereis(name: &str) -> Option<Pid> {
    with_shared(|s| s.names.whereis(name))
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
/// [`send`](crate::send) to learn of it).
///
/// ```
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| beamlet_runtime::send_named("nobody", 1u8)).unwrap();
/// assert_eq!(r, Err(beamlet_runtime::UnknownName(1u8)));
/// rt.shutdown();
/// ```
pub fn send_named<M: Send + 'static>(name: &str, msg: M) -> Result<(), UnknownName<M>> {
    match whereis(name) {
        Some(pid) => api::send(pid, msg).or_else(|e| match e {
            // A message shed by a full mailbox is dropped, as the limit decided.
            SendError::MailboxFull(_) => Ok(()),
            SendError::NoProc(m) => Err(UnknownName(m)),
        }),
        None => Err(UnknownName(msg)),
    }
}
