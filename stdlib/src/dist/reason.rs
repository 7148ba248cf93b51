//! Exit reasons across nodes: [`ExitReason`] as the Erlang term a peer expects, and
//! back.
//!
//! | beamlet | Erlang |
//! |---|---|
//! | `Normal`, `Kill`, `Killed`, `Shutdown`, `NoProc`, `NoConnection`, `SystemLimit` | `normal`, `kill`, `killed`, `shutdown`, `noproc`, `noconnection`, `system_limit` |
//! | `ShutdownWith(t)` | `{shutdown, T}` |
//! | `Panic(p)` | `{panic, <<"message">>}` |
//! | `StackOverflow`, `MailboxOverflow` | `stack_overflow`, `mailbox_overflow` |
//! | `Custom(t)` where `t` is a [`Term`] | the term itself |
//! | `Custom(t)` of another type | its `Debug` text as a binary |
//!
//! Read back, the atoms give their variants, `{shutdown, T}` gives `ShutdownWith`
//! holding the [`Term`] `T`, and any other term `Custom` holding it, so a trapping
//! process can match it with `reason.custom_ref::<Term>()`.

use std::sync::Arc;

use beamlet_runtime::ExitReason;

use super::term::Term;

/// The Erlang term for `reason`.
pub fn to_term(reason: &ExitReason) -> Term {
    let atom = Term::atom;
    match reason {
        ExitReason::Normal => atom("normal"),
        ExitReason::Kill => atom("kill"),
        ExitReason::Killed => atom("killed"),
        ExitReason::Shutdown => atom("shutdown"),
        ExitReason::ShutdownWith(t) => Term::tuple([atom("shutdown"), any_to_term(&**t)]),
        ExitReason::Panic(p) => Term::tuple([atom("panic"), Term::binary(p.message())]),
        ExitReason::StackOverflow => atom("stack_overflow"),
        ExitReason::SystemLimit => atom("system_limit"),
        ExitReason::NoProc => atom("noproc"),
        ExitReason::NoConnection => atom("noconnection"),
        ExitReason::MailboxOverflow => atom("mailbox_overflow"),
        ExitReason::Custom(t) => any_to_term(&**t),
        #[allow(unreachable_patterns, reason = "ExitReason may grow")]
        other => Term::binary(format!("{other:?}")),
    }
}

fn any_to_term(t: &dyn beamlet_runtime::Term) -> Term {
    match t.as_any().downcast_ref::<Term>() {
        Some(term) => term.clone(),
        None => Term::binary(format!("{t:?}")),
    }
}

/// The exit reason a term from a peer stands for.
pub fn from_term(term: Term) -> ExitReason {
    if let Some(a) = term.as_atom() {
        match a.as_str() {
            "normal" => return ExitReason::Normal,
            "kill" => return ExitReason::Kill,
            "killed" => return ExitReason::Killed,
            "shutdown" => return ExitReason::Shutdown,
            "noproc" => return ExitReason::NoProc,
            "noconnection" => return ExitReason::NoConnection,
            "system_limit" => return ExitReason::SystemLimit,
            "stack_overflow" => return ExitReason::StackOverflow,
            "mailbox_overflow" => return ExitReason::MailboxOverflow,
            _ => {}
        }
    }
    if let Some([tag, inner]) = term.as_tuple()
        && tag.is_atom("shutdown")
    {
        return ExitReason::ShutdownWith(Arc::new(inner.clone()));
    }
    ExitReason::Custom(Arc::new(term))
}
