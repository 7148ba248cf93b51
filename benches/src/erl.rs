//! `erl` nodes for the distribution benches: started as child processes running
//! `tests/erl/beamlet_peer.erl` (its `sink`, `echo`, `counter`), killed when
//! dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::fail;

/// A running erl node, killed on drop.
#[derive(Debug)]
pub struct ErlPeer {
    child: Child,
    name: String,
}

/// `beamlet_peer.erl` compiled into a directory of this OS process's own.
fn compiled_peer() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("beamlet-bench-erl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(format_args!("{}: {e}", dir.display())));
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/erl/beamlet_peer.erl");
    let ok = Command::new("erlc")
        .arg("-o")
        .arg(&dir)
        .arg(src)
        .status()
        .map(|s| s.success());
    if ok.ok() != Some(true) {
        fail("erlc failed (is erlang-base installed?)");
    }
    dir
}

impl ErlPeer {
    /// Starts `count` erl nodes named `{base}{i}x{os pid}@127.0.0.1` with the
    /// cookie `cookie`, all booting at once; returns once they have had time to
    /// register with EPMD.
    pub fn start_many(base: &str, cookie: &str, count: usize) -> Vec<ErlPeer> {
        let dir = compiled_peer();
        let peers = (0..count)
            .map(|i| {
                let name = format!("{base}{i}x{}@127.0.0.1", std::process::id());
                let child = Command::new("erl")
                    .args(["-noshell", "-name", &name, "-setcookie", cookie, "-pa"])
                    .arg(&dir)
                    .args(["-eval", "beamlet_peer:start()"])
                    .env("ERL_CRASH_DUMP_SECONDS", "0")
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap_or_else(|e| fail(format_args!("erl: {e}")));
                ErlPeer { child, name }
            })
            .collect();
        // erl takes about a second to boot; more when many boot on 2 cores.
        let boot = 1500 + 150 * count as u64;
        std::thread::sleep(std::time::Duration::from_millis(boot));
        peers
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ErlPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
