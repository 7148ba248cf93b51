//! event_fanout: events through a GenEvent manager with many handlers.
//!
//! Usage: `event_fanout [H=100] [E=100000] [SYNC=1000] [SCHEDULERS=0]`. The root
//! starts an event manager, adds H counting handlers, then sends E events with
//! `gen_event::notify`, making every SYNC-th one a `sync_notify` (and the last one
//! always), so the measurement covers the handling and the manager's mailbox stays
//! bounded. Time runs from the first event until the last `sync_notify` returns;
//! then every handler's count must read E.
//!
//! Keys: `events_per_sec` (E over the elapsed time) and `handler_runs_per_sec`
//! (E × H over it).
//!
//! Guards against regressions in the manager's loop (receive, downcast, one
//! `try_dispatch` per handler per event) and in the notify path.

use std::time::{Duration, Instant};

use beamlet::ExitReason;
use beamlet::otp::gen_event::{
    self, CallHandled, EventHandler, EventManager, Handled, HandlerId, Init, Removal,
};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, runtime, shutdown,
};

/// Counts events.
struct Counter(u64);

impl EventHandler<u64> for Counter {
    type Args = ();
    type Call = ();
    type Reply = u64;
    type DeleteArgs = ();
    type Terminated = ();

    fn init(_: ()) -> Init<Self> {
        Init::Ok(Counter(0))
    }

    fn handle_event(&mut self, _: &u64) -> Handled<u64, Self> {
        self.0 += 1;
        Handled::Ok
    }

    fn handle_call(&mut self, _: ()) -> CallHandled<u64, Self> {
        CallHandled::Reply(self.0)
    }

    fn terminate(self, _: Removal<()>) {}
}

fn main() {
    let [h, e, sync, schedulers] = args(
        "event_fanout",
        "event_fanout: E events notified to a GenEvent manager with H counting handlers.",
        [
            Param::new("H", 100, "handlers").min(1),
            Param::new("E", 100_000, "events").min(1),
            Param::new("SYNC", 1000, "every SYNC-th event is a sync_notify").min(1),
            SCHEDULERS,
        ],
    );
    let rt = runtime(schedulers);
    let t = expect_ok(rt.block_on(move || run(h, e, sync)));
    shutdown(rt);
    let secs = t.elapsed.as_secs_f64().max(1e-9);
    Report::new("event_fanout", h, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("e", e)
        .key("sync", sync)
        .key("events_per_sec", fixed(e as f64 / secs, 0))
        .key("handler_runs_per_sec", fixed((e * h) as f64 / secs, 0))
        .print();
}

/// The root process: the manager, its handlers, the events, the check.
fn run(h: u64, e: u64, sync: u64) -> Timed {
    let manager = gen_event::start_link::<u64>()
        .unwrap_or_else(|err| fail(format_args!("starting the manager: {err}")));
    let ids: Vec<_> = (0..h)
        .map(|i| HandlerId::<Counter>::instance(i.to_string()))
        .collect();
    for id in &ids {
        if let Err(err) = gen_event::add_handler(manager, id, ()) {
            fail(format_args!("adding a handler: {err}"));
        }
    }
    let t = Instant::now();
    for i in 1..=e {
        if i % sync == 0 || i == e {
            sync_notify(manager, i);
        } else {
            gen_event::notify(manager, i);
        }
    }
    let timed = Timed::since(t);
    for id in &ids {
        match gen_event::call(manager, id, ()) {
            Ok(n) if n == e => {}
            other => fail(format_args!(
                "handler {id:?} counted {other:?}, expected {e}"
            )),
        }
    }
    if let Err(err) = gen_event::stop(manager, ExitReason::Normal, Duration::MAX) {
        fail(format_args!("stopping the manager: {err}"));
    }
    timed
}

fn sync_notify(manager: EventManager<u64>, event: u64) {
    if let Err(err) = gen_event::sync_notify(manager, event) {
        fail(format_args!("sync_notify: {err}"));
    }
}
