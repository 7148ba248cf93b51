//! Process aliases (as OTP 24's `alias/0`): an address for one conversation. A
//! message sent to an alias reaches the process only while the alias is active, so a
//! reply that arrives after the caller gave up (a call timeout) is dropped instead of
//! lingering in its mailbox.

use crate::mailbox::node::Node;
use crate::scheduler::context;
use crate::signal::Signal;
use crate::{Pid, Ref, SendError, api};

/// An address that delivers to its process only while active.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet_runtime::{alias, receive_timeout, unalias};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let a = alias();
///     a.send(1u32).unwrap();
///     assert_eq!(receive_timeout::<u32>(Duration::from_secs(1)), Some(1));
///     assert!(unalias(a));
///     a.send(2u32).unwrap();
///     assert_eq!(receive_timeout::<u32>(Duration::from_millis(10)), None);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alias {
    pid: Pid,
    tag: Ref,
}

impl Alias {
    /// The process the alias belongs to.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Sends `msg` through the alias. It is delivered if the alias is active when the
    /// process looks at its mailbox.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message if the process is known to be dead.
    pub fn send<M: Send + 'static>(&self, msg: M) -> Result<(), SendError<M>> {
        let sig = Signal::Alias {
            alias: self.tag,
            message: Node::new(msg),
        };
        match api::deliver(self.pid, sig.into_node()) {
            Ok(()) => Ok(()),
            Err(node) => {
                let Ok(Signal::Alias { message, .. }) = node.downcast::<Signal>() else {
                    unreachable!("an alias signal comes back as one");
                };
                Err(SendError::NoProc(
                    message.downcast::<M>().expect("node holds an M"),
                ))
            }
        }
    }
}

/// Creates an active alias of the calling process.
///
/// # Panics
///
/// Outside a process.
pub fn alias() -> Alias {
    let p = context::current_process().expect("beamlet: alias() called outside a process");
    let tag = Ref::new();
    // SAFETY: the running process uses its own owned fields; no switch here.
    unsafe { p.get().owned() }.aliases.insert(tag);
    Alias {
        pid: api::self_pid(),
        tag,
    }
}

/// Deactivates an alias of the calling process; returns whether it was active. No
/// message sent through it is delivered after this returns.
pub fn unalias(alias: Alias) -> bool {
    let p = context::current_process().expect("beamlet: unalias() called outside a process");
    // SAFETY: the running process uses its own owned fields; no switch here.
    unsafe { p.get().owned() }.aliases.remove(&alias.tag)
}
