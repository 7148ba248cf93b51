//! Plumbing shared by the behaviours (OTP's `gen` and `proc_lib` modules; `gen` is
//! a keyword in Rust 2024, hence the name `behaviour`): the call
//! protocol, replies, the synchronous start, the start options ([`StartOptions`])
//! with the prologue every behaviour's new process runs before `init` (mailbox
//! limit, trapping exits, name registration, then the ack; see `behaviour/prologue.rs`),
//! and the one dispatch point of every callback (`try_dispatch`).
//!
//! # Call protocol ([`call`])
//!
//! 1. A process calling itself gets [`CallError::CalledSelf`] at once: it could never
//!    answer, so waiting would only time out.
//! 2. The caller takes a [`mailbox_mark`] before anything can arrive: the reply and
//!    the `Down` come after it, so the wait scans only new messages and a call stays
//!    O(1) however many unrelated messages are queued.
//! 3. It monitors the server (a dead or unknown server yields a `Down` with
//!    `NoProc` at once) and creates an [`Alias`]: the reply address.
//! 4. It sends the request carrying a [`Caller`] (the alias, and the monitor's
//!    reference as the call's tag: unique, and no extra reference to make).
//! 5. It waits for the reply with that tag or the monitor's `Down`, up to the timeout
//!    (or returns [`CallError::MailboxFull`] at once if the server's mailbox limit
//!    refused the request). A behaviour's own call functions send their envelope
//!    with its head readable (a `CallHead`, see [`Headed`]): a behaviour that
//!    does not recognise an envelope answers it at once with
//!    [`CallError::WrongType`], sent to the alias with the tag, instead of
//!    handing it to `handle_info` and leaving the caller to its timeout.
//! 6. Whatever the outcome it unaliases first, so a reply that comes after a
//!    timeout is dropped by the runtime instead of lingering, then demonitors and
//!    removes a `Down` that already arrived (looking only after the mark, so this
//!    too is O(1)).
//!
//! # Start protocol ([`start`], as `proc_lib:start_link`)
//!
//! 1. The starter creates an alias for the acknowledgement and spawns the child
//!    monitored, and linked for a linked start; link and monitor exist before the
//!    child runs (`spawn_link_monitor`), so its `Down` follows any ack it sent.
//! 2. The child runs the body, which must call [`Starter::ack`] once initialised or
//!    [`Starter::fail`].
//! 3. [`Starter::fail`] removes the link, acknowledges the error and exits: the
//!    starter gets the error as a value instead of an exit signal.
//! 4. The starter returns after the ack; after a failure it first waits for the
//!    child's `Down`, so the child (and its registered name) is gone when it
//!    returns. A child that dies without acking yields its exit reason; an `Exit`
//!    message its link left in a trapping starter's mailbox is removed.
//! 5. With a start timeout the child is killed when it expires.
//!
//! `ignore` from an `init` is reported as [`StartError::Ignore`] so that `?` works
//! for the common case; it is not a failure, and supervisors treat it as OTP does.
//!
//! A call split in two (`send_request`, then `wait_response`, `receive_response` or
//! `check_response`, alone or in a collection) is in [`request`].

mod prologue;
pub(crate) mod report;
pub mod request;

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use beamlet_runtime::{
    Alias, Down, Exit, ExitReason, Headed, MailboxMark, Message, MonitorRef, Pid, Ref, SendError,
    SpawnError, SpawnOpts, alias, catch_exit, demonitor, exit, exit_pid, mailbox_mark,
    message_queue_len, receive_select, self_pid, send_headed, spawn_opt, unalias, unlink,
};

pub use prologue::StartOptions;
pub(crate) use prologue::{Boot, parent_exit, start_behaviour};

/// The default timeout of a call (as OTP's 5000 ms).
///
/// ```
/// assert_eq!(beamlet::otp::behaviour::DEFAULT_CALL_TIMEOUT.as_millis(), 5000);
/// ```
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_millis(5000);

/// Runs a callback, turning a panic or an `exit` inside it into the exit reason it
/// would end the process with: the one dispatch point of every behaviour's loop. A
/// kill and a `hibernate` go on unwinding (see [`catch_exit`]).
pub(crate) fn try_dispatch<T>(f: impl FnOnce() -> T) -> Result<T, ExitReason> {
    catch_exit(f)
}

/// `timeout`, or `None` (for ever) for `Duration::MAX`, OTP's `infinity` here: no
/// timer is armed for a wait that never ends.
pub(crate) fn bounded(timeout: Option<Duration>) -> Option<Duration> {
    timeout.filter(|t| *t != Duration::MAX)
}

/// Why a call got no reply.
///
/// ```
/// use beamlet::otp::behaviour::CallError;
/// assert_eq!(CallError::Timeout.to_string(), "timeout: no reply in time");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The server is dead or no process has that name (`noproc`).
    NoProc,
    /// The server exited during the call, with this reason.
    Exit(ExitReason),
    /// No reply came in time; a late reply is dropped.
    Timeout,
    /// The process called itself; it could never answer.
    CalledSelf,
    /// The server's mailbox limit refused the request (see
    /// [`beamlet_runtime::backpressure`]): it was shed, and will never be answered.
    MailboxFull,
    /// The process is a behaviour that takes no requests of this type: a typed
    /// handle of the wrong type (say a `ServerRef<Counter>` made from the pid of a
    /// supervisor), or a `gen_server` call to a state machine. The server answers
    /// at once and carries on; its callbacks never see the request.
    ///
    /// A process that is not a behaviour (a plain `spawn`) cannot tell: a call to
    /// it waits for its timeout, unless the process answers it.
    WrongType {
        /// The type of the server that refused (its callback module).
        server: &'static str,
        /// The type of the request it was sent.
        request: &'static str,
    },
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NoProc => f.write_str("noproc: the server is not running"),
            CallError::Exit(r) => write!(f, "the server exited during the call: {r}"),
            CallError::Timeout => f.write_str("timeout: no reply in time"),
            CallError::CalledSelf => f.write_str("calling_self: a process called itself"),
            CallError::MailboxFull => f.write_str("mailbox_full: the server shed the request"),
            CallError::WrongType { server, request } => {
                write!(
                    f,
                    "wrong_type: the server {server} takes no requests of type {request}"
                )
            }
        }
    }
}

impl std::error::Error for CallError {}

/// Where to send the reply to a call: the caller's alias and the call's tag
/// (the `From` of OTP's `gen_server:handle_call(Request, From, State)`, named
/// `Caller` here so that a glob import does not shadow `std::convert::From`). `Copy` and `Send`, so a server can keep it and [`reply`] later, from
/// any process. Only the first reply reaches the caller: it stops listening then.
///
/// ```
/// use beamlet::otp::behaviour::{call, reply, Caller};
/// use beamlet::{receive, self_pid, send, spawn, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| {
///     let server = spawn(|| {
///         let from = receive::<Caller<u32>>();
///         reply(from, 42);
///     }).unwrap();
///     call::<Caller<u32>, u32>(server, |from| from, None)
/// }).unwrap();
/// assert_eq!(r, Ok(42));
/// rt.shutdown();
/// ```
pub struct Caller<R> {
    alias: Alias,
    tag: MonitorRef,
    _reply: PhantomData<fn(R)>,
}

impl<R> Clone for Caller<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Caller<R> {}

impl<R> fmt::Debug for Caller<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Caller({}, {:?})", self.alias.pid(), self.tag)
    }
}

// A `Caller` is an alias and a tag (`PhantomData<fn(R)>`): a server may keep it and
// reply from any process or thread, whatever `R` (checked for every `R`).
const _: () = {
    fn assert_send_sync<T: Send + Sync>() {}
    fn from_is_send_sync<R>() {
        assert_send_sync::<Caller<R>>();
    }
    let _ = from_is_send_sync::<()>;
};

impl<R> Caller<R> {
    /// The calling process.
    ///
    /// ```
    /// # use beamlet::otp::behaviour::{call, Caller};
    /// # use beamlet::{receive, spawn, self_pid, Runtime};
    /// # let rt = Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let me = self_pid();
    ///     let s = spawn(move || {
    ///         let from = receive::<Caller<()>>();
    ///         assert_eq!(from.pid(), me);
    ///         beamlet::otp::behaviour::reply(from, ());
    ///     }).unwrap();
    ///     call::<Caller<()>, ()>(s, |f| f, None).unwrap();
    /// }).unwrap();
    /// # rt.shutdown();
    /// ```
    pub fn pid(&self) -> Pid {
        self.alias.pid()
    }

    /// The same reply address, for a reply of type `T`: for a request that carries
    /// its own reply address (`gen_server::call_with`), whose envelope names the
    /// server's reply type.
    pub(crate) fn retype<T>(self) -> Caller<T> {
        Caller {
            alias: self.alias,
            tag: self.tag,
            _reply: PhantomData,
        }
    }

    /// The head of a call envelope carrying this reply address and a request of
    /// type `Q`.
    pub(crate) fn head<Q>(&self) -> CallHead {
        CallHead {
            alias: self.alias,
            tag: self.tag,
            request: std::any::type_name::<Q>(),
        }
    }
}

/// The head of every behaviour's call envelope, readable whatever the envelope's
/// type (see [`Headed`]): a server that does not recognise the envelope answers
/// it with [`CallError::WrongType`] through this, instead of leaving the caller
/// to its timeout. (OTP's `{'$gen_call', From, Request}` is recognisable by its
/// tag whatever `Request` is; in Rust the head plays the tag's part.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallHead {
    alias: Alias,
    tag: MonitorRef,
    /// The request's type, for the error.
    request: &'static str,
}

/// Answers a call envelope the server `server` does not take (see [`CallHead`]):
/// the caller's call returns [`CallError::WrongType`].
pub(crate) fn refuse(head: CallHead, server: &'static str) {
    let error = CallError::WrongType {
        server,
        request: head.request,
    };
    let _ = head.alias.send(Failed {
        tag: head.tag,
        error,
    });
}

/// Answers `msg` with [`CallError::WrongType`] if it is a call envelope (a
/// behaviour's loop calls this for a message none of its own kinds matched);
/// `true` if it was one.
pub(crate) fn refuse_foreign_call(msg: &Message, server: &'static str) -> bool {
    match msg.head::<CallHead>() {
        Some(head) => {
            refuse(head, server);
            true
        }
        None => false,
    }
}

/// A call's outcome that is not a reply, sent to the caller's alias with the
/// call's tag: a request shed by a full mailbox (the requester tells itself, see
/// [`request`]), or refused by a server of another type ([`refuse`]).
pub(crate) struct Failed {
    pub(crate) tag: MonitorRef,
    pub(crate) error: CallError,
}

/// The envelope of a reply.
struct Reply<R> {
    tag: MonitorRef,
    value: R,
}

/// Replies to a call (as `gen_server:reply/2`); callable from any process, at any
/// time. A reply to a caller that gave up (timed out) or died is dropped.
///
/// See [`Caller`] for an example.
pub fn reply<R: Send + 'static>(from: Caller<R>, value: R) {
    let _ = from.alias.send(Reply {
        tag: from.tag,
        value,
    });
}

/// Makes a call (see the module's call protocol): sends the message built by
/// `request` from the reply address, and waits up to `timeout` (for ever if `None`)
/// for the reply.
///
/// # Errors
///
/// [`CallError`]: the server is dead, died during the call, did not answer in time,
/// or is the caller itself.
///
/// See [`Caller`] for an example.
pub fn call<M, R>(
    server: Pid,
    request: impl FnOnce(Caller<R>) -> M,
    timeout: Option<Duration>,
) -> Result<R, CallError>
where
    M: Send + 'static,
    R: Send + 'static,
{
    call_via(server, request, timeout, beamlet_runtime::send)
}

/// [`call`] with a behaviour's call envelope, sent with its [`CallHead`] readable,
/// so that a server of another type answers [`CallError::WrongType`] at once.
pub(crate) fn call_server<M, R>(
    server: Pid,
    request: impl FnOnce(Caller<R>) -> M,
    timeout: Option<Duration>,
) -> Result<R, CallError>
where
    M: Headed<Head = CallHead>,
    R: Send + 'static,
{
    call_via(server, request, timeout, send_headed)
}

fn call_via<M, R>(
    server: Pid,
    request: impl FnOnce(Caller<R>) -> M,
    timeout: Option<Duration>,
    send: impl FnOnce(Pid, M) -> Result<(), SendError<M>>,
) -> Result<R, CallError>
where
    M: Send + 'static,
    R: Send + 'static,
{
    if server == self_pid() {
        return Err(CallError::CalledSelf);
    }
    let (mark, mref, from) = reply_address(server);
    // A send to a dead server fails, but the monitor already queued its `Down`. A
    // request refused by a full mailbox would never be answered: give up at once.
    let outcome = match send(server, request(from)) {
        Err(SendError::MailboxFull(_)) => Err(CallError::MailboxFull),
        _ => wait_reply(mark, mref, bounded(timeout)),
    };
    // The alias goes first: a reply still on its way after a timeout would
    // otherwise be taken in by the `Down` flush below and stay in the mailbox.
    unalias(from.alias);
    // No `Down` arrives after `demonitor`; one that came before is after the mark
    // (and there is none to look for in an empty mailbox, the common case).
    demonitor(mref, false);
    if message_queue_len() > 0 {
        let _ = wait_down_for(mark, mref, Some(Duration::ZERO));
    }
    outcome
}

/// Steps 2–3 of the call protocol, shared with [`request::send_request`]: a mark
/// before anything can arrive, a monitor of `server` (its `Down` also answers a
/// dead server) and an alias, which with the monitor's reference as tag is the
/// request's reply address.
#[inline]
pub(crate) fn reply_address<R>(server: Pid) -> (MailboxMark, MonitorRef, Caller<R>) {
    let mark = mailbox_mark();
    let mref = beamlet_runtime::monitor(server);
    let from = Caller {
        alias: alias(),
        tag: mref,
        _reply: PhantomData,
    };
    (mark, mref, from)
}

fn wait_reply<R: Send + 'static>(
    mark: MailboxMark,
    mref: MonitorRef,
    timeout: Option<Duration>,
) -> Result<R, CallError> {
    let pred = |m: &beamlet_runtime::Message| {
        m.downcast_ref::<Reply<R>>().is_some_and(|r| r.tag == mref)
            || m.downcast_ref::<Down>().is_some_and(|d| d.monitor == mref)
            || m.downcast_ref::<Failed>().is_some_and(|f| f.tag == mref)
    };
    let Some(msg) = receive_select(Some(mark), pred, timeout) else {
        return Err(CallError::Timeout);
    };
    let msg = match msg.downcast::<Reply<R>>() {
        Ok(r) => return Ok(r.value),
        Err(msg) => msg,
    };
    match msg.downcast::<Failed>() {
        Ok(failed) => Err(failed.error),
        Err(msg) => match msg.downcast::<Down>() {
            Ok(Down {
                reason: ExitReason::NoProc,
                ..
            }) => Err(CallError::NoProc),
            Ok(d) => Err(CallError::Exit(d.reason)),
            Err(_) => unreachable!("the predicate admits only replies, Faileds and Downs"),
        },
    }
}

/// Why a start failed (or was ignored).
///
/// ```
/// use beamlet::otp::behaviour::StartError;
/// use beamlet::ExitReason;
/// assert_eq!(StartError::Stop(ExitReason::Shutdown).to_string(), "init failed: shutdown");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum StartError {
    /// `init` returned `Ignore`: no process runs, and this is not a failure.
    Ignore,
    /// `init` stopped, failed or panicked, or the process died before it was
    /// initialised; with the reason.
    Stop(ExitReason),
    /// The name is registered to this process (`already_started`).
    AlreadyStarted(Pid),
    /// The start did not finish within the start timeout; the child was killed.
    Timeout,
    /// The process could not be spawned.
    Spawn(SpawnError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Ignore => f.write_str("ignore: init chose not to start"),
            StartError::Stop(r) => write!(f, "init failed: {r}"),
            StartError::AlreadyStarted(p) => write!(f, "already_started: the name is held by {p}"),
            StartError::Timeout => f.write_str("timeout: init did not finish in time"),
            StartError::Spawn(e) => write!(f, "spawn failed: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl std::convert::From<SpawnError> for StartError {
    fn from(e: SpawnError) -> Self {
        StartError::Spawn(e)
    }
}

/// The acknowledgement a started process sends its starter.
struct Ack {
    tag: Ref,
    result: Result<(), StartError>,
}

/// The child's side of a synchronous start (as `proc_lib:init_ack/1`): acknowledge
/// with [`ack`](Starter::ack) once initialised, or end with [`fail`](Starter::fail).
///
/// ```
/// use beamlet::otp::behaviour::start;
/// use beamlet::{receive, self_pid, send, Pid, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let me = self_pid();
///     start(true, None, move |s| {
///         send(me, (s.parent(), s.linked())).unwrap();
///         s.ack();
///     }).unwrap();
///     assert_eq!(receive::<(Pid, bool)>(), (me, true));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug)]
pub struct Starter {
    reply_to: Alias,
    tag: Ref,
    linked: bool,
}

impl Starter {
    /// The process that started this one.
    ///
    /// See [`Starter`] for an example.
    pub fn parent(&self) -> Pid {
        self.reply_to.pid()
    }

    /// `true` for a linked start (`start_link`).
    ///
    /// See [`Starter`] for an example.
    pub fn linked(&self) -> bool {
        self.linked
    }

    /// Tells the starter that initialisation succeeded: its `start` returns `Ok`.
    ///
    /// See [`start`] for an example.
    pub fn ack(self) {
        let _ = self.reply_to.send(Ack {
            tag: self.tag,
            result: Ok(()),
        });
    }

    /// Ends the process after telling the starter that the start failed: the link to
    /// the starter is removed first, so the starter gets `error` as a value and no
    /// exit signal. The process exits with the reason of a `Stop` error, `Normal`
    /// otherwise.
    ///
    /// See [`start`] for an example.
    pub fn fail(self, error: StartError) -> ! {
        if self.linked {
            unlink(self.parent());
        }
        let reason = match &error {
            StartError::Stop(r) => r.clone(),
            _ => ExitReason::Normal,
        };
        let _ = self.reply_to.send(Ack {
            tag: self.tag,
            result: Err(error),
        });
        exit(reason)
    }
}

/// Starts a process synchronously (see the module's start protocol): `body` runs in
/// the new process and must call [`Starter::ack`] or [`Starter::fail`]. Returns after
/// the ack, or the failure, or `timeout` (for ever if `None`).
///
/// # Errors
///
/// The [`StartError`] the child failed with, its exit reason if it died first,
/// `Timeout`, or `Spawn`.
///
/// # Examples
///
/// ```
/// use beamlet::otp::behaviour::{start, StartError};
/// use beamlet::{receive, ExitReason, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let ok = start(true, None, |s| { s.ack(); receive::<()>(); });
///     assert!(ok.is_ok());
///     let err = start(true, None, |s| s.fail(StartError::Stop(ExitReason::custom("bad"))));
///     assert_eq!(err, Err(StartError::Stop(ExitReason::custom("bad"))));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[track_caller]
pub fn start<F>(link_to_caller: bool, timeout: Option<Duration>, body: F) -> Result<Pid, StartError>
where
    F: FnOnce(Starter) + Send + 'static,
{
    start_sized(link_to_caller, timeout, None, body)
}

/// [`start`] with a stack size for the new process (see
/// [`SpawnOpts::stack_size`](beamlet_runtime::SpawnOpts::stack_size)).
#[track_caller]
pub(crate) fn start_sized<F>(
    link_to_caller: bool,
    timeout: Option<Duration>,
    stack_size: Option<usize>,
    body: F,
) -> Result<Pid, StartError>
where
    F: FnOnce(Starter) + Send + 'static,
{
    let mark = mailbox_mark();
    let starter = Starter {
        reply_to: alias(),
        tag: Ref::new(),
        linked: link_to_caller,
    };
    let (tag, reply_to) = (starter.tag, starter.reply_to);
    let spawned = spawn_watched(link_to_caller, stack_size, move || body(starter));
    let result = match spawned {
        Ok((child, mref)) => await_ack(mark, child, mref, tag, bounded(timeout)),
        Err(e) => Err(StartError::Spawn(e)),
    };
    unalias(reply_to);
    result
}

/// Spawns `f` monitored, and linked if asked; both exist before the child runs, so
/// the child can never outlive a starter that dies meanwhile, and its `Down` comes
/// after any ack it sent.
#[track_caller]
fn spawn_watched(
    linked: bool,
    stack_size: Option<usize>,
    f: impl FnOnce() + Send + 'static,
) -> Result<(Pid, MonitorRef), SpawnError> {
    let opts = SpawnOpts {
        link: linked,
        monitor: true,
        stack_size,
        ..SpawnOpts::default()
    };
    let (pid, monitor) = spawn_opt(f, opts)?;
    Ok((pid, monitor.expect("monitor requested")))
}

fn await_ack(
    mark: MailboxMark,
    child: Pid,
    mref: MonitorRef,
    tag: Ref,
    timeout: Option<Duration>,
) -> Result<Pid, StartError> {
    let pred = |m: &beamlet_runtime::Message| {
        m.downcast_ref::<Ack>().is_some_and(|a| a.tag == tag)
            || m.downcast_ref::<Down>().is_some_and(|d| d.monitor == mref)
    };
    let Some(msg) = receive_select(Some(mark), pred, timeout) else {
        // Unlinked first (as proc_lib), so that the kill does not reach the caller.
        unlink(child);
        exit_pid(child, ExitReason::Kill);
        let _ = wait_down(mark, mref);
        flush_exit(Some(mark), child);
        return Err(StartError::Timeout);
    };
    match msg.downcast::<Ack>() {
        Ok(Ack { result: Ok(()), .. }) => {
            demonitor(mref, true);
            Ok(child)
        }
        Ok(Ack { result: Err(e), .. }) => {
            let _ = wait_down(mark, mref);
            flush_exit(Some(mark), child);
            Err(e)
        }
        Err(msg) => {
            // The monitor was set up before the child ran, so this `Down` follows
            // any ack: the child died before acknowledging.
            let down = msg
                .downcast::<Down>()
                .expect("the predicate admits Acks and Downs");
            flush_exit(Some(mark), child);
            Err(StartError::Stop(down.reason))
        }
    }
}

/// Waits for the `Down` of `mref` (which must come: the process is ending).
pub(crate) fn wait_down(mark: MailboxMark, mref: MonitorRef) -> ExitReason {
    wait_down_for(mark, mref, None).expect("no timeout")
}

/// Waits up to `timeout` (for ever if `None`) for the `Down` of `mref`, looking only
/// after `mark`.
pub(crate) fn wait_down_for(
    mark: MailboxMark,
    mref: MonitorRef,
    timeout: Option<Duration>,
) -> Option<ExitReason> {
    let pred =
        |m: &beamlet_runtime::Message| m.downcast_ref::<Down>().is_some_and(|d| d.monitor == mref);
    let msg = receive_select(Some(mark), pred, bounded(timeout))?;
    Some(msg.downcast::<Down>().expect("matched a Down").reason)
}

/// Removes the `Exit` message a link to `pid` may have left in the mailbox of a
/// caller trapping exits, looking after `mark` (or everywhere), and returns its
/// reason. The link's signal is sent before the monitor's `Down`, so once the
/// `Down` was taken the `Exit`, if any, is already queued.
pub(crate) fn flush_exit(mark: Option<MailboxMark>, pid: Pid) -> Option<ExitReason> {
    let pred =
        |m: &beamlet_runtime::Message| m.downcast_ref::<Exit>().is_some_and(|e| e.from == pid);
    receive_select(mark, pred, Some(Duration::ZERO))
        .map(|m| m.downcast::<Exit>().expect("matched an Exit").reason)
}
