//! Collecting many tasks at once (Elixir's `Task.await_many` and `Task.yield_many`).
//!
//! 1. Every task is checked first (owner, not taken): one bad task fails the whole
//!    call before anything is received.
//! 2. [`gather`] takes, in arrival order, the messages about any task still
//!    pending (one selective receive over all of them, so a slow first task does
//!    not delay collecting the others), settling each task as its message comes,
//!    until all are settled or the shared deadline passes.
//! 3. `wait_many` stops at the first error and kills the tasks still pending, as
//!    on a timeout; `try_wait_many` leaves them running.

use std::collections::HashMap;
use std::time::Duration;

use beamlet_runtime::{Alias, Down, Message, MonitorRef, receive_select};

use super::{Task, TaskError, TaskReply, kill};
use crate::behaviour::bounded;

/// Awaits every task, up to `timeout` for all of them together (Elixir's
/// `Task.await_many`); the results are in the order of `tasks`.
///
/// # Errors
///
/// The first error (as [`Task::wait`]); every
/// task not yet finished is then killed, as on a timeout (Elixir's caller would
/// exit, taking them with it).
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::task::{self, DEFAULT_TIMEOUT};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let tasks: Vec<_> = (1..=3u64)
///         .map(|i| task::spawn(move || { beamlet::sleep(Duration::from_millis(10 / i)); i }).unwrap())
///         .collect();
///     assert_eq!(task::wait_many(tasks, DEFAULT_TIMEOUT), Ok(vec![1, 2, 3]));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn wait_many<T: Send + 'static>(
    tasks: Vec<Task<T>>,
    timeout: Duration,
) -> Result<Vec<T>, TaskError> {
    for t in &tasks {
        t.collectable()?;
    }
    let all: Vec<&Task<T>> = tasks.iter().collect();
    let results = gather(&all, timeout, true);
    let pending: Vec<&Task<T>> = all
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_none())
        .map(|(t, _)| *t)
        .collect();
    let first_error = results.iter().find_map(|r| match r {
        Some(Err(e)) => Some(e.clone()),
        _ => None,
    });
    if !pending.is_empty() {
        kill(&pending);
        return Err(first_error.unwrap_or(TaskError::Timeout));
    }
    results.into_iter().flatten().collect()
}

/// Waits up to `timeout` (for all of them together) for every task without
/// giving up on any (Elixir's `Task.yield_many`): one entry per task, in order,
/// as [`Task::try_wait`] gives it. Tasks still
/// running (`None`) can be yielded again (a task whose result was taken then
/// gives `Err(Taken)`), awaited or shut down.
///
/// ```
/// use std::time::Duration;
/// use beamlet::otp::supervisor::Shutdown;
/// use beamlet::otp::task;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     let mut tasks = vec![
///         task::spawn(|| 1u8).unwrap(),
///         task::spawn(|| beamlet::receive::<u8>()).unwrap(),
///     ];
///     let got = task::try_wait_many(&mut tasks, Duration::from_millis(50));
///     assert_eq!(got, [Some(Ok(1)), None]);
///     let stuck = tasks.pop().unwrap();
///     assert_eq!(stuck.shutdown(Shutdown::BrutalKill), None);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn try_wait_many<T: Send + 'static>(
    tasks: &mut [Task<T>],
    timeout: Duration,
) -> Vec<Option<Result<T, TaskError>>> {
    let not_owner = |e: &TaskError| matches!(e, TaskError::NotOwner { .. });
    if let Some(e) = tasks
        .iter()
        .find_map(|t| t.collectable().err().filter(not_owner))
    {
        return tasks.iter().map(|_| Some(Err(e.clone()))).collect();
    }
    // Tasks already yielded stay `Taken`; the others are gathered.
    let open: Vec<usize> = (0..tasks.len()).filter(|&i| !tasks[i].taken).collect();
    let gathered = gather(
        &open.iter().map(|&i| &tasks[i]).collect::<Vec<_>>(),
        timeout,
        false,
    );
    let mut results: Vec<Option<Result<T, TaskError>>> =
        tasks.iter().map(|_| Some(Err(TaskError::Taken))).collect();
    for (i, r) in open.into_iter().zip(gathered) {
        tasks[i].taken = r.is_some();
        results[i] = r;
    }
    results
}

/// Settles tasks as their messages arrive until all are settled, `timeout`
/// passes, or (with `stop_on_error`) one fails; `None` for those left pending.
fn gather<T: Send + 'static>(
    tasks: &[&Task<T>],
    timeout: Duration,
    stop_on_error: bool,
) -> Vec<Option<Result<T, TaskError>>> {
    let deadline = bounded(Some(timeout)).map(|d| beamlet_runtime::now() + d);
    let mut by_alias: HashMap<Alias, usize> = HashMap::new();
    let mut by_monitor: HashMap<MonitorRef, usize> = HashMap::new();
    for (i, t) in tasks.iter().enumerate() {
        by_alias.insert(t.reply_to, i);
        by_monitor.insert(t.monitor, i);
    }
    let mut results: Vec<Option<Result<T, TaskError>>> = tasks.iter().map(|_| None).collect();
    while !by_alias.is_empty() {
        let wait = deadline.map(|d| d.saturating_duration_since(beamlet_runtime::now()));
        let index = |m: &Message| match m.downcast_ref::<TaskReply<T>>() {
            Some(r) => by_alias.get(&r.to).copied(),
            None => m
                .downcast_ref::<Down>()
                .and_then(|d| by_monitor.get(&d.monitor).copied()),
        };
        let Some(msg) = receive_select(None, |m| index(m).is_some(), wait) else {
            break;
        };
        let i = index(&msg).expect("selected by index");
        by_alias.remove(&tasks[i].reply_to);
        by_monitor.remove(&tasks[i].monitor);
        let result = tasks[i].settle(msg);
        let failed = result.is_err();
        results[i] = Some(result);
        if failed && stop_on_error {
            break;
        }
    }
    results
}
