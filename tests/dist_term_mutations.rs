//! The decoder against hostile bytes, deterministically: every truncation, every
//! byte replaced by 0x00, 0xFF and its bit-flips, and every 4-byte window set to
//! u32::MAX (a length field claiming 4 Gi elements), of the encodings of a set of
//! terms. Decoding never panics; whatever it accepts re-encodes and decodes to
//! the same term.

use beamlet::otp::dist::term::{Atom, ErlRef, Limits, LocalNode, Term, decode, encode};

fn local() -> LocalNode {
    LocalNode {
        name: Atom::new("beamlet@host"),
        creation: 1,
        runtime: 0,
    }
}

fn seeds() -> Vec<Term> {
    let far = beamlet::remote::pid("erl@host", 3, 85, 0).unwrap();
    vec![
        Term::tuple([
            Term::atom("$gen_call"),
            Term::tuple([
                Term::Pid(far),
                Term::improper(
                    [Term::atom("alias")],
                    Term::Ref(ErlRef {
                        node: Atom::new("erl@host"),
                        creation: 3,
                        ids: vec![1, 2, 3, 4, 5],
                    }),
                ),
            ]),
            Term::tuple([Term::atom("add"), Term::Int(-70000)]),
        ]),
        Term::map([
            (Term::atom("name"), Term::binary("beamlet")),
            (Term::Int(1), Term::Float(2.5)),
        ]),
        Term::list([
            Term::Int(1),
            Term::Int(300),
            Term::from_i128(1 << 100),
            Term::nil(),
        ]),
        Term::tuple([
            Term::Int(6),
            Term::Pid(far),
            Term::atom(""),
            Term::atom("élan"),
        ]),
    ]
}

/// Decodes `bytes`; if accepted, the term must survive a round trip.
fn check(bytes: &[u8], local: &LocalNode, limits: &Limits) -> bool {
    match decode(bytes, local, limits) {
        Ok((term, _)) => {
            let mut again = Vec::new();
            encode(&term, local, &mut again).expect("an accepted term re-encodes");
            let (back, used) = decode(&again, local, limits).expect("and decodes");
            assert_eq!(used, again.len());
            assert!(back == term, "round trip changed {term}");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn mutated_encodings_are_refused_or_round_trip_and_never_panic() {
    let (local, limits) = (local(), Limits::default());
    let (mut cases, mut accepted) = (0u64, 0u64);
    for seed in seeds() {
        let mut good = Vec::new();
        encode(&seed, &local, &mut good).unwrap();
        let mut run = |bytes: &[u8]| {
            cases += 1;
            accepted += u64::from(check(bytes, &local, &limits));
        };
        for len in 0..good.len() {
            run(&good[..len]);
        }
        for i in 0..good.len() {
            let mut m = good.clone();
            for v in [0x00u8, 0xff]
                .into_iter()
                .chain((0..8).map(|b| good[i] ^ (1 << b)))
            {
                m[i] = v;
                run(&m);
            }
        }
        for i in 0..good.len().saturating_sub(3) {
            let mut m = good.clone();
            m[i..i + 4].copy_from_slice(&u32::MAX.to_be_bytes());
            run(&m);
        }
    }
    eprintln!("{cases} mutated encodings, {accepted} accepted and round-tripped");
    assert!(cases > 1000);
}
