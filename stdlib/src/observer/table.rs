//! The process table (`GET /api/processes`) and one process's detail
//! (`GET /api/process/<pid>`).
//!
//! 1. The query gives a sort key and order, a filter (a case-insensitive substring
//!    of pid, name, label, behaviour kind or module, initial call), an offset and a
//!    limit (50 by default, at most 500).
//! 2. [`visit`] goes over every live process once. Each row that passes the filter
//!    is counted and ranked; a [`TopK`] heap keeps only the first `offset + limit`
//!    in sort order, so a table of a million processes holds a page's worth of
//!    rows, not a million. Only the rows of the page are written as JSON.
//! 3. The kept rows, sorted, minus the first `offset`, are the page. Ties in the
//!    sort key are broken by pid, so pages do not overlap or skip rows.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::panic::Location;
use std::time::Duration;

use beamlet_runtime::{OverflowPolicy, Pid, ProcessStatus};

use super::http::{Request, Response};
use super::json::{Array, Object};
use super::routes::no_such_process;

/// The longest a process's detail waits for its behaviour's status.
const STATUS_TIMEOUT: Duration = Duration::from_millis(200);

/// One process as the table shows it.
pub(super) struct Row {
    pub(super) pid: Pid,
    pub(super) name: Option<String>,
    pub(super) label: Option<String>,
    pub(super) status: ProcessStatus,
    pub(super) reductions: u64,
    pub(super) message_queue_len: usize,
    pub(super) memory: usize,
    pub(super) behaviour: Option<(&'static str, &'static str)>,
    pub(super) parent: Option<Pid>,
    pub(super) spawned_at: Option<&'static Location<'static>>,
}

impl Row {
    fn from_summary(p: &beamlet_runtime::ProcessSummary) -> Row {
        Row {
            pid: p.pid,
            name: p.registered_name.clone(),
            label: p.label.clone(),
            status: p.status,
            reductions: p.reductions,
            message_queue_len: p.message_queue_len,
            memory: p.memory,
            behaviour: p.behaviour.map(|b| (b.kind, b.module)),
            parent: p.parent,
            spawned_at: p.spawned_at,
        }
    }

    fn from_info(i: &beamlet_runtime::ProcessInfo) -> Row {
        Row {
            pid: i.pid,
            name: i.registered_name.clone(),
            label: i.label.clone(),
            status: i.status,
            reductions: i.reductions,
            message_queue_len: i.message_queue_len,
            memory: i.memory,
            behaviour: i.behaviour.map(|b| (b.kind, b.module)),
            parent: i.parent,
            spawned_at: i.spawned_at,
        }
    }

    /// Writes the row's fields into `o`.
    fn write(&self, o: &mut Object<'_>) {
        o.pid("pid", self.pid)
            .opt_str("name", self.name.as_deref())
            .opt_str("label", self.label.as_deref())
            .str("status", self.status.as_str())
            .u64("reductions", self.reductions)
            .u64("message_queue_len", self.message_queue_len as u64)
            .u64("memory", self.memory as u64)
            .opt_str("behaviour", self.behaviour.map(|b| b.0))
            .opt_str("module", self.behaviour.map(|b| b.1))
            .opt_str("initial_call", self.spawned_at.map(site).as_deref())
            .opt_pid("parent", self.parent);
    }

    /// Whether the row matches `needle` (already lower-case).
    fn matches(&self, needle: &str) -> bool {
        let texts = [
            self.name.as_deref(),
            self.label.as_deref(),
            self.behaviour.map(|b| b.0),
            self.behaviour.map(|b| b.1),
        ];
        texts.into_iter().flatten().any(|t| contains_ci(t, needle))
            || contains_ci(&self.pid.to_string(), needle)
            || self
                .spawned_at
                .is_some_and(|l| contains_ci(&site(l), needle))
    }
}

/// A spawn site as `file:line:column`.
fn site(l: &Location<'_>) -> String {
    format!("{}:{}:{}", l.file(), l.line(), l.column())
}

/// Whether `hay` contains `needle` (lower-case), ignoring ASCII case.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || hay.windows(needle.len()).any(|w| {
            w.iter()
                .zip(needle)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
        })
}

/// Calls `f` on every live process of the caller's runtime: the runtime's scan,
/// which pays a reduction per process, so the caller is preempted as any long
/// loop and a scan of a million processes does not hold a scheduler.
pub(super) fn visit(mut f: impl FnMut(Row)) {
    beamlet_runtime::for_each_process(|p| f(Row::from_summary(p)));
}

/// The behaviour (kind, module) the process `pid` announced, if it is alive and
/// did.
pub(super) fn behaviour_of(pid: Pid) -> Option<(&'static str, &'static str)> {
    beamlet_runtime::process_info(pid).and_then(|i| Row::from_info(&i).behaviour)
}

/// The columns the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Pid,
    Name,
    Status,
    Reductions,
    MessageQueueLen,
    Memory,
    Behaviour,
}

impl SortKey {
    const ALL: [(&'static str, SortKey); 7] = [
        ("pid", SortKey::Pid),
        ("name", SortKey::Name),
        ("status", SortKey::Status),
        ("reductions", SortKey::Reductions),
        ("message_queue_len", SortKey::MessageQueueLen),
        ("memory", SortKey::Memory),
        ("behaviour", SortKey::Behaviour),
    ];

    fn parse(s: &str) -> Option<SortKey> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, k)| *k)
    }

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(n, _)| n)
    }

    /// The row's value in this column. Text sorts with absent values after present
    /// ones (ascending), so a sort by name lists the named processes first.
    fn rank(self, row: &Row, descending: bool) -> Rank {
        let text = |t: Option<&str>| Value::Text(t.is_none(), t.unwrap_or("").to_string());
        let value = match self {
            SortKey::Pid => Value::Num(0),
            SortKey::Name => text(row.name.as_deref()),
            SortKey::Status => text(Some(row.status.as_str())),
            SortKey::Reductions => Value::Num(row.reductions),
            SortKey::MessageQueueLen => Value::Num(row.message_queue_len as u64),
            SortKey::Memory => Value::Num(row.memory as u64),
            SortKey::Behaviour => text(row.behaviour.map(|b| b.0)),
        };
        Rank {
            value,
            pid: row.pid,
            descending,
        }
    }
}

/// A sort value.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Num(u64),
    Text(bool, String),
}

/// Where a row goes in the table's order: its value, then its pid; `descending`
/// reverses the whole order, so "first" is always the least `Rank`.
#[derive(Debug, PartialEq, Eq)]
struct Rank {
    value: Value,
    pid: Pid,
    descending: bool,
}

impl Ord for Rank {
    fn cmp(&self, other: &Rank) -> Ordering {
        let o = (&self.value, self.pid).cmp(&(&other.value, other.pid));
        if self.descending { o.reverse() } else { o }
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Rank) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The `k` least items offered (by `R`), each with its value `V`, in a max-heap of
/// at most `k` entries.
pub(super) struct TopK<R, V> {
    k: usize,
    heap: BinaryHeap<Entry<R, V>>,
}

/// A heap entry, ordered by its rank alone.
struct Entry<R, V>(R, V);

impl<R: Ord, V> PartialEq for Entry<R, V> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<R: Ord, V> Eq for Entry<R, V> {}
impl<R: Ord, V> PartialOrd for Entry<R, V> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<R: Ord, V> Ord for Entry<R, V> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl<R: Ord, V> TopK<R, V> {
    pub(super) fn new(k: usize) -> TopK<R, V> {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.min(4096) + 1),
        }
    }

    /// Offers an item of rank `rank`; `value` is made only if it is kept.
    pub(super) fn offer(&mut self, rank: R, value: impl FnOnce() -> V) {
        if self.heap.len() < self.k {
            self.heap.push(Entry(rank, value()));
        } else if self.heap.peek().is_some_and(|top| rank < top.0) {
            self.heap.pop();
            self.heap.push(Entry(rank, value()));
        }
    }

    /// The kept items, least first.
    pub(super) fn into_sorted(self) -> Vec<(R, V)> {
        let sorted = self.heap.into_sorted_vec();
        sorted.into_iter().map(|Entry(r, v)| (r, v)).collect()
    }
}

/// A table query, parsed.
struct Query {
    sort: SortKey,
    descending: bool,
    filter: Option<String>,
    offset: usize,
    limit: usize,
}

impl Query {
    fn parse(req: &Request) -> Result<Query, &'static str> {
        let sort = match req.param("sort") {
            None => SortKey::Reductions,
            Some(s) => SortKey::parse(s).ok_or("unknown sort key")?,
        };
        let descending = match req.param("order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => return Err("order is asc or desc"),
        };
        let number = |key, default| match req.param(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| "offset and limit are numbers"),
        };
        Ok(Query {
            sort,
            descending,
            filter: req
                .param("filter")
                .filter(|f| !f.is_empty())
                .map(str::to_lowercase),
            offset: number("offset", 0)?,
            limit: number("limit", 50)?.clamp(1, 500),
        })
    }
}

/// `GET /api/processes`.
pub(super) fn processes(req: &Request) -> Response {
    let q = match Query::parse(req) {
        Ok(q) => q,
        Err(why) => return Response::error(400, why),
    };
    let (mut total, mut matched) = (0u64, 0u64);
    let mut top = TopK::new(q.offset.saturating_add(q.limit));
    visit(|row| {
        total += 1;
        if q.filter.as_deref().is_some_and(|f| !row.matches(f)) {
            return;
        }
        matched += 1;
        top.offer(q.sort.rank(&row, q.descending), || row);
    });
    let mut out = String::new();
    {
        let mut o = Object::new(&mut out);
        o.u64("total", total)
            .u64("matched", matched)
            .u64("offset", q.offset as u64)
            .u64("limit", q.limit as u64)
            .str("sort", q.sort.name())
            .str("order", if q.descending { "desc" } else { "asc" });
        let mut rows = o.array("rows");
        for (_, row) in top.into_sorted().into_iter().skip(q.offset) {
            row.write(&mut rows.object());
        }
    }
    Response::json(200, out)
}

/// `GET /api/process/<pid>`.
pub(super) fn process(pid: Pid) -> Response {
    let Some(info) = beamlet_runtime::process_info(pid) else {
        return no_such_process();
    };
    let row = Row::from_info(&info);
    let mut out = String::new();
    {
        let mut o = Object::new(&mut out);
        row.write(&mut o);
        pids(o.array("links"), &info.links);
        pids(o.array("monitors"), &info.monitors);
        pids(o.array("monitored_by"), &info.monitored_by);
        o.bool("trap_exit", info.trap_exit)
            .str("priority", &format!("{:?}", info.priority).to_lowercase())
            .u64("scheduler", info.scheduler as u64)
            .u64("stack_used", info.stack_used as u64)
            .u64("stack_reserved", info.stack_reserved as u64);
        match info.mailbox_limit {
            Some(l) => {
                let policy = match l.policy {
                    OverflowPolicy::DropNewest => "drop_newest",
                    OverflowPolicy::DropOldest => "drop_oldest",
                    OverflowPolicy::Kill => "kill",
                };
                o.object("mailbox_limit")
                    .u64("max", l.max as u64)
                    .str("policy", policy);
            }
            None => {
                o.null("mailbox_limit");
            }
        }
        status_detail(&mut o, &row);
    }
    Response::json(200, out)
}

fn pids(mut a: Array<'_>, pids: &[Pid]) {
    for p in pids {
        a.pid(*p);
    }
}

/// `"status_detail"`: what `sys::get_status` says of a behaviour's process (a
/// plain process is not asked: it would never answer, and the request would stay
/// in its mailbox).
fn status_detail(o: &mut Object<'_>, row: &Row) {
    let status = match row.behaviour {
        Some(_) => crate::sys::get_status_timeout(row.pid, STATUS_TIMEOUT).ok(),
        None => None,
    };
    match status {
        Some(s) => {
            o.object("status_detail")
                .str("behaviour", s.kind)
                .str("module", s.module)
                .bool("suspended", s.suspended)
                .opt_str("state", s.state.as_deref());
        }
        None => {
            o.null("status_detail");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_the_least_k_in_order() {
        let mut top = TopK::new(3);
        let mut made = 0;
        for n in [5, 1, 9, 3, 7, 2, 8] {
            top.offer(n, || {
                made += 1;
                n * 10
            });
        }
        let kept: Vec<_> = top.into_sorted();
        assert_eq!(kept, vec![(1, 10), (2, 20), (3, 30)]);
        assert!(made < 7, "values are made only for items the heap takes");
    }

    #[test]
    fn top_k_of_zero_and_of_more_than_offered() {
        let mut none = TopK::new(0);
        none.offer(1, || ());
        assert!(none.into_sorted().is_empty());
        let mut all = TopK::new(10);
        for n in [3, 1, 2] {
            all.offer(n, || n);
        }
        assert_eq!(
            all.into_sorted()
                .into_iter()
                .map(|(r, _)| r)
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[test]
    fn ranks_reverse_when_descending_and_tie_break_by_pid() {
        let rank = |v, desc| Rank {
            value: Value::Num(v),
            pid: Pid::NO_PROCESS,
            descending: desc,
        };
        assert!(rank(1, false) < rank(2, false));
        assert!(rank(2, true) < rank(1, true));
        let named = Value::Text(false, "b".into());
        let unnamed = Value::Text(true, String::new());
        assert!(Value::Text(false, "a".into()) < named && named < unnamed);
    }

    #[test]
    fn filters_ignore_ascii_case() {
        assert!(contains_ci("Shop_Cache", "cache"));
        assert!(contains_ci("x", ""));
        assert!(!contains_ci("cac", "cache"));
    }
}
