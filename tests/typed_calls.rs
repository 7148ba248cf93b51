//! `gen_server::call_with`: requests that carry the reply address of their own
//! reply type (`type Reply = Infallible`), answered now, later from another
//! process, or not in time; and refused by a server of another type.

use std::convert::Infallible;
use std::time::Duration;

use beamlet::otp::gen_server::{
    self, CallError, CallReply, Caller, GenServer, Init, ServerRef, reply,
};
use beamlet::{receive, spawn};

mod common;
use common::run;

/// A bank account with calls of three reply types.
struct Account {
    balance: u64,
}

enum Req {
    Deposit(u64, Caller<u64>),
    Withdraw(u64, Caller<Result<u64, Short>>),
    History(Caller<Vec<&'static str>>),
    /// Replied to later by a helper process, after it gets `()`.
    Audit(Caller<String>),
    /// Never replied to.
    Ignore(Caller<()>),
}

#[derive(Debug, PartialEq)]
struct Short {
    missing: u64,
}

impl GenServer for Account {
    type Args = u64;
    type Call = Req;
    type Reply = Infallible;
    type Cast = Infallible;
    type Continue = Infallible;

    fn init(balance: u64) -> Init<Self, Infallible> {
        Init::Ok(Account { balance })
    }

    fn handle_call(
        &mut self,
        req: Req,
        _: Caller<Infallible>,
    ) -> CallReply<Infallible, Infallible> {
        match req {
            Req::Deposit(n, caller) => {
                self.balance += n;
                reply(caller, self.balance);
            }
            Req::Withdraw(n, caller) => match self.balance.checked_sub(n) {
                Some(left) => {
                    self.balance = left;
                    reply(caller, Ok(left));
                }
                None => {
                    let missing = n - self.balance;
                    reply(caller, Err(Short { missing }));
                }
            },
            Req::History(caller) => reply(caller, vec!["opened"]),
            Req::Audit(caller) => {
                let balance = self.balance;
                let helper = spawn(move || {
                    receive::<()>();
                    reply(caller, format!("audited {balance}"));
                })
                .unwrap();
                beamlet::send(helper, ()).unwrap();
            }
            // Dropped unanswered: the caller times out.
            Req::Ignore(caller) => {
                let _ = caller;
            }
        }
        CallReply::NoReply
    }
}

#[test]
fn each_kind_of_call_returns_its_own_reply_type() {
    let got = run(|| {
        let a = gen_server::start_link::<Account>(10).unwrap();
        let deposited: u64 = gen_server::call_with(a, |c| Req::Deposit(5, c)).unwrap();
        let ok = gen_server::call_with(a, |c| Req::Withdraw(12, c)).unwrap();
        let short = gen_server::call_with(a, |c| Req::Withdraw(10, c)).unwrap();
        let history = gen_server::call_with(a, Req::History).unwrap();
        (deposited, ok, short, history)
    });
    assert_eq!(got, (15, Ok(3), Err(Short { missing: 7 }), vec!["opened"]));
}

#[test]
fn a_kept_caller_is_answered_later_from_another_process() {
    let got = run(|| {
        let a = gen_server::start_link::<Account>(4).unwrap();
        gen_server::call_with(a, Req::Audit)
    });
    assert_eq!(got, Ok("audited 4".to_string()));
}

#[test]
fn an_unanswered_typed_call_times_out() {
    let got = run(|| {
        let a = gen_server::start_link::<Account>(0).unwrap();
        let r = gen_server::call_with_timeout(a, Req::Ignore, Duration::from_millis(10));
        // The server is fine and answers the next call.
        (r, gen_server::call_with(a, |c| Req::Deposit(1, c)))
    });
    assert_eq!(got, (Err(CallError::Timeout), Ok(1)));
}

/// A server of another type, for the refusal.
struct Other;

impl GenServer for Other {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = Infallible;
    type Continue = Infallible;

    fn init((): ()) -> Init<Self, Infallible> {
        Init::Ok(Other)
    }
}

#[test]
fn a_typed_call_to_a_server_of_another_type_is_refused() {
    let got = run(|| {
        let other = gen_server::start_link::<Other>(()).unwrap();
        let fake = ServerRef::<Account>::from_pid(other.pid());
        gen_server::call_with(fake, Req::History)
    });
    assert!(matches!(got, Err(CallError::WrongType { .. })));
}
