//! Sending to, calling and casting to processes on other nodes.
//!
//! # A call to `{Name, Node}` (OTP 24+'s shape, so a timed-out call gets no late reply)
//!
//! 1. Connect if needed; monitor the name on the node (`MONITOR_P` with the atom):
//!    the connection is told the name first, then the monitor is set on a pid
//!    standing for it, so the runtime's own monitor table holds it.
//! 2. Make an alias; send `{'$gen_call', {Self, [alias | Alias]}, Request}` to the
//!    name (`REG_SEND`).
//! 3. Wait for `{[alias | Alias], Reply}` (it comes through the alias), the
//!    monitor's `Down` (`noproc` if no process has the name, the server's exit
//!    reason, or `noconnection`), or the timeout.
//! 4. Drop the alias and the monitor (flushing its `Down`), whatever the outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use beamlet_runtime::{
    Down, ExitReason, Pid, SendError, alias, demonitor, monitor, remote, self_pid, send, unalias,
};

use super::connection::Request;
use super::node::{self, NodeError};
use super::refs;
use super::term::{Atom, Term, ToTerm};
use crate::behaviour::CallError;

/// The `id` of a pid that stands for a name on another node (step 1).
pub(crate) const NAME_STAND_IN: u32 = u32::MAX;

/// Sends `message` as a term to `to`, a local pid or one of another node
/// (connecting to that node first if needed, as Erlang's `!` does).
///
/// # Errors
///
/// [`SendError::NoProc`] with the term if the process is known to be dead or its
/// node cannot be reached.
pub fn send_term(to: Pid, message: &impl ToTerm) -> Result<(), SendError<Term>> {
    let term = message.to_term();
    if let Some(parts) = remote::parts(to)
        && remote::connection(&parts.node).is_none()
        && node::connect_node(&parts.node).is_err()
    {
        return Err(SendError::NoProc(term));
    }
    send(to, term)
}

/// Sends `message` to the process registered as `name` on `node` (`{Name, Node} !
/// Msg`), connecting first if needed. As on the BEAM, an unknown name on a
/// reachable node drops the message silently.
///
/// # Errors
///
/// The reason the node could not be reached.
pub fn send_named(
    name: &str,
    node: &str,
    message: &impl ToTerm,
) -> Result<(), std::sync::Arc<NodeError>> {
    let (connection, _) = connected(node)?;
    let request = Request::SendNamed {
        from: self_pid(),
        name: Atom::new(name),
        message: message.to_term(),
    };
    let _ = send(connection, request);
    Ok(())
}

fn connected(node: &str) -> Result<(Pid, u32), std::sync::Arc<NodeError>> {
    let state = node::state().map_err(std::sync::Arc::new)?;
    if let Some(c) = state.connection(node) {
        return Ok(c);
    }
    node::connect_node(node)?;
    state.connection(node).ok_or_else(|| {
        std::sync::Arc::new(NodeError::Io(std::io::Error::other(
            "connection lost at once",
        )))
    })
}

/// Casts `request` to the `gen_server` registered as `name` on `node`
/// (`gen_server:cast({Name, Node}, Request)`).
///
/// # Errors
///
/// The reason the node could not be reached.
pub fn cast(
    name: &str,
    node: &str,
    request: &impl ToTerm,
) -> Result<(), std::sync::Arc<NodeError>> {
    send_named(
        name,
        node,
        &Term::tuple([Term::atom("$gen_cast"), request.to_term()]),
    )
}

static NEXT_STAND_IN: AtomicU32 = AtomicU32::new(0);

/// Calls the `gen_server` registered as `name` on `node` (`gen_server:call({Name,
/// Node}, Request, Timeout)`) and returns its reply term: steps 1–4.
///
/// # Errors
///
/// [`CallError::NoProc`] if no process has the name there, `Exit(reason)` if the
/// server exited (`Exit(NoConnection)` if the node is unreachable or the
/// connection was lost), `Timeout`.
pub fn call(
    name: &str,
    node: &str,
    request: &impl ToTerm,
    timeout: Duration,
) -> Result<Term, CallError> {
    let (connection, creation) =
        connected(node).map_err(|_| CallError::Exit(ExitReason::NoConnection))?;
    let me = self_pid();
    let serial = NEXT_STAND_IN.fetch_add(1, Ordering::Relaxed);
    let stand_in = remote::pid(node, creation, NAME_STAND_IN, serial)
        .map_err(|_| CallError::Exit(ExitReason::SystemLimit))?;
    let _ = send(
        connection,
        Request::NameFor {
            serial,
            name: Atom::new(name),
        },
    );
    let m = monitor(stand_in);
    call_monitored(m, request, timeout, |call| {
        let _ = send(
            connection,
            Request::SendNamed {
                from: me,
                name: Atom::new(name),
                message: call,
            },
        );
    })
}

/// Calls the `gen_server` `server`, a pid of another node
/// (`gen_server:call(Pid, Request, Timeout)`): the process itself is monitored
/// (step 1 without the name), then steps 2–4 as [`call`]. This is how to call an
/// Erlang or Elixir server whose pid came in a message; a beamlet node serves
/// calls by name ([`export`](super::export)).
///
/// # Errors
///
/// As [`call`]: `NoProc` if the process is not alive, `Exit(reason)` if it
/// exited during the call (`Exit(NoConnection)` if its node is unreachable or
/// was lost), `Timeout`.
pub fn call_pid(server: Pid, request: &impl ToTerm, timeout: Duration) -> Result<Term, CallError> {
    let node_of = remote::parts(server).map(|parts| parts.node);
    if let Some(node) = &node_of
        && connected(node).is_err()
    {
        return Err(CallError::Exit(ExitReason::NoConnection));
    }
    let m = monitor(server);
    call_monitored(m, request, timeout, |call| {
        let _ = send_term(server, &call);
    })
}

/// Steps 2–4, the server monitored by `m`: the alias, the `$gen_call` handed to
/// `deliver`, the wait, and the clean-up whatever the outcome.
fn call_monitored(
    m: beamlet_runtime::MonitorRef,
    request: &impl ToTerm,
    timeout: Duration,
    deliver: impl FnOnce(Term),
) -> Result<Term, CallError> {
    let Ok(state) = node::state() else {
        demonitor(m, true);
        return Err(CallError::Exit(ExitReason::NoConnection));
    };
    let me = self_pid();
    let a = alias();
    let alias_ref = refs::alias_to_erl(me, a.tag(), &state.local);
    let tag = Term::ImproperList(vec![Term::atom("alias")], Box::new(Term::Ref(alias_ref)));
    deliver(Term::tuple([
        Term::atom("$gen_call"),
        Term::tuple([Term::Pid(me), tag.clone()]),
        request.to_term(),
    ]));
    let outcome = wait_reply(&tag, m, timeout);
    unalias(a);
    demonitor(m, true);
    outcome
}

/// Casts `request` to the `gen_server` `server` (`gen_server:cast(Pid,
/// Request)`): `{'$gen_cast', Request}`, connecting first if needed.
///
/// # Errors
///
/// As [`send_term`].
pub fn cast_pid(server: Pid, request: &impl ToTerm) -> Result<(), SendError<Term>> {
    send_term(
        server,
        &Term::tuple([Term::atom("$gen_cast"), request.to_term()]),
    )
}

fn wait_reply(
    tag: &Term,
    m: beamlet_runtime::MonitorRef,
    timeout: Duration,
) -> Result<Term, CallError> {
    let is_reply = |t: &Term| matches!(t.as_tuple(), Some([t0, _]) if t0 == tag);
    beamlet_runtime::receive! {
        reply: Term if is_reply(reply) => match reply {
            Term::Tuple(mut items) => Ok(items.pop().expect("a pair")),
            _ => unreachable!("matched a pair"),
        },
        down: Down if down.monitor == m => Err(match down.reason {
            ExitReason::NoProc => CallError::NoProc,
            reason => CallError::Exit(reason),
        }),
        after timeout => Err(CallError::Timeout),
    }
}

/// Casts `request` to the server `name` on each of `nodes` (`gen_server:abcast`).
/// Nodes that cannot be reached are skipped, as OTP's abcast does.
pub fn abcast(nodes: &[&str], name: &str, request: &impl ToTerm) {
    let request = request.to_term();
    for node in nodes {
        let _ = cast(name, node, &request);
    }
}

/// What a [`multi_call`] gathered (as `{Replies, BadNodes}`).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiCall {
    /// Each answering node's reply.
    pub replies: Vec<(Arc<str>, Term)>,
    /// The nodes that gave none.
    pub bad_nodes: Vec<Arc<str>>,
}

/// One node's answer to a [`multi_call`].
struct Answer(beamlet_runtime::Ref, Arc<str>, Result<Term, CallError>);

/// Calls the server `name` on each of `nodes` at once (`gen_server:multi_call`):
/// the replies by node, and the nodes that gave none (unreachable, no such
/// server, it exited, or no reply within `timeout`).
pub fn multi_call(
    nodes: &[&str],
    name: &str,
    request: &impl ToTerm,
    timeout: Duration,
) -> MultiCall {
    let me = self_pid();
    let tag = beamlet_runtime::Ref::new();
    let request = request.to_term();
    let mut bad = Vec::new();
    let mut asked = 0;
    for node in nodes {
        let target: Arc<str> = (*node).into();
        let (node, name, request) = (target.clone(), name.to_string(), request.clone());
        let caller = beamlet_runtime::spawn(move || {
            let outcome = call(&name, &node, &request, timeout);
            let _ = send(me, Answer(tag, node, outcome));
        });
        match caller {
            Ok(_) => asked += 1,
            Err(_) => bad.push(target),
        }
    }
    let mut replies = Vec::new();
    for _ in 0..asked {
        let Answer(_, node, outcome) = beamlet_runtime::receive_match(|a: &Answer| a.0 == tag);
        match outcome {
            Ok(reply) => replies.push((node, reply)),
            Err(_) => bad.push(node),
        }
    }
    MultiCall {
        replies,
        bad_nodes: bad,
    }
}
