//! The main demo: a million tiny stateful servers.
//!
//! Spawns N processes (default 1,000,000), each a small server holding a counter;
//! sends every one a request and gathers the replies; shows progress while it works
//! (progress bars on stderr when it is a terminal);
//! prints spawn rate, message rate, memory per process and total time; then stops
//! them all and shows the memory going back.
//!
//! ```text
//! cargo run --release --example million                 # 1,000,000 processes
//! cargo run --release --example million -- 200000 2     # N, schedulers
//! cargo run --release --example million -- 1000000 0 hibernate
//! ```
//!
//! With `hibernate`, each server hibernates between requests: it holds no stack while
//! it waits, which is where most of an idle process's memory goes.

mod common;

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use beamlet::{
    DEFAULT_MAX_PROCESSES, MAX_PROCESSES, Pid, Runtime, hibernate, receive, self_pid, send, spawn,
};
use common::cli::{Param, Spec, Switch};
use common::memory::rss_kib;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A request to a server: reply to `from` with the counter plus `add`.
struct Bump {
    from: Pid,
    add: u64,
}

/// A server's reply.
struct Count(u64);

/// Tells a server to exit.
struct Stop;

/// The server loop: a counter starting at `n`.
fn server(n: u64) {
    let msg = beamlet::receive_any();
    let msg = match msg.downcast::<Bump>() {
        Ok(Bump { from, add }) => {
            let _ = send(from, Count(n + add));
            return server(n + add);
        }
        Err(m) => m,
    };
    debug_assert!(msg.is::<Stop>());
}

/// The same server, hibernating between requests.
fn hibernating_server(n: u64) -> ! {
    hibernate(move || {
        let msg = beamlet::receive_any();
        if let Ok(Bump { from, add }) = msg.downcast::<Bump>() {
            let _ = send(from, Count(n + add));
            hibernating_server(n + add);
        }
    })
}

struct Options {
    n: usize,
    schedulers: usize,
    hibernate: bool,
}

fn options() -> Options {
    let ci = std::env::var_os("BEAMLET_CI").is_some();
    let params = [
        Param::new("N", if ci { 20_000 } else { 1_000_000 }, "processes")
            .min(1)
            .max(MAX_PROCESSES as u64 - 1),
        Param::new(
            "SCHEDULERS",
            0,
            "scheduler threads, 0 for one per available core",
        ),
    ];
    let switches = [Switch {
        name: "hibernate",
        help: "servers hibernate between requests (also the bare word `hibernate`)",
    }];
    let parsed = Spec {
        name: "million",
        about: "million: N tiny stateful servers: spawn them, message every one, memory per\n\
                process, then stop them all.\n\n\
                Environment: BEAMLET_CI=1 makes the default N 20,000.",
        params: &params,
        switches: &switches,
        bench: false,
    }
    .parse();
    Options {
        n: parsed.values[0] as usize,
        schedulers: parsed.values[1] as usize,
        hibernate: parsed.switches[0],
    }
}

/// Items between two updates of a progress bar: often enough to look live, rare
/// enough that the bar's clock reads cost nothing next to a spawn.
const PROGRESS_EVERY: usize = 4096;

/// A progress bar for one phase of `total` items, on stderr. Hidden when stderr is
/// not a terminal: in a CI log or a pipe the redraws would pile up as noise (the
/// summary on stdout has each phase's rate).
fn progress(label: &'static str, total: usize) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let style = ProgressStyle::with_template(
        "  {prefix:<10} [{bar:40}] {human_pos:>9}/{human_len} {rate:>12} {elapsed}",
    )
    .expect("the template is valid")
    .with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        },
    )
    .progress_chars("#>-");
    ProgressBar::with_draw_target(Some(total as u64), target)
        .with_style(style)
        .with_prefix(label)
}

fn main() {
    let opts = options();
    // The servers and the root: past the default limit, raise it to fit.
    let mut builder = Runtime::builder().max_processes((opts.n + 1).max(DEFAULT_MAX_PROCESSES));
    if opts.schedulers > 0 {
        builder = builder.schedulers(opts.schedulers);
    }
    let rt = builder.build().expect("runtime");
    println!(
        "beamlet: {} processes on {} schedulers{}",
        opts.n,
        rt.schedulers(),
        if opts.hibernate { ", hibernating" } else { "" }
    );
    let base = rss_kib();
    let total = Instant::now();
    let (n, hib) = (opts.n, opts.hibernate);
    let report = rt.block_on(move || run(n, hib, base)).expect("demo");
    // Let every server finish exiting, and the idle schedulers release the pooled
    // stacks' pages, before measuring.
    while rt.process_count() > 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    let exited = rss_kib();
    let shutdown = rt.shutdown();
    let after = rss_kib();
    println!(
        "spawned    {:>10.0} processes/s ({:.2} µs each)",
        report.spawn_rate,
        1e6 / report.spawn_rate
    );
    println!("messages   {:>10.0} request+reply pairs/s", report.msg_rate);
    println!(
        "memory     {:>10} bytes per live process ({} MiB for all)",
        report.bytes_per_proc,
        report.alive_kib / 1024
    );
    println!("total      {:>10.2} s", total.elapsed().as_secs_f64());
    println!(
        "rss        {} MiB at start, {} MiB with all alive, {} MiB after they exited, {} MiB after shutdown ({} killed)",
        base / 1024,
        report.alive_kib / 1024,
        exited / 1024,
        after / 1024,
        shutdown.killed
    );
}

struct DemoReport {
    spawn_rate: f64,
    msg_rate: f64,
    bytes_per_proc: u64,
    alive_kib: u64,
}

fn run(n: usize, hib: bool, base: u64) -> DemoReport {
    let me = self_pid();
    let t = Instant::now();
    let bar = progress("spawn", n);
    let mut pids = Vec::with_capacity(n);
    for i in 0..n {
        let pid = if hib {
            spawn(|| hibernating_server(0))
        } else {
            spawn(|| server(0))
        };
        pids.push(pid.expect("spawn"));
        if i % PROGRESS_EVERY == 0 {
            bar.set_position(i as u64);
        }
    }
    bar.finish();
    let spawn_rate = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut sum = 0;
    let window = 10_000;
    let bar = progress("messages", n);
    for chunk in pids.chunks(window) {
        for &pid in chunk {
            send(pid, Bump { from: me, add: 1 }).expect("alive");
        }
        for _ in chunk {
            sum += receive::<Count>().0;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish();
    assert_eq!(sum, n as u64, "every server answered once");
    let msg_rate = n as f64 / t.elapsed().as_secs_f64();
    beamlet::sleep(Duration::from_millis(200));
    let alive_kib = rss_kib();
    let bytes_per_proc = alive_kib.saturating_sub(base) * 1024 / n.max(1) as u64;
    let bar = progress("stop", n);
    for (i, &pid) in pids.iter().enumerate() {
        let _ = send(pid, Stop);
        if i % PROGRESS_EVERY == 0 {
            bar.set_position(i as u64);
        }
    }
    bar.finish();
    DemoReport {
        spawn_rate,
        msg_rate,
        bytes_per_proc,
        alive_kib,
    }
}
