//! Process stacks: a slab of guarded stacks carved from large `MAP_NORESERVE` mappings.
//!
//! # Design
//!
//! A million processes cannot each own a mapping: Linux caps mappings per OS process at
//! `vm.max_map_count` (65,530 by default). So stacks are carved from *chunks*, each one
//! mapping of [`STACKS_PER_CHUNK`] stacks, reserved with `MAP_NORESERVE` so that only
//! the pages a process actually touches cost memory (typically one 4 KiB page for a
//! process blocked in `receive`).
//!
//! Every stack has a guard page at its low end, as corosensei's `Stack` contract
//! requires. Guards are installed by tier:
//!
//! 1. **`MADV_GUARD_INSTALL`** (Linux ≥ 6.13): guard markers that do not split the
//!    mapping, installed for a whole chunk with one `process_madvise` call per 1,024
//!    stacks. A chunk stays one mapping, so a million guarded stacks need ~1,000.
//! 2. **`mprotect`** (older kernels): each guard splits the mapping, costing two
//!    mappings per stack; the slab stops growing at [`MPROTECT_STACK_BUDGET`] stacks
//!    and `spawn` then fails with `system_limit` instead of crashing.
//!
//! A stack overflow therefore always faults on a guard page. The fault handler in
//! [`guard`] recognises an address inside one of the slab's guard pages and aborts
//! the OS process with a message naming the overflowing process (never an anonymous
//! SIGSEGV, never silent corruption of a neighbouring stack). Ending just that process
//! would mean abandoning its frames mid-instruction, which could leave shared state
//! (locks, lock-free structures) half-updated; aborting is the sound choice.
//!
//! # Pooling
//!
//! A process takes a stack when it first runs and returns it when it exits or
//! hibernates. Returned stacks keep their resident pages and go to a per-scheduler
//! cache, then to the shared pool, so steady-state spawning makes no syscall. Stacks
//! idle in the shared pool beyond [`KEEP_RESIDENT`] have their pages released with
//! `MADV_DONTNEED` when a scheduler goes idle, so memory returns to the OS after a
//! burst of processes ends.

pub(crate) mod guard;
mod slab;

pub(crate) use slab::{PooledStack, StackPool};

/// Smallest stack a runtime accepts, in bytes (guard page excluded).
///
/// Rust's panic machinery (formatting the message, running the hook) needs several
/// KiB; 16 KiB leaves room for it plus a few frames of user code.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// Largest stack a runtime accepts, in bytes. Virtual address space is reserved for
/// `max_processes` stacks, so this bounds the reservation (2^20 × 8 MiB = 8 TiB).
pub const MAX_STACK_SIZE: usize = 8 * 1024 * 1024;

/// Default stack size: 64 KiB of address space, of which an idle process touches
/// about one page. Large enough for typical Rust code including panics with
/// formatted messages; deep recursion needs a larger `stack_size`.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;

/// Stacks per mapping. 1,024 × 64 KiB = 64 MiB of address space per chunk: large
/// enough that a million stacks need ~1,000 mappings, small enough that a runtime with
/// few processes reserves little.
pub(crate) const STACKS_PER_CHUNK: usize = 1024;

/// With `mprotect` guards each stack costs two mappings; stop well below the default
/// `vm.max_map_count` (65,530) so the rest of the program keeps room for its own.
pub(crate) const MPROTECT_STACK_BUDGET: usize = 24 * 1024;

/// Stacks kept resident in the shared pool when a scheduler goes idle; the rest have
/// their pages released. 4,096 × one touched page ≈ 16 MiB.
pub(crate) const KEEP_RESIDENT: usize = 4096;

/// The page size, read once.
pub(crate) fn page_size() -> usize {
    use std::sync::OnceLock;
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if p > 0 { p as usize } else { 4096 }
    })
}
