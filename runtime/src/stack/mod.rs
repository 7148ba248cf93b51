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
mod page;
mod slab;

pub(crate) use page::page_size;
pub(crate) use slab::{KEEP_RESIDENT, PooledStack, StackPool};
