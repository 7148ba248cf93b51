//! The type-erased handler the manager holds: an [`EventHandler`] of any type behind
//! one object-safe trait, with calls, deletion arguments and `terminate` results
//! boxed as `Any` and unboxed again by the typed API (the handler identity carries
//! the type, so the downcasts cannot fail).

use std::any::Any;

use beamlet_runtime::{ExitReason, Message};

use super::{CallHandled, EventHandler, Handled, HandlerError, Init, Previous, Removal, SwapTo};
use crate::gen_event::AnyHandlerId;

/// A boxed value of a type only the typed API knows.
pub(crate) type AnyBox = Box<dyn Any + Send>;

/// What a handler's callback asks the manager to do with it.
pub(crate) enum Outcome<E> {
    Keep,
    Hibernate,
    Remove,
    /// Terminate with these (boxed) arguments and install the new handler.
    Swap(AnyBox, ErasedSwap<E>),
}

/// A handler just initialised, and whether it asked the manager to hibernate.
pub(crate) struct Started<E> {
    pub(crate) handler: Box<dyn Installed<E>>,
    pub(crate) hibernate: bool,
}

/// Makes a handler from the previous one's `terminate` result.
pub(crate) type SwapInit<E, T> =
    Box<dyn FnOnce(Previous<T>) -> Result<Started<E>, HandlerError> + Send>;

/// A [`SwapTo`] with the old handler's `terminate` result type erased.
pub(crate) struct ErasedSwap<E> {
    pub(crate) id: AnyHandlerId,
    pub(crate) init: SwapInit<E, AnyBox>,
}

/// An installed handler, whatever its type.
pub(crate) trait Installed<E>: Send {
    fn handle_event(&mut self, event: &E) -> Outcome<E>;
    fn handle_info(&mut self, msg: &Message) -> Outcome<E>;
    /// The boxed reply, and what next.
    fn handle_call(&mut self, request: AnyBox) -> (AnyBox, Outcome<E>);
    /// The boxed `terminate` result.
    fn terminate(self: Box<Self>, why: Removal<AnyBox>) -> AnyBox;
}

/// Runs `H::init`: the handler boxed, or why it refused.
pub(crate) fn init<E: 'static, H: EventHandler<E>>(
    args: H::Args,
) -> Result<Started<E>, HandlerError> {
    let (handler, hibernate) = match H::init(args) {
        Init::Ok(h) => (h, false),
        Init::Hibernate(h) => (h, true),
        Init::Error(reason) => return Err(HandlerError::Refused(reason)),
    };
    Ok(Started {
        handler: Box::new(Typed(handler)),
        hibernate,
    })
}

/// Erases the type of the old handler's `terminate` result.
pub(crate) fn erase_swap<E: 'static, T: Send + 'static>(swap: SwapTo<E, T>) -> ErasedSwap<E> {
    let init = swap.init;
    ErasedSwap {
        id: swap.id,
        init: Box::new(move |previous: Previous<AnyBox>| {
            let previous = match previous {
                Previous::Terminated(value) => Previous::Terminated(unbox::<T>(value)),
                Previous::NotInstalled => Previous::NotInstalled,
                Previous::Crashed(reason) => Previous::Crashed(reason),
            };
            init(previous)
        }),
    }
}

/// Unboxes a value the typed API boxed as a `T`.
pub(crate) fn unbox<T: 'static>(value: AnyBox) -> T {
    *value
        .downcast::<T>()
        .expect("a handler identity names its type, so the box holds a T")
}

/// The handler of type `H`, behind [`Installed`].
struct Typed<H>(H);

impl<E: 'static, H: EventHandler<E>> Installed<E> for Typed<H> {
    fn handle_event(&mut self, event: &E) -> Outcome<E> {
        outcome(self.0.handle_event(event))
    }

    fn handle_info(&mut self, msg: &Message) -> Outcome<E> {
        outcome(self.0.handle_info(msg))
    }

    fn handle_call(&mut self, request: AnyBox) -> (AnyBox, Outcome<E>) {
        let (reply, next): (_, Handled<E, H>) = match self.0.handle_call(unbox::<H::Call>(request))
        {
            CallHandled::Reply(r) => (r, Handled::Ok),
            CallHandled::ReplyHibernate(r) => (r, Handled::Hibernate),
            CallHandled::Remove(r) => (r, Handled::Remove),
            CallHandled::Swap(r, args, to) => (r, Handled::Swap(args, to)),
        };
        (Box::new(reply), outcome(next))
    }

    fn terminate(self: Box<Self>, why: Removal<AnyBox>) -> AnyBox {
        let why = match why {
            Removal::Deleted(args) => Removal::Deleted(unbox::<H::DeleteArgs>(args)),
            Removal::Swapped(args) => Removal::Swapped(unbox::<H::DeleteArgs>(args)),
            Removal::Removed => Removal::Removed,
            Removal::Stopped => Removal::Stopped,
            Removal::AdderExited(r) => Removal::AdderExited(r),
            Removal::Crashed(r) => Removal::Crashed(r),
        };
        Box::new(self.0.terminate(why))
    }
}

fn outcome<E: 'static, H: EventHandler<E>>(handled: Handled<E, H>) -> Outcome<E> {
    match handled {
        Handled::Ok => Outcome::Keep,
        Handled::Hibernate => Outcome::Hibernate,
        Handled::Remove => Outcome::Remove,
        Handled::Swap(args, to) => Outcome::Swap(Box::new(args), erase_swap(to)),
    }
}

/// `Crashed` for a callback that panicked or exited.
pub(crate) fn crashed(reason: ExitReason) -> HandlerError {
    HandlerError::Crashed(reason)
}
