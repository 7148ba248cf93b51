//! The guard-page fault handler.
//!
//! Protocol:
//!
//! 1. Every chunk of the slab is recorded in a fixed, lock-free table
//!    ([`register_chunk`]) before any of its stacks is handed out, and removed
//!    ([`unregister_chunk`]) before it is unmapped.
//! 2. One `SIGSEGV`/`SIGBUS` handler is installed per OS process, on the alternate
//!    signal stack (`SA_ONSTACK`), chaining to whatever handler was there before
//!    (Rust's own main-thread overflow handler, a user's handler, or the default).
//! 3. Each scheduler thread runs with an alternate signal stack ([`AltStack`]), so the
//!    handler can run even though the faulting stack is exhausted.
//! 4. On a fault, the handler looks the address up in the table. If it falls in the
//!    guard page of a slot it writes `beamlet: process <R.I.S> overflowed its stack`,
//!    with both likely causes (unbounded recursion, or a stack too small, and the
//!    options that size it), to stderr with `write(2)` (async-signal-safe, no
//!    allocation) and aborts. Only code that never calls the runtime on its way down
//!    gets here: a runtime call in the red zone ends the process alone first
//!    (see `scheduler::context::spend`).
//!    Otherwise it hands the signal to the previous handler.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

use super::page::page_size;
use crate::pid::Pid;

/// Names the process running on the faulting thread, for the overflow report. Set
/// by the scheduler layer (which owns the thread-local context) before any process
/// runs; it must read only plain memory (it runs in the signal handler). A
/// `OnceLock` read is one atomic load, which is async-signal-safe.
static PID_PROBE: OnceLock<fn() -> Option<Pid>> = OnceLock::new();

/// Sets the probe the fault handler names the faulting process with (first call wins).
pub(crate) fn set_pid_probe(probe: fn() -> Option<Pid>) {
    let _ = PID_PROBE.set(probe);
}

/// Chunks the table can hold: 16,384 × 1,024 stacks covers several runtimes of a
/// million processes. Registration beyond it leaves the chunk unnamed (its overflows
/// still fault, but as a plain SIGSEGV through the previous handler).
const CHUNK_TABLE_LEN: usize = 16 * 1024;

/// Marks an entry claimed by a registration in progress.
const CLAIMED: usize = usize::MAX;

struct ChunkEntry {
    /// 0 = free, `CLAIMED` = being written, else the chunk's base address.
    base: AtomicUsize,
    len: AtomicUsize,
    slot_size: AtomicUsize,
}

#[allow(
    clippy::declare_interior_mutable_const,
    reason = "used only as an array initialiser"
)]
const EMPTY: ChunkEntry = ChunkEntry {
    base: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    slot_size: AtomicUsize::new(0),
};

static CHUNKS: [ChunkEntry; CHUNK_TABLE_LEN] = [EMPTY; CHUNK_TABLE_LEN];

/// Records a chunk so that faults in its guard pages are recognised.
pub(crate) fn register_chunk(base: usize, len: usize, slot_size: usize) {
    for e in CHUNKS.iter() {
        // Relaxed on failure: we only move on to the next entry.
        if e.base
            .compare_exchange(0, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            e.len.store(len, Ordering::Relaxed);
            e.slot_size.store(slot_size, Ordering::Relaxed);
            // Release pairs with the Acquire load in `find_guard_hit`: a handler that
            // sees `base` also sees `len` and `slot_size`.
            e.base.store(base, Ordering::Release);
            return;
        }
    }
}

/// Forgets a chunk before it is unmapped.
pub(crate) fn unregister_chunk(base: usize) {
    for e in CHUNKS.iter() {
        if e.base.load(Ordering::Relaxed) == base {
            e.base.store(0, Ordering::Release);
            return;
        }
    }
}

/// If `addr` is inside a slab guard page, the usable stack size of that slot.
fn find_guard_hit(addr: usize) -> Option<usize> {
    let page = page_size_cached();
    for e in CHUNKS.iter() {
        let base = e.base.load(Ordering::Acquire);
        if base == 0 || base == CLAIMED {
            continue;
        }
        let len = e.len.load(Ordering::Relaxed);
        let slot = e.slot_size.load(Ordering::Relaxed);
        if addr >= base && addr < base + len && slot > 0 && (addr - base) % slot < page {
            return Some(slot - page);
        }
    }
    None
}

/// The page size as read when the handler was installed (no syscall in the handler).
static PAGE: AtomicUsize = AtomicUsize::new(4096);

fn page_size_cached() -> usize {
    PAGE.load(Ordering::Relaxed)
}

/// The handlers that were installed before ours, for chaining.
struct Previous {
    segv: libc::sigaction,
    bus: libc::sigaction,
}

static mut PREVIOUS: Option<Previous> = None;
static INSTALL: Once = Once::new();

/// Installs the fault handler once per OS process.
pub(crate) fn install_fault_handler() {
    INSTALL.call_once(|| {
        PAGE.store(page_size(), Ordering::Relaxed);
        // SAFETY: sigaction with a zeroed-then-filled struct; the handler only calls
        // async-signal-safe functions. PREVIOUS is written once here, inside
        // `call_once`, before the handler that reads it is installed.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fault as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            let mut old_segv: libc::sigaction = std::mem::zeroed();
            let mut old_bus: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut old_segv);
            libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old_bus);
            *std::ptr::addr_of_mut!(PREVIOUS) = Some(Previous {
                segv: old_segv,
                bus: old_bus,
            });
            libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut());
            libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
        }
    });
}

extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(stack_size) = find_guard_hit(addr) {
        report_overflow(stack_size);
        // SAFETY: abort is async-signal-safe.
        unsafe { libc::abort() };
    }
    // SAFETY: PREVIOUS was written before this handler was installed and is never
    // written again.
    let prev = unsafe { (*std::ptr::addr_of!(PREVIOUS)).as_ref() };
    let Some(prev) = prev else { return };
    let old = if sig == libc::SIGBUS {
        &prev.bus
    } else {
        &prev.segv
    };
    if old.sa_sigaction == libc::SIG_DFL || old.sa_sigaction == libc::SIG_IGN {
        // Restore the default action and return: the faulting instruction runs again
        // and the OS process dies with the signal, as it would have without us.
        // SAFETY: resetting a signal disposition is async-signal-safe.
        unsafe {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        }
    } else if old.sa_flags & libc::SA_SIGINFO != 0 {
        type Action = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);
        // SAFETY: with SA_SIGINFO the previous disposition is a three-argument handler.
        let f: Action = unsafe { std::mem::transmute(old.sa_sigaction) };
        f(sig, info, ctx);
    } else {
        type Handler = extern "C" fn(libc::c_int);
        // SAFETY: without SA_SIGINFO the previous disposition is a one-argument handler.
        let f: Handler = unsafe { std::mem::transmute(old.sa_sigaction) };
        f(sig);
    }
}

/// Writes the overflow report without allocating.
fn report_overflow(stack_size: usize) {
    let mut buf = [0u8; 512];
    let mut n = 0;
    let mut put = |s: &[u8]| {
        for &b in s {
            if n < buf.len() {
                buf[n] = b;
                n += 1;
            }
        }
    };
    put(b"beamlet: process ");
    match PID_PROBE.get().and_then(|probe| probe()) {
        Some(pid) => {
            put(b"<");
            put(itoa(pid.runtime as usize, &mut [0; 20]));
            put(b".");
            put(itoa(pid.index as usize, &mut [0; 20]));
            put(b".");
            put(itoa(pid.serial as usize, &mut [0; 20]));
            put(b">");
        }
        None => put(b"<unknown>"),
    }
    put(b" overflowed its stack (");
    put(itoa(stack_size / 1024, &mut [0; 20]));
    put(
        b" KiB) without calling the runtime on the way down; aborting. Either it \
        recurses without bound (fix the recursion), or its stack is too small: give it \
        a bigger one with SpawnOpts::stack_size or StartOptions::stack_size, or every \
        process with RuntimeBuilder::stack_size.\n",
    );
    // SAFETY: write(2) on stderr with a buffer we own; async-signal-safe.
    unsafe { libc::write(2, buf.as_ptr().cast(), n) };
}

fn itoa(mut v: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// An alternate signal stack for the current thread, removed on drop.
#[derive(Debug)]
pub(crate) struct AltStack {
    mapping: Option<(usize, usize)>,
}

/// Size of the alternate signal stack (the handler needs little; the guard page
/// below it catches a handler that needs more).
const ALT_STACK_SIZE: usize = 64 * 1024;

impl AltStack {
    /// Installs an alternate signal stack unless the thread already has one.
    pub(crate) fn ensure() -> AltStack {
        // SAFETY: querying the current alternate stack into a zeroed struct.
        let mut old: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        unsafe { libc::sigaltstack(std::ptr::null(), &mut old) };
        if old.ss_flags & libc::SS_DISABLE == 0 {
            return AltStack { mapping: None };
        }
        let page = page_size();
        let len = ALT_STACK_SIZE + page;
        // SAFETY: a fresh anonymous mapping; its first page becomes a guard.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return AltStack { mapping: None };
        }
        // SAFETY: the first page of the mapping made above.
        unsafe { libc::mprotect(p, page, libc::PROT_NONE) };
        let st = libc::stack_t {
            ss_sp: (p as usize + page) as *mut libc::c_void,
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        // SAFETY: installing a stack we own for the lifetime of this `AltStack`.
        unsafe { libc::sigaltstack(&st, std::ptr::null_mut()) };
        AltStack {
            mapping: Some((p as usize, len)),
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if let Some((p, len)) = self.mapping {
            let st = libc::stack_t {
                ss_sp: std::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            // SAFETY: disabling the alternate stack this object installed, then
            // unmapping it; the thread is not handling a signal (we are in Drop).
            unsafe {
                libc::sigaltstack(&st, std::ptr::null_mut());
                libc::munmap(p as *mut libc::c_void, len);
            }
        }
    }
}
