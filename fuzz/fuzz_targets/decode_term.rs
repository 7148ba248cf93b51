//! decode_term: `dist::term::decode` on arbitrary bytes never panics, and any
//! term it returns encodes and decodes back to itself.
//!
//! Run from `fuzz/`: `cargo +nightly fuzz run decode_term --fuzz-dir .`

#![no_main]

use beamlet_stdlib::dist::term::{Atom, Limits, LocalNode, decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let local = LocalNode { name: Atom::new("fuzz@host"), creation: 1, runtime: 0 };
    let limits = Limits::default();
    if let Ok((term, used)) = decode(data, &local, &limits) {
        assert!(used <= data.len());
        let mut again = Vec::new();
        encode(&term, &local, &mut again).expect("a decoded term encodes");
        let (back, used_again) = decode(&again, &local, &limits).expect("our encoding decodes");
        assert_eq!(used_again, again.len());
        assert_eq!(back, term);
    }
});
