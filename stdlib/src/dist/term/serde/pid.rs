//! A [`Pid`] field in a serde type: `#[serde(with = "beamlet::otp::dist::term::serde::pid")]`.
//!
//! `Pid` belongs to the runtime crate, which does not depend on serde, so it
//! has no `Serialize` of its own. Through this module it becomes an Erlang pid
//! in a term (a reply-to address, as in `{get, From}`); other serde formats see
//! a newtype holding the pid's three numbers, meaningful only inside the OS
//! process that wrote them.
//!
//! ```
//! use beamlet::Pid;
//! use beamlet::otp::dist::term::serde::{from_term, to_term};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename_all = "snake_case")]
//! enum Request {
//!     Get(#[serde(with = "beamlet::otp::dist::term::serde::pid")] Pid),
//! }
//!
//! let pid = Pid::from_parts(1, 2, 3);
//! let term = to_term(&Request::Get(pid)).unwrap();
//! assert!(term.to_string().starts_with("{get,<"));
//! assert_eq!(from_term::<Request>(&term).unwrap(), Request::Get(pid));
//! ```

use std::fmt;

use ::serde::de::{Deserialize, Deserializer, Visitor};
use ::serde::ser::Serializer;

use super::PID_NEWTYPE;
use crate::dist::term::Pid;

/// The pid as the newtype `$beamlet::Pid` of `(runtime, index, serial)`.
///
/// # Errors
///
/// Whatever the serializer reports.
pub fn serialize<S: Serializer>(pid: &Pid, serializer: S) -> Result<S::Ok, S::Error> {
    let parts = (pid.runtime_id(), pid.index(), pid.serial());
    serializer.serialize_newtype_struct(PID_NEWTYPE, &parts)
}

/// A pid written by [`serialize`].
///
/// # Errors
///
/// When the input holds no pid.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Pid, D::Error> {
    deserializer.deserialize_newtype_struct(PID_NEWTYPE, PidVisitor)
}

struct PidVisitor;

impl<'de> Visitor<'de> for PidVisitor {
    type Value = Pid;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pid")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, parts: D) -> Result<Pid, D::Error> {
        let (runtime, index, serial) = <(u32, u32, u32)>::deserialize(parts)?;
        Ok(Pid::from_parts(runtime, index, serial))
    }
}
