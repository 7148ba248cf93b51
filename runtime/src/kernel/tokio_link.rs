//! The tokio runtime a beamlet runtime enters while a process polls a future
//! (feature `tokio`), so that futures needing tokio's reactor or timers work inside
//! processes (`block_on_future`).
//!
//! Which one:
//!
//! 1. The handle given to `RuntimeBuilder::tokio_handle`, or else the tokio runtime
//!    the builder was called in (`Handle::try_current`): attached, not owned.
//! 2. Otherwise one of its own, started on the first poll (so a runtime that never
//!    polls a future starts no thread), with `tokio_threads` worker threads, and shut
//!    down by `Runtime::shutdown` after every process has exited.

use std::sync::{Mutex, OnceLock};

use tokio::runtime::{EnterGuard, Handle};

/// The tokio side of a runtime.
#[derive(Debug)]
pub(crate) struct TokioLink {
    handle: OnceLock<Handle>,
    /// The runtime started by step 2, kept to be shut down.
    owned: Mutex<Option<tokio::runtime::Runtime>>,
    threads: usize,
    thread_name: String,
}

impl TokioLink {
    pub(crate) fn new(attached: Option<Handle>, threads: usize, thread_name: String) -> TokioLink {
        let handle = OnceLock::new();
        if let Some(h) = attached {
            let _ = handle.set(h);
        }
        TokioLink {
            handle,
            owned: Mutex::new(None),
            threads: threads.max(1),
            thread_name,
        }
    }

    /// Enters the tokio runtime on this thread until the guard drops, starting it
    /// first if needed; `None` if it could not be started (the future then fails as
    /// it would outside tokio, with tokio's own message).
    pub(crate) fn enter(&self) -> Option<EnterGuard<'_>> {
        if let Some(h) = self.handle.get() {
            return Some(h.enter());
        }
        self.start()?;
        self.handle.get().map(Handle::enter)
    }

    #[cold]
    fn start(&self) -> Option<()> {
        let mut owned = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        if self.handle.get().is_some() {
            return Some(());
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.threads)
            .thread_name(format!("{}-tokio", self.thread_name))
            .enable_all()
            .build()
            .ok()?;
        let _ = self.handle.set(rt.handle().clone());
        *owned = Some(rt);
        Some(())
    }

    /// Shuts the owned tokio runtime down, without waiting for its tasks (they belong
    /// to futures of processes that have exited). An attached runtime is left alone.
    pub(crate) fn shutdown(&self) {
        let rt = self.owned.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(rt) = rt {
            rt.shutdown_background();
        }
    }
}
