//! Handler identities (OTP's `Module` or `{Module, Id}`) and the message a
//! supervising process receives when its handler goes (OTP's `gen_event_EXIT`).

use std::any::TypeId;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use beamlet_runtime::{ExitReason, Pid};

/// Names one handler of a manager, typed by the handler `H` (OTP's `Module`, or
/// `{Module, Id}` with an instance): the type makes calls and deletions
/// type-checked. Several handlers of one type are told apart by their instance.
///
/// ```
/// use beamlet::otp::gen_event::HandlerId;
/// struct Console;
/// let plain = HandlerId::<Console>::new();
/// let left = HandlerId::<Console>::instance("left");
/// assert_ne!(plain.any(), left.any());
/// assert_eq!(left.any().instance_name(), Some("left"));
/// assert!(left.any().is::<Console>());
/// ```
pub struct HandlerId<H> {
    instance: Option<Arc<str>>,
    _handler: PhantomData<fn() -> H>,
}

impl<H> Clone for HandlerId<H> {
    fn clone(&self) -> Self {
        HandlerId {
            instance: self.instance.clone(),
            _handler: PhantomData,
        }
    }
}

impl<H: 'static> fmt::Debug for HandlerId<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HandlerId({})", self.any())
    }
}

impl<H: 'static> Default for HandlerId<H> {
    fn default() -> Self {
        HandlerId::new()
    }
}

impl<H: 'static> HandlerId<H> {
    /// The handler of type `H` without an instance (OTP's `Module`).
    ///
    /// See [`HandlerId`] for an example.
    pub fn new() -> HandlerId<H> {
        HandlerId {
            instance: None,
            _handler: PhantomData,
        }
    }

    /// The handler of type `H` named `instance` (OTP's `{Module, Id}`).
    ///
    /// See [`HandlerId`] for an example.
    pub fn instance(instance: impl Into<String>) -> HandlerId<H> {
        HandlerId {
            instance: Some(Arc::from(instance.into())),
            _handler: PhantomData,
        }
    }

    /// The same identity with the handler type erased, as [`which_handlers`]
    /// lists them.
    ///
    /// [`which_handlers`]: super::which_handlers
    ///
    /// See [`HandlerId`] for an example.
    pub fn any(&self) -> AnyHandlerId {
        AnyHandlerId {
            type_id: TypeId::of::<H>(),
            type_name: std::any::type_name::<H>(),
            instance: self.instance.clone(),
        }
    }
}

/// A handler identity with its type erased: what [`which_handlers`] returns and
/// what a [`HandlerExit`] names. Equal when the handler type and the instance are.
///
/// [`which_handlers`]: super::which_handlers
///
/// ```
/// use beamlet::otp::gen_event::HandlerId;
/// struct Counter;
/// let id = HandlerId::<Counter>::instance("a").any();
/// assert!(id.type_name().ends_with("Counter"));
/// assert!(id.to_string().ends_with("Counter, \"a\"}"));
/// ```
#[derive(Clone)]
pub struct AnyHandlerId {
    type_id: TypeId,
    type_name: &'static str,
    instance: Option<Arc<str>>,
}

impl AnyHandlerId {
    /// `true` if the handler is of type `H`.
    ///
    /// See [`HandlerId`] for an example.
    pub fn is<H: 'static>(&self) -> bool {
        self.type_id == TypeId::of::<H>()
    }

    /// The handler type's name (`std::any::type_name`).
    ///
    /// See [`AnyHandlerId`] for an example.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The instance name, if the handler has one.
    ///
    /// See [`HandlerId`] for an example.
    pub fn instance_name(&self) -> Option<&str> {
        self.instance.as_deref()
    }
}

impl PartialEq for AnyHandlerId {
    fn eq(&self, other: &Self) -> bool {
        self.type_id == other.type_id && self.instance == other.instance
    }
}

impl Eq for AnyHandlerId {}

impl Hash for AnyHandlerId {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.type_id.hash(state);
        self.instance.hash(state);
    }
}

impl fmt::Display for AnyHandlerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.instance {
            None => f.write_str(self.type_name),
            Some(i) => write!(f, "{{{}, {:?}}}", self.type_name, i),
        }
    }
}

impl fmt::Debug for AnyHandlerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The message a manager sends the process that added a handler with
/// [`add_sup_handler`](super::add_sup_handler) when the handler is removed (OTP's
/// `{gen_event_EXIT, Handler, Reason}`).
///
/// ```
/// use beamlet::otp::gen_event::{HandlerExit, HandlerId, RemoveReason};
/// struct Console;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let exit = HandlerExit {
///         manager: beamlet::self_pid(),
///         handler: HandlerId::<Console>::new().any(),
///         reason: RemoveReason::Normal,
///     };
///     assert!(exit.handler.is::<Console>());
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerExit {
    /// The event manager the handler was installed in.
    pub manager: Pid,
    /// The handler removed.
    pub handler: AnyHandlerId,
    /// Why it was removed.
    pub reason: RemoveReason,
}

/// Why a supervised handler was removed (the `Reason` of OTP's `gen_event_EXIT`).
///
/// ```
/// use beamlet::otp::gen_event::RemoveReason;
/// assert!(RemoveReason::Normal.is_normal());
/// assert!(!RemoveReason::Shutdown.is_normal());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum RemoveReason {
    /// Deleted with `delete_handler`, or a callback returned `Remove` (`normal`).
    Normal,
    /// The manager is stopping, or the supervising process exited (`shutdown`).
    Shutdown,
    /// Replaced by the handler `to`, now supervised by `supervisor` (`{swapped,
    /// NewHandler, Pid}`).
    Swapped {
        /// The handler that took its place.
        to: AnyHandlerId,
        /// The process supervising the new handler, if any.
        supervisor: Option<Pid>,
    },
    /// A callback panicked or exited with this reason, or a handler swapped in
    /// for it failed to initialise (`{'EXIT', Reason}` or another error term).
    Error(ExitReason),
}

impl RemoveReason {
    /// `true` for `Normal`.
    ///
    /// See [`RemoveReason`] for an example.
    pub fn is_normal(&self) -> bool {
        matches!(self, RemoveReason::Normal)
    }
}
