//! supervisor_restart: how long a supervisor takes to restart a crashed child.
//!
//! Usage: `supervisor_restart [N=10000] [R=10000] [SCHEDULERS=0] [REPORTS=0]`. The root starts a
//! one_for_one supervisor (intensity limits high enough never to give up) with N
//! idle children and, last, one permanent "crasher" child that tells the root it is
//! up and then waits for an order to panic. The root plays [`WARMUP`] untimed
//! rounds, then times R rounds of: order the crasher to panic, wait until its
//! replacement says it is up.
//!
//! Key: `us_per_restart` (the R rounds' time over R): from the crash order to the
//! new child running, including the panic, the exit signal, the supervisor's
//! bookkeeping and the spawn. Run with several N: the cost must not grow with the
//! number of idle siblings.
//!
//! Every crash writes two reports (the panic's error report, the supervisor's
//! `child_terminated`). With `REPORTS=0` (the default) the runtime's report sink is
//! off, so the figure is the restart machinery alone; `REPORTS=1` keeps the default
//! sink (stderr when no logger is installed), to see what writing them costs.
//!
//! Guards against regressions in the supervisor's restart path (finding the child
//! by pid, the intensity check, restarting its group) and in the panic-to-exit-signal
//! path of the runtime.

use std::time::Instant;

use beamlet::otp::ServerRef;
use beamlet::otp::gen_server;
use beamlet::otp::supervisor::{self, ChildSpec, Supervisor, SupervisorFlags};
use beamlet::{ExitReason, Pid, ReportSink, Runtime, receive, self_pid, send, spawn_link, unlink};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, shutdown, with_schedulers,
};

/// Untimed restarts played first.
const WARMUP: u64 = 1_000;

/// The crasher's "I am up" message to the root.
struct Up(Pid);

/// The root's order to the crasher.
struct Crash;

fn main() {
    let [n, r, schedulers, reports] = args(
        "supervisor_restart",
        "supervisor_restart: R restarts of a crashing child beside N idle siblings.",
        [
            Param::new("N", 10_000, "idle children beside the crasher"),
            Param::new("R", 10_000, "timed restarts").min(1),
            SCHEDULERS,
            Param::new("REPORTS", 0, "1: write the crash reports to stderr; 0: off").max(1),
        ],
    );
    let sink = match reports {
        0 => ReportSink::Off,
        _ => ReportSink::Auto,
    };
    let builder = with_schedulers(Runtime::builder(), schedulers).reports(sink);
    let rt = builder
        .build()
        .unwrap_or_else(|e| fail(format_args!("building the runtime: {e}")));
    let t = expect_ok(rt.block_on(move || run(n, r)));
    shutdown(rt);
    let us = t.elapsed.as_secs_f64() * 1e6 / r as f64;
    Report::new("supervisor_restart", n, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("restarts", r)
        .key("us_per_restart", fixed(us, 2))
        .print();
}

/// The root process: builds the tree, crashes the crasher R times, stops the tree.
fn run(n: u64, r: u64) -> Timed {
    let root = self_pid();
    let mut children: Vec<ChildSpec> = (0..n)
        .map(|i| ChildSpec::worker(format!("idle-{i}"), || spawn_link(idle)))
        .collect();
    children.push(ChildSpec::worker("crasher", move || {
        spawn_link(move || crasher(root))
    }));
    let flags = SupervisorFlags {
        max_restarts: u32::MAX,
        max_seconds: 1,
        ..SupervisorFlags::default()
    };
    let sup = supervisor::start_link(children, flags)
        .unwrap_or_else(|e| fail(format_args!("starting the supervisor: {e}")));
    let mut crasher = receive::<Up>().0;
    crasher = rounds(crasher, WARMUP);
    let t = Instant::now();
    rounds(crasher, r);
    let timed = Timed::since(t);
    stop(sup);
    timed
}

/// Crashes the crasher `r` times, each time waiting for its replacement; returns
/// the last one.
fn rounds(mut crasher: Pid, r: u64) -> Pid {
    for _ in 0..r {
        if send(crasher, Crash).is_err() {
            fail("the crasher is dead before its crash");
        }
        crasher = receive::<Up>().0;
    }
    crasher
}

/// An idle child.
fn idle() {
    receive::<()>();
}

/// The crasher: says it is up, panics when told.
fn crasher(root: Pid) {
    if send(root, Up(self_pid())).is_err() {
        return;
    }
    receive::<Crash>();
    panic!("crash ordered by the benchmark");
}

/// Stops the supervisor and its children (untimed).
fn stop(sup: ServerRef<Supervisor>) {
    // Its `Shutdown` exit would otherwise reach the root through the link.
    unlink(sup.pid());
    let r = gen_server::stop(sup, ExitReason::Shutdown, std::time::Duration::MAX);
    if let Err(e) = r {
        fail(format_args!("stopping the supervisor: {e}"));
    }
}
