//! Handing a core from a stuck scheduler thread to a fresh one.
//!
//! A process that runs for long without reaching a reduction point (a hot loop that
//! never calls the runtime, or a blocking syscall) holds its OS thread. The core it
//! was scheduled from — run queue, next slot, timers — must not be held hostage with
//! it. Each core therefore has a [`CoreSlot`] through which the system monitor can
//! take the core away from the thread, and give it to a spare thread.
//!
//! # Protocol
//!
//! A slot's `lease` holds the epoch of the core's current owner and a state:
//! `Owned`, `Stealing` (the monitor is deciding) or `Stolen`. Every owner has its own
//! epoch, so a thread that lost the core can never mistake a later owner's lease for
//! its own.
//!
//! The owner, whenever it touches the core (its scheduler loop, and runtime calls of
//! the process it runs):
//!
//! 1. reads the lease; a different epoch means the core is gone: stop here;
//! 2. sets `busy`; fence;
//! 3. reads the lease again: `Owned` with its epoch → use the core, then clear `busy`;
//!    `Stealing` → spin until the monitor decides; `Stolen` or another epoch → the
//!    core is gone (and `busy` is left alone: the new owner resets it).
//!
//! The monitor, for a core whose thread has been inside one process for too long:
//!
//! 4. moves the lease `Owned → Stealing` (CAS); fence;
//! 5. if `busy` is set, moves it back to `Owned` (the owner is inside the runtime and
//!    will reach a switch soon); otherwise to `Stolen`: the core is the monitor's,
//!    which hands it to a new owner with a new epoch.
//!
//! The fences make this Dekker's protocol: either the owner sees `Stealing`/`Stolen`
//! or the monitor sees `busy`; and an owner that sees `Stealing` waits for the
//! verdict, so exactly one side ends up with the core. A thread that lost its core
//! only ever *sets* `busy` (a stale write that can delay a later steal, never allow
//! a wrong one).
//!
//! The owner's side runs on every runtime call, so it uses only a compiler fence; the
//! monitor's side uses `membarrier(2)`, which executes a full memory barrier on every
//! thread of the process (the asymmetric-fence technique of userspace RCU). Where
//! `membarrier` is unavailable both sides use a SeqCst fence.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering, compiler_fence, fence};
use std::sync::{Condvar, Mutex, OnceLock};

use super::core::Core;

const OWNED: u64 = 0;
const STEALING: u64 = 1;
const STOLEN: u64 = 2;
const STATE_MASK: u64 = 3;

/// The handing-over state of one core (see the module protocol).
///
/// Aligned to 128 bytes (two cache lines, the unit the adjacent-line prefetcher
/// pulls in): the slots sit side by side in `Shared::slots`, and each core writes its
/// own switch counter, running pid and statistics at every switch or idle period,
/// so slots sharing a line would bounce it between the cores (measured in issue
/// #15: 2-scheduler ping-pong 298 → 270 ns a round trip with the padding).
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct CoreSlot {
    /// `epoch << 2 | state`.
    lease: AtomicU64,
    busy: AtomicBool,
    /// The core itself, allocated once and freed with the slot; used only by the
    /// holder of the lease.
    core: AtomicPtr<Core>,
    /// Switch counter published by the owner: odd while a process runs. The monitor
    /// reads it to see whether the thread is still inside the same process.
    pub(crate) switches: AtomicU64,
    /// The pid (packed index and serial) of the process running on this core, for
    /// long-schedule reports.
    pub(crate) running: AtomicU64,
    /// Statistics of the core, written only by the holder of its lease (so a load
    /// and a store, not a locked read-modify-write; the lease's Acquire/Release
    /// hand-over orders one holder's writes before the next one's) and read by
    /// anyone (Relaxed): see [`CoreCounters`].
    pub(crate) counters: CoreCounters,
}

/// What a core counts for `Runtime::stats` and the observer.
#[derive(Debug, Default)]
pub(crate) struct CoreCounters {
    /// Nanoseconds the core's thread spent idle (spinning for work or parked) in
    /// idle periods that have ended.
    pub(crate) idle_nanos: AtomicU64,
    /// When the current idle period began (nanoseconds since the runtime's epoch,
    /// at least 1), or 0 while the core runs processes: a core parked for a long
    /// time counts as idle before it wakes.
    pub(crate) idle_since: AtomicU64,
    /// Processes spawned by processes running on this core.
    pub(crate) spawned: AtomicU64,
    /// Entries in the core's timer wheel (cancelled ones included until they are
    /// swept or due), as of the last arm or firing round.
    pub(crate) timers: AtomicU64,
}

/// Outcome of [`CoreSlot::enter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Enter {
    /// The caller holds the core until `leave`.
    Held,
    /// The core was handed to another thread.
    Lost,
}

impl CoreSlot {
    pub(crate) fn new(core: Box<Core>) -> CoreSlot {
        CoreSlot {
            lease: AtomicU64::new(OWNED),
            busy: AtomicBool::new(false),
            core: AtomicPtr::new(Box::into_raw(core)),
            switches: AtomicU64::new(0),
            running: AtomicU64::new(0),
            counters: CoreCounters::default(),
        }
    }

    /// Counts a spawn from this core (by the lease holder, see `counters`).
    #[inline]
    pub(crate) fn count_spawn(&self) {
        let c = &self.counters.spawned;
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// An idle period begins at `now` (nanoseconds since the epoch; by the lease
    /// holder, see `counters`).
    pub(crate) fn idle_begins(&self, now: u64) {
        self.counters
            .idle_since
            .store(now.max(1), Ordering::Release);
    }

    /// The idle period begun at `idle_begins` ends at `now` (by the lease holder).
    /// The total is updated before the period is closed, both Release: a reader
    /// between the two stores counts the period twice for one reading (see
    /// [`CoreSlot::idle_nanos`]).
    pub(crate) fn idle_ends(&self, now: u64) {
        let c = &self.counters;
        let since = c.idle_since.load(Ordering::Relaxed);
        let total = c.idle_nanos.load(Ordering::Relaxed) + now.saturating_sub(since);
        c.idle_nanos.store(total, Ordering::Release);
        c.idle_since.store(0, Ordering::Release);
    }

    /// Idle nanoseconds of the core up to `now`, the current idle period included.
    /// The reads pair (Acquire) with `idle_ends`' Release stores and are retried
    /// while a period closes between them; the one interleaving left (between its
    /// two stores) over-counts one reading by the period's length, which readers of
    /// utilisation clamp.
    pub(crate) fn idle_nanos(&self, now: u64) -> u64 {
        let c = &self.counters;
        loop {
            let since = c.idle_since.load(Ordering::Acquire);
            let total = c.idle_nanos.load(Ordering::Acquire);
            if c.idle_since.load(Ordering::Acquire) == since {
                let open = if since == 0 {
                    0
                } else {
                    now.saturating_sub(since)
                };
                return total + open;
            }
        }
    }

    /// Publishes the number of entries of the core's timer wheel (by the lease
    /// holder, see `counters`).
    pub(crate) fn publish_timers(&self, n: usize) {
        self.counters.timers.store(n as u64, Ordering::Relaxed);
    }

    /// The core (use only while holding the lease).
    pub(crate) fn core_ptr(&self) -> NonNull<Core> {
        NonNull::new(self.core.load(Ordering::Acquire)).expect("a slot always has its core")
    }

    /// Owner side, steps 1–3.
    #[inline]
    pub(crate) fn enter(&self, epoch: u64) -> Enter {
        if self.lease.load(Ordering::Relaxed) >> 2 != epoch {
            return Enter::Lost;
        }
        self.busy.store(true, Ordering::Relaxed);
        light_fence();
        loop {
            // Acquire pairs with the Release of a new owner's `adopt`.
            let l = self.lease.load(Ordering::Acquire);
            if l >> 2 != epoch {
                return Enter::Lost;
            }
            match l & STATE_MASK {
                OWNED => return Enter::Held,
                STEALING => std::hint::spin_loop(),
                _ => return Enter::Lost,
            }
        }
    }

    /// Owner side: done touching the core.
    #[inline]
    pub(crate) fn leave(&self) {
        // Release: the monitor that takes the core next sees every write made to it.
        self.busy.store(false, Ordering::Release);
    }

    /// Monitor side, steps 4–5: `true` if the core now belongs to the caller.
    pub(crate) fn try_steal(&self) -> bool {
        let l = self.lease.load(Ordering::Acquire);
        if l & STATE_MASK != OWNED {
            return false;
        }
        let stealing = (l & !STATE_MASK) | STEALING;
        // AcqRel: claims the lease against the owner's `enter` (step 4); Acquire on
        // failure sees the owner's newer lease.
        if self
            .lease
            .compare_exchange(l, stealing, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        // Acquire pairs with `leave`'s Release.
        let verdict = if heavy_fence() && !self.busy.load(Ordering::Acquire) {
            STOLEN
        } else {
            OWNED
        };
        // Release pairs with the thread's Acquire in `enter`: the verdict, and the core
        // it decides about, are published together.
        self.lease
            .store((l & !STATE_MASK) | verdict, Ordering::Release);
        verdict == STOLEN
    }

    /// Gives the core to a new owner; returns the owner's epoch.
    pub(crate) fn adopt(&self) -> u64 {
        let epoch = (self.lease.load(Ordering::Acquire) >> 2) + 1;
        self.busy.store(false, Ordering::Relaxed);
        // Release: the new owner's `enter` (Acquire) sees the core as left by the
        // previous holder.
        self.lease.store(epoch << 2 | OWNED, Ordering::Release);
        epoch
    }
}

impl Drop for CoreSlot {
    fn drop(&mut self) {
        let p = *self.core.get_mut();
        // SAFETY: the pointer came from `Box::into_raw` in `new`; the slot is dropped
        // with the runtime's shared state, after every thread has given up its lease.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Whether `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` is registered and works.
fn asymmetric() -> bool {
    static ASYM: OnceLock<bool> = OnceLock::new();
    *ASYM.get_or_init(|| {
        const REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;
        // SAFETY: membarrier with a command and zero flags has no memory effects on
        // our side beyond registering the process.
        let rc = unsafe { libc::syscall(libc::SYS_membarrier, REGISTER_PRIVATE_EXPEDITED, 0) };
        rc == 0
    })
}

/// The owner's fence: a compiler fence when the monitor uses `membarrier`.
#[inline]
fn light_fence() {
    if ASYM_READY.load(Ordering::Relaxed) {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// Set once `membarrier` is registered; read on every owner-side fence.
static ASYM_READY: AtomicBool = AtomicBool::new(false);

/// Registers `membarrier` for this OS process (idempotent). Called before any
/// scheduler thread starts, so every owner-side fence sees the final setting.
pub(crate) fn init_fences() {
    if asymmetric() {
        ASYM_READY.store(true, Ordering::SeqCst);
    }
}

/// The monitor's fence: a barrier on every thread of the process. `false` if it
/// could not be made (then the owners' compiler fences are not enough: do not steal).
fn heavy_fence() -> bool {
    if ASYM_READY.load(Ordering::Relaxed) {
        const PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
        // SAFETY: membarrier with a command the process registered for.
        let rc = unsafe { libc::syscall(libc::SYS_membarrier, PRIVATE_EXPEDITED, 0) };
        return rc == 0;
    }
    fence(Ordering::SeqCst);
    true
}

/// The hand-off rendezvous: cores the monitor took away, waiting for a thread, and
/// spare threads waiting for a core.
#[derive(Debug, Default)]
struct Rendezvous {
    cores: Vec<usize>,
    spares: usize,
}

/// Where taken cores meet spare threads (the condvar wakes a waiting spare).
#[derive(Debug, Default)]
pub(crate) struct Spares {
    rendezvous: Mutex<Rendezvous>,
    ready: Condvar,
}

impl Spares {
    /// Blocks a thread without a core until a core is handed to it; `None` once
    /// `stopping` is set (and [`Spares::wake_all`] called).
    pub(crate) fn wait_for_core(&self, stopping: &AtomicBool) -> Option<usize> {
        let mut h = self.rendezvous.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            // Acquire pairs with the shutdown's SeqCst store of `stopping`.
            if stopping.load(Ordering::Acquire) {
                return None;
            }
            if let Some(i) = h.cores.pop() {
                return Some(i);
            }
            h.spares += 1;
            h = self.ready.wait(h).unwrap_or_else(|e| e.into_inner());
            h.spares -= 1;
        }
    }

    /// Offers core `i` (whose lease the caller holds) to a waiting spare thread;
    /// `false` if none waits (the caller then starts one, which takes it).
    pub(crate) fn offer_core(&self, i: usize) -> bool {
        let waiting = {
            let mut h = self.rendezvous.lock().unwrap_or_else(|e| e.into_inner());
            h.cores.push(i);
            h.spares
        };
        if waiting > 0 {
            self.ready.notify_one();
        }
        waiting > 0
    }

    /// Spare threads waiting for a core now.
    pub(crate) fn waiting(&self) -> usize {
        self.rendezvous
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .spares
    }

    /// Wakes every waiting spare (shutdown, after `stopping` was set): taking the
    /// lock first means none is between its check of `stopping` and its wait.
    pub(crate) fn wake_all(&self) {
        let _h = self.rendezvous.lock().unwrap_or_else(|e| e.into_inner());
        self.ready.notify_all();
    }
}
