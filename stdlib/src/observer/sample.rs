//! The runtime-wide figures (`GET /api/system`, `GET /api/events`), sampled by a
//! process that runs only while someone looks.
//!
//! 1. A request for the figures marks the [`Sampler`] as asked (now) and, if no
//!    sampler process runs, spawns one. With no sample yet it takes one itself (its
//!    rates are then zero and its utilisation is since the start).
//! 2. The sampler process sleeps an interval, takes the runtime's statistics, and
//!    turns the difference from the previous ones into rates and scheduler
//!    utilisation (Δactive / Δtotal, as `scheduler_wall_time`), kept as the JSON of
//!    the last sample. It exits when nothing asked for [`IDLE_INTERVALS`] intervals
//!    and no event stream is open, forgetting its last sample (stale rates would
//!    mislead the next look). So an observer nobody looks at costs nothing. Killed
//!    (it is a process like any other, and the page can kill it), it is marked
//!    stopped as it unwinds, and the next look starts another.
//! 3. An event stream counts as open while its connection writes (a guard, so also
//!    across a panic); it writes the last sample once per interval and a keepalive
//!    comment now and then, and ends when a write fails or the observer stopped.
//!
//! The lock over the sampler's state is held only to copy or swap values, never
//! across a runtime call that could switch processes.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use beamlet_runtime::net::TcpStream;
use beamlet_runtime::{RuntimeStats, SchedulerTime, SystemEventKind};

use super::http::{self, Response};
use super::json::{Array, Object};
use super::server::Shared;

/// Intervals without a request after which the sampler process exits.
const IDLE_INTERVALS: u32 = 3;
/// How often an event stream writes a keepalive comment.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The sampler's state, shared by the observer's processes.
pub(super) struct Sampler {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The last sample: its statistics (the base of the next rates) and JSON.
    last: Option<(Instant, RuntimeStats, Arc<str>)>,
    asked: Option<Instant>,
    /// A sampler process was spawned (or is being) and has not stopped.
    running: bool,
    /// That process, once it runs.
    sampler: Option<beamlet_runtime::Pid>,
    streams: usize,
}

impl Sampler {
    pub(super) fn new(interval: Duration) -> Sampler {
        Sampler {
            interval,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last sample's JSON, marking the sampler as asked (step 1).
    fn current(&self, shared: &Arc<Shared>) -> Arc<str> {
        let now = beamlet_runtime::now();
        let (last, spawn) = {
            let mut s = self.lock();
            s.asked = Some(now);
            let spawn = !s.running;
            s.running = true;
            (s.last.as_ref().map(|l| l.2.clone()), spawn)
        };
        if spawn {
            let s = shared.clone();
            if beamlet_runtime::spawn(move || run(&s)).is_err() {
                self.lock().running = false;
            }
        }
        if let Some(json) = last {
            return json;
        }
        let (stats, json) = take(None);
        let mut s = self.lock();
        let kept = s.last.get_or_insert((now, stats, json));
        kept.2.clone()
    }
}

/// `GET /api/system`.
pub(super) fn system(shared: &Arc<Shared>) -> Response {
    let json = shared.sampler.current(shared);
    Response::json(200, json.to_string())
}

/// The sampler process (step 2).
fn run(shared: &Shared) {
    beamlet_runtime::set_label("observer sampler");
    let sampler = &shared.sampler;
    // Should the process be killed (from the page, say), the next look starts
    // another.
    sampler.lock().sampler = Some(beamlet_runtime::self_pid());
    let _stopped = Stopped(sampler);
    loop {
        beamlet_runtime::sleep(sampler.interval);
        let now = beamlet_runtime::now();
        let prev = {
            let mut s = sampler.lock();
            let idle = s
                .asked
                .is_none_or(|a| now - a > sampler.interval * IDLE_INTERVALS);
            if idle && s.streams == 0 {
                s.stop();
                return;
            }
            s.last.as_ref().map(|(at, st, _)| (*at, st.clone()))
        };
        let (stats, json) = take(prev.as_ref().map(|(at, st)| (now - *at, st)));
        sampler.lock().last = Some((now, stats, json));
    }
}

impl State {
    /// No sampler runs any more, and its last sample is forgotten.
    fn stop(&mut self) {
        self.running = false;
        self.sampler = None;
        self.last = None;
    }
}

/// Marks the sampler stopped when its process ends however it ends. (After an
/// idle exit, which marked it under the lock, this may find a new sampler already
/// running: then it must not mark that one, hence the pid.)
struct Stopped<'a>(&'a Sampler);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        if s.sampler == Some(beamlet_runtime::self_pid()) {
            s.stop();
        }
    }
}

/// Takes the statistics and writes their JSON, with rates over `prev` (the time
/// since the previous sample and its statistics) if there is one.
fn take(prev: Option<(Duration, &RuntimeStats)>) -> (RuntimeStats, Arc<str>) {
    let stats = beamlet_runtime::runtime_stats();
    let mut out = String::with_capacity(1024);
    write_system(&mut out, &stats, prev);
    (stats, out.into())
}

/// Δ`now` / Δ`then` per scheduler, as [`SchedulerTime`]s: busy share of the time.
fn utilisation(now: &SchedulerTime, then: Option<&SchedulerTime>) -> f64 {
    let (active, total) = match then {
        Some(t) => (
            now.active.saturating_sub(t.active),
            now.total.saturating_sub(t.total),
        ),
        None => (now.active, now.total),
    };
    if total.is_zero() {
        0.0
    } else {
        (active.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 1.0)
    }
}

/// Counts per second from `then` to `now` over `dt`.
fn rate(now: u64, then: u64, dt: Duration) -> f64 {
    if dt.is_zero() {
        0.0
    } else {
        now.saturating_sub(then) as f64 / dt.as_secs_f64()
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

/// The `/api/system` JSON.
fn write_system(out: &mut String, st: &RuntimeStats, prev: Option<(Duration, &RuntimeStats)>) {
    let mut o = Object::new(out);
    let (dt, base) = prev.map_or((Duration::ZERO, None), |(dt, b)| (dt, Some(b)));
    o.u64("uptime_ms", millis(st.uptime))
        .u64("process_count", st.processes as u64)
        .u64("spawned", st.spawned)
        .u64("exited", st.exited)
        .f64(
            "spawn_rate",
            base.map_or(0.0, |b| rate(st.spawned, b.spawned, dt)),
        )
        .f64(
            "exit_rate",
            base.map_or(0.0, |b| rate(st.exited, b.exited, dt)),
        )
        .u64("reductions", st.reductions)
        .u64("context_switches", st.context_switches);
    {
        let mut a = o.array("schedulers");
        for (id, t) in st.schedulers.iter().enumerate() {
            let then = base.and_then(|b| b.schedulers.get(id));
            let queue = st.run_queue_lengths.get(id).copied().unwrap_or(0);
            a.object()
                .u64("id", id as u64)
                .f64("utilisation", utilisation(t, then))
                .u64("run_queue", queue as u64);
        }
    }
    {
        // The dirty CPU threads, then the dirty I/O threads, numbered on.
        let mut a = o.array("dirty_schedulers");
        let dirty = |s: &RuntimeStats| {
            let cpu = s.dirty_cpu_schedulers.iter().map(|t| (t, "cpu"));
            cpu.chain(s.dirty_io_schedulers.iter().map(|t| (t, "io")))
                .map(|(t, k)| (*t, k))
                .collect::<Vec<_>>()
        };
        let then = base.map(dirty).unwrap_or_default();
        for (id, (t, kind)) in dirty(st).into_iter().enumerate() {
            let before = then.get(id).map(|(t, _)| t);
            a.object()
                .u64("id", id as u64)
                .str("kind", kind)
                .f64("utilisation", utilisation(&t, before));
        }
    }
    o.object("memory")
        .u64("rss", st.rss_bytes as u64)
        .u64("stacks_carved", st.stacks_carved as u64)
        .u64("stacks_pooled", st.stacks_pooled as u64);
    o.u64("timers_pending", st.timers_pending as u64)
        .u64("sockets_open", st.sockets_open as u64)
        .u64("io_polls", st.io_polls);
    write_events(o.array("events"));
}

/// The recent system monitor events.
fn write_events(mut a: Array<'_>) {
    for e in beamlet_runtime::recent_system_events() {
        let mut o = a.object();
        o.u64("seq", e.seq)
            .u64("at_ms", millis(e.at))
            .pid("pid", e.pid);
        match e.kind {
            SystemEventKind::LongSchedule { duration } => {
                o.str("kind", "long_schedule")
                    .u64("duration_ms", millis(duration));
            }
            SystemEventKind::CoreHandedOff { core } => {
                o.str("kind", "core_handed_off").u64("core", core as u64);
            }
            // A kind newer than this writer: its name, as Debug gives it.
            other => {
                let name = format!("{other:?}");
                o.str("kind", name.split([' ', '{']).next().unwrap_or(""));
            }
        }
    }
}

/// Counts an open event stream while alive (step 3).
struct StreamOpen<'a>(&'a Sampler);

impl<'a> StreamOpen<'a> {
    fn new(sampler: &'a Sampler) -> StreamOpen<'a> {
        sampler.lock().streams += 1;
        StreamOpen(sampler)
    }
}

impl Drop for StreamOpen<'_> {
    fn drop(&mut self) {
        self.0.lock().streams -= 1;
    }
}

/// `GET /api/events`: server-sent events until the client leaves or the observer
/// stops (step 3).
pub(super) fn stream_events(stream: &TcpStream, shared: &Arc<Shared>) {
    let sampler = &shared.sampler;
    let _open = StreamOpen::new(sampler);
    let mut head = http::head(200, "text/event-stream", None);
    head.push_str("\r\n: keepalive\n\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut keepalive = beamlet_runtime::now();
    while shared.running() {
        let json = sampler.current(shared);
        let mut event = format!("event: system\ndata: {json}\n\n");
        let now = beamlet_runtime::now();
        if now - keepalive >= KEEPALIVE {
            keepalive = now;
            event.push_str(": keepalive\n\n");
        }
        if stream.write_all(event.as_bytes()).is_err() {
            return;
        }
        beamlet_runtime::sleep(sampler.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utilisation_is_the_busy_share_of_the_interval() {
        let t = |a, b| SchedulerTime {
            active: Duration::from_millis(a),
            total: Duration::from_millis(b),
        };
        assert_eq!(utilisation(&t(300, 1000), Some(&t(100, 600))), 0.5);
        assert_eq!(utilisation(&t(250, 1000), None), 0.25);
        assert_eq!(utilisation(&t(0, 0), None), 0.0);
    }

    #[test]
    fn rates_are_per_second() {
        assert_eq!(rate(150, 50, Duration::from_millis(500)), 200.0);
        assert_eq!(
            rate(1, 5, Duration::from_secs(1)),
            0.0,
            "a counter never goes back"
        );
        assert_eq!(rate(9, 0, Duration::ZERO), 0.0);
    }
}
