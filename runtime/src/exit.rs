//! Exit reasons (why a process ended) and the messages that carry them: [`Exit`]
//! for a trapped exit signal, [`Down`] for a monitor.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::pid::{MonitorRef, Pid};

/// Why a process exited, as the BEAM's exit reasons.
///
/// Cloning is cheap: payloads are shared.
///
/// # Examples
///
/// ```
/// use beamlet::ExitReason;
/// assert!(ExitReason::Normal.is_normal());
/// assert!(!ExitReason::Killed.is_normal());
/// assert_eq!(ExitReason::Shutdown.to_string(), "shutdown");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum ExitReason {
    /// The process function returned.
    Normal,
    /// The untrappable `kill`, as sent with [`exit_pid`](crate::exit_pid).
    Kill,
    /// The reason a process killed with `Kill` exits with, as its links see it.
    Killed,
    /// An orderly shutdown (`shutdown`).
    Shutdown,
    /// An orderly shutdown with a payload (`{shutdown, Term}`).
    ShutdownWith(Arc<dyn Term>),
    /// The process panicked.
    Panic(PanicReason),
    /// The process overflowed its stack.
    StackOverflow,
    /// A system limit was reached (no stack could be had for the process).
    SystemLimit,
    /// The process did not exist (as `noproc`).
    NoProc,
    /// Reserved for distribution: the connection to the process's node was lost.
    NoConnection,
    /// Killed by its [`MailboxLimit`](crate::MailboxLimit) with policy `Kill`: a send
    /// found `max` messages queued (as the BEAM's `max_heap_size` kill, but with a
    /// reason of its own, so links and monitors can tell it from other kills).
    MailboxOverflow,
    /// A user-defined reason.
    Custom(Arc<dyn Term>),
}

/// A value usable as a custom exit reason: any `Send + Sync + Debug + 'static` value.
///
/// `Sync` is required because one exit reason is shared by every linked process.
pub trait Term: Any + Send + Sync + fmt::Debug {
    /// Upcast for downcasting with [`ExitReason::custom_ref`].
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any + Send + Sync + fmt::Debug> Term for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The message and location of a panic that ended a process.
#[derive(Clone, PartialEq, Eq)]
pub struct PanicReason {
    message: Arc<str>,
    location: Option<Arc<str>>,
}

impl PanicReason {
    pub(crate) fn new(message: impl Into<Arc<str>>, location: Option<String>) -> PanicReason {
        PanicReason {
            message: message.into(),
            location: location.map(Into::into),
        }
    }

    /// The panic message.
    ///
    /// ```
    /// # let rt = beamlet::Runtime::builder().schedulers(1).build().unwrap();
    /// let err = rt.block_on(|| -> () { panic!("boom") }).unwrap_err();
    /// match err {
    ///     beamlet::ExitReason::Panic(p) => assert_eq!(p.message(), "boom"),
    ///     other => panic!("{other:?}"),
    /// }
    /// # rt.shutdown();
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `file:line:column` of the panic, when known.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
}

impl fmt::Debug for PanicReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{:?} at {}", self.message, loc),
            None => write!(f, "{:?}", self.message),
        }
    }
}

impl ExitReason {
    /// A custom reason carrying `value`.
    ///
    /// ```
    /// let r = beamlet::ExitReason::custom("bad_input");
    /// assert_eq!(r.custom_ref::<&str>(), Some(&"bad_input"));
    /// ```
    pub fn custom<T: Term>(value: T) -> ExitReason {
        ExitReason::Custom(Arc::new(value))
    }

    /// A `Panic` reason with a message and, if known, a `file:line:column` location.
    ///
    /// ```
    /// let r = beamlet::ExitReason::panic("boom", Some("src/main.rs:3:5"));
    /// assert!(r.is_panic());
    /// ```
    pub fn panic(message: impl Into<Arc<str>>, location: Option<&str>) -> ExitReason {
        ExitReason::Panic(PanicReason::new(message, location.map(str::to_owned)))
    }

    /// A `{shutdown, value}` reason.
    ///
    /// ```
    /// let r = beamlet::ExitReason::shutdown_with(42u32);
    /// assert!(r.is_shutdown());
    /// ```
    pub fn shutdown_with<T: Term>(value: T) -> ExitReason {
        ExitReason::ShutdownWith(Arc::new(value))
    }

    /// The payload of a `Custom` reason, if it is a `T`.
    pub fn custom_ref<T: Any>(&self) -> Option<&T> {
        match self {
            ExitReason::Custom(t) => (**t).as_any().downcast_ref(),
            _ => None,
        }
    }

    /// `true` for `Normal`.
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }

    /// `true` for `Shutdown` and `ShutdownWith`.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, ExitReason::Shutdown | ExitReason::ShutdownWith(_))
    }

    /// `true` for `Kill` and `Killed`.
    pub fn is_killed(&self) -> bool {
        matches!(self, ExitReason::Kill | ExitReason::Killed)
    }

    /// `true` for a panic.
    pub fn is_panic(&self) -> bool {
        matches!(self, ExitReason::Panic(_))
    }

    /// `true` for `Normal`, `Shutdown` and `ShutdownWith`: the reasons a supervisor
    /// does not report and a `transient` child is not restarted for.
    pub fn is_orderly(&self) -> bool {
        self.is_normal() || self.is_shutdown()
    }
}

impl PartialEq for ExitReason {
    fn eq(&self, other: &ExitReason) -> bool {
        use ExitReason::*;
        match (self, other) {
            (Normal, Normal) | (Kill, Kill) | (Killed, Killed) | (Shutdown, Shutdown) => true,
            (StackOverflow, StackOverflow) | (NoProc, NoProc) => true,
            (SystemLimit, SystemLimit) => true,
            (NoConnection, NoConnection) | (MailboxOverflow, MailboxOverflow) => true,
            (Panic(a), Panic(b)) => a == b,
            (ShutdownWith(a), ShutdownWith(b)) | (Custom(a), Custom(b)) => {
                Arc::ptr_eq(a, b) || format!("{a:?}") == format!("{b:?}")
            }
            _ => false,
        }
    }
}

impl fmt::Debug for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("Normal"),
            ExitReason::Kill => f.write_str("Kill"),
            ExitReason::Killed => f.write_str("Killed"),
            ExitReason::Shutdown => f.write_str("Shutdown"),
            ExitReason::ShutdownWith(t) => write!(f, "Shutdown({t:?})"),
            ExitReason::Panic(p) => write!(f, "Panic({p:?})"),
            ExitReason::StackOverflow => f.write_str("StackOverflow"),
            ExitReason::SystemLimit => f.write_str("SystemLimit"),
            ExitReason::NoProc => f.write_str("NoProc"),
            ExitReason::NoConnection => f.write_str("NoConnection"),
            ExitReason::MailboxOverflow => f.write_str("MailboxOverflow"),
            ExitReason::Custom(t) => write!(f, "Custom({t:?})"),
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Kill => f.write_str("kill"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ShutdownWith(t) => write!(f, "{{shutdown, {t:?}}}"),
            ExitReason::Panic(p) => write!(f, "panic: {p:?}"),
            ExitReason::StackOverflow => f.write_str("stack_overflow"),
            ExitReason::SystemLimit => f.write_str("system_limit"),
            ExitReason::NoProc => f.write_str("noproc"),
            ExitReason::NoConnection => f.write_str("noconnection"),
            ExitReason::MailboxOverflow => f.write_str("mailbox_overflow"),
            ExitReason::Custom(t) => write!(f, "{t:?}"),
        }
    }
}

/// The message a process trapping exits receives for an exit signal (as
/// `{'EXIT', From, Reason}`).
///
/// # Examples
///
/// ```
/// use beamlet::{receive, spawn_link, trap_exit, Exit, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     trap_exit(true);
///     let child = spawn_link(|| panic!("boom")).unwrap();
///     let e = receive::<Exit>();
///     assert_eq!(e.from, child);
///     assert!(e.reason.is_panic());
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Exit {
    /// The process the signal came from (or the pid a link request was sent to).
    pub from: Pid,
    /// Its exit reason.
    pub reason: ExitReason,
}

/// The message a monitor delivers when the monitored process exits (as
/// `{'DOWN', Ref, process, Pid, Reason}`). Each monitor delivers at most one.
///
/// # Examples
///
/// ```
/// use beamlet::{receive, spawn_monitor, Down, ExitReason};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let (pid, mref) = spawn_monitor(|| ()).unwrap();
///     let d = receive::<Down>();
///     assert_eq!((d.pid, d.monitor, d.reason), (pid, mref, ExitReason::Normal));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Down {
    /// The monitor that fired.
    pub monitor: MonitorRef,
    /// The monitored process; [`Pid::NO_PROCESS`] for a monitor by name
    /// ([`monitor_name`](crate::monitor_name)) whose name was not registered.
    pub pid: Pid,
    /// The registered name, for a monitor set by name (`{RegName, Node}` in the
    /// BEAM's `'DOWN'` message); `None` for a monitor of a pid.
    pub name: Option<Arc<str>>,
    /// Its exit reason (`NoProc` if it was already dead when monitored).
    pub reason: ExitReason,
}
