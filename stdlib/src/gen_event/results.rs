//! What the callbacks return ([`Init`], [`Handled`], [`CallHandled`]), why
//! `terminate` runs ([`Removal`]), and how a swap hands one handler's end to the
//! next ([`SwapTo`], [`Previous`]).

use std::fmt;

use beamlet_runtime::ExitReason;

use super::handler::{self, SwapInit};
use super::{AnyHandlerId, EventHandler, HandlerId};

/// What `init` returns (OTP's `{ok, State}`, `{ok, State, hibernate}`, `{error,
/// Reason}`).
///
/// ```
/// use beamlet::otp::gen_event::Init;
/// let i: Init<u8> = Init::Ok(1);
/// assert!(matches!(i, Init::Ok(1)));
/// ```
#[derive(Debug)]
#[must_use]
pub enum Init<H> {
    /// Installed.
    Ok(H),
    /// Installed; the manager hibernates until its next message.
    Hibernate(H),
    /// Not installed: the add returns [`HandlerError::Refused`](super::HandlerError::Refused).
    Error(ExitReason),
}

/// What `handle_event` and `handle_info` return (OTP's `{ok, State}`, `{ok, State,
/// hibernate}`, `remove_handler`, `{swap_handler, Args1, State1, Handler2, Args2}`).
///
/// ```
/// use beamlet::otp::gen_event::{EventHandler, Handled};
/// fn keep<E, H: EventHandler<E>>() -> Handled<E, H> { Handled::Ok }
/// ```
#[must_use]
pub enum Handled<E, H: EventHandler<E>> {
    /// Keep the handler.
    Ok,
    /// Keep the handler; the manager hibernates until its next message.
    Hibernate,
    /// Remove the handler: `terminate` runs with [`Removal::Removed`].
    Remove,
    /// Replace the handler, in its place: `terminate` runs with
    /// [`Removal::Swapped`] and these arguments, then the new handler's `init`.
    Swap(H::DeleteArgs, SwapTo<E, H::Terminated>),
}

/// What `handle_call` returns (OTP's `{ok, Reply, State}`, `{ok, Reply, State,
/// hibernate}`, `{remove_handler, Reply}`, `{swap_handler, Reply, Args1, State1,
/// Handler2, Args2}`); the reply goes to the caller in every case.
///
/// ```
/// use beamlet::otp::gen_event::{CallHandled, EventHandler};
/// fn answer<E, H: EventHandler<E>>(r: H::Reply) -> CallHandled<E, H> { CallHandled::Reply(r) }
/// ```
#[must_use]
pub enum CallHandled<E, H: EventHandler<E>> {
    /// Reply and keep the handler.
    Reply(H::Reply),
    /// Reply, keep the handler, and hibernate the manager.
    ReplyHibernate(H::Reply),
    /// Reply and remove the handler.
    Remove(H::Reply),
    /// Reply and replace the handler (as [`Handled::Swap`]).
    Swap(H::Reply, H::DeleteArgs, SwapTo<E, H::Terminated>),
}

impl<E, H: EventHandler<E>> fmt::Debug for Handled<E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Handled::Ok => f.write_str("Ok"),
            Handled::Hibernate => f.write_str("Hibernate"),
            Handled::Remove => f.write_str("Remove"),
            Handled::Swap(_, to) => write!(f, "Swap({to:?})"),
        }
    }
}

impl<E, H: EventHandler<E>> fmt::Debug for CallHandled<E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallHandled::Reply(_) => f.write_str("Reply(..)"),
            CallHandled::ReplyHibernate(_) => f.write_str("ReplyHibernate(..)"),
            CallHandled::Remove(_) => f.write_str("Remove(..)"),
            CallHandled::Swap(_, _, to) => write!(f, "Swap(.., {to:?})"),
        }
    }
}

/// Why `terminate` runs (OTP's first argument of `terminate/2`).
///
/// ```
/// use beamlet::otp::gen_event::Removal;
/// let why: Removal<()> = Removal::Stopped;
/// assert!(matches!(why, Removal::Stopped));
/// ```
#[derive(Debug)]
pub enum Removal<A> {
    /// [`delete_handler`](super::delete_handler) with these arguments (OTP's `Args`).
    Deleted(A),
    /// Replaced through [`swap_handler`](super::swap_handler) or a callback's `Swap`, with these
    /// arguments (OTP's `Args1`).
    Swapped(A),
    /// A callback returned `Remove` (`remove_handler`).
    Removed,
    /// The manager is stopping (`stop`).
    Stopped,
    /// The process that added the handler with [`add_sup_handler`](super::add_sup_handler) exited with
    /// this reason (`{stop, Reason}`).
    AdderExited(ExitReason),
    /// A callback of this handler panicked or exited with this reason (`{error,
    /// {'EXIT', Reason}}`).
    Crashed(ExitReason),
}

/// What a handler swapped in learns of the one it replaces (OTP's `Term` in
/// `init({Args2, Term})`).
///
/// ```
/// use beamlet::otp::gen_event::Previous;
/// let p: Previous<u64> = Previous::NotInstalled;
/// assert_eq!(p.terminated(), None);
/// ```
#[derive(Debug, PartialEq)]
pub enum Previous<T> {
    /// The old handler's `terminate` returned this.
    Terminated(T),
    /// No handler had the old id (`error`).
    NotInstalled,
    /// The old handler's `terminate` panicked with this reason (`{'EXIT',
    /// Reason}`).
    Crashed(ExitReason),
}

impl<T> Previous<T> {
    /// What the old handler's `terminate` returned, if it did.
    ///
    /// See [`Previous`] for an example.
    pub fn terminated(self) -> Option<T> {
        match self {
            Previous::Terminated(t) => Some(t),
            _ => None,
        }
    }
}

/// The new handler of a swap: its id and how to make its `init` arguments from the
/// old handler's `terminate` result `T`.
///
/// ```
/// use beamlet::otp::gen_event::{EventHandler, Handled, HandlerId, Init, Removal, SwapTo};
/// struct Tally(u64);
/// impl EventHandler<u8> for Tally {
///     type Args = u64; type Call = (); type Reply = (); type DeleteArgs = (); type Terminated = u64;
///     fn init(n: u64) -> Init<Self> { Init::Ok(Tally(n)) }
///     fn handle_event(&mut self, _: &u8) -> Handled<u8, Self> { Handled::Ok }
///     fn terminate(self, _: Removal<()>) -> u64 { self.0 }
/// }
/// // A Tally replacing a Tally carries on counting from where the old one stopped.
/// let to: SwapTo<u8, u64> = SwapTo::new(&HandlerId::<Tally>::instance("b"), |old| old.terminated().unwrap_or(0));
/// assert!(to.id().is::<Tally>());
/// ```
pub struct SwapTo<E, T> {
    pub(super) id: AnyHandlerId,
    pub(super) init: SwapInit<E, T>,
}

impl<E: 'static, T: Send + 'static> SwapTo<E, T> {
    /// The handler `id`, initialised with the arguments `args` makes from what the
    /// old handler's `terminate` returned (`args` runs in the manager).
    ///
    /// See [`SwapTo`] for an example.
    pub fn new<H: EventHandler<E>>(
        id: &HandlerId<H>,
        args: impl FnOnce(Previous<T>) -> H::Args + Send + 'static,
    ) -> SwapTo<E, T> {
        SwapTo {
            id: id.any(),
            init: Box::new(move |previous| handler::init::<E, H>(args(previous))),
        }
    }

    /// The new handler's id.
    ///
    /// See [`SwapTo`] for an example.
    pub fn id(&self) -> &AnyHandlerId {
        &self.id
    }
}

impl<E, T> fmt::Debug for SwapTo<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SwapTo({})", self.id)
    }
}
