//! A real Erlang node for the distribution tests: `erl` started as a child process
//! with `tests/erl/beamlet_peer.erl` loaded, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running erl node.
pub(crate) struct ErlNode {
    child: Child,
    name: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A node name unique to this test binary run: `{base}{n}x{os pid}@127.0.0.1`.
pub(crate) fn unique(base: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{base}{n}x{}@127.0.0.1", std::process::id())
}

fn erl_present() -> bool {
    Command::new("erl")
        .arg("-version")
        .stderr(Stdio::null())
        .output()
        .is_ok()
}

impl ErlNode {
    /// Starts an erl node with a unique name and `cookie`; `None` (with a note on
    /// stderr) when `erl` is not installed. erl starts EPMD itself if none runs.
    pub(crate) fn start(base: &str, cookie: &str) -> Option<ErlNode> {
        if !erl_present() {
            eprintln!("skipped: erl not found (CI installs erlang-base)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("beamlet-erl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/erl/beamlet_peer.erl");
        let status = Command::new("erlc")
            .arg("-o")
            .arg(&dir)
            .arg(src)
            .status()
            .unwrap();
        assert!(status.success(), "erlc failed");
        let name = unique(base);
        let mut child = Command::new("erl")
            .args(["-noshell", "-name", &name, "-setcookie", cookie, "-pa"])
            .arg(&dir)
            .args(["-eval", "beamlet_peer:start()"])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("erl starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut line = String::new();
        while line.trim() != "ready" {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "erl exited before it was ready"
            );
            assert!(Instant::now() < deadline, "erl not ready in time");
        }
        // Keep reading erl's output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        Some(ErlNode { child, name })
    }

    /// The node's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Kills the node at once (SIGKILL): its connections drop without a goodbye.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ErlNode {
    fn drop(&mut self) {
        self.kill();
    }
}
