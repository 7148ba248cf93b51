//! skynet: the classic skynet benchmark — a tree of processes ten wide.
//!
//! Usage: `skynet [N=1000000] [SCHEDULERS=0]`, N a power of ten. A process responsible
//! for the numbers `num..num + size` spawns ten children for the ten tenths of its
//! range, sums their answers and sends the sum to its parent; a process with a range
//! of one (a leaf) sends its number. The root checks that the total is N(N−1)/2
//! (499999500000 for N = 10^6) and aborts with an error otherwise. With N = 10^6 the
//! tree has 1,111,111 processes, more than the default `max_processes` (2^20), so the
//! runtime is built with a limit that fits the whole tree (see `runtime_for`).
//!
//! Keys: `ms` (time until the root has the total), `hwm_kib` (peak RSS, VmHWM), `sum`.
//!
//! Guards against regressions in bursty spawn and exit (slot and stack allocation and
//! return, stack pooling and trimming), in work stealing of freshly spawned processes,
//! and in the peak memory of a large short-lived process population.

use std::time::Instant;

use beamlet::{DEFAULT_MAX_PROCESSES, Pid, Runtime, receive, self_pid, send, spawn};
use beamlet_benches::{
    Param, Report, SCHEDULERS, Timed, args, expect_ok, fail, fixed, hwm_kib, shutdown,
    with_schedulers,
};

/// Children per inner node.
const WIDTH: u64 = 10;

fn main() {
    let [n, schedulers] = args(
        "skynet",
        "skynet: a tree of processes, 10 children each, summing the numbers of N leaves.",
        [
            Param::new("N", 1_000_000, "leaves, a power of ten"),
            SCHEDULERS,
        ],
    );
    if !is_power_of_ten(n) {
        eprintln!("skynet: N must be a power of ten, got {n} (see --help)");
        std::process::exit(2);
    }
    let rt = runtime_for(n, schedulers);
    let (sum, t) = expect_ok(rt.block_on(move || run(n)));
    let hwm = hwm_kib();
    shutdown(rt);
    let want = n * (n - 1) / 2;
    if sum != want {
        fail(format_args!("sum {sum}, expected {want}"));
    }
    Report::new("skynet", n, t.elapsed)
        .rss_kib(t.rss_kib)
        .key("ms", fixed(t.elapsed.as_secs_f64() * 1e3, 1))
        .key("hwm_kib", hwm)
        .key("sum", sum)
        .print();
}

/// The default runtime, with room for the whole tree: run breadth-first (spawned
/// processes queue behind their parents) nearly every node is alive at once, and
/// 1,111,111 exceeds the default limit of 2^20.
fn runtime_for(n: u64, schedulers: u64) -> Runtime {
    let nodes = usize::try_from(tree_size(n)).unwrap_or(usize::MAX);
    let max = DEFAULT_MAX_PROCESSES.max(nodes.saturating_add(64));
    with_schedulers(Runtime::builder().max_processes(max), schedulers)
        .build()
        .unwrap_or_else(|e| fail(format_args!("building the runtime: {e}")))
}

/// Processes in the tree for `n` leaves (n a power of ten): n + n/10 + ... + 1.
fn tree_size(n: u64) -> u64 {
    std::iter::successors(Some(n), |&s| (s > 1).then_some(s / WIDTH)).sum()
}

fn is_power_of_ten(mut n: u64) -> bool {
    while n >= WIDTH && n.is_multiple_of(WIDTH) {
        n /= WIDTH;
    }
    n == 1
}

/// The root process: starts the tree and waits for its total.
fn run(n: u64) -> (u64, Timed) {
    let root = self_pid();
    let t = Instant::now();
    spawn_node(root, 0, n);
    let sum = receive::<u64>();
    (sum, Timed::since(t))
}

fn spawn_node(parent: Pid, num: u64, size: u64) {
    if let Err(e) = spawn(move || node(parent, num, size)) {
        fail(format_args!("spawn of node {num}/{size}: {e}"));
    }
}

/// One node of the tree: a leaf answers its number, an inner node the sum of its
/// children's answers.
fn node(parent: Pid, num: u64, size: u64) {
    let answer = if size == 1 {
        num
    } else {
        children_sum(num, size)
    };
    if send(parent, answer).is_err() {
        fail(format_args!("the parent of node {num}/{size} is dead"));
    }
}

fn children_sum(num: u64, size: u64) -> u64 {
    let me = self_pid();
    let part = size / WIDTH;
    for i in 0..WIDTH {
        spawn_node(me, num + i * part, part);
    }
    (0..WIDTH).map(|_| receive::<u64>()).sum()
}
