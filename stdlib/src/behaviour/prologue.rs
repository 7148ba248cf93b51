//! What a behaviour's start is given ([`StartOptions`]: a name, a start timeout,
//! hibernation after idling, a mailbox limit, a stack size) and the prologue its new process runs
//! before `init` ([`start_behaviour`]), the one copy every behaviour uses:
//!
//! 1. The process is marked with its initial call (the behaviour's type): an
//!    abnormal exit of its own gets a crash report (`beamlet::report`).
//!    The mailbox limit is set first: only the starter knows the pid yet, so the
//!    limit covers every later request (none escapes it through the name).
//! 2. Exits are trapped if the behaviour asks (its `TRAP_EXIT`), before `init`.
//! 3. The name is registered; a taken one fails the start with
//!    [`StartError::AlreadyStarted`], another refusal with `Stop` (the reason being
//!    the [`NameError`]).
//! 4. The behaviour runs its `init` and then either [`Boot::ack`]s (the start returns
//!    `Ok`) or [`Boot::fail`]s, which releases the name before acknowledging, so
//!    the starter may retry at once.

use std::time::Duration;

use beamlet_runtime::{
    Exit, ExitReason, Message, Pid, set_initial_call, set_mailbox_limit, trap_exit,
};

use super::{StartError, Starter};
use crate::name::{Name, NameError};

/// Options of a behaviour's start ([`gen_server`](crate::gen_server) and
/// [`gen_statem`](crate::gen_statem), and so every behaviour built on them).
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_server::StartOptions;
/// let o = StartOptions::new().name("kv").hibernate_after(Duration::from_secs(1));
/// assert_eq!(o.name_ref().and_then(|n| n.as_local()), Some("kv"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub(crate) name: Option<Name>,
    pub(crate) hibernate_after: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) mailbox_limit: Option<beamlet_runtime::MailboxLimit>,
    pub(crate) stack_size: Option<usize>,
}

impl StartOptions {
    /// No name, no hibernation, no start timeout.
    ///
    /// ```
    /// use beamlet::otp::gen_server::StartOptions;
    /// assert!(StartOptions::new().name_ref().is_none());
    /// ```
    pub fn new() -> StartOptions {
        StartOptions::default()
    }

    /// Registers the server under `name` before `init` runs: a `&str` or `String`
    /// is a local name, a [`Name::Via`] goes through its name service (for example
    /// [`Registry::via`](crate::registry::Registry::via)).
    ///
    /// ```
    /// use beamlet::otp::gen_server::StartOptions;
    /// let o = StartOptions::new().name("kv");
    /// assert_eq!(o.name_ref().and_then(|n| n.as_local()), Some("kv"));
    /// ```
    pub fn name(mut self, name: impl Into<Name>) -> StartOptions {
        self.name = Some(name.into());
        self
    }

    /// Hibernates the server after it has been idle for `after`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let _opts = beamlet::otp::gen_server::StartOptions::new().hibernate_after(Duration::from_secs(1));
    /// ```
    pub fn hibernate_after(mut self, after: Duration) -> StartOptions {
        self.hibernate_after = Some(after);
        self
    }

    /// Kills the server and fails with [`StartError::Timeout`] if `init` takes longer.
    ///
    /// ```
    /// use std::time::Duration;
    /// let _opts = beamlet::otp::gen_server::StartOptions::new().timeout(Duration::from_secs(1));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> StartOptions {
        self.timeout = Some(timeout);
        self
    }

    /// Gives the server (or state machine) a mailbox limit (see
    /// [`beamlet_runtime::backpressure`]), in force before its name is registered
    /// and before the start returns, so no request escapes it. A call the limit
    /// refuses fails with
    /// [`CallError::MailboxFull`](super::CallError::MailboxFull).
    ///
    /// ```
    /// use beamlet::{MailboxLimit, OverflowPolicy};
    /// let _opts = beamlet::otp::gen_server::StartOptions::new()
    ///     .mailbox_limit(MailboxLimit::new(10_000, OverflowPolicy::Kill));
    /// ```
    pub fn mailbox_limit(mut self, limit: beamlet_runtime::MailboxLimit) -> StartOptions {
        self.mailbox_limit = Some(limit);
        self
    }

    /// Gives the server (or state machine) a stack of at least `bytes` (see
    /// [`SpawnOpts::stack_size`](beamlet_runtime::SpawnOpts::stack_size); the
    /// runtime's default otherwise). A size above
    /// [`MAX_STACK_SIZE`](beamlet_runtime::MAX_STACK_SIZE) fails the start with
    /// [`StartError::Spawn`].
    ///
    /// ```
    /// use beamlet::otp::gen_server::StartOptions;
    /// let _opts = StartOptions::new().stack_size(2 << 20);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> StartOptions {
        self.stack_size = Some(bytes);
        self
    }

    /// The name the server will be registered under, if any.
    ///
    /// ```
    /// use beamlet::otp::gen_server::StartOptions;
    /// assert_eq!(StartOptions::new().name("a").name_ref().map(|n| n.to_string()), Some("a".into()));
    /// ```
    pub fn name_ref(&self) -> Option<&Name> {
        self.name.as_ref()
    }
}

/// A behaviour's new process after the prologue (see the module), before its ack:
/// what it needs of the start to finish it.
#[derive(Debug)]
pub(crate) struct Boot {
    starter: Starter,
    name: Option<Name>,
    /// The `hibernate_after` option, for the behaviour's loop.
    pub(crate) hibernate_after: Option<Duration>,
}

impl Boot {
    /// Runs the prologue's steps 1 to 3 in the new process; a refused name ends it.
    fn new(starter: Starter, opts: StartOptions, trap: bool, initial_call: &'static str) -> Boot {
        // Its abnormal exit gets proc_lib's crash report (beamlet_runtime::report).
        set_initial_call(initial_call);
        if let Some(limit) = opts.mailbox_limit {
            set_mailbox_limit(Some(limit));
        }
        if trap {
            trap_exit(true);
        }
        if let Some(Err(e)) = opts.name.as_ref().map(Name::register) {
            starter.fail(match e {
                NameError::Taken(p) => StartError::AlreadyStarted(p),
                other => StartError::Stop(ExitReason::custom(other)),
            });
        }
        Boot {
            starter,
            name: opts.name,
            hibernate_after: opts.hibernate_after,
        }
    }

    /// The parent (the starter) of a linked start, whose `Exit` stops the behaviour.
    pub(crate) fn parent(&self) -> Option<Pid> {
        self.starter.linked().then(|| self.starter.parent())
    }

    /// Initialised: the start returns `Ok`.
    pub(crate) fn ack(self) {
        self.starter.ack();
    }

    /// `init` failed (or ignored): releases the name, then ends the process with
    /// [`Starter::fail`].
    pub(crate) fn fail(self, error: StartError) -> ! {
        if let Some(n) = self.name {
            n.unregister();
        }
        self.starter.fail(error)
    }
}

/// The reason of an `Exit` message from the parent (see [`Boot::parent`]), if `msg`
/// is one: a behaviour trapping exits terminates with it, as OTP.
pub(crate) fn parent_exit(parent: Option<Pid>, msg: &Message) -> Option<ExitReason> {
    let exit = msg.downcast_ref::<Exit>()?;
    (Some(exit.from) == parent).then(|| exit.reason.clone())
}

/// Starts a behaviour's process (see [`start`](super::start)), linked or not, with
/// the start timeout of `opts`: the new process runs the prologue (trapping exits if
/// `trap`), then `body`, which must [`Boot::ack`] or [`Boot::fail`].
#[track_caller]
pub(crate) fn start_behaviour<F>(
    link: bool,
    opts: StartOptions,
    (trap, initial_call): (bool, &'static str),
    body: F,
) -> Result<Pid, StartError>
where
    F: FnOnce(Boot) + Send + 'static,
{
    let (timeout, stack_size) = (opts.timeout, opts.stack_size);
    super::start_sized(link, timeout, stack_size, move |starter| {
        body(Boot::new(starter, opts, trap, initial_call))
    })
}
