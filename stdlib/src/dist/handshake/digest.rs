//! Challenges and their digests: `MD5(Cookie ++ integer_to_list(Challenge))`, as
//! `dist_util:gen_digest/2`.

use std::fs::File;
use std::io::{self, Read};

use md5::{Digest, Md5};

/// The digest of `challenge` under `cookie`: the MD5 of the cookie's bytes followed
/// by the challenge written in decimal.
pub(super) fn digest(challenge: u32, cookie: &str) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(cookie.as_bytes());
    md5.update(challenge.to_string().as_bytes());
    md5.finalize().into()
}

/// A fresh challenge from the kernel's random source. Reading 4 bytes from
/// `/dev/urandom` never blocks once the system has booted, so it does not stall the
/// scheduler.
pub(super) fn challenge() -> io::Result<u32> {
    let mut bytes = [0u8; 4];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(u32::from_ne_bytes(bytes))
}

/// Compares digests in time independent of where they differ.
pub(super) fn digests_equal(a: &[u8; 16], b: &[u8]) -> bool {
    b.len() == 16 && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
