//! What a behaviour's start is given ([`StartOptions`]): a name, a start timeout,
//! hibernation after idling, a mailbox limit.

use std::time::Duration;

use crate::name::Name;

/// Options of a behaviour's start ([`gen_server`](crate::gen_server) and
/// [`gen_statem`](crate::gen_statem), and so every behaviour built on them).
///
/// ```
/// use std::time::Duration;
/// use beamlet_stdlib::gen_server::StartOptions;
/// let o = StartOptions::new().name("kv").hibernate_after(Duration::from_secs(1));
/// assert_eq!(o.name_ref().and_then(|n| n.as_local()), Some("kv"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub(crate) name: Option<Name>,
    pub(crate) hibernate_after: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) mailbox_limit: Option<beamlet_runtime::MailboxLimit>,
}

impl StartOptions {
    /// No name, no hibernation, no start timeout.
    ///
    /// ```
    /// use beamlet_stdlib::gen_server::StartOptions;
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
    /// use beamlet_stdlib::gen_server::StartOptions;
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
    /// let _opts = beamlet_stdlib::gen_server::StartOptions::new().hibernate_after(Duration::from_secs(1));
    /// ```
    pub fn hibernate_after(mut self, after: Duration) -> StartOptions {
        self.hibernate_after = Some(after);
        self
    }

    /// Kills the server and fails with [`StartError::Timeout`](super::StartError::Timeout) if `init` takes longer.
    ///
    /// ```
    /// use std::time::Duration;
    /// let _opts = beamlet_stdlib::gen_server::StartOptions::new().timeout(Duration::from_secs(1));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> StartOptions {
        self.timeout = Some(timeout);
        self
    }

    /// Gives the server a mailbox limit (see [`beamlet_runtime::backpressure`]), in
    /// force before its name is registered and before the start returns, so no
    /// request escapes it. A call the limit refuses fails with
    /// [`CallError::MailboxFull`](super::CallError::MailboxFull).
    ///
    /// ```
    /// use beamlet_runtime::{MailboxLimit, OverflowPolicy};
    /// let _opts = beamlet_stdlib::gen_server::StartOptions::new()
    ///     .mailbox_limit(MailboxLimit::new(10_000, OverflowPolicy::Kill));
    /// ```
    pub fn mailbox_limit(mut self, limit: beamlet_runtime::MailboxLimit) -> StartOptions {
        self.mailbox_limit = Some(limit);
        self
    }

    /// The name the server will be registered under, if any.
    ///
    /// ```
    /// use beamlet_stdlib::gen_server::StartOptions;
    /// assert_eq!(StartOptions::new().name("a").name_ref().map(|n| n.to_string()), Some("a".into()));
    /// ```
    pub fn name_ref(&self) -> Option<&Name> {
        self.name.as_ref()
    }
}
