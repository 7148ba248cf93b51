//! A beamlet node and Elixir (Debian's `elixir` 1.14 on OTP 25), which speaks the
//! same distribution: Elixir calls a beamlet GenServer with maps and atoms, sends
//! to a registered beamlet process and monitors it (tests/elixir/client.exs).
//! Skipped, with a note, where `elixir` is not installed.

mod common;

use std::process::Command;

use beamlet::otp::dist::term::Term;
use beamlet::otp::dist::term::serde::{Serde, from_term};
use beamlet::otp::dist::{self, NodeConfig};
use beamlet::otp::gen_server;
use beamlet::{Pid, Runtime, receive, register, self_pid, spawn};
use common::dist::Stock;
use common::erl::unique;
use serde::{Deserialize, Serialize};

/// `{hello, From, Name}` from Elixir.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Greeting {
    Hello(
        #[serde(with = "beamlet::otp::dist::term::serde::pid")] Pid,
        String,
    ),
}

/// `{welcome, Me, Text}` back.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Welcome {
    Welcome(
        #[serde(with = "beamlet::otp::dist::term::serde::pid")] Pid,
        String,
    ),
}

fn elixir_present() -> bool {
    Command::new("elixir").arg("--version").output().is_ok()
}

/// `greeter`: answers one `{hello, From, Name}`, then exits normally on `stop`.
fn greeter() {
    let message = receive::<Term>();
    let Ok(Greeting::Hello(from, name)) = from_term(&message) else {
        panic!("not a greeting: {message}");
    };
    let welcome = Welcome::Welcome(self_pid(), format!("hi {name}"));
    dist::send_term(from, &Serde(welcome)).unwrap();
    assert!(receive::<Term>().is_atom("stop"));
}

#[test]
fn elixir_calls_a_beamlet_gen_server_and_monitors_a_beamlet_process() {
    if !elixir_present() {
        eprintln!("skipped: elixir not found (CI installs it with erlang-base)");
        return;
    }
    let rt = Runtime::builder().schedulers(2).build().unwrap();
    let rust = unique("rust");
    let name = rust.clone();
    rt.block_on(move || {
        dist::start(NodeConfig::new(&name).cookie("beamlet-test")).unwrap();
        let stock = gen_server::start::<Stock>(()).unwrap();
        register("stock", stock.pid()).unwrap();
        dist::export::<Stock>("stock").unwrap();
        register("greeter", spawn(greeter).unwrap()).unwrap();
    })
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/elixir/client.exs");
    let out = Command::new("elixir")
        .args([
            "--name",
            &unique("ex"),
            "--cookie",
            "beamlet-test",
            script,
            &rust,
        ])
        .output()
        .expect("elixir runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "elixir failed:\n{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "{:count, 4}",
            "{:lines, [%{count: 4, item: \"pear\"}]}",
            "{:welcome, \"hi elixir\"}",
            "{:down, :normal}",
            ":noproc",
        ],
        "stderr:\n{stderr}"
    );
    let _ = rt.shutdown();
}
