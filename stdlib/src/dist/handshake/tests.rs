//! Unit tests of the handshake's pure parts: digests and message parsing.

use super::digest::{digest, digests_equal};
use super::wire::node_name;
use super::*;

#[test]
fn digest_is_md5_of_cookie_and_decimal_challenge() {
    // erlang:md5("secret" ++ integer_to_list(42)), as erl computes it.
    let want: [u8; 16] = [
        92, 224, 110, 70, 134, 125, 232, 37, 35, 101, 20, 123, 102, 127, 28, 32,
    ];
    assert_eq!(digest(42, "secret"), want);
    assert!(digests_equal(&want, &want));
    assert!(!digests_equal(&want, &want[..15]));
    assert!(!digests_equal(&want, &[0u8; 16]));
}

#[test]
fn node_names_need_both_parts() {
    assert_eq!(node_name(b"rust@127.0.0.1").unwrap(), "rust@127.0.0.1");
    for bad in [&b"rust"[..], b"@host", b"rust@", b"a@b@c", b"\xff@x"] {
        assert!(
            matches!(node_name(bad), Err(HandshakeError::BadName)),
            "{bad:?}"
        );
    }
}

#[test]
fn name_messages_parse_new_and_old() {
    let config = HandshakeConfig {
        name: "a@h".into(),
        cookie: "c".into(),
        creation: 7,
        flags: flags::advertised(true),
        timeout: Duration::from_secs(1),
    };
    let peer = parse_name(&name_message(&config)).unwrap();
    assert_eq!(
        (peer.name.as_str(), peer.flags, peer.creation),
        ("a@h", config.flags, Some(7))
    );
    let mut old = vec![b'n', 0, 5];
    old.extend_from_slice(&(flags::MANDATORY as u32).to_be_bytes());
    old.extend_from_slice(b"b@h");
    let peer = parse_name(&old).unwrap();
    assert_eq!((peer.name.as_str(), peer.creation), ("b@h", None));
    assert!(matches!(
        parse_name(&[b'N', 0, 0]),
        Err(HandshakeError::Protocol(ProtocolError::Truncated))
    ));
    assert!(matches!(
        parse_name(b"Xyz"),
        Err(HandshakeError::Protocol(ProtocolError::UnexpectedTag(b'X')))
    ));
}
