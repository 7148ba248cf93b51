//! Timers: `sleep`, `send_after`, `cancel_timer` and receive timeouts.
//!
//! Each scheduler core owns a [`Wheel`](wheel::Wheel); a timer set by a process goes
//! into the wheel of the core it runs on, so setting one takes no lock. Timers set
//! from outside any scheduler go through a shared injector that the schedulers drain.
//! A core fires its due timers once per scheduling round and parks no longer than
//! until its next deadline.
//!
//! Deadlines are read on the runtime's clock ([`clock`]): the OS monotonic clock, or
//! a simulated runtime's virtual clock.
//!
//! - [`wheel`]: the hierarchical timing wheel of one core, and deadline ticks.
//! - [`cell`]: a timer's shared state and handle, and what an entry does.
//! - [`clock`]: the OS clock, or a simulated runtime's virtual clock.
//! - [`owned`]: the timers a process set to itself, cancelled when it exits.

pub(crate) mod cell;
pub(crate) mod clock;
pub(crate) mod owned;
pub(crate) mod wheel;

pub use cell::TimerRef;
pub(crate) use cell::{TimerCell, TimerPayload};
