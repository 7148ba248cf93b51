//! Erlang distribution: a runtime as a node of an Erlang/Elixir cluster.
//!
//! A beamlet runtime joins a cluster of Erlang and Elixir nodes (and other beamlet
//! runtimes) as a node of its own, over the BEAM's own protocol: EPMD, the
//! version 6 handshake with the cookie challenge, and the distribution packets.
//!
//! ```no_run
//! use std::time::Duration;
//! use beamlet::otp::dist::{self, NodeConfig, term::Term};
//! let rt = beamlet::Runtime::builder().build().unwrap();
//! rt.block_on(|| {
//!     dist::start(NodeConfig::new("rust@127.0.0.1").cookie("secret")).unwrap();
//!     // A gen_server on an Erlang node: gen_server:call({counter, 'erl@127.0.0.1'}, {add, 2}).
//!     let request = Term::tuple([Term::atom("add"), Term::Int(2)]);
//!     let reply = dist::call("counter", "erl@127.0.0.1", &request, Duration::from_secs(5));
//!     println!("{reply:?}");
//! }).unwrap();
//! rt.shutdown();
//! ```
//!
//! - [`term`]: Erlang terms, the external term format, and typed values
//!   ([`term::ToTerm`] / [`term::FromTerm`], or any serde type through
//!   [`term::serde`]: structs as maps, enums as atoms and tagged tuples).
//! - [`start`], [`connect_node`], [`node`], [`nodes`], [`disconnect_node`],
//!   [`monitor_node`]: the node and its connections (`node.rs`; one process per
//!   connection, `connection.rs`).
//! - [`send_term`], [`send_named`], [`call`], [`cast`], [`call_pid`], [`cast_pid`],
//!   [`multi_call`], [`abcast`]:
//!   messages and calls to other nodes (`api.rs`); [`export`]: serving their calls
//!   with a `GenServer`.
//! - [`rpc`]: Erlang's `rpc:call`, `erpc:call` and `spawn/4` into Rust functions
//!   registered by module and name, and [`rpc::call`] out to other nodes.
//! - `link`, `monitor`, `exit_pid` and the rest work on pids of other nodes as on
//!   local ones (the runtime routes them, `beamlet::remote`); a lost connection
//!   fires them with `NoConnection`.
//! - [`reason`]: exit reasons as terms.
//! - [`epmd`], [`handshake`], [`flags`]: the protocol's building blocks.
//!
//! Only [`Term`](term::Term) values cross nodes: a message of another type sent to
//! a pid of another node is dropped with a logged warning. Send typed values with
//! [`send_term`] (a [`term::serde::Serde`] wrapper for a serde type).
//!
//! # Not supported
//!
//! - Erlang code: beamlet runs none, so there is no hot code loading, a remote
//!   `spawn`/`rpc` reaches only the functions registered with
//!   [`rpc::register_function`], and funs arrive as opaque
//!   [`Term::Fun`](term::Term::Fun) values that can be passed on, not called.
//! - `global` (cluster-wide names) and `pg` (process groups): their servers
//!   are Erlang processes beamlet does not run; a `{Name, Node}` send or call
//!   works.
//! - The atom cache and fragmented messages (neither flag is advertised, so the
//!   peer sends plain atoms and whole packets), TLS distribution (`-proto_dist
//!   inet_tls`), dynamic node names, and the `*_TT` sequential-trace tokens
//!   (read, then ignored).
//! - Sender suspension on a busy connection (the BEAM's `busy_dist_port`): a
//!   connection with 4 MiB unwritten keeps reading its peer but leaves local
//!   deliveries in its mailbox, which is unbounded.

mod api;
mod connection;
mod control;
pub mod epmd;
mod exports;
pub mod flags;
pub mod handshake;
mod node;
mod packet;
pub mod reason;
mod refs;
pub mod rpc;
pub mod term;

pub use api::{
    MultiCall, abcast, call, call_pid, cast, cast_pid, multi_call, send_named, send_term,
};
pub use control::BadControl;
pub use exports::export;
pub use node::{
    Node, NodeConfig, NodeDown, NodeError, connect_node, demonitor_node, disconnect_node,
    monitor_node, node, nodes, start,
};
#[cfg(fuzzing)]
pub use packet::fuzz_packet;
