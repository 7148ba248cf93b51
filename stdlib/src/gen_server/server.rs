//! The generic loop of a server (the steps are in the parent module's header).
//!
//! 1. [`start`] runs `init_it` in the new process through
//!    [`behaviour::start`], after gen's shared prologue.
//! 2. [`Server::run`] loops: act on the last result (`Next`), take a message,
//!    dispatch it, repeat. Hibernation unwinds the stack and re-enters `run`.
//! 3. Every callback goes through [`try_dispatch`]; a panic or an `exit` ends the
//!    server through [`Server::stop`], which runs `terminate`, writes the
//!    terminating report for an abnormal reason (naming the last message taken and
//!    [`GenServer::format_status`]) and exits.

use std::any::Any;
use std::time::{Duration, Instant};

use beamlet_runtime::{
    ExitReason, Headed, Message, Pid, ReportKind, exit, hibernate, receive_select,
};

use super::{CallReply, GenServer, Init, NoReply};
use crate::behaviour::report::{self, LastIn};
use crate::behaviour::{
    self, Boot, CallError, CallHead, Caller, StartError, StartOptions, parent_exit, reply,
    try_dispatch,
};
use crate::sys::{self, OwnRequest, SysMsg, SysOp, SysReply};

/// The envelope of a call.
pub(crate) struct CallMsg<Q, R> {
    pub(crate) from: Caller<R>,
    pub(crate) request: Q,
}

impl<Q: Send + 'static, R: Send + 'static> Headed for CallMsg<Q, R> {
    type Head = CallHead;
    fn head(&self) -> CallHead {
        self.from.head::<Q>()
    }
}

/// The envelope of a cast.
pub(crate) struct CastMsg<C>(pub(crate) C);

/// The envelope of an acknowledged cast ([`CastGate`](super::CastGate) in sync
/// mode): handled as a cast, then `from` gets `()`.
pub(crate) struct SyncCastMsg<C> {
    pub(crate) from: Caller<()>,
    pub(crate) msg: C,
}

impl<C: Send + 'static> Headed for SyncCastMsg<C> {
    type Head = CallHead;
    fn head(&self) -> CallHead {
        self.from.head::<C>()
    }
}

/// The message `handle_info` receives when a timeout given in a callback result
/// expires with no message taken (OTP's `timeout` message).
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_server::{self, GenServer, Init, NoReply, Timeout};
/// use beamlet::{receive, self_pid, send, Message, Pid};
/// struct Idle(Pid);
/// impl GenServer for Idle {
///     type Args = Pid; type Call = (); type Reply = (); type Cast = (); type Continue = ();
///     fn init(owner: Pid) -> Init<Self, ()> { Init::Timeout(Idle(owner), Duration::from_millis(5)) }
///     fn handle_info(&mut self, msg: Message) -> NoReply<()> {
///         if msg.is::<Timeout>() { send(self.0, "idle").unwrap(); }
///         NoReply::Ok
///     }
/// }
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let got = rt.block_on(|| {
///     gen_server::start_link::<Idle>(self_pid()).unwrap();
///     receive::<&str>()
/// }).unwrap();
/// assert_eq!(got, "idle");
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout;

/// What the loop does next, from a callback's result.
enum Next<C> {
    Wait,
    Timeout(Duration),
    Hibernate,
    Continue(C),
}

/// Starts a server of type `S` (see [`behaviour::start`]).
#[track_caller]
pub(crate) fn start<S: GenServer>(
    link: bool,
    args: S::Args,
    opts: StartOptions,
) -> Result<Pid, StartError> {
    behaviour::start_behaviour(
        link,
        opts,
        (S::TRAP_EXIT, std::any::type_name::<S>()),
        move |boot| init_it::<S>(boot, args),
    )
}

/// The new process, after the shared prologue (mailbox limit, trapping exits, name):
/// `init`, acknowledge, loop.
fn init_it<S: GenServer>(boot: Boot, args: S::Args) {
    // Behaviours built on a server (supervisors, agents...) announce themselves
    // again in their `init`.
    beamlet_runtime::set_behaviour("gen_server", std::any::type_name::<S>());
    let (state, next) = match try_dispatch(|| S::init(args)) {
        Ok(Init::Ok(s)) => (s, Next::Wait),
        Ok(Init::Timeout(s, d)) => (s, Next::Timeout(d)),
        Ok(Init::Hibernate(s)) => (s, Next::Hibernate),
        Ok(Init::Continue(s, c)) => (s, Next::Continue(c)),
        Ok(Init::Ignore) => boot.fail(StartError::Ignore),
        Ok(Init::Stop(r)) | Err(r) => boot.fail(StartError::Stop(r)),
    };
    let server = Server {
        state,
        parent: boot.parent(),
        hibernate_after: boot.hibernate_after,
        handled: 0,
        started: beamlet_runtime::now(),
        suspended: false,
        last: LastIn::None,
    };
    boot.ack();
    server.run(next)
}

/// A running server: its state and the loop's bookkeeping.
struct Server<S: GenServer> {
    state: S,
    parent: Option<Pid>,
    hibernate_after: Option<Duration>,
    handled: u64,
    started: Instant,
    suspended: bool,
    /// What the terminating report names as the last message in.
    last: LastIn,
}

impl<S: GenServer> Server<S> {
    fn run(mut self, mut next: Next<S::Continue>) -> ! {
        loop {
            next = match next {
                Next::Hibernate => hibernate(move || self.wake()),
                Next::Continue(c) => {
                    let r = self.invoke(|s| s.handle_continue(c));
                    self.after(r)
                }
                Next::Wait => self.wait(None),
                Next::Timeout(d) => self.wait(Some(d)),
            };
        }
    }

    /// The continuation of a hibernation: the runtime resumes a hibernated process
    /// only for a message (signals are acted on without waking it), so the loop
    /// simply waits again and finds the message at once.
    fn wake(self) -> ! {
        self.run(Next::Wait)
    }

    /// Takes the next message (or times out) and handles it.
    fn wait(&mut self, timeout: Option<Duration>) -> Next<S::Continue> {
        // `Duration::MAX` is no timeout (OTP's `infinity`), so `hibernate_after` applies.
        let timeout = behaviour::bounded(timeout);
        // A suspended server neither times out nor hibernates.
        let limit = match self.suspended {
            true => None,
            false => timeout.or(self.hibernate_after),
        };
        match self.take(limit) {
            Some(msg) => self.handle(msg, timeout),
            None if timeout.is_some() => self.on_timeout(),
            None if self.hibernate_after.is_some() => Next::Hibernate,
            None => unreachable!("an unbounded receive returned nothing"),
        }
    }

    /// The oldest message the server takes now: any, or while suspended only system
    /// messages and the parent's `Exit`.
    fn take(&self, limit: Option<Duration>) -> Option<Message> {
        if self.suspended {
            let parent = self.parent;
            let pred = |m: &Message| m.is::<SysMsg>() || parent_exit(parent, m).is_some();
            receive_select(None, pred, limit)
        } else {
            receive_select(None, |_| true, limit)
        }
    }

    /// Dispatches one message by kind; `timeout` is the wait in force, resumed after
    /// a system message.
    fn handle(&mut self, msg: Message, timeout: Option<Duration>) -> Next<S::Continue> {
        let msg = match msg.downcast::<CallMsg<S::Call, S::Reply>>() {
            Ok(call) => return self.on_call(call),
            Err(m) => m,
        };
        let msg = match msg.downcast::<CastMsg<S::Cast>>() {
            Ok(CastMsg(c)) => {
                self.handled += 1;
                self.last = LastIn::Cast(std::any::type_name::<S::Cast>());
                let r = self.invoke(|s| s.handle_cast(c));
                return self.after(r);
            }
            Err(m) => m,
        };
        let msg = match msg.downcast::<SyncCastMsg<S::Cast>>() {
            Ok(SyncCastMsg { from, msg }) => {
                self.handled += 1;
                self.last = LastIn::Cast(std::any::type_name::<S::Cast>());
                let r = self.invoke(|s| s.handle_cast(msg));
                // Handled: acknowledge before acting on the result (which may stop).
                reply(from, ());
                return self.after(r);
            }
            Err(m) => m,
        };
        let msg = match msg.downcast::<SysMsg>() {
            Ok(sys) => {
                self.last = LastIn::System;
                self.on_system(sys);
                return timeout.map_or(Next::Wait, Next::Timeout);
            }
            Err(m) => m,
        };
        // A call envelope of another type: answered `WrongType` at once; it is
        // neither handled nor counted, and the wait in force goes on.
        if behaviour::refuse_foreign_call(&msg, std::any::type_name::<S>()) {
            return timeout.map_or(Next::Wait, Next::Timeout);
        }
        self.last = LastIn::Info(msg.type_name());
        if let Some(reason) = parent_exit(self.parent, &msg) {
            self.stop(reason)
        }
        self.handled += 1;
        let r = self.invoke(|s| s.handle_info(msg));
        self.after(r)
    }

    fn on_call(&mut self, call: CallMsg<S::Call, S::Reply>) -> Next<S::Continue> {
        self.handled += 1;
        let from = call.from;
        self.last = LastIn::Call(std::any::type_name::<S::Call>(), from.pid());
        let r = self.invoke(|s| s.handle_call(call.request, from));
        let (value, next) = match r {
            CallReply::Reply(v) => (Some(v), Next::Wait),
            CallReply::ReplyTimeout(v, d) => (Some(v), Next::Timeout(d)),
            CallReply::ReplyHibernate(v) => (Some(v), Next::Hibernate),
            CallReply::ReplyContinue(v, c) => (Some(v), Next::Continue(c)),
            CallReply::NoReply => (None, Next::Wait),
            CallReply::NoReplyTimeout(d) => (None, Next::Timeout(d)),
            CallReply::NoReplyHibernate => (None, Next::Hibernate),
            CallReply::NoReplyContinue(c) => (None, Next::Continue(c)),
            CallReply::Stop(reason, v) => {
                // As OTP: terminate first, then the reply, then the exit.
                let reason = self.terminate(reason);
                reply(from, v);
                exit(reason)
            }
            CallReply::StopNoReply(reason) => self.stop(reason),
        };
        if let Some(v) = value {
            reply(from, v);
        }
        next
    }

    /// Delivers a [`Timeout`] to `handle_info`.
    fn on_timeout(&mut self) -> Next<S::Continue> {
        let msg = Message::new(Timeout);
        self.last = LastIn::Timeout;
        self.handled += 1;
        let r = self.invoke(|s| s.handle_info(msg));
        self.after(r)
    }

    fn on_system(&mut self, sys: SysMsg) {
        let answer = match sys::answer(sys.op, &mut self.suspended, self.handled, self.started) {
            Ok(answer) => answer,
            Err(OwnRequest::State(f)) => SysReply::State(self.invoke(|s| f(s as &mut dyn Any))),
            Err(OwnRequest::Status) => {
                let state = self.invoke(|s| s.format_status());
                let module = std::any::type_name::<S>();
                sys::status("gen_server", module, self.suspended, Some(state))
            }
            Err(OwnRequest::Stop(reason)) => self.stop(reason),
        };
        reply(sys.from, answer);
    }

    /// The loop's next step from a `NoReply` result.
    fn after(&mut self, r: NoReply<S::Continue>) -> Next<S::Continue> {
        match r {
            NoReply::Ok => Next::Wait,
            NoReply::Timeout(d) => Next::Timeout(d),
            NoReply::Hibernate => Next::Hibernate,
            NoReply::Continue(c) => Next::Continue(c),
            NoReply::Stop(reason) => self.stop(reason),
        }
    }

    /// Runs a callback on the state; a panic stops the server.
    fn invoke<T>(&mut self, f: impl FnOnce(&mut S) -> T) -> T {
        match try_dispatch(|| f(&mut self.state)) {
            Ok(v) => v,
            Err(reason) => self.stop(reason),
        }
    }

    /// Runs `terminate`, then writes the terminating report for an abnormal
    /// reason; returns the reason to exit with (a panic in `terminate` replaces it,
    /// as a crash in OTP's `terminate` does).
    fn terminate(&mut self, reason: ExitReason) -> ExitReason {
        let reason = match try_dispatch(|| self.state.terminate(&reason)) {
            Ok(()) => reason,
            Err(crash) => crash,
        };
        let state = &self.state;
        report::terminating(ReportKind::ServerTerminating, &reason, self.last, || {
            try_dispatch(|| state.format_status())
                .unwrap_or_else(|r| format!("<format_status crashed: {r}>"))
        });
        reason
    }

    fn stop(&mut self, reason: ExitReason) -> ! {
        let reason = self.terminate(reason);
        exit(reason)
    }
}

/// Stops `server` through a system message and waits for its exit.
pub(crate) fn stop(server: Pid, reason: ExitReason, timeout: Duration) -> Result<(), CallError> {
    let op = SysOp::Stop(reason.clone());
    match behaviour::call_server::<_, SysReply>(server, |from| SysMsg { from, op }, Some(timeout)) {
        Err(CallError::Exit(r)) if r == reason => Ok(()),
        Err(e) => Err(e),
        Ok(_) => unreachable!("a stopping server does not reply"),
    }
}
