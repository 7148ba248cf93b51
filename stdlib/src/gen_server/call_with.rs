//! Calls whose request carries its own typed reply address ([`call_with`]): a
//! server with several kinds of call, each with its own reply type, and no reply
//! enum to unpack.
//!
//! The rules are in [`call_with`]'s documentation.

use std::convert::Infallible;
use std::time::Duration;

use super::server::CallMsg;
use super::{CallError, Caller, DEFAULT_CALL_TIMEOUT, GenServer, ServerRef};
use crate::behaviour;

/// Calls a server whose requests carry their reply address, waiting up to
/// [`DEFAULT_CALL_TIMEOUT`] for the reply of type `T`:
///
/// 1. The server declares `type Reply = Infallible` and a request enum whose
///    variants each end with a `Caller<T>`, `T` that variant's reply type.
/// 2. [`call_with`] builds the request around the call's reply address (as a
///    `Caller<T>`; a variant's constructor is such a function, `Req::Len` for
///    `Len(Caller<usize>)`), sends it as an ordinary call and waits for a `T`.
/// 3. `handle_call` answers with [`reply`](super::reply)`(caller, value)` and
///    returns a no-reply result: with `Reply = Infallible` a `CallReply::Reply` can
///    not even be written, so the call is answered once, through its own `Caller`.
///    (The `Caller<Infallible>` handed to `handle_call` names the same caller and
///    can only give its pid.)
///
/// Everything else is an ordinary call: its timeout, `CallError`s, a reply later
/// from another process (keep the `Caller<T>`), `WrongType` from a server of
/// another type.
///
/// # Errors
///
/// As [`call`](super::call).
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use std::convert::Infallible;
/// use beamlet::otp::gen_server::{self, reply, CallReply, Caller, GenServer, Init};
///
/// /// Three kinds of call, each with its own reply type.
/// enum Req {
///     Put(String, u64, Caller<Option<u64>>),
///     Get(String, Caller<Option<u64>>),
///     Len(Caller<usize>),
/// }
///
/// struct Store(HashMap<String, u64>);
///
/// impl GenServer for Store {
///     type Args = ();
///     type Call = Req;
///     type Reply = Infallible;
///     type Cast = Infallible;
///     type Continue = Infallible;
///
///     fn init((): ()) -> Init<Self, Infallible> {
///         Init::Ok(Store(HashMap::new()))
///     }
///
///     fn handle_call(&mut self, req: Req, _: Caller<Infallible>) -> CallReply<Infallible, Infallible> {
///         match req {
///             Req::Put(k, v, caller) => reply(caller, self.0.insert(k, v)),
///             Req::Get(k, caller) => reply(caller, self.0.get(&k).copied()),
///             Req::Len(caller) => reply(caller, self.0.len()),
///         }
///         CallReply::NoReply
///     }
/// }
///
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let s = gen_server::start_link::<Store>(()).unwrap();
///     assert_eq!(gen_server::call_with(s, |c| Req::Put("a".into(), 1, c)), Ok(None));
///     assert_eq!(gen_server::call_with(s, |c| Req::Put("a".into(), 2, c)), Ok(Some(1)));
///     assert_eq!(gen_server::call_with(s, |c| Req::Get("a".into(), c)), Ok(Some(2)));
///     let n: usize = gen_server::call_with(s, Req::Len).unwrap();
///     assert_eq!(n, 1);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn call_with<S, T>(
    server: ServerRef<S>,
    request: impl FnOnce(Caller<T>) -> S::Call,
) -> Result<T, CallError>
where
    S: GenServer<Reply = Infallible>,
    T: Send + 'static,
{
    call_with_timeout(server, request, DEFAULT_CALL_TIMEOUT)
}

/// [`call_with`] waiting up to `timeout` (`Duration::MAX` waits for ever).
///
/// # Errors
///
/// As [`call`](super::call).
///
/// See [`call_with`] for an example.
pub fn call_with_timeout<S, T>(
    server: ServerRef<S>,
    request: impl FnOnce(Caller<T>) -> S::Call,
    timeout: Duration,
) -> Result<T, CallError>
where
    S: GenServer<Reply = Infallible>,
    T: Send + 'static,
{
    let envelope = |from: Caller<T>| CallMsg {
        from: from.retype::<Infallible>(),
        request: request(from),
    };
    behaviour::call_server(server.pid(), envelope, Some(timeout))
}
