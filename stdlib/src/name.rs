//! Process names for the behaviours (as OTP's `{local, Name}` and `{via, Module,
//! Name}`): a server is started under a [`Name`] and called through it.
//!
//! 1. A [`Name::Local`] is the runtime's registered name (`register`, `whereis`).
//! 2. A [`Name::Via`] delegates to a name service implementing [`ViaName`] (for
//!    example a unique [`Registry`](crate::registry::Registry) key, through
//!    [`Registry::via`](crate::registry::Registry::via)): it registers the calling
//!    process, unregisters it, and resolves the name.
//! 3. A started server registers its name before `init` runs and unregisters it if
//!    `init` fails; on death the name is released by its service (the runtime for a
//!    local name, the registry's monitor for a via name).
//! 4. A call or cast by name resolves the name at the time of the call.

use std::fmt;
use std::sync::Arc;

use beamlet_runtime::{Pid, RegisterError, register, self_pid, unregister, whereis};

/// A name service (OTP's `via` module): registers, unregisters and resolves one
/// name for the calling process.
///
/// ```
/// use beamlet::otp::name::{Name, NameError, ViaName};
/// use beamlet::Pid;
///
/// /// A service that knows no one and refuses everyone.
/// #[derive(Debug)]
/// struct Nobody;
/// impl ViaName for Nobody {
///     fn register_name(&self) -> Result<(), NameError> {
///         Err(NameError::Failed("closed".into()))
///     }
///     fn unregister_name(&self) {}
///     fn whereis_name(&self) -> Option<Pid> { None }
/// }
/// assert_eq!(Name::via(Nobody).whereis(), None);
/// ```
pub trait ViaName: Send + Sync + fmt::Debug + 'static {
    /// Registers the calling process under the name.
    ///
    /// # Errors
    ///
    /// [`NameError::Taken`] if a live process holds the name; `Failed` otherwise.
    fn register_name(&self) -> Result<(), NameError>;

    /// Releases the name if the calling process holds it.
    fn unregister_name(&self);

    /// The process holding the name, if any.
    fn whereis_name(&self) -> Option<Pid>;
}

/// Why a name could not be registered.
///
/// ```
/// use beamlet::otp::name::NameError;
/// assert_eq!(NameError::Failed("x".into()).to_string(), "the name could not be registered: x");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The name is held by this process.
    Taken(Pid),
    /// Any other reason (the process already has a local name, the name service is
    /// not running, ...), described.
    Failed(String),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Taken(p) => write!(f, "the name is held by {p}"),
            NameError::Failed(why) => write!(f, "the name could not be registered: {why}"),
        }
    }
}

impl std::error::Error for NameError {}

/// The name of a server: local (registered in the runtime) or through a name
/// service. `&str` and `String` convert into a local name.
///
/// ```
/// use beamlet::otp::name::Name;
/// let n: Name = "kv".into();
/// assert_eq!(n.as_local(), Some("kv"));
/// assert_eq!(n.to_string(), "kv");
/// ```
#[derive(Clone)]
pub enum Name {
    /// A name in the runtime's table (as `{local, Name}`).
    Local(String),
    /// A name held by a name service (as `{via, Module, Name}`).
    Via(Arc<dyn ViaName>),
}

impl Name {
    /// A local name.
    ///
    /// ```
    /// use beamlet::otp::name::Name;
    /// assert_eq!(Name::local("a").as_local(), Some("a"));
    /// ```
    pub fn local(name: impl Into<String>) -> Name {
        Name::Local(name.into())
    }

    /// A name held by `service`. See [`ViaName`] for an example.
    pub fn via(service: impl ViaName) -> Name {
        Name::Via(Arc::new(service))
    }

    /// The local name, if this is one.
    ///
    /// ```
    /// use beamlet::otp::name::Name;
    /// assert_eq!(Name::from("a").as_local(), Some("a"));
    /// ```
    pub fn as_local(&self) -> Option<&str> {
        match self {
            Name::Local(n) => Some(n),
            Name::Via(_) => None,
        }
    }

    /// Registers the calling process under the name.
    ///
    /// # Errors
    ///
    /// [`NameError::Taken`] with the holder, or `Failed`.
    ///
    /// # Panics
    ///
    /// Outside a process.
    ///
    /// ```
    /// use beamlet::otp::name::{Name, NameError};
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let n = Name::local("me");
    ///     n.register().unwrap();
    ///     assert_eq!(n.whereis(), Some(beamlet::self_pid()));
    ///     n.unregister();
    ///     assert_eq!(n.whereis(), None);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn register(&self) -> Result<(), NameError> {
        match self {
            Name::Local(n) => register(n, self_pid()).map_err(|e| match e {
                RegisterError::NameTaken(p) => NameError::Taken(p),
                other => NameError::Failed(other.to_string()),
            }),
            Name::Via(v) => v.register_name(),
        }
    }

    /// Releases the name if the calling process holds it. See [`Name::register`].
    pub fn unregister(&self) {
        match self {
            Name::Local(n) => {
                if whereis(n) == Some(self_pid()) {
                    unregister(n);
                }
            }
            Name::Via(v) => v.unregister_name(),
        }
    }

    /// The process holding the name, if any. See [`Name::register`].
    pub fn whereis(&self) -> Option<Pid> {
        match self {
            Name::Local(n) => whereis(n),
            Name::Via(v) => v.whereis_name(),
        }
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Local(n) => write!(f, "Local({n:?})"),
            Name::Via(v) => write!(f, "Via({v:?})"),
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Local(n) => f.write_str(n),
            Name::Via(v) => write!(f, "{v:?}"),
        }
    }
}

impl From<&str> for Name {
    fn from(name: &str) -> Name {
        Name::local(name)
    }
}

impl From<String> for Name {
    fn from(name: String) -> Name {
        Name::Local(name)
    }
}

impl From<&Name> for Name {
    fn from(name: &Name) -> Name {
        name.clone()
    }
}
