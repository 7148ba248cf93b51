//! Sending: [`send`], [`send_headed`] and the bounded form, and [`is_alive`].
//!
//! A send is one delivery through the running process's door
//! (`scheduler::current::deliver_admitted`): a pending kill is raised first, then
//! the kernel routes the pid (another runtime's pid goes to that runtime) and
//! pushes the message; the sender pays [`SEND_COST`] reductions.

use crate::error::SendError;
use crate::limits::SEND_COST;
use crate::mailbox::limit::Admission;
use crate::mailbox::node::{Headed, Node};
use crate::pid::Pid;
use crate::scheduler::context::with_runtime_of;
use crate::scheduler::current::{self, charge};

/// Sends `msg` to `pid`. Never blocks.
///
/// Messages from one process to another arrive in the order they were sent.
///
/// # Errors
///
/// [`SendError::NoProc`] with the message if the process is known to be dead. As on
/// the BEAM a send to a dead pid is otherwise a no-op: a send racing with the
/// receiver's exit may succeed and the message is then dropped.
///
/// [`SendError::MailboxFull`] if the receiver has a [`MailboxLimit`](crate::MailboxLimit)
/// with policy `DropNewest` (or `Kill`) and its mailbox holds `max` messages (see
/// [`set_mailbox_limit`](crate::set_mailbox_limit)).
///
/// # Examples
///
/// ```
/// use beamlet::{receive, self_pid, send};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let got = rt.block_on(|| {
///     send(self_pid(), String::from("hello")).unwrap();
///     receive::<String>()
/// }).unwrap();
/// assert_eq!(got, "hello");
/// rt.shutdown();
/// ```
pub fn send<M: Send + 'static>(pid: Pid, msg: M) -> Result<(), SendError<M>> {
    send_admitted(pid, msg, Admission::Limited { bound: None })
}

/// [`send`] with the message's head readable by the receiver without knowing its
/// type ([`Message::head`](crate::Message::head); see [`Headed`]).
///
/// # Errors
///
/// As [`send`].
///
/// See [`Headed`] for an example.
pub fn send_headed<M: Headed>(pid: Pid, msg: M) -> Result<(), SendError<M>> {
    deliver(pid, Node::headed(msg), Admission::Limited { bound: None })
}

/// Sends subject to `admission`; gives the message back typed.
pub(crate) fn send_admitted<M: Send + 'static>(
    pid: Pid,
    msg: M,
    admission: Admission,
) -> Result<(), SendError<M>> {
    deliver(pid, Node::new(msg), admission)
}

/// Delivers `node`, an `M`, subject to `admission`.
fn deliver<M: Send + 'static>(
    pid: Pid,
    node: Node,
    admission: Admission,
) -> Result<(), SendError<M>> {
    let r = current::deliver_admitted(pid, node, admission);
    charge(SEND_COST);
    r.map_err(|refused| refused.into_send_error())
}

/// `true` if `pid` names a process that has not exited.
///
/// ```
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| assert!(beamlet::is_alive(beamlet::self_pid()))).unwrap();
/// rt.shutdown();
/// ```
pub fn is_alive(pid: Pid) -> bool {
    with_runtime_of(pid, |shared| shared.is_alive(pid)).unwrap_or(false)
}
