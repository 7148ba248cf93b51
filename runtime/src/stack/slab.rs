//! One size class of the stack slab: chunk mappings, guard installation, and the
//! free stacks of that size. [`super::pool::StackPool`] holds one [`Slab`] per class.

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use corosensei::stack::{Stack, StackPointer};

use super::guard;
use super::page::page_size;

/// Stacks per mapping, at most. 1,024 × 256 KiB = 256 MiB of address space per chunk:
/// large enough that a million stacks need ~1,000 mappings, small enough that a
/// runtime with few processes reserves little.
pub(crate) const STACKS_PER_CHUNK: usize = 1024;

/// Address space a chunk of a large class aims at: a class of 8 MiB stacks maps 32
/// per chunk rather than reserving 8 GiB for its first process.
const CHUNK_BYTES: usize = 256 * 1024 * 1024;

/// Stacks per chunk of a class with slots of `slot_size` bytes.
fn stacks_per_chunk(slot_size: usize) -> usize {
    (CHUNK_BYTES / slot_size).clamp(16, STACKS_PER_CHUNK)
}

/// With `mprotect` guards each stack costs two mappings; stop well below the default
/// `vm.max_map_count` (65,530) so the rest of the program keeps room for its own.
pub(crate) const MPROTECT_STACK_BUDGET: usize = 24 * 1024;

/// Stacks kept resident in the shared pool when a scheduler goes idle; the rest have
/// their pages released. 4,096 × one touched page ≈ 16 MiB.
pub(crate) const KEEP_RESIDENT: usize = 4096;

/// `madvise` advice that installs guard markers (Linux ≥ 6.13; not yet in `libc`).
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// `process_madvise` takes at most this many ranges per call (`UIO_MAXIOV`).
const IOV_MAX: usize = 1024;

/// Stacks [`Slab::trim`] takes out of the pool at a time (see there).
const TRIM_BATCH: usize = 1024;

/// How guard pages are made, chosen once per OS process by probing the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuardTier {
    /// `MADV_GUARD_INSTALL` markers, batched through `process_madvise` when `pidfd`
    /// is `Some` (one syscall per 1,024 guards) or one `madvise` per guard otherwise.
    Markers { pidfd: Option<libc::c_int> },
    /// `mprotect(PROT_NONE)`: two mappings per stack, bounded by a budget.
    Mprotect,
}

fn guard_tier() -> GuardTier {
    static TIER: OnceLock<GuardTier> = OnceLock::new();
    *TIER.get_or_init(probe_guard_tier)
}

/// Maps two pages, tries to install a guard marker on the first, and reports which
/// tier works.
fn probe_guard_tier() -> GuardTier {
    let page = page_size();
    let Ok(base) = map_noreserve(2 * page) else {
        return GuardTier::Mprotect;
    };
    // SAFETY: `base` is a fresh private mapping of two pages owned by this function.
    let rc = unsafe { libc::madvise(base.cast(), page, MADV_GUARD_INSTALL) };
    let tier = if rc == 0 {
        GuardTier::Markers {
            pidfd: open_self_pidfd(),
        }
    } else {
        GuardTier::Mprotect
    };
    // SAFETY: unmapping the probe mapping made above; nothing refers to it.
    unsafe { libc::munmap(base.cast(), 2 * page) };
    tier
}

/// A pidfd for this OS process, for `process_madvise`, if the kernel supports both.
fn open_self_pidfd() -> Option<libc::c_int> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if fd < 0 {
        return None;
    }
    let fd = fd as libc::c_int;
    let page = page_size();
    let Ok(base) = map_noreserve(2 * page) else {
        return None;
    };
    let iov = libc::iovec {
        iov_base: base.cast(),
        iov_len: page,
    };
    // SAFETY: one iovec describing a page of our own fresh mapping.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_process_madvise,
            fd,
            &iov as *const libc::iovec,
            1usize,
            MADV_GUARD_INSTALL,
            0u32,
        )
    };
    // SAFETY: unmapping the probe mapping made above.
    unsafe { libc::munmap(base.cast(), 2 * page) };
    if rc == page as libc::c_long {
        Some(fd)
    } else {
        // SAFETY: closing the descriptor opened above, used nowhere else.
        unsafe { libc::close(fd) };
        None
    }
}

fn map_noreserve(len: usize) -> io::Result<*mut u8> {
    // SAFETY: an anonymous private mapping at an address of the kernel's choosing
    // touches no existing memory.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(p.cast())
    }
}

/// One mapping of `STACKS_PER_CHUNK` slots, each `[guard page][stack]`.
#[derive(Debug)]
struct Chunk {
    base: usize,
    len: usize,
}

/// A stack taken from the pool: the slot's lowest address, and its size and size
/// class. The slot is `[guard page][usable stack]`; the stack grows down from the
/// slot's top.
///
/// Two words, as before there were classes: the class is kept in the low bits of the
/// slot size (a multiple of the page size, so its low 12 bits are free). A third
/// word grows the coroutine and the result of every resume; with it (and a two-word
/// stack size in `Birth`) `micro`'s `spawn_exit` measured ~8% slower, without them
/// as before.
#[derive(Debug)]
pub(crate) struct PooledStack {
    slot: usize,
    /// `slot_size | class`.
    sized: usize,
}

/// The bits of `PooledStack::sized` that hold the class.
const CLASS_BITS: usize = 0xff;

impl PooledStack {
    fn slot_size(&self) -> usize {
        self.sized & !CLASS_BITS
    }

    /// The size class and slot address, to give the stack back to its class.
    pub(crate) fn into_slot(self) -> (u8, usize) {
        ((self.sized & CLASS_BITS) as u8, self.slot)
    }

    /// Usable bytes (the slot without its guard page).
    pub(crate) fn usable(&self) -> usize {
        self.slot_size() - page_size()
    }
}

// SAFETY: the slot is `slot_size` bytes of a live chunk mapping whose lowest page is a
// guard page (installed before the slot is handed out, see `Slab::map_chunk`);
// the usable part is at least `MIN_STACK_SIZE` ≥ corosensei's minimum. `base` and
// `limit` are page-aligned, hence aligned to `STACK_ALIGNMENT`. The chunk outlives
// every `PooledStack` because the pool unmaps only in `Drop`, after every process (and
// so every coroutine) of the runtime is gone.
unsafe impl Stack for PooledStack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.slot + self.slot_size()).expect("slot address is non-zero")
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.slot).expect("slot address is non-zero")
    }
}

/// Mutable state of the pool.
#[derive(Debug, Default)]
struct PoolInner {
    chunks: Vec<Chunk>,
    /// Next uncarved slot of the last chunk, and how many remain in it.
    next_fresh: usize,
    fresh_left: usize,
    /// Free stacks whose pages are still resident (cheapest to reuse).
    dirty: Vec<usize>,
    /// Free stacks whose pages were released.
    clean: Vec<usize>,
}

/// The stacks of one size class. Schedulers keep a small cache each of the default
/// class and come here in batches.
#[derive(Debug)]
pub(crate) struct Slab {
    class: u8,
    slot_size: usize,
    per_chunk: usize,
    max_stacks: usize,
    /// Stacks carved so far (bounded by `max_stacks` and, for the mprotect tier, the
    /// mapping budget). Relaxed: only read for statistics outside the lock.
    carved: AtomicUsize,
    inner: Mutex<PoolInner>,
}

impl Slab {
    /// Size class `class` of stacks with `stack_size` usable bytes (rounded up to
    /// pages), for at most `max_stacks` simultaneously live stacks.
    pub(crate) fn new(class: u8, stack_size: usize, max_stacks: usize) -> Slab {
        let page = page_size();
        let stack_size = stack_size.div_ceil(page) * page;
        guard::install_fault_handler();
        Slab {
            class,
            slot_size: stack_size + page,
            per_chunk: stacks_per_chunk(stack_size + page),
            max_stacks,
            carved: AtomicUsize::new(0),
            inner: Mutex::new(PoolInner::default()),
        }
    }

    /// Stacks carved from the slab so far (live plus pooled).
    pub(crate) fn carved(&self) -> usize {
        self.carved.load(Ordering::Relaxed)
    }

    /// Usable bytes of this class's stacks.
    pub(crate) fn usable(&self) -> usize {
        self.slot_size - page_size()
    }

    /// Free stacks in the slab's pool (not those in schedulers' caches).
    pub(crate) fn pooled(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.dirty.len() + inner.clean.len()
    }

    /// Takes up to `want` free stacks into `out`, carving new ones as needed;
    /// `mapped` counts the stacks of every class (for the `mprotect` budget).
    /// Returns how many were added; fewer than `want` only at a limit.
    pub(crate) fn acquire_batch(
        &self,
        out: &mut Vec<usize>,
        want: usize,
        mapped: &AtomicUsize,
    ) -> usize {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut got = 0;
        while got < want {
            let slot = match inner.dirty.pop().or_else(|| inner.clean.pop()) {
                Some(s) => s,
                None => match self.carve(&mut inner, mapped) {
                    Some(s) => s,
                    None => break,
                },
            };
            out.push(slot);
            got += 1;
        }
        got
    }

    /// Wraps a slot taken with `acquire_batch` as a corosensei stack.
    pub(crate) fn stack(&self, slot: usize) -> PooledStack {
        debug_assert_eq!(self.slot_size & CLASS_BITS, 0, "slot sizes are whole pages");
        PooledStack {
            slot,
            sized: self.slot_size | usize::from(self.class),
        }
    }

    /// Gives stacks back (their pages stay resident).
    pub(crate) fn release_batch(&self, slots: impl IntoIterator<Item = usize>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.dirty.extend(slots);
    }

    /// Releases the pages of a free stack `slot` below its top `keep_top` bytes: a
    /// process went deep on it, and the next one should not inherit that memory.
    pub(crate) fn release_below(&self, slot: usize, keep_top: usize) {
        let page = page_size();
        let len = self.slot_size.saturating_sub(page + keep_top);
        if len == 0 {
            return;
        }
        // SAFETY: [slot + page, slot + page + len) is the lower part of the usable
        // stack of a slot of a live chunk; the process that ran on it has finished
        // (its coroutine returned the stack), so nothing refers to those pages.
        unsafe { libc::madvise((slot + page) as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    }

    /// Releases the pages of pooled stacks beyond `keep` resident ones. Returns how
    /// many stacks were released.
    ///
    /// Works in batches of at most [`TRIM_BATCH`] stacks: a batch is out of the pool
    /// while its pages are released, and a scheduler that finds the pool empty then
    /// carves new stacks. Small batches bound that extra carving; taking the whole
    /// surplus at once let a burst of spawns during a trim carve up to a second
    /// wave's worth of stacks.
    pub(crate) fn trim(&self, keep: usize) -> usize {
        let mut released = 0;
        loop {
            let mut batch = {
                let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                if inner.dirty.len() <= keep {
                    return released;
                }
                let n = (inner.dirty.len() - keep).min(TRIM_BATCH);
                let at = inner.dirty.len() - n;
                inner.dirty.split_off(at)
            };
            batch.sort_unstable();
            self.release_pages(&batch);
            released += batch.len();
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.clean.append(&mut batch);
        }
    }

    /// `MADV_DONTNEED` on the usable part of each slot, coalescing runs of adjacent
    /// slots when guard markers are in use (markers survive `MADV_DONTNEED`).
    fn release_pages(&self, sorted: &[usize]) {
        let page = page_size();
        let coalesce = matches!(guard_tier(), GuardTier::Markers { .. });
        let mut i = 0;
        while i < sorted.len() {
            let start = sorted[i];
            let mut end = start + self.slot_size;
            i += 1;
            while coalesce && i < sorted.len() && sorted[i] == end {
                end += self.slot_size;
                i += 1;
            }
            // SAFETY: [start + page, end) lies inside a live chunk mapping and covers
            // only free stacks (owned by the pool, not in use by any coroutine) and,
            // when coalescing, guard pages whose markers MADV_DONTNEED keeps.
            unsafe {
                libc::madvise(
                    (start + page) as *mut libc::c_void,
                    end - start - page,
                    libc::MADV_DONTNEED,
                )
            };
        }
    }

    /// Carves one slot from the current chunk, mapping a new chunk when it is spent.
    fn carve(&self, inner: &mut PoolInner, mapped: &AtomicUsize) -> Option<usize> {
        let carved = self.carved.load(Ordering::Relaxed);
        if carved >= self.max_stacks {
            return None;
        }
        if inner.fresh_left == 0 {
            let tier = guard_tier();
            let n = self.per_chunk.min(self.max_stacks - carved);
            // Relaxed: a budget, not a synchronisation; classes race only by a chunk.
            if tier == GuardTier::Mprotect
                && mapped.load(Ordering::Relaxed) + n > MPROTECT_STACK_BUDGET
            {
                return None;
            }
            mapped.fetch_add(n, Ordering::Relaxed);
            let chunk = self.map_chunk(n, tier).ok()?;
            inner.next_fresh = chunk.base;
            inner.fresh_left = n;
            inner.chunks.push(chunk);
        }
        let slot = inner.next_fresh;
        inner.next_fresh += self.slot_size;
        inner.fresh_left -= 1;
        self.carved.store(carved + 1, Ordering::Relaxed);
        Some(slot)
    }

    /// Maps a chunk of `n` slots, installs every guard, and registers the chunk with
    /// the fault handler.
    fn map_chunk(&self, n: usize, tier: GuardTier) -> io::Result<Chunk> {
        let len = n * self.slot_size;
        let base = map_noreserve(len)? as usize;
        let chunk = Chunk { base, len };
        if let Err(e) = self.install_guards(&chunk, n, tier) {
            // SAFETY: unmapping the chunk mapped above; nothing refers to it yet.
            unsafe { libc::munmap(base as *mut libc::c_void, len) };
            return Err(e);
        }
        guard::register_chunk(base, len, self.slot_size);
        Ok(chunk)
    }

    fn install_guards(&self, chunk: &Chunk, n: usize, tier: GuardTier) -> io::Result<()> {
        let page = page_size();
        let slot = |i: usize| chunk.base + i * self.slot_size;
        match tier {
            GuardTier::Markers { pidfd: Some(fd) } => {
                let iovs: Vec<libc::iovec> = (0..n)
                    .map(|i| libc::iovec {
                        iov_base: slot(i) as *mut libc::c_void,
                        iov_len: page,
                    })
                    .collect();
                for batch in iovs.chunks(IOV_MAX) {
                    process_madvise_all(fd, batch, page)?;
                }
                Ok(())
            }
            GuardTier::Markers { pidfd: None } => (0..n).try_for_each(|i| {
                // SAFETY: the first page of slot i of the chunk mapped by our caller.
                let rc = unsafe { libc::madvise(slot(i) as *mut _, page, MADV_GUARD_INSTALL) };
                check(rc)
            }),
            GuardTier::Mprotect => (0..n).try_for_each(|i| {
                // SAFETY: the first page of slot i of the chunk mapped by our caller.
                let rc = unsafe { libc::mprotect(slot(i) as *mut _, page, libc::PROT_NONE) };
                check(rc)
            }),
        }
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Installs guard markers on every range of `iovs`, retrying after partial progress.
fn process_madvise_all(fd: libc::c_int, iovs: &[libc::iovec], page: usize) -> io::Result<()> {
    let mut done = 0;
    while done < iovs.len() {
        let rest = &iovs[done..];
        // SAFETY: `rest` is a slice of valid iovecs, each one page of a mapping owned
        // by the caller; the kernel only reads the array.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_process_madvise,
                fd,
                rest.as_ptr(),
                rest.len(),
                MADV_GUARD_INSTALL,
                0u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let advised = (rc as usize) / page;
        if advised == 0 {
            return Err(io::Error::other("process_madvise made no progress"));
        }
        done += advised;
    }
    Ok(())
}

impl Drop for Slab {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        for chunk in inner.chunks.drain(..) {
            guard::unregister_chunk(chunk.base);
            // SAFETY: the pool is dropped after every process of its runtime, so no
            // coroutine runs on (or holds) a stack of this chunk.
            unsafe { libc::munmap(chunk.base as *mut libc::c_void, chunk.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carves_reuses_and_limits() {
        let pool = Slab::new(0, 16 * 1024, 3);
        let mapped = AtomicUsize::new(0);
        let mut v = Vec::new();
        assert_eq!(pool.acquire_batch(&mut v, 5, &mapped), 3);
        assert_eq!(pool.carved(), 3);
        let first = v[0];
        pool.release_batch(v.drain(..));
        assert_eq!(pool.acquire_batch(&mut v, 3, &mapped), 3);
        assert!(v.contains(&first));
        assert_eq!(pool.carved(), 3);
    }

    #[test]
    fn stacks_are_writable_and_trim_keeps_them_usable() {
        let pool = Slab::new(0, 16 * 1024, 64);
        let mapped = AtomicUsize::new(0);
        let mut v = Vec::new();
        pool.acquire_batch(&mut v, 8, &mapped);
        for &slot in &v {
            let top = (slot + pool.slot_size - 8) as *mut u64;
            // SAFETY: the top word of a carved, unguarded part of the slot.
            unsafe { top.write(0xdead_beef) };
        }
        pool.release_batch(v.drain(..));
        assert_eq!(pool.trim(0), 8);
        pool.acquire_batch(&mut v, 8, &mapped);
        for &slot in &v {
            let top = (slot + pool.slot_size - 8) as *mut u64;
            // SAFETY: as above; released pages read back as zero.
            assert_eq!(unsafe { top.read() }, 0);
        }
    }

    /// Touches the guard page of `slot` in a forked child and reports how it died.
    fn child_touching_guard(slot: usize) -> libc::c_int {
        // SAFETY: the child only performs a volatile write and _exit (no allocation,
        // no locks), which is fine after fork in a multi-threaded process.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // SAFETY: writing into our own guard page: the point is to fault.
            unsafe {
                std::ptr::write_volatile((slot + 8) as *mut u64, 1);
                libc::_exit(0);
            }
        }
        let mut status = 0;
        // SAFETY: waiting for the child forked above.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFSIGNALED(status),
            "child exited normally: guard missing"
        );
        libc::WTERMSIG(status)
    }

    #[test]
    fn guard_pages_fault_and_survive_trim() {
        let pool = Slab::new(0, 16 * 1024, 64);
        let mut v = Vec::new();
        pool.acquire_batch(&mut v, 64, &AtomicUsize::new(0));
        let slot = v[10];
        // Our fault handler recognises the guard and aborts.
        assert_eq!(child_touching_guard(slot), libc::SIGABRT);
        pool.release_batch(v.drain(..));
        assert_eq!(pool.trim(0), 64);
        assert_eq!(child_touching_guard(slot), libc::SIGABRT);
    }
}
