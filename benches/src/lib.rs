//! Shared helpers for the benchmark binaries: argument parsing, RSS, the result line.
//!
//! Every benchmark in this crate is a `harness = false` binary that takes its sizes as
//! positional arguments or as `--name VALUE` (see [`cli`]; `--help` lists them, and
//! the `--bench` flag cargo adds is ignored) and prints exactly one line to stdout:
//!
//! ```text
//! bench=<name> impl=beamlet n=<N> secs=<s> rss_kib=<KiB> <key>=<value>...
//! ```
//!
//! Progress notes ([`note`], only when stderr is a terminal) and diagnostics go to
//! stderr, so `cargo bench ... 2>/dev/null` leaves only result lines. See `benches/README.md` for the benchmarks and how to compare runs.

pub mod calls;
pub mod cli;
pub mod erl;
pub mod latency;
pub mod memory;
pub mod observer;
pub mod results;

pub use cli::Param;
pub use memory::{hwm_kib, pte_kib, rss_kib};

use std::fmt::Display;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use beamlet::{ExitReason, Runtime};

/// The optional last argument of every benchmark: scheduler threads.
pub const SCHEDULERS: Param = Param::new(
    "SCHEDULERS",
    0,
    "scheduler threads, 0 for one per available core",
);

/// Parses a benchmark's command line: integer `params` by position or as
/// `--name VALUE`, `--help`, and the `--bench` flag cargo adds (ignored); returns the
/// values in order. A bad value prints the error and exits with status 2 (see
/// [`cli`]).
pub fn args<const P: usize>(name: &str, about: &str, params: [Param; P]) -> [u64; P] {
    cli::ints(name, about, params, true)
}

/// Builds a runtime with the default settings, or with `schedulers` scheduler threads
/// when it is not zero (the optional last argument of every benchmark).
///
/// With `BEAMLET_OBSERVER` set, the live observer runs on it (see [`observer`]).
pub fn runtime(schedulers: u64) -> Runtime {
    let rt = with_schedulers(Runtime::builder(), schedulers)
        .build()
        .unwrap_or_else(|e| fail(format_args!("building the runtime: {e}")));
    observer::attach(&rt);
    rt
}

/// Applies a non-zero scheduler count to `builder`.
pub fn with_schedulers(
    builder: beamlet::RuntimeBuilder,
    schedulers: u64,
) -> beamlet::RuntimeBuilder {
    match usize::try_from(schedulers) {
        Ok(0) | Err(_) => builder,
        Ok(n) => builder.schedulers(n),
    }
}

/// How long [`shutdown`] waits for processes that are still finishing their exit.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Shuts `rt` down and warns on stderr if processes had to be killed or were stuck.
///
/// A benchmark's processes end on their own, but the last ones may still be exiting
/// when the root returns (a process that sent its final message is not gone yet), so
/// this first waits up to `EXIT_GRACE` (2 s) for the process count to reach zero.
pub fn shutdown(rt: Runtime) {
    observer::detach();
    let deadline = Instant::now() + EXIT_GRACE;
    while rt.process_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(100));
    }
    let report = rt.shutdown();
    if report.killed != 0 || report.stuck != 0 {
        eprintln!(
            "warning: shutdown killed {} process(es), {} stuck",
            report.killed, report.stuck
        );
    }
}

/// Prints a progress note (`spawn_idle: 1000000 processes started; settling`) on
/// stderr when stderr is a terminal: someone watching a long run sees its phases,
/// while logs and the report (which keeps a failed run's last stderr line) get only
/// warnings and failures.
pub fn note(msg: impl Display) {
    if std::io::stderr().is_terminal() {
        eprintln!("{msg}");
    }
}

/// Unwraps the value of `rt.block_on(...)`, exiting with status 1 if the root process
/// did not return normally.
pub fn expect_ok<T>(r: Result<T, ExitReason>) -> T {
    r.unwrap_or_else(|reason| fail(format_args!("the root process exited: {reason:?}")))
}

/// Prints `msg` on stderr and exits with status 1 (a benchmark that went wrong must not
/// print a plausible result line).
pub fn fail(msg: impl Display) -> ! {
    eprintln!("benchmark failed: {msg}");
    std::process::exit(1)
}

/// A timed section's duration and the RSS right after it (taken before tear-down, so
/// that the RSS still includes the processes the section used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timed {
    /// Time from `start` to the end of the section.
    pub elapsed: Duration,
    /// `VmRSS` in KiB at the end of the section.
    pub rss_kib: u64,
}

impl Timed {
    /// Ends a section that began at `start`: stops the clock, then reads the RSS.
    pub fn since(start: Instant) -> Timed {
        let elapsed = start.elapsed();
        Timed {
            elapsed,
            rss_kib: rss_kib(),
        }
    }
}

/// `d` per item in nanoseconds (0 when there are no items).
pub fn ns_per(d: Duration, items: u64) -> f64 {
    if items == 0 {
        return 0.0;
    }
    d.as_secs_f64() * 1e9 / items as f64
}

/// A float with `decimals` digits after the point, for a result value.
pub fn fixed(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

/// The result line of one benchmark run.
///
/// ```
/// use std::time::Duration;
/// let line = beamlet_benches::Report::new("ring", 10, Duration::from_millis(1500))
///     .rss_kib(2048)
///     .key("ns_per_hop", "61.2")
///     .line();
/// assert_eq!(line, "bench=ring impl=beamlet n=10 secs=1.500 rss_kib=2048 ns_per_hop=61.2");
/// ```
#[derive(Debug, Clone)]
pub struct Report {
    name: &'static str,
    n: u64,
    secs: Duration,
    rss_kib: Option<u64>,
    keys: Vec<(String, String)>,
}

impl Report {
    /// A report for benchmark `name` of size `n` whose measured work took `secs`.
    pub fn new(name: &'static str, n: u64, secs: Duration) -> Report {
        Report {
            name,
            n,
            secs,
            rss_kib: None,
            keys: Vec::new(),
        }
    }

    /// The RSS to report; by default the current RSS when the line is built.
    pub fn rss_kib(mut self, kib: u64) -> Report {
        self.rss_kib = Some(kib);
        self
    }

    /// Appends `key=value`.
    pub fn key(mut self, key: impl Into<String>, value: impl Display) -> Report {
        self.keys.push((key.into(), value.to_string()));
        self
    }

    /// The result line, without a newline.
    pub fn line(&self) -> String {
        let rss = self.rss_kib.unwrap_or_else(rss_kib);
        let mut s = format!(
            "bench={} impl=beamlet n={} secs={:.3} rss_kib={rss}",
            self.name,
            self.n,
            self.secs.as_secs_f64()
        );
        for (k, v) in &self.keys {
            s.push_str(&format!(" {k}={v}"));
        }
        s
    }

    /// Prints the result line to stdout.
    pub fn print(&self) {
        println!("{}", self.line());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_item_handles_zero() {
        assert_eq!(ns_per(Duration::from_secs(1), 0), 0.0);
        assert_eq!(ns_per(Duration::from_micros(1), 1_000), 1.0);
    }

    #[test]
    fn line_format() {
        let r = Report::new("x", 3, Duration::from_millis(5))
            .rss_kib(7)
            .key("k", 1);
        assert_eq!(
            r.line(),
            "bench=x impl=beamlet n=3 secs=0.005 rss_kib=7 k=1"
        );
    }
}
