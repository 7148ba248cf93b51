//! Helpers shared by the integration tests.

#![allow(dead_code, reason = "each test binary uses a subset of the helpers")]

pub(crate) mod dist;
pub(crate) mod erl;
pub(crate) mod http;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamlet::{Report, ReportSink, Runtime};

/// Generous bound for a message that must arrive (only to turn a hang into a failure).
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// A runtime of two schedulers.
pub(crate) fn runtime() -> Runtime {
    Runtime::builder()
        .schedulers(2)
        .build()
        .expect("runtime builds")
}

/// Shuts `rt` down, checking that no process was stuck.
pub(crate) fn stop(rt: Runtime) {
    assert_eq!(rt.shutdown().stuck, 0);
}

/// Runs `f` as the root process of a fresh runtime, under a watchdog.
pub(crate) fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    watchdog(Duration::from_secs(60), move || {
        let rt = runtime();
        let r = rt.block_on(f);
        stop(rt);
        r.unwrap_or_else(|reason| panic!("root process failed: {reason:?}"))
    })
}

/// Runs `f` on its own thread and fails the test if it does not finish within `limit`.
pub(crate) fn watchdog<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("test did not finish within {limit:?} (hang)"),
    }
}

/// The reports a runtime wrote, in order.
pub(crate) type Reports = Arc<Mutex<Vec<Report>>>;

/// A runtime of two schedulers whose reports are recorded instead of written.
pub(crate) fn recording() -> (Runtime, Reports) {
    let reports: Reports = Arc::default();
    let sink = reports.clone();
    let rt = Runtime::builder()
        .schedulers(2)
        .reports(ReportSink::custom(move |r| {
            sink.lock().unwrap().push(r.clone())
        }))
        .build()
        .unwrap();
    (rt, reports)
}
