//! overload: producers flooding a slow consumer, under each back-pressure policy.
//!
//! Usage: `overload [POLICY=1] [P=8] [M=50000] [MAX=1000] [WORK=500] [SCHEDULERS=0]`.
//! POLICY: 0 none (an unbounded mailbox), 1 `DropNewest`, 2 `DropOldest`, 3 `Kill`
//! (each a mailbox limit of MAX on the consumer), 4 `CastGate` (a GenServer consumer
//! fed through a gate with a sync threshold of MAX). P producers each send M messages
//! of 64 bytes as fast as they can; the consumer spends WORK loop iterations on each,
//! so it falls behind. Time runs from the first spawn until the consumer has taken
//! everything it will get (or was killed).
//!
//! Keys: `policy`, `delivered` (messages the consumer handled), `refused` (sends that
//! came back `MailboxFull`, or `NoProc` after a kill), `lost` (accepted but never
//! handled: discarded by `DropOldest`, or queued when the consumer was killed),
//! `peak_queue` (the longest mailbox the consumer saw),
//! `hwm_kib` (peak RSS of the run), `killed` (1 if the consumer died of overflow).
//!
//! Shows what each policy trades: an unbounded mailbox delivers everything at the cost
//! of memory; the drop policies hold memory flat and lose messages; `Kill` ends the
//! consumer; the gate delivers everything in bounded memory by slowing the producers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use beamlet::otp::gen_server::{self, CastGate, GenServer, Init, NoReply};
use beamlet::{
    Alias, Down, ExitReason, MailboxLimit, OverflowPolicy, Pid, SendError, alias,
    message_queue_len, monitor, receive, receive_any, self_pid, send, spawn, spawn_limited,
};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, hwm_kib, runtime, shutdown,
};

/// A message of 64 bytes.
type Payload = [u64; 8];

/// Ends the raw consumer (sent through its alias, which no limit refuses).
struct Done;

/// What the consumer saw.
#[derive(Default)]
struct Stats {
    delivered: AtomicU64,
    peak: AtomicU64,
}

impl Stats {
    /// Handles one message: the work, the count, the queue sample.
    fn consume(&self, payload: &Payload, work: u64) {
        let mut x = payload[0];
        for i in 0..work {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        beamlet::reduce(1 + (work / 64) as u32);
        std::hint::black_box(x);
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.peak
            .fetch_max(message_queue_len() as u64, Ordering::Relaxed);
    }
}

struct Outcome {
    timed: Timed,
    refused: u64,
    killed: bool,
}

fn main() {
    let [policy, p, m, max, work, schedulers] = args(
        "overload",
        "overload: P producers flooding one slow consumer, under a back-pressure POLICY.",
        [
            Param::new(
                "POLICY",
                1,
                "0 unbounded, 1 DropNewest, 2 DropOldest, 3 Kill, 4 CastGate",
            )
            .max(4),
            Param::new("P", 8, "producer processes"),
            Param::new("M", 50_000, "messages per producer"),
            Param::new(
                "MAX",
                1_000,
                "the mailbox limit (POLICY 4: the gate's threshold)",
            )
            .min(1)
            .max(u32::MAX as u64),
            Param::new(
                "WORK",
                500,
                "loop iterations the consumer spends per message",
            ),
            SCHEDULERS,
        ],
    );
    let max = max as usize;
    let rt = runtime(schedulers);
    let stats = Arc::new(Stats::default());
    let st = stats.clone();
    let out = expect_ok(rt.block_on(move || match policy {
        4 => run_gate(st, p, m, max, work),
        0..=3 => run_raw(limit(policy, max), st, p, m, work),
        other => fail(format_args!("POLICY {other}: expected 0..=4")),
    }));
    shutdown(rt);
    let delivered = stats.delivered.load(Ordering::Relaxed);
    let lost = (p * m).saturating_sub(delivered + out.refused);
    Report::new("overload", p, out.timed.elapsed)
        .rss_kib(out.timed.rss_kib)
        .key("policy", name(policy))
        .key("m", m)
        .key("max", max)
        .key("delivered", delivered)
        .key("refused", out.refused)
        .key("lost", lost)
        .key("peak_queue", stats.peak.load(Ordering::Relaxed))
        .key("hwm_kib", hwm_kib())
        .key("killed", u8::from(out.killed))
        .print();
}

fn name(policy: u64) -> &'static str {
    ["none", "drop_newest", "drop_oldest", "kill", "cast_gate"][policy as usize]
}

fn limit(policy: u64, max: usize) -> Option<MailboxLimit> {
    let policy = match policy {
        1 => OverflowPolicy::DropNewest,
        2 => OverflowPolicy::DropOldest,
        3 => OverflowPolicy::Kill,
        _ => return None,
    };
    Some(MailboxLimit::new(max, policy))
}

/// A plain consumer process with `limit`, flooded with `send`.
fn run_raw(limit: Option<MailboxLimit>, stats: Arc<Stats>, p: u64, m: u64, work: u64) -> Outcome {
    let root = self_pid();
    let t = Instant::now();
    let body = move || {
        send(root, alias()).unwrap_or_else(|_| fail("root gone"));
        loop {
            let msg = receive_any();
            match msg.downcast::<Payload>() {
                Ok(payload) => stats.consume(&payload, work),
                Err(other) if other.is::<Done>() => return,
                Err(_) => fail("unexpected message"),
            }
        }
    };
    let consumer = match limit {
        Some(l) => spawn_limited(l, body),
        None => spawn(body),
    }
    .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    let watch = monitor(consumer);
    let done: Alias = receive();
    for k in 0..p {
        spawn(move || {
            let refused = flood(consumer, k, m);
            let _ = send(root, refused);
        })
        .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    }
    let refused: u64 = (0..p).map(|_| receive::<u64>()).sum();
    let _ = done.send(Done);
    let down: Down = receive();
    if down.monitor != watch {
        fail("a stray Down");
    }
    Outcome {
        timed: Timed::since(t),
        refused,
        killed: down.reason == ExitReason::MailboxOverflow,
    }
}

/// Sends `m` payloads to `to`; returns how many came back.
fn flood(to: Pid, k: u64, m: u64) -> u64 {
    let mut refused = 0;
    for i in 0..m {
        match send(to, [k, i, 0, 0, 0, 0, 0, 0]) {
            Ok(()) => {}
            Err(SendError::MailboxFull(_) | SendError::NoProc(_)) => refused += 1,
        }
    }
    refused
}

/// The GenServer consumer of the gate policy.
struct Sink {
    stats: Arc<Stats>,
    work: u64,
}

impl GenServer for Sink {
    type Args = (Arc<Stats>, u64);
    type Call = ();
    type Reply = ();
    type Cast = Payload;
    type Continue = ();

    fn init((stats, work): (Arc<Stats>, u64)) -> Init<Self, ()> {
        Init::Ok(Sink { stats, work })
    }

    fn handle_cast(&mut self, payload: Payload) -> NoReply<()> {
        self.stats.consume(&payload, self.work);
        NoReply::Ok
    }
}

/// A GenServer consumer fed through a `CastGate` with threshold `max`.
fn run_gate(stats: Arc<Stats>, p: u64, m: u64, max: usize, work: u64) -> Outcome {
    let root = self_pid();
    let t = Instant::now();
    let sink = gen_server::start::<Sink>((stats, work))
        .unwrap_or_else(|e| fail(format_args!("start: {e}")));
    let gate = CastGate::new(sink, max);
    for k in 0..p {
        let gate = gate.clone();
        spawn(move || {
            for i in 0..m {
                if gate.cast([k, i, 0, 0, 0, 0, 0, 0]).is_err() {
                    fail("the sink died");
                }
            }
            let _ = send(root, 0u64);
        })
        .unwrap_or_else(|e| fail(format_args!("spawn: {e}")));
    }
    let refused: u64 = (0..p).map(|_| receive::<u64>()).sum();
    // Stop is a system call: it is handled after every cast already queued.
    gen_server::stop(sink, ExitReason::Normal, std::time::Duration::MAX)
        .unwrap_or_else(|e| fail(format_args!("stop: {e}")));
    Outcome {
        timed: Timed::since(t),
        refused,
        killed: false,
    }
}
