//! A terminal view of a running runtime's busiest processes (as Erlang's `etop`):
//! every interval, the top processes by reductions spent since the last sample,
//! message queue length or memory, under a header of runtime-wide figures.
//!
//! 1. [`Top::sample`] scans every process with
//!    [`beamlet_runtime::for_each_process`] (preemptible, no
//!    world stop) and reads [`beamlet_runtime::runtime_stats`].
//! 2. Reductions are shown as the difference from the previous sample (what etop's
//!    `Reds` column is), so the previous sample's counts are kept: one map entry per
//!    live process.
//! 3. Scheduler utilisation is the busy time gained over the wall time passed since
//!    the previous sample.
//! 4. The [`Frame`] prints as a text table ([`Display`]); [`start`] runs a process
//!    that prints one to a writer every interval.
//!
//! `examples/etop.rs` runs it beside a demo workload. For the same data in a browser,
//! see the observer (feature `observer`).

use std::collections::{BinaryHeap, HashMap};
use std::fmt::{self, Display};
use std::io::Write;
use std::time::Duration;

use beamlet_runtime::{
    Pid, ProcessSummary, RuntimeStats, SpawnError, for_each_process, receive_timeout,
    runtime_stats, spawn,
};

/// What the table is sorted by, largest first (etop's `sort` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Reductions spent since the previous sample.
    #[default]
    Reductions,
    /// Messages in the mailbox.
    MessageQueueLen,
    /// Estimated memory.
    Memory,
}

/// One process's line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Row {
    /// The process.
    pub pid: Pid,
    /// Its registered name, else its label, else its behaviour and module, else its
    /// spawn site.
    pub name: String,
    /// Its status as a word (`waiting`, `running`...).
    pub status: &'static str,
    /// Reductions since the previous sample (all of them for a process new since).
    pub reductions: u64,
    /// Messages in its mailbox.
    pub message_queue_len: usize,
    /// Estimated bytes.
    pub memory: usize,
}

/// One sample: the header figures and the top rows.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Frame {
    /// The runtime-wide figures read at the sample.
    pub stats: RuntimeStats,
    /// Utilisation of each scheduler since the previous sample, 0.0 to 1.0.
    pub utilisation: Vec<f64>,
    /// Processes spawned per second since the previous sample.
    pub spawn_rate: f64,
    /// The top rows, sorted.
    pub rows: Vec<Row>,
    /// What they are sorted by.
    pub sort: SortBy,
}

/// The sampler: keeps what the next sample's differences need.
///
/// ```
/// use beamlet::otp::etop::{SortBy, Top};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     beamlet::register("me", beamlet::self_pid()).unwrap();
///     let mut top = Top::new(SortBy::Reductions, 10);
///     let frame = top.sample();
///     assert_eq!(frame.rows[0].name, "me");
///     assert!(frame.to_string().contains("me"));
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug)]
pub struct Top {
    sort: SortBy,
    rows: usize,
    last_reductions: HashMap<Pid, u64>,
    last_stats: Option<RuntimeStats>,
}

impl Top {
    /// A sampler keeping the top `rows` processes by `sort`.
    pub fn new(sort: SortBy, rows: usize) -> Top {
        Top {
            sort,
            rows,
            last_reductions: HashMap::new(),
            last_stats: None,
        }
    }

    /// Takes a sample of the caller's runtime.
    ///
    /// # Panics
    ///
    /// Outside a process.
    pub fn sample(&mut self) -> Frame {
        let mut seen = HashMap::with_capacity(self.last_reductions.len());
        let mut top = BinaryHeap::with_capacity(self.rows + 1);
        for_each_process(|p| {
            let before = self.last_reductions.get(&p.pid).copied().unwrap_or(0);
            let since = p.reductions.saturating_sub(before);
            seen.insert(p.pid, p.reductions);
            let key = match self.sort {
                SortBy::Reductions => since,
                SortBy::MessageQueueLen => p.message_queue_len as u64,
                SortBy::Memory => p.memory as u64,
            };
            // Smallest key on top of the heap: it is the one to drop past `rows`.
            top.push(std::cmp::Reverse((key, Ranked(row(p, since)))));
            if top.len() > self.rows {
                top.pop();
            }
        });
        self.last_reductions = seen;
        let stats = runtime_stats();
        let (utilisation, spawn_rate) = rates(self.last_stats.as_ref(), &stats);
        self.last_stats = Some(stats.clone());
        let mut rows: Vec<Row> = top.into_iter().map(|r| (r.0).1.0).collect();
        rows.sort_by(|a, b| {
            key_of(self.sort, b)
                .cmp(&key_of(self.sort, a))
                .then(a.pid.cmp(&b.pid))
        });
        Frame {
            stats,
            utilisation,
            spawn_rate,
            rows,
            sort: self.sort,
        }
    }
}

/// A row ordered by pid only, so the heap never compares names.
#[derive(Debug)]
struct Ranked(Row);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.0.pid == other.0.pid
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Among equal keys the lower pid ranks higher (it is kept).
        other.0.pid.cmp(&self.0.pid)
    }
}

fn key_of(sort: SortBy, r: &Row) -> u64 {
    match sort {
        SortBy::Reductions => r.reductions,
        SortBy::MessageQueueLen => r.message_queue_len as u64,
        SortBy::Memory => r.memory as u64,
    }
}

fn row(p: &ProcessSummary, reductions: u64) -> Row {
    Row {
        pid: p.pid,
        name: name_of(p),
        status: p.status.as_str(),
        reductions,
        message_queue_len: p.message_queue_len,
        memory: p.memory,
    }
}

/// What a person recognises a process by.
fn name_of(p: &ProcessSummary) -> String {
    if let Some(n) = p.registered_name.as_ref().or(p.label.as_ref()) {
        return n.clone();
    }
    if let Some(b) = p.behaviour {
        return format!("{} {}", b.kind, b.module);
    }
    match p.spawned_at {
        Some(l) => format!("{}:{}", l.file(), l.line()),
        None => String::new(),
    }
}

/// Utilisation per scheduler and spawns per second between two readings.
fn rates(before: Option<&RuntimeStats>, now: &RuntimeStats) -> (Vec<f64>, f64) {
    let Some(before) = before else {
        return (vec![0.0; now.schedulers.len()], 0.0);
    };
    let util = now
        .schedulers
        .iter()
        .zip(&before.schedulers)
        .map(|(n, b)| {
            let wall = n.total.saturating_sub(b.total).as_secs_f64();
            let busy = n.active.saturating_sub(b.active).as_secs_f64();
            if wall > 0.0 {
                (busy / wall).clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect();
    let secs = now.uptime.saturating_sub(before.uptime).as_secs_f64();
    let spawned = now.spawned.saturating_sub(before.spawned) as f64;
    (util, if secs > 0.0 { spawned / secs } else { 0.0 })
}

impl Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        writeln!(f, "{:=<96}", "")?;
        writeln!(
            f,
            " uptime {:>8.1}s   procs {:>9}   spawned/s {:>9.0}   run queue {:>6}   rss {:>8.1} MiB",
            s.uptime.as_secs_f64(),
            s.processes,
            self.spawn_rate,
            s.run_queue_lengths.iter().sum::<usize>(),
            mib(s.rss_bytes),
        )?;
        let util: Vec<String> = self
            .utilisation
            .iter()
            .enumerate()
            .map(|(i, u)| format!("{}:{:>3.0}%", i + 1, u * 100.0))
            .collect();
        writeln!(
            f,
            " schedulers {}   timers {}   sockets {}   stacks {} ({} pooled)",
            util.join(" "),
            s.timers_pending,
            s.sockets_open,
            s.stacks_carved,
            s.stacks_pooled,
        )?;
        writeln!(f, "{:-<96}", "")?;
        writeln!(
            f,
            "{:<16} {:<40} {:<10} {:>10} {:>9} {:>7}",
            "pid",
            "name",
            "status",
            reds_title(self.sort),
            "memory",
            "msgq"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<16} {:<40} {:<10} {:>10} {:>9} {:>7}",
                r.pid.to_string(),
                truncate(&r.name, 40),
                r.status,
                r.reductions,
                r.memory,
                r.message_queue_len
            )?;
        }
        Ok(())
    }
}

fn reds_title(sort: SortBy) -> &'static str {
    match sort {
        SortBy::Reductions => "reds*",
        _ => "reds",
    }
}

/// At most `n` characters, the end kept (module paths differ at the end).
fn truncate(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        return s.to_owned();
    }
    let tail: String = s.chars().skip(count - (n - 1)).collect();
    format!("…{tail}")
}

/// Starts a process that prints a [`Frame`] of its runtime to `out` every
/// `interval`, until it is killed or `out` fails (then it exits normally).
///
/// # Errors
///
/// As [`spawn`].
///
/// # Panics
///
/// Outside a process.
pub fn start<W: Write + Send + 'static>(
    sort: SortBy,
    rows: usize,
    interval: Duration,
    mut out: W,
) -> Result<Pid, SpawnError> {
    spawn(move || {
        beamlet_runtime::set_label("etop");
        let mut top = Top::new(sort, rows);
        loop {
            let frame = top.sample();
            if write!(out, "{frame}").and_then(|()| out.flush()).is_err() {
                return;
            }
            // Woken early by nothing: etop takes no messages.
            let _ = receive_timeout::<()>(interval);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_keep_their_end() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("crate::module::Server", 8), "…:Server");
        assert_eq!(truncate("crate::module::Server", 8).chars().count(), 8);
    }

    #[test]
    fn the_first_sample_has_no_rates() {
        let rt = beamlet_runtime::Runtime::builder().build().unwrap();
        let frame = rt
            .block_on(|| Top::new(SortBy::Memory, 5).sample())
            .unwrap();
        assert_eq!(frame.spawn_rate, 0.0);
        assert!(frame.utilisation.iter().all(|u| *u == 0.0));
        let _ = rt.shutdown();
    }
}
