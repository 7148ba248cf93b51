//! Synchronisation primitives, swapped for loom's under `cfg(loom)` so that the
//! lock-free parts can be model-checked.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::Mutex;

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{
            AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
        };
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::Mutex;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{
            AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
        };
    }
}

/// Waking a parked scheduler thread: crossbeam's `Unparker` in the runtime, a
/// loom-aware parker in the models (see `tests::loom_park`).
pub(crate) trait Unpark {
    /// Makes the owner's current or next `park` return.
    fn unpark(&self);
}

impl Unpark for crossbeam_utils::sync::Unparker {
    fn unpark(&self) {
        crossbeam_utils::sync::Unparker::unpark(self);
    }
}
