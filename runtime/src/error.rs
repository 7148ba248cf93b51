//! Error types of the runtime's public API.

use std::fmt;

use crate::pid::Pid;

/// Why [`RuntimeBuilder::build`](crate::RuntimeBuilder::build) failed.
///
/// # Examples
///
/// ```
/// let err = beamlet::Runtime::builder().schedulers(0).build().unwrap_err();
/// assert!(matches!(err, beamlet::BuildError::ZeroSchedulers));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// `schedulers(0)`.
    ZeroSchedulers,
    /// `dirty_cpu_schedulers(0)` or `dirty_io_schedulers(0)`: a dirty call would
    /// wait for ever for a pool thread.
    ZeroDirtySchedulers,
    /// `reductions(0)`.
    ZeroReductions,
    /// More reductions per slice than the reduction counter holds (`i32::MAX`).
    Reductions(u32),
    /// The stack size is below [`MIN_STACK_SIZE`](crate::MIN_STACK_SIZE) or above
    /// [`MAX_STACK_SIZE`](crate::MAX_STACK_SIZE).
    StackSize(usize),
    /// `max_processes` is zero or above [`MAX_PROCESSES`](crate::MAX_PROCESSES).
    MaxProcesses(usize),
    /// The long-schedule threshold is below 1 ms.
    LongSchedule(std::time::Duration),
    /// A zero shutdown timeout: no killed process would get the time to unwind, so
    /// every one would be reported stuck and its memory leaked.
    ZeroShutdownTimeout,
    /// The thread-name prefix contains a NUL byte, which no OS thread name can hold.
    ThreadName(String),
    /// The binary was built with `panic = "abort"`: one process's panic would end the
    /// whole OS process, so the runtime refuses to start.
    PanicAbort,
    /// An OS call failed while starting (thread spawn, signal handler, ...).
    Os(std::io::Error),
    /// `simulation(seed)` with `schedulers(n)` for an `n` other than 1: a simulated
    /// runtime has exactly one scheduler.
    SimulationSchedulers(usize),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ZeroSchedulers => f.write_str("at least one scheduler is required"),
            BuildError::ZeroDirtySchedulers => {
                f.write_str("each dirty pool needs at least one thread")
            }
            BuildError::ZeroReductions => f.write_str("reductions per slice must be positive"),
            BuildError::Reductions(n) => {
                write!(f, "{n} reductions per slice is above {}", i32::MAX)
            }
            BuildError::StackSize(s) => write!(
                f,
                "stack size {s} is outside {}..={} bytes",
                crate::limits::MIN_STACK_SIZE,
                crate::limits::MAX_STACK_SIZE
            ),
            BuildError::MaxProcesses(n) => write!(
                f,
                "max_processes {n} is outside 1..={}",
                crate::limits::MAX_PROCESSES
            ),
            BuildError::LongSchedule(t) => {
                write!(f, "long-schedule threshold {t:?} is below 1 ms")
            }
            BuildError::ZeroShutdownTimeout => {
                f.write_str("the shutdown timeout must be positive (Duration::MAX waits for ever)")
            }
            BuildError::ThreadName(name) => {
                write!(f, "thread name prefix {name:?} contains a NUL byte")
            }
            BuildError::PanicAbort => f.write_str(
                "beamlet needs panic = \"unwind\": with panic = \"abort\" a panic in one \
                 process would kill every process",
            ),
            BuildError::Os(e) => write!(f, "OS error while starting the runtime: {e}"),
            BuildError::SimulationSchedulers(n) => write!(
                f,
                "a simulated runtime has one scheduler, but schedulers({n}) was asked for"
            ),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Os(e) => Some(e),
            _ => None,
        }
    }
}

/// What a simulated runtime (see
/// [`RuntimeBuilder::simulation`](crate::RuntimeBuilder::simulation)) refuses,
/// because it cannot make it deterministic. It is the inner error of the
/// `io::Error` (kind `Unsupported`) that the refused call returns.
///
/// # Examples
///
/// ```
/// use beamlet::{net::TcpListener, Runtime, Unsimulated};
/// let rt = Runtime::builder().simulation(1).build().unwrap();
/// let err = rt.block_on(|| TcpListener::bind("127.0.0.1:0").unwrap_err()).unwrap();
/// assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
/// let why = err.get_ref().and_then(|e| e.downcast_ref::<Unsimulated>());
/// assert_eq!(why, Some(&Unsimulated::Network));
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsimulated {
    /// Network I/O: readiness comes from the OS at real times, in any order.
    Network,
}

impl fmt::Display for Unsimulated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsimulated::Network => {
                f.write_str("network I/O is not available in a simulated runtime")
            }
        }
    }
}

impl std::error::Error for Unsimulated {}

/// Why a process could not be spawned.
///
/// # Examples
///
/// ```
/// let rt = beamlet::Runtime::builder().schedulers(1).max_processes(1).build().unwrap();
/// let err = rt.block_on(|| beamlet::spawn(|| {}).unwrap_err()).unwrap();
/// assert_eq!(err, beamlet::SpawnError::SystemLimit);
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// The process table or the stack memory is full (the BEAM's `system_limit`).
    SystemLimit,
    /// The runtime is shutting down or gone.
    RuntimeGone,
    /// The free `spawn` functions were called from a thread that is not running a
    /// process; from outside, spawn through a [`Runtime`](crate::Runtime) handle.
    NotInProcess,
    /// The requested stack size (in bytes) is above
    /// [`MAX_STACK_SIZE`](crate::MAX_STACK_SIZE).
    StackSize(usize),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::SystemLimit => f.write_str("system_limit: no process slot or stack left"),
            SpawnError::RuntimeGone => f.write_str("the runtime is shut down"),
            SpawnError::NotInProcess => {
                f.write_str("spawn called outside a process; use Runtime::spawn from outside")
            }
            SpawnError::StackSize(b) => write!(f, "stack size {b} is above the maximum"),
        }
    }
}

impl std::error::Error for SpawnError {}

/// Why a send did not deliver; the message comes back.
///
/// As on the BEAM a send to a dead pid is not an error of the sender's logic, so most
/// callers ignore it; the returned message lets those who care learn it.
///
/// # Examples
///
/// ```
/// use beamlet::SendError;
/// let rt = beamlet::Runtime::builder().schedulers(1).build().unwrap();
/// let pid = rt.block_on(|| beamlet::self_pid()).unwrap();
/// // The root process has exited by now.
/// let err = rt.send(pid, 7u32).unwrap_err();
/// assert!(matches!(err, SendError::NoProc(7)));
/// assert_eq!(err.into_inner(), 7);
/// rt.shutdown();
/// ```
#[derive(PartialEq, Eq)]
#[must_use]
pub enum SendError<M> {
    /// The process is known to be dead (or its runtime is gone). A send racing with
    /// the exit may instead succeed and the message be dropped.
    NoProc(M),
    /// The process's mailbox is full: its [`MailboxLimit`](crate::MailboxLimit)
    /// refused the message (`DropNewest`, or `Kill` and the process is being killed),
    /// or the sender's own bound did ([`send_bounded`](crate::send_bounded)).
    MailboxFull(M),
}

impl<M> SendError<M> {
    /// The message that was not delivered.
    ///
    /// ```
    /// let e = beamlet::SendError::MailboxFull("late");
    /// assert_eq!(e.into_inner(), "late");
    /// ```
    pub fn into_inner(self) -> M {
        match self {
            SendError::NoProc(m) | SendError::MailboxFull(m) => m,
        }
    }

    /// A reference to the message that was not delivered.
    pub fn message(&self) -> &M {
        match self {
            SendError::NoProc(m) | SendError::MailboxFull(m) => m,
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NoProc(_) => f.write_str("NoProc(..)"),
            SendError::MailboxFull(_) => f.write_str("MailboxFull(..)"),
        }
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NoProc(_) => f.write_str("send to a dead process"),
            SendError::MailboxFull(_) => f.write_str("send refused: the mailbox is full"),
        }
    }
}

impl<M> std::error::Error for SendError<M> {}

/// Why [`link`](crate::link) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The process does not exist (and the caller does not trap exits).
    NoProc,
    /// The process is on another node, which is not connected (and the caller does
    /// not trap exits).
    NoConnection,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkError::NoProc => "noproc: the process to link to does not exist",
            LinkError::NoConnection => "noconnection: the process's node is not connected",
        })
    }
}

impl std::error::Error for LinkError {}

/// Why [`register`](crate::register) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// The name is taken by this process.
    NameTaken(Pid),
    /// The process already has a name.
    AlreadyRegistered(String),
    /// The process does not exist.
    NoProc,
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::NameTaken(p) => write!(f, "the name is registered to {p}"),
            RegisterError::AlreadyRegistered(n) => write!(f, "the process is registered as {n:?}"),
            RegisterError::NoProc => f.write_str("noproc: the process does not exist"),
        }
    }
}

impl std::error::Error for RegisterError {}

/// A send to a name nobody holds (the BEAM raises `badarg`); the message comes back.
#[derive(PartialEq, Eq)]
pub struct UnknownName<M>(pub M);

impl<M> fmt::Debug for UnknownName<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnknownName(..)")
    }
}

impl<M> fmt::Display for UnknownName<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no process is registered under that name")
    }
}

impl<M> std::error::Error for UnknownName<M> {}

/// Why a dirty call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirtyError {
    /// The closure panicked (with this message); the pool thread lives on.
    Panicked(String),
}

impl std::fmt::Display for DirtyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirtyError::Panicked(m) => write!(f, "dirty job panicked: {m}"),
        }
    }
}

impl std::error::Error for DirtyError {}

/// A wait with a timeout ended at the timeout, unfinished
/// ([`block_on_future_timeout`](crate::block_on_future_timeout)).
///
/// # Examples
///
/// ```
/// assert_eq!(beamlet::Elapsed.to_string(), "beamlet: the wait timed out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("beamlet: the wait timed out")
    }
}

impl std::error::Error for Elapsed {}
