//! Casts that turn synchronous when the server falls behind: [`CastGate`] (its
//! protocol is on the type).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use beamlet_runtime::{SendError, message_queue_len_of, send_bounded};

use super::server::{CastMsg, SyncCastMsg};
use super::{GenServer, ServerRef};
use crate::behaviour::{self, CallError};

/// How a cast through a [`CastGate`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum CastMode {
    /// Sent without waiting: the server was below its threshold.
    Async,
    /// Acknowledged: the server had handled the cast when `cast` returned.
    Sync,
}

/// A cast that turns synchronous past a queue-length threshold, as Elixir's
/// `Logger` with its `sync_threshold`. Cheap to clone; clones share the mode.
///
///
/// # Protocol ([`CastGate::cast`])
///
/// 1. **Async mode**: the cast is sent with the runtime's
///    [`send_bounded`](beamlet_runtime::send_bounded), which admits it only if the
///    server's mailbox holds fewer than `sync_threshold` messages, counting and
///    deciding in one atomic step. Admitted: the producer goes on at once.
/// 2. **Refused**: the gate switches to sync mode and the same cast goes as an
///    acknowledged cast: a [`behaviour::call`](crate::behaviour::call) whose request the server
///    hands to `handle_cast` and then acknowledges. The producer waits for the
///    acknowledgement, so it has at most this one message in the server's mailbox.
/// 3. **Sync mode**: each cast is acknowledged, until the server's queue length
///    (read with [`message_queue_len_of`], no message to the server) is at most the
///    low mark; then the gate is back in async mode and step 1 applies.
///
/// Hence, with `P` producers sharing or not sharing gates on one server, the server's
/// mailbox never holds more than `sync_threshold + P` casts: asynchronous ones are
/// admitted only below the threshold, and each producer has at most one
/// acknowledged cast outstanding. Nothing is dropped, and a producer's casts are
/// handled in the order it made them (one sender, one mailbox: FIFO). (The first
/// gate cast meters the server's mailbox, see
/// [`message_queue_len_of`](beamlet_runtime::message_queue_len_of): messages other
/// senders had sent before count only once the server has looked at its mailbox.)
///
/// The low mark defaults to `sync_threshold - 1` (Logger's since Elixir 1.8): back to
/// async as soon as there is room. A lower mark ([`CastGate::resume_async_at`]) keeps
/// a gate in sync mode longer, so producers do not flap at the threshold.
///
/// # Departures from Elixir's `Logger`
///
/// - The mode is kept per gate (shared by its clones), not per server: producers
///   with separate gates decide separately, and the bound above holds anyway.
/// - The queue length is the runtime's own lock-free count (undrained messages
///   included), not a counter kept by the server and its clients.
/// - The acknowledged cast waits without a timeout: a server that dies ends the
///   wait with its exit reason, a live one with its acknowledgement.
///
/// # Examples
///
/// ```
/// use beamlet::otp::gen_server::{self, CastGate, CastMode, GenServer, Init, NoReply};
///
/// struct Sink;
/// impl GenServer for Sink {
///     type Args = (); type Call = (); type Reply = (); type Cast = String; type Continue = ();
///     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Sink) }
///     fn handle_cast(&mut self, line: String) -> NoReply<()> { let _ = line; NoReply::Ok }
/// }
///
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let sink = gen_server::start::<Sink>(()).unwrap();
///     let gate = CastGate::new(sink, 100);
///     for i in 0..1000 {
///         // Async while the sink keeps up; acknowledged while it has 100 waiting.
///         let _mode: CastMode = gate.cast(format!("line {i}")).unwrap();
///     }
/// }).unwrap();
/// rt.shutdown();
/// ```
pub struct CastGate<S: GenServer> {
    server: ServerRef<S>,
    sync_threshold: usize,
    async_at: usize,
    sync: Arc<AtomicBool>,
}

impl<S: GenServer> Clone for CastGate<S> {
    fn clone(&self) -> Self {
        CastGate {
            server: self.server,
            sync_threshold: self.sync_threshold,
            async_at: self.async_at,
            sync: self.sync.clone(),
        }
    }
}

impl<S: GenServer> std::fmt::Debug for CastGate<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CastGate")
            .field("server", &self.server.pid())
            .field("sync_threshold", &self.sync_threshold)
            .field("async_at", &self.async_at)
            .field("sync", &self.is_sync())
            .finish()
    }
}

impl<S: GenServer> CastGate<S> {
    /// A gate on `server` that turns synchronous once `sync_threshold` messages wait
    /// in its mailbox (0: always synchronous), and async again below it.
    pub fn new(server: ServerRef<S>, sync_threshold: usize) -> CastGate<S> {
        CastGate {
            server,
            sync_threshold,
            async_at: sync_threshold.saturating_sub(1),
            sync: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Stays synchronous until the queue is down to `low` messages (clamped below
    /// the threshold): a hysteresis, as Logger's older 75 % mark.
    ///
    /// ```
    /// # use beamlet::otp::gen_server::{CastGate, GenServer, Init, ServerRef};
    /// # struct Nop;
    /// # impl GenServer for Nop {
    /// #     type Args = (); type Call = (); type Reply = (); type Cast = (); type Continue = ();
    /// #     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Nop) }
    /// # }
    /// # let rt = beamlet::Runtime::builder().build().unwrap();
    /// # rt.block_on(|| {
    /// let server: ServerRef<Nop> = beamlet::otp::gen_server::start(()).unwrap();
    /// let gate = CastGate::new(server, 400).resume_async_at(300);
    /// assert!(!gate.is_sync());
    /// # }).unwrap();
    /// # rt.shutdown();
    /// ```
    pub fn resume_async_at(mut self, low: usize) -> CastGate<S> {
        self.async_at = low.min(self.sync_threshold.saturating_sub(1));
        self
    }

    /// `true` while the gate's casts are acknowledged.
    pub fn is_sync(&self) -> bool {
        self.sync.load(Ordering::Relaxed)
    }

    /// Casts `msg` (see the protocol on [`CastGate`]): asynchronously below the
    /// threshold, acknowledged above it.
    ///
    /// # Errors
    ///
    /// `NoProc` if the server is not running; for an acknowledged cast also `Exit`
    /// if it died before handling it, and `MailboxFull` if its own mailbox limit
    /// refused the cast.
    pub fn cast(&self, msg: S::Cast) -> Result<CastMode, CallError> {
        let pid = self.server.pid();
        if self.is_sync() && message_queue_len_of(pid).is_some_and(|n| n <= self.async_at) {
            self.sync.store(false, Ordering::Relaxed);
        }
        let msg = if self.is_sync() {
            msg
        } else {
            match send_bounded(pid, CastMsg(msg), self.sync_threshold) {
                Ok(()) => return Ok(CastMode::Async),
                Err(SendError::NoProc(_)) => return Err(CallError::NoProc),
                Err(SendError::MailboxFull(CastMsg(msg))) => {
                    self.sync.store(true, Ordering::Relaxed);
                    msg
                }
            }
        };
        behaviour::call_server(pid, |from| SyncCastMsg { from, msg }, None).map(|()| CastMode::Sync)
    }
}
