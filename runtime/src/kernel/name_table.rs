//! The name table of a runtime (the kernel side of `register/2`, `whereis/1`,
//! `Name ! Msg`; the public functions are in `crate::names`).
//!
//! Lock order: the name table, then a process's relations. The exit path takes the
//! relations first, releases them, then the table, so the two never nest the other way.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use crate::error::RegisterError;
use crate::pid::Pid;
use crate::process::Process;
use crate::process::table::ProcessTable;

/// The name table of a runtime.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    map: RwLock<HashMap<Arc<str>, Pid>>,
}

impl NameTable {
    /// Registers `name` for `pid`, whose record is `proc`.
    pub(crate) fn register(
        &self,
        name: &str,
        pid: Pid,
        proc: &Process,
    ) -> Result<(), RegisterError> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&holder) = map.get(name) {
            return Err(RegisterError::NameTaken(holder));
        }
        let mut rel = proc.relations();
        // Checked under the relations lock: the exit path marks the process Exiting
        // before it takes the relations, so a name set here is always released.
        if !proc.is_live(pid) {
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

    /// Removes `name`, and the name from its holder's record (found in `table`).
    pub(crate) fn unregister(&self, table: &ProcessTable, name: &str) -> Option<Pid> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let pid = map.remove(name)?;
        if let Some(proc) = table.get(pid.index) {
            let mut rel = proc.relations();
            // Acquire pairs with the Release serial bump at exit: only the holder's own
            // record loses the name, not the slot's next occupant's.
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
