//! Calls from async code: [`call_async`] and [`call_async_timeout`] make the call
//! from a process spawned for it in the server's runtime (so the call has the full
//! semantics of [`call_timeout`](super::call_timeout): a monitor on the server, the
//! timeout, a late reply dropped) and resolve when that process has its answer. Any
//! executor can drive the future — a tokio task, `futures`' `block_on`, or a process
//! through `block_on_future`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use beamlet_runtime::{ProcessJoin, RuntimeHandle};

use super::{GenServer, ServerRef, call_timeout};
use crate::{CallError, behaviour::DEFAULT_CALL_TIMEOUT};

/// Calls `server` from async code, with the default timeout (5 s); resolves to the
/// reply or to the [`call`](super::call)'s typed error.
///
/// # Examples
///
/// ```
/// use beamlet::{Runtime, RuntimeHandle};
/// use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init};
/// struct Doubler;
/// impl GenServer for Doubler {
///     type Args = (); type Call = u32; type Reply = u32; type Cast = (); type Continue = ();
///     fn init(_: ()) -> Init<Self, ()> { Init::Ok(Doubler) }
///     fn handle_call(&mut self, n: u32, _: Caller<u32>) -> CallReply<u32, ()> {
///         CallReply::Reply(2 * n)
///     }
/// }
/// let rt = Runtime::builder().build().unwrap();
/// let server = rt.block_on(|| gen_server::start::<Doubler>(()).unwrap()).unwrap();
/// // From any async context: here a join of a process, driven by a plain thread.
/// let join = rt.handle().run(move || beamlet::block_on_future(gen_server::call_async(server, 21)));
/// assert_eq!(RuntimeHandle::wait(join.unwrap()).unwrap(), Ok(42));
/// rt.shutdown();
/// ```
pub fn call_async<S: GenServer>(server: ServerRef<S>, request: S::Call) -> CallFuture<S::Reply> {
    call_async_timeout(server, request, DEFAULT_CALL_TIMEOUT)
}

/// [`call_async`] with a timeout.
pub fn call_async_timeout<S: GenServer>(
    server: ServerRef<S>,
    request: S::Call,
    timeout: Duration,
) -> CallFuture<S::Reply> {
    let Some(handle) = RuntimeHandle::of(server.pid()) else {
        return CallFuture::failed(CallError::NoProc);
    };
    match handle.run(move || call_timeout(server, request, timeout)) {
        Ok(join) => CallFuture(State::Calling(join)),
        Err(_) => CallFuture::failed(CallError::NoProc),
    }
}

/// The reply to a call made from async code ([`call_async`]). Dropping it before it
/// resolves abandons the call: the reply, when it comes, is dropped.
#[derive(Debug)]
#[must_use = "the reply is lost unless the future is awaited"]
pub struct CallFuture<R>(State<R>);

#[derive(Debug)]
enum State<R> {
    Calling(ProcessJoin<Result<R, CallError>>),
    Failed(Option<CallError>),
}

impl<R> CallFuture<R> {
    fn failed(e: CallError) -> CallFuture<R> {
        CallFuture(State::Failed(Some(e)))
    }
}

impl<R> Future for CallFuture<R> {
    type Output = Result<R, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `ProcessJoin` and `Option` are `Unpin`, so the state may be reached mutably.
        match &mut self.get_mut().0 {
            State::Calling(join) => Pin::new(join).poll(cx).map(|r| match r {
                Ok(reply) => reply,
                // The calling process itself was killed: only by the runtime's shutdown.
                Err(reason) => Err(CallError::Exit(reason)),
            }),
            State::Failed(e) => Poll::Ready(Err(e.take().expect("polled after completion"))),
        }
    }
}
