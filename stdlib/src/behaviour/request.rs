//! Asynchronous requests (OTP 25's `send_request` / `wait_response` /
//! `receive_response` / `check_response`): a call split in two, so that a process
//! can have many requests out at once, to one server or several, and collect the
//! replies in any order, or as messages in its own loop.
//!
//! # Request protocol
//!
//! 1. [`send_request`] takes a [`mailbox_mark`](beamlet_runtime::mailbox_mark) (the reply and the `Down` come
//!    after it), monitors the server (a dead or unknown server yields a `Down` with
//!    `NoProc` at once) and creates an [`Alias`] for the reply, then sends the
//!    request carrying a [`Caller`] (the alias, the monitor's reference as the tag),
//!    as [`call`](super::call) does. It never blocks and never fails: a request
//!    refused by a full mailbox is reported by a `Failed` message the requester
//!    sends itself, so every error appears where the response is looked for.
//! 2. The response is the reply with the request's tag, the monitor's `Down`
//!    ([`CallError::NoProc`], or [`CallError::Exit`] with the server's reason), or
//!    a `Failed` message ([`CallError::MailboxFull`], or [`CallError::WrongType`]
//!    from a behaviour that takes no requests of that type).
//! 3. Once a response is taken ([`wait_response`], [`receive_response`],
//!    [`check_response`], or a [`ReqIdCollection`]'s), the request is finished: the
//!    alias is deactivated first (no later reply can be delivered), then the
//!    monitor removed with any `Down` it already queued.
//! 4. On timeout [`wait_response`] leaves the request as it is (wait again later);
//!    [`receive_response`] abandons it: alias off, monitor off, and a reply that came
//!    in meanwhile is still taken (as OTP), so no late reply ever reaches the
//!    mailbox.
//! 5. A collection holds requests of one reply type with a label each; its waits
//!    take the oldest response of any of them from the whole mailbox (their marks
//!    supersede one another, so there is no single point to start from).
//!
//! A request never awaited keeps its monitor and alias until the process exits (as
//! an unawaited OTP request id): abandon it with `receive_response(req,
//! Duration::ZERO)`.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use beamlet_runtime::{
    Alias, Down, ExitReason, Headed, MailboxMark, Message, MonitorRef, Pid, SendError, demonitor,
    message_queue_len, receive_select, send_headed, unalias,
};

use super::{CallError, CallHead, Caller, Failed, Reply, bounded, wait_down_for};

/// The handle of one request sent with [`send_request`] (OTP's `request_id()`):
/// wait for its response with [`wait_response`] or [`receive_response`], or
/// recognise it among received messages with [`check_response`]. It belongs to the
/// process that sent the request: only that process receives the response.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::behaviour::{Caller, reply};
/// use beamlet::otp::behaviour::request::{receive_response, send_request};
/// use beamlet::{receive, spawn, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// let r = rt.block_on(|| {
///     let server = spawn(|| {
///         let from = receive::<Caller<u32>>();
///         reply(from, 42);
///     }).unwrap();
///     let req = send_request::<Caller<u32>, u32>(server, |from| from);
///     assert_eq!(req.server(), server);
///     receive_response(req, Duration::from_secs(5))
/// }).unwrap();
/// assert_eq!(r, Ok(42));
/// rt.shutdown();
/// ```
pub struct RequestId<R> {
    mref: MonitorRef,
    alias: Alias,
    server: Pid,
    mark: MailboxMark,
    _reply: PhantomData<fn() -> R>,
}

impl<R> Clone for RequestId<R> {
    fn clone(&self) -> Self {
        RequestId { ..*self }
    }
}

impl<R> PartialEq for RequestId<R> {
    fn eq(&self, other: &Self) -> bool {
        self.mref == other.mref
    }
}

impl<R> Eq for RequestId<R> {}

impl<R> std::hash::Hash for RequestId<R> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.mref.hash(state);
    }
}

impl<R> fmt::Debug for RequestId<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({}, {:?})", self.server, self.mref)
    }
}

impl<R> RequestId<R> {
    /// The server the request went to (the pid a name resolved to, or
    /// [`Pid::NO_PROCESS`] for a name nobody had): OTP's `ServerRef` in
    /// `{error, {Reason, ServerRef}}`.
    ///
    /// See [`RequestId`] for an example.
    pub fn server(&self) -> Pid {
        self.server
    }
}

/// Sends a request to `server` without waiting (see the module's protocol, step 1):
/// the message built by `request` from the reply address. Works on a dead server
/// too; the error comes with the response.
///
/// See [`RequestId`] for an example.
pub fn send_request<M, R>(server: Pid, request: impl FnOnce(Caller<R>) -> M) -> RequestId<R>
where
    M: Send + 'static,
    R: Send + 'static,
{
    send_via(server, request, beamlet_runtime::send)
}

/// [`send_request`] with a behaviour's call envelope, sent with its head readable
/// (see [`call_server`](super::call_server)).
pub(crate) fn send_server_request<M, R>(
    server: Pid,
    request: impl FnOnce(Caller<R>) -> M,
) -> RequestId<R>
where
    M: Headed<Head = CallHead>,
    R: Send + 'static,
{
    send_via(server, request, send_headed)
}

fn send_via<M, R>(
    server: Pid,
    request: impl FnOnce(Caller<R>) -> M,
    send: impl FnOnce(Pid, M) -> Result<(), SendError<M>>,
) -> RequestId<R>
where
    M: Send + 'static,
    R: Send + 'static,
{
    let (mark, mref, from) = super::reply_address(server);
    // A send to a dead server fails, but the monitor already queued its `Down`. A
    // request shed by a full mailbox would never be answered: say so through the
    // alias (never shed), for whoever looks for the response.
    if let Err(SendError::MailboxFull(_)) = send(server, request(from)) {
        let error = CallError::MailboxFull;
        let _ = from.alias.send(Failed { tag: mref, error });
    }
    RequestId {
        mref,
        alias: from.alias,
        server,
        mark,
        _reply: PhantomData,
    }
}

/// The request a message answers, if it is a response (reply, `Failed` or `Down`)
/// to a request of reply type `R`.
fn tag_of<R: 'static>(m: &Message) -> Option<MonitorRef> {
    if let Some(r) = m.downcast_ref::<Reply<R>>() {
        return Some(r.tag);
    }
    if let Some(f) = m.downcast_ref::<Failed>() {
        return Some(f.tag);
    }
    m.downcast_ref::<Down>().map(|d| d.monitor)
}

/// The outcome a response carries (`msg` is one: see [`tag_of`]).
fn outcome<R: 'static>(msg: Message) -> Result<R, CallError> {
    let msg = match msg.downcast::<Reply<R>>() {
        Ok(r) => return Ok(r.value),
        Err(m) => m,
    };
    let msg = match msg.downcast::<Failed>() {
        Ok(f) => return Err(f.error),
        Err(m) => m,
    };
    match msg.downcast::<Down>() {
        Ok(Down {
            reason: ExitReason::NoProc,
            ..
        }) => Err(CallError::NoProc),
        Ok(d) => Err(CallError::Exit(d.reason)),
        Err(_) => unreachable!("only responses are decoded"),
    }
}

/// Ends a request (steps 3 and 4): alias off first, so nothing more is delivered
/// through it; then the monitor, and a `Down` it queued (after the request's mark,
/// so O(1) while the mark holds; nothing to look for in an empty mailbox).
fn finish<R>(req: &RequestId<R>) {
    unalias(req.alias);
    demonitor(req.mref, false);
    if message_queue_len() > 0 {
        let _ = wait_down_for(req.mark, req.mref, Some(Duration::ZERO));
    }
}

/// Gives up a request whose wait timed out (step 4); returns a reply (or a
/// `Failed`) that came in before the alias went off, as OTP's `receive_response`.
fn abandon<R: Send + 'static>(req: &RequestId<R>) -> Option<Result<R, CallError>> {
    unalias(req.alias);
    demonitor(req.mref, false);
    let answer = |m: &Message| !m.is::<Down>() && tag_of::<R>(m) == Some(req.mref);
    let late = receive_select(Some(req.mark), answer, Some(Duration::ZERO));
    let _ = wait_down_for(req.mark, req.mref, Some(Duration::ZERO));
    late.map(outcome)
}

/// Waits up to `timeout` (`Duration::MAX`: for ever) for the response to `req` (as
/// `gen_server:wait_response/2`). On timeout the request stays alive: wait again,
/// or check it later. Once a response was taken the request is finished, and a
/// further wait only times out.
///
/// # Errors
///
/// [`CallError::Timeout`] (the request is still out), `NoProc` (the server was not
/// running), `Exit` (it exited before replying, with its reason), `MailboxFull` (its
/// mailbox limit refused the request).
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::behaviour::{CallError, Caller, reply};
/// use beamlet::otp::behaviour::request::{send_request, wait_response};
/// use beamlet::{receive, send, spawn, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let server = spawn(|| {
///         let from = receive::<Caller<u32>>();
///         receive::<()>(); // answers only when told
///         reply(from, 7);
///     }).unwrap();
///     let req = send_request::<Caller<u32>, u32>(server, |from| from);
///     assert_eq!(wait_response(&req, Duration::from_millis(10)), Err(CallError::Timeout));
///     send(server, ()).unwrap();
///     assert_eq!(wait_response(&req, Duration::from_secs(5)), Ok(7));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn wait_response<R: Send + 'static>(
    req: &RequestId<R>,
    timeout: Duration,
) -> Result<R, CallError> {
    let mine = |m: &Message| tag_of::<R>(m) == Some(req.mref);
    let msg =
        receive_select(Some(req.mark), mine, bounded(Some(timeout))).ok_or(CallError::Timeout)?;
    finish(req);
    outcome(msg)
}

/// Waits up to `timeout` (`Duration::MAX`: for ever) for the response to `req` (as
/// `gen_server:receive_response/2`); on timeout the request is abandoned: a reply
/// that comes later is dropped by the runtime, never reaching the mailbox.
///
/// # Errors
///
/// As [`wait_response`], except that after `Timeout` the request is gone.
///
/// See [`RequestId`] for an example.
pub fn receive_response<R: Send + 'static>(
    req: RequestId<R>,
    timeout: Duration,
) -> Result<R, CallError> {
    match wait_response(&req, timeout) {
        Err(CallError::Timeout) => abandon(&req).unwrap_or(Err(CallError::Timeout)),
        done => done,
    }
}

/// What [`check_response`] found in a message.
///
/// ```
/// use beamlet::otp::behaviour::request::CheckResponse;
/// let c: CheckResponse<u32> = CheckResponse::Response(Ok(1));
/// assert!(matches!(c, CheckResponse::Response(Ok(1))));
/// ```
#[must_use]
#[derive(Debug)]
pub enum CheckResponse<R> {
    /// The message was the request's response (OTP's `{reply, R}` or `{error, ..}`);
    /// the request is finished.
    Response(Result<R, CallError>),
    /// The message is not this request's response (OTP's `no_reply`): it is handed
    /// back.
    NoReply(Message),
}

/// Whether `msg`, a message already received (in a `handle_info`, or by
/// `receive_any`), is the response to `req` (as `gen_server:check_response/2`).
///
/// ```
/// use beamlet::otp::behaviour::{CallError, Caller, reply};
/// use beamlet::otp::behaviour::request::{check_response, send_request, CheckResponse};
/// use beamlet::{receive, receive_any, self_pid, send, spawn, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let server = spawn(|| reply(receive::<Caller<u32>>(), 5)).unwrap();
///     send(self_pid(), "unrelated").unwrap();
///     let req = send_request::<Caller<u32>, u32>(server, |from| from);
///     let CheckResponse::NoReply(m) = check_response(receive_any(), &req) else { panic!() };
///     assert!(m.is::<&str>());
///     assert!(matches!(check_response(receive_any(), &req), CheckResponse::Response(Ok(5))));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn check_response<R: Send + 'static>(msg: Message, req: &RequestId<R>) -> CheckResponse<R> {
    if tag_of::<R>(&msg) != Some(req.mref) {
        return CheckResponse::NoReply(msg);
    }
    finish(req);
    CheckResponse::Response(outcome(msg))
}

/// Requests with a label each (OTP's `request_id_collection()`), all of reply type
/// `R`, to one server or several: add with [`add`](Self::add) (`reqids_add/3`) or
/// a behaviour's `send_request_labeled` (`send_request/4`), then take responses in
/// the order they come with [`wait_response`](Self::wait_response),
/// [`receive_response`](Self::receive_response) or
/// [`check_response`](Self::check_response). OTP returns a new collection from
/// each; here the collection is changed in place.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::behaviour::{Caller, reply};
/// use beamlet::otp::behaviour::request::{send_request, CollectionResponse, ReqIdCollection};
/// use beamlet::{receive, spawn, Runtime};
/// let rt = Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let echo = || spawn(|| { let (f, n) = receive::<(Caller<u32>, u32)>(); reply(f, n); }).unwrap();
///     let mut reqs = ReqIdCollection::new();
///     for n in 0..3u32 {
///         reqs.add(send_request(echo(), |f| (f, n)), n);
///     }
///     assert_eq!(reqs.len(), 3);
///     assert_eq!(reqs.to_list().len(), 3);
///     let mut sum = 0;
///     while let CollectionResponse::Response(r, label) = reqs.receive_response(Duration::from_secs(5), true) {
///         assert_eq!(r, Ok(label));
///         sum += label;
///     }
///     assert_eq!((sum, reqs.len()), (3, 0));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub struct ReqIdCollection<R, L> {
    requests: HashMap<MonitorRef, (RequestId<R>, L)>,
}

impl<R, L> Default for ReqIdCollection<R, L> {
    fn default() -> Self {
        ReqIdCollection {
            requests: HashMap::new(),
        }
    }
}

impl<R, L: fmt::Debug> fmt::Debug for ReqIdCollection<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.requests.values()).finish()
    }
}

/// What a wait on a [`ReqIdCollection`] gives.
///
/// ```
/// use beamlet::otp::behaviour::request::CollectionResponse;
/// let c: CollectionResponse<u32, &str> = CollectionResponse::NoRequest;
/// assert!(matches!(c, CollectionResponse::NoRequest));
/// ```
#[must_use]
#[derive(Debug)]
pub enum CollectionResponse<R, L> {
    /// The response to the request with this label (OTP's `{Response, Label,
    /// NewCollection}`).
    Response(Result<R, CallError>, L),
    /// No response in time (OTP's `timeout`).
    Timeout,
    /// The collection is empty (OTP's `no_request`).
    NoRequest,
}

/// What [`ReqIdCollection::check_response`] found in a message.
///
/// ```
/// use beamlet::otp::behaviour::request::CollectionCheck;
/// let c: CollectionCheck<u32, &str> = CollectionCheck::Response(Ok(1), "a");
/// assert!(matches!(c, CollectionCheck::Response(Ok(1), "a")));
/// ```
#[must_use]
#[derive(Debug)]
pub enum CollectionCheck<R, L> {
    /// The message was the response to the request with this label.
    Response(Result<R, CallError>, L),
    /// The message answers none of the requests (OTP's `no_reply`): handed back.
    NoReply(Message),
    /// The collection is empty (OTP's `no_request`): the message is handed back.
    NoRequest(Message),
}

impl<R: Send + 'static, L> ReqIdCollection<R, L> {
    /// An empty collection (as `reqids_new/0`).
    ///
    /// See [`ReqIdCollection`] for an example.
    pub fn new() -> ReqIdCollection<R, L> {
        ReqIdCollection::default()
    }

    /// Adds a request with its label (as `reqids_add/3`).
    ///
    /// # Panics
    ///
    /// If the request is already in the collection (OTP's `badarg`).
    ///
    /// See [`ReqIdCollection`] for an example.
    pub fn add(&mut self, req: RequestId<R>, label: L) {
        let old = self.requests.insert(req.mref, (req, label));
        assert!(old.is_none(), "the request is already in the collection");
    }

    /// The number of requests (as `reqids_size/1`).
    ///
    /// See [`ReqIdCollection`] for an example.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// `true` if no request is in the collection.
    ///
    /// ```
    /// let c = beamlet::otp::behaviour::request::ReqIdCollection::<u32, ()>::new();
    /// assert!(c.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The requests and their labels, in no particular order (as
    /// `reqids_to_list/1`).
    ///
    /// See [`ReqIdCollection`] for an example.
    pub fn to_list(&self) -> Vec<(RequestId<R>, L)>
    where
        L: Clone,
    {
        let pair = |(r, l): &(RequestId<R>, L)| (r.clone(), l.clone());
        self.requests.values().map(pair).collect()
    }

    /// Waits up to `timeout` (`Duration::MAX`: for ever) for a response to any of
    /// the requests (as `wait_response/3`); on timeout all stay alive. With
    /// `delete` the answered request leaves the collection; without, it stays
    /// (finished: waiting for it again only times out) and its label is cloned.
    ///
    /// See [`ReqIdCollection`] for an example (with `receive_response`).
    pub fn wait_response(&mut self, timeout: Duration, delete: bool) -> CollectionResponse<R, L>
    where
        L: Clone,
    {
        if self.is_empty() {
            return CollectionResponse::NoRequest;
        }
        let requests = &self.requests;
        let ours = |m: &Message| tag_of::<R>(m).is_some_and(|t| requests.contains_key(&t));
        match receive_select(None, ours, bounded(Some(timeout))) {
            Some(msg) => {
                let tag = tag_of::<R>(&msg).expect("matched a response");
                let (result, label) = self.take(tag, msg, delete);
                CollectionResponse::Response(result, label)
            }
            None => CollectionResponse::Timeout,
        }
    }

    /// As [`wait_response`](Self::wait_response), but on timeout every request of
    /// the collection is abandoned (as `receive_response/3`) and removed from it:
    /// no late reply to any of them reaches the mailbox.
    ///
    /// See [`ReqIdCollection`] for an example.
    pub fn receive_response(&mut self, timeout: Duration, delete: bool) -> CollectionResponse<R, L>
    where
        L: Clone,
    {
        let r = self.wait_response(timeout, delete);
        if matches!(r, CollectionResponse::Timeout) {
            for (_, (req, _)) in self.requests.drain() {
                // A reply that slipped in is dropped with its request.
                let _ = abandon(&req);
            }
        }
        r
    }

    /// Whether `msg`, a message already received, answers one of the requests (as
    /// `check_response/3`); `delete` as for [`wait_response`](Self::wait_response).
    ///
    /// ```
    /// use beamlet::otp::behaviour::{Caller, reply};
    /// use beamlet::otp::behaviour::request::{send_request, CollectionCheck, ReqIdCollection};
    /// use beamlet::{receive, receive_any, spawn, Runtime};
    /// let rt = Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let server = spawn(|| reply(receive::<Caller<u32>>(), 5)).unwrap();
    ///     let mut reqs = ReqIdCollection::new();
    ///     reqs.add(send_request(server, |from: Caller<u32>| from), "five");
    ///     let msg = receive_any();
    ///     assert!(matches!(reqs.check_response(msg, true), CollectionCheck::Response(Ok(5), "five")));
    ///     let other = beamlet::Message::new(1u8);
    ///     assert!(matches!(reqs.check_response(other, true), CollectionCheck::NoRequest(_)));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn check_response(&mut self, msg: Message, delete: bool) -> CollectionCheck<R, L>
    where
        L: Clone,
    {
        if self.is_empty() {
            return CollectionCheck::NoRequest(msg);
        }
        match tag_of::<R>(&msg).filter(|t| self.requests.contains_key(t)) {
            Some(tag) => {
                let (result, label) = self.take(tag, msg, delete);
                CollectionCheck::Response(result, label)
            }
            None => CollectionCheck::NoReply(msg),
        }
    }

    /// Finishes the request `tag` that `msg` answers; removes it if `delete`.
    fn take(&mut self, tag: MonitorRef, msg: Message, delete: bool) -> (Result<R, CallError>, L)
    where
        L: Clone,
    {
        let label = if delete {
            let (req, label) = self.requests.remove(&tag).expect("a request of ours");
            finish(&req);
            label
        } else {
            let (req, label) = &self.requests[&tag];
            finish(req);
            label.clone()
        };
        (outcome(msg), label)
    }
}
