//! Process aliases (as OTP 24's `alias/0`): an address for one conversation. A
//! message sent to an alias reaches the process only while the alias is active, so a
//! reply that arrives after the caller gave up (a call timeout) is dropped instead of
//! lingering in its mailbox.

use crate::error::SendError;
use crate::kernel::signals::Signal;
use crate::mailbox::node::Node;
use crate::pid::{Pid, Ref};
use crate::scheduler::current::{self, Current};

/// An address that delivers to its process only while active.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use beamlet::{alias, receive_timeout, unalias};
/// let rt = beamlet::Runtime::builder().build().unwrap();
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

    /// The alias's tag: with [`pid`](Alias::pid), what names it on the wire (an
    /// Erlang alias is a reference that carries its process).
    pub fn tag(&self) -> Ref {
        self.tag
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
        match current::deliver(self.pid, sig.into_node()) {
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
    let mut me = Current::expect("alias()");
    let tag = Ref::new();
    me.held().owned().aliases.insert(tag);
    Alias { pid: me.pid(), tag }
}

/// Deactivates an alias of the calling process; returns whether it was active. No
/// message sent through it is delivered after this returns.
pub fn unalias(alias: Alias) -> bool {
    let mut me = Current::expect("unalias()");
    me.held().owned().aliases.remove(&alias.tag)
}

// An alias is a plain value: it can be sent in messages and shared between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Alias>();
};
