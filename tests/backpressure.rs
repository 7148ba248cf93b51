//! Back-pressure and load shedding: each mailbox-limit policy (what is kept, in what
//! order, what is refused), the `Kill` policy's exit reason as monitors and links see
//! it, a supervisor restarting a server its limit killed, signals and runtime
//! messages passing a full mailbox, the lock-free queue length, a call refused at
//! once, and the gen_server `CastGate` bounding a server's queue without losing or
//! reordering a cast.

use beamlet::otp::gen_server::{self, CallReply, Caller, CastGate, GenServer, Init, NoReply};
use beamlet::{
    Alias, Down, Exit, ExitReason, MailboxLimit, OverflowPolicy, Pid, SendError, alias, link,
    message_queue_len, message_queue_len_of, monitor, process_info, receive_timeout, self_pid,
    send, send_after, send_bounded, set_mailbox_limit, spawn, spawn_limited, spawn_link,
    spawn_monitor, trap_exit, try_receive,
};

mod common;
use common::{PATIENCE, run};

/// Receives a `T` or fails after [`PATIENCE`].
fn recv<T: Send + 'static>() -> T {
    receive_timeout::<T>(PATIENCE)
        .unwrap_or_else(|| panic!("no {} arrived", std::any::type_name::<T>()))
}

/// The "go" a held consumer waits for: sent through its alias, which no limit refuses.
struct Go;

/// Spawns a consumer with `limit` that tells the caller its alias, waits for `Go`
/// (leaving every `u32` queued), then sends back every `u32` it holds, in order.
fn held_consumer(limit: MailboxLimit) -> (Pid, Alias) {
    let parent = self_pid();
    let pid = spawn_limited(limit, move || {
        let a = alias();
        send(parent, a).unwrap();
        let Go = recv::<Go>();
        let mut kept = Vec::new();
        while let Some(n) = try_receive::<u32>() {
            kept.push(n);
        }
        send(parent, kept).unwrap();
    })
    .unwrap();
    (pid, recv::<Alias>())
}

#[test]
fn drop_newest_refuses_exactly_the_sends_beyond_max() {
    run(|| {
        let (pid, go) = held_consumer(MailboxLimit::new(10, OverflowPolicy::DropNewest));
        let mut refused = Vec::new();
        for i in 0..25u32 {
            match send(pid, i) {
                Ok(()) => {}
                Err(SendError::MailboxFull(m)) => refused.push(m),
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(refused, (10..25).collect::<Vec<_>>());
        assert_eq!(message_queue_len_of(pid), Some(10));
        go.send(Go).unwrap();
        assert_eq!(recv::<Vec<u32>>(), (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn drop_oldest_keeps_the_newest_max_in_order() {
    run(|| {
        let (pid, go) = held_consumer(MailboxLimit::new(10, OverflowPolicy::DropOldest));
        for i in 0..25u32 {
            send(pid, i).expect("DropOldest accepts every send");
        }
        go.send(Go).unwrap();
        // `Go` itself takes one of the ten places once it is queued (a limit counts
        // every message), so the nine newest numbers stay.
        assert_eq!(recv::<Vec<u32>>(), (16..25).collect::<Vec<_>>());
    });
}

#[test]
fn kill_policy_ends_the_process_with_mailbox_overflow() {
    run(|| {
        let parent = self_pid();
        let limit = MailboxLimit::new(5, OverflowPolicy::Kill);
        // The victim traps exits: the overflow kill is untrappable all the same.
        let victim = spawn_limited(limit, move || {
            trap_exit(true);
            send(parent, ()).unwrap();
            let Go = recv::<Go>();
        })
        .unwrap();
        recv::<()>();
        // A linked process that traps exits reports what its link delivered.
        let _linked = spawn(move || {
            trap_exit(true);
            link(victim).unwrap();
            send(parent, ()).unwrap();
            let exit = recv::<Exit>();
            send(parent, exit).unwrap();
        })
        .unwrap();
        recv::<()>();
        let watch = monitor(victim);
        for i in 0..5u32 {
            send(victim, i).unwrap();
        }
        assert!(matches!(send(victim, 5u32), Err(SendError::MailboxFull(5))));
        let down = recv::<Down>();
        assert_eq!(
            (down.monitor, down.reason),
            (watch, ExitReason::MailboxOverflow)
        );
        let exit = recv::<Exit>();
        assert_eq!(
            (exit.from, exit.reason),
            (victim, ExitReason::MailboxOverflow)
        );
        assert!(matches!(send(victim, 6u32), Err(SendError::NoProc(6))));
        assert!(!beamlet::is_alive(victim));
    });
}

#[test]
fn signals_and_runtime_messages_pass_a_full_mailbox() {
    run(|| {
        trap_exit(true);
        let limit = MailboxLimit::new(2, OverflowPolicy::DropNewest);
        assert_eq!(set_mailbox_limit(Some(limit)), None);
        send(self_pid(), 1u32).unwrap();
        send(self_pid(), 2u32).unwrap();
        assert!(matches!(
            send(self_pid(), 3u32),
            Err(SendError::MailboxFull(3))
        ));
        // A link's exit, a monitor's Down, an alias reply and a timer message.
        let linked = spawn_link(|| beamlet::exit(ExitReason::custom("bye"))).unwrap();
        let (watched, mref) = spawn_monitor(|| ()).unwrap();
        alias().send("reply").unwrap();
        send_after(std::time::Duration::ZERO, self_pid(), 'T');
        assert_eq!(recv::<Exit>().from, linked);
        let down = recv::<Down>();
        assert_eq!((down.pid, down.monitor), (watched, mref));
        assert_eq!(recv::<&str>(), "reply");
        assert_eq!(recv::<char>(), 'T');
        // The ordinary messages were kept, and the limit still holds.
        assert_eq!(message_queue_len(), 2);
        assert!(send(self_pid(), 4u32).is_err());
        assert_eq!((recv::<u32>(), recv::<u32>()), (1, 2));
        assert_eq!(set_mailbox_limit(None), Some(limit));
        send(self_pid(), 5u32).unwrap();
        assert_eq!(recv::<u32>(), 5);
    });
}

#[test]
fn queue_length_counts_messages_not_yet_looked_at() {
    run(|| {
        let parent = self_pid();
        let pid = spawn(move || {
            let a = alias();
            send(parent, a).unwrap();
            let Go = recv::<Go>();
            for _ in 0..40 {
                recv::<u32>();
            }
            send(parent, ()).unwrap();
            let Go = recv::<Go>();
        })
        .unwrap();
        let go = recv::<Alias>();
        // The first read meters the mailbox: every later send is counted at once.
        assert_eq!(message_queue_len_of(pid), Some(0));
        for i in 0..100u32 {
            send(pid, i).unwrap();
        }
        assert_eq!(message_queue_len_of(pid), Some(100));
        assert_eq!(process_info(pid).unwrap().message_queue_len, 100);
        go.send(Go).unwrap();
        recv::<()>();
        assert_eq!(message_queue_len_of(pid), Some(60));
        assert_eq!(
            send_bounded(pid, 0u32, 60).map_err(|e| e.into_inner()),
            Err(0)
        );
        send_bounded(pid, 0u32, 61).unwrap();
        go.send(Go).unwrap();
        let m = monitor(pid);
        assert_eq!(recv::<Down>().monitor, m);
        assert_eq!(message_queue_len_of(pid), None);
    });
}

/// A slow server recording every cast and the longest queue it saw. It holds its
/// first cast until it gets a `Go`, so the producers certainly meet a full queue.
struct Slow {
    handled: Vec<(usize, u32)>,
    peak: usize,
}

impl GenServer for Slow {
    type Args = ();
    type Call = ();
    type Reply = (Vec<(usize, u32)>, usize);
    type Cast = (usize, u32);
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Slow {
            handled: Vec::new(),
            peak: 0,
        })
    }

    fn handle_cast(&mut self, c: (usize, u32)) -> NoReply<()> {
        if self.handled.is_empty() {
            let Go = recv::<Go>();
        }
        self.peak = self.peak.max(message_queue_len());
        self.handled.push(c);
        // Slower than the producers: let them run before the next cast.
        beamlet::yield_now();
        NoReply::Ok
    }

    fn handle_call(&mut self, _: (), _: Caller<Self::Reply>) -> CallReply<Self::Reply, ()> {
        CallReply::Reply((std::mem::take(&mut self.handled), self.peak))
    }
}

#[test]
fn cast_gate_bounds_the_queue_and_loses_nothing() {
    const PRODUCERS: usize = 4;
    const CASTS: u32 = 500;
    const THRESHOLD: usize = 20;
    run(|| {
        let server = gen_server::start::<Slow>(()).unwrap();
        let gate = CastGate::new(server, THRESHOLD);
        let parent = self_pid();
        for p in 0..PRODUCERS {
            let gate = gate.clone();
            spawn(move || {
                let mut synced = 0u32;
                for i in 0..CASTS {
                    if gate.cast((p, i)).unwrap() == gen_server::CastMode::Sync {
                        synced += 1;
                    }
                }
                send(parent, synced).unwrap();
            })
            .unwrap();
        }
        // The server holds the first cast: wait until a producer was turned sync.
        while !gate.is_sync() {
            beamlet::yield_now();
        }
        send(server.pid(), Go).unwrap();
        let synced: u32 = (0..PRODUCERS).map(|_| recv::<u32>()).sum();
        let (handled, peak) = gen_server::call(server, ()).unwrap();
        assert!(synced > 0, "no cast was acknowledged");
        assert!(
            peak <= THRESHOLD + PRODUCERS,
            "queue peaked at {peak} > {THRESHOLD} + {PRODUCERS}"
        );
        for p in 0..PRODUCERS {
            let seq: Vec<u32> = handled.iter().filter(|c| c.0 == p).map(|c| c.1).collect();
            assert_eq!(seq, (0..CASTS).collect::<Vec<_>>(), "producer {p}");
        }
        assert_eq!(handled.len(), PRODUCERS * CASTS as usize);
    });
}

#[test]
fn a_call_refused_by_a_full_mailbox_fails_at_once() {
    run(|| {
        let limit = MailboxLimit::new(1, OverflowPolicy::DropNewest);
        let opts = gen_server::StartOptions::new().mailbox_limit(limit);
        let server = gen_server::start_with::<Slow>((), opts).unwrap();
        assert_eq!(
            process_info(server.pid()).unwrap().mailbox_limit,
            Some(limit)
        );
        // The first cast is taken and held (until a `Go`); the second fills the mailbox.
        gen_server::cast(server, (0, 0));
        while message_queue_len_of(server.pid()) != Some(0) {
            beamlet::yield_now();
        }
        gen_server::cast(server, (0, 1));
        assert_eq!(message_queue_len_of(server.pid()), Some(1));
        assert_eq!(
            gen_server::call(server, ()),
            Err(gen_server::CallError::MailboxFull)
        );
        assert!(matches!(
            send(server.pid(), Go),
            Err(SendError::MailboxFull(Go))
        ));
    });
}

#[test]
fn a_supervisor_restarts_a_killed_server_with_an_empty_mailbox() {
    use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
    run(|| {
        let limit = MailboxLimit::new(3, OverflowPolicy::Kill);
        let spec = ChildSpec::worker("slow", move || {
            let opts = gen_server::StartOptions::new().mailbox_limit(limit);
            gen_server::start_link_with::<Slow>((), opts).map(|s| s.pid())
        });
        let sup = supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
        let child = |sup| {
            supervisor::which_children(sup).unwrap()[0]
                .pid
                .pid()
                .expect("running")
        };
        let old = child(sup);
        let watch = monitor(old);
        let server = gen_server::ServerRef::<Slow>::from_pid(old);
        // The first cast is taken and held; three more fill the mailbox; the next
        // send finds it full and kills the server.
        gen_server::cast(server, (0, 0));
        while message_queue_len_of(old) != Some(0) {
            beamlet::yield_now();
        }
        for i in 1..=3 {
            gen_server::cast(server, (0, i));
        }
        assert!(matches!(send(old, 4u32), Err(SendError::MailboxFull(4))));
        let down = recv::<Down>();
        assert_eq!(
            (down.monitor, down.reason),
            (watch, ExitReason::MailboxOverflow)
        );
        let new = loop {
            match supervisor::which_children(sup).unwrap()[0].pid.pid() {
                Some(p) if p != old => break p,
                _ => beamlet::yield_now(),
            }
        };
        assert_eq!(message_queue_len_of(new), Some(0));
        assert_eq!(process_info(new).unwrap().mailbox_limit, Some(limit));
    });
}
