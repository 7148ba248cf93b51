//! Asynchronous requests of gen_server and gen_statem (OTP 25's `send_request`,
//! `wait_response`, `receive_response`, `check_response` and request-id
//! collections), one rule per test.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use beamlet::otp::gen_server::{
    self, CallError, CallReply, Caller, CheckResponse, CollectionCheck, CollectionResponse,
    GenServer, Init, NoReply, ReqIdCollection, RequestId, ServerRef, StartOptions,
};
use beamlet::otp::gen_statem::{self, Event, GenStateMachine, MachineRef, Transition};
use beamlet::{
    Down, ExitReason, MailboxLimit, Message, OverflowPolicy, Pid, Runtime, message_queue_len,
    monitor, receive, receive_any, receive_any_timeout, receive_match, self_pid, send, sleep,
    spawn,
};
use common::{PATIENCE, run};

/// Long enough to be sure a reply the server holds has not come (the server only
/// answers when told, so the timeout is certain whatever the machine's speed).
const SHORT: Duration = Duration::from_millis(20);

/// What a [`Holder`] is asked.
#[derive(Debug)]
enum Op {
    /// Reply with the number at once.
    Echo(u32),
    /// Keep the request; it is answered (with the number) on `Release`.
    Hold(u32),
    /// Answer every held request, newest first, then this one with their count.
    Release,
    /// Stop without replying, with this reason.
    Crash(&'static str),
    /// Tell the caller, then handle nothing until this process has exited.
    Block(Pid),
}

/// A server that answers at once, or holds requests and answers them later in
/// reverse order.
struct Holder(Vec<(Caller<u32>, u32)>);

impl GenServer for Holder {
    type Args = ();
    type Call = Op;
    type Reply = u32;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Holder(Vec::new()))
    }

    fn handle_call(&mut self, op: Op, from: Caller<u32>) -> CallReply<u32, ()> {
        match op {
            Op::Echo(n) => CallReply::Reply(n),
            Op::Hold(n) => {
                self.0.push((from, n));
                CallReply::NoReply
            }
            Op::Release => {
                let held = self.0.len() as u32;
                while let Some((from, n)) = self.0.pop() {
                    gen_server::reply(from, n);
                }
                CallReply::Reply(held)
            }
            Op::Crash(why) => CallReply::StopNoReply(ExitReason::custom(why)),
            Op::Block(until) => {
                // A monitor's `Down` is a signal: a full mailbox cannot shed it.
                let m = monitor(until);
                send(from.pid(), "blocked").unwrap();
                let _ = receive_match(|d: &Down| d.monitor == m);
                CallReply::Reply(0)
            }
        }
    }
}

fn holder() -> ServerRef<Holder> {
    gen_server::start::<Holder>(()).unwrap()
}

/// Answers every held request; when this returns the late replies were sent (they
/// precede the call's reply from the same server), and so were acted on by the
/// runtime, dropped or queued.
fn release(s: ServerRef<Holder>) -> u32 {
    gen_server::call(s, Op::Release).unwrap()
}

#[test]
fn a_request_gets_its_reply() {
    run(|| {
        let s = holder();
        let req = gen_server::send_request(s, Op::Echo(7));
        assert_eq!(req.server(), s.pid());
        assert_eq!(gen_server::receive_response(req, PATIENCE), Ok(7));
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn many_requests_to_one_server_are_answered_in_any_order() {
    run(|| {
        let s = holder();
        let reqs: Vec<_> = (0..50)
            .map(|n| (n, gen_server::send_request(s, Op::Hold(n))))
            .collect();
        // The server answers newest first; each request still gets its own reply.
        assert_eq!(release(s), 50);
        for (n, req) in reqs {
            assert_eq!(gen_server::receive_response(req, PATIENCE), Ok(n));
        }
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn receive_response_timeout_abandons_the_request() {
    run(|| {
        let s = holder();
        let req = gen_server::send_request(s, Op::Hold(1));
        assert_eq!(
            gen_server::receive_response(req, SHORT),
            Err(CallError::Timeout)
        );
        assert_eq!(release(s), 1);
        // The late reply was dropped by the runtime: nothing is left.
        assert_eq!(message_queue_len(), 0);
        assert!(receive_any_timeout(Duration::ZERO).is_none());
    });
}

#[test]
fn wait_response_timeout_keeps_the_request() {
    run(|| {
        let s = holder();
        let req = gen_server::send_request(s, Op::Hold(3));
        assert_eq!(
            gen_server::wait_response(&req, SHORT),
            Err(CallError::Timeout)
        );
        assert_eq!(release(s), 1);
        assert_eq!(gen_server::wait_response(&req, PATIENCE), Ok(3));
        // Finished: nothing more comes for it.
        assert_eq!(
            gen_server::wait_response(&req, SHORT),
            Err(CallError::Timeout)
        );
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn check_response_tells_the_reply_from_other_messages() {
    run(|| {
        let s = holder();
        send(self_pid(), "unrelated").unwrap();
        let req = gen_server::send_request(s, Op::Echo(5));
        let other = gen_server::send_request(s, Op::Echo(6));
        match gen_server::check_response(receive_any(), &req) {
            CheckResponse::NoReply(m) => assert_eq!(m.downcast::<&str>().unwrap(), "unrelated"),
            r => panic!("not the reply: {r:?}"),
        }
        // The reply to `req` comes first (the server answers in order).
        let r = gen_server::check_response(receive_any(), &req);
        assert!(matches!(r, CheckResponse::Response(Ok(5))), "{r:?}");
        // Another request's reply is not this one's.
        let m = receive_any();
        let m = match gen_server::check_response(m, &req) {
            CheckResponse::NoReply(m) => m,
            r => panic!("another request's reply: {r:?}"),
        };
        let r = gen_server::check_response(m, &other);
        assert!(matches!(r, CheckResponse::Response(Ok(6))), "{r:?}");
    });
}

#[test]
fn a_dead_server_is_noproc() {
    run(|| {
        let s = holder();
        gen_server::stop(s, ExitReason::Normal, PATIENCE).unwrap();
        let req = gen_server::send_request(s, Op::Echo(1));
        assert_eq!(
            gen_server::wait_response(&req, PATIENCE),
            Err(CallError::NoProc)
        );
        let req = gen_server::send_request(s, Op::Echo(1));
        assert_eq!(
            gen_server::receive_response(req, PATIENCE),
            Err(CallError::NoProc)
        );
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn an_unregistered_name_is_noproc() {
    run(|| {
        let req = gen_server::send_request_named::<Holder>("nobody_here", Op::Echo(1));
        assert_eq!(req.server(), Pid::NO_PROCESS);
        assert_eq!(
            gen_server::receive_response(req, PATIENCE),
            Err(CallError::NoProc)
        );
        // A registered one is reached.
        let opts = StartOptions::new().name("holder_here");
        gen_server::start_with::<Holder>((), opts).unwrap();
        let req = gen_server::send_request_named::<Holder>("holder_here", Op::Echo(2));
        assert_eq!(gen_server::receive_response(req, PATIENCE), Ok(2));
    });
}

#[test]
fn a_server_crashing_mid_request_gives_its_exit_reason() {
    run(|| {
        let s = holder();
        let held = gen_server::send_request(s, Op::Hold(1));
        let crash = gen_server::send_request(s, Op::Crash("boom"));
        let boom = Err(CallError::Exit(ExitReason::custom("boom")));
        assert_eq!(gen_server::receive_response(crash, PATIENCE), boom);
        assert_eq!(gen_server::wait_response(&held, PATIENCE), boom);
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn a_request_shed_by_a_full_mailbox_is_mailbox_full() {
    run(|| {
        let limit = MailboxLimit::new(1, OverflowPolicy::DropNewest);
        let opts = StartOptions::new().mailbox_limit(limit);
        let s = gen_server::start_with::<Holder>((), opts).unwrap();
        let gate = spawn(receive::<()>).unwrap();
        let blocking = gen_server::send_request(s, Op::Block(gate));
        assert_eq!(receive::<&str>(), "blocked");
        let queued = gen_server::send_request(s, Op::Echo(2));
        let shed = gen_server::send_request(s, Op::Echo(3));
        assert_eq!(
            gen_server::receive_response(shed, PATIENCE),
            Err(CallError::MailboxFull)
        );
        send(gate, ()).unwrap();
        assert_eq!(gen_server::receive_response(blocking, PATIENCE), Ok(0));
        assert_eq!(gen_server::receive_response(queued, PATIENCE), Ok(2));
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn a_collection_counts_lists_and_yields_every_response_with_its_label() {
    run(|| {
        let (a, b) = (holder(), holder());
        let mut reqs = ReqIdCollection::new();
        assert!(reqs.is_empty());
        for n in 0..10 {
            let server = if n % 2 == 0 { a } else { b };
            gen_server::send_request_labeled(server, Op::Hold(n), format!("r{n}"), &mut reqs);
        }
        let extra = gen_server::send_request(a, Op::Hold(10));
        reqs.add(extra.clone(), "r10".to_string());
        assert_eq!(reqs.len(), 11);
        let list = reqs.to_list();
        let labels: HashSet<_> = list.iter().map(|(_, l)| l.clone()).collect();
        assert_eq!(labels, (0..11).map(|n| format!("r{n}")).collect());
        assert!(list.iter().any(|(r, l)| *r == extra && l == "r10"));
        assert!(
            list.iter()
                .all(|(r, _)| [a.pid(), b.pid()].contains(&r.server()))
        );

        assert_eq!(release(b), 5);
        assert_eq!(release(a), 6);
        let mut seen = HashSet::new();
        loop {
            match reqs.receive_response(PATIENCE, true) {
                CollectionResponse::Response(r, label) => {
                    assert_eq!(format!("r{}", r.unwrap()), label);
                    assert!(seen.insert(label));
                }
                CollectionResponse::NoRequest => break,
                CollectionResponse::Timeout => panic!("a response is missing"),
            }
        }
        assert_eq!((seen.len(), reqs.len()), (11, 0));
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn a_collection_keeps_an_answered_request_without_delete() {
    run(|| {
        let s = holder();
        let mut reqs = ReqIdCollection::new();
        gen_server::send_request_labeled(s, Op::Echo(1), 'a', &mut reqs);
        gen_server::send_request_labeled(s, Op::Hold(2), 'b', &mut reqs);
        let r = reqs.wait_response(PATIENCE, false);
        assert!(
            matches!(r, CollectionResponse::Response(Ok(1), 'a')),
            "{r:?}"
        );
        assert_eq!(reqs.len(), 2);
        // `b` is held: nothing answers now, and both requests stay.
        assert!(matches!(
            reqs.wait_response(SHORT, false),
            CollectionResponse::Timeout
        ));
        assert_eq!(reqs.len(), 2);
        release(s);
        let r = reqs.wait_response(PATIENCE, true);
        assert!(
            matches!(r, CollectionResponse::Response(Ok(2), 'b')),
            "{r:?}"
        );
        assert_eq!(
            reqs.to_list()
                .into_iter()
                .map(|(_, l)| l)
                .collect::<Vec<_>>(),
            ['a']
        );
        // `a` is finished: it never answers again.
        assert!(matches!(
            reqs.wait_response(SHORT, true),
            CollectionResponse::Timeout
        ));
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn a_collection_receive_timeout_abandons_every_request() {
    run(|| {
        let s = holder();
        let mut reqs = ReqIdCollection::new();
        for n in 0..3 {
            gen_server::send_request_labeled(s, Op::Hold(n), n, &mut reqs);
        }
        assert!(matches!(
            reqs.receive_response(SHORT, true),
            CollectionResponse::Timeout
        ));
        assert!(reqs.is_empty());
        assert!(matches!(
            reqs.receive_response(SHORT, true),
            CollectionResponse::NoRequest
        ));
        assert_eq!(release(s), 3);
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn a_collection_checks_received_messages() {
    run(|| {
        let s = holder();
        let mut reqs = ReqIdCollection::new();
        let r = reqs.check_response(Message::new(0u8), true);
        assert!(matches!(r, CollectionCheck::NoRequest(_)), "{r:?}");
        send(self_pid(), 9u64).unwrap();
        gen_server::send_request_labeled(s, Op::Echo(4), "four", &mut reqs);
        match reqs.check_response(receive_any(), true) {
            CollectionCheck::NoReply(m) => assert_eq!(m.downcast::<u64>().unwrap(), 9),
            r => panic!("not a response: {r:?}"),
        }
        let r = reqs.check_response(receive_any(), true);
        assert!(
            matches!(r, CollectionCheck::Response(Ok(4), "four")),
            "{r:?}"
        );
        assert!(reqs.is_empty());
    });
}

/// A server that forwards each call to a [`Holder`] as a request and answers when
/// the response comes to its `handle_info` (OTP's asynchronous server pattern).
struct Proxy {
    backend: ServerRef<Holder>,
    pending: Vec<(RequestId<u32>, Caller<u32>)>,
}

impl GenServer for Proxy {
    type Args = ServerRef<Holder>;
    type Call = u32;
    type Reply = u32;
    type Cast = ();
    type Continue = ();

    fn init(backend: ServerRef<Holder>) -> Init<Self, ()> {
        let pending = Vec::new();
        Init::Ok(Proxy { backend, pending })
    }

    fn handle_call(&mut self, n: u32, from: Caller<u32>) -> CallReply<u32, ()> {
        let req = gen_server::send_request(self.backend, Op::Hold(n));
        self.pending.push((req, from));
        CallReply::NoReply
    }

    fn handle_info(&mut self, mut msg: Message) -> NoReply<()> {
        for i in 0..self.pending.len() {
            match gen_server::check_response(msg, &self.pending[i].0) {
                CheckResponse::Response(r) => {
                    let (_, from) = self.pending.swap_remove(i);
                    gen_server::reply(from, r.unwrap() + 1000);
                    return NoReply::Ok;
                }
                CheckResponse::NoReply(m) => msg = m,
            }
        }
        panic!("unexpected message {msg:?}")
    }
}

#[test]
fn a_server_checks_responses_in_handle_info() {
    run(|| {
        let backend = holder();
        let proxy = gen_server::start::<Proxy>(backend).unwrap();
        let mut reqs = ReqIdCollection::new();
        for n in 0..5 {
            gen_server::send_request_labeled(proxy, n, n, &mut reqs);
        }
        // The proxy has forwarded all five once it answers a sys request.
        beamlet::otp::sys::statistics(proxy).unwrap();
        assert_eq!(release(backend), 5);
        while let CollectionResponse::Response(r, n) = reqs.receive_response(PATIENCE, true) {
            assert_eq!(r, Ok(n + 1000));
        }
        assert!(reqs.is_empty());
    });
}

/// A server that sleeps for the requested time, then replies with it.
struct Sleepy;

impl GenServer for Sleepy {
    type Args = ();
    type Call = Duration;
    type Reply = Duration;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Sleepy)
    }

    fn handle_call(&mut self, d: Duration, _: Caller<Duration>) -> CallReply<Duration, ()> {
        sleep(d);
        CallReply::Reply(d)
    }
}

#[test]
fn a_reply_racing_the_receive_timeout_is_taken_or_dropped_under_every_seed() {
    // Simulated runtimes: the reply is due at the instant the wait gives up, and
    // each seed orders the two (and the preemptions in between) differently.
    for seed in 0..200 {
        let rt = Runtime::builder().simulation(seed).build().unwrap();
        let (single, many, stray) = rt
            .block_on(|| {
                let s = gen_server::start::<Sleepy>(()).unwrap();
                let d = Duration::from_millis(100);
                let single = gen_server::receive_response(gen_server::send_request(s, d), d);
                let mut reqs = ReqIdCollection::new();
                gen_server::send_request_labeled(s, d, (), &mut reqs);
                let many = reqs.receive_response(d, true);
                sleep(Duration::from_secs(1));
                (single, many, message_queue_len())
            })
            .unwrap();
        assert_eq!(rt.shutdown().stuck, 0);
        assert!(
            matches!(single, Ok(_) | Err(CallError::Timeout)),
            "seed {seed}: {single:?}"
        );
        assert!(
            matches!(
                many,
                CollectionResponse::Response(Ok(_), ()) | CollectionResponse::Timeout
            ),
            "seed {seed}: {many:?}"
        );
        assert_eq!(
            stray, 0,
            "seed {seed}: a reply stayed after {single:?} / {many:?}"
        );
    }
}

/// A state machine that echoes calls, or holds them until released.
struct Machine(Vec<(Caller<u32>, u32)>);

impl GenStateMachine for Machine {
    type Args = ();
    type State = ();
    type Call = Op;
    type Reply = u32;
    type Cast = ();
    type Internal = ();
    type TimeoutName = ();

    fn init(_: ()) -> gen_statem::Init<Self> {
        gen_statem::Init::ok((), Machine(Vec::new()))
    }

    fn handle_event(&mut self, _: &(), event: Event<Self>) -> Transition<Self> {
        let Event::Call(op, from) = event else {
            return Transition::keep_state();
        };
        match op {
            Op::Echo(n) => Transition::keep_state().reply(from, n),
            Op::Hold(n) => {
                self.0.push((from, n));
                Transition::keep_state()
            }
            Op::Release => {
                let mut t = Transition::keep_state();
                let held = self.0.len() as u32;
                while let Some((f, n)) = self.0.pop() {
                    t = t.reply(f, n);
                }
                t.reply(from, held)
            }
            Op::Crash(why) => Transition::stop(ExitReason::custom(why)),
            Op::Block(_) => unreachable!("not sent to a machine"),
        }
    }
}

fn machine() -> MachineRef<Machine> {
    gen_statem::start::<Machine>(()).unwrap()
}

#[test]
fn statem_requests_get_their_replies_in_any_order() {
    run(|| {
        let m = machine();
        let mut reqs = ReqIdCollection::new();
        for n in 0..20 {
            gen_statem::send_request_labeled(m, Op::Hold(n), n, &mut reqs);
        }
        let now = gen_statem::send_request(m, Op::Echo(99));
        assert_eq!(gen_statem::receive_response(now, PATIENCE), Ok(99));
        assert_eq!(gen_statem::call(m, Op::Release), Ok(20));
        let mut got = 0;
        while let CollectionResponse::Response(r, n) = reqs.receive_response(PATIENCE, true) {
            assert_eq!(r, Ok(n));
            got += 1;
        }
        assert_eq!(got, 20);
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn statem_receive_timeout_abandons_and_wait_timeout_keeps() {
    run(|| {
        let m = machine();
        let abandoned = gen_statem::send_request(m, Op::Hold(1));
        let kept = gen_statem::send_request(m, Op::Hold(2));
        assert_eq!(
            gen_statem::receive_response(abandoned, SHORT),
            Err(CallError::Timeout)
        );
        assert_eq!(
            gen_statem::wait_response(&kept, SHORT),
            Err(CallError::Timeout)
        );
        assert_eq!(gen_statem::call(m, Op::Release), Ok(2));
        assert_eq!(gen_statem::wait_response(&kept, PATIENCE), Ok(2));
        assert_eq!(message_queue_len(), 0);
    });
}

#[test]
fn statem_check_response_dead_machine_and_crash() {
    run(|| {
        let m = machine();
        let req = gen_statem::send_request(m, Op::Echo(8));
        let r = gen_statem::check_response(receive_any(), &req);
        assert!(matches!(r, CheckResponse::Response(Ok(8))), "{r:?}");

        let held = gen_statem::send_request(m, Op::Hold(1));
        let crash = gen_statem::send_request(m, Op::Crash("statem boom"));
        let boom = Err(CallError::Exit(ExitReason::custom("statem boom")));
        assert_eq!(gen_statem::receive_response(held, PATIENCE), boom);
        assert_eq!(gen_statem::receive_response(crash, PATIENCE), boom);

        let req = gen_statem::send_request(m, Op::Echo(1));
        assert_eq!(
            gen_statem::receive_response(req, PATIENCE),
            Err(CallError::NoProc)
        );
        assert_eq!(message_queue_len(), 0);
    });
}
