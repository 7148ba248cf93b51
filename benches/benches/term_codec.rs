//! term_codec: criterion micro-benchmarks of the distribution's term codec
//! (`beamlet::otp::dist::term::{encode, decode}`), the cost every message to or
//! from another node pays on top of the local send.
//!
//! Each term is encoded and decoded (throughput in bytes of its encoding):
//! `msg` (`{msg, 17, <<"payload">>}`, the dist bench's message), `gen_call` (an
//! OTP 24 call with its alias tag), `binary_1k`, `ints_1000` (a list of 1,000
//! integers) and `map_100` (100 atom keys).
//!
//! Run with `cargo bench -p beamlet-benches --bench term_codec`.

use std::hint::black_box;
use std::time::Duration;

use beamlet::otp::dist::term::{Atom, ErlRef, Limits, LocalNode, Term, decode, encode};
use criterion::{Criterion, Throughput};

fn local() -> LocalNode {
    LocalNode {
        name: Atom::new("bench@127.0.0.1"),
        creation: 1,
        runtime: 0,
    }
}

fn terms() -> Vec<(&'static str, Term)> {
    let far = beamlet::remote::pid("erl@127.0.0.1", 3, 85, 0).expect("node table");
    let alias = ErlRef {
        node: Atom::new("erl@127.0.0.1"),
        creation: 3,
        ids: vec![1, 2, 3, 4, 5],
    };
    let tag = Term::improper([Term::atom("alias")], Term::Ref(alias));
    let gen_call = Term::tuple([
        Term::atom("$gen_call"),
        Term::tuple([Term::Pid(far), tag]),
        Term::tuple([Term::atom("add"), Term::Int(2)]),
    ]);
    let map = (0..100).map(|i| (Term::atom(&format!("key{i}")), Term::Int(i)));
    vec![
        (
            "msg",
            Term::tuple([Term::atom("msg"), Term::Int(17), Term::binary("payload")]),
        ),
        ("gen_call", gen_call),
        ("binary_1k", Term::Binary(vec![7; 1024])),
        (
            "ints_1000",
            Term::list((0..1000).map(|i| Term::Int(i * 1000))),
        ),
        ("map_100", Term::map(map)),
    ]
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let (local, limits) = (local(), Limits::default());
    let mut group = c.benchmark_group("term_codec");
    for (name, term) in terms() {
        let mut bytes = Vec::new();
        encode(&term, &local, &mut bytes).expect("encodes");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut out = Vec::with_capacity(bytes.len());
        group.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| {
                out.clear();
                encode(black_box(&term), &local, &mut out).expect("encodes");
            })
        });
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| decode(black_box(&bytes), &local, &limits).expect("decodes"))
        });
    }
    group.finish();
    c.final_summary();
}
