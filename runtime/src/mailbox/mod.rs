//! Mailboxes: a lock-free inbound stack shared by senders, and a private queue owned by
//! the receiving process.
//!
//! # Protocol
//!
//! 1. A sender links its node onto [`Inbound`](inbound::Inbound) with one compare-and-swap (a Treiber
//!    stack push). It never blocks and never waits for the receiver.
//! 2. The receiver takes the whole stack with one swap and reverses it, which restores
//!    send order for every sender (a sender's later push is above its earlier one).
//! 3. The taken nodes are appended to the receiver's private [`Queue`](queue::Queue). Only the
//!    receiving process touches the queue, so selective receive (scan, unlink a match
//!    in the middle, keep the rest in order) needs no synchronisation.
//! 4. A [`Queue`](queue::Queue) keeps an optional *mark*: the position of its tail when a request was
//!    sent. A receive that starts from the mark skips every older message, so a reply
//!    is found in time independent of how many unrelated messages wait (the BEAM's
//!    receive-mark optimisation).
//!
//! 5. A metered mailbox's length is counted without a lock (see [`limit`]): a sender
//!    adds one to [`Inbound::arrivals`](inbound::Inbound::arrivals) before it pushes a message (one relaxed add,
//!    on the cache line its push writes anyway); the owner publishes how many of
//!    those have left. Any thread reads the difference, undrained messages included.
//!
//! Messages from one process to another arrive in send order even while either
//! migrates between schedulers: the order is fixed by the sender's sequence of pushes
//! onto the receiver's single inbound stack.
//!
//! - [`node`]: the type-erased envelope with its intrusive link.
//! - [`pool`]: per-thread free lists of small envelope blocks.
//! - [`inbound`]: [`Inbound`](inbound::Inbound)(inbound::Inbound), the senders' side.
//! - [`queue`]: [`Queue`](queue::Queue), the receiver's side.
//! - [`limit`]: the lock-free length count and admission under a limit.

pub(crate) mod inbound;
pub(crate) mod limit;
pub(crate) mod node;
pub(crate) mod pool;
pub(crate) mod queue;
