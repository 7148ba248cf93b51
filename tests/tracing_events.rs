//! Reports and system monitor events as `tracing` events (feature `tracing`): with a
//! subscriber installed, the default sink writes each report as one event of target
//! `beamlet::crash` with structured fields, and a long schedule as a
//! `beamlet::sysmon` event with the pid and the duration.
//!
//! One global subscriber records every event of the binary (reports are written on
//! scheduler threads, which a thread-local default would not reach); each test finds
//! its own events by pid.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, Once};
use std::time::Duration;

use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init};
use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
use beamlet::{Down, Pid, Runtime, monitor, receive, receive_timeout, self_pid, send, spawn};
use common::PATIENCE;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

/// One recorded event: its target and fields (values as displayed), the span that
/// was current on its thread and the thread's name.
#[derive(Debug, Clone)]
struct Recorded {
    target: String,
    fields: BTreeMap<String, String>,
    span: Option<u64>,
    thread: Option<String>,
}

static EVENTS: Mutex<Vec<Recorded>> = Mutex::new(Vec::new());
/// A span made: its id, its contextual parent's and its `pid` field.
type SpanMade = (u64, Option<u64>, Option<String>);

static SPANS: Mutex<Vec<SpanMade>> = Mutex::new(Vec::new());

struct Recorder;

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S> Layer<S> for Recorder
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        EVENTS.lock().unwrap().push(Recorded {
            target: event.metadata().target().to_owned(),
            fields,
            span: ctx.lookup_current().map(|s| s.id().into_u64()),
            thread: std::thread::current().name().map(str::to_owned),
        });
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.id().into_u64());
        SPANS
            .lock()
            .unwrap()
            .push((id.into_u64(), parent, fields.remove("pid")));
    }
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::subscriber::set_global_default(Registry::default().with(Recorder)).unwrap();
    });
}

/// The recorded events of `target` about `pid`.
fn events_of(target: &str, pid: Pid) -> Vec<Recorded> {
    let pid = pid.to_string();
    EVENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.target == target && e.fields.get("pid") == Some(&pid))
        .cloned()
        .collect()
}

fn runtime() -> Runtime {
    install();
    Runtime::builder().schedulers(2).build().unwrap()
}

struct Fragile;

impl GenServer for Fragile {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();
    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Fragile)
    }
    fn handle_call(&mut self, _: (), _: Caller<()>) -> CallReply<(), ()> {
        panic!("fragile server broke")
    }
}

#[test]
fn a_server_crash_is_two_structured_events() {
    let rt = runtime();
    let pid = rt
        .block_on(|| {
            let s = gen_server::start::<Fragile>(()).unwrap();
            let _ = gen_server::call(s, ());
            s.pid()
        })
        .unwrap();
    let _ = rt.shutdown();
    let events = events_of("beamlet::crash", pid);
    let kinds: Vec<&str> = events.iter().map(|e| e.fields["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        ["gen_server_terminate", "crash_report"],
        "{events:?}"
    );
    let terminate = &events[0].fields;
    assert!(
        terminate["reason"].contains("fragile server broke"),
        "{terminate:?}"
    );
    assert!(
        terminate["last_message"].starts_with("call"),
        "{terminate:?}"
    );
    assert!(terminate.contains_key("client"), "{terminate:?}");
    assert!(
        !terminate.contains_key("child_id"),
        "absent fields are not recorded"
    );
    assert!(
        events[1].fields.contains_key("initial_call"),
        "{:?}",
        events[1]
    );
}

#[test]
fn a_supervisor_report_names_the_child() {
    let rt = runtime();
    let sup = rt
        .block_on(|| {
            let me = self_pid();
            let spec = ChildSpec::worker("flaky_worker", move || {
                beamlet::spawn_link(move || {
                    send(me, self_pid()).unwrap();
                    receive::<()>();
                    panic!("worker gave up");
                })
            });
            let sup = supervisor::start_link(vec![spec], SupervisorFlags::default()).unwrap();
            let first = receive::<Pid>();
            send(first, ()).unwrap();
            // Restarted: the report was written before the restart.
            receive_timeout::<Pid>(PATIENCE).expect("the child was restarted");
            sup.pid()
        })
        .unwrap();
    let _ = rt.shutdown();
    let events = events_of("beamlet::crash", sup);
    let terminated = events
        .iter()
        .find(|e| e.fields["kind"] == "child_terminated")
        .unwrap_or_else(|| panic!("no child_terminated in {events:?}"));
    assert_eq!(terminated.fields["child_id"], "flaky_worker");
    assert!(terminated.fields["reason"].contains("worker gave up"));
    assert!(terminated.fields.contains_key("child_pid"));
}

#[test]
fn a_long_schedule_is_a_sysmon_event_with_its_duration() {
    install();
    let rt = Runtime::builder()
        .schedulers(2)
        .long_schedule(Duration::from_millis(20))
        .build()
        .unwrap();
    let pid = rt
        .block_on(|| {
            let pid = spawn(|| std::thread::sleep(Duration::from_millis(300))).unwrap();
            let _ = monitor(pid);
            receive::<Down>();
            pid
        })
        .unwrap();
    let _ = rt.shutdown();
    let events = events_of("beamlet::sysmon", pid);
    assert!(!events.is_empty(), "no long_schedule event");
    let e = &events[0].fields;
    assert_eq!(e["event"], "long_schedule");
    let ms: u64 = e["duration_ms"].parse().unwrap();
    assert!(ms >= 20, "{e:?}");
}

/// The span made for `pid`, and its parent.
fn span_of(pid: Pid) -> (u64, Option<u64>) {
    let pid = pid.to_string();
    let spans = SPANS.lock().unwrap();
    let (id, parent, _) = spans
        .iter()
        .find(|s| s.2.as_deref() == Some(pid.as_str()))
        .unwrap_or_else(|| panic!("no span for {pid}"));
    (*id, *parent)
}

#[test]
fn a_process_span_is_current_for_its_events_on_every_thread_it_runs_on() {
    install();
    let rt = Runtime::builder()
        .schedulers(2)
        .process_spans(true)
        .long_schedule(Duration::from_millis(5))
        .build()
        .unwrap();
    let probe = rt
        .block_on(|| {
            let probe = spawn(|| {
                let mut threads = std::collections::HashSet::new();
                // A process that blocks its thread sits before the probe in its run
                // queue: the probe is stolen by the other scheduler, or its queue is
                // handed to a spare thread. Either way it resumes on another thread.
                for round in 0..50 {
                    tracing::info!(target: "probe", round);
                    threads.insert(std::thread::current().name().map(str::to_owned));
                    if threads.len() > 1 {
                        break;
                    }
                    spawn(|| std::thread::sleep(Duration::from_millis(30))).unwrap();
                    beamlet::yield_now();
                }
            })
            .unwrap();
            let _ = monitor(probe);
            receive::<Down>();
            probe
        })
        .unwrap();
    let _ = rt.shutdown();
    let (span, _) = span_of(probe);
    let events: Vec<Recorded> = EVENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.target == "probe")
        .cloned()
        .collect();
    let threads: std::collections::HashSet<_> = events.iter().map(|e| e.thread.clone()).collect();
    assert!(threads.len() > 1, "the probe never migrated: {events:?}");
    for e in &events {
        assert_eq!(e.span, Some(span), "{e:?}");
    }
}

#[test]
fn a_spawned_process_span_is_a_child_of_its_spawners() {
    install();
    let rt = Runtime::builder()
        .schedulers(2)
        .process_spans(true)
        .build()
        .unwrap();
    let (parent, child) = rt
        .block_on(|| {
            let me = self_pid();
            let parent = spawn(move || {
                let child = spawn(|| {}).unwrap();
                send(me, child).unwrap();
            })
            .unwrap();
            (parent, receive::<Pid>())
        })
        .unwrap();
    let _ = rt.shutdown();
    let (parent_span, _) = span_of(parent);
    let (_, child_parent) = span_of(child);
    assert_eq!(child_parent, Some(parent_span));
}
