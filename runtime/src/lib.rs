//! The beamlet runtime: Erlang-style processes on stackful coroutines, scheduled by
//! per-core work-stealing schedulers with BEAM-style reduction budgets.
//!
//! # Overview
//!
//! - A **process** is a closure running on its own small stack (pooled, guarded; see
//!   [`stack`](crate::MIN_STACK_SIZE) sizes), with a mailbox. It is identified by a
//!   [`Pid`] and ends with an [`ExitReason`]. A panic ends only that process.
//! - **Messages** are any `Send + 'static` values: [`send`](fn@send), [`receive`](fn@receive),
//!   [`receive_match`] (selective receive), [`receive_timeout`], [`try_receive`],
//!   and [`receive!`](macro@receive) for one of several types, with guards and an
//!   `after` timeout (Erlang's `receive ... after ... end`).
//! - **Schedulers**: one OS thread each, with a run queue; idle schedulers steal.
//!   A process runs for a slice of reductions; runtime calls and [`reduce`] pay for
//!   them, and a process whose slice is spent goes to the back of the queue.
//! - **Back-pressure**: per-process mailbox limits ([`set_mailbox_limit`],
//!   [`spawn_limited`]) that shed or kill, and [`message_queue_len_of`] and
//!   [`send_bounded`] for casts that turn synchronous under load. The guide to which
//!   to use when is in [`backpressure`].
//! - **Timers**: [`sleep`], [`send_after`], [`cancel_timer`], receive timeouts.
//! - **Network I/O**: [`net`]: TCP and UDP sockets whose blocking calls park only the
//!   calling process (a reactor thread per runtime polls them with mio).
//! - **Crash reports**: [`report`]: what is reported when a process crashes (as
//!   OTP 25), through `log` or on stderr ([`ReportSink`]), before anyone hears of
//!   the exit.
//! - **Embedding**: [`Runtime::builder`], [`Runtime::block_on`], [`Runtime::shutdown`].
//! - **Simulation**: [`RuntimeBuilder::simulation`] runs one seeded scheduler on a
//!   virtual clock ([`now`]), so a seed replays its schedule exactly and timeouts
//!   take no wall time: for exploring races over many seeds in tests.
//!
//! # Example
//!
//! ```
//! use beamlet::{receive, self_pid, send, spawn, Pid, Runtime};
//!
//! let rt = Runtime::builder().build().unwrap();
//! let total = rt.block_on(|| {
//!     let me = self_pid();
//!     for i in 0..100u64 {
//!         spawn(move || send(me, i * i).unwrap()).unwrap();
//!     }
//!     (0..100).map(|_| receive::<u64>()).sum::<u64>()
//! }).unwrap();
//! assert_eq!(total, 328_350);
//! rt.shutdown();
//! ```
//!
//! # Rules for process code
//!
//! A process may resume on a different OS thread after any call that can switch
//! (`receive*`, `sleep`, `yield_now`, `reduce`, `send`, `spawn`). Do not hold a value
//! bound to the OS thread across such a call — a `std::sync::MutexGuard`, an `Rc`, a
//! borrow of a thread-local. Mark such sections with [`NoSwitch`] to have debug builds
//! catch a switch inside them. Loops that do not call the runtime should call
//! [`reduce`] so that they can be preempted.
//!
//! A destructor may call the runtime while its process unwinds (a panic, a kill,
//! an exit): the process does not switch then (the unwinding belongs to its OS
//! thread), so calls that would only yield (`send`, `spawn`, `reduce`, `yield_now`)
//! skip the yield, and calls that wait (`receive_timeout`, `sleep`, a
//! `gen_server` call) wait with the scheduler thread blocked, as any blocking call
//! does, and return as they would have. A kill that arrives meanwhile is not raised
//! again: the process ends with the reason it is unwinding for. Keep such waits
//! short; a `receive` without a timeout in a destructor blocks until its message.
//!
//! # Stacks and their limits
//!
//! Stacks are [`DEFAULT_STACK_SIZE`] (256 KiB) of address space each by default, or
//! what a process asks for ([`SpawnOpts::stack_size`], in power-of-two classes up to
//! [`MAX_STACK_SIZE`]), carved from large `MAP_NORESERVE` mappings; an idle process
//! touches about one 4 KiB page. Each stack has a guard page: with Linux ≥ 6.13
//! installed by `MADV_GUARD_INSTALL` (no extra mapping, so millions of processes fit
//! under `vm.max_map_count`), on older kernels by `mprotect` (two mappings per stack,
//! capped at 24,576 stacks, after which `spawn` fails with
//! [`SpawnError::SystemLimit`]).
//!
//! Every runtime call (those that spend reductions: `send`, `receive`, `spawn`,
//! [`reduce`], ...) compares the stack pointer with a red zone at the bottom of the
//! stack. A process that calls the runtime in its red zone ends alone with
//! [`ExitReason::StackOverflow`], unwinding like a kill (destructors run, its links
//! and monitors see the reason, a supervisor restarts it). Only code that overflows
//! without calling the runtime on the way down hits the guard page; the runtime then
//! aborts the OS process with a message naming the pid and both likely causes
//! (unbounded recursion, or a stack too small): resuming other processes after a
//! fault mid-function could leave shared state half-updated, so a clean abort is the
//! sound response.
//!
//! A build with `panic = "abort"` is refused at [`RuntimeBuilder::build`]: process
//! isolation depends on unwinding.

#![warn(clippy::undocumented_unsafe_blocks)]

// The layers (see `runtime/layers.txt`; `.ci/layers.py` checks that a file uses
// only its own layer and those below):
// L0 base
mod error;
mod exit;
mod limits;
mod loom;
mod nodes;
mod pid;
mod priority;
// L1 machinery
mod coroutine;
mod dirty_pool;
mod idle;
mod io;
mod mailbox;
mod process;
pub mod report;
mod stack;
mod timer;
mod unwind;
// L2 kernel
mod kernel;
// L3 threads
mod scheduler;
// L4 process API
mod alias;
pub mod backpressure;
mod control;
mod info;
mod links;
mod names;
mod preemptible;
mod receive;
pub mod remote;
mod reporting;
mod send;
mod spawn;
mod time;
// L5 services
mod dirty;
mod future;
pub mod net;
mod os_signal;
// L6 facade
mod builder;
mod entry;
mod handle;
mod runtime;

pub use alias::{Alias, alias, unalias};
pub use backpressure::{
    MailboxLimit, OverflowPolicy, mailbox_limit, message_queue_len_of, send_bounded,
    set_mailbox_limit, spawn_limited,
};
pub use builder::RuntimeBuilder;
pub use control::{NoSwitch, catch_exit, hibernate, reduce, self_pid, set_priority, yield_now};
pub use dirty::{dirty_cpu, dirty_io};
pub use entry::run;
pub use error::{
    BuildError, DirtyError, Elapsed, LinkError, RegisterError, SendError, SpawnError, UnknownName,
    Unsimulated,
};
pub use exit::{Down, Exit, ExitReason, PanicReason, Term};
pub use future::{block_on_future, block_on_future_timeout};
pub use handle::{ProcessJoin, RuntimeHandle};
pub use info::{
    for_each_process, process_count, process_info, processes, recent_system_events, runtime_stats,
    set_behaviour, set_label,
};
pub use kernel::info::{Behaviour, ProcessInfo, ProcessStatus, ProcessSummary};
pub use kernel::stats::{RuntimeStats, SchedulerTime, SystemEvent, SystemEventKind};
pub use limits::{
    DEFAULT_DIRTY_IO, DEFAULT_LONG_SCHEDULE, DEFAULT_MAX_PROCESSES, DEFAULT_MAX_SPARE_THREADS,
    DEFAULT_REDUCTIONS, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_STACK_SIZE, MAX_PROCESSES,
    MAX_STACK_SIZE, MIN_STACK_SIZE,
};
pub use links::{demonitor, exit, exit_pid, link, monitor, monitor_name, trap_exit, unlink};
pub use mailbox::node::Headed;
pub use names::{register, registered, registered_name, send_named, unregister, whereis};
pub use os_signal::{OsSignal, OsSignalReceived, forward_os_signals};
pub use pid::{MonitorRef, ParsePidError, Pid, Ref};
pub use preemptible::{Preemptible, PreemptibleIter};
pub use priority::Priority;
pub use receive::{
    MailboxMark, Message, mailbox_mark, message_queue_len, receive, receive_any,
    receive_any_timeout, receive_match, receive_match_after, receive_match_timeout, receive_select,
    receive_timeout, try_receive,
};
pub use report::{Report, ReportKind, ReportSink};
pub use reporting::{set_initial_call, write_report};
pub use runtime::{Runtime, ShutdownReport};
pub use scheduler::sysmon::{LongSchedule, system_monitor};
pub use send::{is_alive, send, send_headed};
pub use spawn::{
    SpawnOpts, spawn, spawn_link, spawn_link_monitor, spawn_monitor, spawn_opt, spawn_priority,
};
pub use time::{
    TimerCancelled, TimerMessage, cancel_timer, cancel_timer_async, now, read_timer, send_after,
    sleep, start_timer,
};
pub use timer::TimerRef;

/// Compile-time checks of thread-safety contracts.
#[allow(dead_code, reason = "compile-time assertions only")]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Pid>();
    send_sync::<Ref>();
    send_sync::<Runtime>();
    send_sync::<ExitReason>();
    send_sync::<TimerRef>();
}

#[cfg(all(test, loom))]
mod tests;
