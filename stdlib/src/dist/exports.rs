//! Serving other nodes' `gen_server:call` and `cast` with a beamlet [`GenServer`]
//! (see [`export`]).
//!
//! OTP 24+ sends a call to `{Name, Node}` as `MONITOR_P` to the name, then
//! `REG_SEND` of `{'$gen_call', {From, [alias | Mref]}, Request}`, and waits for
//! `{[alias | Mref], Reply}` sent to the alias `Mref` (or, from older nodes, a plain
//! reference as the tag and the reply sent to `From`). For an exported name the
//! connection hands such a message here:
//!
//! 1. The request is decoded into the server's `Call` type ([`FromTerm`]); a
//!    request that does not decode is logged and dropped, and the caller's own
//!    timeout or monitor ends its wait, as a call to a server that crashed would.
//! 2. A new process makes the local call (with no timeout: the remote caller has
//!    its own, and its alias drops a late reply), so a server that replies later
//!    (`NoReply` then `reply`) blocks no one else.
//! 3. The reply ([`ToTerm`]) goes back through the connection: by `ALIAS_SEND` to
//!    the caller's alias, or to `From` for an old-style tag.
//! 4. `{'$gen_cast', Request}` becomes a local `cast`; anything else sent to the
//!    name reaches the server's `handle_info` as a [`Term`].

use std::marker::PhantomData;
use std::time::Duration;

use beamlet_runtime::{Pid, self_pid, send, spawn, whereis};

use super::connection::Request;
use super::node::{self, NodeError};
use super::term::{FromTerm, Term, ToTerm};
use crate::gen_server::{self, GenServer, ServerRef};

/// What the connection calls for a message to an exported name.
pub(crate) trait Export: Send + Sync {
    fn handle(&self, from: Pid, message: Term, connection: Pid);
}

struct ServerExport<S> {
    name: String,
    _server: PhantomData<fn() -> S>,
}

/// No timeout, as far as the local call is concerned (step 2).
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl<S> Export for ServerExport<S>
where
    S: GenServer,
    S::Call: FromTerm,
    S::Reply: ToTerm,
    S::Cast: FromTerm,
{
    fn handle(&self, _from: Pid, message: Term, connection: Pid) {
        let name = self.name.clone();
        match message.as_tuple() {
            Some([op, caller, request]) if op.is_atom("$gen_call") => {
                let Some([Term::Pid(from), tag]) = caller.as_tuple() else {
                    return log::warn!("dist: {name}: a $gen_call without {{From, Tag}}");
                };
                let (from, tag) = (*from, tag.clone());
                let Ok(request) = S::Call::from_term(request).map_err(|e| {
                    log::warn!(
                        "dist: {name}: a call that is not a {}: {e}",
                        std::any::type_name::<S::Call>()
                    )
                }) else {
                    return;
                };
                let _ = spawn(move || {
                    let Some(server) = ServerRef::<S>::whereis(name.as_str()) else {
                        return;
                    };
                    if let Ok(reply) = gen_server::call_timeout(server, request, FOREVER) {
                        reply_to(from, tag, reply.to_term(), connection);
                    }
                });
            }
            Some([op, request]) if op.is_atom("$gen_cast") => match S::Cast::from_term(request) {
                Ok(cast) => gen_server::cast_named::<S>(name.as_str(), cast),
                Err(e) => log::warn!("dist: {name}: a cast that does not decode: {e}"),
            },
            _ => {
                if let Some(pid) = whereis(&name) {
                    let _ = send(pid, message);
                }
            }
        }
    }
}

/// Step 3: `{Tag, Reply}` to the caller's alias, or to the caller.
pub(crate) fn reply_to(from: Pid, tag: Term, reply: Term, connection: Pid) {
    let alias = match &tag {
        Term::ImproperList(head, tail) if matches!(head.as_slice(), [a] if a.is_atom("alias")) => {
            match &**tail {
                Term::Ref(r) => Some(r.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    let message = Term::tuple([tag, reply]);
    match alias {
        Some(alias) => {
            let _ = send(
                connection,
                Request::AliasSend {
                    from: self_pid(),
                    alias,
                    message,
                },
            );
        }
        None => {
            let _ = send(from, message);
        }
    }
}

/// Lets other nodes call and cast the server of type `S` registered locally as
/// `name` (as `GenServer.call({name, node}, request)` from Elixir, or
/// `gen_server:call({Name, Node}, Request)` from Erlang). Its `Call` and `Cast`
/// types are decoded from the request term, its `Reply` encoded.
///
/// # Errors
///
/// [`NodeError::NotStarted`] if the runtime is not a node.
pub fn export<S>(name: &str) -> Result<(), NodeError>
where
    S: GenServer,
    S::Call: FromTerm,
    S::Reply: ToTerm,
    S::Cast: FromTerm,
{
    let state = node::state()?;
    let export = ServerExport::<S> {
        name: name.to_string(),
        _server: PhantomData,
    };
    state.add_export(name, std::sync::Arc::new(export));
    Ok(())
}
