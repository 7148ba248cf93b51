//! The runtime's limits and defaults, and what runtime calls cost in reductions.
//!
//! # Reductions (the cost model)
//!
//! A process runs for a slice of [`DEFAULT_REDUCTIONS`] reductions (as the BEAM's
//! `CONTEXT_REDS`; set with `RuntimeBuilder::reductions`) and then goes to the back of
//! its run queue. Runtime calls pay:
//!
//! | call | reductions |
//! |---|---|
//! | `spawn` | [`SPAWN_COST`] (10) |
//! | `send`, `link`, `monitor`, `exit_pid` | [`SEND_COST`] (1) |
//! | `receive` (each message examined) | 1 |
//! | `send_after`, `cancel_timer`, `sleep` | [`TIMER_COST`] (2) |
//! | a socket call | [`IO_COST`] (5) |
//! | each poll of a future (`block_on_future`) | [`FUTURE_COST`] (2) |
//! | `reduce(n)` | n |
//! | `yield_now` | the rest of the slice |

use std::time::Duration;

/// Default reductions per slice, as the BEAM's `CONTEXT_REDS`.
pub const DEFAULT_REDUCTIONS: u32 = 4000;

/// Default process limit: 2^20, as the BEAM's `+P` default, enough for the
/// million-process demo plus the processes that drive it.
pub const DEFAULT_MAX_PROCESSES: usize = 1 << 20;

/// The largest `max_processes` accepted (2^27 slots).
pub const MAX_PROCESSES: usize = 1 << 27;

/// Default long-schedule threshold of the system monitor (as Go's 10 ms preemption).
pub const DEFAULT_LONG_SCHEDULE: Duration = Duration::from_millis(10);

/// Default cap on the spare scheduler threads the system monitor starts to take over
/// the queues of threads stuck in a process (see
/// [`RuntimeBuilder::max_spare_threads`](crate::RuntimeBuilder::max_spare_threads)).
pub const DEFAULT_MAX_SPARE_THREADS: usize = 64;

/// Default number of dirty I/O threads, as the BEAM's.
pub const DEFAULT_DIRTY_IO: usize = 10;

/// How long `shutdown` waits for killed processes to finish unwinding.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Smallest stack a runtime accepts, in bytes (guard page excluded).
///
/// Rust's panic machinery (formatting the message, running the hook) needs several
/// KiB; 16 KiB leaves room for it plus a few frames of user code.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// Largest stack a runtime accepts, in bytes. Virtual address space is reserved for
/// `max_processes` stacks, so this bounds the reservation (2^20 × 8 MiB = 8 TiB).
pub const MAX_STACK_SIZE: usize = 8 * 1024 * 1024;

/// Default stack size: 256 KiB of address space, of which an idle process touches
/// about one page (pages are committed only when touched, so the reservation is
/// nearly free: a page-table share of ~512 B per process, see the README). Large
/// enough for ordinary Rust code (formatting, serde, regex, a recursion of 100 frames
/// of 1 KiB); a process that needs more asks for it with
/// [`SpawnOpts::stack_size`](crate::SpawnOpts::stack_size).
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// Reductions a spawn costs the spawner.
pub(crate) const SPAWN_COST: i32 = 10;
/// Reductions a send costs the sender.
pub(crate) const SEND_COST: i32 = 1;
/// Reductions to arm or cancel a timer.
pub(crate) const TIMER_COST: i32 = 2;

/// Reductions one socket operation costs (a system call or two).
pub(crate) const IO_COST: i32 = 5;

/// Reductions one poll of a future costs (`block_on_future`): the poll itself is the
/// future's own work, which the runtime cannot see.
pub(crate) const FUTURE_COST: i32 = 2;
