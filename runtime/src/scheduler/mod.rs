//! The scheduler threads (layer 3): what runs on them, and the running process's
//! door into the kernel.
//!
//! - [`worker`]: a scheduler thread's loop — timers, picking, stealing, parking.
//! - [`run`]: running one process — resume it, then requeue, park, hibernate or
//!   retire it; the bottom frame of every process.
//! - [`sim`]: the loop of a simulated runtime's only scheduler (seeded, virtual clock).
//! - [`sysmon`]: the system monitor thread — long schedules, handing a stuck core to
//!   a spare thread (which it starts).
//! - [`context`]: the thread-local context, read only through `#[inline(never)]`
//!   accessors.
//! - [`current`]: the one door for the running process (charge, suspend, signals,
//!   wake-ups, delivery, spawning), with the guard that owns its `Held`.
//! - [`panic_hook`]: records where a process panicked, for its exit reason.

pub(crate) mod context;
pub(crate) mod current;
pub(crate) mod panic_hook;
pub(crate) mod run;
pub(crate) mod sim;
pub(crate) mod sysmon;
pub(crate) mod worker;

use crate::stack::guard;

/// Installs what the scheduler layer hooks into the OS process, once: the panic
/// hook, and the probe the stack-overflow handler names the faulting process with.
pub(crate) fn install_hooks() {
    panic_hook::install();
    guard::set_pid_probe(context::current_pid_for_signal);
}
