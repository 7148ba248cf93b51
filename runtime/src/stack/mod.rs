//! Process stacks: a slab of guarded stacks carved from large `MAP_NORESERVE` mappings.
//!
//! # Design
//!
//! A million processes cannot each own a mapping: Linux caps mappings per OS process at
//! `vm.max_map_count` (65,530 by default). So stacks are carved from *chunks*, each one
//! mapping of [`STACKS_PER_CHUNK`](slab::STACKS_PER_CHUNK) stacks, reserved with `MAP_NORESERVE` so that only
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
//!    mappings per stack; the slab stops growing at [`MPROTECT_STACK_BUDGET`](slab::MPROTECT_STACK_BUDGET) stacks
//!    and `spawn` then fails with `system_limit` instead of crashing.
//!
//! # Overflow
//!
//! Two tiers catch an overflow:
//!
//! 1. **Checked**: every runtime call compares the stack pointer with the top of a
//!    [`RED_ZONE`] at the bottom of the stack (`scheduler::context::spend`). A process
//!    that calls the runtime in its red zone ends alone with
//!    `ExitReason::StackOverflow`, unwinding like a kill; the red zone is what the
//!    unwinding and the destructors run on.
//! 2. **Guard page**: code that overflows without calling the runtime on the way
//!    down faults on the guard page. The fault handler in [`guard`] recognises an
//!    address inside one of the slab's guard pages and aborts the OS process with a
//!    message naming the overflowing process and both likely causes (never an
//!    anonymous SIGSEGV, never silent corruption of a neighbouring stack). Ending
//!    just that process would mean abandoning its frames mid-instruction, which could
//!    leave shared state (locks, lock-free structures) half-updated; aborting is the
//!    sound choice.
//!
//! # Size classes
//!
//! A process's stack is of the runtime's default size or of the size it asked for at
//! spawn; each size class has its own chunks (see [`pool`]).
//!
//! # Pooling
//!
//! A process takes a stack when it first runs and returns it when it exits or
//! hibernates. Returned stacks keep their resident pages above [`DEEP_MARK`] and go
//! to a per-scheduler cache (default class) or their class's pool, so steady-state
//! spawning makes no syscall; the pages below the mark that a deep process touched
//! are released before the stack is pooled. Stacks
//! idle in the shared pool beyond [`KEEP_RESIDENT`] have their pages released with
//! `MADV_DONTNEED` when a scheduler goes idle, so memory returns to the OS after a
//! burst of processes ends.

/// How far below its top a process may use its stack and still leave the pages
/// resident when it gives the stack back: 64 KiB, the whole stack of earlier
/// versions, so processes that fit in that cost exactly what they did. A process that
/// went deeper (seen by the stack check of its runtime calls, see
/// `scheduler::context::spend`) has the pages below the mark released with one
/// `madvise(MADV_DONTNEED)` before its stack goes to the pool, so reuse does not
/// creep RSS; a few such stacks per scheduler keep them while in its cache, so that
/// one deep process after another does not fault them in each time (see
/// `Shared::give_back_stack`).
pub(crate) const DEEP_MARK: usize = 64 * 1024;

/// Bytes at the bottom of a stack that a runtime call refuses to enter: a process
/// whose stack pointer is in the red zone at a runtime call ends with
/// `ExitReason::StackOverflow`, unwinding, and the red zone is what the unwinding
/// runs on. Measured (tests/stacks.rs, `red_zone_covers_the_unwind`, which paints
/// the free stack and looks for the lowest byte changed): raising the exit from a
/// `reduce` call and unwinding ~200 frames of 1 KiB, each with a destructor that
/// formats a string, reaches 5.3–5.5 KiB below the deepest frame (debug and
/// release): the runtime call, the unwinder's own frames and the destructors. 32 KiB
/// leaves ~22 KiB for heavier destructors, and costs nothing until touched.
pub(crate) const RED_ZONE: usize = 32 * 1024;

/// The red zone of a stack with `usable` bytes: [`RED_ZONE`], or a quarter of a
/// small stack (a 16 KiB stack keeps 4 KiB, best effort: the unwinding may then
/// still reach the guard page).
pub(crate) fn red_zone(usable: usize) -> usize {
    RED_ZONE.min(usable / 4)
}

pub(crate) mod guard;
mod page;
mod pool;
mod slab;

pub(crate) use page::page_size;
pub(crate) use pool::StackPool;
pub(crate) use slab::{KEEP_RESIDENT, PooledStack};
