//! The OS-process-wide list of live runtimes, so that a pid can be resolved from any
//! thread (a plain thread, or a process of another runtime).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::shared::Shared;

static RUNTIMES: Mutex<Vec<(u32, Weak<Shared>)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A fresh runtime number.
pub(crate) fn next_id() -> u32 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn insert(shared: &Arc<Shared>) {
    let mut r = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
    r.retain(|(_, w)| w.strong_count() > 0);
    r.push((shared.id, Arc::downgrade(shared)));
}

pub(crate) fn remove(id: u32) {
    let mut r = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
    r.retain(|(i, w)| *i != id && w.strong_count() > 0);
}

/// The runtime numbered `id`, if it is running.
pub(crate) fn lookup(id: u32) -> Option<Arc<Shared>> {
    let r = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
    r.iter()
        .find(|(i, _)| *i == id)
        .and_then(|(_, w)| w.upgrade())
}

/// The first running runtime for which `pred` holds.
pub(crate) fn find(mut pred: impl FnMut(&Shared) -> bool) -> Option<Arc<Shared>> {
    let live: Vec<Arc<Shared>> = {
        let r = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
        r.iter().filter_map(|(_, w)| w.upgrade()).collect()
    };
    // The predicate runs without the list's lock: it takes locks of its own.
    live.into_iter().find(|s| pred(s))
}
