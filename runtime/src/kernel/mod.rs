//! The kernel (layer 2): the state of one runtime and the operations on it, used by
//! the scheduler threads and by every thread that talks to the runtime.
//!
//! The kernel reads no thread-local: a caller that holds a core passes it in
//! (`Option<&mut Core>`), and the running process is handed in as a `Held` where its
//! owned fields are needed. What is "current" is the scheduler layer's business
//! (`crate::scheduler::context`, `crate::scheduler::current`).
//!
//! - [`shared`]: [`Shared`](shared::Shared) and its [`Config`](shared::Config), built once per runtime.
//! - [`core`]: the movable per-scheduler state (run queue, next slot, timers, caches).
//! - [`queue`]: run queues by priority, their stealing side, the injectors.
//! - [`handoff`]: taking a core from a stuck thread and giving it to another.
//! - [`spawn`]: a free slot becomes a runnable process.
//! - [`deliver`]: messages and signals into a mailbox, waking, scheduling; the one
//!   routing point for pids of other runtimes.
//! - [`refused`]: why a delivery did not happen.
//! - [`remote`]: deliveries to and from processes on other nodes.
//! - [`routes`]: which connection process carries each connected node.
//! - [`timer_action`]: what a wheel entry does when it fires.
//! - [`timers`]: arming and firing wheel entries; sweeping cancelled ones.
//! - [`signals`]: exits, links, monitors and aliases, acted on at intake.
//! - [`retire`]: an exited process's slot, stack and relations set free.
//! - [`exit_report`]: the crash report an exit gets, built while it retires.
//! - [`name_table`]: registered names.
//! - [`runtimes`]: the OS-process-wide list of running runtimes.
//! - [`info`]: snapshots for `process_info` from published state.
//! - [`stats`]: runtime-wide figures.
//! - [`system_events`]: the system monitor's recent events.

pub(crate) mod core;
pub(crate) mod deliver;
pub(crate) mod exit_report;
pub(crate) mod handoff;
pub(crate) mod info;
pub(crate) mod name_table;
pub(crate) mod queue;
pub(crate) mod refused;
pub(crate) mod remote;
pub(crate) mod retire;
pub(crate) mod routes;
pub(crate) mod runtimes;
pub(crate) mod shared;
pub(crate) mod signals;
pub(crate) mod spawn;
pub(crate) mod stats;
pub(crate) mod system_events;
pub(crate) mod timer_action;
pub(crate) mod timers;
#[cfg(feature = "tokio")]
pub(crate) mod tokio_link;
