//! How the supervisor functions reach a supervisor (OTP's `sup_ref()`): a typed
//! handle or a registered name, and how long a call waits.
//!
//! The rules are in [`SupRef`]'s documentation.

use std::fmt;
use std::time::Duration;

use crate::behaviour::CallError;
use crate::gen_server::{self, GenServer, ServerRef};
use crate::name::Name;

/// A supervisor to call (of type `S`: [`Supervisor`](super::Supervisor) or
/// [`DynamicSupervisor`](crate::dynamic_supervisor::DynamicSupervisor)) and how
/// long to wait for its answer:
///
/// 1. Every function of [`supervisor`](super) and
///    [`dynamic_supervisor`](crate::dynamic_supervisor) that calls a supervisor
///    takes `impl Into<SupRef<_>>`: a [`ServerRef`], a local name (`&str`,
///    `String`) or any [`Name`].
/// 2. A name is resolved when the call is made (as `gen_server::call_named`); no
///    process under that name is [`CallError::NoProc`].
/// 3. The call waits for ever by default, as OTP's supervisor calls
///    (`infinity`: a supervisor may be busy starting or stopping children for a
///    long time); [`SupRef::timeout`] bounds it, and a call that times out returns
///    [`CallError::Timeout`] (the late reply is dropped).
/// 4. A process of another behaviour, or a supervisor of the other kind, answers
///    [`CallError::WrongType`] at once (see [`crate::behaviour`]).
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::gen_server::StartOptions;
/// use beamlet::otp::supervisor::{self, SupRef, SupervisorFlags};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let opts = StartOptions::new().name("app_sup");
///     let sup = supervisor::start_link_with(vec![], SupervisorFlags::default(), opts).unwrap();
///     assert_eq!(supervisor::count_children(sup).unwrap().specs, 0);
///     assert_eq!(supervisor::count_children("app_sup").unwrap().specs, 0);
///     let patient = SupRef::from("app_sup").timeout(Duration::from_secs(1));
///     assert!(supervisor::which_children(patient).unwrap().is_empty());
/// }).unwrap();
/// rt.shutdown();
/// ```
pub struct SupRef<S> {
    target: Target<S>,
    timeout: Duration,
}

enum Target<S> {
    Ref(ServerRef<S>),
    Name(Name),
}

impl<S: GenServer> SupRef<S> {
    /// The same supervisor, with calls that wait at most `timeout`
    /// (`Duration::MAX` waits for ever, the default).
    ///
    /// See [`SupRef`] for an example.
    pub fn timeout(self, timeout: Duration) -> SupRef<S> {
        SupRef { timeout, ..self }
    }

    /// Calls the supervisor with `request`.
    pub(crate) fn call(self, request: S::Call) -> Result<S::Reply, CallError> {
        let sup = match self.target {
            Target::Ref(sup) => sup,
            Target::Name(name) => ServerRef::whereis(name).ok_or(CallError::NoProc)?,
        };
        gen_server::call_timeout(sup, request, self.timeout)
    }
}

impl<S> Clone for SupRef<S> {
    fn clone(&self) -> Self {
        let target = match &self.target {
            Target::Ref(sup) => Target::Ref(*sup),
            Target::Name(name) => Target::Name(name.clone()),
        };
        SupRef {
            target,
            timeout: self.timeout,
        }
    }
}

impl<S> fmt::Debug for SupRef<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SupRef");
        match &self.target {
            Target::Ref(sup) => d.field("ref", sup),
            Target::Name(name) => d.field("name", name),
        };
        d.field("timeout", &self.timeout).finish()
    }
}

/// OTP's `infinity`: supervisor calls wait for ever unless told otherwise.
const INFINITY: Duration = Duration::MAX;

impl<S> SupRef<S> {
    fn new(target: Target<S>) -> SupRef<S> {
        SupRef {
            target,
            timeout: INFINITY,
        }
    }
}

impl<S> From<ServerRef<S>> for SupRef<S> {
    fn from(sup: ServerRef<S>) -> Self {
        SupRef::new(Target::Ref(sup))
    }
}

impl<S> From<Name> for SupRef<S> {
    fn from(name: Name) -> Self {
        SupRef::new(Target::Name(name))
    }
}

impl<S> From<&str> for SupRef<S> {
    fn from(name: &str) -> Self {
        SupRef::new(Target::Name(Name::from(name)))
    }
}

impl<S> From<String> for SupRef<S> {
    fn from(name: String) -> Self {
        SupRef::new(Target::Name(Name::from(name)))
    }
}
