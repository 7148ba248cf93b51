//! Bounded concurrency over a collection (as Elixir's `Task.async_stream`).
//!
//! 1. The stream is lazy: nothing runs until it is iterated. Each `next` first
//!    tops the running tasks up to `max_concurrency`, spawning one task per item
//!    (as [`spawn`](super::spawn): linked to and monitored by the caller).
//! 2. A task's slot is freed only when its monitor's `Down` arrives, not when its
//!    result does: no more than `max_concurrency` task processes are ever alive.
//! 3. Each task has `timeout` from its spawn. When it passes without a result,
//!    [`OnTimeout::KillTask`] kills that task and yields `Err(Timeout)` for its
//!    item; [`OnTimeout::Exit`] (the default, Elixir's `:exit`) kills every task
//!    and yields `Err(Timeout)` as the stream's last item.
//! 4. Ordered (the default), results come in input order, those that finish early
//!    waiting for their turn; unordered, as they finish.
//! 5. Dropping the stream before its end kills the tasks still running (as a
//!    halted Elixir stream shuts them down).
//!
//! The tasks of [`async_stream`] are linked to the caller, so (as in Elixir) a
//! crashing item kills a caller that does not trap exits; in a trapping caller
//! the item yields `Err(TaskError::Exit(reason))`. The tasks of
//! [`Supervisor::async_stream_nolink`] are started unlinked by a task
//! supervisor: a crashing item yields `Err(TaskError::Exit(reason))` whatever
//! the caller. The stream is bound to the process that made it
//! (it is not `Send`), since only that process receives its tasks' messages.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beamlet_runtime::{Alias, Down, Message, MonitorRef, receive_select};

use super::{DEFAULT_TIMEOUT, Supervisor, Task, TaskError, TaskReply, kill, spawn};
use crate::behaviour::bounded;

/// What a stream does when an item's task runs past the timeout.
///
/// ```
/// use beamlet::otp::task::OnTimeout;
/// assert_eq!(OnTimeout::default(), OnTimeout::Exit);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnTimeout {
    /// Kill every task and end the stream after one `Err(Timeout)` (Elixir's
    /// `:exit`, where the caller exits).
    #[default]
    Exit,
    /// Kill that task, yield `Err(Timeout)` for its item, and go on.
    KillTask,
}

/// The options of [`async_stream`]; the defaults are Elixir's.
///
/// ```
/// use beamlet::otp::task::{OnTimeout, StreamOptions};
/// let o = StreamOptions { max_concurrency: 4, ..StreamOptions::default() };
/// assert!(o.ordered);
/// assert_eq!(o.timeout.as_millis(), 5000);
/// assert_eq!(o.on_timeout, OnTimeout::Exit);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// At most this many tasks alive at once (at least 1). Default: the
    /// machine's available parallelism, which is the runtime's default scheduler
    /// count (Elixir's `System.schedulers_online()`).
    pub max_concurrency: usize,
    /// Results in input order (`true`, the default) or as they finish.
    pub ordered: bool,
    /// How long each task may run, from its spawn (`Duration::MAX`: no limit).
    pub timeout: Duration,
    /// What a timeout does.
    pub on_timeout: OnTimeout,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            max_concurrency: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ordered: true,
            timeout: DEFAULT_TIMEOUT,
            on_timeout: OnTimeout::Exit,
        }
    }
}

/// Runs `f` on every item of `items` in tasks, at most
/// `opts.max_concurrency` at once; an iterator of one result per item (see the
/// module header for order, timeouts and crashes).
///
/// ```
/// use beamlet::otp::task::{self, StreamOptions};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let squares = rt.block_on(|| {
///     let opts = StreamOptions { max_concurrency: 2, ..StreamOptions::default() };
///     task::async_stream(1..=5u64, |i| i * i, opts)
///         .map(Result::unwrap)
///         .collect::<Vec<_>>()
/// }).unwrap();
/// assert_eq!(squares, [1, 4, 9, 16, 25]);
/// rt.shutdown();
/// ```
pub fn async_stream<It, F, R>(
    items: It,
    f: F,
    opts: StreamOptions,
) -> AsyncStream<It::IntoIter, F, R>
where
    It: IntoIterator,
    It::Item: Send + 'static,
    F: Fn(It::Item) -> R + Send + Sync + 'static,
    R: Send + 'static,
{
    build(items, f, opts, None)
}

/// The stream of [`async_stream`], or of
/// [`Supervisor::async_stream_nolink`] when `via` is a task supervisor.
pub(super) fn build<It, F, R>(
    items: It,
    f: F,
    opts: StreamOptions,
    via: Option<Supervisor>,
) -> AsyncStream<It::IntoIter, F, R>
where
    It: IntoIterator,
    It::Item: Send + 'static,
    F: Fn(It::Item) -> R + Send + Sync + 'static,
    R: Send + 'static,
{
    AsyncStream {
        items: items.into_iter(),
        exhausted: false,
        f: Arc::new(f),
        via,
        opts: StreamOptions {
            max_concurrency: opts.max_concurrency.max(1),
            ..opts
        },
        spawned: 0,
        emitted: 0,
        running: HashMap::new(),
        by_alias: HashMap::new(),
        ready: BTreeMap::new(),
        finished: VecDeque::new(),
        halted: false,
        _bound: PhantomData,
    }
}

/// One running item: its task, position and deadline, and its result once sent
/// (the slot stays taken until the task's `Down`).
struct Slot<R> {
    task: Task<R>,
    index: usize,
    deadline: Option<Instant>,
    result: Option<Result<R, TaskError>>,
}

/// The iterator [`async_stream`] returns. It is not `Send`: its tasks report to
/// the process that made it, so it cannot move to another.
///
/// ```compile_fail
/// use beamlet::otp::task::{self, StreamOptions};
/// fn needs_send<T: Send>(_: T) {}
/// needs_send(task::async_stream(0..1u8, |i| i, StreamOptions::default()));
/// ```
///
/// See [`async_stream`] for a use.
pub struct AsyncStream<I, F, R: Send + 'static> {
    items: I,
    /// `items` returned `None`.
    exhausted: bool,
    f: Arc<F>,
    /// The task supervisor that starts unlinked tasks (`async_stream_nolink`),
    /// or `None` for tasks linked to the caller.
    via: Option<Supervisor>,
    opts: StreamOptions,
    /// Items spawned so far (the next item's index).
    spawned: usize,
    /// Results yielded so far (the next index due, when ordered).
    emitted: usize,
    /// Running tasks by their monitor.
    running: HashMap<MonitorRef, Slot<R>>,
    /// Running tasks' reply aliases, to their monitor.
    by_alias: HashMap<Alias, MonitorRef>,
    /// Finished results by index (ordered).
    ready: BTreeMap<usize, Result<R, TaskError>>,
    /// Finished results in finishing order (unordered, or the last of a halt).
    finished: VecDeque<Result<R, TaskError>>,
    /// A timeout with `OnTimeout::Exit` ended the stream.
    halted: bool,
    /// Not `Send`: the tasks' messages come to the process that made the stream.
    _bound: PhantomData<*const ()>,
}

impl<I, F, R: Send + 'static> std::fmt::Debug for AsyncStream<I, F, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncStream")
            .field("opts", &self.opts)
            .field("spawned", &self.spawned)
            .field("emitted", &self.emitted)
            .field("running", &self.running.len())
            .field("halted", &self.halted)
            .finish_non_exhaustive()
    }
}

impl<I, F, R> Iterator for AsyncStream<I, F, R>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> R + Send + Sync + 'static,
    R: Send + 'static,
{
    type Item = Result<R, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.pop_ready() {
                return Some(r);
            }
            if self.halted {
                return None;
            }
            self.fill();
            if self.running.is_empty() {
                // Every item is done; items that failed to start filed their error.
                return self.pop_ready();
            }
            self.wait_one();
        }
    }
}

impl<I, F, R> AsyncStream<I, F, R>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> R + Send + Sync + 'static,
    R: Send + 'static,
{
    /// The next result due, if it is in.
    fn pop_ready(&mut self) -> Option<Result<R, TaskError>> {
        let r = match self.finished.pop_front() {
            Some(r) => r,
            None => self.ready.remove(&self.emitted)?,
        };
        self.emitted += 1;
        Some(r)
    }

    /// Spawns tasks for the next items while there is room.
    fn fill(&mut self) {
        while !self.exhausted && self.running.len() < self.opts.max_concurrency {
            let Some(item) = self.items.next() else {
                self.exhausted = true;
                return;
            };
            let index = self.spawned;
            self.spawned += 1;
            let f = Arc::clone(&self.f);
            let job = move || f(item);
            let started = match self.via {
                None => spawn(job).map_err(TaskError::Spawn),
                Some(sup) => sup.spawn_nolink(job).map_err(TaskError::Supervisor),
            };
            match started {
                Ok(task) => {
                    let deadline =
                        bounded(Some(self.opts.timeout)).map(|d| beamlet_runtime::now() + d);
                    self.by_alias.insert(task.reply_to, task.monitor);
                    let slot = Slot {
                        task,
                        index,
                        deadline,
                        result: None,
                    };
                    self.running.insert(slot.task.monitor, slot);
                }
                Err(e) => self.finish(index, Err(e)),
            }
        }
    }

    /// Files a finished item's result.
    fn finish(&mut self, index: usize, result: Result<R, TaskError>) {
        match self.opts.ordered {
            true => {
                self.ready.insert(index, result);
            }
            false => self.finished.push_back(result),
        }
    }

    /// Waits for one message about a running task, or acts on a passed deadline.
    fn wait_one(&mut self) {
        let earliest = self
            .running
            .values()
            .filter(|s| s.result.is_none())
            .filter_map(|s| s.deadline)
            .min();
        let now = beamlet_runtime::now();
        if earliest.is_some_and(|d| d <= now) {
            return self.on_deadline(now);
        }
        let wait = earliest.map(|d| d - now);
        let (running, by_alias) = (&self.running, &self.by_alias);
        let ours = |m: &Message| {
            m.downcast_ref::<TaskReply<R>>()
                .is_some_and(|r| by_alias.contains_key(&r.to))
                || m.downcast_ref::<Down>()
                    .is_some_and(|d| running.contains_key(&d.monitor))
        };
        match receive_select(None, ours, wait) {
            Some(msg) => self.on_message(msg),
            None => self.on_deadline(beamlet_runtime::now()),
        }
    }

    fn on_message(&mut self, msg: Message) {
        let msg = match msg.downcast::<TaskReply<R>>() {
            Ok(reply) => {
                let mref = self.by_alias[&reply.to];
                let slot = self.running.get_mut(&mref).expect("aliases track slots");
                slot.result = Some(reply.outcome.map_err(TaskError::Exit));
                return;
            }
            Err(msg) => msg,
        };
        let down = msg
            .downcast::<Down>()
            .expect("only replies and Downs are taken");
        let slot = self
            .running
            .remove(&down.monitor)
            .expect("Downs track slots");
        self.by_alias.remove(&slot.task.reply_to);
        let result = match slot.result {
            // The monitor already fired: settling only flushes and unaliases.
            Some(Ok(v)) => slot.task.settle_outcome(Ok(v), true),
            Some(Err(TaskError::Exit(r))) => slot.task.settle_outcome(Err(r), true),
            Some(Err(other)) => Err(other),
            None => slot.task.settle_down(down.reason),
        };
        self.finish(slot.index, result);
    }

    /// Deadlines have passed (as of `now`) for tasks with no result yet.
    fn on_deadline(&mut self, now: Instant) {
        let late: Vec<MonitorRef> = self
            .running
            .iter()
            .filter(|(_, s)| s.result.is_none() && s.deadline.is_some_and(|d| d <= now))
            .map(|(&m, _)| m)
            .collect();
        match self.opts.on_timeout {
            OnTimeout::KillTask => {
                let slots: Vec<Slot<R>> =
                    late.iter().filter_map(|m| self.running.remove(m)).collect();
                kill(&slots.iter().map(|s| &s.task).collect::<Vec<_>>());
                for s in slots {
                    self.by_alias.remove(&s.task.reply_to);
                    self.finish(s.index, Err(TaskError::Timeout));
                }
            }
            OnTimeout::Exit => {
                self.kill_all();
                self.ready.clear();
                self.finished.clear();
                self.finished.push_back(Err(TaskError::Timeout));
                self.halted = true;
            }
        }
    }

    /// Kills every running task (those whose result is in as well: they are
    /// exiting, and the kill only waits for their `Down`).
    fn kill_all(&mut self) {
        let slots: Vec<Slot<R>> = self.running.drain().map(|(_, s)| s).collect();
        self.by_alias.clear();
        kill(&slots.iter().map(|s| &s.task).collect::<Vec<_>>());
    }
}

impl<I, F, R: Send + 'static> Drop for AsyncStream<I, F, R> {
    fn drop(&mut self) {
        // While unwinding (the process is ending) its links take the tasks down;
        // a runtime call here could only complicate the unwind.
        if self.running.is_empty() || std::thread::panicking() {
            return;
        }
        let tasks: Vec<&Task<R>> = self.running.values().map(|s| &s.task).collect();
        kill(&tasks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_concurrency_is_raised_to_one() {
        let s = async_stream(
            0..1u8,
            |i| i,
            StreamOptions {
                max_concurrency: 0,
                ..StreamOptions::default()
            },
        );
        assert_eq!(s.opts.max_concurrency, 1);
    }
}
