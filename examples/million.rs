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
//!
//! With `--observer PORT` the live observer serves `http://127.0.0.1:PORT/` while the
//! demo runs, and the servers stay alive for `--hold SECS` (default 60 with the
//! observer, else 0) after their request, so the million can be watched, sorted and
//! filtered in the page:
//!
//! ```text
//! cargo run --release --example million -- --observer 4000
//! ```
//!
//! Before it starts, the demo says how much memory N processes need (measured: about
//! 4.8 GiB for 10^6, see [`BYTES_PER_PROCESS`]) and checks it against the machine's
//! available memory (`MemAvailable`, of which it plans to use nine tenths):
//!
//! - with the default N, when memory is short it runs the largest N that fits
//!   instead, and says so;
//! - with an N given on the command line (`-- 2000000`, `--n 2000000`), it refuses
//!   (status 1) rather than push a shared machine into swap or the OOM killer, unless
//!   `--force` is given, which runs it anyway after a warning.

mod common;

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use beamlet::{
    DEFAULT_MAX_PROCESSES, MAX_PROCESSES, Pid, Runtime, hibernate, receive, self_pid, send, spawn,
};
use common::cli::{Param, Spec, Switch};
use common::memory::{self, rss_kib};
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
    /// N was given on the command line (not the default).
    n_given: bool,
    schedulers: usize,
    /// The live observer's port (0: none).
    observer: u16,
    /// How long the servers stay alive after their request.
    hold: Duration,
    hibernate: bool,
    /// Run an explicit N even when memory looks short.
    force: bool,
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
        common::OBSERVER,
        Param::new(
            "HOLD",
            0,
            "seconds the servers stay alive after their request (60 with --observer)",
        ),
    ];
    let switches = [
        Switch {
            name: "hibernate",
            help: "servers hibernate between requests (also the bare word `hibernate`)",
        },
        Switch {
            name: "force",
            help: "run an N given here even if it needs more memory than is available",
        },
    ];
    let parsed = Spec {
        name: "million",
        about: "million: N tiny stateful servers: spawn them, message every one, memory per\n\
                process, then stop them all.\n\n\
                The memory N needs is checked first: a default N too large is lowered to\n\
                fit, a given one refused unless --force.\n\n\
                Environment: BEAMLET_CI=1 makes the default N 20,000.",
        params: &params,
        switches: &switches,
        bench: false,
    }
    .parse();
    Options {
        n: parsed.values[0] as usize,
        n_given: parsed.given[0],
        schedulers: parsed.values[1] as usize,
        observer: parsed.values[2] as u16,
        hold: match (parsed.given[3], parsed.values[2]) {
            (false, port) if port > 0 => Duration::from_secs(60),
            _ => Duration::from_secs(parsed.values[3]),
        },
        hibernate: parsed.switches[0],
        force: parsed.switches[1],
    }
}

/// Memory one process of the demo costs, in bytes, measured from the peak RSS
/// (`VmHWM`) and page tables (`VmPTE`) of whole runs at N = 10^5 and 10^6 (2026-12-04,
/// default 256 KiB stacks): 4,630 B resident per process (its record, the touched
/// page of its stack, its slot in the pid vector) and 520 B of page tables (not in
/// the RSS, but memory all the same). 10^6 processes: 4.3 GiB resident plus 0.5 GiB
/// of page tables.
const BYTES_PER_PROCESS: u64 = 5_150;
/// The same for a hibernating server (measured at 10^6: 560 B resident, page tables
/// next to nothing; rounded up): it keeps no stack while it waits.
const BYTES_PER_HIBERNATED: u64 = 600;
/// What the demo needs besides its processes: the runtime, its threads' stacks, the
/// binary (the RSS before the first spawn is 2-3 MiB), with room to spare.
const BASE_BYTES: u64 = 32 << 20;

/// The memory `n` processes need, in bytes.
fn memory_need(n: usize, hibernate: bool) -> u64 {
    let per = if hibernate {
        BYTES_PER_HIBERNATED
    } else {
        BYTES_PER_PROCESS
    };
    BASE_BYTES + n as u64 * per
}

/// What to run, given what memory allows.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// N fits (or the available memory is unknown): run it.
    Run,
    /// The default N does not fit: run this smaller one.
    Shrink(usize),
    /// A given N does not fit: refuse (unless forced).
    Refuse,
}

/// Decides for `n` processes with `available` bytes of available memory (0:
/// unknown), of which the demo plans to use nine tenths.
fn plan(n: usize, hibernate: bool, n_given: bool, available: u64) -> Plan {
    let budget = available / 10 * 9;
    if available == 0 || memory_need(n, hibernate) <= budget {
        return Plan::Run;
    }
    if n_given {
        return Plan::Refuse;
    }
    let per = memory_need(1, hibernate) - BASE_BYTES;
    Plan::Shrink(round_down(budget.saturating_sub(BASE_BYTES) / per) as usize)
}

/// `x` rounded down to two significant digits (734,212 to 730,000), so that the N
/// the demo picks reads as a chosen size.
fn round_down(x: u64) -> u64 {
    let mut unit = 1;
    while x / unit >= 100 {
        unit *= 10;
    }
    x / unit * unit
}

/// Bytes in GiB with one decimal, or in MiB below 1 GiB.
fn gib(bytes: u64) -> String {
    if bytes < 1 << 30 {
        return format!("{} MiB", bytes.div_ceil(1 << 20));
    }
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// States the memory N needs and returns the N to run, lowered to fit when it was
/// the default; exits with status 1 when a given N does not fit and `--force` is
/// not set, or when memory is too short for any N.
fn checked_n(opts: &Options) -> usize {
    let available = memory::available_kib() * 1024;
    let need = memory_need(opts.n, opts.hibernate);
    let seen = if available == 0 {
        "available memory unknown (no MemAvailable in /proc/meminfo)".to_string()
    } else {
        format!("{} available", gib(available))
    };
    println!(
        "memory: {} processes need about {} ({} B each); {seen}",
        opts.n,
        gib(need),
        need.saturating_sub(BASE_BYTES) / opts.n as u64
    );
    match plan(opts.n, opts.hibernate, opts.n_given, available) {
        Plan::Run => opts.n,
        Plan::Shrink(0) => {
            eprintln!("million: not enough memory for even one process; stopping");
            std::process::exit(1)
        }
        Plan::Shrink(n) => {
            println!(
                "memory: too little for {}; running N = {n} instead (about {}); \
                 give N to choose another",
                opts.n,
                gib(memory_need(n, opts.hibernate))
            );
            n
        }
        Plan::Refuse if opts.force => {
            eprintln!(
                "million: warning: N = {} needs about {}, more than nine tenths of the {} \
                 available; running anyway (--force): expect swapping or the OOM killer",
                opts.n,
                gib(need),
                gib(available)
            );
            opts.n
        }
        Plan::Refuse => {
            eprintln!(
                "million: N = {} needs about {}, more than nine tenths of the {} available; \
                 give a smaller N, or --force to try anyway",
                opts.n,
                gib(need),
                gib(available)
            );
            std::process::exit(1)
        }
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
    let mut opts = options();
    opts.n = checked_n(&opts);
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
    let observer = common::observer(&rt, opts.observer);
    let base = rss_kib();
    let total = Instant::now();
    let (n, hib, hold) = (opts.n, opts.hibernate, opts.hold);
    let report = rt.block_on(move || run(n, hib, base, hold)).expect("demo");
    if let Some(obs) = observer {
        obs.stop();
    }
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

fn run(n: usize, hib: bool, base: u64, hold: Duration) -> DemoReport {
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
    if !hold.is_zero() {
        println!("holding the {n} servers for {} s", hold.as_secs());
        beamlet::sleep(hold);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn a_million_needs_about_4_8_gib() {
        let need = memory_need(1_000_000, false);
        assert!((4 * GIB + GIB * 7 / 10..5 * GIB).contains(&need), "{need}");
        assert!(memory_need(1_000_000, true) < GIB);
    }

    #[test]
    fn fits_runs_as_asked() {
        assert_eq!(plan(1_000_000, false, false, 20 * GIB), Plan::Run);
        assert_eq!(plan(1_000_000, false, true, 20 * GIB), Plan::Run);
        // Unknown available memory: no check.
        assert_eq!(plan(1_000_000, false, true, 0), Plan::Run);
    }

    #[test]
    fn short_memory_lowers_the_default_and_refuses_a_given_n() {
        let Plan::Shrink(n) = plan(1_000_000, false, false, 2 * GIB) else {
            panic!("the default N is lowered");
        };
        assert!(memory_need(n, false) <= 2 * GIB / 10 * 9);
        assert!(n >= 300_000, "{n}");
        assert_eq!(n as u64, round_down(n as u64));
        assert_eq!(plan(1_000_000, false, true, 2 * GIB), Plan::Refuse);
        // Hibernating servers fit where plain ones do not.
        assert_eq!(plan(1_000_000, true, true, 2 * GIB), Plan::Run);
        assert_eq!(plan(1_000_000, false, false, 1 << 20), Plan::Shrink(0));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(gib(4_832_000_000), "4.5 GiB");
        assert_eq!(gib(memory_need(20_000, false)), "131 MiB");
    }

    #[test]
    fn rounds_to_two_digits() {
        assert_eq!(round_down(734_212), 730_000);
        assert_eq!(round_down(99), 99);
        assert_eq!(round_down(1_000), 1_000);
        assert_eq!(round_down(0), 0);
    }
}
