//! Unit tests of the codec: each tag both ways, the old tags, limits, errors.

use super::tags::*;
use super::*;

fn local() -> LocalNode {
    LocalNode {
        name: Atom::new("me@host"),
        creation: 7,
        runtime: 3,
    }
}

fn enc(term: &Term) -> Vec<u8> {
    let mut out = Vec::new();
    encode(term, &local(), &mut out).expect("encodes");
    out
}

fn dec(bytes: &[u8]) -> Result<Term, DecodeCause> {
    match decode(bytes, &local(), &Limits::default()) {
        Ok((term, used)) => {
            assert_eq!(used, bytes.len(), "consumed all of {bytes:?}");
            Ok(term)
        }
        Err(e) => Err(e.cause().clone()),
    }
}

fn round_trip(term: Term, first_tag: u8) {
    let bytes = enc(&term);
    assert_eq!(bytes[1], first_tag, "tag of {term}");
    assert_eq!(dec(&bytes), Ok(term));
}

#[test]
fn every_modern_tag_round_trips() {
    round_trip(Term::atom("ok"), SMALL_ATOM_UTF8_EXT);
    round_trip(Term::atom(&"é".repeat(200)), ATOM_UTF8_EXT);
    round_trip(Term::Int(255), SMALL_INTEGER_EXT);
    round_trip(Term::Int(-1), INTEGER_EXT);
    round_trip(Term::Int(i64::MIN), SMALL_BIG_EXT);
    round_trip(Term::from_u128(u128::MAX), SMALL_BIG_EXT);
    round_trip(Term::big_int(true, vec![9; 300]), LARGE_BIG_EXT);
    round_trip(Term::Float(-0.5), NEW_FLOAT_EXT);
    round_trip(Term::binary("hi"), BINARY_EXT);
    round_trip(
        Term::BitBinary {
            bytes: vec![1, 0xe0],
            bits: 3,
        },
        BIT_BINARY_EXT,
    );
    round_trip(Term::nil(), NIL_EXT);
    round_trip(Term::list([Term::Int(1), Term::Int(300)]), LIST_EXT);
    round_trip(Term::list([Term::Int(1), Term::Int(2)]), STRING_EXT);
    round_trip(Term::improper([Term::atom("a")], Term::Int(1)), LIST_EXT);
    round_trip(Term::tuple([]), SMALL_TUPLE_EXT);
    round_trip(Term::Tuple(vec![Term::nil(); 256]), LARGE_TUPLE_EXT);
    round_trip(Term::map([(Term::atom("k"), Term::Int(1))]), MAP_EXT);
    round_trip(Term::map([]), MAP_EXT);
    let node = Atom::new("other@host");
    let r = ErlRef {
        node: node.clone(),
        creation: 9,
        ids: vec![1, 2, 3],
    };
    round_trip(Term::Ref(r), NEWER_REFERENCE_EXT);
    round_trip(
        Term::Port(ErlPort {
            node,
            id: u64::MAX,
            creation: 2,
        }),
        V4_PORT_EXT,
    );
    let export = Term::Export {
        module: Atom::new("lists"),
        function: Atom::new("map"),
        arity: 2,
    };
    round_trip(export, EXPORT_EXT);
    round_trip(Term::Fun(vec![NEW_FUN_EXT, 0, 0, 0, 6, 1, 2]), NEW_FUN_EXT);
}

#[test]
fn local_pids_travel_under_the_node_name_and_remote_ones_keep_their_node() {
    let pid = Pid::from_parts(3, 42, 5);
    let bytes = enc(&Term::Pid(pid));
    let mut expect = vec![131, NEW_PID_EXT, SMALL_ATOM_UTF8_EXT, 7];
    expect.extend(b"me@host");
    expect.extend([0, 0, 0, 42, 0, 0, 0, 5, 0, 0, 0, 7]);
    assert_eq!(bytes, expect);
    assert_eq!(dec(&bytes), Ok(Term::Pid(pid)));

    let far = beamlet_runtime::remote::pid("erl@host", 4, 85, 0).expect("room");
    round_trip(Term::Pid(far), NEW_PID_EXT);
    // Our name with another creation is an earlier incarnation: remote.
    let mut stale = expect.clone();
    *stale.last_mut().unwrap() = 6;
    assert!(!dec(&stale).unwrap().as_pid().unwrap().is_local());

    let foreign = Pid::from_parts(4, 1, 1);
    let err = encode(&Term::Pid(foreign), &local(), &mut Vec::new());
    assert_eq!(err, Err(EncodeError::ForeignPid(foreign)));
}

#[test]
fn old_tags_decode() {
    let latin1 = [131, ATOM_EXT, 0, 2, b'a', 0xe9];
    assert_eq!(dec(&latin1), Ok(Term::atom("aé")));
    assert_eq!(dec(&[131, SMALL_ATOM_EXT, 1, b'x']), Ok(Term::atom("x")));
    let mut float = vec![131, FLOAT_EXT];
    float.extend(
        format!("{:<31}", "1.50000000000000000000e+00")
            .bytes()
            .map(|b| if b == b' ' { 0 } else { b }),
    );
    assert_eq!(dec(&float), Ok(Term::Float(1.5)));
    let mut pid = vec![131, PID_EXT, SMALL_ATOM_EXT, 7];
    pid.extend(b"me@host");
    pid.extend([0, 0, 0, 1, 0, 0, 0, 2, 7]);
    assert_eq!(dec(&pid), Ok(Term::Pid(Pid::from_parts(3, 1, 2))));
    let mut r = vec![131, NEW_REFERENCE_EXT, 0, 2, SMALL_ATOM_EXT, 1, b'n', 3];
    r.extend([0, 0, 0, 1, 0, 0, 0, 2]);
    let expect = ErlRef {
        node: Atom::new("n"),
        creation: 3,
        ids: vec![1, 2],
    };
    assert_eq!(dec(&r), Ok(Term::Ref(expect)));
    let r = [131, REFERENCE_EXT, SMALL_ATOM_EXT, 1, b'n', 0, 0, 0, 9, 1];
    let expect = ErlRef {
        node: Atom::new("n"),
        creation: 1,
        ids: vec![9],
    };
    assert_eq!(dec(&r), Ok(Term::Ref(expect)));
    let port = [131, PORT_EXT, SMALL_ATOM_EXT, 1, b'n', 0, 0, 0, 9, 1];
    assert_eq!(
        dec(&port),
        Ok(Term::Port(ErlPort {
            node: Atom::new("n"),
            id: 9,
            creation: 1
        }))
    );
    let port = [
        131,
        NEW_PORT_EXT,
        SMALL_ATOM_EXT,
        1,
        b'n',
        0,
        0,
        0,
        9,
        0,
        0,
        0,
        1,
    ];
    assert_eq!(
        dec(&port),
        Ok(Term::Port(ErlPort {
            node: Atom::new("n"),
            id: 9,
            creation: 1
        }))
    );
    assert_eq!(
        dec(&[131, STRING_EXT, 0, 2, 1, 2]),
        Ok(Term::list([Term::Int(1), Term::Int(2)]))
    );
    assert_eq!(
        dec(&[131, LARGE_TUPLE_EXT, 0, 0, 0, 1, NIL_EXT]),
        Ok(Term::tuple([Term::nil()]))
    );
    // [1 | [2]] as a list whose tail is a list: the normal form is [1, 2].
    let nested = [
        131, LIST_EXT, 0, 0, 0, 1, 97, 1, LIST_EXT, 0, 0, 0, 1, 97, 2, NIL_EXT,
    ];
    assert_eq!(dec(&nested), Ok(Term::list([Term::Int(1), Term::Int(2)])));
    // A big integer that fits i64 is an Int; 8 bits in the last byte is a binary.
    assert_eq!(dec(&[131, SMALL_BIG_EXT, 2, 1, 5, 0]), Ok(Term::Int(-5)));
    assert_eq!(
        dec(&[131, BIT_BINARY_EXT, 0, 0, 0, 1, 8, 3]),
        Ok(Term::binary([3]))
    );
    assert_eq!(
        dec(&[131, BIT_BINARY_EXT, 0, 0, 0, 1, 1, 0xff]),
        Ok(Term::BitBinary {
            bytes: vec![0x80],
            bits: 1
        })
    );
}

#[test]
fn hostile_counts_fail_before_allocating() {
    for tag in [
        LIST_EXT,
        LARGE_TUPLE_EXT,
        MAP_EXT,
        BINARY_EXT,
        LARGE_BIG_EXT,
    ] {
        let bytes = [131, tag, 0xff, 0xff, 0xff, 0xff, 0];
        match dec(&bytes) {
            Err(DecodeCause::CountExceedsInput { .. } | DecodeCause::BigTooLarge { .. }) => {}
            other => panic!("tag {tag}: {other:?}"),
        }
    }
    assert_eq!(
        dec(&[131, NEW_FUN_EXT, 0xff, 0xff, 0xff, 0xff]).map(|_| ()),
        Err(DecodeCause::CountExceedsInput {
            count: u32::MAX as u64 - 4,
            left: 0
        })
    );
    assert_eq!(
        dec(&[131, NEW_FUN_EXT, 0, 0, 0, 3]),
        Err(DecodeCause::BadFunSize(3))
    );
}

#[test]
fn errors_name_their_cause_and_position() {
    assert_eq!(dec(&[]), Err(DecodeCause::UnexpectedEnd));
    assert_eq!(dec(&[130, 106]), Err(DecodeCause::BadVersion(130)));
    assert_eq!(dec(&[131, 80, 0, 0, 0, 1]), Err(DecodeCause::Compressed));
    assert_eq!(
        dec(&[131, ATOM_CACHE_REF, 0]),
        Err(DecodeCause::AtomCacheRef)
    );
    assert_eq!(dec(&[131, 117]), Err(DecodeCause::UnknownTag(117)));
    assert_eq!(
        dec(&[131, SMALL_ATOM_UTF8_EXT, 1, 0xff]),
        Err(DecodeCause::InvalidUtf8Atom)
    );
    assert_eq!(
        dec(&[131, NEW_FLOAT_EXT, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]),
        Err(DecodeCause::NonFiniteFloat)
    );
    assert_eq!(
        dec(&[131, SMALL_BIG_EXT, 1, 2, 5]),
        Err(DecodeCause::BadBigSign(2))
    );
    assert_eq!(
        dec(&[131, BIT_BINARY_EXT, 0, 0, 0, 0, 3]),
        Err(DecodeCause::BadBitBinary { bits: 3, len: 0 })
    );
    assert_eq!(
        dec(&[131, NEWER_REFERENCE_EXT, 0, 6]),
        Err(DecodeCause::BadRefLen(6))
    );
    assert_eq!(
        dec(&[131, NEW_PID_EXT, 97, 1]),
        Err(DecodeCause::NotAnAtom(97))
    );
    assert_eq!(
        dec(&[131, EXPORT_EXT, 115, 1, b'm', 115, 1, b'f', 98]),
        Err(DecodeCause::BadExportArity)
    );
    let dup = [131, MAP_EXT, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3];
    let err = decode(&dup, &local(), &Limits::default()).unwrap_err();
    assert_eq!(
        (err.position(), err.cause()),
        (1, &DecodeCause::DuplicateMapKey)
    );
    let err = decode(&[131, 104, 2, 97, 1], &local(), &Limits::default()).unwrap_err();
    assert_eq!(
        (err.position(), err.cause()),
        (5, &DecodeCause::UnexpectedEnd)
    );
    assert_eq!(
        err.to_string(),
        "bad external term at byte 5: the bytes end inside the term"
    );
}

#[test]
fn limits_bound_depth_atoms_bigs_and_size() {
    let limits = Limits {
        max_depth: 3,
        max_atom_len: 2,
        max_bytes: 16,
        max_big_bytes: 9,
    };
    let cause = |bytes: &[u8]| {
        decode(bytes, &local(), &limits)
            .map(|_| ())
            .map_err(|e| e.cause().clone())
    };
    let nest = |n: usize| {
        let mut b = vec![131];
        b.extend(std::iter::repeat_n([SMALL_TUPLE_EXT, 1], n).flatten());
        b.push(NIL_EXT);
        b
    };
    assert_eq!(cause(&nest(3)), Ok(()));
    assert_eq!(cause(&nest(4)), Err(DecodeCause::TooDeep { max: 3 }));
    assert_eq!(
        cause(&[131, SMALL_ATOM_UTF8_EXT, 3, b'a', b'b', b'c']),
        Err(DecodeCause::AtomTooLong { chars: 3 })
    );
    assert_eq!(
        cause(&[131, SMALL_BIG_EXT, 10, 0]),
        Err(DecodeCause::BigTooLarge { len: 10 })
    );
    let mut long = vec![131, BINARY_EXT, 0, 0, 0, 20];
    long.extend([0; 20]);
    assert_eq!(cause(&long), Err(DecodeCause::TooLarge { max: 16 }));
}

#[test]
fn truncations_and_flips_of_a_rich_term_never_panic() {
    let term = rich_term();
    let bytes = enc(&term);
    for cut in 0..bytes.len() {
        assert!(dec(&bytes[..cut]).is_err(), "truncated at {cut}");
    }
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            if let Ok((t, _)) = decode(&b, &local(), &Limits::default()) {
                assert_eq!(dec(&enc(&t)), Ok(t));
            }
        }
    }
}

pub(crate) fn rich_term() -> Term {
    Term::tuple([
        Term::atom("$gen_call"),
        Term::tuple([
            Term::Pid(Pid::from_parts(3, 1, 0)),
            Term::improper(
                [Term::atom("alias")],
                Term::Ref(ErlRef {
                    node: Atom::new("me@host"),
                    creation: 7,
                    ids: vec![1, 2, 3],
                }),
            ),
        ]),
        Term::map([
            (Term::binary("k"), Term::Float(2.5)),
            (Term::atom("big"), Term::from_i128(-(1 << 70))),
            (
                Term::nil(),
                Term::list([
                    Term::Int(1000),
                    Term::BitBinary {
                        bytes: vec![0xa0],
                        bits: 3,
                    },
                ]),
            ),
        ]),
    ])
}

#[test]
fn display_is_erlang_syntax() {
    assert_eq!(Term::atom("hello world").to_string(), "'hello world'");
    assert_eq!(Term::atom("receive").to_string(), "'receive'");
    assert_eq!(Term::atom("it's").to_string(), r"'it\'s'");
    assert_eq!(Term::Float(1e100).to_string(), "1.0e100");
    assert_eq!(Term::binary([1, 2]).to_string(), "<<1,2>>");
    assert_eq!(
        Term::BitBinary {
            bytes: vec![1, 0xa0],
            bits: 3
        }
        .to_string(),
        "<<1,5:3>>"
    );
    assert_eq!(
        Term::improper([Term::Int(1)], Term::atom("x")).to_string(),
        "[1|x]"
    );
}

#[test]
fn maps_compare_as_sets() {
    let a = Term::map([(Term::Int(1), Term::Int(2)), (Term::Int(3), Term::Int(4))]);
    let b = Term::map([(Term::Int(3), Term::Int(4)), (Term::Int(1), Term::Int(2))]);
    assert_eq!(a, b);
    let s = std::hash::RandomState::new();
    use std::hash::BuildHasher;
    assert_eq!(s.hash_one(&a), s.hash_one(&b));
    assert_ne!(Term::Float(0.0), Term::Float(-0.0));
}
