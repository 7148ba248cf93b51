//! micro: criterion micro-benchmarks of single runtime operations, each run inside a
//! process (the operations only make sense there).
//!
//! - `reduce_1`: one `reduce(1)`, the call user loops make to stay preemptible
//!   (target ≤ 2 ns). Guards the cost of the reduction counter.
//! - `dirty_cpu_round_trip`: a trivial `dirty_cpu` call: submit, run on the pool,
//!   reply, wake (target ≤ 5 µs). Guards the dirty pools' hand-over.
//! - `send_receive_self`: a message to oneself and back out of the mailbox. Guards
//!   the mailbox fast path (allocation, push, drain, scan).
//! - `spawn_exit`: spawning a process that exits at once and waiting for its `Down`.
//!   Guards spawn with a pooled stack and the exit path.
//!
//! Run with `cargo bench -p beamlet-benches --bench micro`.

use std::hint::black_box;
use std::time::Duration;

use beamlet::{Down, Runtime, dirty_cpu, receive, reduce, self_pid, send, spawn_monitor};
use criterion::Criterion;

fn main() {
    // One scheduler and no hand-off: the benchmark process then never leaves the
    // scheduler thread, which matters because `Criterion` holds thread-bound values
    // (it is not `Send`) across the switches the measured operations make.
    let rt = Runtime::builder()
        .schedulers(1)
        .long_schedule(Duration::from_secs(3600))
        .build()
        .expect("runtime");
    rt.block_on(|| {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c);
        c.final_summary();
    })
    .expect("benchmarks");
    let _ = rt.shutdown();
}

fn benches(c: &mut Criterion) {
    c.bench_function("reduce_1", |b| b.iter(|| reduce(black_box(1))));
    c.bench_function("dirty_cpu_round_trip", |b| {
        b.iter(|| dirty_cpu(|| black_box(1u64)).expect("no panic"))
    });
    c.bench_function("send_receive_self", |b| {
        let me = self_pid();
        b.iter(|| {
            send(me, black_box(7u64)).expect("alive");
            receive::<u64>()
        })
    });
    c.bench_function("spawn_exit", |b| {
        b.iter(|| {
            let (pid, _) = spawn_monitor(|| ()).expect("spawn");
            let d = receive::<Down>();
            debug_assert_eq!(d.pid, pid);
        })
    });
}
