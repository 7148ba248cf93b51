//! Remote calls of functions by module and name, both ways, as Erlang's `rpc`
//! and `erpc` make them.
//!
//! beamlet cannot run Erlang code, so the functions other nodes may call are the
//! Rust functions registered under a module and a name ([`register_function`]).
//!
//! # Calls into this node
//!
//! 1. OTP 23+ `rpc:call(Node, M, F, A)` and `erpc:call(...)` send a
//!    `SPAWN_REQUEST` of `erpc:execute_call(Ref, M, F, A)` (we advertise
//!    `DFLAG_SPAWN`; without it OTP 25 answers `{badrpc, notsup}` itself). The
//!    connection spawns a process, sets up the link and monitor the request asks
//!    for, answers `SPAWN_REPLY` with the pid, and only then lets it run (so its
//!    exit cannot overtake the monitor).
//! 2. The process runs the function and exits with `{Ref, return, Result}`, or
//!    `{Ref, throw | exit, Reason}`, or `{Ref, error, Reason, Stack}`, as
//!    `erpc:execute_call/4` does; the caller reads its monitor's `'DOWN'`. An
//!    unregistered function is `error:undef` with the stack
//!    `[{M, F, Args, []}]`, as Erlang's own. A panic kills the process with its
//!    panic as the exit reason, which the caller sees as an abnormal exit.
//! 3. A `SPAWN_REQUEST` of a registered function itself (`spawn(Node, M, F, A)`)
//!    runs it in the new process, which exits `normal` (or with the raised
//!    reason); anything else exits with `{undef, [{M, F, Args, []}]}`.
//! 4. The old `rex` path (`gen_server:call({rex, Node}, {call, M, F, A, Gl})`,
//!    used by other beamlet nodes and pre-23 Erlang) answers the result, or
//!    `{badrpc, {'EXIT', Reason}}`.
//!
//! # Calls out of this node
//!
//! [`call`] asks the other node's `rex` server, which every Erlang node and
//! every beamlet node runs: `{call, M, F, A, GroupLeader}`. The group leader is
//! a process of this node that prints what the function writes with `io` to
//! this OS process's stdout, as `rpc:call` prints on the caller's terminal.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use beamlet_runtime::{ExitReason, Pid, exit_pid, receive, receive_any, register, spawn};

use super::api;
use super::exports::{Export, reply_to};
use super::node::{self, NodeError, NodeState};
use super::term::{Atom, Term};
use crate::CallError;

/// How a registered function fails: an Erlang exception of that class and
/// reason.
#[derive(Debug, Clone, PartialEq)]
pub enum Raise {
    /// `error(Reason)`: a bug or bad arguments (`badarg`, `undef`, ...).
    Error(Term),
    /// `exit(Reason)`.
    Exit(Term),
    /// `throw(Value)`: a non-local return the caller catches.
    Throw(Term),
}

/// A function other nodes may call: it gets the call's arguments.
pub type Function = Arc<dyn Fn(&[Term]) -> Result<Term, Raise> + Send + Sync>;

/// The functions of one node, by `(module, function)`.
pub(crate) type Functions = HashMap<(String, String), Function>;

/// Makes `module:function(Args...)` callable from other nodes (`rpc:call`,
/// `erpc:call`, `spawn/4`); the function gets `Args` as a slice, whatever their
/// number. Registering the same name again replaces the function.
///
/// # Errors
///
/// [`NodeError::NotStarted`] if the runtime is not a node.
///
/// ```no_run
/// use beamlet::otp::dist::{self, NodeConfig, rpc, term::Term};
/// beamlet::run(|| {
///     dist::start(NodeConfig::new("rust@127.0.0.1").cookie("secret")).unwrap();
///     // From erl: rpc:call('rust@127.0.0.1', demo, add, [1, 2]) =:= 3.
///     rpc::register_function("demo", "add", |args| match args {
///         [Term::Int(a), Term::Int(b)] => Ok(Term::from_i128(i128::from(*a) + i128::from(*b))),
///         _ => Err(rpc::Raise::Error(Term::atom("badarg"))),
///     })
///     .unwrap();
/// });
/// ```
pub fn register_function(
    module: &str,
    function: &str,
    f: impl Fn(&[Term]) -> Result<Term, Raise> + Send + Sync + 'static,
) -> Result<(), NodeError> {
    let state = node::state()?;
    state.add_function(module, function, Arc::new(f));
    Ok(())
}

/// Why [`call`] has no result.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcError {
    /// The function failed there, or could not be called: `rpc`'s `{badrpc,
    /// Reason}` (`{'EXIT', {undef, Stack}}` for a missing function).
    BadRpc(Term),
    /// No answer within the timeout (a late one is dropped).
    Timeout,
    /// The node is not connected and cannot be connected, or the connection was
    /// lost during the call.
    NoConnection,
    /// The node runs no `rex` server.
    NoRex,
    /// This runtime is not a node.
    NotStarted,
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::BadRpc(reason) => write!(f, "badrpc: {reason}"),
            RpcError::Timeout => f.write_str("rpc timed out"),
            RpcError::NoConnection => f.write_str("rpc: no connection to the node"),
            RpcError::NoRex => f.write_str("rpc: the node runs no rex server"),
            RpcError::NotStarted => f.write_str("rpc: this runtime is not a node"),
        }
    }
}

impl std::error::Error for RpcError {}

/// Calls `module:function(args...)` on `node` and waits at most `timeout` for
/// the result (Erlang's `rpc:call/5`).
///
/// # Errors
///
/// [`RpcError`]: the function's failure as `BadRpc`, or why no answer came.
///
/// ```no_run
/// use std::time::Duration;
/// use beamlet::otp::dist::{self, NodeConfig, rpc, term::Term};
/// beamlet::run(|| {
///     dist::start(NodeConfig::new("rust@127.0.0.1").cookie("secret")).unwrap();
///     let list = Term::list([Term::Int(1), Term::Int(2)]);
///     let reversed = rpc::call("erl@127.0.0.1", "lists", "reverse", vec![list], Duration::from_secs(5));
///     assert_eq!(reversed.unwrap(), Term::list([Term::Int(2), Term::Int(1)]));
/// });
/// ```
pub fn call(
    node: &str,
    module: &str,
    function: &str,
    args: Vec<Term>,
    timeout: Duration,
) -> Result<Term, RpcError> {
    let state = node::state().map_err(|_| RpcError::NotStarted)?;
    let request = Term::tuple([
        Term::atom("call"),
        Term::atom(module),
        Term::atom(function),
        Term::List(args),
        Term::Pid(state.group_leader()),
    ]);
    match api::call("rex", node, &request, timeout) {
        Ok(reply) => match reply.as_tuple() {
            Some([tag, reason]) if tag.is_atom("badrpc") => Err(RpcError::BadRpc(reason.clone())),
            _ => Ok(reply),
        },
        Err(CallError::Timeout) => Err(RpcError::Timeout),
        Err(CallError::NoProc) => Err(RpcError::NoRex),
        Err(_) => Err(RpcError::NoConnection),
    }
}

/// What a call of a registered function came to.
enum Outcome {
    Return(Term),
    /// The exception, and the stack Erlang would show (`[]` for our functions,
    /// `[{M, F, Args, []}]` for a missing one).
    Raised(Raise, Term),
}

fn atom(name: &str) -> Term {
    Term::atom(name)
}

/// Runs the registered `module:function` on `args`, found in this process's
/// node (the lock is not held during the call).
fn apply(module: &Atom, function: &Atom, args: &[Term]) -> Outcome {
    let found = node::state()
        .ok()
        .and_then(|state| state.function(module.as_str(), function.as_str()));
    match found {
        Some(f) => match f(args) {
            Ok(v) => Outcome::Return(v),
            Err(raise) => Outcome::Raised(raise, Term::nil()),
        },
        None => {
            let frame = Term::tuple([
                Term::Atom(module.clone()),
                Term::Atom(function.clone()),
                Term::List(args.to_vec()),
                Term::nil(),
            ]);
            Outcome::Raised(Raise::Error(atom("undef")), Term::list([frame]))
        }
    }
}

/// The exit reason of `erpc:execute_call(Ref, M, F, A)` (step 2).
fn execute_call_reason(reference: Term, outcome: Outcome) -> Term {
    match outcome {
        Outcome::Return(v) => Term::tuple([reference, atom("return"), v]),
        Outcome::Raised(Raise::Throw(t), _) => Term::tuple([reference, atom("throw"), t]),
        Outcome::Raised(Raise::Exit(t), _) => Term::tuple([reference, atom("exit"), t]),
        Outcome::Raised(Raise::Error(t), stack) => {
            Term::tuple([reference, atom("error"), t, stack])
        }
    }
}

/// The exit reason of a process spawned to run a function (step 3), as an
/// Erlang process's: `normal`, or its uncaught exception.
fn spawned_reason(outcome: Outcome) -> Option<Term> {
    match outcome {
        Outcome::Return(_) => None,
        Outcome::Raised(Raise::Exit(t), _) => Some(t),
        Outcome::Raised(Raise::Error(t), stack) => Some(Term::tuple([t, stack])),
        Outcome::Raised(Raise::Throw(t), stack) => {
            Some(Term::tuple([Term::tuple([atom("nocatch"), t]), stack]))
        }
    }
}

/// The `rex` reply (step 4): the result, a thrown value as it is (`catch`'s
/// view), or `{badrpc, {'EXIT', Reason}}`.
fn rex_reply(outcome: Outcome) -> Term {
    let badrpc = |why: Term| Term::tuple([atom("badrpc"), Term::tuple([atom("EXIT"), why])]);
    match outcome {
        Outcome::Return(v) | Outcome::Raised(Raise::Throw(v), _) => v,
        Outcome::Raised(Raise::Exit(t), _) => badrpc(t),
        Outcome::Raised(Raise::Error(t), stack) => badrpc(Term::tuple([t, stack])),
    }
}

/// What a process spawned by a `SPAWN_REQUEST` runs (steps 1–3), given the
/// requested `{M, F, Arity}` and the argument list: the exit reason it ends
/// with, `None` for `normal`.
pub(crate) fn spawned_job(module: Atom, function: Atom, args: Vec<Term>) -> Option<Term> {
    if module == "erpc" && function == "execute_call" {
        if let [reference, Term::Atom(m), Term::Atom(f), Term::List(a)] = args.as_slice() {
            let outcome = apply(m, f, a);
            return Some(execute_call_reason(reference.clone(), outcome));
        }
    }
    spawned_reason(apply(&module, &function, &args))
}

/// The node's `rex` server (step 4), served as an export: each call is run by a
/// process of its own, as exported GenServer calls are.
struct Rex;

/// Starts `rex`: the export, and a process registered as `rex` for callers'
/// monitors to watch (a `gen_server:call` monitors the name first). A name
/// `rex` the application took already is left alone, and calls are then its.
pub(crate) fn start_rex(state: &NodeState) {
    let Ok(placeholder) = spawn(|| {
        loop {
            let _ = receive_any();
        }
    }) else {
        return;
    };
    if register("rex", placeholder).is_err() {
        log::warn!("dist: the name rex is taken: rpc calls into this node go to its owner");
        exit_pid(placeholder, ExitReason::Kill);
        return;
    }
    state.add_export("rex", Arc::new(Rex));
}

impl Export for Rex {
    fn handle(&self, _from: Pid, message: Term, connection: Pid) {
        let Some([op, caller, request]) = message.as_tuple() else {
            return;
        };
        let (
            Some([Term::Pid(from), tag]),
            Some([call, Term::Atom(m), Term::Atom(f), Term::List(a), _gl]),
        ) = (caller.as_tuple(), request.as_tuple())
        else {
            return log::warn!("dist: rex: not a {{call, M, F, A, Gl}} call: {message}");
        };
        if !op.is_atom("$gen_call") || !call.is_atom("call") {
            return;
        }
        let (from, tag, m, f, a) = (*from, tag.clone(), m.clone(), f.clone(), a.clone());
        let _ = spawn(move || {
            let reply = rex_reply(apply(&m, &f, &a));
            reply_to(from, tag, reply, connection);
        });
    }
}

/// The group leader of the calls this node makes (see [`call`]): answers the
/// `io` protocol's requests, printing `put_chars` to stdout and refusing input.
pub(crate) fn group_leader() {
    loop {
        let message = receive::<Term>();
        let Some([op, Term::Pid(from), reply_as, request]) = message.as_tuple() else {
            continue;
        };
        if !op.is_atom("io_request") {
            continue;
        }
        let answer = match io_output(request) {
            Some(text) => {
                print!("{text}");
                atom("ok")
            }
            None => Term::tuple([atom("error"), atom("enotsup")]),
        };
        let reply = Term::tuple([atom("io_reply"), reply_as.clone(), answer]);
        let _ = super::send_term(*from, &reply);
    }
}

/// The text of an output request: `{put_chars, Encoding, Chars}`,
/// `{put_chars, Chars}`, or `{put_chars, [Encoding,] io_lib, format, [Format,
/// Args]}` (what `io:format` sends) for the directives [`format`] knows.
fn io_output(request: &Term) -> Option<String> {
    match request.as_tuple()? {
        [op, _, chars] | [op, chars] if op.is_atom("put_chars") => chars_text(chars),
        [op, _, m, f, args] | [op, m, f, args]
            if op.is_atom("put_chars") && m.is_atom("io_lib") && f.is_atom("format") =>
        {
            match args.as_list()? {
                [fmt, args] => format(&chars_text(fmt)?, args.as_list()?),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Characters as Erlang's io writes them: a binary or a deep list of code
/// points and binaries.
fn chars_text(chars: &Term) -> Option<String> {
    let mut text = String::new();
    let mut pending = vec![chars];
    while let Some(t) = pending.pop() {
        match t {
            Term::Binary(bytes) => text.push_str(&String::from_utf8_lossy(bytes)),
            Term::Int(c) => text.push(char::from_u32(u32::try_from(*c).ok()?)?),
            Term::List(items) => pending.extend(items.iter().rev()),
            _ => return None,
        }
    }
    Some(text)
}

/// `io_lib:format(Format, Args)` for `~n`, `~~`, `~p`, `~w` (a term in Erlang
/// syntax, on one line), `~s` (characters) and `~b` (an integer); `None` for
/// any other directive or a missing argument, which `io:format` reports as
/// `badarg`.
fn format(fmt: &str, args: &[Term]) -> Option<String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            '~' => out.push('~'),
            'p' | 'w' => out.push_str(&args.next()?.to_string()),
            's' => out.push_str(&chars_text(args.next()?)?),
            'b' => out.push_str(&args.next()?.as_int()?.to_string()),
            _ => return None,
        }
    }
    args.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_take_erlangs_shapes() {
        let r = || Term::atom("ref");
        let ok = || Outcome::Return(Term::Int(3));
        let err = || Outcome::Raised(Raise::Error(atom("badarg")), Term::nil());
        assert_eq!(execute_call_reason(r(), ok()).to_string(), "{ref,return,3}");
        assert_eq!(
            execute_call_reason(r(), err()).to_string(),
            "{ref,error,badarg,[]}"
        );
        assert_eq!(rex_reply(ok()).to_string(), "3");
        assert_eq!(
            rex_reply(err()).to_string(),
            "{badrpc,{'EXIT',{badarg,[]}}}"
        );
        assert_eq!(spawned_reason(ok()), None);
        let thrown = Outcome::Raised(Raise::Throw(atom("x")), Term::nil());
        assert_eq!(
            spawned_reason(thrown).unwrap().to_string(),
            "{{nocatch,x},[]}"
        );
    }

    #[test]
    fn io_output_reads_binaries_and_deep_charlists() {
        let chars = Term::list([Term::Int('h' as i64), Term::list([Term::binary("i\n")])]);
        let request = Term::tuple([atom("put_chars"), atom("unicode"), chars]);
        assert_eq!(io_output(&request).as_deref(), Some("hi\n"));
        assert_eq!(io_output(&Term::tuple([atom("get_line"), atom("")])), None);
        let args = Term::list([
            Term::binary("n=~p ~s~n"),
            Term::list([Term::Int(1), Term::binary("x")]),
        ]);
        let request = Term::tuple([
            atom("put_chars"),
            atom("unicode"),
            atom("io_lib"),
            atom("format"),
            args,
        ]);
        assert_eq!(io_output(&request).as_deref(), Some("n=1 x\n"));
        assert_eq!(format("~x", &[]), None);
        assert_eq!(format("~p", &[]), None);
    }
}
