//! The event manager's process (the steps are in the parent module's header).
//!
//! 1. [`start`] runs `init_it` in the new process through [`behaviour::start`],
//!    after gen's shared prologue (trap exits, register the name): acknowledge, loop.
//! 2. [`Manager::run`] takes the oldest message of any type (while suspended, only
//!    system messages and the parent's `Exit`) and dispatches it by kind.
//! 3. Every handler callback goes through [`behaviour`]'s `try_dispatch`; a failure
//!    removes that handler ([`Manager::remove`]), never the manager; a crash is
//!    reported first ([`Manager::report_crash`]).
//! 4. Links to supervising processes that supervise no handler any more are
//!    dropped after each message ([`Manager::release_supervisors`]).

use std::time::Instant;

use beamlet_runtime::{
    Exit, ExitReason, Headed, Message, Pid, Report, ReportKind, exit, hibernate, link,
    receive_select, registered_name, self_pid, send, unlink, write_report,
};

use super::handler::{AnyBox, ErasedSwap, Installed, Outcome, Started, crashed};
use super::{
    AnyHandlerId, EventManager, HandlerError, HandlerExit, Previous, Removal, RemoveReason,
};
use crate::behaviour::report::LastIn;
use crate::behaviour::{
    self, Boot, CallHead, Caller, StartError, StartOptions, parent_exit, reply, try_dispatch,
};
use crate::name::Name;
use crate::sys::{self, OwnRequest, SysMsg, SysReply};

/// The envelope of [`notify`](super::notify).
pub(crate) struct Notify<E>(pub(crate) E);

/// Makes a handler, in the manager.
type HandlerInit<E> = Box<dyn FnOnce() -> Result<Started<E>, HandlerError> + Send>;

/// The requests that are calls, each with its reply address.
pub(crate) enum Request<E> {
    SyncNotify(E, Caller<()>),
    Add {
        id: AnyHandlerId,
        init: HandlerInit<E>,
        supervisor: Option<Pid>,
        from: Caller<Result<(), HandlerError>>,
    },
    Delete {
        id: AnyHandlerId,
        args: AnyBox,
        from: Caller<Result<AnyBox, HandlerError>>,
    },
    Swap {
        old: AnyHandlerId,
        args: AnyBox,
        new: ErasedSwap<E>,
        /// The new supervisor (`swap_sup_handler`), else the old handler's.
        supervisor: Option<Pid>,
        from: Caller<Result<(), HandlerError>>,
    },
    Call {
        id: AnyHandlerId,
        request: AnyBox,
        from: Caller<Result<AnyBox, HandlerError>>,
    },
    WhichHandlers(Caller<Vec<AnyHandlerId>>),
}

impl<E: Send + 'static> Headed for Request<E> {
    type Head = CallHead;
    fn head(&self) -> CallHead {
        match self {
            Request::SyncNotify(_, from) => from.head::<E>(),
            Request::Add { from, .. } | Request::Swap { from, .. } => from.head::<Self>(),
            Request::Delete { from, .. } | Request::Call { from, .. } => from.head::<Self>(),
            Request::WhichHandlers(from) => from.head::<Self>(),
        }
    }
}

impl<E> Request<E> {
    /// What a handler's crash report says of this request.
    fn last_in(&self) -> LastIn {
        match self {
            Request::SyncNotify(..) => LastIn::Info(std::any::type_name::<E>()),
            Request::Call { from, .. } => LastIn::Call("a handler call", from.pid()),
            Request::Add { .. } => LastIn::Event("add_handler"),
            Request::Delete { .. } => LastIn::Event("delete_handler"),
            Request::Swap { .. } => LastIn::Event("swap_handler"),
            Request::WhichHandlers(_) => LastIn::Event("which_handlers"),
        }
    }
}

/// Starts a manager for events `E`.
#[track_caller]
pub(crate) fn start<E: Send + 'static>(link: bool, name: Option<Name>) -> Result<Pid, StartError> {
    let opts = StartOptions {
        name,
        ..StartOptions::default()
    };
    behaviour::start_behaviour(link, opts, (true, "gen_event"), init_it::<E>)
}

/// The new process, after the shared prologue (trapping exits, name): acknowledge,
/// loop.
fn init_it<E: Send + 'static>(boot: Boot) {
    beamlet_runtime::set_behaviour("gen_event", std::any::type_name::<E>());
    let manager = Manager::<E> {
        handlers: Vec::new(),
        parent: boot.parent(),
        released: Vec::new(),
        handled: 0,
        started: beamlet_runtime::now(),
        suspended: false,
        last: LastIn::None,
    };
    boot.ack();
    manager.run()
}

/// One installed handler.
struct Entry<E> {
    id: AnyHandlerId,
    handler: Box<dyn Installed<E>>,
    supervisor: Option<Pid>,
}

/// A running manager: its handlers, most recently added first.
struct Manager<E> {
    handlers: Vec<Entry<E>>,
    parent: Option<Pid>,
    /// Supervisors of handlers removed while handling the current message.
    released: Vec<Pid>,
    handled: u64,
    started: Instant,
    suspended: bool,
    /// What a handler's crash report names as the last event.
    last: LastIn,
}

impl<E: Send + 'static> Manager<E> {
    fn run(mut self) -> ! {
        loop {
            let msg = self.take();
            let hibernate_now = self.handle(msg);
            self.release_supervisors();
            if hibernate_now {
                hibernate(move || self.run())
            }
        }
    }

    /// The oldest message the manager takes now (see the module's step 2).
    fn take(&self) -> Message {
        let parent = self.parent;
        let suspended = self.suspended;
        let pred = |m: &Message| !suspended || m.is::<SysMsg>() || parent_exit(parent, m).is_some();
        receive_select(None, pred, None).expect("an unbounded receive returns a message")
    }

    /// Dispatches one message; `true` if a handler asked to hibernate.
    fn handle(&mut self, msg: Message) -> bool {
        let msg = match msg.downcast::<Notify<E>>() {
            Ok(Notify(event)) => {
                self.handled += 1;
                self.last = LastIn::Info(std::any::type_name::<E>());
                return self.each(|h| h.handle_event(&event));
            }
            Err(m) => m,
        };
        let msg = match msg.downcast::<Request<E>>() {
            Ok(request) => {
                self.handled += 1;
                self.last = request.last_in();
                return self.on_request(request);
            }
            Err(m) => m,
        };
        let msg = match msg.downcast::<SysMsg>() {
            Ok(sys) => {
                self.on_system(sys);
                return false;
            }
            Err(m) => m,
        };
        // A call envelope of another type: answered `WrongType` at once; the
        // handlers never see it.
        if behaviour::refuse_foreign_call(&msg, std::any::type_name::<EventManager<E>>()) {
            return false;
        }
        if let Some(reason) = parent_exit(self.parent, &msg) {
            self.shutdown(reason)
        }
        self.handled += 1;
        self.last = LastIn::Info(msg.type_name());
        if let Some(Exit { from, reason }) = msg.downcast_ref::<Exit>() {
            self.remove_supervised(*from, reason);
        }
        self.each(|h| h.handle_info(&msg))
    }

    fn on_request(&mut self, request: Request<E>) -> bool {
        match request {
            Request::SyncNotify(event, from) => {
                let hibernate_now = self.each(|h| h.handle_event(&event));
                reply(from, ());
                hibernate_now
            }
            Request::Add {
                id,
                init,
                supervisor,
                from,
            } => {
                let (result, hibernate_now) = self.add(id, init, supervisor);
                reply(from, result);
                hibernate_now
            }
            Request::Delete { id, args, from } => {
                let result = match self.position(&id) {
                    Some(i) => self.remove(i, Removal::Deleted(args), RemoveReason::Normal),
                    None => Err(HandlerError::NotInstalled),
                };
                reply(from, result);
                false
            }
            Request::Swap {
                old,
                args,
                new,
                supervisor,
                from,
            } => {
                let (result, hibernate_now) = self.swap(&old, args, new, supervisor);
                reply(from, result);
                hibernate_now
            }
            Request::Call { id, request, from } => self.call(&id, request, from),
            Request::WhichHandlers(from) => {
                reply(from, self.handlers.iter().map(|e| e.id.clone()).collect());
                false
            }
        }
    }

    /// Runs `callback` on every handler in order, acting on each outcome; `true` if
    /// one asked to hibernate.
    fn each(&mut self, mut callback: impl FnMut(&mut dyn Installed<E>) -> Outcome<E>) -> bool {
        let mut hibernate_now = false;
        let mut i = 0;
        while i < self.handlers.len() {
            let handler = &mut self.handlers[i].handler;
            let outcome = try_dispatch(|| callback(handler.as_mut()));
            let (kept, hibernating) = self.apply(i, outcome);
            hibernate_now |= hibernating;
            i += usize::from(kept);
        }
        hibernate_now
    }

    /// Acts on the outcome of a callback of handler `i`: `(still a handler at i,
    /// hibernate)`.
    fn apply(&mut self, i: usize, outcome: Result<Outcome<E>, ExitReason>) -> (bool, bool) {
        match outcome {
            Ok(Outcome::Keep) => (true, false),
            Ok(Outcome::Hibernate) => (true, true),
            Ok(Outcome::Remove) => {
                let _ = self.remove(i, Removal::Removed, RemoveReason::Normal);
                (false, false)
            }
            Ok(Outcome::Swap(args, new)) => self.swap_in_place(i, args, new),
            Err(reason) => {
                self.report_crash(i, &reason);
                let why = Removal::Crashed(reason.clone());
                let _ = self.remove(i, why, RemoveReason::Error(reason));
                (false, false)
            }
        }
    }

    /// Removes handler `i`, runs its `terminate` and tells its supervisor `report`;
    /// returns what `terminate` returned.
    fn remove(
        &mut self,
        i: usize,
        why: Removal<AnyBox>,
        report: RemoveReason,
    ) -> Result<AnyBox, HandlerError> {
        let Entry {
            id,
            handler,
            supervisor,
        } = self.handlers.remove(i);
        let terminated = try_dispatch(move || handler.terminate(why)).map_err(crashed);
        self.report(supervisor, id, report);
        terminated
    }

    /// Writes the crash report of handler `i` (OTP's "gen_event handler crashed").
    fn report_crash(&self, i: usize, reason: &ExitReason) {
        let me = self_pid();
        let name = registered_name(me);
        let report = Report::new(ReportKind::HandlerCrashed, me, reason.clone())
            .name(name)
            .field("handler", &self.handlers[i].id)
            .field("last_message", self.last);
        write_report(report);
    }

    /// Tells `supervisor`, if any, that its handler `id` is gone.
    fn report(&mut self, supervisor: Option<Pid>, id: AnyHandlerId, reason: RemoveReason) {
        let Some(sup) = supervisor else { return };
        let exit = HandlerExit {
            manager: self_pid(),
            handler: id,
            reason,
        };
        // A supervisor that died meanwhile needs no report.
        let _ = send(sup, exit);
        self.released.push(sup);
    }

    fn add(
        &mut self,
        id: AnyHandlerId,
        init: HandlerInit<E>,
        supervisor: Option<Pid>,
    ) -> (Result<(), HandlerError>, bool) {
        match try_dispatch(init) {
            Ok(Ok(started)) => (Ok(()), self.install(0, id, started, supervisor)),
            Ok(Err(e)) => (Err(e), false),
            Err(reason) => (Err(crashed(reason)), false),
        }
    }

    /// Puts a started handler at `i`, linked to its supervisor; returns whether it
    /// asked to hibernate.
    fn install(
        &mut self,
        i: usize,
        id: AnyHandlerId,
        started: Started<E>,
        supervisor: Option<Pid>,
    ) -> bool {
        if let Some(sup) = supervisor {
            // Trapping exits, a dead supervisor yields an `Exit` with `NoProc`,
            // which removes the handler as the supervisor's death would.
            let _ = link(sup);
        }
        let entry = Entry {
            id,
            handler: started.handler,
            supervisor,
        };
        self.handlers.insert(i, entry);
        started.hibernate
    }

    /// `swap_handler`: the new handler goes first (see the module's step 2).
    fn swap(
        &mut self,
        old: &AnyHandlerId,
        args: AnyBox,
        new: ErasedSwap<E>,
        new_supervisor: Option<Pid>,
    ) -> (Result<(), HandlerError>, bool) {
        let (previous, old_supervisor) = match self.position(old) {
            Some(i) => {
                let old_supervisor = self.handlers[i].supervisor;
                let to = RemoveReason::Swapped {
                    to: new.id.clone(),
                    supervisor: new_supervisor.or(old_supervisor),
                };
                (self.remove_for_swap(i, args, to), old_supervisor)
            }
            None => (Previous::NotInstalled, None),
        };
        let ErasedSwap { id, init } = new;
        match try_dispatch(move || init(previous)) {
            Ok(Ok(started)) => {
                let sup = new_supervisor.or(old_supervisor);
                (Ok(()), self.install(0, id, started, sup))
            }
            Ok(Err(e)) => (Err(e), false),
            Err(reason) => (Err(crashed(reason)), false),
        }
    }

    /// A callback's `Swap` of handler `i`: the new handler takes its place and its
    /// supervisor; `(still a handler at i, hibernate)`.
    fn swap_in_place(&mut self, i: usize, args: AnyBox, new: ErasedSwap<E>) -> (bool, bool) {
        let supervisor = self.handlers[i].supervisor;
        let to = RemoveReason::Swapped {
            to: new.id.clone(),
            supervisor,
        };
        let previous = self.remove_for_swap(i, args, to);
        let ErasedSwap { id, init } = new;
        let failure = match try_dispatch(move || init(previous)) {
            Ok(Ok(started)) => return (true, self.install(i, id, started, supervisor)),
            Ok(Err(HandlerError::Refused(r) | HandlerError::Crashed(r))) | Err(r) => r,
            Ok(Err(other)) => unreachable!("a handler's init fails with Refused: {other}"),
        };
        // As OTP: the supervisor hears that the new handler failed to start.
        self.report(supervisor, id, RemoveReason::Error(failure));
        (false, false)
    }

    /// Terminates handler `i` for a swap; what the new handler learns of it.
    fn remove_for_swap(
        &mut self,
        i: usize,
        args: AnyBox,
        report: RemoveReason,
    ) -> Previous<AnyBox> {
        match self.remove(i, Removal::Swapped(args), report) {
            Ok(terminated) => Previous::Terminated(terminated),
            Err(HandlerError::Crashed(r)) => Previous::Crashed(r),
            Err(other) => unreachable!("terminate fails only by crashing: {other}"),
        }
    }

    fn call(
        &mut self,
        id: &AnyHandlerId,
        request: AnyBox,
        from: Caller<Result<AnyBox, HandlerError>>,
    ) -> bool {
        let Some(i) = self.position(id) else {
            reply(from, Err(HandlerError::NotInstalled));
            return false;
        };
        let handler = &mut self.handlers[i].handler;
        match try_dispatch(|| handler.handle_call(request)) {
            Ok((answer, outcome)) => {
                let (_, hibernate_now) = self.apply(i, Ok(outcome));
                reply(from, Ok(answer));
                hibernate_now
            }
            Err(reason) => {
                let _ = self.apply(i, Err(reason.clone()));
                reply(from, Err(HandlerError::Crashed(reason)));
                false
            }
        }
    }

    /// The most recently added handler with this id.
    fn position(&self, id: &AnyHandlerId) -> Option<usize> {
        self.handlers.iter().position(|e| e.id == *id)
    }

    /// The supervisor `pid` exited: its handlers go first (see step 5).
    fn remove_supervised(&mut self, pid: Pid, reason: &ExitReason) {
        while let Some(i) = self.handlers.iter().position(|e| e.supervisor == Some(pid)) {
            let why = Removal::AdderExited(reason.clone());
            let _ = self.remove(i, why, RemoveReason::Shutdown);
        }
    }

    /// Unlinks the supervisors of removed handlers that supervise no other handler
    /// (and are not the parent, whose link is the `start_link` one).
    fn release_supervisors(&mut self) {
        while let Some(sup) = self.released.pop() {
            let still = self.handlers.iter().any(|e| e.supervisor == Some(sup));
            if !still && Some(sup) != self.parent {
                unlink(sup);
            }
        }
    }

    fn on_system(&mut self, sys: SysMsg) {
        let answer = match sys::answer(sys.op, &mut self.suspended, self.handled, self.started) {
            Ok(answer) => answer,
            // A manager's state is not a GenServer's: `sys::get_state` reports the
            // type mismatch to its caller.
            Err(OwnRequest::State(_)) => SysReply::State(None),
            // Its state is its handlers, each with its own: no one text to show.
            Err(OwnRequest::Status) => {
                let module = std::any::type_name::<E>();
                sys::status("gen_event", module, self.suspended, None)
            }
            Err(OwnRequest::Stop(reason)) => self.shutdown(reason),
        };
        reply(sys.from, answer);
    }

    /// Terminates every handler, in order, and exits with `reason` (step 6).
    fn shutdown(&mut self, reason: ExitReason) -> ! {
        while !self.handlers.is_empty() {
            let _ = self.remove(0, Removal::Stopped, RemoveReason::Shutdown);
        }
        self.release_supervisors();
        exit(reason)
    }
}
