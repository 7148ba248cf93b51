//! dist_packet: one distribution packet from the network (`dist::packet`, the
//! connection's own parser: kind byte, control term, payload, nothing after) never
//! panics, and an accepted packet encodes and parses back to itself.
//!
//! Run from `fuzz/` with the seeds erl wrote (`seeds/dist_packet`, one packet of
//! each control message, made with `term_to_binary`):
//! `cargo +nightly fuzz run dist_packet --fuzz-dir . corpus/dist_packet seeds/dist_packet`

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = beamlet_stdlib::dist::fuzz_packet(data);
});
