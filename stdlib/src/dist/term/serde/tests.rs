//! The mapping table of the module header, row by row, both ways.

use std::collections::BTreeMap;

use ::serde::{Deserialize, Serialize};

use super::{Serde, from_term, to_term};
use crate::dist::term::{Atom, FromTerm, Pid, Term, ToTerm};

fn atom(name: &str) -> Term {
    Term::atom(name)
}

/// `value` becomes `expected`, and `expected` reads back as `value`.
fn both_ways<T>(value: T, expected: &str)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let term = to_term(&value).unwrap();
    assert_eq!(term.to_string(), expected);
    assert_eq!(from_term::<T>(&term).unwrap(), value);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Unit;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Id(u32);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Pair(i8, String);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Person {
    name: String,
    age: u8,
    tags: Vec<String>,
    nick: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Command {
    Stop,
    Add(i64),
    Move(i32, i32),
    Rename { name: String },
}

#[test]
fn scalars() {
    both_ways(true, "true");
    both_ways(-5i8, "-5");
    both_ways(u64::MAX, "18446744073709551615");
    both_ways(i128::MIN, "-170141183460469231731687303715884105728");
    both_ways(i128::MAX, "170141183460469231731687303715884105727");
    both_ways(u128::MAX, "340282366920938463463374607431768211455");
    both_ways(1.5f64, "1.5");
    both_ways('a', "97");
    both_ways("hi".to_string(), r#"<<"hi">>"#);
    both_ways((), "ok");
    both_ways(Some(3u8), "3");
    both_ways(None::<u8>, "undefined");
}

#[test]
fn structs_and_sequences() {
    both_ways(Unit, "'Unit'");
    both_ways(Id(7), "7");
    both_ways(Pair(1, "a".into()), r#"{1,<<"a">>}"#);
    both_ways(vec![1u8, 2], "[1,2]");
    both_ways((1u8, false), "{1,false}");
    let mut map = BTreeMap::new();
    map.insert("k".to_string(), 1u8);
    both_ways(map, r#"#{<<"k">>=>1}"#);
    let person = Person {
        name: "Ann".into(),
        age: 30,
        tags: vec!["x".into()],
        nick: None,
    };
    both_ways(
        person,
        r#"#{name=><<"Ann">>,age=>30,tags=>[<<"x">>],nick=>undefined}"#,
    );
}

#[test]
fn enums_are_atoms_and_tagged_tuples() {
    both_ways(Command::Stop, "stop");
    both_ways(Command::Add(2), "{add,2}");
    both_ways(Command::Move(1, -1), "{move,1,-1}");
    both_ways(
        Command::Rename { name: "b".into() },
        r#"{rename,#{name=><<"b">>}}"#,
    );
}

#[test]
fn atoms_and_pids_keep_their_erlang_types() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Envelope {
        kind: Atom,
        #[serde(with = "super::pid")]
        from: Pid,
    }
    let from = Pid::from_parts(1, 2, 3);
    let value = Envelope {
        kind: Atom::new("hello"),
        from,
    };
    let term = to_term(&value).unwrap();
    assert_eq!(term.map_get(&atom("kind")), Some(&atom("hello")));
    assert_eq!(term.map_get(&atom("from")), Some(&Term::Pid(from)));
    assert_eq!(from_term::<Envelope>(&term).unwrap(), value);
}

#[test]
fn erlang_spellings_are_accepted_on_the_way_in() {
    // A charlist for a string, `nil` for None, binary keys for fields.
    let charlist = Term::list("Ann".chars().map(|c| Term::Int(c as i64)));
    let term = Term::map([
        (Term::binary("name"), charlist),
        (Term::binary("age"), Term::Int(30)),
        (Term::binary("tags"), Term::nil()),
        (Term::binary("nick"), atom("nil")),
    ]);
    let person: Person = from_term(&term).unwrap();
    assert_eq!(person.name, "Ann");
    assert_eq!(person.nick, None);
    // An integer where a float is wanted.
    assert_eq!(from_term::<f64>(&Term::Int(2)).unwrap(), 2.0);
}

#[test]
fn strings_borrow_from_the_term() {
    let term = Term::tuple([Term::binary("abc"), atom("def")]);
    let (text, name): (&str, Atom) = from_term(&term).unwrap();
    assert_eq!((text, name.as_str()), ("abc", "def"));
    // A string is a binary: an atom is not read as one (an `Atom` field is).
    assert!(from_term::<String>(&atom("def")).is_err());
}

#[test]
fn wrong_shapes_are_typed_errors_naming_what_was_found() {
    let err = from_term::<Person>(&Term::Int(1)).unwrap_err();
    assert_eq!(err.to_string(), "expected a map, found 1");
    let err = from_term::<(u8, u8)>(&Term::tuple([Term::Int(1)])).unwrap_err();
    assert_eq!(err.to_string(), "expected a tuple of 2, found {1}");
    let err = from_term::<Command>(&Term::tuple([atom("add")])).unwrap_err();
    assert_eq!(err.to_string(), "variant add: expected {Tag, Value}");
    let err = from_term::<Command>(&atom("fly")).unwrap_err();
    assert!(err.to_string().contains("unknown variant `fly`"), "{err}");
    let err = from_term::<u8>(&Term::Int(300)).unwrap_err();
    assert!(err.to_string().contains("300"), "{err}");
    let err = from_term::<Person>(&Term::map([(atom("name"), Term::binary("a"))])).unwrap_err();
    assert!(err.to_string().contains("missing field `age`"), "{err}");
    let err = from_term::<String>(&Term::Ref(crate::dist::term::ErlRef {
        node: Atom::new("a@b"),
        creation: 1,
        ids: vec![1],
    }))
    .unwrap_err();
    assert!(
        err.to_string().starts_with("expected a UTF-8 binary"),
        "{err}"
    );
}

#[test]
fn serde_wrapper_is_a_to_term_and_from_term() {
    let term = Serde(Command::Add(1)).to_term();
    assert_eq!(term, Term::tuple([atom("add"), Term::Int(1)]));
    assert_eq!(
        Serde::<Command>::from_term(&term).unwrap().0,
        Command::Add(1)
    );
    let err = Serde::<Command>::from_term(&Term::Int(1)).unwrap_err();
    assert!(err.expected().contains("Command"), "{err}");
    assert_eq!(err.found(), "1");
}

#[test]
fn self_describing_targets_read_any_term() {
    // An untagged enum goes through deserialize_any.
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Loose {
        Flag(bool),
        Number(i64),
        Text(String),
        Items(Vec<Loose>),
    }
    let term = Term::list([atom("true"), Term::Int(3), Term::binary("x"), atom("ok")]);
    let loose: Vec<Loose> = from_term(&term).unwrap();
    assert_eq!(
        loose,
        vec![
            Loose::Flag(true),
            Loose::Number(3),
            Loose::Text("x".into()),
            Loose::Text("ok".into())
        ]
    );
}
