//! etop: the busiest processes of a running runtime, printed every second (as
//! Erlang's `etop`), beside a small workload to watch.
//!
//! ```text
//! cargo run --release --example etop                 # 30 s, sorted by reductions
//! cargo run --release --example etop -- 60 20 1      # 60 s, 20 rows, by queue length
//! BEAMLET_CI=1 cargo run --release --example etop    # three frames, 0.2 s apart
//! ```
//!
//! The workload: `cruncher` spends reductions in a loop, `backlog` takes a message
//! every 20 ms while `flood` sends it 100 a second (its queue grows), `churn` spawns
//! short-lived processes, and 10,000 idle processes wait. The view is
//! `beamlet::otp::etop`: each frame scans every process with `for_each_process`
//! (preempted like any long loop, so the workload keeps running) and reads
//! `runtime_stats`; reductions are counted since the previous frame.

mod common;

use std::time::Duration;

use beamlet::otp::etop::{self, SortBy};
use beamlet::{receive, receive_timeout, reduce, register, self_pid, send, sleep, spawn};

/// The command line: `etop [SECONDS] [ROWS] [SORT]`.
struct Options {
    seconds: u64,
    rows: usize,
    sort: SortBy,
    interval: Duration,
}

fn options() -> Options {
    let ci = std::env::var("BEAMLET_CI").is_ok_and(|v| v == "1");
    let [seconds, rows, sort] = common::cli::ints(
        "etop",
        "etop: the busiest processes, printed every second, beside a demo workload.\n\n\
         Environment: BEAMLET_CI=1 prints three frames 0.2 s apart and exits.",
        [
            common::cli::Param::new("SECONDS", 30, "how long to run"),
            common::cli::Param::new("ROWS", 15, "processes shown"),
            common::cli::Param::new("SORT", 0, "0: reductions, 1: queue length, 2: memory").max(2),
        ],
        false,
    );
    let sort = match sort {
        1 => SortBy::MessageQueueLen,
        2 => SortBy::Memory,
        _ => SortBy::Reductions,
    };
    let rows = usize::try_from(rows).unwrap_or(usize::MAX).max(1);
    match ci {
        true => Options {
            seconds: 0,
            rows,
            sort,
            interval: Duration::from_millis(200),
        },
        false => Options {
            seconds,
            rows,
            sort,
            interval: Duration::from_secs(1),
        },
    }
}

fn main() -> std::process::ExitCode {
    let opts = options();
    beamlet::run(move || {
        start_workload();
        // CI: three frames; otherwise one a second for the run's length.
        let run_for = match opts.seconds {
            0 => opts.interval * 3 - opts.interval / 2,
            s => Duration::from_secs(s),
        };
        let view = etop::start(opts.sort, opts.rows, opts.interval, std::io::stdout())
            .expect("spawn etop");
        sleep(run_for);
        beamlet::exit_pid(view, beamlet::ExitReason::Kill);
    })
}

/// Starts the processes the view shows.
fn start_workload() {
    spawn(|| {
        register("cruncher", self_pid()).unwrap();
        loop {
            reduce(1);
        }
    })
    .unwrap();
    let backlog = spawn(|| {
        register("backlog", self_pid()).unwrap();
        // Its queue length is read by the view: counted as messages arrive.
        beamlet::message_queue_len_of(self_pid());
        loop {
            receive::<u64>();
            sleep(Duration::from_millis(20));
        }
    })
    .unwrap();
    spawn(move || {
        register("flood", self_pid()).unwrap();
        for i in 0.. {
            let _ = send(backlog, i);
            sleep(Duration::from_millis(10));
        }
    })
    .unwrap();
    spawn(|| {
        register("churn", self_pid()).unwrap();
        loop {
            for _ in 0..100 {
                spawn(|| reduce(100)).unwrap();
            }
            sleep(Duration::from_millis(100));
        }
    })
    .unwrap();
    for _ in 0..10_000 {
        spawn(|| {
            let _ = receive_timeout::<()>(Duration::from_secs(3600));
        })
        .unwrap();
    }
}
