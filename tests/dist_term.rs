//! The term codec through the facade (`beamlet::otp::dist::term`): against a real
//! Erlang (OTP 25's `erl`), as a property over random terms, and with the deepest
//! accepted term inside a beamlet process.

use std::process::Command;

use beamlet::otp::dist::term::{
    Atom, DecodeCause, ErlPort, ErlRef, Limits, LocalNode, Term, decode, encode,
};
use proptest::prelude::*;

fn local() -> LocalNode {
    LocalNode {
        name: Atom::new("beamlet@host"),
        creation: 1,
        runtime: 0,
    }
}

/// Runs `erl -noshell -eval expr`; `None` (with a note) when there is no `erl`.
fn erl(expr: &str) -> Option<String> {
    match Command::new("erl")
        .args(["-noshell", "-eval", expr])
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "erl failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).expect("erl prints ASCII"))
        }
        Err(e) => {
            eprintln!("note: skipping the erl test, no erl found ({e})");
            None
        }
    }
}

/// Erlang terms the test asks erl to encode, one expression each.
const ERLANG_TERMS: &[&str] = &[
    "ok",
    "'hello world'",
    "list_to_atom([104,233,108,108,111])",
    "1",
    "-1",
    "300",
    "1 bsl 40",
    "-(1 bsl 70)",
    "1 bsl 2100",
    "3.14",
    "-2.5e-300",
    "[]",
    "{}",
    "<<>>",
    "<<\"hi\">>",
    "<<1,2,3:5>>",
    "[1,2|3]",
    "\"abc\"",
    "[1000,2000]",
    "#{a => 1, <<\"k\">> => [1,2]}",
    "maps:from_list([{X, {X}} || X <- lists:seq(1, 40)])",
    "{a,{b,{c,[d]}}}",
    "list_to_pid(\"<0.85.0>\")",
    "make_ref()",
    "hd(erlang:ports())",
    "fun lists:map/2",
    "fun(X) -> X + 1 end",
    "{'$gen_call',{self(),[alias|make_ref()]},{add,1}}",
];

fn parse_bytes(line: &str) -> Vec<u8> {
    let inner = line.trim().trim_start_matches('[').trim_end_matches(']');
    inner
        .split(',')
        .map(|n| n.trim().parse().expect("a byte"))
        .collect()
}

fn erl_list(bytes: &[u8]) -> String {
    let items: Vec<String> = bytes.iter().map(u8::to_string).collect();
    format!("[{}]", items.join(","))
}

#[test]
fn terms_from_erl_decode_and_our_encoding_reads_back_equal_in_erl() {
    let exprs = ERLANG_TERMS.join(", ");
    let print = format!(
        "[io:format(\"~w~n\", [binary_to_list(term_to_binary(T))]) || T <- [{exprs}]], halt()."
    );
    let Some(out) = erl(&print) else { return };
    let originals: Vec<Vec<u8>> = out.lines().map(parse_bytes).collect();
    assert_eq!(originals.len(), ERLANG_TERMS.len());
    let mut checks = Vec::new();
    for (bytes, expr) in originals.iter().zip(ERLANG_TERMS) {
        let (term, used) =
            decode(bytes, &local(), &Limits::default()).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(used, bytes.len(), "{expr}");
        let mut again = Vec::new();
        encode(&term, &local(), &mut again).expect("encodes");
        assert_eq!(
            decode(&again, &local(), &Limits::default()).unwrap().0,
            term,
            "{expr}"
        );
        checks.push(format!(
            "binary_to_term(list_to_binary({})) =:= binary_to_term(list_to_binary({}))",
            erl_list(bytes),
            erl_list(&again)
        ));
    }
    let verdict = format!(
        "[io:format(\"~w~n\", [C]) || C <- [{}]], halt().",
        checks.join(", ")
    );
    let out = erl(&verdict).expect("erl was there a moment ago");
    let answers: Vec<&str> = out.lines().collect();
    for (answer, expr) in answers.iter().zip(ERLANG_TERMS) {
        assert_eq!(
            *answer, "true",
            "erl: our encoding of {expr} is not =:= to its own"
        );
    }
    assert_eq!(answers.len(), ERLANG_TERMS.len());
}

fn leaf() -> impl Strategy<Value = Term> {
    let atom = "[a-zA-Z_@ é'\\\\]{0,12}".prop_map(|s| Term::atom(&s));
    prop_oneof![
        atom,
        any::<i64>().prop_map(Term::Int),
        any::<i128>().prop_map(Term::from_i128),
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(Term::Float),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Term::Binary),
        (proptest::collection::vec(any::<u8>(), 1..5), 1u8..8).prop_map(|(mut bytes, bits)| {
            if let Some(last) = bytes.last_mut() {
                *last &= 0xffu8 << (8 - bits);
            }
            Term::BitBinary { bytes, bits }
        }),
        (any::<u32>(), proptest::collection::vec(any::<u32>(), 1..=5)).prop_map(
            |(creation, ids)| Term::Ref(ErlRef {
                node: Atom::new("n@h"),
                creation,
                ids
            })
        ),
        (any::<u64>(), any::<u32>()).prop_map(|(id, creation)| Term::Port(ErlPort {
            node: Atom::new("n@h"),
            id,
            creation
        })),
        (any::<u32>(), any::<u32>())
            .prop_map(|(i, s)| Term::Pid(beamlet::Pid::from_parts(0, i, s))),
    ]
}

fn term() -> impl Strategy<Value = Term> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Term::List),
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Term::Tuple),
            (
                proptest::collection::vec(inner.clone(), 0..4),
                inner.clone()
            )
                .prop_map(|(items, tail)| Term::improper(items, tail)),
            proptest::collection::vec((inner.clone(), inner), 0..6).prop_map(|pairs| {
                let mut distinct: Vec<(Term, Term)> = Vec::new();
                for (k, v) in pairs {
                    if !distinct.iter().any(|(d, _)| *d == k) {
                        distinct.push((k, v));
                    }
                }
                Term::Map(distinct)
            }),
        ]
    })
}

proptest! {
    #[test]
    fn decode_of_encode_is_identity(t in term()) {
        let mut bytes = Vec::new();
        encode(&t, &local(), &mut bytes).unwrap();
        let (back, used) = decode(&bytes, &local(), &Limits::default()).unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back, t);
    }
}

/// The deepest term `Limits::default()` accepts, decoded, compared, printed and
/// dropped in a process with a 64 KiB stack (debug build: the worst case); one more
/// level is refused.
#[test]
fn deepest_accepted_term_is_handled_in_a_small_process() {
    let depth = Limits::default().max_depth;
    let nested = |levels: usize| {
        let mut bytes = vec![131];
        bytes.extend(std::iter::repeat_n([108, 0, 0, 0, 1], levels).flatten());
        bytes.extend(std::iter::repeat_n(106, levels + 1));
        bytes
    };
    let rt = beamlet::Runtime::builder()
        .schedulers(1)
        .stack_size(64 << 10)
        .build()
        .unwrap();
    let (ok, too_deep) = rt
        .block_on(move || {
            let (term, _) = decode(&nested(depth), &local(), &Limits::default()).unwrap();
            let printed = term.to_string();
            let (twin, _) = decode(&nested(depth), &local(), &Limits::default()).unwrap();
            let equal = term == twin;
            drop(twin);
            let mut again = Vec::new();
            encode(&term, &local(), &mut again).unwrap();
            drop(term);
            let err = decode(&nested(depth + 1), &local(), &Limits::default()).unwrap_err();
            (
                equal && again == nested(depth) && printed.len() == 2 * depth + 2,
                err.cause().clone(),
            )
        })
        .unwrap();
    let _ = rt.shutdown();
    assert!(ok);
    assert_eq!(too_deep, DecodeCause::TooDeep { max: depth });
}
